"""Extrinsics submitted by the Bittensor SDK land in the devnet's storage."""

import bittensor
from async_substrate_interface import SubstrateInterface
from bittensor_wallet import Keypair


def test_sdk_set_weights_shows_in_weights_storage(devnet_url):
    subtensor = bittensor.Subtensor(devnet_url)
    charlie = Keypair.create_from_uri("//Charlie")
    # The SetWeights intent's preflight reads storage newer than spec 343, so submit the call itself.
    call = bittensor.calls.SubtensorModule.set_weights(
        netuid=3, dests=[1, 2], weights=[1000, 3000], version_key=0
    )
    result = subtensor.submit_call(call, charlie)
    assert result.success, result.message
    weights = (
        SubstrateInterface(devnet_url).query("SubtensorModule", "Weights", [3, 0]).value
    )
    assert [uid for uid, _ in weights] == [1, 2]
    # Subtensor normalizes so the largest weight is u16::MAX.
    assert dict(weights)[2] == 65535
    assert abs(dict(weights)[1] - 65535 / 3) <= 1


def test_async_substrate_interface_set_weights_is_included_and_finalized(devnet_url):
    substrate = SubstrateInterface(devnet_url)
    call = substrate.compose_call(
        "SubtensorModule",
        "set_weights",
        {"netuid": 3, "dests": [1, 2], "weights": [5, 10], "version_key": 0},
    )
    extrinsic = substrate.create_signed_extrinsic(
        call=call, keypair=Keypair.create_from_uri("//Charlie")
    )
    receipt = substrate.submit_extrinsic(
        extrinsic, wait_for_inclusion=True, wait_for_finalization=True
    )
    assert receipt.is_success, receipt.error_message
    weights = substrate.query("SubtensorModule", "Weights", [3, 0]).value
    assert [uid for uid, _ in weights] == [1, 2]
    assert dict(weights)[2] == 65535
