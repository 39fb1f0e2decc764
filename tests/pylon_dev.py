"""Start `pylon dev` (a devnet plus the service wired to it) as a subprocess and read what it prints.

`pylon dev` prints `KEY=value` lines (chain URL, service URL, tokens, the dev identity) before anything else,
so tests and scripts can use it on free ports. Shared by every cross-component test folder.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def pylon_binary() -> Path:
    path = Path(os.environ.get("PYLON_BIN", REPO / "target" / "debug" / "pylon"))
    if not path.exists():
        raise RuntimeError(f"{path} does not exist: build it with `cargo build -p pylon` (scripts/test does)")
    return path


@dataclass
class PylonDev:
    process: subprocess.Popen[str]
    values: dict[str, str]
    data_dir: Path

    @property
    def url(self) -> str:
        return self.values["PYLON_DEV_URL"]

    @property
    def chain_url(self) -> str:
        return self.values["PYLON_DEV_CHAIN"]

    @property
    def open_access_token(self) -> str:
        return self.values["PYLON_OPEN_ACCESS_TOKEN"]

    @property
    def identity_name(self) -> str:
        return self.values["PYLON_DEV_IDENTITY"]

    @property
    def identity_token(self) -> str:
        return self.values["PYLON_DEV_IDENTITY_TOKEN"]

    @property
    def identity_netuid(self) -> int:
        return int(self.values["PYLON_DEV_IDENTITY_NETUID"])

    @property
    def identity_hotkey(self) -> str:
        return self.values["PYLON_DEV_IDENTITY_HOTKEY"]

    @property
    def metrics_token(self) -> str:
        return self.values["PYLON_METRICS_TOKEN"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


REQUIRED = (
    "PYLON_DEV_URL",
    "PYLON_DEV_CHAIN",
    "PYLON_OPEN_ACCESS_TOKEN",
    "PYLON_DEV_IDENTITY",
    "PYLON_DEV_IDENTITY_TOKEN",
    "PYLON_DEV_IDENTITY_NETUID",
    "PYLON_DEV_IDENTITY_HOTKEY",
    "PYLON_METRICS_TOKEN",
)


def start_pylon_dev(
    *extra_args: str,
    startup_timeout: float = 60.0,
    log_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> PylonDev:
    """`log_file` captures the service's logs (stderr) instead of the test output; `env` adds to
    the environment (e.g. `RUST_LOG`)."""
    data_dir = Path(tempfile.mkdtemp(prefix="pylon-dev-"))
    log = open(log_file, "w") if log_file is not None else None  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            str(pylon_binary()),
            "dev",
            "--port",
            "0",
            "--chain-port",
            "0",
            "--data-dir",
            str(data_dir),
            *extra_args,
        ],
        stdout=subprocess.PIPE,
        stderr=log,  # None: the service's logs go to the test output
        text=True,
        bufsize=1,
        env={**os.environ, **env} if env else None,
    )
    if log is not None:
        log.close()  # the child has its own copy
    values: dict[str, str] = {}
    deadline = time.monotonic() + startup_timeout
    assert process.stdout is not None
    while not all(key in values for key in REQUIRED):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"pylon dev did not report {REQUIRED} in time; got {sorted(values)}")
        line = process.stdout.readline()
        if "=" in line:
            key, _, value = line.strip().partition("=")
            values[key] = value
    return PylonDev(process=process, values=values, data_dir=data_dir)
