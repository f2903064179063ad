"""Pseudonymisation keys: one secret per dataset, kept OUTSIDE the data.

The key lives in `<data_dir>/keys/` (folder 0700, file 0600), never in a Parquet file nor
in the database; the anonymisation record names the key file (`key_id`), not the key. One
key per dataset: the same value gets the same pseudonym in every version of the dataset
(records can still be followed over time) but not across datasets (no linking of tables).
Losing the key only means that later versions get different pseudonyms; whoever holds it
can re-identify by testing candidate values, which is why a pseudonymised column remains
personal data under the GDPR.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from patrimoine.core.settings import Settings
from patrimoine.inventory.models import Dataset

KEYS_DIR = "keys"
KEY_BYTES = 32


def key_id(dataset: Dataset) -> str:
    return f"pseudonymisation-{dataset.uid}.key"


def keys_folder(settings: Settings) -> Path:
    folder = settings.data_dir / KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def dataset_key(settings: Settings, dataset: Dataset) -> bytes:
    """The dataset's pseudonymisation key, created (atomically, 0600) on first use."""
    path = keys_folder(settings) / key_id(dataset)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # fails if another process created it first
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104), for computing it in SQL."""
    block = key.ljust(64, b"\0") if len(key) <= 64 else key  # our keys are 32 bytes
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
