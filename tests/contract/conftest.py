"""The published reference client (bittensor-pylon-client 2.3.x, installed unchanged in .venv-ref) against our service."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pylon_dev import PylonDev, start_pylon_dev


@pytest.fixture(scope="session")
def pylon() -> Iterator[PylonDev]:
    dev = start_pylon_dev()
    try:
        yield dev
    finally:
        dev.stop()
