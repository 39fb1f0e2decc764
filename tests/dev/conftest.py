import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pylon_dev import PylonDev, start_pylon_dev


@pytest.fixture(scope="module")
def pylon() -> Iterator[PylonDev]:
    dev = start_pylon_dev()
    try:
        yield dev
    finally:
        dev.stop()
