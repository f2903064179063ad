"""The annual report's pages: a chief data officer writes the draft, previews it and publishes
it; the portal shows the published edition only, as it was published, and its PDF, whose text
holds the figures; the command line writes the PDF and the HTML folder."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from patrimoine.access.models import Role
from patrimoine.bootstrap import Services
from patrimoine.report import service
from tests import factories as f
from tests.conftest import Cli
from tests.factories import login

YEAR = date.today().year
CDO = "cdo@ville.fr"


def _world(services: Services) -> tuple[int, str]:
    with services.db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Rapport")
        f.account(s, CDO, roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        f.account(s, "agent@ville.fr", roles=[(org, Role.AGENT, None)])
        for i in range(3):
            f.dataset(s, org, f"Jeu ouvert {i}", access_level="open",
                      lifecycle_stage="published", licence="etalab-2.0")
        f.dataset(s, org, "Jeu interne", access_level="internal")
        return org.id, org.slug


def _pdf_text(data: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_write_preview_publish_and_read_on_the_portal(client: TestClient,
                                                      services: Services) -> None:
    org_id, slug = _world(services)
    token = login(client, CDO)
    listing = client.get("/admin/rapports")
    assert listing.status_code == 200 and "Ville de Rapport" in listing.text
    r = client.post("/admin/rapports", data={"csrf_token": token, "organisation": slug,
                                             "year": str(YEAR)}, follow_redirects=False)
    assert r.status_code == 303
    edit = r.headers["location"]
    report_id = int(edit.rsplit("/", 1)[1])
    empty_title = client.post(edit, data={"csrf_token": token, "title": " "})
    assert empty_title.status_code == 422 and "Le titre du rapport est obligatoire" in \
        empty_title.text
    saved = client.post(edit, data={
        "csrf_token": token, "title": "Bilan de la charte", "preface": "Notre **engagement**.",
        "highlights": "- Trois jeux ouverts", "chapter_ouverture": "Le portail grandit."},
        follow_redirects=True)
    assert "Le texte du rapport est enregistré." in saved.text
    preview = client.get(f"{edit}/apercu")
    assert preview.status_code == 200
    assert "<strong>engagement</strong>" in preview.text and "Brouillon" in preview.text
    # A draft is not on the portal.
    assert client.get(f"/rapports/{YEAR}/{report_id}").status_code == 404
    assert "Aucun rapport annuel" in client.get("/rapports").text

    done = client.post(f"{edit}/publier", data={"csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200
    assert "ses chiffres ne changeront plus" in done.text
    page = done.text
    assert "Bilan de la charte" in page and "Ville de Rapport" in page
    assert re.search(r"Jeux de données ouverts</h3>\s*<p class=\"valeur\"><strong>3</strong>",
                     page)
    assert 'role="img"' in page and "<table" in page and 'id="annexe"' in page
    assert f'href="/rapports/{YEAR}/{report_id}"' in client.get("/rapports").text
    assert client.get(f"/rapports/{YEAR}").status_code == 200
    assert client.get(f"/rapports/{YEAR - 1}/{report_id}").status_code == 404
    # Publishing again is refused with a French message; the draft page is read-only.
    again = client.post(f"{edit}/publier", data={"csrf_token": token})
    assert again.status_code == 409 and "déjà publiée" in again.text

    # New data: the portal's page stays as published.
    with services.db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Rapport")
        f.dataset(s, org, "Jeu ouvert tardif", access_level="open",
                  lifecycle_stage="published", licence="etalab-2.0")
    later = client.get(f"/rapports/{YEAR}/{report_id}").text
    assert re.search(r"Jeux de données ouverts</h3>\s*<p class=\"valeur\"><strong>3</strong>",
                     later)

    pdf = client.get(f"/rapports/{YEAR}/{report_id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    words = _pdf_text(pdf.content)
    assert "Bilan de la charte" in words and "Sommaire" in words
    assert re.search(r"Jeux de données ouverts\s+3 jeux de données", words)
    assert "Annexe : comment les chiffres sont calculés" in words
    assert re.search(r"Page \d+ sur \d+", words)
    with services.db.session() as s:
        assert service.get_report(s, report_id).organisation_id == org_id


def test_agents_may_not_write_the_report(client: TestClient, services: Services) -> None:
    _world(services)
    token = login(client, "agent@ville.fr")
    assert client.get("/admin/rapports").status_code == 403
    r = client.post("/admin/rapports", data={"csrf_token": token, "organisation": "",
                                             "year": str(YEAR)})
    assert r.status_code == 403
    cdo = login(client, CDO)
    r = client.post("/admin/rapports", data={"csrf_token": cdo, "organisation": "",
                                             "year": str(YEAR)})
    assert r.status_code == 403  # the whole instance's report is the instance's
    r = client.post("/admin/rapports", data={"csrf_token": cdo, "organisation": "x",
                                             "year": "deux mille"})
    assert r.status_code == 422 and "année doit être un nombre" in r.text


@pytest.mark.demo
def test_the_command_writes_the_pdf_and_the_html(cli: Cli, services: Services,
                                                 tmp_path: Path) -> None:
    pdf, folder = tmp_path / "rapport.pdf", tmp_path / "site"
    done = cli("report", "annual", "--year", str(YEAR), "--pdf", str(pdf), "--html", str(folder))
    assert done.returncode == 0, done.stderr
    assert "Rapport PDF écrit" in done.stdout
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "un an d&#39;actions" in page  # the demo's draft narrative
    with services.db.session() as s:
        applications = s.scalar(text("SELECT count(*) FROM application WHERE status NOT IN "
                                     "('planned', 'retired')"))
    words = _pdf_text(pdf.read_bytes())
    assert re.search(rf"Applications par lieu d'hébergement\s+{applications} applications",
                     words)
    # No published edition 1 yet; a year to come; an unknown organisation: French errors.
    for args, message in ((("--edition", "1"), "Aucune édition 1 publiée"),
                          (("--year", str(YEAR + 1)), "L'année doit être comprise"),
                          (("--organisation", "inconnue"), "Organisation « inconnue »")):
        base = {"--year": str(YEAR)}
        base.update(dict(zip(args[::2], args[1::2], strict=True)))
        failed = cli("report", "annual", *[x for kv in base.items() for x in kv],
                     "--pdf", str(tmp_path / "x.pdf"))
        assert failed.returncode != 0 and message in failed.stderr, failed.stderr
        assert "Traceback" not in failed.stderr
