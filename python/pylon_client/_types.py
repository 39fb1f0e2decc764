"""Domain types shared by the models and the API methods.

Most are `NewType`s: free at runtime, but they let a type checker tell a hotkey from a coldkey and a block
number from a netuid. Currency amounts are floats (whole tokens) or ints (rao) tagged with their token.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, NewType, Self, TypeVar

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

RAO_PER_TAO = 1_000_000_000


class Token(StrEnum):
    TAO = "tao"
    ALPHA = "alpha"


TokenT = TypeVar("TokenT", bound=Token)


class Currency(float, Generic[TokenT]):
    """An amount of whole tokens (TAO or alpha); `Currency[Token.TAO].from_rao(n)` converts from rao."""

    @classmethod
    def from_rao(cls, rao: int) -> Self:
        return cls(rao / RAO_PER_TAO)

    def as_rao(self) -> CurrencyRao[TokenT]:
        return CurrencyRao(round(self * RAO_PER_TAO))

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return handler(float)


class CurrencyRao(int, Generic[TokenT]):
    """An amount in rao, the chain's integer unit (1 token = 10^9 rao)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return handler(int)


Hotkey = NewType("Hotkey", str)
Coldkey = NewType("Coldkey", str)
Weight = NewType("Weight", float)
BlockHash = NewType("BlockHash", str)
BlockNumber = NewType("BlockNumber", int)
RevealRound = NewType("RevealRound", int)
PublicKey = NewType("PublicKey", str)
PrivateKey = NewType("PrivateKey", str)
NeuronUid = NewType("NeuronUid", int)
Port = NewType("Port", int)
Stake = NewType("Stake", float)
Rank = NewType("Rank", float)
Emission = NewType("Emission", float)
EmissionRao = NewType("EmissionRao", int)
Incentive = NewType("Incentive", float)
Consensus = NewType("Consensus", float)
Trust = NewType("Trust", float)
ValidatorTrust = NewType("ValidatorTrust", float)
Dividends = NewType("Dividends", float)
Timestamp = NewType("Timestamp", int)
PruningScore = NewType("PruningScore", int)
MaxWeightsLimit = NewType("MaxWeightsLimit", int)
Tempo = NewType("Tempo", int)
NetUid = NewType("NetUid", int)
MechanismId = NewType("MechanismId", int)
# Mechanism 0: the subnet's main (and, on most subnets, only) weights mechanism.
MAIN_MECHANISM = MechanismId(0)
BittensorNetwork = NewType("BittensorNetwork", str)
ArchiveBlocksCutoff = NewType("ArchiveBlocksCutoff", int)
NeuronActive = NewType("NeuronActive", bool)
ValidatorPermit = NewType("ValidatorPermit", bool)
SubnetActive = NewType("SubnetActive", bool)
AlphaStakeRao = NewType("AlphaStakeRao", int)
TaoStakeRao = NewType("TaoStakeRao", int)
TotalStakeRao = NewType("TotalStakeRao", int)
AlphaStake = NewType("AlphaStake", float)
TaoStake = NewType("TaoStake", float)
TotalStake = NewType("TotalStake", float)
WalletName = NewType("WalletName", str)
HotkeyName = NewType("HotkeyName", str)
PylonAuthToken = NewType("PylonAuthToken", str)
IdentityName = NewType("IdentityName", str)
ExtrinsicIndex = NewType("ExtrinsicIndex", int)
ExtrinsicHash = NewType("ExtrinsicHash", str)
ExtrinsicLength = NewType("ExtrinsicLength", int)
RevealedCommitmentData = NewType("RevealedCommitmentData", str)
EvmAddress = NewType("EvmAddress", str)
AlphaPriceRao = NewType("AlphaPriceRao", int)
DrandRound = NewType("DrandRound", int)
# The EVM side (`get_evm_logs`): a contract address, an EVM block number, and what identifies a log.
EvmContractAddress = NewType("EvmContractAddress", str)
EvmBlockNumber = NewType("EvmBlockNumber", int)
EvmTransactionHash = NewType("EvmTransactionHash", str)
EvmTransactionIndex = NewType("EvmTransactionIndex", int)
EvmLogIndex = NewType("EvmLogIndex", int)
WeightsJobId = NewType("WeightsJobId", int)


class CommitmentDataHex(str):
    """Commitment bytes as a hex string, always `0x`-prefixed (the prefix is added when missing)."""

    def __new__(cls, value: str) -> Self:
        return super().__new__(cls, value if value.startswith("0x") else "0x" + value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(cls, handler(str))


class CommitmentDataBytes(bytes):
    """Raw commitment bytes; `.hex()` gives the `0x`-prefixed form the service speaks."""

    def hex(self, *args: Any, **kwargs: Any) -> CommitmentDataHex:
        return CommitmentDataHex(super().hex(*args, **kwargs))

    @classmethod
    def fromhex(cls, value: str) -> Self:
        return cls(bytes.fromhex(value.removeprefix("0x")))

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.bytes_schema(min_length=1))
