"""The published bittensor-pylon-client 2.3.x, unchanged, writes through our service: weights reach the chain's
`Weights` storage (read back by async-substrate-interface, an independent client), commitments read back through
the same client. (2.3.1 has no call for `POST …/certificates/self`; our client's e2e tests cover it.)"""

import time
from collections.abc import Callable
from typing import Any

import httpx
from pylon_client.v1 import (
    Config,
    Hotkey,
    PylonClient,
    Weight,
)
from sdk import sdk_dump
from support import ChainReader

U16_MAX = 65535


def identity_client(pylon) -> PylonClient:
    return PylonClient(
        Config(
            address=pylon.url,
            identity_name=pylon.identity_name,
            identity_token=pylon.identity_token,
        )
    )


def eventually(
    read: Callable[[], Any],
    done: Callable[[Any], bool],
    what: str,
    timeout: float = 60.0,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, (
            f"{what} never arrived; last seen: {value!r}"
        )
        time.sleep(0.25)


def stored_weights(chain_url: str, netuid: int, uid: int) -> list[list[int]]:
    return sdk_dump(chain_url, "weights", netuid, uid)


def test_put_weights_lands_in_the_chains_weights_storage(pylon):
    with identity_client(pylon) as client:
        neurons = client.identity.get_latest_neurons().neurons
        own_uid = neurons[Hotkey(pylon.identity_hotkey)].uid
        # Three neurons, weights 1 : 2 : 4 by uid order.
        chosen = sorted(neurons.values(), key=lambda n: n.uid)[:3]
        weights = {Hotkey(n.hotkey): Weight(float(2**i)) for i, n in enumerate(chosen)}
        reader = ChainReader(pylon.chain_url)
        try:
            reader.wait_until_weights_allowed(pylon.identity_netuid, own_uid)
        finally:
            reader.close()
        client.identity.put_weights(weights=weights)

    # The reference's answer has no fields; the job is ours to follow (the service's status route).
    status_url = f"{pylon.url}/api/v1/identity/{pylon.identity_name}/subnet/{pylon.identity_netuid}/weights/status"
    headers = {"Authorization": f"Bearer {pylon.identity_token}"}
    job = eventually(
        lambda: httpx.get(status_url, headers=headers, timeout=10).json(),
        lambda job: job.get("status") in ("included", "failed", "expired"),
        "the weights job's end",
    )
    assert job["status"] == "included", job
    expected = [[n.uid, round(2**i / 4 * U16_MAX)] for i, n in enumerate(chosen)]
    assert stored_weights(pylon.chain_url, pylon.identity_netuid, own_uid) == expected


def test_set_commitment_then_read_it_back(pylon):
    data = f"reference-client-{time.time_ns()}".encode()
    with identity_client(pylon) as client:
        client.identity.set_commitment(commitment=data)
        own = client.identity.get_own_commitment()
    assert own.hotkey == pylon.identity_hotkey
    assert own.commitment == "0x" + data.hex()


def test_set_revealed_commitment_returns_its_reveal_round(pylon):
    with identity_client(pylon) as client:
        response = client.identity.set_revealed_commitment(
            commitment="revealed later", blocks_until_reveal=2000
        )
        assert response.reveal_round > 1
        # Until the chain reveals it, the unstable API shows it as the reference does: a
        # `timelock_encrypted` variant carrying its drand round, in the hotkey's read and the list.
        own = client.unstable.identity.get_own_commitment().commitment
        assert own.kind == "timelock_encrypted"
        assert own.reveal_round == response.reveal_round
        assert own.hotkey == pylon.identity_hotkey
        listed = client.unstable.identity.get_commitments().commitments[
            Hotkey(pylon.identity_hotkey)
        ]
        assert listed.kind == "timelock_encrypted"
        assert listed.reveal_round == response.reveal_round
        assert listed.commitment == own.commitment and len(own.commitment) > 2
