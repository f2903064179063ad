"""patrimoine contracts list|clauses|watch against a real store."""

from __future__ import annotations

import json

from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.protection.deadlines import add_months, legal_today
from patrimoine.sovereignty import contracts as ctr
from tests import factories as f
from tests.conftest import Cli

SYSTEM = Principal.system("tests")


def test_list_clauses_and_watch(db: Database, cli: Cli) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        ending = ctr.create_contract(s, SYSTEM, ctr.ContractInput(
            organisation_id=org.id, title="Maintenance de la paie", supplier_name="Éditeur",
            processor=True, end_date=add_months(legal_today(), 6)))
        carried = ctr.create_contract(s, SYSTEM, ctr.ContractInput(
            organisation_id=org.id, title="Hébergement du portail", supplier_name="Hébergeur",
            end_date=add_months(legal_today(), 40)))
        for clause in ctr.clause_set(s, org.id):
            ctr.set_clause_status(s, SYSTEM, carried, clause.code, ctr.ClauseStatusInput(
                status="present", article=f"Article {clause.rank + 3}"))
        ctr.set_clause_status(s, SYSTEM, ending, "reversibilite", ctr.ClauseStatusInput(
            status="absent"))
        ending_ref, carried_ref = ending.reference, carried.reference

    listed = cli("contracts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["reference"]: r for r in json.loads(listed.stdout)}
    assert len(rows[ending_ref]["missing_clauses"]) == 7  # one absent, six not assessed
    assert rows[carried_ref]["missing_clauses"] == []
    assert rows[ending_ref]["processor"] is True
    table = cli("contracts", "list", "--organisation", "Métropole de Test")
    assert "Maintenance de la paie" in table.stdout and "aucune" in table.stdout

    clauses = json.loads(cli("contracts", "clauses", carried_ref, "--json").stdout)
    assert [c["status"] for c in clauses["clauses"]] == ["present"] * 7
    assert clauses["clauses"][4]["article"] == "Article 7"
    shown = cli("contracts", "clauses", ending_ref)
    assert "Absente" in shown.stdout and "Non vérifiée" in shown.stdout

    watched = json.loads(cli("contracts", "watch", "--json").stdout)
    assert [w["reference"] for w in watched] == [ending_ref]
    assert "clause de réversibilité absente ou non vérifiée" in watched[0]["reasons"]
    assert len(json.loads(cli("contracts", "watch", "--mois", "48", "--json").stdout)) == 2

    unknown = cli("contracts", "clauses", "CTR-9999")
    assert unknown.returncode != 0 and "Contrat « CTR-9999 » introuvable." in unknown.stderr
    assert "Traceback" not in unknown.stderr
    wrong = cli("contracts", "watch", "--mois", "5000")
    assert wrong.returncode != 0 and "L'horizon de surveillance va de 0" in wrong.stderr
    assert "Organisation « Inconnue » introuvable." in cli(
        "contracts", "list", "--organisation", "Inconnue").stderr
