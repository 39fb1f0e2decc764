"""Hostile input against `pylon dev`: one service for the whole folder, its logs captured to a file
so tests can scan them for secrets."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pylon_dev import PylonDev, start_pylon_dev


@pytest.fixture(scope="session")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pylon-logs") / "pylon-dev.log"


@pytest.fixture(scope="session")
def pylon(log_file: Path) -> Iterator[PylonDev]:
    # Debug level for our crates: a secret that leaks only into debug logs still leaks.
    dev = start_pylon_dev(
        log_file=log_file,
        env={"RUST_LOG": "info,pylon=debug,pylon_service=debug,pylon_chain=debug,tower_http=debug"},
    )
    try:
        yield dev
    finally:
        dev.stop()
