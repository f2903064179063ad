"""The grants tests' world: a restricted dataset with a version, its organisation's managers,
outsiders and a partner, each with an API token."""

from __future__ import annotations

import pytest

from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from tests.factories import GrantsWorld, grants_world


@pytest.fixture
def world(db: Database, settings: Settings) -> GrantsWorld:
    return grants_world(db, settings)
