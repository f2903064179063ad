"""Uploaded files kept between the preview and the confirmation of a back-office form.

The file, once received (web/uploads.py), waits in the data folder under a random name that
only this browser session knows (the session cookie holds the token, the extension, the
original name and a few details); nothing stays in memory between requests, so any worker
process can confirm. Files left behind for a day are removed when someone uploads again.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request

from patrimoine.web.deps import services

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
STALE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class HeldUpload:
    path: Path
    filename: str
    token: str
    details: dict[str, Any]


class UploadKeeper:
    """One kind of held upload: `prefix` names its files, `session_key` its session entry."""

    def __init__(self, session_key: str, prefix: str, extensions: tuple[str, ...]) -> None:
        self.session_key = session_key
        self.prefix = prefix
        self.extensions = extensions

    def folder(self, request: Request) -> Path:
        folder = services(request).settings.data_dir / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _clean_stale(self, folder: Path) -> None:
        limit = time.time() - STALE_SECONDS
        for path in folder.glob(f"{self.prefix}-*"):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
            except OSError:  # removed meanwhile by another request
                continue

    def keep(self, request: Request, received: Path, filename: str, ext: str,
             **details: Any) -> HeldUpload:
        """Move the received file here and remember it in the session, replacing any
        earlier one."""
        self.forget(request)
        folder = self.folder(request)
        self._clean_stale(folder)
        token = secrets.token_urlsafe(24)
        target = folder / f"{self.prefix}-{token}.{ext}"
        os.replace(received, target)  # both under data_dir/uploads: a rename
        request.session[self.session_key] = {"token": token, "ext": ext, "filename": filename,
                                             **details}
        return HeldUpload(target, filename, token, dict(details))

    def pending(self, request: Request) -> HeldUpload | None:
        """The file this session uploaded and has not confirmed nor cancelled yet."""
        held = request.session.get(self.session_key)
        if not isinstance(held, dict):
            return None
        token, ext = str(held.get("token", "")), held.get("ext", "")
        if not _TOKEN.match(token) or ext not in self.extensions:
            return None
        path = self.folder(request) / f"{self.prefix}-{token}.{ext}"
        if not path.is_file():
            return None
        details = {k: v for k, v in held.items() if k not in ("token", "ext", "filename")}
        return HeldUpload(path, str(held.get("filename", "")), token, details)

    def forget(self, request: Request) -> None:
        held = self.pending(request)
        if held is not None:
            held.path.unlink(missing_ok=True)
        request.session.pop(self.session_key, None)
