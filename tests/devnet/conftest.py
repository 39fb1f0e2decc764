"""Start a devnet for the fidelity tests: the Bittensor SDK and async-substrate-interface judge it."""

import contextlib
import os
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("scenario.toml")


def devnet_command(
    scenario: Path, block_time_ms: int, runtime: int | None = None
) -> list[str]:
    """`pylon devnet` when the binary is built (PYLON_BIN), else the crate's own runner; block
    time 0 seals blocks only on `dev_newBlock`."""
    extra = ["--scenario", str(scenario)]
    if runtime is not None:
        extra += ["--runtime", str(runtime)]
    pylon = os.environ.get("PYLON_BIN")
    if pylon and Path(pylon).exists():
        return [pylon, "devnet", "--port", "0", "--block-time", f"{block_time_ms}ms", *extra]
    runner = ROOT / "target" / "debug" / "examples" / "devnet"
    if not runner.exists():
        subprocess.run(
            ["cargo", "build", "-p", "pylon-devnet", "--example", "devnet"],
            cwd=ROOT,
            check=True,
        )
    return [str(runner), "--port", "0", "--block-time-ms", str(block_time_ms), *extra]


@contextlib.contextmanager
def running_devnet(command: list[str]) -> Iterator[str]:
    """Start the devnet `command` names and give its URL; stopped on leaving."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
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


@pytest.fixture(scope="session")
def scenario() -> dict:
    return tomllib.loads(SCENARIO.read_text())


@pytest.fixture(scope="session")
def devnet_url():
    with running_devnet(devnet_command(SCENARIO, block_time_ms=500)) as url:
        yield url
