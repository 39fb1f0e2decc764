#!/usr/bin/env python3
"""Failover of the weights signer: two `pylon serve` sharing one PostgreSQL on one devnet.

Each round: a weights job is PUT through the standby, the leader signs it (extrinsic in the
pool, job `submitted`), the leader is SIGKILLed; we time how long until the standby leads
(holds the identity's lock, `/ready`) and until the job is included through it, then restart
the killed one as the new standby. Blocks are sealed every `--block-ms` by this script.

Reported: time from the kill to the next leader (lock taken) and to the job's inclusion (the
next leader first waits 2 blocks for the dead one's extrinsic, then finds it), jobs lost (must
be 0) and double submits (signed extrinsics beyond one per job: must be 0).

    .venv/bin/python bench/failover.py --rounds 5        # PYLON_BIN=target/debug/pylon by default
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "replicas"))

import engines


def wait_for(check, timeout: float = 60.0, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block-ms", type=int, default=500)
    # The built-in scenario's WeightsSetRateLimit is 100 blocks: rounds closer than that would
    # measure the chain's rate limit (RateLimitExceeded, retried with backoff), not the failover.
    parser.add_argument("--gap-blocks", type=int, default=105)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pylon-bench-failover-"))
    alice = engines.write_alice_hotkey(workdir / "wallets")
    to_lead, to_include, lost = [], [], 0
    with engines.postgres() as pg, engines.devnet() as chain:
        url = pg.create_database("bench")
        nodes = [engines.serve(workdir, n, chain, url) for n in ("a", "b")]
        sealing = threading.Event()

        def seal_blocks() -> None:
            while True:
                time.sleep(args.block_ms / 1000)
                if sealing.is_set():
                    chain.seal()

        threading.Thread(target=seal_blocks, daemon=True).start()
        try:
            nodes[0].start()
            nodes[0].wait_ready()
            wait_for(lambda: (nodes[0].ready() or {}).get("leading") == ["dev"])
            nodes[1].start()
            nodes[1].wait_ready()
            leader, standby = nodes
            start_block = engines.head_number(chain)
            nonce_before = engines.next_nonce(chain, alice)
            for n in range(args.rounds):
                job_id = standby.put_weights({alice: 1.0 + n})["job_id"]

                def submitted(job_id=job_id, standby=standby):
                    _, job = standby.job_status()
                    return (
                        job["job_id"] == job_id
                        and job["status"] == "submitted"
                        and job["extrinsic_hash"]
                    )

                wait_for(submitted)
                leader.kill()
                killed = time.monotonic()
                sealing.set()
                wait_for(lambda s=standby: (s.ready() or {}).get("leading") == ["dev"])
                to_lead.append(time.monotonic() - killed)
                included = float("nan")
                try:
                    wait_for(
                        lambda s=standby: s.job_status()[1]["status"] == "included",
                        timeout=120,
                    )
                    included = time.monotonic() - killed
                    to_include.append(included)
                except TimeoutError:
                    lost += 1
                sealing.clear()
                print(
                    f"round {n + 1}: new leader in {to_lead[-1]:.2f} s, job included in {included:.2f} s",
                    flush=True,
                )
                leader.start()
                leader.wait_ready()
                leader, standby = standby, leader
                chain.seal(args.gap_blocks)
            chain.seal(3)
            signed = engines.signed_extrinsics(chain, start_block)
            sent = engines.next_nonce(chain, alice) - nonce_before
        finally:
            for node in nodes:
                node.stop()
    double = len(signed) - (args.rounds - lost)
    print()
    print(
        f"rounds: {args.rounds}, block time {args.block_ms} ms (sealed by the script)"
    )
    print(
        f"kill -> next leader holds the lock: median {statistics.median(to_lead):.2f} s, "
        f"max {max(to_lead):.2f} s"
    )
    if to_include:
        print(
            f"kill -> job included through the new leader: median "
            f"{statistics.median(to_include):.2f} s, max {max(to_include):.2f} s"
        )
    print(f"jobs lost: {lost}")
    print(
        f"double submits: {double} (signed extrinsics {len(signed)}, nonce advanced {sent})"
    )
    if lost or double:
        sys.exit(1)


if __name__ == "__main__":
    main()
