"""The names code written for the published client imports from `pylon_client.v1` all exist here."""

from __future__ import annotations

import importlib

import pytest

PUBLISHED_V1_NAMES = [
    "ASYNC_DEFAULT_RETRIES",
    "AbstractAsyncPylonClient",
    "AbstractPylonClient",
    "AlphaStake",
    "AlphaStakeRao",
    "ArchiveBlocksCutoff",
    "AsyncConfig",
    "AsyncPylonClient",
    "AxonInfo",
    "AxonProtocol",
    "BasePylonException",
    "BittensorModel",
    "BittensorNetwork",
    "Block",
    "BlockHash",
    "BlockNumber",
    "CertificateAlgorithm",
    "Coldkey",
    "CommitReveal",
    "Commitment",
    "CommitmentDataBytes",
    "CommitmentDataHex",
    "Config",
    "Consensus",
    "DEFAULT_RETRIES",
    "Dividends",
    "Emission",
    "EmissionRao",
    "GetCommitmentResponse",
    "GetCommitmentsResponse",
    "GetExtrinsicResponse",
    "GetLatestBlockInfoResponse",
    "GetNeuronsResponse",
    "GetValidatorsResponse",
    "Hotkey",
    "HotkeyName",
    "IdentityLoginResponse",
    "IdentityName",
    "Incentive",
    "LoginResponse",
    "MaxWeightsLimit",
    "NetUid",
    "Neuron",
    "NeuronActive",
    "NeuronCertificate",
    "NeuronCertificateKeypair",
    "NeuronUid",
    "OpenAccessLoginResponse",
    "Port",
    "PrivateKey",
    "PruningScore",
    "PublicKey",
    "PylonAuthToken",
    "PylonClient",
    "PylonClosed",
    "PylonForbidden",
    "PylonMisconfigured",
    "PylonNotFound",
    "PylonRequestException",
    "PylonResponse",
    "PylonResponseException",
    "PylonTimeout",
    "PylonTimeoutException",
    "PylonUnauthorized",
    "Rank",
    "RevealRound",
    "SetCommitmentResponse",
    "SetWeightsResponse",
    "Stake",
    "Stakes",
    "SubnetActive",
    "SubnetNeurons",
    "SubnetValidators",
    "TaoStake",
    "TaoStakeRao",
    "Tempo",
    "TimeoutReason",
    "Timestamp",
    "TotalStake",
    "TotalStakeRao",
    "Trust",
    "ValidatorPermit",
    "ValidatorTrust",
    "WalletName",
    "Weight",
]


@pytest.mark.parametrize("name", PUBLISHED_V1_NAMES)
def test_published_name_is_importable(name: str) -> None:
    v1 = importlib.import_module("pylon_client.v1")
    assert hasattr(v1, name)
    assert name in v1.__all__


def test_star_import_gives_the_clients() -> None:
    namespace: dict[str, object] = {}
    exec("from pylon_client.v1 import *", namespace)
    assert {"PylonClient", "AsyncPylonClient", "Config", "AsyncConfig", "Neuron", "NetUid"} <= namespace.keys()
