"""What every GridReach HTTP door in front of Rasa does first: check the shared secret, then read a capped body.

Used by the action server (``dialogs.actions.serve``) and the REST channel (``dialogs.channel``). The secret comes
as ``Authorization: Bearer <token>`` or as ``?token=`` (what Rasa's ``EndpointConfig(token=...)`` sends) and is
compared in constant time. Routes using ``read_capped`` are Sanic ``stream=True`` routes, so nothing of the body is
read before the secret is checked, and never more than the cap.
"""

from __future__ import annotations

import hmac

from sanic.request import Request

from gridreach.http_body import read_capped  # one capped reader for every webhook

__all__ = ["has_token", "read_capped"]


def has_token(request: Request, token: str) -> bool:
    """The caller knows ``token`` (header or query), compared in constant time."""
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else (request.args.get("token") or "")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())
