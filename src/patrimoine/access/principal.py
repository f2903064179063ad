"""Who is acting: an account with its roles, or an anonymous visitor."""

from __future__ import annotations

from dataclasses import dataclass, field

from patrimoine.access.models import Account, Role


@dataclass(frozen=True)
class Principal:
    account_id: int | None
    label: str
    is_superadmin: bool = False
    # organisation id -> roles held there
    roles: dict[int, frozenset[Role]] = field(default_factory=dict)
    # organisation id -> departments where the account is referent or agent
    departments: dict[int, frozenset[int]] = field(default_factory=dict)

    @property
    def is_anonymous(self) -> bool:
        return self.account_id is None

    def roles_in(self, organisation_id: int) -> frozenset[Role]:
        return self.roles.get(organisation_id, frozenset())

    def has_role(self, organisation_id: int, *roles: Role) -> bool:
        return bool(self.roles_in(organisation_id) & set(roles))

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(account_id=None, label="visiteur anonyme")

    @classmethod
    def system(cls, label: str) -> Principal:
        """The application itself acting (demo loader, command line run by the operator)."""
        return cls(account_id=None, label=label, is_superadmin=True)

    @classmethod
    def of(cls, account: Account) -> Principal:
        roles: dict[int, set[Role]] = {}
        departments: dict[int, set[int]] = {}
        for m in account.memberships:
            roles.setdefault(m.organisation_id, set()).add(m.role)
            if m.department_id is not None:
                departments.setdefault(m.organisation_id, set()).add(m.department_id)
        return cls(
            account_id=account.id,
            label=f"{account.full_name} <{account.email}>",
            is_superadmin=account.is_superadmin,
            roles={k: frozenset(v) for k, v in roles.items()},
            departments={k: frozenset(v) for k, v in departments.items()},
        )
