"""Start a devnet for the fidelity tests: the Bittensor SDK and async-substrate-interface judge it."""

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("scenario.toml")


def _devnet_binary() -> Path:
    configured = os.environ.get("PYLON_DEVNET_BIN")
    if configured:
        return Path(configured)
    binary = ROOT / "target" / "debug" / "examples" / "devnet"
    if not binary.exists():
        subprocess.run(
            ["cargo", "build", "-p", "pylon-devnet", "--example", "devnet"],
            cwd=ROOT,
            check=True,
        )
    return binary


@pytest.fixture(scope="session")
def scenario() -> dict:
    return tomllib.loads(SCENARIO.read_text())


@pytest.fixture(scope="session")
def devnet_url():
    proc = subprocess.Popen(
        [
            str(_devnet_binary()),
            "--port",
            "0",
            "--block-time-ms",
            "500",
            "--scenario",
            str(SCENARIO),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    if not first.startswith("listening on "):
        proc.kill()
        pytest.fail(f"devnet did not start: {first!r}")
    try:
        yield first.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
