"""The one place that decides who may read or change what.

Rules, in words:
- an instance administrator may do everything;
- anyone, anonymous included, reads open datasets;
- members of an organisation (partners excepted) read its internal datasets;
- restricted datasets are read by the organisation's administrators, chief data officers and
  DPOs, and by the referents and agents of the dataset's department;
- administrators and chief data officers change every dataset of their organisation,
  referents those of their department (or of the whole organisation when they name none);
- administrators and chief data officers publish datasets of their organisation as open data;
  referents prepare them (upload, preview, ask for publication).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Forbidden, Unauthenticated
from patrimoine.inventory.models import AccessLevel, Dataset

MANAGERS = (Role.ADMINISTRATOR, Role.CHIEF_DATA_OFFICER)
STAFF = (Role.ADMINISTRATOR, Role.CHIEF_DATA_OFFICER, Role.DPO, Role.DATA_REFERENT, Role.AGENT)


def can_read_dataset(p: Principal, dataset: Dataset) -> bool:
    if p.is_superadmin or dataset.access_level == AccessLevel.OPEN:
        return True
    org = dataset.organisation_id
    if dataset.access_level == AccessLevel.INTERNAL:
        return p.has_role(org, *STAFF)
    if p.has_role(org, *MANAGERS, Role.DPO):
        return True
    return p.has_role(org, Role.DATA_REFERENT, Role.AGENT) and (
        dataset.department_id in p.departments.get(org, frozenset())
    )


def readable_datasets(p: Principal) -> ColumnElement[bool]:
    """The SQL form of can_read_dataset, for lists, search and statistics."""
    if p.is_superadmin:
        return true()
    clauses: list[ColumnElement[bool]] = [Dataset.access_level == AccessLevel.OPEN]
    staff_orgs = [o for o in p.roles if p.has_role(o, *STAFF)]
    if staff_orgs:
        clauses.append(
            and_(Dataset.access_level == AccessLevel.INTERNAL, Dataset.organisation_id.in_(staff_orgs))
        )
    wide = [o for o in p.roles if p.has_role(o, *MANAGERS, Role.DPO)]
    if wide:
        clauses.append(Dataset.organisation_id.in_(wide))
    for org, departments in p.departments.items():
        if p.has_role(org, Role.DATA_REFERENT, Role.AGENT) and departments:
            clauses.append(
                and_(Dataset.organisation_id == org, Dataset.department_id.in_(departments))
            )
    return or_(*clauses) if clauses else false()


def can_edit_in(p: Principal, organisation_id: int, department_id: int | None) -> bool:
    if p.is_superadmin or p.has_role(organisation_id, *MANAGERS):
        return True
    if not p.has_role(organisation_id, Role.DATA_REFERENT):
        return False
    departments = p.departments.get(organisation_id, frozenset())
    return not departments or department_id in departments


def can_edit_dataset(p: Principal, dataset: Dataset) -> bool:
    return can_edit_in(p, dataset.organisation_id, dataset.department_id)


def can_publish_in(p: Principal, organisation_id: int) -> bool:
    """Publishing as open data (and unpublishing) is the chief data officer's or an
    administrator's decision; a department referent prepares the data and asks for it."""
    return p.is_superadmin or p.has_role(organisation_id, *MANAGERS)


def can_publish(p: Principal, dataset: Dataset) -> bool:
    return can_publish_in(p, dataset.organisation_id)


def can_manage_organisation(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, Role.ADMINISTRATOR)


def can_create_organisations(p: Principal) -> bool:
    return p.is_superadmin


def can_import_inventory(p: Principal) -> bool:
    return p.is_superadmin or any(p.has_role(o, *MANAGERS, Role.DATA_REFERENT) for o in p.roles)


# GDPR register (protection): each organisation's register is its own. A DPO holding the
# role in several organisations (a mutualised DPO) works on each of their registers. Staff
# read their organisation's register (it tells them what is done with personal data);
# administrators, chief data officers and DPOs keep it. Data subjects' requests and breaches
# hold personal and security details: only those three roles see and handle them.
REGISTER_KEEPERS = (Role.ADMINISTRATOR, Role.CHIEF_DATA_OFFICER, Role.DPO)


def can_read_register(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *STAFF)


def can_edit_register(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *REGISTER_KEEPERS)


def can_handle_protection_cases(p: Principal, organisation_id: int) -> bool:
    """Rights requests and breaches: read and write."""
    return p.is_superadmin or p.has_role(organisation_id, *REGISTER_KEEPERS)


def register_organisations(p: Principal, *, cases: bool = False) -> list[int] | None:
    """Organisations whose register (or, with cases, requests and breaches) p may read;
    None means all of them."""
    if p.is_superadmin:
        return None
    roles = REGISTER_KEEPERS if cases else STAFF
    return sorted(o for o in p.roles if p.has_role(o, *roles))


# Personal-data findings of dataset versions: those who change the dataset, and its
# organisation's DPO, see them, confirm them and anonymise; only the DPO (or an instance
# administrator) dismisses one as not personal data or accepts its publication.
def can_decide_findings(p: Principal, dataset: Dataset) -> bool:
    return p.is_superadmin or p.has_role(dataset.organisation_id, Role.DPO)


def can_view_findings(p: Principal, dataset: Dataset) -> bool:
    return can_decide_findings(p, dataset) or can_edit_dataset(p, dataset)


def can_anonymise(p: Principal, dataset: Dataset) -> bool:
    return can_view_findings(p, dataset)


def require(allowed: bool, p: Principal, what: str) -> None:
    """Raise the right error when `allowed` is false: log in first, or not permitted."""
    if allowed:
        return
    if p.is_anonymous:
        raise Unauthenticated(f"Connectez-vous pour {what}.")
    raise Forbidden(f"Votre compte n'a pas le droit de {what}.")
