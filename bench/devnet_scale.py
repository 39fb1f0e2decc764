"""Devnet start-up time and memory: the default scenario, and 64 subnets x 256 neurons.

Usage: python bench/devnet_scale.py [path/to/devnet-binary]
(default: target/release/examples/devnet if built, else target/debug/examples/devnet).
Prints seconds to the `listening on` line and VmRSS after 60 blocks at 100 ms.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def binary() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    release = ROOT / "target" / "release" / "examples" / "devnet"
    return (
        release
        if release.exists()
        else ROOT / "target" / "debug" / "examples" / "devnet"
    )


def measure(label: str, extra: list[str]) -> None:
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(binary()), "--port", "0", "--block-time-ms", "100", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    started = time.monotonic() - start
    time.sleep(6)
    status = Path(f"/proc/{proc.pid}/status").read_text()
    rss_kb = int(status.split("VmRSS:")[1].split()[0])
    proc.terminate()
    proc.wait(timeout=10)
    print(
        f"{label}: {line!r} after {started:.2f} s; RSS {rss_kb / 1024:.0f} MB after ~60 blocks"
    )


def main() -> None:
    measure("default scenario", [])
    big = {"subnets": [{"netuid": n, "generated_neurons": 256} for n in range(1, 65)]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(big, f)
    measure("64 subnets x 256 neurons", ["--scenario", f.name])
    Path(f.name).unlink()


if __name__ == "__main__":
    main()
