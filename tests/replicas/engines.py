"""Throwaway real engines for the multi-instance tests and benchmarks: a PostgreSQL cluster, an
nginx, a devnet and `pylon serve` processes, each in a temp dir on its own free port and stopped
at the end.

PostgreSQL and nginx come from the Debian packages (`.ci/run` installs them). Without them the
tests are skipped with a message, except under CI (`CI=true`), where that fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pylon_binary() -> str:
    path = Path(os.environ.get("PYLON_BIN", REPO / "target" / "debug" / "pylon"))
    if not path.exists():
        raise RuntimeError(
            f"{path} does not exist: build it with `cargo build -p pylon`"
        )
    return str(path)


class Missing(Exception):
    """An engine is not installed (the caller skips, or fails under CI)."""


def pg_bin() -> Path:
    if os.environ.get("PYLON_PG_BIN"):
        return Path(os.environ["PYLON_PG_BIN"])
    versions = sorted(
        (int(p.parent.name), p.parent)
        for p in Path("/usr/lib/postgresql").glob("*/bin")
        if p.parent.name.isdigit() and (p / "initdb").exists()
    )
    if versions:
        return versions[-1][1] / "bin"
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise Missing("PostgreSQL is not installed (no initdb)")


def nginx_bin() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).exists():
            return candidate
    raise Missing("nginx is not installed")


def _as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class Postgres:
    dir: Path
    bin: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgres://pylon@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / tool), *args]
        if _as_root():  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=True)

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "pylon",
            "-d",
            database,
            "-Atc",
            sql,
        ).stdout.strip()

    def create_database(self, name: str) -> str:
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    bin_dir = pg_bin()
    tmp = Path(tempfile.mkdtemp(prefix="pylon-pg-"))
    if _as_root():
        shutil.chown(tmp, "postgres")
    cluster = Postgres(dir=tmp, bin=bin_dir, port=free_port())
    data = str(tmp / "data")
    cluster._run(
        "initdb", "-D", data, "-U", "pylon", "--auth=trust", "-E", "UTF8", "--no-sync"
    )
    options = (
        f"-p {cluster.port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off"
    )
    cluster._run(
        "pg_ctl", "-D", data, "-o", options, "-l", str(tmp / "log"), "-w", "start"
    )
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Nginx:
    port: int
    prefix: Path


@contextlib.contextmanager
def nginx(upstreams: list[str]) -> Iterator[Nginx]:
    """nginx with deploy/nginx/pylon-cache.conf (the documented configuration) in front of
    `upstreams` (host:port), under a temp prefix on a free port."""
    binary = nginx_bin()
    prefix = Path(tempfile.mkdtemp(prefix="pylon-nginx-"))
    (prefix / "logs").mkdir()
    (prefix / "cache").mkdir()
    port = free_port()
    servers = "\n".join(f"        server {u};" for u in upstreams)
    site = (DEPLOY / "nginx" / "pylon-cache.conf").read_text()
    site = site.replace(
        "    server pylon-a:8000;\n    server pylon-b:8000;\n", servers + "\n"
    )
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("/var/cache/nginx/pylon", str(prefix / "cache"))
    user = "user root;\n" if _as_root() else ""
    (prefix / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    log_format cache_status '$upstream_cache_status $status';\n"
        f"    access_log {prefix}/logs/access.log cache_status;\n"
        f"    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n"
        f"    fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi;\n"
        f"    scgi_temp_path {prefix}/scgi;\n"
        f"{site}\n}}\n"
    )
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"nginx did not start: {process.stderr.read() if process.stderr else ''}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), 0.2),
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not listen in time")
            time.sleep(0.05)
        yield Nginx(port=port, prefix=prefix)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)


def rpc(http_url: str, method: str, params: list | None = None) -> object:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    )
    request = urllib.request.Request(
        http_url, body.encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


@dataclass
class Devnet:
    process: subprocess.Popen[str]
    ws_url: str

    @property
    def http_url(self) -> str:
        return self.ws_url.replace("ws://", "http://")

    def seal(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            rpc(self.http_url, "dev_newBlock")


@contextlib.contextmanager
def devnet(block_time: str = "0") -> Iterator[Devnet]:
    """`pylon devnet` with the built-in scenario; block time 0 seals only on `dev_newBlock`."""
    process = subprocess.Popen(
        [pylon_binary(), "devnet", "--port", "0", "--block-time", block_time],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if not first.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"devnet did not start: {first!r}")
    chain = Devnet(process=process, ws_url=first.removeprefix("listening on "))
    try:
        chain.seal()  # a timestamped head, as a live chain has
        yield chain
    finally:
        process.terminate()
        process.wait(timeout=10)


IDENTITY = "dev"
NETUID = 1
IDENTITY_TOKEN = "replica-identity-token"
OPEN_TOKEN = "replica-open-token"
METRICS_TOKEN = "replica-metrics-token"


def write_alice_hotkey(wallets: Path) -> str:
    """//Alice (a validator of netuid 1 in the built-in scenario) as a Bittensor keyfile."""
    from bittensor_wallet import Keypair, Wallet

    keypair = Keypair.create_from_uri("//Alice")
    wallet = Wallet(name="pylon-dev", hotkey="validator", path=str(wallets))
    wallet.set_hotkey(keypair, encrypt=False, overwrite=True)
    return keypair.ss58_address


@dataclass
class Serve:
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    history: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [pylon_binary(), "serve"], env=self.env, stdout=log, stderr=log
            )
        self.history.append(self.process.pid)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to PostgreSQL."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def get(self, path: str, token: str = IDENTITY_TOKEN) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def metrics(self) -> str:
        request = urllib.request.Request(
            self.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def ready(self) -> dict | None:
        with contextlib.suppress(OSError):
            status, body = self.get("/ready")
            if status == 200:
                return body
        return None

    def wait_ready(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.ready()
            if body is not None:
                return body
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"pylon serve exited; log: {self.log.read_text()[-3000:]}"
                )
            time.sleep(0.1)
        raise RuntimeError(
            f"pylon serve not ready; log: {self.log.read_text()[-3000:]}"
        )

    def put_weights(self, weights: dict[str, float]) -> dict:
        body = json.dumps({"weights": weights}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/v1/identity/{IDENTITY}/subnet/{NETUID}/weights",
            data=body,
            method="PUT",
            headers={
                "Authorization": f"Bearer {IDENTITY_TOKEN}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def job_status(self) -> tuple[int, dict]:
        return self.get(f"/api/v1/identity/{IDENTITY}/subnet/{NETUID}/weights/status")


def serve(workdir: Path, name: str, chain: Devnet, database_url: str | None) -> Serve:
    """A `pylon serve` on `chain` with the dev identity; sharing `database_url` when given."""
    wallets = workdir / "wallets"
    (workdir / "empty.env").touch()  # not the repository's .env
    port = free_port()
    env = {
        **os.environ,
        "PYLON_ENV_FILE": str(workdir / "empty.env"),
        "PYLON_BITTENSOR_NETWORK": chain.ws_url,
        "PYLON_BITTENSOR_ARCHIVE_NETWORK": "none",
        "PYLON_BITTENSOR_WALLET_PATH": str(wallets),
        "PYLON_DATA_DIR": str(workdir / f"data-{name}"),
        "PYLON_IDENTITIES": f'["{IDENTITY}"]',
        "PYLON_ID_DEV_WALLET_NAME": "pylon-dev",
        "PYLON_ID_DEV_HOTKEY_NAME": "validator",
        "PYLON_ID_DEV_NETUID": str(NETUID),
        "PYLON_ID_DEV_TOKEN": IDENTITY_TOKEN,
        "PYLON_OPEN_ACCESS_TOKEN": OPEN_TOKEN,
        "PYLON_METRICS_TOKEN": METRICS_TOKEN,
        "PYLON_HOST": "127.0.0.1",
        "PYLON_PORT": str(port),
        "RUST_LOG": os.environ.get("RUST_LOG", "info"),
    }
    if database_url:
        env["PYLON_DATABASE_URL"] = database_url
    return Serve(port=port, env=env, log=workdir / f"pylon-{name}.log")


def signed_extrinsics(chain: Devnet, since_block: int) -> list[tuple[int, str]]:
    """(block, extrinsic hex) of every signed extrinsic in blocks after `since_block`."""
    head = int(rpc(chain.http_url, "chain_getHeader")["number"], 16)  # type: ignore[index]
    found = []
    for number in range(since_block + 1, head + 1):
        block_hash = rpc(chain.http_url, "chain_getBlockHash", [number])
        block = rpc(chain.http_url, "chain_getBlock", [block_hash])
        for extrinsic in block["block"]["extrinsics"]:  # type: ignore[index]
            raw = bytes.fromhex(extrinsic[2:])
            # After the compact length: the version byte; its top bit marks a signed extrinsic.
            first = raw[0] & 0b11
            offset = {0: 1, 1: 2, 2: 4}.get(first, 1 + (raw[0] >> 2) + 4)
            if raw[offset] & 0x80:
                found.append((number, extrinsic))
    return found


def head_number(chain: Devnet) -> int:
    return int(rpc(chain.http_url, "chain_getHeader")["number"], 16)  # type: ignore[index]


def next_nonce(chain: Devnet, address: str) -> int:
    return int(rpc(chain.http_url, "system_accountNextIndex", [address]))  # type: ignore[arg-type]
