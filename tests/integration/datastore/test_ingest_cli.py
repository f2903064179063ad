"""`patrimoine datastore …`: load, sniff, versions, diff; bounded memory in a real process."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import psutil
from sqlalchemy import select

from patrimoine.bootstrap import Services
from patrimoine.datastore import engine
from patrimoine.datastore.models import DatasetVersion
from tests import factories
from tests.conftest import PATRIMOINE, Cli
from tests.factories import write

CSV = "Code;Libellé;Montant\n001;Été;1 234,5\n002;Hiver;12\n"


def _organisations(services: Services, *names: str) -> None:
    with services.db.unit_of_work() as session:
        for name in names:
            factories.organisation(session, name)


def test_load_json_creates_the_entry_and_prints_the_version(
        services: Services, cli: Cli, tmp_path: Path) -> None:
    _organisations(services, "Ville de Test", "CCAS de Test")
    path = write(tmp_path, "aides.csv", CSV)
    done = cli("datastore", "load", str(path), "--dataset", "aides", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["row_count"] == 2 and payload["number"] == 1 and payload["id"] >= 1
    assert payload["unchanged"] is False
    assert [(c["name"], c["type"]) for c in payload["columns"]] == [
        ("code", "string"), ("libelle", "string"), ("montant", "number")]
    assert payload["columns"][1]["source_name"] == "Libellé"
    # the entry went to the first organisation
    again = cli("datastore", "load", str(path), "--dataset", "aides")
    assert again.returncode == 0
    assert "Contenu identique à la version 1 : aucune nouvelle version créée." in again.stdout
    listing = cli("datastore", "versions", "aides")
    assert "aides.csv" in listing.stdout and "Versions de « aides »" in listing.stdout
    assert len(json.loads(cli("datastore", "versions", "aides", "--json").stdout)) == 1


def test_load_options(services: Services, cli: Cli, tmp_path: Path) -> None:
    _organisations(services, "Ville de Test", "CCAS de Test")
    path = write(tmp_path, "a.csv", CSV)
    done = cli("datastore", "load", str(path), "--dataset", "ccas-aides", "--organisation",
               "CCAS de Test", "--title", "Aides du CCAS", "--type", "montant=string",
               "--type", "Code=integer")
    assert done.returncode == 0, done.stderr
    assert "Jeu de données « ccas-aides » créé" in done.stdout
    assert "Version 1 de « ccas-aides » publiée : 2 lignes, 3 colonnes." in done.stdout
    with services.db.unit_of_work() as session:
        from sqlalchemy import select

        from patrimoine.inventory.models import Dataset
        entry = session.scalar(select(Dataset).where(Dataset.slug == "ccas-aides"))
        assert entry is not None and entry.title == "Aides du CCAS"
        assert entry.organisation.name == "CCAS de Test"
    missing = cli("datastore", "load", str(path), "--dataset", "x", "--organisation", "Inconnue")
    assert missing.returncode == 3 and "Organisation « Inconnue » introuvable." in missing.stderr
    bad = cli("datastore", "load", str(path), "--dataset", "Pas Un Slug")
    assert bad.returncode == 2 and "par exemple « pas-un-slug »" in bad.stderr


def test_load_without_organisation(cli: Cli, tmp_path: Path) -> None:
    done = cli("datastore", "load", str(write(tmp_path, "a.csv", CSV)), "--dataset", "aides")
    assert done.returncode == 2
    assert "Aucune organisation n'existe encore" in done.stderr


def test_bad_file_message_and_no_traceback(services: Services, cli: Cli,
                                          tmp_path: Path) -> None:
    _organisations(services, "Ville de Test")
    path = write(tmp_path, "casse.csv", "a;b\n1;2\n3;4;5\n")
    done = cli("datastore", "load", str(path), "--dataset", "casse")
    assert done.returncode == 2
    assert "casse.csv, ligne 3 : 3 champs alors que l'en-tête en compte 2." in done.stderr
    assert "Traceback" not in done.stderr
    assert cli("datastore", "versions", "casse").returncode == 3  # the entry was not kept
    wrong = cli("datastore", "load", str(path), "--dataset", "x", "--type", "montant")
    assert wrong.returncode == 2 and "écrivez COLONNE=TYPE" in wrong.stderr


def test_sniff_versions_and_diff(services: Services, cli: Cli,
                                 tmp_path: Path) -> None:
    _organisations(services, "Ville de Test")
    first = write(tmp_path, "v1.csv", CSV)
    sniffed = cli("datastore", "sniff", str(first))
    assert sniffed.returncode == 0
    assert "point-virgule" in sniffed.stdout and "nombre décimal" in sniffed.stdout
    plan = json.loads(cli("datastore", "sniff", str(first), "--json").stdout)
    assert plan["delimiter"] == ";" and plan["columns"][2]["type"] == "number"
    assert cli("datastore", "load", str(first), "--dataset", "aides").returncode == 0
    second = write(tmp_path, "v2.csv", CSV.replace(";12\n", ";13\n") + "003;Printemps;1\n")
    assert cli("datastore", "load", str(second), "--dataset", "aides").returncode == 0
    summary = json.loads(cli("datastore", "diff", "aides", "1", "2", "--key", "code",
                             "--json").stdout)
    assert (summary["rows_added"], summary["rows_removed"], summary["rows_changed"]) == (1, 0, 1)
    missing = cli("datastore", "diff", "aides", "1", "7")
    assert missing.returncode == 3 and "La version 7" in missing.stderr


def _generate(path: Path, target_bytes: int) -> int:
    lines = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("id;commune;libelle;montant;date;actif\n")
        written = 0
        block_rows = 10_000
        while written < target_bytes:
            block = "".join(
                f"{i};Saint-Étienne;Subvention à l'association n°{i % 977};"
                f"{i % 100_000} {i % 1000:03d},{i % 100:02d};"
                f"{1 + i % 28:02d}/{1 + i % 12:02d}/2023;"
                f"{'oui' if i % 3 else 'non'}\n"
                for i in range(lines, lines + block_rows))
            f.write(block)
            written += len(block.encode())
            lines += block_rows
    return lines


def test_bounded_memory_on_a_large_file(services: Services, cli_env: dict[str, str],
                                        tmp_path: Path) -> None:
    _organisations(services, "Ville de Test")
    path = tmp_path / "gros.csv"
    lines = _generate(path, 100 * 1024 * 1024)
    proc = psutil.Popen([str(PATRIMOINE), "datastore", "load", str(path), "--dataset", "gros",
                         "--json"], env={**os.environ, **cli_env},
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert json.loads(out)["row_count"] == lines
    size = path.stat().st_size
    print(f"peak RSS {peak / 2**20:.0f} MB while loading {size / 2**20:.0f} MB")
    # Flat whatever the size: ~400 MB measured for 100 MB, 400 MB and 2 GB files alike.
    assert peak < 600 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MB for {size / 2**20:.0f} MB"


def test_load_builds_the_query_layout_ahead_when_asked(
        services: Services, cli: Cli, tmp_path: Path) -> None:
    _organisations(services, "Ville de Test")

    def version(number: int) -> DatasetVersion:
        with services.db.session() as s:
            return s.scalars(select(DatasetVersion).where(DatasetVersion.number == number)
                             ).one()

    done = cli("datastore", "load", str(write(tmp_path, "a.csv", CSV)), "--dataset", "aides")
    assert done.returncode == 0, done.stderr
    assert not engine.layout_ready(services.settings, version(1))  # the server's business
    done = cli("datastore", "load", str(write(tmp_path, "b.csv", CSV + "003;Automne;5\n")),
               "--dataset", "aides", "--build-layout")
    assert done.returncode == 0, done.stderr
    assert "Version préparée pour les requêtes." in done.stdout
    assert engine.layout_ready(services.settings, version(2))
    # A build that fails: the version is loaded all the same, the failure said and recorded.
    done = cli("datastore", "load", str(write(tmp_path, "c.csv", CSV + "004;Printemps;6\n")),
               "--dataset", "aides", "--build-layout",
               env={"PATRIMOINE_LAYOUT_MEMORY_LIMIT": "1KB"})
    assert done.returncode == 7, done.stdout + done.stderr
    assert "n'a pas pu être préparée" in done.stderr and "fichier Parquet" in done.stderr
    assert "Traceback" not in done.stderr
    state = engine.layout_state(services.settings, version(3))
    assert not state.ready and state.failure is not None and state.failure.attempts == 1
