"""Reading a request body with a cap, for webhook routes that check who is calling before reading anything.

A Sanic route declared with ``stream=True`` gets its body only when the handler asks for it: the handler checks
what can be checked from the headers and the query (a secret token, a signature over the query) and then calls
``read_capped``, which refuses a body that declares or turns out to be larger than the cap, reading no further, and
makes the server drop the rest of it instead of draining it. Typed structurally (no web framework is imported
here), so every package's webhooks can use it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["read_capped"]


async def read_capped(request: Any, limit: int) -> bytes | None:
    """The request body, or None when it is (or declares to be) larger than ``limit`` bytes (answer 413)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not (declared.strip().isascii() and declared.strip().isdigit())
                                 or int(declared) > limit):
        _drop_rest(request, limit)
        return None
    if getattr(request, "body", b""):  # a non-streaming route: already read by the server
        body = bytes(request.body)
        return body if len(body) <= limit else None
    chunks, size = [], 0
    while request.stream is not None:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            _drop_rest(request, limit)
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _drop_rest(request: Any, limit: int) -> None:
    """Sanic drains an unread body after the response up to its own limit; a lower one closes the connection."""
    stream = getattr(request, "stream", None)
    if stream is not None and hasattr(stream, "request_max_size"):
        stream.request_max_size = limit
