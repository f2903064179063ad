"""Following a background import (web/import_jobs.py) from a test client, as the page's
script does: ask its state until it is no longer running, then load the follow-up page."""

from __future__ import annotations

import time
from typing import Any

# A bound, not a measure: the import ends long before on any machine.
MAX_POLLS = 3000


def finish_import(client: Any, location: str) -> Any:
    """The page a finished import leads to (the inventory, or the failure's page)."""
    for _ in range(MAX_POLLS):
        state = client.get(f"{location}/etat").json()
        if state["state"] != "running":
            return client.get(location)
        time.sleep(0.1)
    raise AssertionError(f"the import at {location} never ended")
