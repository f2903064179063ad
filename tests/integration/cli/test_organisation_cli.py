"""`patrimoine organisation …` against a real store."""

from __future__ import annotations

from patrimoine.core.db import Database
from patrimoine.inventory import service as inventory


def test_create_organisations_and_departments(cli, db: Database) -> None:  # type: ignore[no-untyped-def]
    assert cli("organisation", "create", "Ville de Troyes", "--kind", "ville").returncode == 0
    done = cli("organisation", "create", "CCAS de Troyes", "--kind", "ccas",
               "--parent", "ville-de-troyes")
    assert done.returncode == 0, done.stderr
    assert cli("organisation", "add-department", "Ville de Troyes",
               "Direction des finances").returncode == 0
    listing = cli("organisation", "list")
    assert "CCAS de Troyes" in listing.stdout and "Direction des finances" in listing.stdout
    with db.session() as session:
        ccas = inventory.find_organisation(session, "ccas-de-troyes")
        ville = inventory.find_organisation(session, "Ville de Troyes")
        assert ccas is not None and ville is not None and ccas.parent_id == ville.id
        assert [d.name for d in ville.departments] == ["Direction des finances"]


def test_bad_input_gets_a_french_message(cli) -> None:  # type: ignore[no-untyped-def]
    wrong_kind = cli("organisation", "create", "X", "--kind", "planète")
    assert wrong_kind.returncode != 0 and "Type d'organisation inconnu" in wrong_kind.stderr
    assert "Traceback" not in wrong_kind.stderr
    cli("organisation", "create", "Ville de Troyes")
    twice = cli("organisation", "create", "ville de  TROYES")
    assert twice.returncode != 0 and "existe déjà" in twice.stderr
    orphan = cli("organisation", "add-department", "Nulle part", "Finances")
    assert orphan.returncode != 0 and "introuvable" in orphan.stderr
