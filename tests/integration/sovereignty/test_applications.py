"""The applications register: placement checks, links, permissions, history, the hosting
strategy and the placements that break it."""

from __future__ import annotations

import pytest

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.protection.register.service import ActivityInput, create_activity
from patrimoine.sovereignty import applications as apps
from patrimoine.sovereignty import strategy
from patrimoine.sovereignty.applications import ApplicationInput
from patrimoine.sovereignty.models import DataLocation, HostingMode
from tests import factories as f


def _app(org_id: int, **fields: object) -> ApplicationInput:
    base: dict[str, object] = {"organisation_id": org_id, "name": "Gestion des crèches",
                               "hosting_mode": "own", "location": "france"}
    return ApplicationInput.model_validate({**base, **fields})


def test_create_link_update_history_and_permissions(services: Services, system: Principal
                                                    ) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        other = f.organisation(s, "Ville Voisine")
        dataset = f.dataset(s, org, "Places en crèche")
        activity = create_activity(s, system, ActivityInput(
            organisation_id=org.id, name="Inscriptions en crèche"))
        ids = (org.id,
               f.account(s, "cdo@ville.example", roles=[(org, Role.CHIEF_DATA_OFFICER, None)]).id,
               f.account(s, "dpo@ville.example", roles=[(org, Role.DPO, None)]).id,
               f.account(s, "x@voisine.example", roles=[(other, Role.ADMINISTRATOR, None)]).id,
               dataset.slug, activity.reference)
    org_id, cdo_id, dpo_id, stranger_id, slug, ref = ids
    cdo, dpo = f.principal(services, cdo_id), f.principal(services, dpo_id)
    stranger = f.principal(services, stranger_id)

    with services.db.unit_of_work() as s:
        app = apps.create_application(s, cdo, _app(
            org_id, hosting_mode="saas", host="Éditeur SA", location="eu",
            certifications=["iso27001"], sensitivity="personnel", datasets=[slug],
            activities=[ref]))
        assert app.reference == "APP-0001"
        app_id = app.id
        with pytest.raises(Forbidden):
            apps.create_application(s, dpo, _app(org_id))

    with services.db.unit_of_work() as s:
        app = apps.get_application(s, dpo, app_id)  # the DPO reads
        assert [d.slug for d in app.datasets] == [slug]
        assert [a.reference for a in app.activities] == [ref]
        with pytest.raises(NotFound):
            apps.get_application(s, stranger, app_id)
        assert apps.list_applications(s, stranger) == []
        changes = apps.update_application(s, cdo, app, apps.input_of(app).model_copy(
            update={"location": DataLocation.FRANCE, "datasets": []}))
        assert changes == {"location": ["eu", "france"], "datasets": [[slug], []]}
        assert apps.update_application(s, cdo, app, apps.input_of(app)) == {}
        assert [h.action for h in apps.history(s, cdo, app)] == ["updated", "created"]
        with pytest.raises(Invalid, match="Jeux de données inconnus"):
            apps.update_application(s, cdo, app, apps.input_of(app).model_copy(
                update={"datasets": ["nulle-part"]}))
        with pytest.raises(Invalid, match="Niveau de sensibilité « secret » inconnu"):
            apps.create_application(s, cdo, _app(org_id, sensitivity="secret"))


def test_placement_errors_are_french_and_per_field(services: Services, system: Principal
                                                   ) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        with pytest.raises(Invalid) as caught:
            apps.create_application(s, system, _app(
                org.id, hosting_mode="saas", location="third_country"))
        assert caught.value.errors == [
            "Indiquez l'hébergeur ou l'éditeur qui héberge l'application.",
            "Indiquez le pays tiers où se trouvent les données.",
            "Un transfert hors UE sans décision d'adéquation demande un outil : clauses "
            "contractuelles types, règles d'entreprise contraignantes ou dérogation de "
            "l'article 49."]
        with pytest.raises(Invalid) as caught:
            apps.create_application(s, system, _app(
                org.id, hosting_mode="saas", host="X", location="adequacy", country="Chine"))
        assert "ne fait pas l'objet d'une décision d'adéquation" in caught.value.errors[0]
        apps.create_application(s, system, _app(
            org.id, hosting_mode="saas", host="X", location="adequacy", country="Canada"))


def test_strategy_breaches(services: Services, system: Principal) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        fine = apps.create_application(s, system, _app(org.id, name="Paie",
                                                       sensitivity="sensible"))
        cloud = apps.create_application(s, system, _app(
            org.id, name="Dossier social", hosting_mode="saas", host="Nuage Inc.",
            location="adequacy", country="Canada", non_eu_law_exposure=True,
            sensitivity="sensible"))
        apps.create_application(s, system, _app(
            org.id, name="Portail", hosting_mode="saas", host="Nuage Inc.",
            location="adequacy", country="Canada", sensitivity="public"))
        found = strategy.breaches(s, system)
        assert [b.application.id for b in found] == [cloud.id]
        assert found[0].reasons == [
            "mode d'hébergement « SaaS » non admis pour le niveau « Données sensibles (santé, "
            "social, sécurité) »",
            "localisation « Pays adéquat » non admise pour le niveau « Données sensibles "
            "(santé, social, sécurité) »",
            "certification exigée absente : SecNumCloud",
            "prestataire soumis à une loi extra-européenne, pour des données à garder dans "
            "l'Union européenne"]
        # The organisation relaxes its strategy: the breach goes.
        strategy.set_level(s, system, org.id, strategy.LevelInput(
            code="sensible", label="Sensible", allowed_modes=list(HostingMode),
            allowed_locations=list(DataLocation)))
        assert strategy.breaches(s, system) == []
        assert fine.id not in [b.application.id for b in found]
