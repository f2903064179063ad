"""The portal tests' world: a small published territory (factories.portal_world)."""

from __future__ import annotations

from pathlib import Path

import pytest

from patrimoine.bootstrap import Services
from tests.factories import PortalWorld, portal_world


@pytest.fixture
def world(services: Services, tmp_path: Path) -> PortalWorld:
    return portal_world(services, tmp_path)
