"""HEAD answered wherever GET is.

Link checkers and harvesters (data.gouv.fr checks the download URLs of harvested resources)
ask HEAD before, or instead of, downloading. A HEAD request runs as the GET it stands for and
gets the same status and headers without the body. The response is complete as soon as the
body starts: the server then reports the client gone, which stops a streamed body (an
export) after its first chunk, so nothing is computed for nothing.
Handlers that count visits can tell it apart with `is_head(request)`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEAD_KEY = "patrimoine.head"


def is_head(request: Request) -> bool:
    """Whether this request is a HEAD answered as a GET (no body will be read)."""
    return bool(request.scope.get(HEAD_KEY))


class HeadAsGet:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body":
                if not finished:
                    finished = True
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send(message)

        await self.app({**scope, "method": "GET", HEAD_KEY: True}, receive, send_headers_only)
