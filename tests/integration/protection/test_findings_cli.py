"""`patrimoine protection findings|decide|anonymise|k-anonymity|gate` on a loaded version."""

from __future__ import annotations

import json
from pathlib import Path

from patrimoine.bootstrap import Services
from tests.conftest import Cli
from tests.factories import persons_world


def test_findings_decide_anonymise_gate(cli: Cli, services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    slug = w.dataset.slug
    r = cli("protection", "findings", slug, "--json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    keys = {(f["column"], f["kind"]) for f in body["findings"]}
    assert ("email", "email") in keys and len(body["blockers"]) == len(keys)

    r = cli("protection", "gate", slug)
    assert r.returncode == 1 and "ne peut pas être publiée" in r.stdout

    r = cli("protection", "decide", slug, "email", "email", "accepted", "--reason",
            "Contacts professionnels", "--by", "Mme Durand, DPO")
    assert r.returncode == 0, r.stderr
    r = cli("protection", "findings", slug)
    assert r.returncode == 0 and "Mme Durand, DPO" in r.stdout
    assert "Publication en données ouvertes refusée" in r.stdout

    r = cli("protection", "anonymise", slug, "--drop", "prenom", "--mask", "nom",
            "--pseudonymise", "montant", "--generalise", "date_naissance:year",
            "--generalise", "latitude:grid:1000", "--generalise", "code_postal:department",
            "--generalise", "age:band:5")
    assert r.returncode == 0, r.stderr
    assert "Version 2 créée à partir de la version 1" in r.stdout
    assert "« montant » : pseudonymisation (HMAC-SHA256" in r.stdout
    # Birth year and a 1 km grid still single out each of the 40 persons (k = 1).
    r = cli("protection", "gate", slug)
    assert r.returncode == 1 and "k-anonymat insuffisant" in r.stdout, r.stdout
    r = cli("protection", "gate", slug, env={"PATRIMOINE_OPEN_DATA_MIN_K": "1"})
    assert r.returncode == 0 and "peut être publiée" in r.stdout, r.stdout

    r = cli("protection", "anonymise", slug, "--version", "1", "--generalise", "nom:month")
    assert r.returncode != 0 and "s'applique aux colonnes" in r.stderr
    r = cli("protection", "k-anonymity", slug, "--columns", "code_postal,age", "--k", "3",
            "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["version"] == 2 and report["rows"] == 40 and report["k"] >= 1
