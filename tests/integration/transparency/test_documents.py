"""The four documents of an algorithm as files kept by Patrimoine: the format is read from the
bytes (a renamed page is refused), the file stays with the organisation's staff until the
algorithm is published, then anyone reads it at the address the register exports."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from httpx2 import Response

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.documents.models import Document
from patrimoine.transparency import service
from patrimoine.web.pages.admin_transparency import values_of
from tests import factories as f

SYSTEM = Principal.system("tests")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _with(algorithm: service.PublicAlgorithm, **changes: object) -> service.AlgorithmInput:
    return service.AlgorithmInput.model_validate(
        {**service.algorithm_input(algorithm).model_dump(), **changes})


def _draft(services: Services) -> int:
    with services.db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        f.account(s, "agd@metropole.example", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        f.account(s, "dpo@ailleurs.example",
                  roles=[(f.organisation(s, "Ailleurs"), Role.DPO, None)])
        return service.create_algorithm(s, SYSTEM, f.full_algorithm(
            org.id, status="draft", published_on=None, documents={})).id


def test_a_kept_document_follows_the_publication(client: TestClient,
                                                 services: Services) -> None:
    algorithm_id = _draft(services)
    csrf = f.login(client, "agd@metropole.example")
    base = f"/admin/algorithmes/{algorithm_id}/documents"

    def send(kind: str, name: str, data: bytes) -> Response:
        return client.post(f"{base}/{kind}", data={"csrf_token": csrf},
                           files={"fichier": (name, data)}, follow_redirects=False)

    r = send("technical", "note.pdf", b"<html><script>alert(1)</script></html>")
    assert r.status_code == 422
    assert "« note.pdf » n&#39;est pas un fichier PDF valide" in r.text
    r = send("diagram", "logigramme.svg", b"<svg onload='alert(1)'/>")
    assert "n&#39;est pas d&#39;un format accepté" in r.text
    r = send("source", "calcul.py", "# commentaire\nprint('é')\n".encode("latin-1"))
    assert "n&#39;est pas un texte en UTF-8" in r.text
    assert services.db.session().query(Document).count() == 0

    assert send("technical", "Note technique.pdf", PDF).status_code == 303
    assert send("source", "calcul.py", b"# Le bareme\nprint(42)\n").status_code == 303
    with services.db.session() as s:
        algorithm = s.get(service.PublicAlgorithm, algorithm_id)
        assert algorithm is not None
        technical = dict(algorithm.documents["technical"])
    assert technical["title"] == "Note technique.pdf"
    url = technical["url"]
    assert url.startswith(f"/documents/{technical['document']}/Note%20technique.pdf")
    page = client.get(f"/admin/algorithmes/{algorithm_id}").text
    assert f'href="{url}"' in page

    # Staff read it; the public and other organisations do not, while it is a draft.
    r = client.get(url)
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("inline; filename*=UTF-8''Note")
    assert "sandbox" in r.headers["content-security-policy"]
    f.login(client, "dpo@ailleurs.example")
    assert client.get(url).status_code == 404
    client.cookies.clear()
    assert client.get(url).status_code == 404

    # Published: anyone reads it, at the address the exports give.
    with services.db.unit_of_work() as s:
        algorithm = s.get(service.PublicAlgorithm, algorithm_id)
        assert algorithm is not None
        service.update_algorithm(s, SYSTEM, algorithm, _with(
            algorithm, status="published", published_on=algorithm.created_at.date()))
    assert client.get(url).content == PDF
    row = next(csv.DictReader(io.StringIO(client.get("/algorithmes.csv").text)))
    assert row["document_technical"] == f"http://testserver{url}"
    assert client.get(row["document_source"].removeprefix("http://testserver")).headers[
        "content-type"] == "text/plain; charset=utf-8"
    assert f'href="{url}"' in client.get(f"/algorithmes/{algorithm_id}").text

    # Withdrawn: closed again.
    with services.db.unit_of_work() as s:
        algorithm = s.get(service.PublicAlgorithm, algorithm_id)
        assert algorithm is not None
        service.update_algorithm(s, SYSTEM, algorithm, _with(algorithm, status="withdrawn"))
    assert client.get(url).status_code == 404


def test_saving_the_form_keeps_the_kept_documents(client: TestClient,
                                                  services: Services) -> None:
    algorithm_id = _draft(services)
    csrf = f.login(client, "agd@metropole.example")
    client.post(f"/admin/algorithmes/{algorithm_id}/documents/description",
                data={"csrf_token": csrf}, files={"fichier": ("Description.pdf", PDF)})
    with services.db.session() as s:
        algorithm = s.get(service.PublicAlgorithm, algorithm_id)
        assert algorithm is not None
        kept = dict(algorithm.documents)
        form = {k: v for k, v in values_of(algorithm).items() if not isinstance(v, list)}
    r = client.post(f"/admin/algorithmes/{algorithm_id}", data={
        **form, "csrf_token": csrf, "organisation": "metropole-de-test"},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    with services.db.session() as s:
        algorithm = s.get(service.PublicAlgorithm, algorithm_id)
        assert algorithm is not None and algorithm.documents == kept
