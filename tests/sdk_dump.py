"""Print what the Bittensor SDK itself decodes from a chain, as JSON, for tests that run in another venv.

Usage: .venv/bin/python tests/sdk_dump.py ws://127.0.0.1:PORT neurons NETUID
       .venv/bin/python tests/sdk_dump.py ws://127.0.0.1:PORT weights NETUID UID
The published reference client and our client share an import name, so the two live in separate venvs and
cross-check through this script's output.
"""

import ipaddress
import json
import sys

import bittensor
from async_substrate_interface import SubstrateInterface

U16_MAX = 65535


def neurons(subtensor: bittensor.Subtensor, netuid: int) -> list[dict]:
    """The SDK's own decoding of NeuronInfoRuntimeApi.get_neurons_lite; u16 scores normalised as Bittensor shows them."""
    out = []
    for neuron in subtensor.neurons.neurons(netuid):
        raw = neuron.raw
        axon = raw["axon_info"]
        out.append(
            {
                "uid": neuron.uid,
                "hotkey": neuron.hotkey,
                "coldkey": neuron.coldkey,
                "active": bool(neuron.active),
                "validator_permit": bool(neuron.validator_permit),
                "last_update": int(neuron.last_update),
                "pruning_score": int(raw["pruning_score"]),
                "axon_ip": str(ipaddress.ip_address(int(axon["ip"]))),
                "axon_port": int(axon["port"]),
                "stake_rao": int(neuron.total_stake.rao),
                **{
                    f: raw[f] / U16_MAX
                    for f in (
                        "rank",
                        "trust",
                        "consensus",
                        "incentive",
                        "dividends",
                        "validator_trust",
                    )
                },
            }
        )
    return out


def weights(url: str, netuid: int, uid: int) -> list[list[int]]:
    """`SubtensorModule.Weights[(netuid, uid)]` as async-substrate-interface decodes it: [[uid, u16], ...]."""
    substrate = SubstrateInterface(url)
    try:
        row = substrate.query("SubtensorModule", "Weights", [netuid, uid]).value
    finally:
        substrate.close()
    return [[int(target), int(value)] for target, value in row]


def main() -> None:
    url, what, netuid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if what == "weights":
        print(json.dumps(weights(url, netuid, int(sys.argv[4]))))
        return
    subtensor = bittensor.Subtensor(url)
    try:
        if what == "neurons":
            print(json.dumps(neurons(subtensor, netuid)))
        else:
            raise SystemExit(f"unknown dump {what!r}")
    finally:
        subtensor.close()


if __name__ == "__main__":
    main()
