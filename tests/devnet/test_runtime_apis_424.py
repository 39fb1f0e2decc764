"""Spec 424's runtime APIs on the devnet, decoded by async-substrate-interface and the SDK 11.3.

Each answer is checked against the scenario, or against storage read at the same pinned block
(the schedule moves while the tests run).
"""

import bittensor
import pytest
from async_substrate_interface import SubstrateInterface
from bittensor_wallet import Keypair

SUBNET_COUNT = 3


def ss58(uri: str) -> str:
    return Keypair.create_from_uri(uri).ss58_address


@pytest.fixture(scope="module")
def substrate(devnet_url):
    return SubstrateInterface(devnet_url)


@pytest.fixture(scope="module")
def subtensor(devnet_url):
    return bittensor.Subtensor(devnet_url)


def sn_call(substrate, method, params, block_hash=None):
    return substrate.runtime_call(
        "SubnetInfoRuntimeApi", method, params, block_hash=block_hash
    )


def test_runtime_is_spec_424_with_metadata_14_15_16(substrate):
    version = substrate.rpc_request("state_getRuntimeVersion", [])["result"]
    assert (version["specName"], version["specVersion"]) == ("node-subtensor", 424)
    assert version["transactionVersion"] == 1
    assert substrate.runtime_call("Metadata", "metadata_versions", []) == [14, 15, 16]
    # The runtime-API list names the APIs the SDK calls (blake2_64 of the trait name).
    apis = {api_id for api_id, _ in version["apis"]}
    assert "0xdf6acb689907609b" in apis  # Core


def test_next_epoch_start_block_follows_the_stored_schedule(
    substrate, subtensor, scenario
):
    tempo = scenario["subnets"][0]["hyperparameters"]["tempo"]
    genesis = substrate.get_block_hash(0)
    # At genesis every subnet's LastEpochBlock is 0 (init_new_network at block 0).
    assert sn_call(substrate, "get_next_epoch_start_block", [1], genesis) == tempo
    head = substrate.get_chain_head()

    def at_head(item):
        return substrate.query("SubtensorModule", item, [1], block_hash=head).value

    last, pending = at_head("LastEpochBlock"), at_head("PendingEpochAt")
    expected = last + tempo if not pending else min(last + tempo, pending)
    assert sn_call(substrate, "get_next_epoch_start_block", [1], head) == expected
    status = subtensor.epochs.epoch_status(1)
    assert status["tempo"] == tempo
    assert status["next_epoch_start_block"] == (
        status["last_epoch_block"] + tempo
        if status["pending_epoch_at"] is None
        else min(status["last_epoch_block"] + tempo, status["pending_epoch_at"])
    )


def test_hyperparams_v3_match_the_scenario(subtensor, scenario):
    hp = scenario["subnets"][0]["hyperparameters"]
    params = subtensor.subnets.subnet_hyperparameters(1)
    assert params["tempo"] == hp["tempo"]
    assert params["weights_version"] == hp["weights_version_key"]
    assert params["weights_rate_limit"] == hp["weights_rate_limit"]
    assert params["min_allowed_weights"] == hp["min_allowed_weights"]
    assert params["max_weights_limit"] == hp["max_weights_limit"]
    assert params["immunity_period"] == hp["immunity_period"]
    assert params["commit_reveal_period"] == hp["reveal_period_epochs"]
    assert params["commit_reveal_weights_enabled"] is False
    assert params["registration_allowed"] is True
    # 424 keeps the cutoff as per-mille of tempo: the default 5000 blocks at tempo 99 is
    # ceil(5000 * 1000 / 99) = 50506 ‰, clamped to 50000 ‰, i.e. 4950 blocks.
    assert params["activity_cutoff_factor"] == 50_000
    assert params["activity_cutoff"] == 50_000 * hp["tempo"] // 1000
    assert subtensor.subnets.subnet_hyperparameters(99) is None


def test_subnet_state_is_some_and_matches_the_scenario(substrate, scenario):
    subnet = scenario["subnets"][0]
    alice = subnet["neurons"][0]
    state = sn_call(substrate, "get_subnet_state", [1])
    assert state is not None
    n = len(subnet["neurons"]) + subnet["generated_neurons"]
    assert state["netuid"] == 1
    assert state["hotkeys"][:2] == [ss58("//Alice"), ss58("//Bob")]
    assert state["coldkeys"][0] == ss58("//Alice//coldkey")
    assert len(state["hotkeys"]) == len(state["active"]) == n
    assert state["validator_permit"][:2] == [True, False]
    assert state["last_update"][0] == alice["last_update"]
    assert state["emission"][0] == alice["emission"]
    assert state["dividends"][0] == alice["dividends"]
    assert state["incentives"][0] == alice["incentive"]
    assert state["consensus"][0] == alice["consensus"]
    assert state["alpha_stake"][0] == alice["stake"]
    # Retired in 424: empty lists, whatever the scenario says.
    assert state["rank"] == state["trust"] == state["pruning_score"] == []
    # One list per subnet, one entry per hotkey of this subnet.
    assert len(state["emission_history"]) == SUBNET_COUNT
    assert all(len(row) == n for row in state["emission_history"])
    assert sn_call(substrate, "get_subnet_state", [99]) is None


def test_metagraph_selective_and_mechagraph_agree(substrate, scenario):
    subnet = scenario["subnets"][0]
    head = substrate.get_chain_head()
    full = sn_call(substrate, "get_metagraph", [1], head)
    n = len(subnet["neurons"]) + subnet["generated_neurons"]
    assert full["netuid"] == 1
    assert full["num_uids"] == n
    assert full["tempo"] == subnet["hyperparameters"]["tempo"]
    assert full["hotkeys"][0] == ss58("//Alice")
    assert full["last_update"][0] == subnet["neurons"][0]["last_update"]
    assert full["rank"] == full["trust"] == full["pruning_score"] == []
    fields = list(full.keys())
    # Select every other field: those are Some and equal the full metagraph's, the rest None.
    chosen = list(range(1, len(fields), 2))
    for method, params in (
        ("get_selective_metagraph", [1, chosen]),
        ("get_selective_mechagraph", [1, 0, chosen]),
    ):
        part = sn_call(substrate, method, params, head)
        assert part["netuid"] == 1, method
        for i, name in enumerate(fields):
            if name == "netuid":
                continue
            if i in chosen:
                assert part[name] == full[name], (method, name)
            else:
                assert part[name] is None, (method, name)
    assert (
        sn_call(substrate, "get_mechagraph", [1, 0], head)["hotkeys"] == full["hotkeys"]
    )
    # The scenario gives netuid 1 two mechanisms: the second has a mechagraph of its own, a third
    # does not exist.
    second = sn_call(substrate, "get_mechagraph", [1, 1], head)
    assert second["hotkeys"] == full["hotkeys"]
    assert second["last_update"] == full["last_update"]
    assert sn_call(substrate, "get_mechagraph", [1, 2], head) is None


def test_dynamic_info_matches_storage(substrate, scenario):
    head = substrate.get_chain_head()
    info = sn_call(substrate, "get_dynamic_info", [1], head)
    assert info["netuid"] == 1
    assert info["owner_coldkey"] == ss58(scenario["subnets"][0]["owner"])
    assert info["tempo"] == scenario["subnets"][0]["hyperparameters"]["tempo"]
    since = substrate.query(
        "SubtensorModule", "BlocksSinceLastStep", [1], block_hash=head
    ).value
    assert info["blocks_since_last_step"] == since
    alpha_out = substrate.query(
        "SubtensorModule", "SubnetAlphaOut", [1], block_hash=head
    ).value
    assert info["alpha_out"] == alpha_out
    assert sn_call(substrate, "get_dynamic_info", [99]) is None


def test_neuron_apis_answer_424s_constants(substrate, scenario):
    alice = scenario["subnets"][0]["neurons"][0]
    neuron = substrate.runtime_call("NeuronInfoRuntimeApi", "get_neuron", [1, 0])
    assert neuron["hotkey"] == ss58("//Alice")
    assert neuron["consensus"] == alice["consensus"]
    assert (neuron["rank"], neuron["trust"], neuron["pruning_score"]) == (0, 0, 65535)
    lite = substrate.runtime_call("NeuronInfoRuntimeApi", "get_neurons_lite", [1])
    assert all(n["pruning_score"] == 65535 for n in lite)
    assert (
        substrate.runtime_call("NeuronInfoRuntimeApi", "get_neuron", [1, 999]) is None
    )
