"""Administration in a real browser against a real server and a real SMTP server: an
administrator invites a referent, the e-mail arrives, its link sets the password, the
referent logs in; the chief data officer imports an audit sheet naming unknown
organisations and gets one grouped message, and asks an administrator. axe-core finds no
serious or critical violation on the new pages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from patrimoine.access.models import Account, Role
from patrimoine.core.db import Database
from tests import factories as f
from tests.e2e.conftest import login, nav
from tests.e2e.test_portal import _serious, axe_script  # noqa: F401 (a fixture)
from tests.support import server
from tests.support.postgres import free_port
from tests.support.smtp import Inbox, smtp_server
from tests.support.spreadsheets import write_audit

pytestmark = pytest.mark.e2e

ROOT = "admin@troyes.fr"
CDO = "agd@troyes.fr"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "administration"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_invite_a_referent_by_email_and_import_with_unknown_organisations(
        db: Database, cli_env: dict[str, str], page: Any, tmp_path: Path,
        axe_script: Path) -> None:  # noqa: F811
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Troyes")
        f.department(s, ville, "Sports")
        f.account(s, ROOT, superadmin=True)
        f.account(s, CDO, roles=[(ville, Role.CHIEF_DATA_OFFICER, None)])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    page.add_init_script(path=str(axe_script))
    violations: dict[str, Any] = {}

    def check(name: str) -> None:
        found = _serious(page)
        if found:
            violations[name] = found
        _shot(page, name)

    with smtp_server() as inbox:
        env = {**cli_env, "PATRIMOINE_PUBLIC_URL": base, "PATRIMOINE_SMTP_HOST": "127.0.0.1",
               "PATRIMOINE_SMTP_PORT": str(inbox.port), "PATRIMOINE_SMTP_TLS": "none",
               "PATRIMOINE_SMTP_SENDER": "Patrimoine <donnees@troyes.test>"}
        running = server.start(env, tmp_path / "serve.log", port)
        try:
            # The administrator invites a referent of the Sports department.
            login(page, base, ROOT, f.PASSWORD)
            nav(page, "Administration").click()
            check("comptes")
            page.get_by_role("link", name="Inviter une personne").click()
            check("inviter")
            page.get_by_label("Nom complet").fill("Rémi Référent")
            page.get_by_label("Adresse électronique").fill("remi@troyes.fr")
            page.get_by_label("Organisation").select_option(label="Ville de Troyes")
            page.get_by_label("Rôle").select_option(label="Référent données")
            page.get_by_label("Direction").select_option(label="Sports")
            page.get_by_role("button", name="Inviter").click()
            assert "Invitation envoyée à remi@troyes.fr" in \
                page.get_by_role("status").first.inner_text()
            check("compte-invite")
            page.get_by_role("link", name="Comptes", exact=True).click()
            page.get_by_role("link", name="Organisations", exact=True).click()
            check("organisations")
            page.get_by_role("link", name="Ville de Troyes").click()
            check("organisation")
            page.goto(f"{base}/admin/compte")
            check("mon-compte")
            page.get_by_role("button", name="Se déconnecter").click()

            # The e-mail arrived at the SMTP server; its link sets the password.
            [message] = inbox.to("remi@troyes.fr")
            link = Inbox.link(message)
            assert link.startswith(f"{base}/compte/lien/")
            page.goto(link)
            check("lien")
            page.get_by_label("Mot de passe", exact=True).fill("piscines-et-stades")
            page.get_by_label("Mot de passe, une seconde fois").fill("piscines-et-stades")
            page.get_by_role("button", name="Enregistrer le mot de passe").click()
            page.wait_for_url(f"{base}/connexion")
            assert "Mot de passe enregistré" in page.get_by_role("status").first.inner_text()
            login(page, base, "remi@troyes.fr", "piscines-et-stades")
            assert "Bienvenue, Rémi Référent" in page.get_by_role("status").first.inner_text()
            page.get_by_role("button", name="Se déconnecter").click()
            page.goto(link)  # used once
            assert "plus valable" in page.locator("main").inner_text()
            page.goto(f"{base}/mot-de-passe-oublie")
            check("mot-de-passe-oublie")

            # The chief data officer imports the audit: one grouped message.
            login(page, base, CDO, f.PASSWORD)
            sheet = write_audit(tmp_path / "audit-troyes.xlsx", title_row=True)
            page.get_by_role("link", name="Importer", exact=True).click()
            page.get_by_label("Fichier à importer").set_input_files(str(sheet))
            page.get_by_role("button", name="Prévisualiser l'import").click()
            errors = page.locator("table.import-errors tbody tr")
            assert errors.count() == 1
            assert "3 collectivités inconnues" in errors.inner_text()
            check("import-inconnues")
            page.get_by_role("button", name="Envoyer la demande aux administrateurs").click()
            assert "Votre demande est enregistrée" in \
                page.get_by_role("status").first.inner_text()
            [request] = inbox.to(ROOT)
            assert "Troyes Champagne Métropole" in request.get_body(("plain",)).get_content()
        finally:
            server.stop(running)
    with db.session() as s:
        remi = s.scalar(select(Account).where(Account.email == "remi@troyes.fr"))
        assert remi is not None and remi.last_login_at is not None
    assert violations == {}, json.dumps(violations, ensure_ascii=False, indent=1)


def test_an_administrator_import_creates_organisations_after_confirmation_with_progress(
        db: Database, serve: Any, page: Any, tmp_path: Path,
        axe_script: Path) -> None:  # noqa: F811
    with db.unit_of_work() as s:
        f.organisation(s, "Ville de Troyes")
        f.account(s, ROOT, superadmin=True)
    base = serve()
    page.add_init_script(path=str(axe_script))
    login(page, base, ROOT, f.PASSWORD)
    sheet = write_audit(tmp_path / "audit-troyes.xlsx", title_row=True)
    page.goto(f"{base}/admin/inventaire/import")
    page.get_by_label("Fichier à importer").set_input_files(str(sheet))
    page.get_by_role("button", name="Prévisualiser l'import").click()
    assert page.get_by_label("Nom du tableau de suivi").input_value() == "title"
    assert _serious(page) == []
    _shot(page, "import-apercu")
    page.get_by_role("button", name="Confirmer l'import").click()
    # The browser refuses the form while the checkbox is left unticked.
    assert "/import" in page.url and page.get_by_label("Créer 3 organisations").is_visible()
    page.get_by_label("Créer 3 organisations").check()
    page.get_by_role("button", name="Confirmer l'import").click()
    page.wait_for_url(re.compile(r".*/admin/inventaire\?tri=-updated$"), timeout=120_000)
    assert "653 créés" in page.get_by_role("status").first.inner_text()
