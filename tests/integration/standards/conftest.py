"""One demo territory with published versions for the DCAT and CKAN tests of a session
(building it takes seconds): they only read it, or restore what they change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import DemoTerritory, demo_territory


@pytest.fixture(scope="session")
def standards_territory(_templates: Any, tmp_path_factory: pytest.TempPathFactory
                        ) -> Iterator[DemoTerritory]:
    tmp = tmp_path_factory.mktemp("standards")
    territory = demo_territory(_templates.new_url(tmp), tmp, "http://testserver")
    yield territory
    territory.services.db.dispose()
