"""What every GridReach HTTP door in front of Rasa does first: check the shared secret, then read a capped body.

Used by the action server (``dialogs.actions.serve``) and the REST channel (``dialogs.channel``). The secret comes
as ``Authorization: Bearer <token>`` or as ``?token=`` (what Rasa's ``EndpointConfig(token=...)`` sends) and is
compared in constant time. Routes using ``read_capped`` are Sanic ``stream=True`` routes, so nothing of the body is
read before the secret is checked, and never more than the cap.
"""

from __future__ import annotations

import hmac

from sanic.request import Request

__all__ = ["has_token", "read_capped"]


def has_token(request: Request, token: str) -> bool:
    """The caller knows ``token`` (header or query), compared in constant time."""
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else (request.args.get("token") or "")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is (or declares to be) larger than ``limit``; reads no further."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    while request.stream is not None:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
