"""Security headers on every response (an ASGI middleware).

- Content-Security-Policy: scripts, styles, data and frames from the application only
  (`script-src 'self'`, no eval: Vega interprets its expressions); map tiles from the host
  `map_tiles` names; inline styles are allowed (Leaflet and Vega set them), inline scripts
  are not. The API's documentation page (Swagger UI, from its CDN) carries inline scripts of
  FastAPI's: they are allowed by their SHA-256, computed on the page being sent.
- `frame-ancestors 'none'` (and `X-Frame-Options: DENY`), except the embeddable chart and map
  (/embed/...), which any site may frame.
- `X-Content-Type-Options: nosniff`; `Referrer-Policy: same-origin` (no address of a page sent
  to other sites), `no-referrer` from the embeds (framed by others: their links send nothing).

The session cookie's flags (HttpOnly, SameSite=Lax, Secure when `secure_cookies`) are set by
the session middleware (web/app.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patrimoine.core.settings import Settings

EMBED_PREFIX = "/embed/"
# FastAPI's documentation pages: Swagger UI from its CDN, started by an inline script.
DOCS_PATHS = ("/api/v1/docs", "/docs/oauth2-redirect")
DOCS_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def _policy(settings: Settings, *, framed: bool, scripts: str = "'self'",
            extra: str = "") -> str:
    # "{s}.tile.example.org" (a.tile…, b.tile…): every subdomain.
    tiles = urlsplit(settings.map_tiles.replace("{s}", "*"))
    tile_origin = f" {tiles.scheme}://{tiles.netloc}" if tiles.netloc else ""
    return "; ".join([
        "default-src 'self'", f"script-src {scripts}", f"style-src 'self' 'unsafe-inline'{extra}",
        f"img-src 'self' data: blob:{tile_origin}{extra}", "connect-src 'self'",
        "font-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
        "frame-ancestors *" if framed else "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        sniff = ("x-content-type-options", "nosniff")
        self.page = [sniff, ("referrer-policy", "same-origin"),
                     ("content-security-policy", _policy(settings, framed=False)),
                     ("x-frame-options", "DENY")]
        self.embed = [sniff, ("referrer-policy", "no-referrer"),
                      ("content-security-policy", _policy(settings, framed=True))]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return
        headers = self.embed if path.startswith(EMBED_PREFIX) else self.page

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _set(message, headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The documentation page is small: held whole, its inline scripts hashed."""
        start: Message | None = None
        body = b""

        async def hold(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body += message.get("body", b"")
                if message.get("more_body", False):
                    return
                assert start is not None
                hashes = " ".join(
                    "'sha256-" + base64.b64encode(hashlib.sha256(m).digest()).decode() + "'"
                    for m in _INLINE_SCRIPT.findall(body))
                policy = _policy(self.settings, framed=False,
                                 scripts=f"'self' {DOCS_CDN} {hashes}".strip(),
                                 extra=f" {DOCS_CDN} https://fastapi.tiangolo.com")
                _set(start, [*self.page[:2], ("content-security-policy", policy),
                             ("x-frame-options", "DENY")])
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, hold)


def _set(message: Message, headers: list[tuple[str, str]]) -> None:
    target = MutableHeaders(scope=message)
    for name, value in headers:
        if name not in target:  # a route that set its own keeps it
            target[name] = value
