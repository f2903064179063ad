"""The back-office page of a dataset's personal data: findings, decisions, anonymisation."""

from __future__ import annotations

from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient

from patrimoine.bootstrap import Services
from tests.factories import csrf_of, login, persons_world


def html_text(page: str) -> str:
    return unescape(page)


def test_dpo_decides_and_editor_anonymises(client: TestClient, services: Services,
                                           tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    url = f"/admin/inventaire/{w.dataset.slug}/donnees-personnelles"
    login(client, "agent@ville.fr")
    assert client.get(url).status_code == 403
    client.cookies.clear()

    login(client, "dpo@ville.fr")
    page = client.get(url)
    assert page.status_code == 200, page.text
    html = page.text
    assert "ne peut pas être publiée" in html and "Adresse électronique" in html
    assert "écarté par le DPO" in html  # the DPO's decision choices
    r = client.post(url + "/decision", data={
        "csrf_token": csrf_of(html), "version": "1", "column": "email", "kind": "email",
        "decision": "not_personal", "reason": ""}, follow_redirects=True)
    assert "motif" in r.text
    r = client.post(url + "/decision", data={
        "csrf_token": csrf_of(html), "version": "1", "column": "email", "kind": "email",
        "decision": "accepted", "reason": "Annuaire public des agents."},
        follow_redirects=True)
    assert r.status_code == 200 and "Décision enregistrée" in r.text
    assert "Annuaire public des agents." in r.text
    client.cookies.clear()

    login(client, "cdo@ville.fr")
    html = client.get(url).text
    assert "Enregistrer la décision" not in html and "Confirmer : donnée personnelle" in html
    form = {"csrf_token": csrf_of(html), "version": "1", "op-prenom": "drop", "op-nom": "mask",
            "op-date_naissance": "year", "op-latitude": "grid", "size-latitude": "1000"}
    r = client.post(url + "/anonymiser", data={**form, "op-nom": "month"},
                    follow_redirects=True)
    assert "s'applique aux colonnes" in html_text(r.text)
    r = client.post(url + "/anonymiser", data=form, follow_redirects=True)
    assert r.status_code == 200 and "Version 2 créée" in r.text
    # Findings cleared, but each person is still alone in its class (birth year, 1 km grid).
    assert "k-anonymat insuffisant sur date_naissance, latitude, longitude" in html_text(r.text)
    assert "Dérivée de la version 1" in r.text
    r = client.get(url + "?version=2&columns=code_postal&columns=age&k=3")
    assert r.status_code == 200 and "k = " in r.text and "Plus petites combinaisons" in r.text
