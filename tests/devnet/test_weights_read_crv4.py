"""Pylon's on-chain weights read with a non-empty CRv4 commit list, judged by async-substrate-interface.

On a commit-reveal subnet (`pylon dev`, netuid 1, //Alice the identity), a weights PUT through the service
makes a drand-timelocked commit. At the commit's block, `…/weights/self` lists it as pending (epoch, commit
block, reveal round) exactly as ASI decodes `TimelockedWeightCommits` there; once the chain reveals it, the
commit is gone and the `Weights` row is what ASI reads and what the job sent.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest
from async_substrate_interface import SubstrateInterface

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pylon_dev import PylonDev, start_pylon_dev
from test_crv4_epoch_schedule import scenario as crv4_scenario

NETUID = 1
TEMPO = 30
BLOCK_SECONDS = 0.25


def scenario(tmp: Path) -> Path:
    """Netuid 1 with commit-reveal on, short epochs and a one-epoch reveal period (//Alice, the
    dev identity, its validator): the epoch-schedule tests' subnet."""
    return crv4_scenario(TEMPO, tmp)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory):
    pylon = start_pylon_dev(
        "--block-time",
        f"{int(BLOCK_SECONDS * 1000)}ms",
        "--scenario",
        str(scenario(tmp_path_factory.mktemp("crv4-read"))),
    )
    substrate = SubstrateInterface(pylon.chain_url)
    try:
        yield pylon, substrate
    finally:
        substrate.close()
        pylon.stop()


def identity_url(pylon: PylonDev) -> str:
    return f"{pylon.url}/api/v1/identity/{pylon.identity_name}/subnet/{NETUID}"


def get(pylon: PylonDev, url: str) -> dict:
    answer = httpx.get(
        url, headers={"Authorization": f"Bearer {pylon.identity_token}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def head(substrate: SubstrateInterface) -> int:
    return substrate.get_block_number(substrate.get_chain_head())


def asi_commits(substrate: SubstrateInterface, at: str, hotkey: str) -> list[dict]:
    """`TimelockedWeightCommits[netuid][*]` at block `at` as ASI decodes it: the hotkey's entries."""
    found = []
    for key, commits in substrate.query_map(
        "SubtensorModule", "TimelockedWeightCommits", [NETUID], block_hash=at
    ):
        epoch = getattr(key, "value", key)
        if isinstance(epoch, (list, tuple)):  # the whole key, where ASI gives it
            epoch = epoch[-1]
        for who, commit_block, _ciphertext, reveal_round in getattr(
            commits, "value", commits
        ):
            if who == hotkey:
                found.append(
                    {
                        "epoch": epoch,
                        "commit_block": commit_block,
                        "reveal_round": reveal_round,
                    }
                )
    return sorted(found, key=lambda c: c["commit_block"])


def test_a_crv4_commit_is_pending_as_the_chain_holds_it_then_revealed_into_the_row(dev):
    pylon, substrate = dev
    deadline = time.monotonic() + 30
    while head(substrate) < 4:  # let the measured block time settle
        assert time.monotonic() < deadline
        time.sleep(0.1)
    hyper = get(pylon, f"{identity_url(pylon)}/block/latest/hyperparameters")
    assert hyper["commit_reveal_weights_enabled"] is True

    neurons = get(pylon, f"{identity_url(pylon)}/block/latest/neurons")["neurons"]
    others = sorted(h for h in neurons if h != pylon.identity_hotkey)
    asked = {pylon.identity_hotkey: 1.0, others[0]: 0.5}
    answer = httpx.put(
        f"{identity_url(pylon)}/weights",
        headers={"Authorization": f"Bearer {pylon.identity_token}"},
        json={"weights": asked},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 60
    while True:
        job = get(pylon, f"{identity_url(pylon)}/weights/status")
        if job["status"] == "included":
            break
        assert job["status"] in ("pending", "submitted"), job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    committed = job["included_block"]
    assert job["commit"] is not None, "a commit-reveal subnet gets a timelocked commit"

    # At the commit's block: the commit is pending, as ASI decodes the storage there.
    own = get(pylon, f"{identity_url(pylon)}/block/{committed}/weights/self")
    assert own["block"]["number"] == committed
    expected = asi_commits(substrate, own["block"]["hash"], pylon.identity_hotkey)
    assert expected, "ASI sees no commit of the identity at its inclusion block"
    assert own["pending_commits"] == expected
    mine = [c for c in own["pending_commits"] if c["commit_block"] == committed]
    assert len(mine) == 1
    assert mine[0]["reveal_round"] == job["commit"]["reveal_round"]
    assert own["weights"]["uids"] == []  # nothing revealed yet on this fresh subnet
    # The open-access read by address gives the same answer.
    by_address = httpx.get(
        f"{pylon.url}/api/v1/subnet/{NETUID}/block/{committed}/weights/{pylon.identity_hotkey}",
        headers={"Authorization": f"Bearer {pylon.open_access_token}"},
        timeout=30,
    )
    assert by_address.status_code == 200 and by_address.json() == own

    # After the reveal: no pending commit, and the row is the one the chain holds and the job sent.
    deadline = time.monotonic() + 3 * TEMPO * BLOCK_SECONDS + 60
    while True:
        latest = get(pylon, f"{identity_url(pylon)}/block/latest/weights/self")
        if latest["weights"]["uids"]:
            break
        assert time.monotonic() < deadline, f"not revealed: {latest}"
        time.sleep(0.5)
    at = latest["block"]["hash"]
    assert latest["pending_commits"] == asi_commits(
        substrate, at, pylon.identity_hotkey
    )
    assert all(c["commit_block"] != committed for c in latest["pending_commits"])
    row = substrate.query(
        "SubtensorModule", "Weights", [NETUID, latest["uid"]], block_hash=at
    )
    assert [
        list(p) for p in zip(latest["weights"]["uids"], latest["weights"]["values"])
    ] == [list(p) for p in row.value]
    assert latest["weights"]["uids"] == job["uids"]
    assert latest["weights"]["values"] == job["weights"]
    total = sum(asked.values())
    for hotkey, weight in asked.items():
        assert latest["weights"]["normalized"][hotkey] == pytest.approx(
            weight / total, abs=1e-3
        )
