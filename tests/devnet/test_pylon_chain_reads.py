"""Pylon's hyperparameters and on-chain weights reads, judged by async-substrate-interface's own
decoding of the same runtime calls and storage at the same pinned block (`pylon dev` on the
fidelity scenario: commit-reveal off on netuid 1, so weights land in `Weights` directly)."""

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from async_substrate_interface import SubstrateInterface
from bittensor_wallet import Keypair

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pylon_dev import PylonDev, start_pylon_dev

SCENARIO = Path(__file__).with_name("scenario.toml")
FRACTION_BITS = {"I32F32": 32, "U64F64": 64}


def get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module", params=[424, 343], ids=["spec424", "spec343"])
def pylon(request):
    dev = start_pylon_dev(
        "--scenario",
        str(SCENARIO),
        "--runtime",
        str(request.param),
        "--block-time",
        "500ms",
    )
    dev.values["RUNTIME"] = str(request.param)
    try:
        yield dev
    finally:
        dev.stop()


@pytest.fixture(scope="module")
def substrate(pylon: PylonDev):
    substrate = SubstrateInterface(pylon.chain_url)
    yield substrate
    substrate.close()


def plain(tagged: dict):
    """ASI's `{variant: value}` as the number or flag it stands for."""
    ((variant, value),) = tagged.items()
    if variant in FRACTION_BITS:
        return value["bits"] / 2 ** FRACTION_BITS[variant]
    return value


def test_hyperparameters_are_the_runtime_apis_answer_at_the_same_block(
    pylon, substrate, scenario
):
    status, body = get(
        f"{pylon.url}/api/v1/subnet/1/block/latest/hyperparameters",
        pylon.open_access_token,
    )
    assert status == 200, body
    at = body["block"]["hash"]
    hp = scenario["subnets"][0]["hyperparameters"]
    assert body["tempo"] == hp["tempo"]
    assert body["weights_version"] == hp["weights_version_key"]
    assert body["weights_rate_limit"] == hp["weights_rate_limit"]
    assert body["min_allowed_weights"] == hp["min_allowed_weights"]
    assert body["max_weights_limit"] == hp["max_weights_limit"]
    assert body["immunity_period"] == hp["immunity_period"]
    assert body["commit_reveal_period"] == hp["reveal_period_epochs"]
    assert body["commit_reveal_weights_enabled"] is hp["commit_reveal_weights_enabled"]
    version = substrate.query(
        "SubtensorModule", "CommitRevealWeightsVersion", [], block_hash=at
    )
    assert body["commit_reveal_version"] == version.value
    if pylon.values["RUNTIME"] == "424":
        assert body["source"] == "runtime_api"
        entries = substrate.runtime_call(
            "SubnetInfoRuntimeApi", "get_subnet_hyperparams_v3", [1], block_hash=at
        )
        entries = entries.value if hasattr(entries, "value") else entries
        expected = {e["name"]: plain(e["value"]) for e in entries}
        assert body["all"].keys() == expected.keys()
        for name, value in expected.items():
            assert body["all"][name] == pytest.approx(value), name
        next_start = substrate.runtime_call(
            "SubnetInfoRuntimeApi", "get_next_epoch_start_block", [1], block_hash=at
        )
        assert body["next_epoch_start"] == next_start
    else:
        # Spec 343 has no v3 API: every value comes from storage at the block.
        assert body["source"] == "storage"
        assert body["next_epoch_start"] is None
        cutoff = substrate.query(
            "SubtensorModule", "ActivityCutoff", [1], block_hash=at
        )
        assert body["activity_cutoff"] == cutoff.value
        kappa = substrate.query("SubtensorModule", "Kappa", [1], block_hash=at)
        assert body["all"]["kappa"] == kappa.value


def test_hyperparameters_at_a_block_number_are_that_blocks(pylon, substrate):
    status, body = get(
        f"{pylon.url}/api/v1/subnet/2/block/1/hyperparameters", pylon.open_access_token
    )
    assert status == 200, body
    assert body["block"] == {"number": 1, "hash": substrate.get_block_hash(1)}
    tempo = substrate.query(
        "SubtensorModule", "Tempo", [2], block_hash=body["block"]["hash"]
    )
    assert (body["netuid"], body["tempo"]) == (2, tempo.value)
    status, body = get(
        f"{pylon.url}/api/v1/subnet/1/block/1/hyperparameters", pylon.open_access_token
    )
    assert status == 200, body
    # The identity and _unstable prefixes serve the same read.
    status, again = get(
        f"{pylon.url}/api/_unstable/identity/{pylon.identity_name}/subnet/1/block/1/hyperparameters",
        pylon.identity_token,
    )
    assert status == 200 and again == body


def test_hyperparameters_refuse_precisely(pylon):
    token = pylon.open_access_token
    status, body = get(
        f"{pylon.url}/api/v1/subnet/77/block/latest/hyperparameters", token
    )
    assert status == 404 and "subnet 77 does not exist" in body["detail"]
    status, body = get(f"{pylon.url}/api/v1/subnet/1/block/x/hyperparameters", token)
    assert status == 400 and body["detail"].startswith("block_number")
    status, _ = get(
        f"{pylon.url}/api/v1/subnet/1/block/99999999/hyperparameters", token
    )
    assert status == 404
    status, _ = get(
        f"{pylon.url}/api/v1/subnet/1/block/latest/hyperparameters", "wrong"
    )
    assert status in (401, 403)  # as every read refuses a wrong token


def put(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_weights_set_through_pylon_are_read_back_as_the_chain_holds_them(
    pylon, substrate
):
    identity = f"{pylon.url}/api/v1/identity/{pylon.identity_name}/subnet/{pylon.identity_netuid}"
    _, neurons = get(f"{identity}/block/latest/neurons", pylon.identity_token)
    hotkeys = sorted(neurons["neurons"])[:3]
    asked = {hotkey: float(i + 1) for i, hotkey in enumerate(hotkeys)}
    status, body = put(f"{identity}/weights", pylon.identity_token, {"weights": asked})
    assert status == 200, body
    deadline = time.monotonic() + 90
    while True:
        _, job = get(f"{identity}/weights/status", pylon.identity_token)
        if job["status"] == "included":
            break
        assert job["status"] in ("pending", "submitted"), job
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    status, own = get(f"{identity}/block/latest/weights/self", pylon.identity_token)
    assert status == 200, own
    assert own["hotkey"] == pylon.identity_hotkey
    at = own["block"]["hash"]
    uid = substrate.query(
        "SubtensorModule",
        "Uids",
        [pylon.identity_netuid, pylon.identity_hotkey],
        block_hash=at,
    ).value
    assert own["uid"] == uid
    row = substrate.query(
        "SubtensorModule", "Weights", [pylon.identity_netuid, uid], block_hash=at
    )
    assert list(zip(own["weights"]["uids"], own["weights"]["values"])) == [
        tuple(p) for p in row.value
    ]
    # What was asked for, normalised, is what the chain holds (u16 rounding aside).
    total = sum(asked.values())
    assert own["weights"]["normalized"].keys() == asked.keys()
    for hotkey, weight in asked.items():
        assert own["weights"]["normalized"][hotkey] == pytest.approx(
            weight / total, abs=1e-3
        )
    assert own["pending_commits"] == []  # commit-reveal is off on this subnet
    # The same read by address, open access, at that block number.
    status, by_address = get(
        f"{pylon.url}/api/v1/subnet/{pylon.identity_netuid}/block/{own['block']['number']}"
        f"/weights/{pylon.identity_hotkey}",
        pylon.open_access_token,
    )
    assert status == 200 and by_address == own


def test_weights_read_refuses_precisely(pylon):
    base = f"{pylon.url}/api/v1/subnet/1/block/latest/weights"
    token = pylon.open_access_token
    status, body = get(f"{base}/not-an-address", token)
    assert status == 400 and body["detail"].startswith("hotkey")
    unregistered = Keypair.create_from_uri("//PylonNobody").ss58_address
    status, body = get(f"{base}/{unregistered}", token)
    assert status == 404 and "not registered" in body["detail"]
    status, _ = get(f"{base}/self", token)
    assert status == 404  # `self` needs an identity route


def mechanism_count(substrate, netuid: int, at: str) -> int:
    """`MechanismCountCurrent` as ASI decodes it; 1 where the runtime has no such item."""
    if (
        substrate.get_metadata_storage_function(
            "SubtensorModule", "MechanismCountCurrent", block_hash=at
        )
        is None
    ):
        return 1
    return substrate.query(
        "SubtensorModule", "MechanismCountCurrent", [netuid], block_hash=at
    ).value


def test_the_mechanism_form_reads_that_mechanisms_row(pylon, substrate):
    """Mechanism 0 through the mechanism route is the short route's row; a mechanism id at or
    beyond the subnet's `MechanismCountCurrent` (ASI's reading at the same block) is a 404 that
    says so, as is any id on a runtime without mechanisms."""
    netuid = pylon.identity_netuid
    identity = f"{pylon.url}/api/v1/identity/{pylon.identity_name}/subnet/{netuid}"
    status, short = get(f"{identity}/block/latest/weights/self", pylon.identity_token)
    assert status == 200, short
    number, at = short["block"]["number"], short["block"]["hash"]
    status, mech0 = get(
        f"{identity}/block/{number}/mechanism/0/weights/self", pylon.identity_token
    )
    assert status == 200, mech0
    assert mech0 == short and mech0["mechanism_id"] == 0
    status, by_address = get(
        f"{pylon.url}/api/v1/subnet/{netuid}/block/{number}/mechanism/0/weights/{pylon.identity_hotkey}",
        pylon.open_access_token,
    )
    assert status == 200 and by_address == short
    # The row is the one ASI reads under storage index 0 * 4096 + netuid.
    row = substrate.query(
        "SubtensorModule", "Weights", [netuid, short["uid"]], block_hash=at
    )
    assert [
        list(p) for p in zip(mech0["weights"]["uids"], mech0["weights"]["values"])
    ] == [list(p) for p in row.value]
    count = mechanism_count(substrate, netuid, at)
    for mechid in range(1, count):
        status, body = get(
            f"{identity}/block/{number}/mechanism/{mechid}/weights/self",
            pylon.identity_token,
        )
        assert status == 200 and body["mechanism_id"] == mechid, body
        row = substrate.query(
            "SubtensorModule",
            "Weights",
            [mechid * 4096 + netuid, body["uid"]],
            block_hash=at,
        )
        assert body["weights"]["uids"] == [p[0] for p in row.value]
    status, body = get(
        f"{identity}/block/{number}/mechanism/{count}/weights/self",
        pylon.identity_token,
    )
    assert status == 404, body
    assert body["detail"].startswith(
        f"mechanism {count} does not exist on netuid {netuid} at block {number}"
    ), body
    assert f"the subnet has {count} mechanism" in body["detail"]
    status, body = get(
        f"{identity}/block/latest/mechanism/256/weights/self", pylon.identity_token
    )
    assert status == 400 and body["detail"].startswith("mechanism_id"), body
    status, body = get(
        f"{identity}/block/latest/mechanism/x/weights/{pylon.identity_hotkey}",
        pylon.identity_token,
    )
    assert status == 400 and body["detail"].startswith("mechanism_id"), body


def test_a_second_mechanisms_weights_are_read_from_its_own_row(pylon, substrate):
    """Weights set on mechanism 1 by the hotkey itself (`set_mechanism_weights`, signed by ASI)
    are what Pylon's mechanism route reads at that block: ASI's `Weights` row under storage index
    4096 + netuid, not mechanism 0's."""
    netuid = pylon.identity_netuid
    head = substrate.get_chain_head()
    count = mechanism_count(substrate, netuid, head)
    assert count == 2  # the scenario's `mechanism_count`, on both runtimes
    # The mechanism's own rate limit counts from its `LastUpdate` (the scenario's block 7).
    while substrate.get_block_number(substrate.get_chain_head()) < 7 + 12 + 1:
        time.sleep(0.5)
    alice = Keypair.create_from_uri("//Alice")
    call = substrate.compose_call(
        "SubtensorModule",
        "set_mechanism_weights",
        {
            "netuid": netuid,
            "mecid": 1,
            "dests": [0, 1],
            "weights": [65535, 21845],
            "version_key": 7,
        },
    )
    receipt = substrate.submit_extrinsic(
        substrate.create_signed_extrinsic(call=call, keypair=alice),
        wait_for_inclusion=True,
    )
    assert receipt.is_success, receipt.error_message
    at = receipt.block_hash
    number = substrate.get_block_number(at)
    identity = f"{pylon.url}/api/v1/identity/{pylon.identity_name}/subnet/{netuid}"
    status, body = get(
        f"{identity}/block/{number}/mechanism/1/weights/self", pylon.identity_token
    )
    assert status == 200, body
    assert body["mechanism_id"] == 1 and body["block"]["hash"] == at
    row = substrate.query(
        "SubtensorModule", "Weights", [4096 + netuid, body["uid"]], block_hash=at
    ).value
    assert [list(p) for p in row] == [[0, 65535], [1, 21845]]
    assert [
        list(p) for p in zip(body["weights"]["uids"], body["weights"]["values"])
    ] == [list(p) for p in row]
    mech0 = substrate.query(
        "SubtensorModule", "Weights", [netuid, body["uid"]], block_hash=at
    ).value
    status, short = get(f"{identity}/block/{number}/weights/self", pylon.identity_token)
    assert status == 200
    assert [list(p) for p in zip(short["weights"]["uids"], short["weights"]["values"])] == [
        list(p) for p in mech0
    ]
