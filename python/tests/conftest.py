from __future__ import annotations

from collections.abc import Iterator

import pytest

from .service import Service, available, running_service


@pytest.fixture(scope="session")
def pylon_service() -> Iterator[Service]:
    """A running service (see `tests/service.py`); tests that use it are skipped when there is none."""
    if not available():
        pytest.skip("no Pylon service: set PYLON_TEST_URL or build target/debug/pylon")
    with running_service() as service:
        yield service
