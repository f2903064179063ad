"""Files French collectivités and State services published (tests/corpus/README.md), loaded
through the real ingest and judged against what their format's reference reader finds
(tests/corpus/manifest.json): rows, column names, key column types, positions, refusals.

Files that ingest still gets wrong are marked xfail(strict=True) with the class of the
failure: each fix of issue 13 flips one, and must then remove its mark."""

from __future__ import annotations

from typing import Any

import pytest

from patrimoine.bootstrap import Services
from tests.corpus import check
from tests.factories import new_dataset

# Reading files is the subject; the database only records what was read.
pytestmark = pytest.mark.database_free

XFAIL: dict[str, str] = {}


def _params() -> list[Any]:
    return [pytest.param(entry, id=entry["name"],
                         marks=[pytest.mark.xfail(strict=True, reason=XFAIL[entry["name"]])]
                         if entry["name"] in XFAIL else [])
            for entry in check.manifest()]


def test_every_corpus_file_is_in_the_manifest() -> None:
    listed = {e["name"] for e in check.manifest()}
    on_disk = {p.name for p in (check.HERE / "files").iterdir()}
    assert listed == on_disk and len(listed) >= 40
    assert set(XFAIL) <= listed


@pytest.mark.parametrize("entry", _params())
def test_real_file(services: Services, entry: dict[str, Any]) -> None:
    dataset = new_dataset(services, title=entry["name"])
    verdict = check.classify(services, dataset, entry, check.path_of(entry))
    wanted = {"refuse": check.REFUSED, "rejects": check.REJECTS}.get(
        entry["expect"].get("outcome", ""), check.EXACT)
    assert verdict.kind == wanted, verdict.summary()
