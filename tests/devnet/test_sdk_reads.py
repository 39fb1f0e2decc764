"""The devnet as read by independent clients: what they decode must equal the scenario."""

import ipaddress

import bittensor
import pytest
from async_substrate_interface import SubstrateInterface
from bittensor_wallet import Keypair


def ss58(uri: str) -> str:
    return Keypair.create_from_uri(uri).ss58_address


@pytest.fixture(scope="module")
def subtensor(devnet_url):
    return bittensor.Subtensor(devnet_url)


@pytest.fixture(scope="module")
def substrate(devnet_url):
    return SubstrateInterface(devnet_url)


def test_sdk_neurons_match_the_scenario(subtensor, scenario):
    subnet = scenario["subnets"][0]
    neurons = subtensor.neurons.neurons(1)
    assert len(neurons) == len(subnet["neurons"]) + subnet["generated_neurons"]
    alice, bob = neurons[0], neurons[1]
    assert alice.hotkey == ss58("//Alice")
    assert alice.coldkey == ss58("//Alice//coldkey")
    assert alice.validator_permit is True
    assert alice.last_update == 7
    assert alice.total_stake.rao == 123_000_000_000
    axon = alice.raw["axon_info"]
    assert str(ipaddress.IPv4Address(int(axon["ip"]))) == "192.168.1.10"
    assert axon["port"] == 8091
    for field in ("consensus", "incentive", "dividends", "emission"):
        assert alice.raw[field] == subnet["neurons"][0][field], field
    # Spec 424 no longer computes rank, trust or pruning scores: constants in every answer.
    assert (alice.raw["rank"], alice.raw["trust"]) == (0, 0)
    assert alice.raw["pruning_score"] == 65535
    assert bob.hotkey == ss58("//Bob")
    assert bob.validator_permit is False


def test_sdk_hyperparameters_and_commit_reveal_match_the_scenario(subtensor, scenario):
    hp = scenario["subnets"][0]["hyperparameters"]
    assert subtensor.hyperparameters.weights_rate_limit(1) == hp["weights_rate_limit"]
    assert subtensor.hyperparameters.min_allowed_weights(1) == hp["min_allowed_weights"]
    assert subtensor.hyperparameters.max_weight_limit(1) == hp["max_weights_limit"]
    assert subtensor.hyperparameters.immunity_period(1) == hp["immunity_period"]
    assert subtensor.hyperparameters.reveal_period(1) == hp["reveal_period_epochs"]
    assert subtensor.subnets.commit_reveal_enabled(1) is False
    assert subtensor.subnets.commit_reveal_enabled(2) is True


def test_sdk_commitment_and_metagraph_match_the_scenario(subtensor, scenario):
    commitment = subtensor.identity.commitment(1, ss58("//Alice"))
    assert commitment is not None
    assert commitment.data == scenario["subnets"][0]["commitments"][0]["data"]
    metagraph = subtensor.subnets.metagraph(1)
    assert len(metagraph.neurons) == 7


def test_async_substrate_interface_reads_runtime_apis_and_storage(substrate, scenario):
    hp = scenario["subnets"][0]["hyperparameters"]
    neurons = substrate.runtime_call("NeuronInfoRuntimeApi", "get_neurons_lite", [1])
    assert [n["hotkey"] for n in neurons[:2]] == [ss58("//Alice"), ss58("//Bob")]
    assert neurons[1]["axon_info"]["port"] == 9000
    params = substrate.runtime_call(
        "SubnetInfoRuntimeApi", "get_subnet_hyperparams_v2", [1]
    )
    assert params["tempo"] == hp["tempo"]
    assert params["weights_version"] == hp["weights_version_key"]
    assert params["commit_reveal_period"] == hp["reveal_period_epochs"]
    assert substrate.query("SubtensorModule", "Tempo", [2]).value == 10
    cert = substrate.query(
        "SubtensorModule", "NeuronCertificates", [1, ss58("//Alice")]
    ).value
    assert cert["algorithm"] == 1
    commitment = substrate.query(
        "Commitments", "CommitmentOf", [1, ss58("//Alice")]
    ).value
    (field,) = commitment["info"]["fields"]
    ((_, raw),) = field.items()
    assert (
        bytes.fromhex(raw.removeprefix("0x")).decode()
        == "https://example.invalid/miner-endpoint"
    )
