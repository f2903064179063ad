"""The French back-office, through the in-process client: who sees what, forms, history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    DatasetChange,
    Source,
    YesNoUndefined,
)
from tests import factories as f
from tests.factories import csrf_of, login
from tests.support.import_jobs import finish_import


@dataclass
class Territory:
    ville_id: int
    si_id: int
    sports_id: int
    cantine_slug: str
    piscine_slug: str


@pytest.fixture
def territory(db: Database) -> Territory:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Troyes")
        si = f.department(s, ville, "Systèmes d'information")
        sports = f.department(s, ville, "Sports")
        metro = f.organisation(s, "Troyes Champagne Métropole")
        cantine = f.dataset(s, ville, "Fréquentation des cantines", department=si,
                            theme="Éducation", source=Source.INTERNAL,
                            sharing=YesNoUndefined.YES, access_level=AccessLevel.INTERNAL)
        piscine = f.dataset(s, ville, "Entrées des piscines", department=sports, theme="Sports",
                            source=Source.EXTERNAL, producer="Délégataire",
                            access_level=AccessLevel.OPEN, contains_personal_data=False)
        f.dataset(s, metro, "Consommations énergétiques des bâtiments", theme="Énergie",
                  source=Source.BOTH, confidentiality=YesNoUndefined.NO,
                  contains_personal_data=True, **f.PUBLIC)
        f.account(s, "admin@troyes.fr", superadmin=True)
        f.account(s, "referent@troyes.fr", roles=[(ville, Role.DATA_REFERENT, si)])
        f.account(s, "agent@troyes.fr", roles=[(ville, Role.AGENT, None)])
        return Territory(ville.id, si.id, sports.id, cantine.slug, piscine.slug)


PAGES = ["/admin", "/admin/inventaire", "/admin/inventaire/statistiques",
         "/admin/inventaire/nouveau", "/admin/compte"]


def test_anonymous_visitors_are_sent_to_the_login_page(client: TestClient,
                                                       territory: Territory) -> None:
    for path in [*PAGES, f"/admin/inventaire/{territory.piscine_slug}",
                 f"/admin/inventaire/{territory.piscine_slug}/modifier"]:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"] == f"/connexion?suivant={path}"
    r = client.post("/admin/inventaire/nouveau", data={"title": "x"}, follow_redirects=False)
    assert r.status_code in (303, 403)


def test_every_page_renders_accessibly_for_an_administrator(client: TestClient,
                                                            territory: Territory) -> None:
    login(client, "admin@troyes.fr")
    for path in [*PAGES, f"/admin/inventaire/{territory.cantine_slug}",
                 f"/admin/inventaire/{territory.cantine_slug}/modifier"]:
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        html = r.text
        assert '<html lang="fr">' in html
        assert 'href="#contenu"' in html and 'id="contenu"' in html
        assert html.count("<h1") == 1, path
        assert 'aria-current="page"' in html
        # Every table header cell says what it heads.
        assert "<th>" not in html, path
        # Every form field has a label.
        for field_id in re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html):
            assert f'for="{field_id}"' in html, (path, field_id)


def test_agent_reads_but_cannot_create_or_edit(client: TestClient, territory: Territory,
                                               db: Database) -> None:
    login(client, "agent@troyes.fr")
    assert client.get("/admin").status_code == 200
    listing = client.get("/admin/inventaire").text
    assert "Fréquentation des cantines" in listing and "Nouvelle entrée</a>" not in listing
    page = client.get(f"/admin/inventaire/{territory.cantine_slug}")
    assert page.status_code == 200 and "/modifier" not in page.text
    r = client.get(f"/admin/inventaire/{territory.cantine_slug}/modifier")
    assert r.status_code == 403 and "n&#39;a pas le droit" in r.text
    assert client.get("/admin/inventaire/nouveau").status_code == 403
    token = csrf_of(client.get("/admin/compte").text)
    r = client.post(f"/admin/inventaire/{territory.cantine_slug}/modifier",
                    data={"csrf_token": token, "title": "Piraté",
                          "organisation_id": str(territory.ville_id)})
    assert r.status_code == 403
    with db.unit_of_work() as s:
        assert s.scalar(select(Dataset.title).where(Dataset.slug == territory.cantine_slug)) == (
            "Fréquentation des cantines")


def test_referent_edits_only_in_their_department(client: TestClient, territory: Territory) -> None:
    login(client, "referent@troyes.fr")
    assert client.get(f"/admin/inventaire/{territory.cantine_slug}/modifier").status_code == 200
    assert client.get(f"/admin/inventaire/{territory.piscine_slug}/modifier").status_code == 403
    form = client.get("/admin/inventaire/nouveau").text
    assert "Systèmes d&#39;information" in form and ">Sports</option>" not in form
    token = csrf_of(form)
    # Choosing another department of the same organisation is refused next to the field.
    r = client.post("/admin/inventaire/nouveau", data={
        "csrf_token": token, "title": "Licences sportives", "organisation_id": territory.ville_id,
        "department_id": territory.sports_id, "confidentiality": "undefined",
        "sharing": "undefined", "access_level": "internal", "update_frequency": "unknown",
        "lifecycle_stage": "stored"})
    assert r.status_code == 422
    assert "choisissez une direction dont vous avez la charge" in r.text
    assert 'value="Licences sportives"' in r.text


def _form(token: str, territory: Territory, **overrides: str) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": token, "title": "Arbres d'alignement", "description": "Les **arbres**.",
        "organisation_id": territory.ville_id, "department_id": territory.si_id,
        "theme": "Espace public", "source": "internal", "producer": "",
        "confidentiality": "no", "sharing": "yes", "access_level": "open",
        "contains_personal_data": "non", "cost_per_year": "1 200,50",
        "update_frequency": "annual", "licence": "Licence Ouverte 2.0",
        "keywords": "arbres, voirie", "spatial_coverage": "Ville", "temporal_start": "2020-01-01",
        "temporal_end": "31/12/2024", "contact_name": "Service espaces verts",
        "contact_email": "verts@troyes.fr", "lifecycle_stage": "published",
    }
    data.update(overrides)
    return data


def test_create_then_edit_round_trip_keeps_history(client: TestClient, territory: Territory,
                                                   db: Database) -> None:
    login(client, "admin@troyes.fr")
    token = csrf_of(client.get("/admin/inventaire/nouveau").text)
    r = client.post("/admin/inventaire/nouveau", data=_form(token, territory),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    slug = r.headers["location"].rsplit("/", 1)[1]
    assert slug == "arbres-d-alignement"
    page = client.get(r.headers["location"]).text
    assert "a été créé" in page
    assert "<strong>arbres</strong>" in page
    assert "1\u202f200,50 € par an" in page
    assert "du 01/01/2020 au 31/12/2024" in page
    assert "Création" in page

    edit = client.get(f"/admin/inventaire/{slug}/modifier").text
    assert 'value="1 200,50"' not in edit and 'value="1200,50"' in edit
    assert 'value="arbres, voirie"' in edit
    r = client.post(f"/admin/inventaire/{slug}/modifier",
                    data=_form(csrf_of(edit), territory, theme="Environnement",
                               cost_per_year="900", access_level="internal"),
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/admin/inventaire/{slug}").text
    assert "Modifications enregistrées (3 champs)" in page
    history = page.split('id="historique"')[1]
    assert "Modification" in history and "admin" in history
    assert "<del>Espace public</del> → <ins>Environnement</ins>" in history
    assert "<del>Ouvert</del> → <ins>Interne</ins>" in history
    assert "<del>1\u202f200,50 €</del> → <ins>900 €</ins>" in history

    # Saving again without changes records nothing.
    again = client.get(f"/admin/inventaire/{slug}/modifier").text
    r = client.post(f"/admin/inventaire/{slug}/modifier",
                    data=_form(csrf_of(again), territory, theme="Environnement",
                               cost_per_year="900,00", access_level="internal"))
    assert "Aucune modification" in r.text
    with db.unit_of_work() as s:
        dataset = s.scalar(select(Dataset).where(Dataset.slug == slug))
        assert dataset is not None and dataset.cost_per_year == Decimal("900")
        assert dataset.keywords == ["arbres", "voirie"]
        actions = s.scalars(select(DatasetChange.action).where(
            DatasetChange.dataset_id == dataset.id).order_by(DatasetChange.id)).all()
        assert actions == ["created", "updated"]


def test_forms_require_the_csrf_token(client: TestClient, territory: Territory,
                                      db: Database) -> None:
    login(client, "admin@troyes.fr")
    data = _form("", territory)
    del data["csrf_token"]
    r = client.post("/admin/inventaire/nouveau", data=data)
    assert r.status_code == 403 and "formulaire a expiré" in r.text
    r = client.post("/admin/inventaire/nouveau", data=_form("faux", territory))
    assert r.status_code == 403
    r = client.post("/admin/compte/jetons", data={"name": "script"})
    assert r.status_code == 403
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 3


def test_bad_input_shows_french_messages_and_keeps_values(client: TestClient,
                                                          territory: Territory) -> None:
    login(client, "admin@troyes.fr")
    token = csrf_of(client.get("/admin/inventaire/nouveau").text)
    r = client.post("/admin/inventaire/nouveau", data=_form(
        token, territory, title="", cost_per_year="beaucoup", temporal_start="2024-06-01",
        temporal_end="2023-01-01", contact_email="pas-une-adresse", access_level="secret",
        description="Texte **gardé**"))
    assert r.status_code == 422
    html = r.text
    assert "Le formulaire contient 5 erreurs" in html
    for message in ("Le titre est obligatoire.",
                    "Indiquez un montant en euros, par exemple 1 200,50.",
                    "La fin de la couverture temporelle précède son début.",
                    "Adresse électronique invalide",
                    "Valeur inconnue : choisissez parmi « Ouvert », « Restreint », "
                    "« Interne »."):
        assert message in html, message
    # The message sits next to its field, which points to it.
    assert re.search(r'id="f-cost_per_year-error">Indiquez un montant.*?</p>\s*<input '
                     r'id="f-cost_per_year" name="cost_per_year" type="text" value="beaucoup"'
                     r' aria-describedby="f-cost_per_year-hint f-cost_per_year-error"'
                     r' aria-invalid="true"', html, re.S)
    assert "Texte **gardé**</textarea>" in html
    assert 'value="verts@troyes.fr"' not in html and 'value="pas-une-adresse"' in html
    assert 'value="Espace public"' in html
    negative = client.post("/admin/inventaire/nouveau",
                           data=_form(token, territory, cost_per_year="-5"))
    assert "Le coût ne peut pas être négatif." in negative.text


def test_list_searches_filters_sorts_and_pages(client: TestClient, territory: Territory,
                                               db: Database) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Troyes")
        for i in range(55):
            f.dataset(s, ville, f"Relevé de voirie {i:02d}", theme="Voirie",
                      access_level=AccessLevel.OPEN)
    login(client, "admin@troyes.fr")
    # Accents and case do not matter; a word's start is enough.
    page = client.get("/admin/inventaire", params={"q": "FREQUENT"}).text
    assert "1 jeu de données pour « FREQUENT »" in page and "Fréquentation des cantines" in page
    page = client.get("/admin/inventaire", params={"q": "energetique"}).text
    assert "Consommations énergétiques des bâtiments" in page
    # Facets link to filtered lists and show counts.
    page = client.get("/admin/inventaire").text
    assert "58 jeux de données" in page
    assert "page 1 sur 2" in page and 'rel="next"' in page
    link = re.search(r'href="(/admin/inventaire\?theme=Voirie)"', page)
    assert link
    filtered = client.get(link.group(1)).text
    assert "55 jeux de données" in filtered
    assert "Thématique : Voirie" in filtered  # the active filter, removable
    page2 = client.get("/admin/inventaire", params={"theme": "Voirie", "page": "2"}).text
    assert "Relevé de voirie 54" in page2 and "Relevé de voirie 00" not in page2
    personal = client.get("/admin/inventaire", params={"contains_personal_data": "true"}).text
    assert "1 jeu de données" in personal and "Consommations énergétiques" in personal
    recent = client.get("/admin/inventaire", params={"tri": "-updated"}).text
    first = re.search(r'<th scope="row"><a href="/admin/inventaire/[^"]+">([^<]+)</a>', recent)
    assert first and first.group(1) == "Relevé de voirie 54"
    combined = client.get("/admin/inventaire", params=[("source", "internal"),
                                                       ("source", "external")]).text
    assert "2 jeux de données" in combined
    assert client.get("/admin/inventaire", params={"access_level": "secret"}).status_code == 422


def test_agent_sees_only_what_they_may_read(client: TestClient, territory: Territory,
                                            db: Database) -> None:
    with db.unit_of_work() as s:
        metro = f.organisation(s, "Troyes Champagne Métropole")
        f.dataset(s, metro, "Badges riverains", access_level=AccessLevel.RESTRICTED)
    login(client, "agent@troyes.fr")
    page = client.get("/admin/inventaire").text
    assert "Badges riverains" not in page and "3 jeux de données" in page
    assert client.get("/admin/inventaire/badges-riverains").status_code == 404
    stats = client.get("/admin/inventaire/statistiques").text
    assert "Badges" not in stats


def test_statistics_reproduce_the_audit_tables(client: TestClient, territory: Territory) -> None:
    login(client, "admin@troyes.fr")
    html = client.get("/admin/inventaire/statistiques").text
    for title in ("Collectivité", "Direction", "Thématique", "Source des données",
                  "Partage des données", "Confidentialité des données"):
        assert "<h2 id=" in html and f">{title}</h2>" in html, title
    source = html.split('id="table-source"')[1].split("<tfoot>")[0]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>'
                      r'<td class="num">([^<]+)</td>', source)
    assert sorted(rows) == sorted([("Interne", "1", "33,3 %"), ("Externe", "1", "33,3 %"),
                                   ("Interne/Externe", "1", "33,3 %")])
    assert "Total général</th><td class=\"num\">3</td>" in html.split('id="table-source"')[1]
    org = html.split('id="table-organisation"')[1].split("</table>")[0]
    assert '<th scope="row">Ville de Troyes</th><td class="num">2</td><td class="num">66,7 %' in org
    scoped = client.get("/admin/inventaire/statistiques",
                        params={"organisation": "Ville de Troyes"}).text
    assert "2 jeux de données de « Ville de Troyes »" in scoped
    assert "Troyes Champagne Métropole</th>" not in scoped.split('id="table-organisation"')[1]
    # The chart is drawn on the server, with a text alternative.
    assert html.count("<svg") == 6 and 'role="img"' in html and "<desc" in html
    assert "<script" not in html


def test_account_page_creates_a_token_shown_once_and_revokes_it(client: TestClient,
                                                                 territory: Territory) -> None:
    login(client, "referent@troyes.fr")
    page = client.get("/admin/compte").text
    assert "Référent données" in page and "Systèmes d&#39;information" in page
    r = client.post("/admin/compte/jetons", data={"csrf_token": csrf_of(page), "name": ""})
    assert r.status_code == 422 and "Donnez un nom au jeton" in r.text
    r = client.post("/admin/compte/jetons", data={"csrf_token": csrf_of(page),
                                                   "name": "Script de publication"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    secret = re.search(r'id="nouveau-jeton"[^>]*value="(pat_[^"]+)"', r.text)
    assert secret
    again = client.get("/admin/compte").text
    assert secret.group(1) not in again and "Script de publication" in again
    api = TestClient(client.app)
    auth = {"Authorization": f"Bearer {secret.group(1)}"}
    assert api.get("/api/v1/me", headers=auth).json()["email"] == "referent@troyes.fr"
    token_id = re.search(r'/admin/compte/jetons/(\d+)/revoquer', again)
    assert token_id
    r = client.post(f"/admin/compte/jetons/{token_id.group(1)}/revoquer",
                    data={"csrf_token": csrf_of(again)})
    assert "Le jeton a été révoqué" in r.text and "Révoqué le" in r.text
    assert api.get("/api/v1/me", headers=auth).status_code == 401


def test_dashboard_counts_and_recent_changes(client: TestClient, territory: Territory) -> None:
    login(client, "admin@troyes.fr")
    html = client.get("/admin").text
    assert '<span class="card-figure">3</span> <span class="card-label">jeux de données' in html
    assert "contiennent des données personnelles" in html
    assert "Fréquentation des cantines" in html.split('id="dernieres-modifications"')[1]


# Import from the back-office: upload, preview, confirm.


def _upload(client: TestClient, data: bytes, filename: str, token: str) -> object:
    return client.post("/admin/inventaire/import", data={"csrf_token": token},
                       files={"fichier": (filename, data, "application/octet-stream")})


def test_import_previews_then_confirms_then_changes_nothing_the_second_time(
        client: TestClient, territory: Territory, db: Database, settings: object) -> None:
    from tests.support.spreadsheets import audit_bytes

    login(client, "admin@troyes.fr")
    form = client.get("/admin/inventaire/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    token = csrf_of(form.text)
    data = audit_bytes("xlsx", title_row=True)
    r = _upload(client, data, "audit.xlsx", token)
    assert r.status_code == 200, r.text[:2000]
    assert "<strong>653</strong> jeux de données à créer" in r.text
    assert "Troyes Champagne Métropole" in r.text and "Confirmer l'import" in r.text
    uploads = settings.data_dir / "uploads"  # type: ignore[attr-defined]
    assert len(list(uploads.glob("import-*.xlsx"))) == 1
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 3  # nothing written yet
    jeton = re.search(r'name="jeton" value="([^"]+)"', r.text)
    assert jeton
    # Another upload's token cannot be confirmed.
    r2 = client.post("/admin/inventaire/import/confirmer",
                     data={"csrf_token": token, "jeton": "x" * 32})
    assert "plus disponible" in r2.text
    # New organisations are created only once the preview's checkbox says so.
    r = client.post("/admin/inventaire/import/confirmer",
                    data={"csrf_token": token, "jeton": jeton.group(1)})
    assert r.status_code == 422 and "Cochez la case" in r.text
    r = client.post("/admin/inventaire/import/confirmer",
                    data={"csrf_token": token, "jeton": jeton.group(1), "creer": "1"},
                    follow_redirects=False)
    assert r.status_code == 303 and "/admin/inventaire/import/suivi/" in r.headers["location"]
    listing = finish_import(client, r.headers["location"]).text
    assert "653 créés, 0 modifié, 0 inchangé" in listing
    assert list(uploads.glob("import-*")) == []
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 656
    stats = client.get("/admin/inventaire/statistiques").text
    source = stats.split('id="table-source"')[1].split("</table>")[0]
    assert '<th scope="row">Interne</th><td class="num">451</td>' in source
    # Confirming twice does nothing more.
    again = client.post("/admin/inventaire/import/confirmer",
                        data={"csrf_token": token, "jeton": jeton.group(1)})
    assert "plus disponible" in again.text
    r = _upload(client, data, "audit.xlsx", token)
    assert "<strong>653</strong> inchangés" in r.text and "Rien à importer" in r.text
    assert "Confirmer l'import" not in r.text


def test_import_reports_errors_per_line_and_column_and_writes_nothing(
        client: TestClient, territory: Territory, db: Database) -> None:
    login(client, "admin@troyes.fr")
    token = csrf_of(client.get("/admin/inventaire/import").text)
    csv_text = ("Collectivité;Direction;Nom du tableau de suivi;Partage des données;Coût\n"
                "Ville de Troyes;Sports;Piscines;Oui;100\n"
                "Ville de Troyes;Sports;Gymnases;Peut-être;beaucoup\n")
    r = _upload(client, csv_text.encode("cp1252"), "audit.csv", token)
    assert r.status_code == 422
    errors = r.text.split('id="erreurs"')[1].split("</table>")[0]
    assert '<td class="num">3</td><td>Partage des données</td><td>Peut-être</td>' in errors
    assert '<td class="num">3</td><td>Coût</td><td>beaucoup</td>' in errors
    assert "rien ne sera importé" in r.text and "Confirmer" not in r.text
    r = client.post("/admin/inventaire/import/confirmer", data={"csrf_token": token, "jeton": ""},
                    follow_redirects=False)
    assert r.status_code == 303
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 3
    bad = _upload(client, b"%PDF-1.4", "audit.pdf", token)
    assert bad.status_code == 422 and "XLSX, ODS ou CSV" in bad.text
    empty = _upload(client, b"", "vide.csv", token)
    assert empty.status_code == 422 and "est vide" in empty.text


def test_import_needs_the_right_and_the_csrf_token(client: TestClient,
                                                   territory: Territory) -> None:
    login(client, "agent@troyes.fr")
    assert client.get("/admin/inventaire/import").status_code == 403
    assert "Importer</a>" not in client.get("/admin").text
    client.cookies.clear()
    login(client, "admin@troyes.fr")
    r = client.post("/admin/inventaire/import",
                    files={"fichier": ("a.csv", b"Collectivit\xe9;Nom\nA;B\n", "text/csv")})
    assert r.status_code == 403
