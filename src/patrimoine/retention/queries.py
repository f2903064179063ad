"""Read-only figures of retention for the tiers above (the charter): what the archives
packages of each organisation weigh."""

from __future__ import annotations

from collections.abc import Iterable

from patrimoine.core.settings import Settings
from patrimoine.retention.apply import archives_root


def archives_bytes(settings: Settings, organisation_slugs: Iterable[str]) -> dict[str, int]:
    """Bytes of the archives packages written for each organisation (by slug; 0 for none)."""
    root = archives_root(settings)
    out = {}
    for slug in organisation_slugs:
        folder = root / slug
        out[slug] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) \
            if folder.is_dir() else 0
    return out
