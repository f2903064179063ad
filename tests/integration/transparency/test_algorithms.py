"""The public algorithms register through its service: who describes and who publishes,
completeness of a published entry, links to the inventory and the GDPR register, audit."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.transparency import service
from patrimoine.transparency.models import AlgorithmStatus
from tests import factories as f

SYSTEM = Principal.system("tests")


def test_referent_describes_manager_publishes_and_everything_is_audited(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        data_set = f.dataset(s, org, "Quotients familiaux")
        referent = Principal.of(f.account(s, "ref@example.fr",
                                          roles=[(org, Role.DATA_REFERENT, None)]))
        chief = Principal.of(f.account(s, "agd@example.fr",
                                       roles=[(org, Role.CHIEF_DATA_OFFICER, None)]))
        draft = f.full_algorithm(org.id, status="draft", dataset_ids=[data_set.id])
        algorithm = service.create_algorithm(s, referent, draft)
        assert algorithm.reference == "ALG-001"
        assert [d.title for d in algorithm.datasets] == ["Quotients familiaux"]
        assert service.algorithm_input(algorithm) == draft.model_copy(
            update={"reference": "ALG-001"})

        published = draft.model_copy(update={"status": AlgorithmStatus.PUBLISHED})
        with pytest.raises(Forbidden):
            service.update_algorithm(s, referent, algorithm, published)
        assert service.published_algorithms(s) == []
        assert service.update_algorithm(s, chief, algorithm, published) == ["status"]
        assert [a.id for a in service.published_algorithms(s)] == [algorithm.id]
        # Once published, the referent no longer changes what the public reads.
        with pytest.raises(Forbidden):
            service.update_algorithm(s, referent, algorithm, published.model_copy(
                update={"name": "Autre nom"}))
        with pytest.raises(Invalid, match="seul un algorithme en préparation"):
            service.delete_algorithm(s, chief, algorithm)
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.startswith("transparency."))))
        assert actions == ["transparency.algorithm.created", "transparency.algorithm.updated"]


def test_a_published_entry_is_complete(db: Database) -> None:
    with pytest.raises(ValidationError) as error:
        f.full_algorithm(1, parameters=[], appeal="", published_on=None)
    message = str(error.value)
    assert "les paramètres et leur pondération" in message
    assert "les voies de recours" in message and "la date de publication" in message
    # A draft may be incomplete.
    f.full_algorithm(1, status="draft", parameters=[], appeal="", published_on=None)
    with pytest.raises(ValidationError, match="n'est pas une adresse web"):
        f.full_algorithm(1, source_code_url="javascript:alert(1)")
    with pytest.raises(ValidationError, match="ne peut précéder la publication"):
        f.full_algorithm(1, review_on="2025-01-01")


def test_links_stay_within_the_organisation_and_others_see_nothing(db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        other = f.organisation(s, "Commune voisine")
        foreign = f.dataset(s, other, "Leur jeu")
        with pytest.raises(Invalid, match="n'appartiennent pas à l'inventaire"):
            service.create_algorithm(s, SYSTEM, f.full_algorithm(org.id,
                                                                 dataset_ids=[foreign.id]))
        algorithm = service.create_algorithm(s, SYSTEM, f.full_algorithm(org.id, status="draft"))
        outsider = Principal.of(f.account(s, "agent@voisine.fr",
                                          roles=[(other, Role.AGENT, None)]))
        with pytest.raises(NotFound):
            service.get_algorithm(s, outsider, algorithm.id)
        assert service.list_algorithms(s, outsider) == []
        with pytest.raises(Forbidden):
            service.create_algorithm(s, outsider, f.full_algorithm(org.id, status="draft"))
        with pytest.raises(NotFound):
            service.published_algorithm(s, algorithm.id)  # a draft is not public
