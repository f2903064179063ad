"""The publication workflow through the back-office pages, with each role."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access.models import AuditEvent
from patrimoine.core.db import Database
from patrimoine.datastore import versions
from patrimoine.inventory.models import AccessLevel, Dataset, DatasetChange, LifecycleStage
from tests.factories import (
    AGENT,
    CDO,
    LIGERAC_COUNTERS_CSV,
    OTHER_REFERENT,
    REFERENT,
    csrf_of,
    ligerac,
    login,
)


def _dataset(db: Database, slug: str) -> Dataset:
    with db.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == slug)).one()
        s.expunge(dataset)
        return dataset


def _actions(db: Database, slug: str) -> list[str]:
    with db.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == slug)).one()
        return list(s.scalars(select(DatasetChange.action).where(
            DatasetChange.dataset_id == dataset.id).order_by(DatasetChange.id)))


def _upload(client: TestClient, slug: str, token: str, text: str = LIGERAC_COUNTERS_CSV,
            name: str = "comptages.csv") -> str:
    r = client.post(f"/admin/inventaire/{slug}/donnees", data={"csrf_token": token},
                    files={"fichier": (name, text.encode("cp1252"), "text/csv")})
    assert r.status_code == 200, r.text
    return r.text


def _jeton(html: str) -> str:
    match = re.search(r'name="jeton" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_referent_prepares_and_the_chief_data_officer_publishes(client: TestClient,
                                                               db: Database) -> None:
    world = ligerac(db)
    token = login(client, REFERENT)
    page = client.get(f"/admin/inventaire/{world.slug}")
    assert "Charger des données" in page.text
    assert client.get(f"/admin/inventaire/{world.slug}/donnees").status_code == 200

    preview = _upload(client, world.slug, token)
    assert "Aperçu de « comptages.csv »" in preview
    assert "Détecté : cp1252" in preview or "Détecté : windows-1252" in preview
    assert "point-virgule" in preview
    assert "décimales avec « , »" in preview
    assert 'name="type:code_insee"' in preview
    assert "Positions géographiques détectées" in preview
    assert "Écluse 0" in preview  # first rows

    # Codes stay text; the counts are detected as integers and loaded as decimals instead.
    assert re.search(r'name="type:passages">\s*<option value="string">texte</option>\s*'
                     r'<option value="integer" selected', preview)
    form = {"csrf_token": token, "jeton": _jeton(preview), "encodage": "", "separateur": "",
            "ligne_entete": "", "type:code_insee": "string", "type:passages": "number"}
    again = client.post(f"/admin/inventaire/{world.slug}/donnees/apercu", data=form)
    assert again.status_code == 200
    assert re.search(r'<code>passages</code> <span class="tag amber">corrigé', again.text)
    assert '<code>code_insee</code> <span' not in again.text
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/charger", data=form,
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    status = client.get(r.headers["location"])
    assert "Version 1 chargée : 60 lignes, 6 colonnes." in status.text
    with db.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        version = versions.latest_version(s, dataset)
        assert version is not None
        assert version.source_filename == "comptages.csv"
        assert version.column_type("code_insee") == "string"
        assert version.column_type("passages") == "number"
        assert version.ingest_settings["overrides"] == {"passages": "number"}
        assert version.positions == {"lat": "latitude", "lon": "longitude"}

    # The referent cannot publish, only ask.
    assert "Demander la publication" in status.text
    assert "Publier en données ouvertes" not in status.text
    r = client.post(f"/admin/inventaire/{world.slug}/publication/publier",
                    data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post(f"/admin/inventaire/{world.slug}/publication/demander",
                    data={"csrf_token": token, "note": "Pour le portail, merci."},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "Demande de publication envoyée" in client.get(r.headers["location"]).text
    assert _dataset(db, world.slug).lifecycle_stage == LifecycleStage.STORED

    # The chief data officer sees the request and publishes.
    token = login(client, CDO)
    queue = client.get("/admin/publications").text
    assert "Comptages vélo" in queue
    dashboard = client.get("/admin").text
    assert "Publications à examiner (1)" in dashboard
    review = f"/admin/inventaire/{world.slug}/publication/revue"
    assert f'href="{review}">« Comptages vélo' in dashboard
    # The header counts what waits, and the request came as a notification.
    assert re.search(r'href="/admin/a-faire">À faire <span class="badge">\d+<', dashboard)
    assert re.search(r'href="/admin/notifications">Notifications <span class="badge">1<',
                     dashboard)
    assert "Publication demandée : « Comptages vélo" in client.get("/admin/notifications").text
    # The review page shows the version asked for: its rows, columns, figures, the message.
    page = html.unescape(client.get(review).text)
    assert "Version 1" in page and "Écluse 0" in page
    assert "<code>passages</code></th><td>nombre" in page
    assert "60</span> <span class=\"card-label\">lignes" in page
    assert "Pour le portail, merci." in page
    assert "première version" in page
    assert "/versions/1/export.csv" in page
    assert "score de qualité" in page
    status = client.get(f"/admin/inventaire/{world.slug}/publication").text
    assert "Pour le portail, merci." in status and "Prêt à publier." in status
    r = client.post(f"/admin/inventaire/{world.slug}/publication/publier",
                    data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert "est publié en données ouvertes" in client.get(r.headers["location"]).text
    published = _dataset(db, world.slug)
    assert published.access_level == AccessLevel.OPEN
    assert published.lifecycle_stage == LifecycleStage.PUBLISHED
    assert published.licence == "etalab-2.0"
    assert "publication_request" not in published.extra
    assert "Aucune demande en attente" in client.get("/admin/publications").text

    # Every step is in the history, with French labels on the entry page.
    assert _actions(db, world.slug) == ["created", "data_previewed", "version_published",
                                        "publication_requested", "published"]
    history = client.get(f"/admin/inventaire/{world.slug}").text
    for label in ("Fichier envoyé et prévisualisé", "Nouvelle version des données",
                  "Demande de publication", "Publication en données ouvertes"):
        assert label in history
    with db.session() as s:
        audited = set(s.scalars(select(AuditEvent.action)))
    assert {"dataset.data_previewed", "dataset.version_published",
            "dataset.publication_requested", "dataset.published",
            "dataset.publication"} <= audited

    # Public now, for anonymous visitors.
    client.cookies.clear()
    assert client.get(f"/datasets/{world.slug}").status_code == 200

    # Unpublishing keeps the versions.
    token = login(client, CDO)
    r = client.post(f"/admin/inventaire/{world.slug}/publication/depublier",
                    data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    unpublished = _dataset(db, world.slug)
    assert unpublished.access_level == AccessLevel.INTERNAL
    assert unpublished.lifecycle_stage == LifecycleStage.STORED
    with db.session() as s:
        dataset = s.get(Dataset, unpublished.id)
        assert dataset is not None
        assert [v.number for v in versions.list_versions(s, dataset)] == [1]
    client.cookies.clear()
    assert client.get(f"/datasets/{world.slug}").status_code == 404
    assert _actions(db, world.slug)[-1] == "unpublished"

    # A second version asked for: the review compares it with the version last published.
    token = login(client, REFERENT)

    def load(text: str) -> None:
        preview = _upload(client, world.slug, token, text)
        r = client.post(f"/admin/inventaire/{world.slug}/donnees/charger",
                        data={"csrf_token": token, "jeton": _jeton(preview),
                              "type:code_insee": "string", "type:passages": "number"},
                        follow_redirects=False)
        assert r.status_code == 303, r.text

    lines = LIGERAC_COUNTERS_CSV.splitlines(keepends=True)
    load("".join(lines[:51]))  # the last ten rows gone
    r = client.post(f"/admin/inventaire/{world.slug}/publication/demander",
                    data={"csrf_token": token, "note": ""}, follow_redirects=False)
    assert r.status_code == 303
    login(client, CDO)
    review = f"/admin/inventaire/{world.slug}/publication/revue"
    page = html.unescape(client.get(review).text)
    assert "Par rapport à la version 1 (la dernière publiée" in page
    assert re.search(r"60 → 50 lignes : 0 ajoutée\(s\), 10 retirée\(s\)", page), page
    assert "a été chargée depuis la demande" not in page
    # The referent loads yet another version after asking: the approver is warned.
    token = login(client, REFERENT)
    load("".join(lines[:41]))
    login(client, CDO)
    page = html.unescape(client.get(review).text)
    assert "Version 2" in page
    assert "La version 3 a été chargée depuis la demande" in page


def test_agents_and_other_departments_cannot_prepare(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    token = login(client, AGENT)
    status = client.get(f"/admin/inventaire/{world.slug}/publication")
    assert status.status_code == 200
    assert "Charger des données" not in status.text
    assert "ne peut" not in status.text or True
    assert client.get(f"/admin/inventaire/{world.slug}/donnees").status_code == 403
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": token},
                    files={"fichier": ("a.csv", b"a;b\n1;2\n", "text/csv")})
    assert r.status_code == 403
    r = client.post(f"/admin/inventaire/{world.slug}/publication/demander",
                    data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403
    token = login(client, OTHER_REFERENT)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": token},
                    files={"fichier": ("a.csv", b"a;b\n1;2\n", "text/csv")})
    assert r.status_code in (403, 404)
    assert _actions(db, world.slug) == ["created"]


def test_missing_licence_is_refused_with_what_to_complete(client: TestClient,
                                                          db: Database) -> None:
    world = ligerac(db, licence=None, description="Court")
    token = login(client, REFERENT)
    preview = _upload(client, world.slug, token)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/charger",
                    data={"csrf_token": token, "jeton": _jeton(preview)}, follow_redirects=False)
    assert r.status_code == 303
    status = client.get(f"/admin/inventaire/{world.slug}/publication").text
    assert "La licence est obligatoire pour des données ouvertes" in status
    assert "La description est absente ou trop courte" in status
    r = client.post(f"/admin/inventaire/{world.slug}/publication/demander",
                    data={"csrf_token": token}, follow_redirects=False)
    assert "La licence est obligatoire" in client.get(r.headers["location"]).text
    token = login(client, CDO)
    r = client.post(f"/admin/inventaire/{world.slug}/publication/publier",
                    data={"csrf_token": token}, follow_redirects=False)
    page = client.get(r.headers["location"]).text
    assert "Publication impossible" in page and "La licence est obligatoire" in page
    assert _dataset(db, world.slug).lifecycle_stage == LifecycleStage.STORED
    assert "published" not in _actions(db, world.slug)


def test_upload_errors_are_explained(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    token = login(client, REFERENT)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": token},
                    files={"fichier": ("notes.docx", b"xx", "application/octet-stream")})
    assert r.status_code == 422 and "n'est pas d'un format accepté" in html.unescape(r.text)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": token},
                    files={"fichier": ("vide.csv", b"", "text/csv")})
    assert r.status_code == 422 and "vide" in r.text
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": "faux"},
                    files={"fichier": ("a.csv", b"a;b\n1;2\n", "text/csv")})
    assert r.status_code == 403
    # A value that does not fit the forced type is reported, nothing is loaded.
    preview = _upload(client, world.slug, token)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/apercu",
                    data={"csrf_token": token, "encodage": "klingon", "ligne_entete": "x"})
    assert r.status_code == 422 and "ligne d'en-tête" in html.unescape(r.text)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/apercu",
                    data={"csrf_token": token, "encodage": "klingon"})
    assert r.status_code == 422 and "Encodage inconnu" in r.text
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/apercu",
                    data={"csrf_token": token, "separateur": "tab", "ligne_entete": "1"})
    assert r.status_code == 200 and 'value="tab" selected' in r.text
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/charger",
                    data={"csrf_token": token, "jeton": _jeton(preview),
                          "type:compteur": "integer"})
    assert r.status_code == 422
    assert "n'est pas du type attendu (entier)" in html.unescape(r.text)
    assert "version_published" not in _actions(db, world.slug)
    # Cancelling forgets the file.
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/annuler",
                    data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/charger",
                    data={"csrf_token": token, "jeton": _jeton(preview)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/donnees")


def test_upload_size_limit(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    client.app.state.services.settings.max_upload_bytes = 1000  # type: ignore[attr-defined]
    token = login(client, REFERENT)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": token},
                    files={"fichier": ("gros.csv", LIGERAC_COUNTERS_CSV.encode() * 3, "text/csv")})
    assert r.status_code == 413
    assert "dépasse la taille permise" in r.text


def test_request_can_be_refused_with_a_reason(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    token = login(client, REFERENT)
    preview = _upload(client, world.slug, token)
    client.post(f"/admin/inventaire/{world.slug}/donnees/charger",
                data={"csrf_token": token, "jeton": _jeton(preview)})
    client.post(f"/admin/inventaire/{world.slug}/publication/demander",
                data={"csrf_token": token})
    token = login(client, CDO)
    r = client.post(f"/admin/inventaire/{world.slug}/publication/refuser",
                    data={"csrf_token": token, "motif": ""}, follow_redirects=False)
    assert "Dites pourquoi" in client.get(r.headers["location"]).text
    client.post(f"/admin/inventaire/{world.slug}/publication/refuser",
                data={"csrf_token": token, "motif": "Colonnes à renommer."})
    assert _actions(db, world.slug)[-1] == "publication_rejected"
    history = client.get(f"/admin/inventaire/{world.slug}").text
    assert "Demande de publication refusée" in history and "Colonnes à renommer." in history
    assert csrf_of(history)


def test_rejected_cells_need_the_preview_confirmation(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    token = login(client, REFERENT)
    lines = ["Compte;Montant"] + [f"C{n};{n}\u00a0000,50" for n in range(1, 150)]
    lines[20] = "C20;N   82 584,28"
    preview = _upload(client, world.slug, token, "\n".join(lines) + "\n", "balance.csv")
    form = {"csrf_token": token, "jeton": _jeton(preview)}
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/charger", data=form)
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "ligne 21, colonne « Montant » : « N   82 584,28 »" in text
    assert 'name="accepter_rejets"' in text
    assert "version_published" not in _actions(db, world.slug)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees/charger",
                    data={**form, "accepter_rejets": "1"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    status = html.unescape(client.get(r.headers["location"]).text)
    assert "Version 1 chargée : 149 lignes, 2 colonnes ; 1 rejet(s) enregistré(s)" in status
    with db.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        version = versions.latest_version(s, dataset)
        assert version is not None and version.column_type("montant") == "number"
        assert version.ingest_settings["rejected_cells"][0]["line"] == 21
