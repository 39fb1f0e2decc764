"""The service's JSON shapes as pydantic models (what `pylon_client.v1` methods return).

Unknown fields in a response are ignored, so a newer service that adds fields does not break older clients.
"""

from __future__ import annotations

import math
from enum import IntEnum, StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from ._types import (
    AlphaStake,
    BlockHash,
    BlockNumber,
    Coldkey,
    CommitmentDataBytes,
    CommitmentDataHex,
    Consensus,
    Dividends,
    Emission,
    ExtrinsicHash,
    ExtrinsicIndex,
    ExtrinsicLength,
    Hotkey,
    IdentityName,
    Incentive,
    NetUid,
    NeuronActive,
    NeuronUid,
    Port,
    PrivateKey,
    PruningScore,
    PublicKey,
    Rank,
    RevealedCommitmentData,
    Stake,
    TaoStake,
    Timestamp,
    TotalStake,
    Trust,
    ValidatorPermit,
    ValidatorTrust,
    Weight,
)


class UnknownIntEnum(IntEnum):
    """An int enum that keeps values it does not know (as `UNKNOWN_<n>`) instead of failing validation,
    so a chain that adds a protocol or algorithm does not break reads."""

    @classmethod
    def _missing_(cls, value: object) -> UnknownIntEnum | None:
        if not isinstance(value, int):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member


class CommitReveal(StrEnum):
    DISABLED = "disabled"
    V2 = "v2"
    V3 = "v3"
    V4 = "v4"


class BittensorModel(BaseModel):
    """Base of every chain-data model."""


class Block(BittensorModel):
    number: BlockNumber
    hash: BlockHash


class BlockInfoBag(Block):
    """A block with its timestamp (milliseconds since the epoch, from `Timestamp.Now`)."""

    timestamp: Timestamp


class AxonProtocol(UnknownIntEnum):
    TCP = 0
    UDP = 1
    HTTP = 4


class AxonInfo(BittensorModel):
    ip: IPv4Address | IPv6Address
    port: Port
    protocol: AxonProtocol

    @property
    def is_serving(self) -> bool:
        return self.ip not in (IPv4Address("0.0.0.0"), IPv6Address("::"))


class Stakes(BittensorModel):
    """A hotkey's stake in whole tokens: alpha on the subnet, TAO on the root subnet, and their total in alpha."""

    alpha: AlphaStake
    tao: TaoStake
    total: TotalStake


class Neuron(BittensorModel):
    uid: NeuronUid
    coldkey: Coldkey
    hotkey: Hotkey
    active: NeuronActive
    axon_info: AxonInfo
    stake: Stake
    rank: Rank
    emission: Emission
    incentive: Incentive
    consensus: Consensus
    trust: Trust
    validator_trust: ValidatorTrust
    dividends: Dividends
    last_update: Timestamp
    validator_permit: ValidatorPermit
    pruning_score: PruningScore
    stakes: Stakes


class SubnetNeurons(BittensorModel):
    block: Block
    neurons: dict[Hotkey, Neuron]


class SubnetValidators(BittensorModel):
    block: Block
    validators: list[Neuron]


class CertificateAlgorithm(UnknownIntEnum):
    ED25519 = 1


class NeuronCertificate(BittensorModel):
    algorithm: CertificateAlgorithm
    public_key: PublicKey


class NeuronCertificateKeypair(NeuronCertificate):
    # Kept out of repr() so that logging a keypair does not log its secret.
    private_key: PrivateKey = Field(repr=False)


class Commitment(BittensorModel):
    commitment_block_number: BlockNumber
    hotkey: Hotkey
    commitment: CommitmentDataHex


class RevealedCommitment(BittensorModel):
    reveal_block_number: BlockNumber
    hotkey: Hotkey
    commitment: RevealedCommitmentData


class ExtrinsicCallArg(BittensorModel):
    model_config = ConfigDict(extra="allow")

    name: str
    type: str
    value: Any


class ExtrinsicCall(BittensorModel):
    model_config = ConfigDict(extra="allow")

    call_module: str
    call_function: str
    call_args: list[ExtrinsicCallArg]


class Extrinsic(BittensorModel):
    """A decoded extrinsic. Fields beyond the typed ones are kept (`extra="allow"`)."""

    model_config = ConfigDict(extra="allow")

    block_number: BlockNumber
    extrinsic_index: ExtrinsicIndex
    extrinsic_hash: ExtrinsicHash
    extrinsic_length: ExtrinsicLength
    # None for unsigned extrinsics such as `Timestamp.set`.
    address: str | None = None
    call: ExtrinsicCall


# Responses: one class per method, named as in the published client so user code and type hints keep working.


class PylonResponse(BaseModel):
    """Base of everything a client method returns."""


class LoginResponse(PylonResponse):
    """Kept for imports from older client versions; no method returns it."""


class OpenAccessLoginResponse(LoginResponse):
    """Kept for imports from older client versions; no method returns it."""


class IdentityLoginResponse(LoginResponse):
    """Kept for imports from older client versions; no method returns it."""

    netuid: NetUid
    identity_name: IdentityName


class GetIdentitiesResponse(PylonResponse):
    identities: dict[IdentityName, NetUid]


class GetNeuronsResponse(PylonResponse, SubnetNeurons):
    pass


class GetValidatorsResponse(PylonResponse, SubnetValidators):
    pass


class GetLatestBlockInfoResponse(PylonResponse, BlockInfoBag):
    pass


class GetExtrinsicResponse(PylonResponse, Extrinsic):
    pass


class GetCertificateResponse(PylonResponse, NeuronCertificate):
    pass


class GetCertificatesResponse(PylonResponse):
    """Every certificate published on a subnet, by hotkey."""

    certificates: dict[Hotkey, NeuronCertificate]

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_mapping(cls, data: object) -> object:
        # Earlier services answer with the bare `{hotkey: certificate}` mapping; accept both shapes.
        if isinstance(data, dict) and "certificates" not in data:
            return {"certificates": data}
        return data


class GenerateCertificateKeypairResponse(PylonResponse, NeuronCertificateKeypair):
    pass


class GetCommitmentsResponse(PylonResponse):
    block: Block
    commitments: dict[Hotkey, CommitmentDataHex]


class GetCommitmentResponse(PylonResponse, Commitment):
    block: Block


class GetRevealedCommitmentsResponse(PylonResponse):
    block: Block
    commitments: list[RevealedCommitment]


class GetAllRevealedCommitmentsResponse(PylonResponse):
    block: Block
    commitments: dict[Hotkey, list[RevealedCommitment]]


class SetWeightsResponse(PylonResponse):
    """The service accepted the weights; it submits them (directly or commit-reveal) in the background.
    Fields the service adds (a job id, hotkeys it could not map) are kept."""

    model_config = ConfigDict(extra="allow")


class SetCommitmentResponse(PylonResponse):
    model_config = ConfigDict(extra="allow")


class SetRevealedCommitmentResponse(PylonResponse):
    reveal_round: int


# Request bodies: validated before anything is sent, so a mistake fails in the caller with a pydantic
# ValidationError naming the field instead of a round trip and a 4xx.


class PylonBody(BaseModel):
    """Base of the JSON bodies the client sends."""


class SetWeightsBody(PylonBody):
    weights: dict[Hotkey, Weight]

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, weights: dict[Hotkey, Weight]) -> dict[Hotkey, Weight]:
        if not weights:
            raise ValueError("no weights provided")
        for hotkey, weight in weights.items():
            if not hotkey:
                raise ValueError("a hotkey is empty")
            # JSON has no NaN or infinity; sending them would produce a body the service cannot parse.
            if not math.isfinite(weight):
                raise ValueError(f"weight for hotkey {hotkey!r} is {weight}, not a finite number")
        return weights


class SetCommitmentBody(PylonBody):
    commitment: CommitmentDataBytes

    @field_validator("commitment", mode="before")
    @classmethod
    def _parse_commitment(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return CommitmentDataBytes.fromhex(value)
            except ValueError as e:
                raise ValueError("commitment is not a valid hex string") from e
        return value

    @field_serializer("commitment")
    def _commitment_as_hex(self, commitment: CommitmentDataBytes) -> str:
        return str(commitment.hex())


class SetRevealedCommitmentBody(PylonBody):
    commitment: RevealedCommitmentData
    blocks_until_reveal: int = Field(gt=0)


class GenerateCertificateKeypairBody(PylonBody):
    algorithm: CertificateAlgorithm = CertificateAlgorithm.ED25519
