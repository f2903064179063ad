"""The charter as the authority writes it: its engagements (code, title, text), the rules
serving each with their parameters, per organisation where needed; who approves deviations;
whether the register of deviations is public.

Stored in the database (`charter_*` tables) and read as one frozen `Charter`; written and
read back as YAML or TOML (`parse`, `dump`), so an authority keeps its charter in a file
beside its other texts. A rule's parameters are checked against the rule's declared ones; an
organisation is named by its slug in files. With no engagement stored, the charter is the
built-in library, one engagement per area (`builtin`).

File shape (YAML; TOML has the same keys):

    title: Charte de la donnée
    approver_roles: [chief_data_officer, dpo]
    publish_deviations: true
    engagements:
      - code: proteger
        title: Protéger les données personnelles
        text: …
        rules:
          - id: protection.requests_on_time
            parameters: {period_days: 365}
            organisations:
              ccas-de-ligerac: {parameters: {period_days: 730}}
              ville-de-ligerac: {enabled: false}
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import ROLE_LABELS, Role
from patrimoine.access.permissions import can_write_charter, require
from patrimoine.access.principal import Principal
from patrimoine.charter import rules as _library  # noqa: F401  (registers the rules)
from patrimoine.charter.models import CharterEngagement, CharterRuleSetting, CharterSettings
from patrimoine.charter.rules.base import ENGAGEMENT_AREAS, RULES
from patrimoine.core.errors import Invalid
from patrimoine.inventory import queries as inventory

DEFAULT_APPROVERS = (Role.CHIEF_DATA_OFFICER.value, Role.DPO.value)
FORMATS = ("yaml", "toml")


@dataclass(frozen=True)
class OrganisationSetting:
    parameters: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True)
class RuleUse:
    rule_id: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    organisations: Mapping[int, OrganisationSetting] = field(default_factory=dict)

    def parameters_for(self, organisation_id: int | None) -> dict[str, Any]:
        own = self.organisations.get(organisation_id) if organisation_id is not None else None
        return {**self.parameters, **(own.parameters if own else {})}

    def enabled_for(self, organisation_id: int | None) -> bool:
        own = self.organisations.get(organisation_id) if organisation_id is not None else None
        return own.enabled if own else True


@dataclass(frozen=True)
class Engagement:
    code: str
    title: str
    text: str = ""
    rules: tuple[RuleUse, ...] = ()


@dataclass(frozen=True)
class Charter:
    title: str = "Charte de la donnée"
    preamble: str = ""
    approver_roles: tuple[str, ...] = DEFAULT_APPROVERS
    publish_deviations: bool = False
    engagements: tuple[Engagement, ...] = ()

    def engagement(self, code: str) -> Engagement:
        for e in self.engagements:
            if e.code == code:
                return e
        raise Invalid(f"Engagement « {code} » inconnu de la charte ; engagements : "
                      + ", ".join(e.code for e in self.engagements) + ".")

    def approver_labels(self) -> list[tuple[str, str]]:
        return [(r, ROLE_LABELS[Role(r)]) for r in self.approver_roles]


def builtin() -> Charter:
    """Every built-in rule with its defaults, one engagement per area."""
    return Charter(engagements=tuple(
        Engagement(area, title, rules=tuple(RuleUse(r.id) for r in RULES.values()
                                            if r.area == area))
        for area, title in ENGAGEMENT_AREAS.items()))


# ---------------------------------------------------------------------------------------------
# Files: YAML and TOML
# ---------------------------------------------------------------------------------------------


class _OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class _RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    organisations: dict[str, _OrganisationIn] = Field(default_factory=dict)


class _EngagementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1, max_length=300)
    text: str = ""
    rules: list[_RuleIn] = Field(default_factory=list)


class _CharterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(default="Charte de la donnée", min_length=1, max_length=300)
    preamble: str = ""
    approver_roles: list[str] = Field(default_factory=lambda: list(DEFAULT_APPROVERS))
    publish_deviations: bool = False
    engagements: list[_EngagementIn] = Field(min_length=1)

    @field_validator("approver_roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        known = {r.value for r in Role}
        wrong = [r for r in value if r not in known]
        if wrong:
            raise ValueError(f"rôle(s) inconnu(s) : {', '.join(wrong)} ; rôles : "
                             + ", ".join(sorted(known)))
        if not value:
            raise ValueError("au moins un rôle approuve les écarts")
        return value


def _french(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"])
        message = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "missing":
            message = "valeur manquante"
        elif e["type"] == "extra_forbidden":
            message = "clé inconnue"
        parts.append(f"{where} : {message}")
    return "Charte invalide : " + " ; ".join(parts) + "."


def from_data(data: Any, organisation_ids: Mapping[str, int]) -> Charter:
    """A charter from the parsed file (`organisation_ids`: slug -> id), checked."""
    if not isinstance(data, dict):
        raise Invalid("Charte invalide : le document doit être un dictionnaire de clés.")
    try:
        parsed = _CharterIn.model_validate(data)
    except ValidationError as exc:
        raise Invalid(_french(exc)) from None
    engagements = []
    seen: set[str] = set()
    for e in parsed.engagements:
        if e.code in seen:
            raise Invalid(f"Charte invalide : l'engagement « {e.code} » figure deux fois.")
        seen.add(e.code)
        uses: list[RuleUse] = []
        for r in e.rules:
            rule = RULES.get(r.id)
            if rule is None:
                raise Invalid(f"Charte invalide : règle « {r.id} » inconnue (engagement "
                              f"« {e.code} ») ; règles : {', '.join(sorted(RULES))}.")
            if any(u.rule_id == r.id for u in uses):
                raise Invalid(f"Charte invalide : la règle « {r.id} » figure deux fois dans "
                              f"l'engagement « {e.code} ».")
            try:
                rule.parameters_with(r.parameters)
                orgs = {}
                for slug, o in r.organisations.items():
                    if slug not in organisation_ids:
                        raise Invalid(f"Charte invalide : organisation « {slug} » inconnue "
                                      f"(règle « {r.id} »).")
                    rule.parameters_with(o.parameters)
                    orgs[organisation_ids[slug]] = OrganisationSetting(o.parameters, o.enabled)
            except ValueError as exc:
                raise Invalid(f"Charte invalide : {exc}") from None
            uses.append(RuleUse(r.id, r.parameters, orgs))
        engagements.append(Engagement(e.code, e.title, e.text, tuple(uses)))
    return Charter(parsed.title, parsed.preamble, tuple(parsed.approver_roles),
                   parsed.publish_deviations, tuple(engagements))


def to_data(charter: Charter, organisation_slugs: Mapping[int, str]) -> dict[str, Any]:
    def rule(u: RuleUse) -> dict[str, Any]:
        out: dict[str, Any] = {"id": u.rule_id}
        if u.parameters:
            out["parameters"] = dict(u.parameters)
        if u.organisations:
            out["organisations"] = {
                organisation_slugs[o]: ({"parameters": dict(s.parameters)} if s.parameters
                                        else {}) | ({} if s.enabled else {"enabled": False})
                for o, s in u.organisations.items()}
        return out
    return {"title": charter.title, "preamble": charter.preamble,
            "approver_roles": list(charter.approver_roles),
            "publish_deviations": charter.publish_deviations,
            "engagements": [{"code": e.code, "title": e.title, "text": e.text,
                             "rules": [rule(u) for u in e.rules]} for e in charter.engagements]}


def parse(text: str, fmt: str, organisation_ids: Mapping[str, int]) -> Charter:
    """A charter from a YAML or TOML document."""
    try:
        data = yaml.safe_load(text) if fmt == "yaml" else tomllib.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (ligne {where.line + 1})" if where is not None else ""
        raise Invalid(f"Document {fmt.upper()} illisible{line} : {exc}".split("\n")[0]) from None
    return from_data(data, organisation_ids)


def dump(charter: Charter, fmt: str, organisation_slugs: Mapping[int, str]) -> str:
    data = to_data(charter, organisation_slugs)
    if fmt == "yaml":
        return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=96))
    return _toml(data)


def format_of(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    if lowered.endswith(".toml"):
        return "toml"
    raise Invalid("Format de charte inconnu : le fichier doit finir par .yaml, .yml ou .toml.")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"valeur non représentable en TOML : {value!r}")


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() and key.isascii() \
        else _toml_value(key)


def _toml(data: Mapping[str, Any]) -> str:
    """The charter's shape in TOML: scalars, then [[engagements]] and [[engagements.rules]]
    (parameters and organisations as inline tables)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if k != "engagements"]
    for e in data["engagements"]:
        lines += ["", "[[engagements]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in e.items() if k != "rules"]
        for r in e["rules"]:
            lines += ["", "[[engagements.rules]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in r.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------------


def current(session: Session) -> Charter:
    """The charter stored (the built-in library when no engagement is)."""
    settings = session.get(CharterSettings, 1)
    engagements = list(session.scalars(select(CharterEngagement)
                                       .order_by(CharterEngagement.rank, CharterEngagement.id)))
    if not engagements:
        base = builtin()
        if settings is None:
            return base
        return Charter(settings.title, settings.preamble, tuple(settings.approver_roles),
                       settings.publish_deviations, base.engagements)
    settings_rows = list(session.scalars(select(CharterRuleSetting)
                                         .order_by(CharterRuleSetting.id)))
    out = []
    for e in engagements:
        mine = [s for s in settings_rows if s.engagement_id == e.id]
        uses = [RuleUse(s.rule_id, dict(s.parameters or {}), {
            o.organisation_id: OrganisationSetting(dict(o.parameters or {}), o.enabled)
            for o in mine if o.rule_id == s.rule_id and o.organisation_id is not None})
            for s in mine if s.organisation_id is None and s.rule_id in RULES]
        out.append(Engagement(e.code, e.title, e.text, tuple(uses)))
    if settings is None:
        return Charter(engagements=tuple(out))
    return Charter(settings.title, settings.preamble, tuple(settings.approver_roles),
                   settings.publish_deviations, tuple(out))


def save(session: Session, principal: Principal, charter: Charter) -> None:
    """Replace the stored charter by `charter` (actions keep their engagement when its code
    stays)."""
    require(can_write_charter(principal), principal, "modifier la charte")
    settings = session.get(CharterSettings, 1)
    if settings is None:
        settings = CharterSettings(id=1)
        session.add(settings)
    settings.title, settings.preamble = charter.title, charter.preamble
    settings.approver_roles = list(charter.approver_roles)
    settings.publish_deviations = charter.publish_deviations
    existing = {e.code: e for e in session.scalars(select(CharterEngagement))}
    codes = [e.code for e in charter.engagements]
    session.execute(delete(CharterRuleSetting))
    for code, row in existing.items():
        if code not in codes:
            session.delete(row)
    session.flush()
    for rank, e in enumerate(charter.engagements):
        row = existing.get(e.code) or CharterEngagement(code=e.code)
        row.title, row.text, row.rank = e.title, e.text, rank
        session.add(row)
        session.flush()
        for u in e.rules:
            session.add(CharterRuleSetting(engagement_id=row.id, rule_id=u.rule_id,
                                           parameters=dict(u.parameters)))
            for org, s in u.organisations.items():
                session.add(CharterRuleSetting(engagement_id=row.id, rule_id=u.rule_id,
                                               organisation_id=org,
                                               parameters=dict(s.parameters),
                                               enabled=s.enabled))
    session.flush()
    audit.record(session, principal, "charter.saved", "charter:1",
                 {"title": charter.title, "engagements": codes,
                  "rules": sum(len(e.rules) for e in charter.engagements)})


def organisation_maps(session: Session) -> tuple[dict[str, int], dict[int, str]]:
    """slug -> id and id -> slug of every organisation (files name organisations by slug)."""
    orgs = inventory.organisation_facts(session)
    return {o.slug: o.id for o in orgs}, {o.id: o.slug for o in orgs}


def import_text(session: Session, principal: Principal, text: str, fmt: str) -> Charter:
    ids, _ = organisation_maps(session)
    charter = parse(text, fmt, ids)
    save(session, principal, charter)
    return charter


def export_text(session: Session, fmt: str) -> str:
    _, slugs = organisation_maps(session)
    return dump(current(session), fmt, slugs)
