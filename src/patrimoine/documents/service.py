"""Keeping documents: what is accepted (the format is read from the bytes, not only from the
name), where a document lies, who reads it.

Accepted: PDF, PNG, JPEG, office files (OpenDocument, Office Open XML) and plain text (notes,
source code, CSV, Markdown) in UTF-8. Refused with a French message: anything else — SVG and
HTML among them, which a browser would run. The file is written atomically (a temporary file
renamed in place), once per content; the record says who sent it and whether anyone may read
it (`public`, which the register holding the document sets: an algorithm while published).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_read_document
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.settings import Settings
from patrimoine.documents.models import Document

_OFFICE = {
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".odg": "application/vnd.oasis.opendocument.graphics",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".zip": "application/zip",
}
_TEXT = (".txt", ".md", ".csv", ".py", ".r", ".sql", ".js", ".java", ".json", ".ipynb", ".sh",
         ".yaml", ".yml", ".toml", ".c", ".h", ".php", ".rb", ".go", ".rs", ".ts")
ACCEPTED = "PDF, PNG, JPEG, documents bureautiques (ODT, ODS, DOCX, XLSX…), ZIP ou texte"
# Shown in the browser; the others are downloaded.
INLINE = ("application/pdf", "image/png", "image/jpeg", "text/plain; charset=utf-8")


def media_type(filename: str, head: bytes) -> str:
    """The document's media type, from its name and first bytes; Invalid when refused."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".pdf" and head.startswith(b"%PDF-"):
        return "application/pdf"
    if suffix == ".png" and head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if suffix in (".jpg", ".jpeg") and head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if suffix in _OFFICE and head.startswith(b"PK\x03\x04"):
        return _OFFICE[suffix]
    if suffix in _TEXT and b"\x00" not in head:
        return "text/plain; charset=utf-8"
    known = suffix in (".pdf", ".png", ".jpg", ".jpeg", *_OFFICE, *_TEXT)
    raise Invalid(f"« {filename} » n'est pas " + (
        f"un fichier {suffix[1:].upper()} valide : son contenu ne correspond pas à son "
        "extension." if known else f"d'un format accepté ({ACCEPTED})."))


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def path_of(settings: Settings, document: Document) -> Path:
    return settings.data_dir / "documents" / document.sha256[:2] / document.sha256


def store(session: Session, settings: Settings, principal: Principal, organisation_id: int,
          source: Path, filename: str) -> Document:
    """Keep the file at `source` (a received upload) as a document of the organisation. The
    caller has checked that the principal may attach documents to its entry."""
    with source.open("rb") as f:
        head = f.read(8192)
    kind = media_type(filename, head)
    if kind.startswith("text/"):
        try:
            source.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid(f"« {filename} » n'est pas un texte en UTF-8 : enregistrez-le en "
                          "UTF-8 ou en PDF.") from None
    size = source.stat().st_size
    if size == 0:
        raise Invalid(f"« {filename} » est vide.")
    sha = _digest(source)
    document = Document(organisation_id=organisation_id, filename=filename, media_type=kind,
                        size=size, sha256=sha, uploaded_by=principal.label)
    target = path_of(settings, document)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as f:
                while chunk := f.read(1 << 20):
                    out.write(chunk)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    session.add(document)
    session.flush()
    return document


def get(session: Session, principal: Principal, uid: str) -> Document:
    document = session.scalar(select(Document).where(Document.uid == uid))
    if document is None or not can_read_document(principal, document.organisation_id,
                                                 document.public):
        raise NotFound("Document introuvable.")
    return document


def set_public(session: Session, uids: list[str], public: bool) -> None:
    """Open or close the documents to everyone (the register holding them decides)."""
    if uids:
        for document in session.scalars(select(Document).where(Document.uid.in_(uids))):
            document.public = public


def url_of(document: Document) -> str:
    return f"/documents/{document.uid}/{quote(document.filename)}"
