"""The published bittensor-pylon-client 2.3.x, unchanged, reads through our service; values agree with what the
Bittensor SDK decodes from the same chain."""

import sys

import pytest
from pylon_client.v1 import (
    AsyncConfig,
    AsyncPylonClient,
    BlockNumber,
    Config,
    NetUid,
    PylonClient,
    PylonForbidden,
    PylonUnauthorized,
)
from sdk import sdk_dump


def sdk_neurons(chain_url: str, netuid: int) -> dict[str, dict]:
    return {n["hotkey"]: n for n in sdk_dump(chain_url, "neurons", netuid)}


def open_config(pylon) -> Config:
    return Config(address=pylon.url, open_access_token=pylon.open_access_token)


def test_latest_neurons_match_the_sdk(pylon):
    with PylonClient(open_config(pylon)) as client:
        response = client.open_access.get_latest_neurons(
            netuid=NetUid(pylon.identity_netuid)
        )
    ours = response.neurons
    theirs = sdk_neurons(pylon.chain_url, pylon.identity_netuid)
    assert set(ours) == set(theirs)
    for hotkey, neuron in ours.items():
        expected = theirs[hotkey]
        assert neuron.uid == expected["uid"]
        assert neuron.coldkey == expected["coldkey"]
        assert neuron.validator_permit == expected["validator_permit"]
        assert neuron.active == expected["active"]
        assert neuron.last_update == expected["last_update"]
        assert neuron.axon_info.port == expected["axon_port"]
        assert str(neuron.axon_info.ip) == expected["axon_ip"]
        for field in (
            "rank",
            "trust",
            "consensus",
            "incentive",
            "dividends",
            "validator_trust",
        ):
            assert getattr(neuron, field) == pytest.approx(expected[field], abs=1e-4), (
                field
            )


def test_neurons_by_block_and_block_info(pylon):
    with PylonClient(open_config(pylon)) as client:
        latest = client.open_access.get_latest_block_info()
        by_block = client.open_access.get_neurons(
            netuid=NetUid(pylon.identity_netuid),
            block_number=BlockNumber(latest.number),
        )
    assert by_block.block.number == latest.number
    assert by_block.block.hash == latest.hash
    assert len(by_block.neurons) > 0


async def test_async_client_reads_validators(pylon):
    config = AsyncConfig(address=pylon.url, open_access_token=pylon.open_access_token)
    async with AsyncPylonClient(config) as client:
        response = await client.open_access.get_latest_validators(
            netuid=NetUid(pylon.identity_netuid)
        )
    assert response.validators, "the dev subnet has validators"
    assert all(v.validator_permit for v in response.validators)


def test_identity_reads_with_identity_token(pylon):
    config = Config(
        address=pylon.url,
        identity_name=pylon.identity_name,
        identity_token=pylon.identity_token,
    )
    with PylonClient(config) as client:
        response = client.identity.get_latest_neurons()
    assert pylon.identity_hotkey in response.neurons


def test_wrong_tokens_are_rejected_with_the_reference_exceptions(pylon):
    open_client = PylonClient(
        Config(address=pylon.url, open_access_token="not-the-token")
    )
    with open_client as client, pytest.raises((PylonForbidden, PylonUnauthorized)):
        client.open_access.get_latest_neurons(netuid=NetUid(pylon.identity_netuid))
    config = Config(
        address=pylon.url,
        identity_name=pylon.identity_name,
        identity_token="not-the-token",
    )
    with (
        PylonClient(config) as client,
        pytest.raises((PylonForbidden, PylonUnauthorized)),
    ):
        client.identity.get_latest_neurons()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
