#!/usr/bin/env bash
# Past-block reads through nginx (deploy/nginx/pylon-cache.conf, in front of two Pylon replicas)
# vs straight to one Pylon: req/s, p50/p99 and the cache's hit ratio (from nginx's access log).
#
# Starts a devnet (70 sealed blocks, so the read block is settled), two `pylon serve` (release
# build) and nginx, all throwaway on free ports (tests/replicas/engines.py), then wrk on
# /api/v1/subnet/1/block/2/neurons. Results: bench/results/replicas.md.
#
# Usage: bench/replicas.sh [duration, default 20s] [connections, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-20s}
connections=${2:-64}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# PYLON_BIN picks another build (e.g. the debug one); the release build by default.
if [ -z "${PYLON_BIN:-}" ]; then
    cargo build --release --quiet -p pylon --bin pylon
    export PYLON_BIN="$PWD/target/release/pylon"
fi
python=.venv/bin/python
[ -x "$python" ] || python=python3

"$python" - "$duration" "$connections" <<'PY'
import re, subprocess, sys, tempfile
from pathlib import Path
sys.path.insert(0, "tests/replicas")
import engines

duration, connections = sys.argv[1], sys.argv[2]
path = "/api/v1/subnet/1/block/2/neurons"


def wrk(url):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency",
         "-H", f"Authorization: Bearer {engines.OPEN_TOKEN}", "-H", "Accept-Encoding: zstd, gzip",
         url + path],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat.get("50"), lat.get("99"), int(errors.group(1)) if errors else 0


work = Path(tempfile.mkdtemp(prefix="pylon-bench-replicas-"))
engines.write_alice_hotkey(work / "wallets")
with engines.devnet() as chain:
    chain.seal(70)
    replicas = [engines.serve(work, n, chain, None) for n in ("a", "b")]
    for r in replicas:
        r.env["RUST_LOG"] = "warn"
        r.start()
    try:
        for r in replicas:
            r.wait_ready()
        with engines.nginx([f"127.0.0.1:{r.port}" for r in replicas]) as cache:
            direct = wrk(replicas[0].url)
            cached = wrk(f"http://127.0.0.1:{cache.port}")
            log = (cache.prefix / "logs" / "access.log").read_text().splitlines()
    finally:
        for r in replicas:
            r.stop()
# The access log has one line per request: "$upstream_cache_status $status".
hits = sum(1 for line in log if line.startswith("HIT "))
print("| path | req/s | p50 | p99 | non-2xx | cache hit ratio |")
print("|---|---|---|---|---|---|")
print(f"| straight to one Pylon | {direct[0]:.0f} | {direct[1]} | {direct[2]} | {direct[3]} | - |")
print(f"| nginx cache, two replicas | {cached[0]:.0f} | {cached[1]} | {cached[2]} | {cached[3]} | "
      f"{hits / max(len(log), 1):.4f} ({hits} of {len(log)}) |")
PY
