#!/usr/bin/env bash
# Load benchmark of the product's hot path: latest neurons of a 256-neuron subnet, 64 connections.
#
# Runs `pylon dev` (release build), then, for each content coding a client asks for (identity, gzip,
# zstd), wrk against Pylon and against a bare server answering the same bytes Pylon sends for that
# coding (the ceiling), in alternating rounds of one run; figures are the rounds' medians. Reports req/s, p50/p99 latency, the ratio to the
# ceiling, Pylon's peak RSS, and the chain RPCs the devnet served per 1000 HTTP requests.
# Results go to bench/results/neurons_load.md.
#
# Usage: bench/neurons_load.sh [duration, default 30s] [connections, default 64]
#   PYLON_BENCH_BIN=path  bench that pylon binary instead of building target/release/pylon (to
#                         compare two builds: copy the first aside, rebuild, run both)
#   PYLON_BENCH_OUT=path  write the results there instead of bench/results/neurons_load.md
#   PYLON_BENCH_ROUNDS=n  rounds per coding, Pylon and the ceiling alternating (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-30s}
connections=${2:-64}
rounds=${PYLON_BENCH_ROUNDS:-3}
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
# Median req/s, p50, p99 and the non-2xx count over the rounds of one server and coding.
medians() {
    python3 - "$@" <<'PY'
import re, statistics, sys
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)$", value).groups()
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
rows = []
for path in sys.argv[2:]:
    text = open(path).read()
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    rows.append((float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
                 ms(lat["50"]), ms(lat["99"]), int(errors.group(1)) if errors else 0))
rps, p50, p99 = (statistics.median(r[i] for r in rows) for i in range(3))
if sys.argv[1] == "row":
    print(f"{rps:.0f} | {p50:.2f}ms | {p99:.2f}ms | {sum(r[3] for r in rows)}")
else:
    print(rps, p99)
PY
}

# Rounds alternate Pylon and the ceiling, so a slow spell of a shared machine hits both alike;
# each figure is the median of the rounds.
rpc_before=$(rpc_count)
for coding in $codings; do
    for round in $(seq 1 "$rounds"); do
        run_wrk "$url$path" "$coding" > "$work/pylon.$coding.$round.txt"
        run_wrk "${bare_url[$coding]}$path" "$coding" > "$work/bare.$coding.$round.txt"
    done
done
rpc_after=$(rpc_count)
rss_kb=$(grep VmHWM "/proc/$pylon_pid/status" | grep -oE '[0-9]+')
pylon_requests=$(cat "$work"/pylon.*.txt | grep -oE '^\s+[0-9]+ requests in' | grep -oE '[0-9]+' | python3 -c "import sys; print(sum(map(int, sys.stdin.read().split())))")

if [[ "$rpc_before" =~ ^[0-9]+$ && "$rpc_after" =~ ^[0-9]+$ ]]; then
    rpc_per_1000=$(python3 -c "print(f'{($rpc_after - $rpc_before) * 1000 / $pylon_requests:.3f}')")
else
    rpc_per_1000="n/a (devnet has no dev_rpcCallCount)"
fi

mkdir -p "$(dirname "$out")"
{
    echo "# Latest neurons under load"
    echo
    echo "Command: \`${PYLON_BENCH_BIN:+PYLON_BENCH_BIN=$pylon_bin }bench/neurons_load.sh $duration $connections\` ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t$threads -c$connections -d$duration, $rounds alternating rounds, medians)."
    echo "Subnet: netuid 1 of the built-in devnet scenario, $neurons neurons, $(wc -c < "$work/neurons.json") bytes of JSON per response."
    echo
    echo "| coding | bytes | server | req/s | p50 | p99 | non-2xx |"
    echo "|---|---|---|---|---|---|---|"
    for coding in $codings; do
        bytes=$(wc -c < "$work/body.$coding")
        echo "| $coding | $bytes | Pylon (\`pylon dev\`, release) | $(medians row "$work"/pylon."$coding".*.txt) |"
        echo "| $coding | $bytes | bare server, same bytes (ceiling) | $(medians row "$work"/bare."$coding".*.txt) |"
    done
    echo
    for coding in $codings; do
        read -r p_rps p_p99 <<< "$(medians pair "$work"/pylon."$coding".*.txt)"
        read -r b_rps b_p99 <<< "$(medians pair "$work"/bare."$coding".*.txt)"
        python3 -c "print(f'- $coding: Pylon {$p_rps / $b_rps:.2f}x the ceiling\'s throughput, p99 {$p_p99 / $b_p99:.2f}x the ceiling\'s.')"
    done
    echo "- Pylon peak RSS during the run (whole \`pylon dev\` process, devnet included): $((rss_kb / 1024)) MiB"
    echo "  (the devnet keeps every block's state, as an archive node does, so this grows with the run's length)."
    echo "- Chain RPCs served by the devnet per 1000 HTTP requests: $rpc_per_1000 (all of them the"
    echo "  per-block prefetch of the new head: no reader request reached the chain)."
    echo "- wrk and both servers share the machine's cores, so absolute numbers are lower than on a"
    echo "  dedicated host; the ratio to the ceiling is the figure to track."
} > "$out"
cat "$out"
