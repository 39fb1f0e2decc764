"""The live event stream (`…/subnet/{netuid}/events`) judged by async-substrate-interface's reads
of the devnet.

`pylon dev` runs the epochs scenario (three subnets due in the same block, the third deferred by
`MaxEpochsPerBlock`) with blocks sealed only on `dev_newBlock`, so every block is known. Three
streams are open while 24 blocks are sealed and a weights PUT is made: netuid 1 and netuid 3 on
the open-access route, netuid 1 on the dev identity's route. Then:

- `block` events: every sealed block once, in order, with the chain's own hash and timestamp;
- `epoch` events: exactly the blocks where the chain's `LastEpochBlock` became the block and
  `SubnetEpochIndex` moved, with that index, and `next_start` as the runtime API (or, where it
  is not answered, `LastEpochBlock + Tempo` / `PendingEpochAt`) says at that block;
- `neurons` events: exactly the blocks whose neurons answer differs from the previous block's,
  with the ETag `GET …/block/{n}/neurons` gives;
- `weights` events: only on the identity stream, for the PUT's job, ending `included` at the
  block the status route names.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from async_substrate_interface import SubstrateInterface

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pylon_dev import start_pylon_serve

SCENARIO = Path(__file__).with_name("epochs_scenario.toml")
BLOCKS = 24


class EventReader(threading.Thread):
    """Reads one SSE stream in the background (a tiny parser of `id:`/`event:`/`data:` lines)."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.token = token
        self.events: list[dict] = []
        self.status: int | None = None
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.retry: str | None = None

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.stream(
            "GET", self.url, headers=headers, timeout=httpx.Timeout(5, read=60)
        ) as response:
            self.status = response.status_code
            self.connected.set()
            fields: dict[str, str] = {}
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line == "":
                    if "event" in fields:
                        self.events.append(
                            {
                                "id": fields.get("id"),
                                "kind": fields["event"],
                                "data": json.loads(fields.get("data", "null")),
                            }
                        )
                    fields = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "retry":
                    self.retry = value
                elif name == "data" and "data" in fields:
                    fields["data"] += "\n" + value
                else:
                    fields[name] = value

    def of(self, kind: str) -> list[dict]:
        return [e["data"] for e in list(self.events) if e["kind"] == kind]

    def saw_block(self, number: int) -> bool:
        return any(d["number"] == number for d in self.of("block"))


@pytest.fixture(scope="module")
def dev():
    # The production command, on the devnet's new JSON-RPC API and spec-424 runtime.
    pylon = start_pylon_serve(block_time="0", devnet_args=("--scenario", str(SCENARIO)))
    try:
        yield pylon
    finally:
        pylon.stop()


def _read(substrate: SubstrateInterface, item: str, netuid: int, block_hash: str):
    return substrate.query(
        "SubtensorModule", item, [netuid], block_hash=block_hash
    ).value


def _next_epoch_start(substrate, netuid: int, block_hash: str) -> int | None:
    """The chain's `get_next_epoch_start_block` at the block where the devnet answers it, else
    the same rule from storage (`LastEpochBlock + Tempo`, or the pending fire if sooner)."""
    try:
        answer = substrate.runtime_call(
            "SubnetInfoRuntimeApi",
            "get_next_epoch_start_block",
            [netuid],
            block_hash=block_hash,
        )
    except Exception:  # noqa: BLE001 - the API is not served: compute from storage
        answer = None
    value = getattr(answer, "value", answer)
    if value is not None:
        return int(value)
    tempo = int(_read(substrate, "Tempo", netuid, block_hash))
    last = int(_read(substrate, "LastEpochBlock", netuid, block_hash))
    pending = int(_read(substrate, "PendingEpochAt", netuid, block_hash))
    auto = last + tempo
    return min(auto, pending) if pending else auto


def _neurons_part(client: httpx.Client, netuid: int, block: int) -> tuple[dict, str]:
    answer = client.get(f"/api/v1/subnet/{netuid}/block/{block}/neurons")
    assert answer.status_code == 200, answer.text
    return answer.json()["neurons"], answer.headers["etag"]


def test_the_stream_matches_the_chain_block_by_block(dev):
    substrate = SubstrateInterface(dev.chain_url)
    open_auth = {"Authorization": f"Bearer {dev.open_access_token}"}
    identity_auth = {"Authorization": f"Bearer {dev.identity_token}"}
    base = dev.url
    netuid = dev.identity_netuid
    identity_route = f"{base}/api/v1/identity/{dev.identity_name}/subnet/{netuid}"

    # An unknown subnet is a 404 before any stream opens.
    missing = httpx.get(f"{base}/api/v1/subnet/99/events", headers=open_auth)
    assert missing.status_code == 404, missing.text

    readers = {
        "open1": EventReader(
            f"{base}/api/v1/subnet/{netuid}/events", dev.open_access_token
        ),
        "open3": EventReader(f"{base}/api/v1/subnet/3/events", dev.open_access_token),
        "identity1": EventReader(f"{identity_route}/events", dev.identity_token),
    }
    for reader in readers.values():
        reader.start()
        assert reader.connected.wait(20)
        assert reader.status == 200

    # `pylon dev` sealed the first block(s) itself; the streams see every block from the next.
    first = substrate.get_block_number(substrate.get_chain_head()) + 1
    last = first + BLOCKS - 1
    job_id = None
    for block in range(first, last + 1):
        substrate.rpc_request("dev_newBlock", [])
        if block < first + 4:
            continue  # sealed back to back: the head watch may skip some; the stream may not
        if block == first + 4:
            time.sleep(1)
            put = httpx.put(
                f"{identity_route}/weights",
                headers=identity_auth,
                json={"weights": {dev.identity_hotkey: 1.0}},
            )
            assert put.status_code == 200, put.text
            job_id = str(put.json()["job_id"])
        time.sleep(0.3)

    deadline = time.monotonic() + 60
    while not all(r.saw_block(last) for r in readers.values()):
        assert time.monotonic() < deadline, {
            k: [d["number"] for d in r.of("block")] for k, r in readers.items()
        }
        time.sleep(0.2)
    for reader in readers.values():
        reader.stop.set()
    assert all(r.retry == "2000" for r in readers.values())

    hashes = {n: substrate.get_block_hash(n) for n in range(last + 1)}

    # `block`: every sealed block once, in order, the chain's hashes and timestamps; ids increase.
    for name, reader in readers.items():
        blocks = reader.of("block")
        assert [b["number"] for b in blocks] == list(range(first, last + 1)), name
        for b in blocks:
            assert b["hash"] == hashes[b["number"]], (name, b)
            now_ms = substrate.query("Timestamp", "Now", block_hash=hashes[b["number"]])
            assert b["timestamp"] == int(now_ms.value) // 1000, (name, b)
        ids = [tuple(map(int, e["id"].split("-"))) for e in reader.events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), name

    # `epoch`: exactly where the chain's own schedule storage says the epoch ran.
    for name, subnet in (("open1", netuid), ("open3", 3)):
        fired = []
        for block in range(first, last + 1):
            at, before = hashes[block], hashes[block - 1]
            index = int(_read(substrate, "SubnetEpochIndex", subnet, at))
            if int(
                _read(substrate, "LastEpochBlock", subnet, at)
            ) == block and index > int(
                _read(substrate, "SubnetEpochIndex", subnet, before)
            ):
                fired.append(
                    {
                        "netuid": subnet,
                        "index": index,
                        "block": block,
                        "next_start": _next_epoch_start(substrate, subnet, at),
                    }
                )
        assert len(fired) >= 2, (name, fired)
        assert readers[name].of("epoch") == fired, name
    # The deferred subnet fires a block after the other two (MaxEpochsPerBlock = 2).
    assert [e["block"] for e in readers["open3"].of("epoch")] == [
        e["block"] + 1 for e in readers["open1"].of("epoch")
    ]

    # `neurons`: exactly the blocks whose answer changed, with that answer's ETag.
    with httpx.Client(base_url=base, headers=open_auth) as client:
        for name, subnet in (("open1", netuid), ("open3", 3)):
            changed = []
            # The stream's first block has no previous one to compare with (it was not followed).
            previous, _ = _neurons_part(client, subnet, first)
            for block in range(first + 1, last + 1):
                neurons, etag = _neurons_part(client, subnet, block)
                if neurons != previous:
                    changed.append({"netuid": subnet, "block": block, "etag": etag})
                previous = neurons
            assert readers[name].of("neurons") == changed, name
        # Setting weights changed netuid 1's neurons (the validator's `last_update`).
        assert readers["open1"].of("neurons"), (
            "the weights inclusion changed the neurons"
        )

    # `weights`: the identity stream only, the PUT's job, ending `included` where the status
    # route says.
    assert not readers["open1"].of("weights")
    assert not readers["open3"].of("weights")
    weights = readers["identity1"].of("weights")
    assert weights, readers["identity1"].events
    assert {w["job_id"] for w in weights} == {job_id}
    assert all(w["netuid"] == netuid for w in weights)
    assert weights[-1]["status"] == "included", weights
    assert weights[0]["status"] in ("pending", "submitted"), weights
    status = httpx.get(f"{identity_route}/weights/status", headers=identity_auth).json()
    assert status["status"] == "included"
    assert weights[-1]["block"] == status["included_block"]
    # The chain holds the weights at that block: the validator's Weights row is set there.
    included_at = hashes[status["included_block"]]
    row = substrate.query(
        "SubtensorModule", "Weights", [netuid, 0], block_hash=included_at
    ).value
    assert row, "Alice's (uid 0) weights row at the inclusion block"


def test_last_event_id_resumes_and_a_lost_one_is_a_gap(dev):
    substrate = SubstrateInterface(dev.chain_url)
    base = f"{dev.url}/api/v1/subnet/{dev.identity_netuid}/events"
    auth = {"Authorization": f"Bearer {dev.open_access_token}"}
    reader = EventReader(base, dev.open_access_token)
    reader.start()
    assert reader.connected.wait(20)
    for _ in range(3):
        substrate.rpc_request("dev_newBlock", [])
        time.sleep(0.3)
    deadline = time.monotonic() + 30
    while len(reader.of("block")) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    reader.stop.set()
    first = reader.events[0]

    def first_events(last_event_id: str, count: int) -> list[dict]:
        got: list[dict] = []
        with httpx.stream(
            "GET",
            base,
            headers={**auth, "Last-Event-ID": last_event_id},
            timeout=httpx.Timeout(5, read=30),
        ) as response:
            assert response.status_code == 200
            fields: dict[str, str] = {}
            for line in response.iter_lines():
                if line == "" and "event" in fields:
                    got.append(
                        {
                            "id": fields.get("id"),
                            "kind": fields["event"],
                            "data": json.loads(fields["data"]),
                        }
                    )
                    fields = {}
                    if len(got) == count:
                        return got
                elif line and not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        return got

    # Resuming after the first event replays the rest, exactly as sent the first time.
    replayed = first_events(first["id"], len(reader.events) - 1)
    assert replayed == reader.events[1:]
    # An id the buffer never held: one `gap`, naming it.
    gap = first_events("0-0", 1)[0]
    assert gap["kind"] == "gap" and gap["data"]["last_event_id"] == "0-0"
