"""The one place that decides who may read or change what.

Rules, in words:
- an instance administrator may do everything;
- anyone, anonymous included, reads the public datasets: open *and* published (`is_public`),
  which only someone allowed to publish makes them (inventory.service checks it on every
  change of access level or stage); nothing else makes a dataset public;
- members of an organisation (partners excepted) read its internal datasets, and its open
  datasets that are not published (yet, or any more);
- restricted datasets are read by the organisation's administrators, chief data officers and
  DPOs, and by the referents and agents of the dataset's department; beyond them, by the
  holders of an active grant (grants/): an account, every member of an organisation, or a
  partner account, between the grant's `valid_from` and `valid_until` (the grant may limit
  the rows and hide columns, which the datastore applies: see grants.service.read_scope);
- grants are given and revoked by the administrators and chief data officers of the
  dataset's organisation (the owners of the decision to share); its DPO sees them (to check
  purposes and durations) but does not grant: the DPO advises and controls, and would
  otherwise control their own decisions;
- the audit log is read by instance administrators (every entry), and by the administrators
  and DPOs of an organisation (the entries about their organisations only; the log is one
  chain for the whole instance, checked whole, but they are told nothing of others' entries);
- administrators and chief data officers change every dataset of their organisation,
  referents those of their department (or of the whole organisation when they name none);
- accounts are managed by instance administrators, and by an organisation's administrators
  for the accounts holding roles there only (see can_manage_account);
- administrators and chief data officers publish datasets of their organisation as open data;
  referents prepare them (upload, preview, ask for publication).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, object_session

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Forbidden, Unauthenticated
from patrimoine.grants.models import DatasetGrant, GranteeKind
from patrimoine.inventory.models import AccessLevel, Dataset, Department, LifecycleStage

MANAGERS = (Role.ADMINISTRATOR, Role.CHIEF_DATA_OFFICER)
STAFF = (Role.ADMINISTRATOR, Role.CHIEF_DATA_OFFICER, Role.DPO, Role.DATA_REFERENT, Role.AGENT)


def grant_clause(p: Principal, at: datetime | None = None) -> ColumnElement[bool]:
    """Grants that apply to `p` at `at` (now): active, not revoked, naming p's account or
    one of p's organisations."""
    if p.account_id is None:
        return false()
    at = at or now()
    grantee = [and_(DatasetGrant.grantee_kind.in_((GranteeKind.ACCOUNT, GranteeKind.PARTNER)),
                    DatasetGrant.account_id == p.account_id)]
    if p.roles:
        grantee.append(and_(DatasetGrant.grantee_kind == GranteeKind.ORGANISATION,
                            DatasetGrant.organisation_id.in_(sorted(p.roles))))
    return and_(DatasetGrant.revoked_at.is_(None), DatasetGrant.valid_from <= at,
                DatasetGrant.valid_until > at, or_(*grantee))


def is_public(dataset: Dataset) -> bool:
    """Whether anyone, anonymous included, reads the dataset: open and published."""
    return is_public_state(dataset.access_level, dataset.lifecycle_stage)


def is_public_state(access_level: AccessLevel, stage: LifecycleStage) -> bool:
    """is_public() of values about to be written (an entry being created or edited)."""
    return access_level == AccessLevel.OPEN and stage == LifecycleStage.PUBLISHED


def public_datasets() -> ColumnElement[bool]:
    """The SQL form of is_public."""
    return and_(Dataset.access_level == AccessLevel.OPEN,
                Dataset.lifecycle_stage == LifecycleStage.PUBLISHED)


def reads_by_role(p: Principal, dataset: Dataset) -> bool:
    """Whether p reads the dataset through a role (every row, every column), no grant needed."""
    if p.is_superadmin or is_public(dataset):
        return True
    org = dataset.organisation_id
    if dataset.access_level in (AccessLevel.INTERNAL, AccessLevel.OPEN):
        return p.has_role(org, *STAFF)
    if p.has_role(org, *MANAGERS, Role.DPO):
        return True
    return p.has_role(org, Role.DATA_REFERENT, Role.AGENT) and (
        dataset.department_id in p.departments.get(org, frozenset())
    )


def can_read_dataset(p: Principal, dataset: Dataset) -> bool:
    if reads_by_role(p, dataset):
        return True
    if dataset.access_level != AccessLevel.RESTRICTED or p.account_id is None:
        return False
    session = object_session(dataset)
    if session is None:
        return False
    return bool(session.scalar(select(exists().where(
        DatasetGrant.dataset_id == dataset.id, grant_clause(p)))))


def can_grant(p: Principal, dataset: Dataset) -> bool:
    """Give or revoke grants on the dataset."""
    return p.is_superadmin or p.has_role(dataset.organisation_id, *MANAGERS)


def can_view_grants(p: Principal, dataset: Dataset) -> bool:
    return can_grant(p, dataset) or p.has_role(dataset.organisation_id, Role.DPO)


def can_read_audit(p: Principal) -> bool:
    return p.is_superadmin or any(p.has_role(o, Role.ADMINISTRATOR, Role.DPO) for o in p.roles)


def audit_organisations(p: Principal) -> list[int] | None:
    """The organisations whose audit entries p reads; None means every entry."""
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, Role.ADMINISTRATOR, Role.DPO))


def organisation_of_target(session: Session, target: str) -> int | None:
    """The organisation an audit entry's target (`dataset:uid-or-slug`, `organisation:id`,
    `department:id`) belongs to: it scopes who reads the entry (audit_organisations)."""
    kind, _, key = target.partition(":")
    if kind == "dataset":
        return session.scalar(select(Dataset.organisation_id)
                              .where(or_(Dataset.uid == key, Dataset.slug == key)).limit(1))
    if kind in ("organisation", "department") and key.isdigit():
        return int(key) if kind == "organisation" else session.scalar(
            select(Department.organisation_id).where(Department.id == int(key)))
    return None


def readable_datasets(p: Principal) -> ColumnElement[bool]:
    """The SQL form of can_read_dataset, for lists, search and statistics."""
    if p.is_superadmin:
        return true()
    clauses: list[ColumnElement[bool]] = [public_datasets()]
    staff_orgs = [o for o in p.roles if p.has_role(o, *STAFF)]
    if staff_orgs:
        # Internal datasets, and open ones not published: their organisation's staff.
        clauses.append(
            and_(Dataset.access_level.in_((AccessLevel.INTERNAL, AccessLevel.OPEN)),
                 Dataset.organisation_id.in_(staff_orgs))
        )
    wide = [o for o in p.roles if p.has_role(o, *MANAGERS, Role.DPO)]
    if wide:
        clauses.append(Dataset.organisation_id.in_(wide))
    for org, departments in p.departments.items():
        if p.has_role(org, Role.DATA_REFERENT, Role.AGENT) and departments:
            clauses.append(
                and_(Dataset.organisation_id == org, Dataset.department_id.in_(departments))
            )
    if p.account_id is not None:
        clauses.append(and_(
            Dataset.access_level == AccessLevel.RESTRICTED,
            Dataset.id.in_(select(DatasetGrant.dataset_id).where(grant_clause(p))),
        ))
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


def editable_datasets(p: Principal) -> ColumnElement[bool]:
    """The SQL form of can_edit_dataset."""
    if p.is_superadmin:
        return true()
    clauses: list[ColumnElement[bool]] = []
    managed = [o for o in p.roles if p.has_role(o, *MANAGERS)]
    if managed:
        clauses.append(Dataset.organisation_id.in_(managed))
    for org in p.roles:
        if org in managed or not p.has_role(org, Role.DATA_REFERENT):
            continue
        departments = p.departments.get(org, frozenset())
        clauses.append(and_(Dataset.organisation_id == org, Dataset.department_id.in_(
            sorted(departments))) if departments else Dataset.organisation_id == org)
    return or_(*clauses) if clauses else false()


def is_staff(p: Principal) -> bool:
    """Whether p works in an organisation (a partner or a visitor does not): staff see who
    did what and the internal events of the back-office."""
    return p.is_superadmin or any(p.has_role(o, *STAFF) for o in p.roles)


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


# Accounts: an instance administrator manages every account; an organisation's
# administrators invite people into it, give and remove its roles, and deactivate the
# accounts that hold roles there only (an account also holding a role elsewhere, or an
# instance administrator, is beyond them). Organisations' details (name, kind, parent,
# SIREN, departments) are changed by their administrators; creating one is the instance's.

def can_manage_accounts_in(p: Principal, organisation_id: int) -> bool:
    return can_manage_organisation(p, organisation_id)


def account_admin_organisations(p: Principal) -> list[int] | None:
    """The organisations whose accounts p manages; None means all of them."""
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, Role.ADMINISTRATOR))


def can_administer_accounts(p: Principal) -> bool:
    return p.is_superadmin or bool(account_admin_organisations(p))


def can_manage_account(p: Principal, target: Principal) -> bool:
    """Change the account `target` (its roles, whether it is active, a reset link)."""
    if p.is_superadmin:
        return True
    if target.is_superadmin or not target.roles:
        return False
    return all(can_manage_accounts_in(p, o) for o in target.roles)


def can_move_organisation(p: Principal) -> bool:
    """Attach an organisation to another parent: it changes the instance's structure."""
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


def public_clause(principal: Principal) -> ColumnElement[bool]:
    """The SQL condition of a dataset shown on the portal, DCAT and CKAN to `principal`:
    published, not restricted, and readable by the principal."""
    return and_(
        Dataset.lifecycle_stage == LifecycleStage.PUBLISHED,
        Dataset.access_level != AccessLevel.RESTRICTED,
        readable_datasets(principal),
    )


# Retention: the plan, slips and sobriety figures of an organisation are seen by its register
# keepers; applying the plan, producing a slip and recording the archives' visa are
# decisions of its administrators and chief data officers.

def can_view_retention(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *REGISTER_KEEPERS)


def can_manage_retention(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *MANAGERS)


def can_hold_data(p: Principal, organisation_id: int) -> bool:
    """Placing or releasing a legal hold: the register keepers, the DPO included (who
    answers CADA requests and litigation alongside the legal service)."""
    return p.is_superadmin or p.has_role(organisation_id, *REGISTER_KEEPERS)


def retention_viewable_organisations(p: Principal) -> list[int] | None:
    """None means every organisation."""
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, *REGISTER_KEEPERS))


def retention_managed_organisations(p: Principal) -> list[int] | None:
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, Role.ADMINISTRATOR,
                                                   Role.CHIEF_DATA_OFFICER))


def require_view_retention(p: Principal, organisation_id: int) -> None:
    require(can_view_retention(p, organisation_id), p, "consulter la conservation des données")


def require_manage_retention(p: Principal, organisation_id: int) -> None:
    require(can_manage_retention(p, organisation_id), p, "décider de la conservation des données")


# Public algorithms: the organisation's staff read the register in the back office (anyone
# reads the published entries); administrators, chief data officers, DPOs and data referents
# describe the algorithms (the referents know the business rules, the DPO the risks); only
# administrators and chief data officers publish or withdraw one (the authority's commitment,
# as for open datasets). Requests for the rules of a decision hold the requester's name: the
# register keepers handle them, like the GDPR rights requests.
ALGORITHM_EDITORS = (Role.ADMINISTRATOR, Role.CHIEF_DATA_OFFICER, Role.DPO, Role.DATA_REFERENT)


def can_edit_algorithms(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *ALGORITHM_EDITORS)


def can_publish_algorithms(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *MANAGERS)


def algorithm_organisations(p: Principal, *, requests: bool = False) -> list[int] | None:
    """Organisations whose algorithms (or, with requests, requests for their rules) p sees in
    the back office; None means all of them."""
    if p.is_superadmin:
        return None
    roles = REGISTER_KEEPERS if requests else STAFF
    return sorted(o for o in p.roles if p.has_role(o, *roles))


def can_handle_algorithm_requests(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *REGISTER_KEEPERS)


# Data of general interest: the dialogue with private holders and concession holders is led by
# an organisation's administrators and chief data officers; its staff read it.
def can_manage_general_interest(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *MANAGERS)
# Sovereignty (applications, hosting strategy, contracts and their clauses): an
# organisation's staff read its application map and contracts (the DPO among them, to check
# processors and transfers); its administrators (the IT department's accounts hold this
# role) and chief data officers keep them. The DPO advises on placements but does not
# decide them, as with grants.

def can_read_document(p: Principal, organisation_id: int, public: bool) -> bool:
    """A stored document: anyone while the entry holding it is public, else the staff of
    its organisation."""
    return public or p.is_superadmin or p.has_role(organisation_id, *STAFF)


def can_read_sovereignty(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *STAFF)


def can_edit_sovereignty(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *MANAGERS)


def sovereignty_organisations(p: Principal) -> list[int] | None:
    """Organisations whose applications and contracts p may read; None means all."""
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, *STAFF))


def can_import_applications(p: Principal) -> bool:
    return p.is_superadmin or any(p.has_role(o, *MANAGERS) for o in p.roles)


# The charter: the organisation's staff read its evaluation, deviations and action plan;
# administrators and chief data officers run it and record actions; a deviation is approved
# by a holder of one of the roles the charter names as approvers (charter.config). Writing
# the charter itself (engagements, rules, parameters) is the instance administrators' work.
def can_read_charter(p: Principal, organisation_id: int | None = None) -> bool:
    if p.is_superadmin:
        return True
    if organisation_id is None:
        return any(p.has_role(o, *STAFF) for o in p.roles)
    return p.has_role(organisation_id, *STAFF)


def charter_organisations(p: Principal) -> list[int] | None:
    """Organisations whose charter results p may read; None means all."""
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, *STAFF))


def can_manage_charter(p: Principal, organisation_id: int | None = None) -> bool:
    if p.is_superadmin:
        return True
    if organisation_id is None:
        return any(p.has_role(o, *MANAGERS) for o in p.roles)
    return p.has_role(organisation_id, *MANAGERS)


def can_approve_deviation(p: Principal, organisation_id: int | None, role: Role) -> bool:
    """Whether p holds the approving `role` (in the organisation; anywhere for the whole
    instance, as an instance administrator does)."""
    if p.is_superadmin:
        return True
    if organisation_id is None:
        return False
    return p.has_role(organisation_id, role)


def can_write_charter(p: Principal) -> bool:
    return p.is_superadmin


def visible_charter_items(session: Session, p: Principal,
                          items: list[tuple[str, int | None]]) -> set[str]:
    """The charter's judged items ("dataset:42", "breach:3"… with their organisation) that p
    may see named: a dataset p may read, a register entry of a register p reads, a rights
    request or breach p handles, an application, contract or partner of a map p reads, an
    algorithm of a register p sees, an organisation whose charter p reads."""
    if p.is_superadmin:
        return {item for item, _ in items}
    checks = {
        "activity": can_read_register, "request": can_handle_protection_cases,
        "breach": can_handle_protection_cases, "application": can_read_sovereignty,
        "contract": can_read_sovereignty, "partner": can_read_sovereignty,
        "algorithm": can_read_register, "organisation": can_read_charter,
    }
    shown = set()
    datasets: dict[int, str] = {}
    for item, org in items:
        kind, _, key = item.partition(":")
        if kind == "dataset" and key.isdigit():
            datasets[int(key)] = item
        elif kind in checks and org is not None and checks[kind](p, org):
            shown.add(item)
    ids = list(datasets)
    for start in range(0, len(ids), 5000):
        shown.update(datasets[i] for i in session.scalars(select(Dataset.id).where(
            Dataset.id.in_(ids[start:start + 5000]), readable_datasets(p))))
    return shown
