"""The 343 profile upgraded to 424, read by async-substrate-interface at blocks on both sides.

Blocks before `dev_runtimeUpgrade` must decode with spec 343's metadata (which still has
`Rank`), blocks after it with 424's (which has the stateful schedule and no `Rank`).
"""

import os
import subprocess
from pathlib import Path

import pytest
from async_substrate_interface import SubstrateInterface
from async_substrate_interface.errors import StorageFunctionNotFound
from bittensor_wallet import Keypair
from conftest import ROOT, SCENARIO


def _command() -> list[str]:
    pylon = os.environ.get("PYLON_BIN")
    if pylon and Path(pylon).exists():
        return [pylon, "devnet", "--port", "0", "--block-time", "0", "--runtime", "343"]
    runner = ROOT / "target" / "debug" / "examples" / "devnet"
    if not runner.exists():
        subprocess.run(
            ["cargo", "build", "-p", "pylon-devnet", "--example", "devnet"],
            cwd=ROOT,
            check=True,
        )
    return [str(runner), "--port", "0", "--block-time-ms", "0", "--runtime", "343"]


@pytest.fixture(scope="module")
def url():
    proc = subprocess.Popen(
        [*_command(), "--scenario", str(SCENARIO)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    if not first.startswith("listening on "):
        proc.kill()
        pytest.fail(f"devnet did not start: {first!r}")
    try:
        yield first.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
