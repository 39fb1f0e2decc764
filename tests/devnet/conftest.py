"""Start a devnet for the fidelity tests: the Bittensor SDK and async-substrate-interface judge it."""

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("scenario.toml")


def _devnet_command() -> list[str]:
    """`pylon devnet` when the binary is built (PYLON_BIN), else the crate's own runner."""
    pylon = os.environ.get("PYLON_BIN")
    if pylon and Path(pylon).exists():
        return [
            pylon,
            "devnet",
            "--port",
            "0",
            "--block-time",
            "500ms",
            "--scenario",
            str(SCENARIO),
        ]
    runner = ROOT / "target" / "debug" / "examples" / "devnet"
    if not runner.exists():
        subprocess.run(
            ["cargo", "build", "-p", "pylon-devnet", "--example", "devnet"],
            cwd=ROOT,
            check=True,
        )
    return [
        str(runner),
        "--port",
        "0",
        "--block-time-ms",
        "500",
        "--scenario",
        str(SCENARIO),
    ]


@pytest.fixture(scope="session")
def scenario() -> dict:
    return tomllib.loads(SCENARIO.read_text())


@pytest.fixture(scope="session")
def devnet_url():
    proc = subprocess.Popen(_devnet_command(), stdout=subprocess.PIPE, text=True)
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
