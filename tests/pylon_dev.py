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
        raise RuntimeError(
            f"{path} does not exist: build it with `cargo build -p pylon` (scripts/test does)"
        )
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
            raise RuntimeError(
                f"pylon dev did not report {REQUIRED} in time; got {sorted(values)}"
            )
        line = process.stdout.readline()
        if "=" in line:
            key, _, value = line.strip().partition("=")
            values[key] = value
    return PylonDev(process=process, values=values, data_dir=data_dir)


@dataclass
class PylonServe(PylonDev):
    """`pylon serve` (the production command) on a `pylon devnet`, set up the way `pylon dev` sets itself up:
    the same `PYLON_DEV_*` values, so a suite can run against either."""

    chain: subprocess.Popen[str] | None = None

    def stop(self) -> None:
        super().stop()
        if self.chain is not None and self.chain.poll() is None:
            self.chain.terminate()
            try:
                self.chain.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.chain.kill()
                self.chain.wait()


SDK_PYTHON = REPO / ".venv" / "bin" / "python"


def _write_dev_hotkey(wallets: Path) -> str:
    """//Alice's hotkey as a Bittensor keyfile, written by bittensor-wallet (in the SDK's venv)."""
    script = (
        "import sys; from bittensor_wallet import Keypair, Wallet;"
        "k = Keypair.create_from_uri('//Alice');"
        "Wallet(name='pylon-dev', hotkey='validator', path=sys.argv[1]).set_hotkey(k, encrypt=False, overwrite=True);"
        "print(k.ss58_address)"
    )
    done = subprocess.run(
        [str(SDK_PYTHON), "-c", script, str(wallets)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_pylon_serve(
    block_time: str = "1s",
    startup_timeout: float = 60.0,
    devnet_args: tuple[str, ...] = (),
) -> PylonServe:
    """`pylon devnet` (built-in scenario, or `devnet_args` such as `--scenario FILE`) and `pylon serve`
    configured by environment variables only, as an operator runs it: the dev identity (//Alice on
    netuid 1), open-access, identity and metrics tokens, the devnet's EVM JSON-RPC."""
    import secrets
    import urllib.request

    data_dir = Path(tempfile.mkdtemp(prefix="pylon-serve-"))
    chain = subprocess.Popen(
        [str(pylon_binary()), "devnet", "--port", "0", "--block-time", block_time, *devnet_args],
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert chain.stdout is not None
    first = chain.stdout.readline().strip()
    if not first.startswith("listening on "):
        chain.kill()
        raise RuntimeError(f"pylon devnet did not start: {first!r}")
    chain_url = first.removeprefix("listening on ")
    hotkey = _write_dev_hotkey(data_dir / "wallets")
    port = _free_port()
    values = {
        "PYLON_DEV_URL": f"http://127.0.0.1:{port}",
        "PYLON_DEV_CHAIN": chain_url,
        "PYLON_DEV_EVM_RPC_URL": chain_url.replace("ws://", "http://", 1),
        "PYLON_OPEN_ACCESS_TOKEN": secrets.token_hex(16),
        "PYLON_DEV_IDENTITY": "dev",
        "PYLON_DEV_IDENTITY_TOKEN": secrets.token_hex(16),
        "PYLON_DEV_IDENTITY_NETUID": "1",
        "PYLON_DEV_IDENTITY_HOTKEY": hotkey,
        "PYLON_METRICS_TOKEN": secrets.token_hex(16),
    }
    (data_dir / "empty.env").touch()  # not the repository's .env
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYLON_")},
        "PYLON_ENV_FILE": str(data_dir / "empty.env"),
        "PYLON_BITTENSOR_NETWORK": chain_url,
        "PYLON_BITTENSOR_ARCHIVE_NETWORK": "none",
        "PYLON_BITTENSOR_WALLET_PATH": str(data_dir / "wallets"),
        "PYLON_DATA_DIR": str(data_dir / "data"),
        "PYLON_IDENTITIES": '["dev"]',
        "PYLON_ID_DEV_WALLET_NAME": "pylon-dev",
        "PYLON_ID_DEV_HOTKEY_NAME": "validator",
        "PYLON_ID_DEV_NETUID": "1",
        "PYLON_ID_DEV_TOKEN": values["PYLON_DEV_IDENTITY_TOKEN"],
        "PYLON_OPEN_ACCESS_TOKEN": values["PYLON_OPEN_ACCESS_TOKEN"],
        "PYLON_METRICS_TOKEN": values["PYLON_METRICS_TOKEN"],
        "PYLON_EVM_RPC_URL": values["PYLON_DEV_EVM_RPC_URL"],
        "PYLON_EVM_ARCHIVE_RPC_URL": "none",
        "PYLON_HOST": "127.0.0.1",
        "PYLON_PORT": str(port),
    }
    with open(data_dir / "serve.log", "w") as log:
        process = subprocess.Popen(
            [str(pylon_binary()), "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    serving = PylonServe(process=process, values=values, data_dir=data_dir, chain=chain)
    deadline = time.monotonic() + startup_timeout
    while True:
        try:
            with urllib.request.urlopen(
                f"{values['PYLON_DEV_URL']}/ready", timeout=2
            ) as answer:
                if answer.status == 200:
                    return serving
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            serving.stop()
            raise RuntimeError(
                f"pylon serve was not ready in time; see {data_dir / 'serve.log'}"
            )
        time.sleep(0.2)
