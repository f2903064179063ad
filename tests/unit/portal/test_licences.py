from __future__ import annotations

import pytest

from patrimoine.inventory.licences import LICENCE_OUVERTE, ODBL, licence


@pytest.mark.parametrize("text", [
    "etalab-2.0", "Licence Ouverte 2.0", "licence ouverte v2.0", "LICENCE OUVERTE",
    "Licence Ouverte / Open Licence 2.0", "Licence Ouverte / Open Licence version 2.0", "lov2",
    "Licence ouverte d'Etalab",
])
def test_licence_ouverte_is_recognised_with_its_link(text: str) -> None:
    assert licence(text) == LICENCE_OUVERTE
    assert LICENCE_OUVERTE.url == "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"


@pytest.mark.parametrize("text", ["ODbL", "ODbL-1.0", "odbl v1.0",
                                  "Open Database License (ODbL)", "Open Database Licence",
                                  "Open Data Commons Open Database License (ODbL)"])
def test_odbl_is_recognised_with_its_link(text: str) -> None:
    assert licence(text) == ODBL
    assert ODBL.url == "https://opendatacommons.org/licenses/odbl/"


def test_other_licences_kept_as_written_without_link() -> None:
    other = licence("  CC-BY 4.0 ")
    assert other is not None and (other.title, other.url) == ("CC-BY 4.0", None)
    assert licence("") is None and licence(None) is None
