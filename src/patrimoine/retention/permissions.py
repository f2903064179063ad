"""Who may see and act on retention (in the spirit of access/permissions.py).

- the retention plan, slips and sobriety figures of an organisation are seen by its
  administrators, chief data officers and DPO (the register keepers);
- setting a dataset's rule is changing the dataset (can_edit_dataset);
- applying the plan, producing a slip and recording the archives director's visa are
  decisions of the organisation's administrators and chief data officers.
"""

from __future__ import annotations

from patrimoine.access.models import Role
from patrimoine.access.permissions import MANAGERS, REGISTER_KEEPERS, require
from patrimoine.access.principal import Principal


def can_view(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *REGISTER_KEEPERS)


def can_manage(p: Principal, organisation_id: int) -> bool:
    return p.is_superadmin or p.has_role(organisation_id, *MANAGERS)


def viewable_organisations(p: Principal) -> list[int] | None:
    """None means every organisation."""
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, *REGISTER_KEEPERS))


def managed_organisations(p: Principal) -> list[int] | None:
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, Role.ADMINISTRATOR,
                                                   Role.CHIEF_DATA_OFFICER))


def require_view(p: Principal, organisation_id: int) -> None:
    require(can_view(p, organisation_id), p, "consulter la conservation des données")


def require_manage(p: Principal, organisation_id: int) -> None:
    require(can_manage(p, organisation_id), p, "décider de la conservation des données")
