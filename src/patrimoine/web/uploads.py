"""Receiving an uploaded file: the one dependency of every route that takes one.

The limit is the settings' `max_upload_bytes`. Nothing beyond it (plus room for the form's
other fields) is kept: the API refuses a larger declared length before reading the body and
stops reading a body that grows past it; pages read such a body to its end, dropping it, so
that the browser shows the answer. The file is copied, up to the limit, into a temporary
folder under data_dir/uploads, under the name it was sent with (readers tell the format by
its extension); the folder is removed once the route is done. Above the limit, one French
message: the API answers 413 with it, a page shows it in its form.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message, Receive

from patrimoine.core.errors import Invalid, PatrimoineError
from patrimoine.web.deps import services, verify_csrf

FORM_ROOM = 64 * 1024  # the form's own bytes: boundaries, part headers, other fields
CHUNK = 1024 * 1024
STALE_SECONDS = 24 * 3600


class UploadTooLarge(PatrimoineError):
    status = 413
    exit_code = 2


def readable_size(limit: int) -> str:
    if limit < 1_048_576:
        return f"{limit} octets"
    mb = limit / 1_048_576
    return f"{mb:.0f} Mo" if mb == int(mb) else f"{mb:.1f} Mo".replace(".", ",")


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"Le fichier envoyé est trop volumineux : il dépasse la taille "
                          f"permise ({readable_size(limit)}).")


@dataclass(frozen=True)
class Upload:
    """What a form sent: its other fields, and the file in a temporary folder."""

    form: FormData
    path: Path | None  # the received file; None when none was sent (or it was refused)
    filename: str  # the name it was sent with, without folders ("" when none)
    refused: str | None = None  # pages only: why the file was refused (too large)

    @property
    def file(self) -> Path:
        """The received file, for routes that have one for sure (the API's)."""
        assert self.path is not None, "no file received"
        return self.path


def _capped(receive: Receive, limit: int, drain: bool) -> Receive:
    """`receive`, refusing a body longer than `limit` plus the form's room. With `drain`,
    the rest of the body is read (and dropped) first: a browser shows a response only once
    it has sent its whole request."""
    read = 0

    async def capped() -> Message:
        nonlocal read
        message = await receive()
        read += len(message.get("body", b""))
        if read > limit + FORM_ROOM:
            while drain and message.get("more_body", False):
                message = await receive()
            raise too_large(limit)
        return message

    return capped


def _sent_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name
    return name if name not in ("", ".", "..") else "fichier"


def _receive(root: Path, upload: UploadFile, filename: str, limit: int) -> Path:
    """Copy the upload, up to `limit` bytes, into a new folder under `root` (removed again
    when it fails); the folders of requests that never ended are removed after a day."""
    root.mkdir(parents=True, exist_ok=True)
    stale = time.time() - STALE_SECONDS
    for left in root.glob("upload-*"):
        try:
            if left.is_dir() and left.stat().st_mtime < stale:
                shutil.rmtree(left, ignore_errors=True)
        except OSError:  # removed meanwhile by another request
            continue
    work = Path(tempfile.mkdtemp(prefix="upload-", dir=root))
    target = work / filename
    try:
        written = 0
        upload.file.seek(0)
        with target.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise too_large(limit)
                out.write(chunk)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


class ReceiveUpload:
    """The dependency: `field` names the form's file field.

    For the API a file is required and a refusal is raised (413). For pages (`page=True`)
    the form's CSRF token is checked and a refusal is handed to the route, which shows it in
    its form; a missing file is the route's to say."""

    def __init__(self, field: str, *, page: bool = False) -> None:
        self.field = field
        self.page = page

    async def __call__(self, request: Request) -> AsyncIterator[Upload]:
        limit = services(request).settings.max_upload_bytes
        form, refused = None, None
        try:
            form = await self._form(request, limit)
        except UploadTooLarge as exc:
            if not self.page:
                raise
            refused = exc.message
        if form is None:  # refused before the form could be read (nor its token checked)
            yield Upload(FormData(), None, "", refused)
            return
        upload = None
        try:
            upload = await self._file(request, form, limit)
            yield upload
        finally:
            await form.close()
            if upload is not None and upload.path is not None:
                await run_in_threadpool(shutil.rmtree, upload.path.parent, True)

    async def _form(self, request: Request, limit: int) -> FormData:
        declared = request.headers.get("content-length", "")
        if not self.page and declared.isdigit() and int(declared) > limit + FORM_ROOM:
            raise too_large(limit)
        try:
            body = Request(request.scope, _capped(request.receive, limit, drain=self.page))
            return await body.form(max_files=1, max_fields=20)
        except PatrimoineError:
            raise
        except Exception as exc:  # a malformed multipart body
            raise Invalid(f"Envoyez le fichier en multipart/form-data, dans le champ "
                          f"« {self.field} ».") from exc

    async def _file(self, request: Request, form: FormData, limit: int) -> Upload:
        if self.page:
            verify_csrf(request, form)
        sent = form.get(self.field)
        if not isinstance(sent, UploadFile) or not sent.filename:
            if self.page:
                return Upload(form, None, "")
            raise Invalid(f"Aucun fichier reçu : envoyez-le dans le champ « {self.field} ».")
        filename = _sent_name(sent.filename)
        root = services(request).settings.data_dir / "uploads"
        try:
            path = await run_in_threadpool(_receive, root, sent, filename, limit)
        except UploadTooLarge as exc:
            if not self.page:
                raise
            return Upload(form, None, filename, exc.message)
        finally:
            await sent.close()  # the parser's spooled copy is no longer needed
        return Upload(form, path, filename)


# The API's upload: a required `file` field.
FileDep = Annotated[Upload, Depends(ReceiveUpload("file"))]
