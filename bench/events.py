"""Many concurrent subscribers of the live event stream (`…/subnet/{netuid}/events`) on one Pylon:
how long after the chain's new head the *last* subscriber has its `block` event, and what the
subscribers cost the service (RSS, CPU).

The chain (`pylon devnet`, sealing a block every `--block-time`) and the service (`pylon serve`)
run as two processes, so RSS and CPU are the service's alone. The bench follows the devnet's own
heads on a WebSocket (`chain_subscribeNewHeads`): a head's time is when its notification arrives
here, so both sides of the delay are read on this machine's clock by this process.

Usage (each subscriber is a connection: raise the open-file limit first):

    ulimit -n 8192
    cargo build --release -p pylon          # or use the debug build and say so: --binary target/debug/pylon
    python bench/events.py                   # 1000 subscribers, 30 blocks, 1 s blocks
    python bench/events.py --subscribers 1000 --blocks 30 --out bench/results/events.md

Subscribers are raw asyncio connections (HTTP/1.0, a line parser) spread over `--processes` client
processes so the Python side stays light; on a small machine the bench and the service share the CPU,
which the delays include. Times on both sides are CLOCK_MONOTONIC, shared by the processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from processes import free_port, rss_mb, start_devnet

REPO = Path(__file__).resolve().parent.parent
TOKEN = "bench-open-token"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Observed:
    """What the subscribers of one worker process saw."""

    deliveries: dict[int, list[float]] = field(default_factory=dict)
    connected: int = 0
    refused: int = 0
    ended: int = 0
    dropped: int = 0


async def subscriber(
    port: int, netuid: int, observed: Observed, counter, ready: asyncio.Event
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/v1/subnet/{netuid}/events HTTP/1.0\r\nHost: pylon\r\n"
        f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        observed.refused += 1
        with counter.get_lock():
            counter.value += 1
        writer.close()
        return
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass
    observed.connected += 1
    with counter.get_lock():
        counter.value += 1
    await ready.wait()
    kind = b""
    try:
        while True:
            line = await reader.readline()
            if not line:
                observed.ended += 1
                return
            if line.startswith(b"event: "):
                kind = line[7:].strip()
            elif line.startswith(b"data: ") and kind == b"block":
                now = time.monotonic()
                number = json.loads(line[6:])["number"]
                observed.deliveries.setdefault(number, []).append(now)
            elif kind == b"dropped":
                observed.dropped += 1
    finally:
        writer.close()


async def worker(port: int, netuid: int, count: int, counter, stop) -> Observed:
    observed = Observed()
    ready = asyncio.Event()
    tasks = []
    for i in range(0, count, 100):
        tasks += [
            asyncio.create_task(subscriber(port, netuid, observed, counter, ready))
            for _ in range(min(100, count - i))
        ]
        await asyncio.sleep(0.05)
    ready.set()
    await asyncio.get_running_loop().run_in_executor(None, stop.wait)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return observed


def worker_main(port: int, netuid: int, count: int, counter, stop, results) -> None:
    """One client process: `count` subscribers; what they saw goes back on `results`."""
    results.put(asyncio.run(worker(port, netuid, count, counter, stop)))


async def follow_chain(
    chain_port: int, heads: dict[int, float], stop: asyncio.Event
) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{chain_port}", max_size=None) as ws:
        await ws.send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "chain_subscribeNewHeads",
                    "params": [],
                }
            )
        )
        while not stop.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=1))
            except TimeoutError:
                continue
            header = message.get("params", {}).get("result")
            if isinstance(header, dict) and "number" in header:
                heads.setdefault(int(header["number"], 16), time.monotonic())


def start(
    binary: Path, work: Path, block_time: str, subscribers: int
) -> tuple[subprocess.Popen, subprocess.Popen, int, int]:
    devnet, chain_port = start_devnet(binary, work, block_time)
    port = free_port()
    (work / "none.env").write_text("")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYLON_")},
        "PYLON_ENV_FILE": str(work / "none.env"),
        "PYLON_BITTENSOR_NETWORK": f"ws://127.0.0.1:{chain_port}",
        "PYLON_BITTENSOR_ARCHIVE_NETWORK": "none",
        "PYLON_OPEN_ACCESS_TOKEN": TOKEN,
        "PYLON_HOST": "127.0.0.1",
        "PYLON_PORT": str(port),
        "PYLON_DATA_DIR": str(work / "data"),
        # Each stream holds a connection: room for all of them.
        "PYLON_MAX_CONNECTIONS": str(subscribers + 64),
        "PYLON_EVENTS_MAX_SUBSCRIBERS": str(subscribers + 64),
    }
    service = subprocess.Popen(
        [str(binary), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "service.log", "w"),  # noqa: SIM115 (the child keeps it)
        env=env,
    )
    return devnet, service, port, chain_port


async def wait_ready(port: int, netuid: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                f"GET /api/v1/subnet/{netuid}/block/latest HTTP/1.0\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
            )
            status = await reader.readline()
            writer.close()
            if b" 200 " in status:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the service did not answer in time")


async def run(
    args: argparse.Namespace, service_pid: int, port: int, chain_port: int
) -> dict:
    await wait_ready(port, args.netuid)
    base_rss = rss_mb(service_pid)
    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    stop_workers = context.Event()
    results = context.Queue()
    shares = [
        args.subscribers // args.processes
        + (1 if i < args.subscribers % args.processes else 0)
        for i in range(args.processes)
    ]
    workers = [
        context.Process(
            target=worker_main,
            args=(port, args.netuid, share, counter, stop_workers, results),
        )
        for share in shares
    ]
    for process in workers:
        process.start()
    deadline = time.monotonic() + 120
    while counter.value < args.subscribers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {counter.value} subscribers answered")
        await asyncio.sleep(0.1)
    connected_rss = rss_mb(service_pid)
    heads: dict[int, float] = {}
    stop = asyncio.Event()
    chain = asyncio.create_task(follow_chain(chain_port, heads, stop))
    # Skip the first head after subscribing (the stream starts from the next one).
    while len(heads) < 2:
        await asyncio.sleep(0.05)
    first = max(heads) + 1
    last = first + args.blocks - 1
    wall0, cpu0 = time.monotonic(), cpu_seconds(service_pid)
    peak_rss = connected_rss
    while max(heads, default=0) < last + 1:
        peak_rss = max(peak_rss, rss_mb(service_pid))
        await asyncio.sleep(0.25)
    await asyncio.sleep(3)  # the last block's events
    wall1, cpu1 = time.monotonic(), cpu_seconds(service_pid)
    load = os.getloadavg()[0]
    stop.set()
    await chain
    stop_workers.set()
    seen = [
        await asyncio.get_running_loop().run_in_executor(None, results.get)
        for _ in workers
    ]
    for process in workers:
        process.join(timeout=30)

    connected = sum(o.connected for o in seen)
    to_last, every = [], []
    incomplete = 0
    for number in range(first, last + 1):
        head = heads.get(number)
        times = [t for o in seen for t in o.deliveries.get(number, [])]
        if head is None or len(times) < connected:
            incomplete += 1
            continue
        to_last.append((max(times) - head) * 1000)
        every += [(t - head) * 1000 for t in times]
    return {
        "subscribers": args.subscribers,
        "processes": args.processes,
        "connected": connected,
        "refused": sum(o.refused for o in seen),
        "ended": sum(o.ended for o in seen),
        "dropped": sum(o.dropped for o in seen),
        "blocks": args.blocks,
        "first": first,
        "last": last,
        "incomplete_blocks": incomplete,
        "to_last_p50": statistics.median(to_last) if to_last else float("nan"),
        "to_last_p99": percentile(to_last, 99),
        "to_last_max": max(to_last, default=float("nan")),
        "every_p50": statistics.median(every) if every else float("nan"),
        "every_p99": percentile(every, 99),
        "rss_base": base_rss,
        "rss_connected": connected_rss,
        "rss_peak": peak_rss,
        "cpu_percent": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "load": load,
    }


def report(args: argparse.Namespace, result: dict, binary: Path) -> str:
    build = "release" if "release" in binary.parts else "debug (unoptimised)"
    command = "python bench/events.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    per_stream_kb = (
        (result["rss_connected"] - result["rss_base"])
        * 1024
        / max(1, result["connected"])
    )
    return f"""# Live event stream: {result["subscribers"]} concurrent subscribers on one Pylon

Command: `ulimit -n 8192; {command}` — binary `{binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary}`
(**{build} build**), `pylon devnet` sealing a block every {args.block_time}, all subscribers on
`/api/v1/subnet/{args.netuid}/events`. Machine: {os.cpu_count()} cores ({platform.machine()}), shared with
other work while this ran (1-minute load average {result["load"]:.1f} at the end of the window); the bench's {result["subscribers"]} Python subscribers ({result["processes"]} processes, one
asyncio loop each, a line parser) run on the same cores, and their own reading time is in the delays.

Delay from the devnet's new head (its `chain_subscribeNewHeads` notification arriving at the bench) to
the `block` event, over blocks {result["first"]}–{result["last"]} ({result["blocks"]} blocks):

| | p50 | p99 | max |
|---|---|---|---|
| to the **last** subscriber's `block` event | {result["to_last_p50"]:.1f} ms | {result["to_last_p99"]:.1f} ms | {result["to_last_max"]:.1f} ms |
| every delivery (all subscribers × blocks) | {result["every_p50"]:.1f} ms | {result["every_p99"]:.1f} ms | |

- Subscribers connected: {result["connected"]} (refused: {result["refused"]}); streams ended by the
  service: {result["ended"]}; `dropped` events: {result["dropped"]}; blocks some subscriber missed:
  {result["incomplete_blocks"]}.
- Service RSS: {result["rss_base"]:.1f} MiB before the subscribers, {result["rss_connected"]:.1f} MiB with
  them connected (≈ {per_stream_kb:.0f} KiB per stream), peak {result["rss_peak"]:.1f} MiB while streaming.
- Service CPU while streaming: {result["cpu_percent"]:.1f} % of one core (block events, keep-alives, and
  the hub's per-block epoch and neurons reads of the subnet).
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=30)
    parser.add_argument("--block-time", default="1s")
    parser.add_argument("--netuid", type=int, default=1)
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="client processes the subscribers are spread over (one asyncio loop each)",
    )
    default_binary = REPO / "target" / "release" / "pylon"
    if not default_binary.exists():
        default_binary = REPO / "target" / "debug" / "pylon"
    parser.add_argument("--binary", type=Path, default=default_binary)
    parser.add_argument(
        "--out", type=Path, default=None, help="write the report (markdown) here"
    )
    args = parser.parse_args()
    args.binary = args.binary.resolve()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.subscribers * 2 + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    work = Path(tempfile.mkdtemp(prefix="pylon-events-bench-"))
    devnet, service, port, chain_port = start(
        args.binary, work, args.block_time, args.subscribers
    )
    try:
        result = asyncio.run(run(args, service.pid, port, chain_port))
    finally:
        for process in (service, devnet):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    text = report(args, result, args.binary)
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    return (
        0
        if result["connected"] == args.subscribers and result["incomplete_blocks"] == 0
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
