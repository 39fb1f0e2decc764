"""The service's JSON shapes as pydantic models (what `pylon_client.v1` methods return).

Unknown fields in a response are ignored, so a newer service that adds fields does not break older clients.
"""

from __future__ import annotations

import math
from enum import IntEnum, StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from ._types import (
    AlphaPriceRao,
    AlphaStake,
    BlockHash,
    BlockNumber,
    Coldkey,
    CommitmentDataBytes,
    CommitmentDataHex,
    Consensus,
    Dividends,
    DrandRound,
    Emission,
    EvmAddress,
    EvmBlockNumber,
    EvmContractAddress,
    EvmLogIndex,
    EvmTransactionHash,
    EvmTransactionIndex,
    ExtrinsicHash,
    ExtrinsicIndex,
    ExtrinsicLength,
    Hotkey,
    IdentityName,
    Incentive,
    MaxWeightsLimit,
    MechanismId,
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
    Tempo,
    Timestamp,
    TotalStake,
    Trust,
    ValidatorPermit,
    ValidatorTrust,
    Weight,
    WeightsJobId,
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
    """A block with its timestamp (whole seconds since the epoch, from `Timestamp.Now`)."""

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


class Epoch(BittensorModel):
    """The blocks `[start, end)` between two runs of a subnet's epoch."""

    start: BlockNumber
    end: BlockNumber


class WeightsJobStatus(StrEnum):
    """Where a weights job is. `pending` and `submitted` change; the others are final."""

    PENDING = "pending"  # recorded, not sent yet (or waiting to retry)
    SUBMITTED = "submitted"  # an extrinsic is in flight
    INCLUDED = "included"  # in a block without `ExtrinsicFailed`
    FAILED = "failed"  # refused in a way retrying cannot fix; see `reason`
    EXPIRED = "expired"  # the epoch ended before the weights landed
    SUPERSEDED = "superseded"  # a newer request replaced it before it was sent; see `superseded_by`

    @classmethod
    def _missing_(cls, value: object) -> WeightsJobStatus | None:
        # A status a newer service adds is kept (and is not final) rather than failing the read.
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value.upper()}"
        member._value_ = value
        return member

    @property
    def is_final(self) -> bool:
        return self in _FINAL_WEIGHTS_JOB_STATUSES


_FINAL_WEIGHTS_JOB_STATUSES = frozenset(
    {WeightsJobStatus.INCLUDED, WeightsJobStatus.FAILED, WeightsJobStatus.EXPIRED, WeightsJobStatus.SUPERSEDED}
)


class WeightsJob(BittensorModel):
    """One `put_weights` request as the service drives it to the chain."""

    job_id: WeightsJobId
    netuid: NetUid
    mechanism_id: MechanismId
    status: WeightsJobStatus
    # True once the weights are on chain (status `included`).
    weights_submitted: bool
    epoch: Epoch
    requested_at_block: BlockNumber
    # Extrinsics sent so far.
    attempts: int
    # Why the last attempt did not land, while the job retries.
    last_error: str | None = None
    included_block: BlockNumber | None = None
    extrinsic_hash: ExtrinsicHash | None = None
    # Why the job failed (status `failed`).
    reason: str | None = None
    # The job that replaced this one (status `superseded`).
    superseded_by: WeightsJobId | None = None
    # The weights as sent to the chain: uids (ascending) and their u16 values, the largest weight as 65535.
    uids: list[NeuronUid]
    weights: list[int]
    # Unix seconds.
    created_at: int
    updated_at: int

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    @property
    def chain_weights(self) -> dict[NeuronUid, int]:
        """The weights as sent, by uid."""
        return dict(zip(self.uids, self.weights, strict=True))


class WeightsStatus(BittensorModel):
    """Whether the identity's weights were included during the epoch containing a given block."""

    weights_submitted: bool


class SubnetHyperparameters(BittensorModel):
    """A subnet's settings at a block, from the chain's runtime API (`get_subnet_hyperparams_v3`) where the
    block's runtime has it, storage otherwise (`source`)."""

    block: Block
    netuid: NetUid
    # "runtime_api" or "storage".
    source: str
    # Blocks per epoch.
    tempo: Tempo
    commit_reveal_weights_enabled: bool
    # `CommitRevealWeightsVersion` (4: drand-timelocked commits); None where the chain has none.
    commit_reveal_version: int | None = None
    # Epochs from a commit to its reveal.
    commit_reveal_period: int
    # Blocks a validator must wait between two weight settings.
    weights_rate_limit: int
    min_allowed_weights: int
    # Largest weight one uid may get, as a u16 fraction (65535: no limit).
    max_weights_limit: MaxWeightsLimit
    # The version key a weights extrinsic must carry.
    weights_version: int
    # Blocks without an update after which a validator counts as inactive.
    activity_cutoff: int
    immunity_period: int
    # First block of the next epoch; None where the runtime has no `get_next_epoch_start_block`.
    next_epoch_start: BlockNumber | None = None
    # Every value the source reported, by the runtime's names (fixed-point values as numbers, balances in rao).
    all: dict[str, Any] = Field(default_factory=dict)


class OnChainWeightsRow(BittensorModel):
    """A validator's `Weights` row: parallel `uids` and u16 `values` as stored, and the same weights normalised to
    sum 1, keyed by the hotkey registered at each uid at the block."""

    uids: list[NeuronUid]
    values: list[int]
    normalized: dict[Hotkey, float]

    @property
    def by_uid(self) -> dict[NeuronUid, int]:
        """The u16 values by uid."""
        return dict(zip(self.uids, self.values, strict=True))


class PendingWeightsCommit(BittensorModel):
    """A CRv4 (drand-timelocked) weights commit of the hotkey that the chain has not revealed yet."""

    # The epoch the chain filed the commit under; None when the storage key does not show it.
    epoch: int | None = None
    commit_block: BlockNumber
    # The drand round whose signature reveals it.
    reveal_round: DrandRound


class OnChainWeights(BittensorModel):
    """A validator's weights as the chain holds them at a block: its `Weights` row on one subnet mechanism and its
    commits still waiting for their reveal (`TimelockedWeightCommits`)."""

    block: Block
    netuid: NetUid
    # Earlier services (before the mechanism routes) do not send it: their answer is always mechanism 0's.
    mechanism_id: MechanismId = MechanismId(0)
    hotkey: Hotkey
    uid: NeuronUid
    weights: OnChainWeightsRow
    pending_commits: list[PendingWeightsCommit]


# The live event stream (`events()`): one model per kind, told apart by `kind` (the SSE event name).


class StreamEvent(BittensorModel):
    """Base of the live stream's events. `id` is the stream's event id (`<block>-<n>`), what a reconnect sends as
    `Last-Event-ID` to resume after it; `gap` and `dropped` events have none of their own (empty, or the previous
    event's)."""

    id: str = ""


class BlockEvent(StreamEvent):
    """A new best block (every one, in order)."""

    kind: Literal["block"] = "block"
    number: BlockNumber
    hash: BlockHash
    # Unix seconds.
    timestamp: int


class EpochEvent(StreamEvent):
    """The subnet's epoch ran in `block`; its next one is due at `next_start`."""

    kind: Literal["epoch"] = "epoch"
    netuid: NetUid
    index: int
    block: BlockNumber
    next_start: BlockNumber


class NeuronsEvent(StreamEvent):
    """The subnet's neurons at `block` differ from the previous block's; `etag` is the ETag of
    `get_neurons(block)`, so a refetch of an unchanged answer costs a 304."""

    kind: Literal["neurons"] = "neurons"
    netuid: NetUid
    block: BlockNumber
    etag: str


class WeightsEvent(StreamEvent):
    """(Identity streams only) one of the identity's weights jobs on the subnet changed state."""

    kind: Literal["weights"] = "weights"
    netuid: NetUid
    job_id: WeightsJobId
    status: WeightsJobStatus
    block: BlockNumber | None = None
    error: str | None = None


class GapEvent(StreamEvent):
    """Events were missed (the resume point is older than the service's replay buffer, or the service restarted):
    refetch whatever state you keep. Live events follow."""

    kind: Literal["gap"] = "gap"
    reason: str
    last_event_id: str | None = None


class DroppedEvent(StreamEvent):
    """The service closed this consumer for falling behind; the stream reconnects from the last event it saw (and
    a `GapEvent` follows if the service no longer has the events in between)."""

    kind: Literal["dropped"] = "dropped"
    reason: str


Event = Annotated[
    BlockEvent | EpochEvent | NeuronsEvent | WeightsEvent | GapEvent | DroppedEvent, Field(discriminator="kind")
]
"""One event of the live stream; match on its class or on `kind`."""

EVENT_KINDS = frozenset({"block", "epoch", "neurons", "weights", "gap", "dropped"})


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
    """The service accepted the weights as a job and submits them (directly or commit-reveal) in the background;
    follow it with `get_weights_job()` or `wait_for_weights(job_id)`.

    The typed fields are optional because earlier services answer `{}` or only `detail`; fields a newer service
    adds are kept (`extra="allow"`)."""

    model_config = ConfigDict(extra="allow")

    detail: str | None = None
    job_id: WeightsJobId | None = None
    # Uids the weights go to (registered hotkeys only).
    count: int | None = None
    # Hotkeys not registered on the subnet at the latest block: their weights go nowhere.
    unknown_hotkeys: list[Hotkey] = Field(default_factory=list)
    # The job must be included within this epoch, or it expires.
    epoch: Epoch | None = None
    # The identity's pending job (same netuid and mechanism) that this one replaced before it was sent.
    superseded_job_id: WeightsJobId | None = None


class GetWeightsJobResponse(PylonResponse, WeightsJob):
    pass


class GetWeightsStatusResponse(PylonResponse, WeightsStatus):
    pass


class GetHyperparametersResponse(PylonResponse, SubnetHyperparameters):
    pass


class GetOnChainWeightsResponse(PylonResponse, OnChainWeights):
    pass


class SetCommitmentResponse(PylonResponse):
    """Where the commitment landed (`block`, `extrinsic_hash`; absent from earlier services' `{}`)."""

    model_config = ConfigDict(extra="allow")

    block: Block | None = None
    extrinsic_hash: ExtrinsicHash | None = None


class SetRevealedCommitmentResponse(PylonResponse):
    reveal_round: int
    block: Block | None = None
    extrinsic_hash: ExtrinsicHash | None = None


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


# The `_unstable` API's own shapes (`client.unstable`, `pylon_client.artanis.unstable`) -------------------------------
# Where the name is one v1 also has (`GetCommitmentsResponse`), the unstable class carries an `Unstable` prefix here
# and its reference name in `pylon_client.artanis.unstable`.


class CommitmentKind(StrEnum):
    HEX_DATA = "hex_data"
    TIMELOCK_ENCRYPTED = "timelock_encrypted"


class UnstableCommitment(BittensorModel):
    """What every `_unstable` commitment has (`pylon_client.artanis.unstable.Commitment`)."""

    kind: CommitmentKind
    commitment_block_number: BlockNumber
    hotkey: Hotkey
    commitment: CommitmentDataHex


class HexDataCommitment(UnstableCommitment):
    """A commitment's plain data, as hex."""

    kind: Literal[CommitmentKind.HEX_DATA] = CommitmentKind.HEX_DATA


class TimelockEncryptedCommitment(UnstableCommitment):
    """A commitment still sealed for drand round `reveal_round` (its ciphertext, as hex)."""

    kind: Literal[CommitmentKind.TIMELOCK_ENCRYPTED] = CommitmentKind.TIMELOCK_ENCRYPTED
    reveal_round: int


CommitmentVariant = Annotated[HexDataCommitment | TimelockEncryptedCommitment, Field(discriminator="kind")]


class SubnetCommitments(BittensorModel):
    block: Block
    commitments: dict[Hotkey, CommitmentVariant]


class SubnetRevealedCommitments(BittensorModel):
    block: Block
    commitments: dict[Hotkey, list[RevealedCommitment]]


class SubnetPriceEntry(BittensorModel):
    value: AlphaPriceRao


class SubnetPrices(BittensorModel):
    """Every subnet's alpha price in rao (of TAO) at `block`."""

    block: Block
    prices: dict[NetUid, SubnetPriceEntry]


class SubnetPrice(BittensorModel):
    block: Block
    netuid: NetUid
    price: SubnetPriceEntry


class EvmAssociation(BittensorModel):
    hotkey: Hotkey
    evm_address: EvmAddress
    last_block_where_ownership_was_proven: BlockNumber


class SubnetEvmAssociations(BittensorModel):
    block: Block
    evm_associations: dict[Hotkey, EvmAssociation]


class EvmLog(BaseModel):
    """One contract log decoded with the ABI given to `get_evm_logs`."""

    event: str
    args: dict[str, Any]
    address: EvmContractAddress
    block_number: EvmBlockNumber
    transaction_hash: EvmTransactionHash
    transaction_index: EvmTransactionIndex
    log_index: EvmLogIndex


class UnstableGetCommitmentsResponse(PylonResponse, SubnetCommitments):
    pass


class UnstableGetCommitmentResponse(PylonResponse):
    commitment: CommitmentVariant
    block: Block


class GetPricesResponse(PylonResponse, SubnetPrices):
    pass


class GetPriceResponse(PylonResponse, SubnetPrice):
    pass


class GetDrandLastStoredRoundResponse(PylonResponse):
    last_stored_round: DrandRound


class GetLatestEvmAssociationsResponse(PylonResponse, SubnetEvmAssociations):
    pass


class GetEvmLogsResponse(PylonResponse):
    logs: list[EvmLog]
    from_block: EvmBlockNumber
    to_block: EvmBlockNumber


class EvmLogsBody(PylonBody):
    """The ABI (a list of JSON ABI entries) the service decodes the contract's logs with."""

    abi: list[dict[str, Any]]
