"""Requests carrying text that no database can hold are refused before any route runs.

Two things are not text even though a request can spell them: bytes that are not UTF-8
(`%ED%A0%80` is a UTF-16 surrogate encoded as if it were a character; a decoder would turn it
into replacement characters and silently search for something else), and the JSON escapes
`\\u0000` (NUL, which PostgreSQL refuses) and a lone `\\ud800`…`\\udfff` (half of a UTF-16
pair, which neither SQLite, PostgreSQL, DuckDB nor a UTF-8 response can encode). Let through,
they end in a server error wherever the value is stored, searched or quoted back in a message.

So the address (path and query string) and a body that is not a multipart upload must be
UTF-8 without NUL, and hold no such escape: JSON bodies, and parameters the API reads as JSON
(`filter=`, CKAN's). Anything else answers 422 with a French message saying where.
Uploaded files (multipart) are read by their own parsers and are not looked at here.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patrimoine.web.errors import error_response

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# A JSON escape: `\uXXXX`, or a backslash and the character it escapes (so that `\\ud800`,
# an escaped backslash followed by the letters "ud800", is not read as an escape).
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def bad_escape(text: str) -> bool:
    """Whether JSON escapes in `text` would decode to NUL or to a lone UTF-16 surrogate."""
    if "\\" not in text:
        return False
    high_end = -1  # where a high surrogate's escape ended, while its low half is awaited
    for match in _ESCAPE.finditer(text):
        code = int(match.group(1), 16) if match.group(1) else -1
        if high_end >= 0:
            if match.start() == high_end and 0xDC00 <= code <= 0xDFFF:
                high_end = -1
                continue
            return True
        if code == 0 or 0xDC00 <= code <= 0xDFFF:
            return True
        if 0xD800 <= code <= 0xDBFF:
            high_end = match.end()
    return high_end >= 0


def _text(raw: bytes) -> str | None:
    """The UTF-8 text of `raw`, or None when it is not UTF-8 or holds NUL."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _form_problem(raw: bytes, what: str) -> str | None:
    """What is wrong with a query string or a url-encoded form, parameter by parameter."""
    for pair in raw.split(b"&"):
        name_raw, _, value_raw = pair.partition(b"=")
        name = _text(unquote_to_bytes(name_raw.replace(b"+", b" ")))
        value = _text(unquote_to_bytes(value_raw.replace(b"+", b" ")))
        if name is None or bad_escape(name):
            return f"{what} : un nom de paramètre"
        if value is None or bad_escape(value):
            return f"{what}, paramètre « {name} »"
    return None


def _body_problem(body: bytes, content_type: str) -> str | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return _form_problem(body, "Formulaire envoyé")
    text = _text(body)
    return "Corps de la requête" if text is None or bad_escape(text) else None


class WellFormedText:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
        problem = None
        if _text(unquote_to_bytes(raw_path)) is None:
            problem = "Adresse"
        elif scope.get("query_string"):
            problem = _form_problem(scope["query_string"], "Adresse")
        content_type = ""
        for key, value in scope["headers"]:
            if key == b"content-type":
                content_type = value.decode("latin-1").lower()
        if problem is None and scope["method"] in BODY_METHODS \
                and not content_type.startswith("multipart/"):
            body, receive = await _buffered(receive)
            problem = _body_problem(body, content_type)
        if problem is None:
            await self.app(scope, receive, send)
            return
        response = error_response(
            Request(scope), 422, "Requête invalide : texte mal formé.",
            [f"{problem} : octets qui ne sont pas de l'UTF-8, caractère nul ou moitié isolée "
             "d'une paire de substitution UTF-16 (\\ud800 à \\udfff) ; aucun texte ne peut "
             "les contenir."])
        await response(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that gives it again to the application."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client left: let the app see it
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
