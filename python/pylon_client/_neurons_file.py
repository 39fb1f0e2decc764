"""`Config.neurons_file`: a local YAML (or JSON) file of neurons that the latest/recent neurons reads return instead
of asking the service, for developing a validator against miners running on your machine.

The file is a `GetNeuronsResponse` where only each neuron's hotkey (its key) and `axon_info` `ip`/`port` are
required; everything else defaults (protocol HTTP, zero stakes and scores, coldkey = hotkey, block 0):

    neurons:
      5F...miner1: {axon_info: {ip: 127.0.0.1, port: 8091}}
      5G...miner2: {uid: 1, axon_info: {ip: 127.0.0.1, port: 8092}}

`get_neuron_client` talks plain HTTP to these neurons (no mTLS) while the file is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, model_validator

from ._models import AxonInfo, AxonProtocol, Block, GetNeuronsResponse, Neuron, Stakes
from ._types import (
    AlphaStake,
    BlockHash,
    BlockNumber,
    Coldkey,
    Consensus,
    Dividends,
    Emission,
    Hotkey,
    Incentive,
    NeuronActive,
    NeuronUid,
    PruningScore,
    Rank,
    Stake,
    TaoStake,
    Timestamp,
    TotalStake,
    Trust,
    ValidatorPermit,
    ValidatorTrust,
)


class _FileAxonInfo(AxonInfo):
    protocol: AxonProtocol = AxonProtocol.HTTP


class _FileStakes(Stakes):
    alpha: AlphaStake = AlphaStake(0.0)
    tao: TaoStake = TaoStake(0.0)
    total: TotalStake = TotalStake(0.0)


class _FileBlock(Block):
    number: BlockNumber = BlockNumber(0)
    hash: BlockHash = BlockHash("0x" + "00" * 32)


class _FileNeuron(Neuron):
    uid: NeuronUid = NeuronUid(0)
    coldkey: Coldkey = Coldkey("")
    active: NeuronActive = NeuronActive(True)
    axon_info: _FileAxonInfo
    stake: Stake = Stake(0.0)
    rank: Rank = Rank(0.0)
    emission: Emission = Emission(0.0)
    incentive: Incentive = Incentive(0.0)
    consensus: Consensus = Consensus(0.0)
    trust: Trust = Trust(0.0)
    validator_trust: ValidatorTrust = ValidatorTrust(0.0)
    dividends: Dividends = Dividends(0.0)
    last_update: Timestamp = Timestamp(0)
    validator_permit: ValidatorPermit = ValidatorPermit(False)
    pruning_score: PruningScore = PruningScore(0)
    stakes: _FileStakes = Field(default_factory=_FileStakes)

    @model_validator(mode="after")
    def _coldkey_defaults_to_hotkey(self) -> _FileNeuron:
        if not self.coldkey:
            self.coldkey = Coldkey(self.hotkey)
        return self


class _FileNeurons(GetNeuronsResponse):
    block: _FileBlock = Field(default_factory=_FileBlock)
    neurons: dict[Hotkey, _FileNeuron]  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _hotkeys_from_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("neurons"), dict):
            return data
        neurons = {}
        for hotkey, neuron in data["neurons"].items():
            if isinstance(neuron, dict):
                given = neuron.get("hotkey")
                if given is not None and given != hotkey:
                    raise ValueError(f"neuron {hotkey!r} has a different 'hotkey' field {given!r}")
                neuron = {**neuron, "hotkey": hotkey}
            neurons[hotkey] = neuron
        return {**data, "neurons": neurons}


def load_neurons_file(path: str | Path) -> GetNeuronsResponse:
    """Reads and validates a neurons file. Raises `ValueError` (pydantic's) for a malformed one, `OSError` when it
    cannot be read."""
    data = yaml.safe_load(Path(path).read_text())
    return _FileNeurons.model_validate(data)
