"""A bound on every request body that is not a file upload.

JSON and form bodies are read whole into memory and parsed: a few megabytes sent by one
visitor would cost memory and CPU that every other request waits for. A body larger than
the settings' `max_body_bytes` is refused with a French 413 before any route sees it: at
once when its declared length is too large, else as soon as the bytes received pass the
bound (a chunked body). Multipart bodies (file uploads) are left to web/uploads.py, which
has its own limit and its own way of answering pages.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patrimoine.core.settings import Settings
from patrimoine.web import errors
from patrimoine.web.uploads import readable_size


def too_large_message(limit: int) -> str:
    return (f"Le contenu envoyé est trop volumineux : il dépasse la taille permise "
            f"({readable_size(limit)}).")


class BodyLimit:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]
                   if k.lower() in (b"content-type", b"content-length", b"transfer-encoding")}
        if headers.get(b"content-type", b"").lower().startswith(b"multipart/") or not (
                b"content-length" in headers or b"transfer-encoding" in headers):
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        # Read whole (every such body is read whole anyway), then handed over as received.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        request = Request(scope)
        response = errors.error_response(request, 413, too_large_message(limit), [])
        # What is left of the body is not read: the connection is closed after the answer.
        response.headers["Connection"] = "close"
        await response(scope, self._no_body, send)

    @staticmethod
    async def _no_body() -> Message:
        return {"type": "http.disconnect"}
