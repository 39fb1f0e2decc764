#!/usr/bin/env bash
# Load benchmark of the product's hot path: latest neurons of a 256-neuron subnet, 64 connections.
#
# Runs `pylon dev` (release build), then, for each content coding a client asks for (identity, gzip,
# zstd), wrk against Pylon and against a bare server answering the same bytes Pylon sends for that
# coding (the ceiling), side by side in one run. Reports req/s, p50/p99 latency, the ratio to the
# ceiling, Pylon's peak RSS, and the chain RPCs the devnet served per 1000 HTTP requests.
# Results go to bench/results/neurons_load.md.
#
# Usage: bench/neurons_load.sh [duration, default 30s] [connections, default 64]
#   PYLON_BENCH_BIN=path  bench that pylon binary instead of building target/release/pylon (to
#                         compare two builds: copy the first aside, rebuild, run both)
#   PYLON_BENCH_OUT=path  write the results there instead of bench/results/neurons_load.md
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-30s}
connections=${2:-64}
threads=2
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

pylon_bin=${PYLON_BENCH_BIN:-target/release/pylon}
out=${PYLON_BENCH_OUT:-bench/results/neurons_load.md}
if [[ -z "${PYLON_BENCH_BIN:-}" ]]; then
    cargo build --release --quiet -p pylon --bin pylon --example bare_bytes
else
    cargo build --release --quiet -p pylon --example bare_bytes
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$pylon_bin" dev --port 0 --chain-port 0 --data-dir "$work/dev" > "$work/dev.out" 2> "$work/dev.err" &
pylon_pid=$!
for _ in $(seq 1 100); do grep -q '^PYLON_DEV_IDENTITY_HOTKEY=' "$work/dev.out" 2>/dev/null && break; sleep 0.2; done
value() { grep "^$1=" "$work/dev.out" | cut -d= -f2-; }
url=$(value PYLON_DEV_URL)
chain_http=$(value PYLON_DEV_CHAIN | sed 's#^ws://#http://#')
token=$(value PYLON_OPEN_ACCESS_TOKEN)
path="/api/v1/subnet/1/block/latest/neurons"

curl -sf -H "Authorization: Bearer $token" "$url$path" > "$work/neurons.json"
neurons=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['neurons']))" "$work/neurons.json")

codings="identity gzip zstd"
# The exact bytes Pylon answers each coding with (curl without --compressed keeps them encoded).
declare -A bare_url
for coding in $codings; do
    curl -sf -H "Authorization: Bearer $token" -H "Accept-Encoding: $coding" "$url$path" > "$work/body.$coding"
    target/release/examples/bare_bytes "$work/body.$coding" 0 "$coding" > "$work/bare.$coding.out" &
    for _ in $(seq 1 50); do grep -q listening "$work/bare.$coding.out" 2>/dev/null && break; sleep 0.1; done
    bare_url[$coding]=$(sed 's/^listening on //' "$work/bare.$coding.out")
done

rpc_count() {
    curl -sf -H 'Content-Type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"dev_rpcCallCount","params":[]}' "$chain_http" |
        python3 -c "import json,sys; print(json.load(sys.stdin).get('result', 'n/a'))"
}

run_wrk() { wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $token" -H "Accept-Encoding: $2" "$1"; }
summarize() {
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{float(rps):.0f} | {lat.get('50')} | {lat.get('99')} | {errors.group(1) if errors else 0}")
PY
}

rpc_before=$(rpc_count)
run_wrk "$url$path" identity > "$work/pylon.identity.txt"
rpc_after=$(rpc_count)
pylon_requests=$(grep -oE '^\s+[0-9]+ requests in' "$work/pylon.identity.txt" | grep -oE '[0-9]+')
for coding in gzip zstd; do run_wrk "$url$path" "$coding" > "$work/pylon.$coding.txt"; done
rss_kb=$(grep VmHWM "/proc/$pylon_pid/status" | grep -oE '[0-9]+')
for coding in $codings; do run_wrk "${bare_url[$coding]}$path" "$coding" > "$work/bare.$coding.txt"; done

if [[ "$rpc_before" =~ ^[0-9]+$ && "$rpc_after" =~ ^[0-9]+$ ]]; then
    rpc_per_1000=$(python3 -c "print(f'{($rpc_after - $rpc_before) * 1000 / $pylon_requests:.3f}')")
else
    rpc_per_1000="n/a (devnet has no dev_rpcCallCount)"
fi

mkdir -p "$(dirname "$out")"
{
    echo "# Latest neurons under load"
    echo
    echo "Command: \`${PYLON_BENCH_BIN:+PYLON_BENCH_BIN=$pylon_bin }bench/neurons_load.sh $duration $connections\` ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t$threads -c$connections -d$duration)."
    echo "Subnet: netuid 1 of the built-in devnet scenario, $neurons neurons, $(wc -c < "$work/neurons.json") bytes of JSON per response."
    echo
    echo "| coding | bytes | server | req/s | p50 | p99 | non-2xx |"
    echo "|---|---|---|---|---|---|---|"
    for coding in $codings; do
        bytes=$(wc -c < "$work/body.$coding")
        echo "| $coding | $bytes | Pylon (\`pylon dev\`, release) | $(summarize "$work/pylon.$coding.txt") |"
        echo "| $coding | $bytes | bare server, same bytes (ceiling) | $(summarize "$work/bare.$coding.txt") |"
    done
    echo
    for coding in $codings; do
        python3 - "$coding" "$work/pylon.$coding.txt" "$work/bare.$coding.txt" <<'PY'
import re, sys
def read(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", text, re.M)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    return rps, float(p99.group(1)) * scale
coding, (p_rps, p_p99), (b_rps, b_p99) = sys.argv[1], read(sys.argv[2]), read(sys.argv[3])
print(f"- {coding}: Pylon {p_rps / b_rps:.2f}x the ceiling's throughput, p99 {p_p99 / b_p99:.2f}x the ceiling's.")
PY
    done
    echo "- Pylon peak RSS during the run (whole \`pylon dev\` process, devnet included): $((rss_kb / 1024)) MiB."
    echo "- Chain RPCs served by the devnet per 1000 HTTP requests: $rpc_per_1000 (all of them the"
    echo "  per-block prefetch of the new head: no reader request reached the chain)."
    echo "- wrk and both servers share the machine's cores, so absolute numbers are lower than on a"
    echo "  dedicated host; the ratio to the ceiling is the figure to track."
} > "$out"
cat "$out"
