"""Back-office pages of the items the rules judge (the admin URLs of web/pages)."""

from __future__ import annotations


def dataset(slug: str) -> str:
    return f"/admin/inventaire/{slug}"


def dataset_retention(slug: str) -> str:
    return f"/admin/conservation/jeux/{slug}"


def activity(activity_id: int) -> str:
    return f"/admin/protection/traitements/{activity_id}"


def request(request_id: int) -> str:
    return f"/admin/protection/demandes/{request_id}"


def breach(breach_id: int) -> str:
    return f"/admin/protection/violations/{breach_id}"


def application(application_id: int) -> str:
    return f"/admin/souverainete/applications/{application_id}"


def contract(contract_id: int) -> str:
    return f"/admin/souverainete/contrats/{contract_id}"


def partners(organisation_slug: str | None = None) -> str:
    return "/admin/souverainete/partenaires" + (
        f"?organisation={organisation_slug}" if organisation_slug else "")


def algorithm(algorithm_id: int) -> str:
    return f"/admin/algorithmes/{algorithm_id}"


def organisation(slug: str) -> str:
    return f"/admin/organisations/{slug}"
