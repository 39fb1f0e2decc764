"""Fixtures for the multi-instance tests: real PostgreSQL, nginx and devnet processes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import engines


def require(engine) -> object:
    """The engine's handle, or a skip with the reason; under CI a missing engine fails."""
    try:
        return engine()
    except engines.Missing as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}: CI must install it (.ci/run does)")
        pytest.skip(f"SKIPPED: {missing}")


@pytest.fixture(scope="module")
def postgres() -> Iterator[engines.Postgres]:
    require(engines.pg_bin)
    with engines.postgres() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def nginx_installed() -> None:
    require(engines.nginx_bin)
