"""The stateful epoch schedule (subtensor v3.4.9-424) block by block, as independent clients read it.

The devnet seals blocks only on `dev_newBlock` here, so every block is known. Each block's
`LastEpochBlock`, `PendingEpochAt`, `SubnetEpochIndex` and `BlocksSinceLastStep` are read with
async-substrate-interface and compared with a restatement of subtensor's rule written for this
test (`should_run_epoch` + `drain_pending`), with the runtime API `get_next_epoch_start_block`
and with the Bittensor SDK 11.3's own reads (`blocks_since_last_step`, `epoch_status`).
"""

from dataclasses import dataclass
from pathlib import Path

import bittensor
import pytest
from async_substrate_interface import SubstrateInterface
from bittensor_wallet import Keypair
from conftest import devnet_command, running_devnet

SCENARIO = Path(__file__).with_name("epochs_scenario.toml")
TEMPOS = {1: 10, 2: 10, 3: 10, 4: 0}
MAX_TEMPO = 50_400
BLOCKS = 24


@dataclass
class Clock:
    tempo: int
    last: int = 0
    pending: int = 0
    index: int = 0
    since: int = 0

    def due(self, block: int) -> bool:
        if self.tempo == 0:
            return False
        if self.pending > 0 and block >= self.pending:
            return True
        return self.since > MAX_TEMPO or block - self.last >= self.tempo

    def next_start(self) -> int | None:
        if self.tempo == 0:
            return None
        auto = self.last + self.tempo
        return min(auto, self.pending) if self.pending else auto


def expected(blocks: int, cap: int) -> dict[int, dict[int, Clock]]:
    """Per block, each subnet's clock after it: subnets in netuid order, at most `cap` fire."""
    clocks = {n: Clock(t) for n, t in TEMPOS.items()}
    out = {}
    for block in range(1, blocks + 1):
        fired = 0
        for clock in clocks.values():
            clock.since += 1
            if not clock.due(block):
                continue
            if fired >= cap:
                clock.pending = block + 1
                continue
            fired += 1
            clock.since = 0
            clock.last, clock.pending, clock.index = block, 0, clock.index + 1
        out[block] = {n: Clock(**vars(c)) for n, c in clocks.items()}
    return out


@pytest.fixture
def manual_devnet():
    with running_devnet(devnet_command(SCENARIO, block_time_ms=0)) as url:
        yield url


def _answers_next_epoch_start(substrate) -> bool:
    """Whether the devnet answers `SubnetInfoRuntimeApi.get_next_epoch_start_block` (the SDK's
    `epoch_status` needs it) from storage; where it does not, only storage and
    `blocks_since_last_step` are compared."""
    try:
        answer = substrate.runtime_call(
            "SubnetInfoRuntimeApi", "get_next_epoch_start_block", [1]
        )
    except Exception:  # noqa: BLE001 - any refusal means the API is not served
        return False
    # netuid 1 has tempo 10, so the real runtime answers Some(block); None is a placeholder.
    return getattr(answer, "value", answer) is not None


def _read(substrate, item: str, netuid: int, block_hash: str) -> int:
    return int(
        substrate.query("SubtensorModule", item, [netuid], block_hash=block_hash).value
    )


def test_schedule_defers_the_third_due_subnet_and_reads_agree(manual_devnet):
    substrate = SubstrateInterface(manual_devnet)
    subtensor = bittensor.Subtensor(manual_devnet)
    cap = int(substrate.query("SubtensorModule", "MaxEpochsPerBlock").value)
    assert cap == 2, "finney's MaxEpochsPerBlock"
    want = expected(BLOCKS, cap)
    has_runtime_api = _answers_next_epoch_start(substrate)

    fires: dict[int, list[int]] = {n: [] for n in TEMPOS}
    for block in range(1, BLOCKS + 1):
        substrate.rpc_request("dev_newBlock", [])
        block_hash = substrate.get_block_hash(block)
        for netuid, clock in want[block].items():
            got = Clock(
                tempo=TEMPOS[netuid],
                last=_read(substrate, "LastEpochBlock", netuid, block_hash),
                pending=_read(substrate, "PendingEpochAt", netuid, block_hash),
                index=_read(substrate, "SubnetEpochIndex", netuid, block_hash),
                since=_read(substrate, "BlocksSinceLastStep", netuid, block_hash),
            )
            assert got == clock, f"block {block}, netuid {netuid}"
            if got.last == block:
                fires[netuid].append(block)
            snapshot = subtensor.at(block)
            assert snapshot.read("blocks_since_last_step", netuid=netuid) == clock.since
            if has_runtime_api:
                status = snapshot.read("epoch_status", netuid=netuid)
                assert status["next_epoch_start_block"] == clock.next_start(), (
                    block,
                    netuid,
                )
                assert status["epoch_index"] == clock.index
                assert status["last_epoch_block"] == clock.last

    # Blocks 10 and 20: netuids 1 and 2 fire, 3 is deferred to the next block; tempo 0 never runs.
    assert fires == {1: [10, 20], 2: [10, 20], 3: [11, 21], 4: []}
    deferred = [
        e
        for e in substrate.get_events(substrate.get_block_hash(10))
        if e["event"]["event_id"] == "EpochDeferred"
    ]
    assert len(deferred) == 1
    assert deferred[0]["event"]["attributes"] == {
        "netuid": 3,
        "from_block": 10,
        "to_block": 11,
    }


def _owner_call(substrate, function: str, params: dict) -> None:
    """Submit an owner call of netuid 1 signed by its coldkey; it lands in the next sealed block."""
    call = substrate.compose_call("SubtensorModule", function, params)
    extrinsic = substrate.create_signed_extrinsic(
        call=call, keypair=Keypair.create_from_uri("//Alice//coldkey")
    )
    substrate.submit_extrinsic(extrinsic, wait_for_inclusion=False)


def _events(substrate, block_hash: str) -> list[str]:
    return [
        f"{e['event']['module_id']}.{e['event']['event_id']}"
        for e in substrate.get_events(block_hash)
    ]


def test_owner_set_tempo_resets_the_cycle_and_trigger_epoch_pulls_it_in(manual_devnet):
    substrate = SubstrateInterface(manual_devnet)
    for _ in range(29):
        substrate.rpc_request("dev_newBlock", [])
    # Block 30 fires netuid 1 before its extrinsics, so the next automatic epoch is a full tempo
    # away and the admin window is open: set_tempo(360) moves LastEpochBlock to 30.
    _owner_call(substrate, "set_tempo", {"netuid": 1, "tempo": 360})
    substrate.rpc_request("dev_newBlock", [])
    b30 = substrate.get_block_hash(30)
    assert "SubtensorModule.TempoSet" in _events(substrate, b30), _events(
        substrate, b30
    )
    assert _read(substrate, "Tempo", 1, b30) == 360
    assert _read(substrate, "LastEpochBlock", 1, b30) == 30
    assert _read(substrate, "SubnetEpochIndex", 1, b30) == 3
    # Block 31: trigger_epoch schedules the epoch AdminFreezeWindow (10) blocks ahead.
    _owner_call(substrate, "trigger_epoch", {"netuid": 1})
    substrate.rpc_request("dev_newBlock", [])
    b31 = substrate.get_block_hash(31)
    assert "SubtensorModule.EpochTriggered" in _events(substrate, b31), _events(
        substrate, b31
    )
    assert _read(substrate, "PendingEpochAt", 1, b31) == 41
    for _ in range(10):
        substrate.rpc_request("dev_newBlock", [])
    b40, b41 = substrate.get_block_hash(40), substrate.get_block_hash(41)
    assert _read(substrate, "LastEpochBlock", 1, b40) == 30
    assert _read(substrate, "LastEpochBlock", 1, b41) == 41
    assert _read(substrate, "PendingEpochAt", 1, b41) == 0
    assert _read(substrate, "SubnetEpochIndex", 1, b41) == 4
    assert _read(substrate, "BlocksSinceLastStep", 1, b41) == 0
    # Next automatic epoch: 41 + 360; the SDK's chain-computed view agrees where it can ask.
    if _answers_next_epoch_start(substrate):
        status = (
            bittensor.Subtensor(manual_devnet).at(41).read("epoch_status", netuid=1)
        )
        assert status["next_epoch_start_block"] == 401
        assert status["pending_epoch_at"] is None
