"""What the benches share: free ports, a process's RSS, and a `pylon devnet` on its own port."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of the process in MiB (NaN once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return float("nan")


def start_devnet(binary: Path, work: Path, block_time: str) -> tuple[subprocess.Popen[str], int]:
    """`pylon devnet` on a free port, its log in `work/devnet.log`: the process and its port, once it listens."""
    chain_port = free_port()
    devnet = subprocess.Popen(
        [str(binary), "devnet", "--port", str(chain_port), "--block-time", block_time],
        stdout=subprocess.PIPE,
        stderr=open(work / "devnet.log", "w"),  # noqa: SIM115 (the child keeps it)
        text=True,
    )
    assert devnet.stdout is not None
    if "listening on" not in devnet.stdout.readline():
        raise RuntimeError("pylon devnet did not start")
    return devnet, chain_port
