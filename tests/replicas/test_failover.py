"""Two `pylon serve` on one devnet and one PostgreSQL: the leader is SIGKILLed with a weights
extrinsic in flight; the standby takes the identity's lock, finds what the dead leader sent, and
completes the job without a second extrinsic. Judged by the chain: one signed extrinsic, and
//Alice's nonce advanced once. The new leader's live event stream reports the job it resumed.

The devnet seals blocks only on `dev_newBlock`, so the extrinsic is held in the pool (the job
`submitted`) for exactly as long as the test wants: the hardest moment to lose a leader.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import engines
import httpx


def wait_for(what: str, check, timeout: float = 60.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


class WeightsEvents:
    """The `weights` events of an identity stream, read in a thread."""

    def __init__(self, base_url: str) -> None:
        self.events: list[dict] = []
        self.url = f"{base_url}/api/v1/identity/{engines.IDENTITY}/subnet/{engines.NETUID}/events"
        self.opened = threading.Event()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self) -> None:
        headers = {"Authorization": f"Bearer {engines.IDENTITY_TOKEN}"}
        with httpx.stream("GET", self.url, headers=headers, timeout=None) as response:
            assert response.status_code == 200, response.read()
            self.opened.set()
            kind = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    kind = line.removeprefix("event:").strip()
                elif line.startswith("data:") and kind == "weights":
                    self.events.append(json.loads(line.removeprefix("data:")))


def test_the_standby_completes_a_dead_leaders_job_with_one_extrinsic(postgres) -> None:
    url = postgres.create_database("failover")
    workdir = Path(tempfile.mkdtemp(prefix="pylon-failover-"))
    alice = engines.write_alice_hotkey(workdir / "wallets")
    with engines.devnet() as chain:
        a = engines.serve(workdir, "a", chain, url)
        b = engines.serve(workdir, "b", chain, url)
        try:
            a.start()
            ready_a = a.wait_ready()
            wait_for(
                "a to lead",
                lambda: (a.ready() or {}).get("leading") == [engines.IDENTITY],
            )
            b.start()
            ready_b = b.wait_ready()
            assert ready_a.get("leading") in ([], ["dev"]), ready_a
            assert ready_b["leading"] == [] and ready_b["standby"] == ["dev"], ready_b
            assert 'pylon_weights_leader{identity="dev"} 0' in b.metrics()
            assert 'pylon_weights_leader{identity="dev"} 1' in a.metrics()

            nonce_before = engines.next_nonce(chain, alice)
            start_block = engines.head_number(chain)

            # The request goes to the standby: the row is the hand-off, the leader signs.
            answer = b.put_weights({alice: 1.0})
            job_id = answer["job_id"]

            def submitted():
                status, job = b.job_status()
                assert status == 200, job
                return (
                    job
                    if job["status"] == "submitted" and job["extrinsic_hash"]
                    else None
                )

            job = wait_for("the leader to sign and send", submitted)
            assert job["job_id"] == job_id
            # Readable through either instance while the leader lives.
            status, through_a = a.job_status()
            assert status == 200 and through_a["job_id"] == job_id
            assert engines.next_nonce(chain, alice) == nonce_before + 1, (
                "the extrinsic is in the pool"
            )

            events = WeightsEvents(b.url)
            assert events.opened.wait(30), "the standby's event stream did not open"
            a.kill()

            # The standby takes over; status stays readable through it all along.
            def b_leads():
                status, job = b.job_status()
                assert status == 200 and job["job_id"] == job_id, job
                return (b.ready() or {}).get("leading") == [engines.IDENTITY]

            wait_for("b to take the lead", b_leads, timeout=30)
            assert 'pylon_weights_leader{identity="dev"} 1' in b.metrics()

            def included():
                chain.seal()
                status, job = b.job_status()
                assert status == 200 and job["job_id"] == job_id, job
                return job if job["status"] == "included" else None

            final = wait_for("the job to be included", included, every=0.5)
            assert final["extrinsic_hash"] == job["extrinsic_hash"]
            assert final["attempts"] == 1, final
            # The job the new leader resumed is on its identity stream, up to its inclusion.
            wait_for(
                "the resumed job's weights event",
                lambda: any(e["job_id"] == str(job_id) and e["status"] == "included" for e in events.events),
                timeout=30,
            )

            # A few more blocks: nothing else arrives from either instance.
            chain.seal(3)
            signed = engines.signed_extrinsics(chain, start_block)
            assert len(signed) == 1, signed
            assert signed[0][0] == final["included_block"]
            assert engines.next_nonce(chain, alice) == nonce_before + 1

            # The restarted old leader is a standby and answers the same status.
            a.start()
            again = a.wait_ready()
            assert again["leading"] == [] and again["standby"] == ["dev"], again
            status, through_a = a.job_status()
            assert status == 200 and through_a["status"] == "included", through_a
        finally:
            a.stop()
            b.stop()
