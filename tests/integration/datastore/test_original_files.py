"""The file a version was loaded from is kept byte for byte beside its Parquet file, served
as "fichier d'origine" (API and portal), and removed with the last version using it
(destroyed by retention, or never committed) like the version files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from patrimoine.bootstrap import Services
from patrimoine.core.errors import PatrimoineError
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from tests import factories as f

# As a finance department sends it: Windows-1252, semicolons, decimal commas.
SOURCE = "Bénéficiaire;Montant\nAssociation des Écoles;1 200,50\nClub de judo;800\n"


def _public(services: Services, title: str = "Subventions") -> Dataset:
    with services.db.unit_of_work() as session:
        return f.dataset(session, f.organisation(session), title=title, **f.PUBLIC)


def test_the_loaded_file_is_kept_and_served_byte_for_byte(services: Services,
                                                          client: TestClient,
                                                          tmp_path: Path) -> None:
    entry = _public(services)
    sent = f.write(tmp_path, "subventions 2024.csv", SOURCE, encoding="cp1252")
    version = f.load(services, entry, sent)
    kept = versions.original_path(services.settings, version)
    assert kept is not None and kept.read_bytes() == sent.read_bytes()
    assert (version.source_media_type, version.source_size) == ("text/csv",
                                                                sent.stat().st_size)
    response = client.get(f"/api/v1/datasets/{entry.slug}/versions/1/original")
    assert response.status_code == 200
    assert response.content == sent.read_bytes()
    assert response.headers["content-type"].startswith("text/csv")
    assert "subventions%202024.csv" in response.headers["content-disposition"]
    again = client.get(f"/api/v1/datasets/{entry.slug}/versions/1/original",
                       headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    # The portal links it under its name, through the counted download route.
    page = client.get(f"/datasets/{entry.slug}")
    assert f'/datasets/{entry.slug}/telecharger?format=origine&amp;version=1"' in page.text
    hop = client.get(f"/datasets/{entry.slug}/telecharger",
                     params={"format": "origine", "version": 1}, follow_redirects=False)
    assert hop.status_code == 303
    assert hop.headers["location"] == f"/api/v1/datasets/{entry.slug}/versions/1/original"


def test_a_version_without_an_original_says_so_in_french(services: Services,
                                                         client: TestClient,
                                                         tmp_path: Path) -> None:
    """Versions derived from another (anonymised, purged) are added without one."""
    entry = _public(services)
    first = f.load(services, entry, f.write(tmp_path, "a.csv", SOURCE))
    with services.db.unit_of_work() as session:
        dataset = session.get(Dataset, entry.id)
        assert dataset is not None
        written = versions.temporary_path(services.settings, dataset, "derived")
        shutil.copyfile(versions.version_path(services.settings, first), written)
        derived = versions.add_version(
            session, services.settings, dataset, written, content_hash="cd" * 32,
            row_count=first.row_count, columns=first.columns, positions=None,
            source_filename=first.source_filename, source_format="parquet",
            ingest_settings={}, created_by=None).version
        assert derived.source_path is None
    response = client.get(f"/api/v1/datasets/{entry.slug}/versions/2/original")
    assert response.status_code == 404
    assert "pas de fichier d'origine" in response.json()["error"]
    assert "format=origine&amp;version=2" not in client.get(f"/datasets/{entry.slug}").text


def test_originals_go_with_the_last_version_using_them(services: Services,
                                                      tmp_path: Path) -> None:
    entry = _public(services)
    first = f.load(services, entry, f.write(tmp_path, "a.csv", SOURCE))
    second = f.load(services, entry, f.write(tmp_path, "b.csv", SOURCE + "Chorale;300\n"))
    kept_first = versions.original_path(services.settings, first)
    kept_second = versions.original_path(services.settings, second)
    assert kept_first is not None and kept_second is not None and kept_first != kept_second
    # An original no version names (a process killed before its commit) goes at start-up.
    orphan = kept_first.with_name("ef" * 32)
    shutil.copyfile(kept_first, orphan)
    removed = versions.remove_orphan_files(services.db.engine, services.settings)
    assert removed == [f"versions/{entry.uid}/originals/{orphan.name}"]
    assert kept_first.exists() and kept_second.exists()
    # A version destroyed (the retention purge) takes its original with it.
    with services.db.unit_of_work() as session:
        doomed = session.get(DatasetVersion, first.id)
        assert doomed is not None
        session.delete(doomed)
        versions.remove_file_when_unused(session, services.settings, doomed)
    assert not kept_first.exists() and kept_second.exists()


def test_a_refused_load_leaves_no_copy_of_its_file(services: Services,
                                                   tmp_path: Path) -> None:
    """The original is copied while the file is read; a load that is refused (here: a row
    with one field too many) keeps nothing of it."""
    entry = _public(services)
    sent = f.write(tmp_path, "subventions.csv",
                   "Bénéficiaire;Montant\nClub de judo;800\nClub de voile;300;en trop\n")
    with pytest.raises(PatrimoineError):
        f.load(services, entry, sent)
    folder = versions.dataset_folder(services.settings, entry) / versions.ORIGINALS_DIR
    assert not folder.exists() or list(folder.iterdir()) == []
