"""The licences of open data, recognised from what the inventory holds."""

from __future__ import annotations

from dataclasses import dataclass

from patrimoine.core.text import key


@dataclass(frozen=True)
class Licence:
    id: str
    title: str
    url: str | None


LICENCE_OUVERTE = Licence("etalab-2.0", "Licence Ouverte 2.0",
                          "https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
ODBL = Licence("ODbL-1.0", "Open Database License (ODbL)",
               "https://opendatacommons.org/licenses/odbl/")
KNOWN = (LICENCE_OUVERTE, ODBL)
# Folded spellings met in inventories, mapped to the licence they name.
_ALIASES = {
    "etalab 2 0": LICENCE_OUVERTE, "etalab": LICENCE_OUVERTE, "lov2": LICENCE_OUVERTE,
    "licence ouverte": LICENCE_OUVERTE, "licence ouverte 2 0": LICENCE_OUVERTE,
    "licence ouverte v2 0": LICENCE_OUVERTE, "licence ouverte etalab": LICENCE_OUVERTE,
    "licence ouverte open licence": LICENCE_OUVERTE, "open licence": LICENCE_OUVERTE,
    "open licence 2 0": LICENCE_OUVERTE, "lo 2 0": LICENCE_OUVERTE,
    "licence ouverte open licence 2 0": LICENCE_OUVERTE,
    "licence ouverte open licence version 2 0": LICENCE_OUVERTE,
    "licence ouverte version 2 0": LICENCE_OUVERTE, "licence ouverte d etalab": LICENCE_OUVERTE,
    "licence ouverte d etalab 2 0": LICENCE_OUVERTE, "etalab licence ouverte 2 0": LICENCE_OUVERTE,
    "odbl": ODBL, "odbl 1 0": ODBL, "odbl v1 0": ODBL, "open database license": ODBL,
    "open database licence": ODBL, "open database license odbl": ODBL,
    "open database license 1 0": ODBL, "open database license odbl 1 0": ODBL,
    "open database license odbl v1 0": ODBL,
    "open data commons open database license": ODBL,
    "open data commons open database license odbl": ODBL,
}


def licence(text: str | None) -> Licence | None:
    """The licence a free-text value names: a known one with its link, else the text as is."""
    if not text or not text.strip():
        return None
    found = _ALIASES.get(key(text))
    if found is not None:
        return found
    return Licence(text.strip(), text.strip(), None)
