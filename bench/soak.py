"""Bounded soak of `pylon serve` against a local chain: many connections of mixed reads for a long
time (and, with --weights, a weights PUT per block), reporting errors (must be 0), latency
percentiles over time and the service's RSS over time (should be flat), with a PNG plot.

The chain (`pylon devnet`) and the service (`pylon serve`) run as two processes so the RSS measured
is the service's alone (the devnet keeps every block's state and grows by design).

Usage (release build first: `cargo build --release -p pylon`):

    python bench/soak.py                         # 10 minutes, 64 connections
    python bench/soak.py --duration 120 --weights --out bench/results

Writes <out>/soak.md and <out>/soak.png; exits 1 if any request failed. Needs matplotlib
(tests/requirements.txt). Not part of CI.

`--hostile SECONDS` adds a last phase (issue 15): 2,000 idle connections (`--idle-connections`)
are opened and the chain is stalled (every node answer 3 s late, the devnet's `dev_stall`) while
the readers keep reading latest answers; the report adds the service's RSS through it, the reader
p99, and what became of the idle connections (closed by `PYLON_HEADER_READ_TIMEOUT_SECONDS`,
refused past `PYLON_MAX_CONNECTIONS`, still open).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from processes import free_port, rss_mb, start_devnet

ROOT = Path(__file__).resolve().parents[1]

# //Alice, the built-in scenario's validator on netuid 1 (a public dev key), and //Bob.
ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
ALICE_KEYFILE = {
    "publicKey": "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",
    "secretSeed": "0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a",
    "ss58Address": ALICE,
}
OPEN_TOKEN = "soak-open-token"
# A request not answered in this many seconds counts as an error.
REQUEST_TIMEOUT = 30.0
IDENTITY_TOKEN = "soak-identity-token"


@dataclass
class Window:
    """What happened in one sampling interval."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    writes: int = 0
    write_errors: int = 0


@dataclass
class Sample:
    t: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    service_rss_mb: float
    devnet_rss_mb: float
    writes: int
    write_errors: int


@dataclass
class State:
    head: int = 0
    window: Window = field(default_factory=Window)
    error_examples: list[str] = field(default_factory=list)
    total_requests: int = 0
    total_errors: int = 0
    writes_note: str = "not requested (--weights off)"

    def error(self, what: str) -> None:
        self.window.errors += 1
        self.total_errors += 1
        if len(self.error_examples) < 10:
            self.error_examples.append(what)


class Connection:
    """A minimal keep-alive HTTP/1.1 client: small enough not to be the bottleneck."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str, body: bytes = b"") -> tuple[int, bytes]:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await self._request(method, path, token, body)
        except BaseException:
            self.close()
            raise

    async def _request(self, method: str, path: str, token: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: pylon\r\nAuthorization: Bearer {token}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode().partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            payload = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                payload += await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        else:
            payload = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def read_paths(state: State) -> list[tuple[str, str]]:
    """The mix of reads, as (path, token): hot cached answers, past blocks, identity routes."""
    head = state.head
    past = max(0, head - random.randint(1, 20))
    return [
        ("/api/v1/subnet/1/block/latest/neurons", OPEN_TOKEN),
        ("/api/v1/subnet/1/block/latest/neurons", OPEN_TOKEN),
        ("/api/v1/subnet/1/block/latest/validators", OPEN_TOKEN),
        ("/api/v1/subnet/1/block/recent/neurons", OPEN_TOKEN),
        ("/api/v1/subnet/2/block/latest/neurons", OPEN_TOKEN),
        ("/api/v1/block/latest", OPEN_TOKEN),
        (f"/api/v1/subnet/{random.randint(1, 3)}/block/{past}/neurons", OPEN_TOKEN),
        (f"/api/v1/subnet/1/block/{past}/validators", OPEN_TOKEN),
        # Genesis has no extrinsics; every later block starts with the timestamp inherent.
        (f"/api/v1/block/{max(1, past)}/extrinsic/0", OPEN_TOKEN),
        ("/api/v1/subnet/1/block/latest/certificates", OPEN_TOKEN),
        ("/api/v1/subnet/1/block/latest/commitments", OPEN_TOKEN),
        ("/api/v1/identity/soak/subnet/1/block/latest/neurons", IDENTITY_TOKEN),
        ("/api/v1/identity/soak/subnet/1/block/latest/commitments/self", IDENTITY_TOKEN),
    ]


def latest_paths(state: State) -> list[tuple[str, str]]:
    """Reads a stalled chain must not hold up: latest answers the cache has."""
    return [
        ("/api/v1/subnet/1/block/latest/neurons", OPEN_TOKEN),
        ("/api/v1/subnet/1/block/latest/validators", OPEN_TOKEN),
        ("/api/v1/subnet/2/block/latest/neurons", OPEN_TOKEN),
        ("/api/v1/subnet/1/block/recent/neurons", OPEN_TOKEN),
        ("/api/v1/identity/soak/subnet/1/block/latest/neurons", IDENTITY_TOKEN),
    ]


async def reader(state: State, host: str, port: int, deadline: float, paths=read_paths) -> None:
    connection = Connection(host, port)
    while time.monotonic() < deadline:
        path, token = random.choice(paths(state))
        start = time.monotonic()
        try:
            status, _ = await connection.request("GET", path, token)
        except Exception as error:  # a dropped connection or a timeout is a failed request
            state.error(f"{path}: {type(error).__name__} {error}")
            continue
        state.window.latencies.append(time.monotonic() - start)
        state.total_requests += 1
        if status != 200:
            state.error(f"{path}: HTTP {status}")
    connection.close()


async def head_follower(state: State, host: str, port: int, deadline: float, weights: bool) -> None:
    """Track the head (for past-block reads) and, with --weights, PUT weights once per block."""
    connection = Connection(host, port)
    put_weights = weights
    if weights:
        state.writes_note = "a PUT per block"
    last_put = 0
    body = json.dumps({"weights": {ALICE: 1.0, BOB: 0.5}}).encode()
    while time.monotonic() < deadline:
        try:
            status, payload = await connection.request("GET", "/api/v1/block/latest", OPEN_TOKEN)
            if status == 200:
                state.head = int(json.loads(payload)["number"])
        except Exception:
            pass  # the readers count failures; this task only steers them
        if put_weights and state.head > last_put:
            last_put = state.head
            try:
                status, payload = await connection.request(
                    "PUT", "/api/v1/identity/soak/subnet/1/weights", IDENTITY_TOKEN, body
                )
            except Exception as error:
                state.window.write_errors += 1
                state.error(f"PUT weights: {type(error).__name__} {error}")
                continue
            if status == 501:
                put_weights = False
                state.writes_note = "skipped: this build answers 501 (write path not served)"
            elif 200 <= status < 300:
                state.window.writes += 1
            else:
                state.window.write_errors += 1
                state.error(f"PUT weights: HTTP {status} {payload[:200]!r}")
        await asyncio.sleep(0.2)
    connection.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def sampler(
    state: State, samples: list[Sample], pids: tuple[int, int], start: float, deadline: float, every: float
) -> None:
    while time.monotonic() < deadline:
        await asyncio.sleep(min(every, max(0.0, deadline - time.monotonic())))
        window, state.window = state.window, Window()
        sample = Sample(
            t=time.monotonic() - start,
            requests=len(window.latencies),
            errors=window.errors,
            p50_ms=percentile(window.latencies, 0.50),
            p99_ms=percentile(window.latencies, 0.99),
            service_rss_mb=rss_mb(pids[0]),
            devnet_rss_mb=rss_mb(pids[1]),
            writes=window.writes,
            write_errors=window.write_errors,
        )
        samples.append(sample)
        print(
            f"t={sample.t:6.0f}s  {sample.requests / every:7.0f} req/s  errors={sample.errors}  "
            f"p50={sample.p50_ms:6.1f} ms  p99={sample.p99_ms:6.1f} ms  "
            f"service RSS={sample.service_rss_mb:6.1f} MB  head={state.head}",
            flush=True,
        )


async def devnet_rpc(port: int, method: str, params: list) -> None:
    """One JSON-RPC call to the devnet over HTTP (its fault injection)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    reader_, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST / HTTP/1.1\r\nHost: devnet\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    answer = await reader_.read()
    writer.close()
    if b'"result"' not in answer:
        raise RuntimeError(f"{method}: {answer[-300:]!r}")


@dataclass
class HostileResult:
    duration: float
    idle_opened: int = 0
    idle_connect_failed: int = 0
    idle_refused: int = 0
    idle_closed: int = 0
    idle_open_at_end: int = 0
    flood_seconds: float = 0.0
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_end_mb: float = 0.0
    state: State = field(default_factory=State)
    samples: list[Sample] = field(default_factory=list)


async def hostile_phase(
    args: argparse.Namespace, port: int, chain_port: int, pids: tuple[int, int], head: int
) -> HostileResult:
    """Idle connections and a stalled chain at once, readers reading latest answers throughout.

    The readers connect first (a service's established clients); a second in, the chain stalls
    and the idle connections are opened. Connections opened while the cap is full are refused
    (503) until the header read timeout frees their places: readers keep their keep-alive ones.
    """
    result = HostileResult(duration=args.hostile)
    result.state.head = head
    result.rss_before_mb = rss_mb(pids[0])
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    start = time.monotonic()
    deadline = start + args.hostile

    async def flood() -> None:
        await asyncio.sleep(1)
        await devnet_rpc(chain_port, "dev_stall", [3000])
        flood_start = time.monotonic()

        async def open_one() -> None:
            try:
                idle.append(await asyncio.open_connection("127.0.0.1", port))
            except OSError:
                result.idle_connect_failed += 1

        # In batches, so all of them are open at once (one by one, the first would time out
        # before the last opened).
        for batch in range(0, args.idle_connections, 200):
            await asyncio.gather(*(open_one() for _ in range(min(200, args.idle_connections - batch))))
        result.idle_opened = len(idle)
        result.flood_seconds = time.monotonic() - flood_start

    async def peak() -> None:
        while time.monotonic() < deadline:
            result.rss_peak_mb = max(result.rss_peak_mb, rss_mb(pids[0]))
            await asyncio.sleep(0.5)

    try:
        await asyncio.gather(
            flood(),
            peak(),
            sampler(result.state, result.samples, pids, start, deadline, args.sample),
            *(reader(result.state, "127.0.0.1", port, deadline, latest_paths) for _ in range(args.connections)),
        )
    finally:
        await devnet_rpc(chain_port, "dev_stall", [0])
    result.rss_end_mb = rss_mb(pids[0])
    for stream_reader, writer in idle:
        try:
            data = await asyncio.wait_for(stream_reader.read(), timeout=0.05)
        except TimeoutError:
            result.idle_open_at_end += 1
        except OSError:
            result.idle_closed += 1
        else:
            if b" 503 " in data[:20]:
                result.idle_refused += 1
            else:
                result.idle_closed += 1
        writer.close()
    return result


def hostile_report(args: argparse.Namespace, result: HostileResult) -> str:
    p99s = [s.p99_ms for s in result.samples if s.requests]
    worst = max(p99s) if p99s else float("nan")
    median = statistics.median(p99s) if p99s else float("nan")
    rows = "\n".join(
        f"| {s.t:.0f} | {s.requests / args.sample:.0f} | {s.errors} | {s.p50_ms:.1f} | {s.p99_ms:.1f} | "
        f"{s.service_rss_mb:.1f} |"
        for s in result.samples
    )
    examples = "; ".join(result.state.error_examples)
    opened = f"{result.idle_opened} ({result.idle_connect_failed}), {result.flood_seconds:.1f} s"
    return f"""
## Hostile phase: {args.idle_connections} idle connections and a stalled chain for {result.duration:g} s

{args.connections} readers read latest neurons/validators (open and identity routes) and recent
neurons on their keep-alive connections; one second in, the chain stalled (`dev_stall 3000`: every
node answer 3 s late) and {args.idle_connections} connections were opened and left idle. The service
runs with its default connection settings (`PYLON_MAX_CONNECTIONS` 1024, header read timeout 10 s).

| | |
|---|---|
| idle connections opened (connect failed), in | {opened} |
| … refused with 503 past `PYLON_MAX_CONNECTIONS` | {result.idle_refused} |
| … closed by the service (header read timeout) | {result.idle_closed} |
| … still open at the end (only ones opened less than the timeout before it) | {result.idle_open_at_end} |
| reader requests / errors | {result.state.total_requests} / **{result.state.total_errors}** |
| reader p99 per sample: median / worst | {median:.1f} ms / {worst:.1f} ms |
| service RSS before → peak → end | {result.rss_before_mb:.1f} → {result.rss_peak_mb:.1f} → {result.rss_end_mb:.1f} MB |

{"Error examples: " + examples if examples else ""}

| t (s) | req/s | errors | p50 (ms) | p99 (ms) | service RSS (MB) |
|---|---|---|---|---|---|
{rows}
"""


def start_processes(
    binary: Path, work: Path, block_time: str, cache_mb: int | None
) -> tuple[subprocess.Popen[str], subprocess.Popen[str], int, int]:
    devnet, chain_port = start_devnet(binary, work, block_time)
    hotkey = work / "wallets" / "soak" / "hotkeys" / "validator"
    hotkey.parent.mkdir(parents=True)
    hotkey.write_text(json.dumps(ALICE_KEYFILE))
    port = free_port()
    env = {
        **os.environ,
        "PYLON_ENV_FILE": str(work / "none.env"),
        "PYLON_BITTENSOR_NETWORK": f"ws://127.0.0.1:{chain_port}",
        "PYLON_BITTENSOR_ARCHIVE_NETWORK": "none",
        "PYLON_BITTENSOR_WALLET_PATH": str(work / "wallets"),
        "PYLON_IDENTITIES": '["soak"]',
        "PYLON_ID_SOAK_WALLET_NAME": "soak",
        "PYLON_ID_SOAK_HOTKEY_NAME": "validator",
        "PYLON_ID_SOAK_NETUID": "1",
        "PYLON_ID_SOAK_TOKEN": IDENTITY_TOKEN,
        "PYLON_OPEN_ACCESS_TOKEN": OPEN_TOKEN,
        "PYLON_HOST": "127.0.0.1",
        "PYLON_PORT": str(port),
        "PYLON_DATA_DIR": str(work / "data"),
    }
    if cache_mb is not None:
        env["PYLON_CACHE_MAX_BYTES"] = str(cache_mb * 1024 * 1024)
    (work / "none.env").write_text("")
    service = subprocess.Popen(
        [str(binary), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "service.log", "w"),  # noqa: SIM115 (the child keeps it)
        env=env,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if service.poll() is not None:
                raise RuntimeError(f"pylon serve exited: {(work / 'service.log').read_text()[-2000:]}") from None
            time.sleep(0.1)
    return devnet, service, port, chain_port


async def soak(
    args: argparse.Namespace, port: int, chain_port: int, pids: tuple[int, int]
) -> tuple[State, list[Sample], float, HostileResult | None]:
    state = State()
    samples: list[Sample] = []
    # Wait until the service answers from the chain, past genesis, before the clock starts.
    probe = Connection("127.0.0.1", port)
    for _ in range(300):
        try:
            status, payload = await probe.request("GET", "/api/v1/subnet/1/block/latest/neurons", OPEN_TOKEN)
            if status == 200:
                state.head = int(json.loads(payload)["block"]["number"])
                # From block 1 on every read in the mix exists (genesis has no extrinsic).
                if state.head >= 1:
                    break
        except Exception:
            pass
        await asyncio.sleep(0.1)
    probe.close()
    start = time.monotonic()
    deadline = start + args.duration
    await asyncio.gather(
        sampler(state, samples, pids, start, deadline, args.sample),
        head_follower(state, "127.0.0.1", port, deadline, args.weights),
        *(reader(state, "127.0.0.1", port, deadline) for _ in range(args.connections)),
    )
    elapsed = time.monotonic() - start
    hostile = None
    if args.hostile:
        hostile = await hostile_phase(args, port, chain_port, pids, state.head)
    return state, samples, elapsed, hostile


def rss_trend(samples: list[Sample]) -> tuple[float, float, float]:
    """(RSS after warm-up, RSS at the end, slope over the second half in MB/min)."""
    steady = [s for s in samples if s.t >= samples[-1].t * 0.2] or samples
    half = [s for s in samples if s.t >= samples[-1].t * 0.5] or samples
    slope = 0.0
    if len(half) >= 2:
        slope = statistics.linear_regression([s.t for s in half], [s.service_rss_mb for s in half]).slope * 60
    return steady[0].service_rss_mb, samples[-1].service_rss_mb, slope


def plot(samples: list[Sample], path: Path, title: str, every: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s.t / 60 for s in samples]
    figure, (rate, latency, memory) = plt.subplots(3, 1, sharex=True, figsize=(9, 9))
    figure.suptitle(title)
    rate.plot(minutes, [s.requests / every for s in samples], label="requests/s")
    rate.plot(minutes, [s.errors for s in samples], color="red", label="errors per sample")
    rate.set_ylabel("per second / sample")
    rate.legend(loc="lower right")
    latency.plot(minutes, [s.p50_ms for s in samples], label="p50")
    latency.plot(minutes, [s.p99_ms for s in samples], label="p99")
    latency.set_ylabel("latency (ms)")
    latency.legend(loc="upper right")
    memory.plot(minutes, [s.service_rss_mb for s in samples], label="pylon serve")
    memory.plot(minutes, [s.devnet_rss_mb for s in samples], linestyle="--", label="pylon devnet (context)")
    memory.set_ylabel("RSS (MB)")
    memory.set_xlabel("minutes")
    memory.set_ylim(bottom=0)
    memory.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def report(
    args: argparse.Namespace, state: State, samples: list[Sample], elapsed: float, command: str, out: Path
) -> str:
    rss_start, rss_end, slope = rss_trend(samples)
    shown_binary = "/".join(args.binary.parts[-3:])  # e.g. target/release/pylon
    p99s = [s.p99_ms for s in samples if s.requests]
    rows = "\n".join(
        f"| {s.t:.0f} | {s.requests / args.sample:.0f} | {s.errors} | {s.p50_ms:.1f} | {s.p99_ms:.1f} | "
        f"{s.service_rss_mb:.1f} | {s.writes} |"
        for s in samples
    )
    return f"""# Soak: mixed reads at {args.connections} connections for {elapsed / 60:.1f} minutes

Command: `{command}` (binary: `{shown_binary}`; `pylon devnet` and `pylon serve` as separate
processes, blocks every {args.block_time}, sampled every {args.sample:g} s, response cache
{f"{args.cache_mb} MiB" if args.cache_mb else "at its default, 256 MiB"}). Machine: {os.cpu_count()} cores,
shared with the load generator (one Python process) and the devnet.

Reads: latest/recent neurons and validators, block info, certificates, commitments, past blocks'
neurons/validators/extrinsics (up to 20 blocks back), identity routes. Weights PUT: {state.writes_note}.

| | |
|---|---|
| requests | {state.total_requests} ({state.total_requests / elapsed:.0f}/s) |
| errors (must be 0) | **{state.total_errors}** |
| p99 per sample: median / worst | {statistics.median(p99s):.1f} ms / {max(p99s):.1f} ms |
| service RSS after warm-up (20 %) → end | {rss_start:.1f} MB → {rss_end:.1f} MB |
| service RSS slope over the second half | {slope:+.2f} MB/min |

The service's RSS grows while its response cache fills (every block brings new answers; past
blocks' stay cached up to `PYLON_CACHE_MAX_BYTES`) and must then stay flat: the slope over the
second half of a run whose cache has filled is the pass mark.

{"Error examples: " + "; ".join(state.error_examples) if state.error_examples else ""}

![soak plot]({out.name}.png)

| t (s) | req/s | errors | p50 (ms) | p99 (ms) | service RSS (MB) | weights PUTs |
|---|---|---|---|---|---|---|
{rows}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--sample", type=float, default=10, help="seconds per sample (default 10)")
    parser.add_argument("--block-time", default="1s", help="devnet block time (default 1s)")
    parser.add_argument("--weights", action="store_true", help="PUT weights once per block (skipped on 501)")
    parser.add_argument(
        "--cache-mb",
        type=int,
        default=None,
        help="PYLON_CACHE_MAX_BYTES in MiB (default: the service's, 256): a small cache fills, and "
        "shows its bound, within a short run",
    )
    parser.add_argument(
        "--hostile",
        type=float,
        default=0,
        help="seconds of a last phase with idle connections and a stalled chain (default 0: none)",
    )
    parser.add_argument("--idle-connections", type=int, default=2000, help="for --hostile (default 2000)")
    parser.add_argument("--pylon-bin", type=Path, default=None, help="default: <target>/release/pylon")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak")
    args = parser.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = args.binary = args.pylon_bin or target / "release" / "pylon"
    if not binary.exists():
        print(f"{binary} missing: cargo build --release -p pylon", file=sys.stderr)
        return 2
    command = "python bench/soak.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    # Thousands of idle connections need as many file descriptors, here and in the service.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="pylon-soak-") as tmp:
        work = Path(tmp)
        devnet, service, port, chain_port = start_processes(binary, work, args.block_time, args.cache_mb)
        try:
            state, samples, elapsed, hostile = asyncio.run(soak(args, port, chain_port, (service.pid, devnet.pid)))
        finally:
            for process in (service, devnet):
                process.terminate()
                process.wait(timeout=15)
        if service.returncode not in (0, -15):
            print(f"pylon serve exited with {service.returncode}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    title = f"pylon serve soak: {args.connections} connections, {elapsed / 60:.1f} min"
    plot(samples, args.out.with_suffix(".png"), title, args.sample)
    text = report(args, state, samples, elapsed, command, args.out)
    errors = state.total_errors
    if hostile is not None:
        text += hostile_report(args, hostile)
        errors += hostile.state.total_errors
        print(
            f"hostile phase: {hostile.state.total_requests} reads, {hostile.state.total_errors} errors, "
            f"idle {hostile.idle_opened} opened / {hostile.idle_refused} refused / {hostile.idle_closed} closed "
            f"/ {hostile.idle_open_at_end} open; RSS {hostile.rss_before_mb:.1f} → {hostile.rss_peak_mb:.1f} "
            f"→ {hostile.rss_end_mb:.1f} MB"
        )
    args.out.with_suffix(".md").write_text(text)
    print(f"{state.total_requests} requests, {state.total_errors} errors; wrote {args.out}.md and .png")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
