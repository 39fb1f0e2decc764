"""A running Pylon service for the contract and end-to-end tests.

Either an existing one (`PYLON_TEST_URL`, with `PYLON_TEST_OPEN_ACCESS_TOKEN`, `PYLON_TEST_IDENTITY`,
`PYLON_TEST_IDENTITY_TOKEN`, `PYLON_TEST_IDENTITY_NETUID`, `PYLON_TEST_IDENTITY_HOTKEY`, optionally
`PYLON_TEST_CHAIN_URL`), or `pylon dev` started
from the binary at `PYLON_BIN` or the workspace's `target/debug/pylon`: a local chain plus the service, on free
ports, which prints `KEY=value` lines (URL, tokens, the dev identity) before anything else.
"""

from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 180.0
_DEV_KEYS = {
    "url": "PYLON_DEV_URL",
    "open_access_token": "PYLON_OPEN_ACCESS_TOKEN",
    "identity_name": "PYLON_DEV_IDENTITY",
    "identity_token": "PYLON_DEV_IDENTITY_TOKEN",
    "identity_netuid": "PYLON_DEV_IDENTITY_NETUID",
    "identity_hotkey": "PYLON_DEV_IDENTITY_HOTKEY",
    "chain_url": "PYLON_DEV_CHAIN",
}


@dataclass(frozen=True)
class Service:
    url: str
    open_access_token: str | None
    identity_name: str | None
    identity_token: str | None
    identity_netuid: int | None
    identity_hotkey: str | None
    # The chain's JSON-RPC URL, where known (`pylon dev`'s devnet, or PYLON_TEST_CHAIN_URL): tests judge the
    # service against it.
    chain_url: str | None = None


def pylon_binary() -> Path | None:
    path = Path(os.environ.get("PYLON_BIN", WORKSPACE / "target" / "debug" / "pylon"))
    return path if path.is_file() and os.access(path, os.X_OK) else None


def available() -> bool:
    return bool(os.environ.get("PYLON_TEST_URL")) or pylon_binary() is not None


def _from_environment(url: str) -> Service:
    netuid = os.environ.get("PYLON_TEST_IDENTITY_NETUID")
    return Service(
        url=url,
        open_access_token=os.environ.get("PYLON_TEST_OPEN_ACCESS_TOKEN"),
        identity_name=os.environ.get("PYLON_TEST_IDENTITY"),
        identity_token=os.environ.get("PYLON_TEST_IDENTITY_TOKEN"),
        identity_netuid=int(netuid) if netuid else None,
        identity_hotkey=os.environ.get("PYLON_TEST_IDENTITY_HOTKEY"),
        chain_url=os.environ.get("PYLON_TEST_CHAIN_URL"),
    )


@contextmanager
def running_service() -> Iterator[Service]:
    url = os.environ.get("PYLON_TEST_URL")
    if url:
        yield _from_environment(url)
        return
    binary = pylon_binary()
    assert binary is not None, "no service: set PYLON_TEST_URL or build the pylon binary"
    with tempfile.TemporaryDirectory(prefix="pylon-client-e2e-") as data_dir:
        process = subprocess.Popen(
            [str(binary), "dev", "--port", "0", "--chain-port", "0", "--data-dir", data_dir],
            stdout=subprocess.PIPE,
            stderr=None,  # the service's log goes to the test output
            text=True,
        )
        try:
            values = _read_dev_values(process)
            yield Service(
                url=values[_DEV_KEYS["url"]],
                open_access_token=values[_DEV_KEYS["open_access_token"]],
                identity_name=values[_DEV_KEYS["identity_name"]],
                identity_token=values[_DEV_KEYS["identity_token"]],
                identity_netuid=int(values[_DEV_KEYS["identity_netuid"]]),
                identity_hotkey=values[_DEV_KEYS["identity_hotkey"]],
                chain_url=values[_DEV_KEYS["chain_url"]],
            )
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _read_dev_values(process: subprocess.Popen[str]) -> dict[str, str]:
    # A thread drains stdout for the whole run: the wait below has a deadline, and a full pipe would block the
    # service later.
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    values: dict[str, str] = {}
    deadline = time.monotonic() + STARTUP_SECONDS
    while not all(key in values for key in _DEV_KEYS.values()):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"`pylon dev` printed only {sorted(values)} within {STARTUP_SECONDS}s") from None
        if line is None:
            raise RuntimeError(f"`pylon dev` exited ({process.wait()}) after printing {sorted(values)}")
        key, sep, value = line.strip().partition("=")
        if sep:
            values[key] = value
    return values
