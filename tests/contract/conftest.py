"""The published reference client (bittensor-pylon-client 2.3.x, installed unchanged in .venv-ref) against our service."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pylon_dev import PylonDev, start_pylon_serve


@pytest.fixture(scope="session")
def pylon() -> Iterator[PylonDev]:
    # The production command, `pylon serve`, configured by environment variables only, on a
    # `pylon devnet`. Four blocks a second: the weights cases wait out netuid 1's rate limit
    # (100 blocks) between them, which at finney's pace would be most of this suite's time.
    dev = start_pylon_serve(block_time="250ms")
    try:
        yield dev
    finally:
        dev.stop()
