"""The hosting strategy: for each level of data sensitivity an organisation defines, the
hosting modes and data locations it allows (and the certifications an external host must
hold); `breaches` lists the applications placed against it, with the reasons in French.

An organisation starts with `DEFAULT_LEVELS` the first time its strategy is needed; its
administrators then change them (`set_level`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import (
    can_edit_sovereignty,
    can_read_sovereignty,
    require,
    sovereignty_organisations,
)
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.vocabulary import label
from patrimoine.sovereignty.models import (
    Application,
    ApplicationStatus,
    Certification,
    DataLocation,
    HostingMode,
    SensitivityLevel,
)

_ALL_MODES = [m.value for m in HostingMode]
_EU = [DataLocation.FRANCE.value, DataLocation.EU.value]


@dataclass(frozen=True)
class LevelDefault:
    code: str
    label: str
    modes: list[str]
    locations: list[str]
    certifications: list[str]


DEFAULT_LEVELS = (
    LevelDefault("public", "Données publiques ou publiables", _ALL_MODES,
                 [loc.value for loc in DataLocation], []),
    LevelDefault("interne", "Données internes", _ALL_MODES,
                 [*_EU, DataLocation.ADEQUACY.value], []),
    LevelDefault("personnel", "Données personnelles", _ALL_MODES, _EU, []),
    LevelDefault("sensible", "Données sensibles (santé, social, sécurité)",
                 [HostingMode.OWN.value, HostingMode.PUBLIC_BODY.value,
                  HostingMode.PRIVATE_HOST.value], [DataLocation.FRANCE.value],
                 [Certification.SECNUMCLOUD.value]),
)


class LevelInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    label: str = Field(min_length=1, max_length=200)
    rank: int = Field(default=0, ge=0, le=1000)
    allowed_modes: list[HostingMode] = Field(min_length=1)
    allowed_locations: list[DataLocation] = Field(min_length=1)
    required_certifications: list[Certification] = Field(default_factory=list)


def levels(session: Session, organisation_id: int) -> list[SensitivityLevel]:
    """The organisation's levels, least sensitive first; the defaults when it has none."""
    found = list(session.scalars(select(SensitivityLevel).where(
        SensitivityLevel.organisation_id == organisation_id).order_by(
        SensitivityLevel.rank, SensitivityLevel.id)))
    if found:
        return found
    for rank, d in enumerate(DEFAULT_LEVELS):
        level = SensitivityLevel(organisation_id=organisation_id, code=d.code, label=d.label,
                                 rank=rank, allowed_modes=list(d.modes),
                                 allowed_locations=list(d.locations),
                                 required_certifications=list(d.certifications))
        session.add(level)
        found.append(level)
    session.flush()
    return found


def set_level(session: Session, principal: Principal, organisation_id: int,
              data: LevelInput) -> SensitivityLevel:
    """Create or change the level `data.code` of the organisation."""
    require(can_edit_sovereignty(principal, organisation_id), principal,
            "modifier la stratégie d'hébergement de cette organisation")
    existing = {lv.code: lv for lv in levels(session, organisation_id)}
    level = existing.get(data.code)
    if level is None:
        level = SensitivityLevel(organisation_id=organisation_id, code=data.code)
        session.add(level)
    level.label, level.rank = data.label, data.rank
    level.allowed_modes = [m.value for m in dict.fromkeys(data.allowed_modes)]
    level.allowed_locations = [loc.value for loc in dict.fromkeys(data.allowed_locations)]
    level.required_certifications = [c.value for c in dict.fromkeys(
        data.required_certifications)]
    session.flush()
    audit.record(session, principal, "sovereignty.level.set", f"sensitivity_level:{level.id}",
                 {"code": level.code, "modes": level.allowed_modes,
                  "locations": level.allowed_locations}, organisation_id=organisation_id)
    return level


class Placement(Protocol):
    """What `reasons` reads of an application (a row or `queries.ApplicationFacts`)."""

    @property
    def hosting_mode(self) -> HostingMode: ...
    @property
    def location(self) -> DataLocation: ...
    @property
    def certifications(self) -> Sequence[str]: ...
    @property
    def non_eu_law_exposure(self) -> bool: ...


class Allowed(Protocol):
    """What `reasons` reads of a level (a row or `queries.LevelFacts`)."""

    @property
    def label(self) -> str: ...
    @property
    def allowed_modes(self) -> Sequence[str]: ...
    @property
    def allowed_locations(self) -> Sequence[str]: ...
    @property
    def required_certifications(self) -> Sequence[str]: ...


def reasons(application: Placement, level: Allowed) -> list[str]:
    """Why the application's placement breaks what `level` allows (French); [] if it does not."""
    found = []
    if application.hosting_mode.value not in level.allowed_modes:
        found.append(f"mode d'hébergement « {label(application.hosting_mode)} » non admis "
                     f"pour le niveau « {level.label} »")
    if application.location.value not in level.allowed_locations:
        found.append(f"localisation « {label(application.location)} » non admise pour le "
                     f"niveau « {level.label} »")
    if application.hosting_mode != HostingMode.OWN:
        missing = [c for c in level.required_certifications
                   if c not in application.certifications]
        if missing:
            names = ", ".join(label(Certification(c)) for c in missing)
            found.append(f"certification exigée absente : {names}")
    eu_only = set(level.allowed_locations) <= set(_EU)
    if eu_only and application.non_eu_law_exposure:
        found.append("prestataire soumis à une loi extra-européenne, pour des données à "
                     "garder dans l'Union européenne")
    return found


@dataclass(frozen=True)
class Breach:
    application: Application
    level: SensitivityLevel
    reasons: list[str]


def breaches(session: Session, principal: Principal,
             organisation_ids: Iterable[int] | None = None) -> list[Breach]:
    """Applications not retired whose placement breaks their organisation's strategy."""
    readable = sovereignty_organisations(principal)
    query = select(Application).where(Application.status != ApplicationStatus.RETIRED,
                                      Application.sensitivity.is_not(None))
    if organisation_ids is not None:
        wanted = list(organisation_ids)
        for org in wanted:
            require(can_read_sovereignty(principal, org), principal,
                    "consulter la cartographie applicative de cette organisation")
        query = query.where(Application.organisation_id.in_(wanted))
    elif readable is not None:
        query = query.where(Application.organisation_id.in_(readable))
    found: list[Breach] = []
    by_org: dict[int, dict[str, SensitivityLevel]] = {}
    for app in session.scalars(query.order_by(Application.organisation_id,
                                              Application.reference)):
        if app.organisation_id not in by_org:
            by_org[app.organisation_id] = {lv.code: lv for lv in levels(
                session, app.organisation_id)}
        level = by_org[app.organisation_id].get(app.sensitivity or "")
        if level is None:
            continue
        why = reasons(app, level)
        if why:
            found.append(Breach(app, level, why))
    return found


def level_codes(session: Session, organisation_id: int) -> dict[str, SensitivityLevel]:
    return {lv.code: lv for lv in levels(session, organisation_id)}


def check_level(session: Session, organisation_id: int, code: str | None) -> None:
    if code is None:
        return
    known = level_codes(session, organisation_id)
    if code not in known:
        raise Invalid(f"Niveau de sensibilité « {code} » inconnu ; niveaux définis : "
                      + ", ".join(f"« {c} »" for c in known) + ".")
