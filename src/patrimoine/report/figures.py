"""The annual report's figures, counted from the live registers as of the report's date.

One chapter per engagement, in the structure of Nantes' report (seed 003): protection,
sovereignty, sobriety, transparency, then openness (Nantes' "ouverture des données
publiques", here a chapter of its own). Each `Figure` carries its value for the year, the
previous years beside it where the registers hold data for them (at most two, like Nantes'
20 / 26 / 23), a breakdown when one is telling, how it was computed (a French sentence and
the query in plain words) and when: the annex lists them all, so anyone can check them.

"As of the report's date" means: entries recorded (`created_at`) up to that day, events dated
up to that day. A register keeps no history of deletions, so an entry deleted since is not
counted for a past year either; sobriety's figures (files on disk) and the quality score
describe the day they are computed.

The registers are read through their models and the capabilities' read-only modules
(`inventory.queries`, `charter.sobriety`, `charter.quality`, `access.permissions`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import public_datasets
from patrimoine.access.principal import Principal
from patrimoine.charter import quality, sobriety
from patrimoine.core.clock import now
from patrimoine.core.settings import Settings
from patrimoine.core.vocabulary import label
from patrimoine.inventory import queries as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.protection.register.models import Breach, Dpia, ProcessingActivity, RightsRequest
from patrimoine.protection.register.vocabulary import ActivityStatus
from patrimoine.sovereignty.models import (
    Application,
    ApplicationStatus,
    CharterClause,
    CharterPartner,
    ClauseStatus,
    Contract,
    ContractClause,
    DataLocation,
    HostingMode,
    PartnerKind,
)
from patrimoine.transparency.models import (
    AlgorithmStatus,
    GeneralInterestRequest,
    GeneralInterestState,
    PublicAlgorithm,
)
from patrimoine.usage.models import DatasetDailyUsage

PREVIOUS_YEARS = 2
_Query = TypeVar("_Query", bound=Select)  # a select of any columns


@dataclass(frozen=True)
class Chapter:
    key: str
    title: str  # French, as in Nantes' report
    engagement: str  # the commitment, in French


CHAPTERS = (
    Chapter("protection", "Protéger les données des habitants",
            "Renforcer la protection des données des habitants et des usagers"),
    Chapter("souverainete", "Garantir la souveraineté sur les données publiques",
            "Mettre en œuvre des garanties pour une souveraineté sur les données du service "
            "public"),
    Chapter("sobriete", "Agir avec sobriété",
            "Agir avec sobriété et dans le respect d'objectifs de développement durable"),
    Chapter("transparence", "Garantir la transparence",
            "Garantir la transparence démocratique sur l'usage des données"),
    Chapter("ouverture", "Ouvrir les données publiques",
            "Ouvrir les données publiques et en faciliter la réutilisation"),
)


@dataclass
class Figure:
    key: str
    chapter: str
    title: str  # French
    value: int | float | None
    unit: str  # French, plural ("traitements", "octets"…)
    method: str  # how it was computed, a French sentence
    query: str  # the query in plain words
    computed_at: str  # ISO datetime
    years: list[tuple[int, int | float]] = field(default_factory=list)  # oldest first
    breakdown: list[tuple[str, int | float]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["years"] = [list(y) for y in self.years]
        data["breakdown"] = [list(b) for b in self.breakdown]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        return cls(**{**data, "years": [(int(y), v) for y, v in data["years"]],
                      "breakdown": [(str(k), v) for k, v in data["breakdown"]]})


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def report_date(year: int, today: date | None = None) -> date:
    """The date a report for `year` is counted at: the year's last day once it is over,
    today while it runs."""
    today = today or now().date()
    return min(today, date(year, 12, 31))


def _end_of(day: date) -> datetime:
    """The first instant after `day` (UTC): entries recorded before it count."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


class _Counter:
    """The figures of one scope (organisations, or every one) at one date."""

    def __init__(self, session: Session, settings: Settings, year: int, as_of: date,
                 organisation_ids: list[int] | None) -> None:
        self.session = session
        self.settings = settings
        self.year = year
        self.as_of = as_of
        self.until = _end_of(as_of)
        self.organisation_ids = organisation_ids
        self.computed_at = now().isoformat(timespec="seconds")
        self.scope_words = ("de l'organisation" if organisation_ids and len(organisation_ids) == 1
                            else "de toutes les organisations")

    # Helpers -------------------------------------------------------------------------

    def scoped(self, query: _Query, column: Any) -> _Query:
        if self.organisation_ids is None:
            return query
        return query.where(column.in_(self.organisation_ids))

    def count(self, query: Select) -> int:
        return int(self.session.scalar(query) or 0)

    def years(self, first: date | datetime | None) -> list[int]:
        """The report's year and the previous ones the registers hold data for."""
        start = self.year - PREVIOUS_YEARS
        if first is None:
            return [self.year]
        first_year = first.year
        return list(range(max(start, min(first_year, self.year)), self.year + 1))

    def year_limit(self, year: int) -> date:
        """The date a past year is counted at (its last day), the report's date for its own."""
        return self.as_of if year == self.year else date(year, 12, 31)

    def figure(self, key: str, chapter: str, title: str, value: int | float | None, unit: str,
               method: str, query: str, years: Sequence[tuple[int, int | float]] = (),
               breakdown: Sequence[tuple[str, int | float]] = ()) -> Figure:
        return Figure(key=key, chapter=chapter, title=title, value=value, unit=unit,
                      method=method, query=query, computed_at=self.computed_at,
                      years=list(years), breakdown=list(breakdown))

    def organisation_names(self) -> dict[int, str]:
        return {o.id: o.name for o in inventory.organisation_facts(
            self.session, self.organisation_ids)}

    def per_organisation(self, query: Select, column: Any
                         ) -> list[tuple[str, int]]:
        names = self.organisation_names()
        rows = self.session.execute(self.scoped(query, column).group_by(column))
        counted = {oid: int(n) for oid, n in rows}
        return sorted(((names[oid], n) for oid, n in counted.items() if oid in names),
                      key=lambda r: (-r[1], r[0]))

    # Protection ----------------------------------------------------------------------

    def protection(self) -> list[Figure]:
        pa = ProcessingActivity
        recorded = and_(pa.created_at < self.until, pa.status != ActivityStatus.DRAFT)
        activities = self.count(self.scoped(select(func.count()).where(recorded),
                                            pa.organisation_id))
        years = []
        first = self.session.scalar(self.scoped(select(func.min(pa.created_at)).where(recorded),
                                                pa.organisation_id))
        for y in self.years(first):
            years.append((y, self.count(self.scoped(select(func.count()).where(
                pa.status != ActivityStatus.DRAFT,
                pa.created_at < _end_of(self.year_limit(y))), pa.organisation_id))))
        figures = [self.figure(
            "protection.traitements", "protection", "Traitements inscrits au registre",
            activities, "traitements",
            f"Traitements du registre des activités de traitement {self.scope_words} "
            "(article 30 du RGPD), hors brouillons, inscrits au plus tard à la date du rapport; "
            "les années précédentes comptent ceux inscrits au 31 décembre.",
            "Nombre de lignes de la table processing_activity dont l'état n'est pas « draft » "
            "et dont created_at précède la fin du jour du rapport, par organisation.",
            years=years,
            breakdown=self.per_organisation(
                select(pa.organisation_id, func.count()).where(recorded), pa.organisation_id))]

        rr = RightsRequest
        first_request = self.session.scalar(self.scoped(
            select(func.min(rr.received_on)).where(rr.received_on <= self.as_of),
            rr.organisation_id))
        requests = []
        for y in self.years(first_request):
            start, end = year_bounds(y)
            requests.append((y, self.count(self.scoped(select(func.count()).where(
                rr.received_on >= start, rr.received_on <= min(end, self.as_of)),
                rr.organisation_id))))
        start, end = year_bounds(self.year)
        kinds = self.session.execute(self.scoped(
            select(rr.kind, func.count()).where(rr.received_on >= start,
                                                rr.received_on <= self.as_of),
            rr.organisation_id).group_by(rr.kind))
        figures.append(self.figure(
            "protection.demandes", "protection", "Demandes d'exercice de droits reçues",
            requests[-1][1], "demandes",
            f"Demandes des personnes concernées (articles 15 à 22 du RGPD) reçues pendant "
            f"l'année {self.scope_words}, jusqu'à la date du rapport, par date de réception.",
            "Nombre de lignes de la table rights_request dont received_on est dans l'année "
            "(du 1er janvier au 31 décembre, ou à la date du rapport), par type de demande.",
            years=requests,
            breakdown=sorted(((label(k), int(n)) for k, n in kinds), key=lambda r: -r[1])))

        br = Breach
        first_breach = self.session.scalar(self.scoped(
            select(func.min(br.aware_at)).where(br.aware_at < self.until), br.organisation_id))
        breaches = []
        for y in self.years(first_breach):
            start, _ = year_bounds(y)
            breaches.append((y, self.count(self.scoped(select(func.count()).where(
                br.aware_at >= _end_of(start - timedelta(days=1)),
                br.aware_at < _end_of(self.year_limit(y))), br.organisation_id))))
        in_year = and_(br.aware_at >= _end_of(date(self.year - 1, 12, 31)),
                       br.aware_at < self.until)
        notified = self.count(self.scoped(select(func.count()).where(
            in_year, br.notified_at.is_not(None)), br.organisation_id))
        figures.append(self.figure(
            "protection.violations", "protection", "Violations de données enregistrées",
            breaches[-1][1], "violations",
            f"Violations de données personnelles {self.scope_words} dont la collectivité a eu "
            "connaissance pendant l'année (article 33 du RGPD), avec celles notifiées à la CNIL.",
            "Nombre de lignes de la table breach dont aware_at est dans l'année jusqu'à la date "
            "du rapport; parmi elles, celles dont notified_at est renseigné.",
            years=breaches,
            breakdown=[("Notifiées à la CNIL", notified),
                       ("Non notifiées", breaches[-1][1] - notified)]))

        dp = Dpia
        owner = pa.organisation_id
        first_dpia = self.session.scalar(self.scoped(
            select(func.min(dp.started_on)).join(pa, pa.id == dp.activity_id)
            .where(dp.started_on <= self.as_of), owner))
        dpia_years = [(y, self.count(self.scoped(
            select(func.count()).select_from(dp).join(pa, pa.id == dp.activity_id)
            .where(dp.started_on <= self.year_limit(y)), owner)))
            for y in self.years(first_dpia)]
        figures.append(self.figure(
            "protection.aipd", "protection", "Analyses d'impact (AIPD) menées",
            dpia_years[-1][1], "analyses",
            f"Analyses d'impact relatives à la protection des données (article 35 du RGPD) "
            f"des traitements {self.scope_words}, commencées au plus tard à la date du rapport.",
            "Nombre de lignes de la table dpia (jointe à processing_activity pour "
            "l'organisation) dont started_on précède ou égale la date du rapport.",
            years=dpia_years))
        return figures

    # Sovereignty ---------------------------------------------------------------------

    def applications_in_service(self) -> ColumnElement[bool]:
        ap = Application
        return and_(ap.created_at < self.until, ap.status != ApplicationStatus.RETIRED,
                    ap.status != ApplicationStatus.PLANNED)

    def sovereignty(self) -> list[Figure]:
        ap = Application
        alive = self.applications_in_service()
        rows = self.session.execute(self.scoped(
            select(ap.hosting_mode, ap.location, func.count()).where(alive),
            ap.organisation_id).group_by(ap.hosting_mode, ap.location)).all()
        places = {"Hébergées par la collectivité": 0, "Hébergées en France": 0,
                  "Hébergées dans l'Union européenne": 0, "Hébergées hors de l'Union européenne": 0}
        modes: dict[str, int] = {label(m): 0 for m in HostingMode}
        for mode, location, n in rows:
            modes[label(mode)] += int(n)
            if mode == HostingMode.OWN:
                places["Hébergées par la collectivité"] += int(n)
            elif location == DataLocation.FRANCE:
                places["Hébergées en France"] += int(n)
            elif location == DataLocation.EU:
                places["Hébergées dans l'Union européenne"] += int(n)
            else:
                places["Hébergées hors de l'Union européenne"] += int(n)
        total = sum(places.values())
        figures = [self.figure(
            "souverainete.applications", "souverainete", "Applications par lieu d'hébergement",
            total, "applications",
            f"Applications en service {self.scope_words} (ni prévues ni retirées) inscrites à la "
            "date du rapport, réparties comme dans le rapport de Nantes : hébergées par la "
            "collectivité, sinon selon le pays où sont leurs données.",
            "Nombre de lignes de la table application dont status n'est ni « planned » ni "
            "« retired » et dont created_at précède la fin du jour du rapport, groupées par "
            "hosting_mode (« own ») puis location (france, eu, autres).",
            breakdown=list(places.items())),
            self.figure(
            "souverainete.modes", "souverainete", "Applications par mode d'hébergement",
            total, "applications",
            "Les mêmes applications, réparties par mode d'hébergement.",
            "Les lignes de la même requête, groupées par hosting_mode.",
            breakdown=[(k, v) for k, v in modes.items() if v])]

        ct = Contract
        start, end = year_bounds(self.year)
        in_force = and_(ct.created_at < self.until,
                        or_(ct.start_date.is_(None), ct.start_date <= min(end, self.as_of)),
                        or_(ct.end_date.is_(None), ct.end_date >= start))
        contracts = self.session.execute(self.scoped(
            select(ct.id, ct.organisation_id).where(in_force), ct.organisation_id)).all()
        clause_sets: dict[int, int] = dict(self.session.execute(self.scoped(
            select(CharterClause.organisation_id, func.count()), CharterClause.organisation_id)
            .group_by(CharterClause.organisation_id)).all())
        statuses: dict[int, list[ClauseStatus]] = {}
        ids = [c.id for c in contracts]
        for chunk in range(0, len(ids), 500):
            for contract_id, status in self.session.execute(
                    select(ContractClause.contract_id, ContractClause.status)
                    .where(ContractClause.contract_id.in_(ids[chunk:chunk + 500]))):
                statuses.setdefault(contract_id, []).append(status)
        complete = missing = unknown = 0
        held = (ClauseStatus.PRESENT, ClauseStatus.NEGOTIATED, ClauseStatus.NOT_APPLICABLE)
        for contract in contracts:
            found = statuses.get(contract.id, [])
            expected = int(clause_sets.get(contract.organisation_id, 0))
            if not found:
                unknown += 1
            elif expected and len([s for s in found if s in held]) >= expected:
                complete += 1
            else:
                missing += 1
        figures.append(self.figure(
            "souverainete.clauses", "souverainete", "Contrats comportant les clauses de la charte",
            complete, "contrats",
            f"Contrats {self.scope_words} en vigueur pendant l'année dont chacune des clauses "
            "de la charte est présente, négociée ou sans objet; les autres ont une clause "
            "absente ou non vérifiée, ou n'ont pas encore été examinés.",
            "Lignes de la table contract inscrites à la date du rapport dont start_date et "
            "end_date encadrent l'année, comparées aux lignes de contract_clause (statuts "
            "present, negotiated, not_applicable) et au nombre de clauses de charter_clause de "
            "leur organisation.",
            breakdown=[("Toutes les clauses", complete), ("Une clause manque", missing),
                       ("Non examinés", unknown)]))

        cp = CharterPartner
        signed = cp.signed_on <= self.as_of
        first = self.session.scalar(self.scoped(select(func.min(cp.signed_on)).where(signed),
                                                cp.organisation_id))
        partners = [(y, self.count(self.scoped(select(func.count()).where(
            cp.signed_on <= self.year_limit(y)), cp.organisation_id)))
            for y in self.years(first)]
        kinds: dict[PartnerKind, int] = dict(self.session.execute(self.scoped(
            select(cp.kind, func.count()).where(signed), cp.organisation_id).group_by(cp.kind)
        ).all())
        figures.append(self.figure(
            "souverainete.partenaires", "souverainete", "Partenaires signataires de la charte",
            partners[-1][1], "partenaires",
            f"Entreprises, associations et organismes publics ayant signé la charte "
            f"{self.scope_words}, à la date du rapport.",
            "Nombre de lignes de la table charter_partner dont signed_on précède ou égale la "
            "date du rapport, par type de partenaire.",
            years=partners,
            breakdown=[(label(k), int(kinds[k])) for k in PartnerKind if kinds.get(k)]))
        return figures

    # Sobriety ------------------------------------------------------------------------

    def sobriety(self) -> list[Figure]:
        found = sobriety.compute(self.session, self.settings, self.organisation_ids,
                                 today=self.as_of)
        total = sum(v.total_bytes for v in found.volumes)
        duplicates = len(found.same_content)
        return [
            self.figure(
                "sobriete.volume", "sobriete", "Volume des données stockées", total, "octets",
                "Octets des fichiers Parquet des versions, des fichiers DuckDB construits à "
                "partir d'elles et des paquets d'archives, par organisation, le jour du calcul.",
                "Somme des tailles des fichiers des versions (dataset_version.size_bytes), des "
                "fichiers du cache DuckDB et des paquets d'archives sur le disque.",
                breakdown=[(v.organisation, v.total_bytes) for v in found.volumes
                           if v.total_bytes]),
            self.figure(
                "sobriete.non_lus", "sobriete", "Jeux de données non lus depuis un an",
                len(found.unread), "jeux de données",
                "Jeux de données dont les données ne sont ni consultées ni téléchargées sur le "
                "portail, ni lues par l'API, depuis plus de 365 jours à la date du rapport (ou "
                "jamais, alors qu'elles sont stockées depuis plus d'un an).",
                "Dernier jour de dataset_daily_usage avec des vues ou téléchargements et "
                "dernière lecture du journal d'audit, comparés à la date du rapport moins "
                "365 jours."),
            self.figure(
                "sobriete.doublons", "sobriete", "Fichiers stockés en double", duplicates,
                "contenus",
                "Contenus identiques (même empreinte) stockés par plusieurs jeux de données, et "
                "fiches de l'inventaire dont les titres ont les mêmes mots.",
                "Empreintes (content_hash) de dataset_version partagées par plusieurs jeux; "
                "titres de dataset comparés mot à mot.",
                breakdown=[("Contenus identiques", duplicates),
                           ("Titres semblables", len(found.similar_titles))]),
        ]

    # Transparency --------------------------------------------------------------------

    def transparency(self) -> list[Figure]:
        al = PublicAlgorithm
        published = and_(al.status == AlgorithmStatus.PUBLISHED, al.published_on.is_not(None),
                         al.published_on <= self.as_of)
        first = self.session.scalar(self.scoped(select(func.min(al.published_on))
                                                .where(published), al.organisation_id))
        algorithms = [(y, self.count(self.scoped(select(func.count()).where(
            al.status == AlgorithmStatus.PUBLISHED, al.published_on <= self.year_limit(y)),
            al.organisation_id))) for y in self.years(first)]
        gi = GeneralInterestRequest
        first_gi = self.session.scalar(self.scoped(
            select(func.min(gi.asked_on)).where(gi.asked_on <= self.as_of), gi.organisation_id))
        asked = []
        for y in self.years(first_gi):
            start, end = year_bounds(y)
            asked.append((y, self.count(self.scoped(select(func.count()).where(
                gi.asked_on >= start, gi.asked_on <= min(end, self.as_of)),
                gi.organisation_id))))
        start, _ = year_bounds(self.year)
        states: dict[GeneralInterestState, int] = dict(self.session.execute(self.scoped(
            select(gi.state, func.count()).where(gi.asked_on >= start,
                                                 gi.asked_on <= self.as_of),
            gi.organisation_id).group_by(gi.state)).all())
        return [
            self.figure(
                "transparence.algorithmes", "transparence", "Algorithmes publics publiés",
                algorithms[-1][1], "algorithmes",
                f"Algorithmes fondant des décisions individuelles {self.scope_words} publiés au "
                "registre public (article L312-1-3 du CRPA) à la date du rapport.",
                "Nombre de lignes de la table public_algorithm à l'état « published » dont "
                "published_on précède ou égale la date du rapport.",
                years=algorithms),
            self.figure(
                "transparence.interet_general", "transparence",
                "Demandes de données d'intérêt général", asked[-1][1], "demandes",
                f"Demandes de données d'intérêt général adressées par la collectivité "
                f"{self.scope_words} à des détenteurs privés ou délégataires pendant l'année, "
                "par état.",
                "Nombre de lignes de la table general_interest_request dont asked_on est dans "
                "l'année jusqu'à la date du rapport, groupées par state.",
                years=asked,
                breakdown=[(label(s), int(states[s])) for s in GeneralInterestState
                           if states.get(s)]),
        ]

    # Openness ------------------------------------------------------------------------

    def openness(self) -> list[Figure]:
        ds = Dataset
        public = and_(public_datasets(), ds.created_at < self.until)
        first = self.session.scalar(self.scoped(select(func.min(ds.created_at)).where(public),
                                                ds.organisation_id))
        opened = [(y, self.count(self.scoped(select(func.count()).where(
            public_datasets(), ds.created_at < _end_of(self.year_limit(y))),
            ds.organisation_id))) for y in self.years(first)]
        new = []
        for y in self.years(first):
            start, _ = year_bounds(y)
            new.append((y, self.count(self.scoped(select(func.count()).where(
                public_datasets(), ds.created_at >= _end_of(start - timedelta(days=1)),
                ds.created_at < _end_of(self.year_limit(y))), ds.organisation_id))))
        licences = self.session.execute(self.scoped(
            select(ds.licence, func.count()).where(public), ds.organisation_id)
            .group_by(ds.licence)).all()
        by_licence: dict[str, int] = {}
        for code, n in licences:
            name = inventory.licence_title(code) or "Sans licence"
            by_licence[name] = by_licence.get(name, 0) + int(n)
        # What an anonymous visitor reads is exactly the public datasets.
        facts = inventory.dataset_facts(self.session, principal=Principal.anonymous(),
                                        organisation_ids=self.organisation_ids)
        public_ids = set(self.session.scalars(self.scoped(select(ds.id).where(public),
                                                          ds.organisation_id)))
        catalog = quality.catalog_quality(self.session,
                                          datasets=[d for d in facts if d.id in public_ids])
        u = DatasetDailyUsage
        in_scope = select(ds.id).where(public)
        in_scope = self.scoped(in_scope, ds.organisation_id)
        downloads = []
        first_day = self.session.scalar(select(func.min(u.day)).where(
            u.dataset_id.in_(in_scope), u.day <= self.as_of))
        for y in self.years(first_day):
            start, end = year_bounds(y)
            downloads.append((y, self.count(select(func.coalesce(func.sum(u.downloads), 0))
                                            .where(u.dataset_id.in_(in_scope), u.day >= start,
                                                   u.day <= min(end, self.as_of)))))
        start, _ = year_bounds(self.year)
        views = self.count(select(func.coalesce(func.sum(u.views), 0)).where(
            u.dataset_id.in_(in_scope), u.day >= start, u.day <= self.as_of))
        return [
            self.figure(
                "ouverture.jeux_ouverts", "ouverture", "Jeux de données ouverts",
                opened[-1][1], "jeux de données",
                f"Jeux de données {self.scope_words} ouverts et publiés sur le portail, inscrits "
                "à l'inventaire au plus tard à la date du rapport, par licence.",
                "Nombre de lignes de la table dataset dont access_level vaut « open » et "
                "lifecycle_stage « published », et dont created_at précède la fin du jour du "
                "rapport, groupées par licence.",
                years=opened,
                breakdown=sorted(by_licence.items(), key=lambda r: (-r[1], r[0]))),
            self.figure(
                "ouverture.nouveaux", "ouverture", "Nouveaux jeux de données ouverts",
                new[-1][1], "jeux de données",
                "Parmi les jeux de données ouverts, ceux inscrits à l'inventaire pendant l'année.",
                "La même requête, limitée aux lignes dont created_at est dans l'année.",
                years=new),
            self.figure(
                "ouverture.qualite", "ouverture", "Qualité moyenne des jeux ouverts",
                catalog.average, "sur 100",
                "Moyenne du score de qualité (les neuf critères de data.gouv.fr et trois de "
                "Patrimoine, voir la fiche de chaque jeu) des jeux de données ouverts, le jour "
                "du calcul, par niveau de qualité.",
                "Score de charter/quality.py calculé pour chaque jeu ouvert (métadonnées, "
                "dernière version, schéma, données personnelles), puis moyenne arrondie au "
                "dixième.",
                breakdown=[(quality.BAND_LABELS[b], n) for b, n in catalog.bands.items()]),
            self.figure(
                "ouverture.telechargements", "ouverture", "Téléchargements sur le portail",
                downloads[-1][1], "téléchargements",
                "Téléchargements des jeux de données ouverts sur le portail pendant l'année, "
                "jusqu'à la date du rapport, avec les consultations de leurs pages.",
                "Somme de downloads (et de views) de la table dataset_daily_usage pour les jeux "
                "ouverts, jours de l'année jusqu'à la date du rapport.",
                years=downloads,
                breakdown=[("Téléchargements", downloads[-1][1]), ("Consultations", views)]),
        ]


def compute(session: Session, settings: Settings, year: int, as_of: date,
            organisation_ids: list[int] | None = None,
            progress: Callable[[str], None] | None = None) -> list[Figure]:
    """Every figure of the report, chapter by chapter; `progress` is told each chapter done."""
    counter = _Counter(session, settings, year, as_of, organisation_ids)
    out: list[Figure] = []
    steps: Sequence[tuple[str, Callable[[], list[Figure]]]] = (
        ("protection", counter.protection), ("souverainete", counter.sovereignty),
        ("sobriete", counter.sobriety), ("transparence", counter.transparency),
        ("ouverture", counter.openness))
    for key, step in steps:
        out.extend(step())
        if progress is not None:
            progress(key)
    return out
