"""The 343 profile upgraded to 424, read by async-substrate-interface at blocks on both sides.

Blocks before `dev_runtimeUpgrade` must decode with spec 343's metadata (which still has
`Rank`), blocks after it with 424's (which has the stateful schedule and no `Rank`).
"""


import pytest
from async_substrate_interface import SubstrateInterface
from async_substrate_interface.errors import StorageFunctionNotFound
from bittensor_wallet import Keypair
from conftest import SCENARIO, devnet_command, running_devnet


@pytest.fixture(scope="module")
def url():
    with running_devnet(devnet_command(SCENARIO, block_time_ms=0, runtime=343)) as url:
        yield url


def test_blocks_before_the_upgrade_decode_with_343s_metadata(url, scenario):
    substrate = SubstrateInterface(url)
    for _ in range(3):
        substrate.rpc_request("dev_newBlock", [])
    old = substrate.get_block_hash(3)
    # The upgrade seals block 4 (its state holds 424's code, its storage is still 343's, like a
    # `set_code` block); block 5 is the first one 424 executes, and it migrates storage.
    upgraded = substrate.rpc_request("dev_runtimeUpgrade", [])["result"]
    assert upgraded["specVersion"] == 424
    substrate.rpc_request("dev_newBlock", [])
    new = substrate.get_block_hash(5)

    def spec(block_hash):
        return substrate.rpc_request("state_getRuntimeVersion", [block_hash])["result"][
            "specVersion"
        ]

    assert (spec(old), spec(new)) == (343, 424)
    alice = scenario["subnets"][0]["neurons"][0]
    alice_hotkey = Keypair.create_from_uri("//Alice").ss58_address

    # Spec 343 stores Rank; its neuron API reports it.
    rank = substrate.query("SubtensorModule", "Rank", [1], block_hash=old).value
    assert rank[0] == alice["rank"]
    neurons = substrate.runtime_call(
        "NeuronInfoRuntimeApi", "get_neurons_lite", [1], block_hash=old
    )
    assert neurons[0]["hotkey"] == alice_hotkey
    assert neurons[0]["rank"] == alice["rank"]
    assert substrate.runtime_call(
        "Metadata", "metadata_versions", [], block_hash=old
    ) == [14, 15]

    # Spec 424 after the migration: no Rank item, the schedule seeded, constants in the API.
    with pytest.raises(StorageFunctionNotFound):
        substrate.query("SubtensorModule", "Rank", [1], block_hash=new)
    tempo = scenario["subnets"][0]["hyperparameters"]["tempo"]
    adjusted = 5 + 1 + 1  # block + netuid + 1
    index = substrate.query("SubtensorModule", "SubnetEpochIndex", [1], block_hash=new)
    assert index.value == adjusted // (tempo + 1)
    last = substrate.query("SubtensorModule", "LastEpochBlock", [1], block_hash=new)
    assert last.value == max(0, 5 - adjusted % (tempo + 1))
    neurons = substrate.runtime_call(
        "NeuronInfoRuntimeApi", "get_neurons_lite", [1], block_hash=new
    )
    assert neurons[0]["hotkey"] == alice_hotkey
    assert (neurons[0]["rank"], neurons[0]["pruning_score"]) == (0, 65535)
    assert substrate.runtime_call(
        "Metadata", "metadata_versions", [], block_hash=new
    ) == [14, 15, 16]
