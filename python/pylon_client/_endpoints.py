"""Every endpoint of the v1 API, defined once: the sync and async clients, the mock and the OpenAPI drift test
all read this table.

A path is relative to its scope's prefix:
  CHAIN / PUBLIC   /api/v1                                         (chain-level data; the identity list)
  SUBNET           /api/v1/subnet/{netuid}  or, as an identity,
                   /api/v1/identity/{identity_name}/subnet/{netuid}
  IDENTITY         /api/v1/identity/{identity_name}/subnet/{netuid} only (writes and "self" reads)

The `_unstable` API (`UNSTABLE_ENDPOINTS`, `client.unstable`) has the same scopes under `/api/_unstable`, with
open-access paths under `/openaccess`: `/api/_unstable/openaccess/block/latest`,
`/api/_unstable/openaccess/subnet/{netuid}/…`, `/api/_unstable/identity/{identity_name}/subnet/{netuid}/…`,
and the public `/api/_unstable/identities`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from ._models import (
    GenerateCertificateKeypairResponse,
    GetAllRevealedCommitmentsResponse,
    GetCertificateResponse,
    GetCertificatesResponse,
    GetCommitmentResponse,
    GetCommitmentsResponse,
    GetDrandLastStoredRoundResponse,
    GetEvmLogsResponse,
    GetExtrinsicResponse,
    GetHyperparametersResponse,
    GetIdentitiesResponse,
    GetLatestBlockInfoResponse,
    GetLatestEvmAssociationsResponse,
    GetNeuronsResponse,
    GetOnChainWeightsResponse,
    GetPriceResponse,
    GetPricesResponse,
    GetRevealedCommitmentsResponse,
    GetValidatorsResponse,
    GetWeightsJobResponse,
    GetWeightsStatusResponse,
    PylonResponse,
    SetCommitmentResponse,
    SetRevealedCommitmentResponse,
    SetWeightsResponse,
    UnstableGetCommitmentResponse,
    UnstableGetCommitmentsResponse,
)

API_PREFIX = "/api/v1"
OPEN_ACCESS_PREFIX = API_PREFIX + "/subnet/{netuid}"
IDENTITY_PREFIX = API_PREFIX + "/identity/{identity_name}/subnet/{netuid}"

V1 = "v1"
UNSTABLE = "_unstable"
# Per API version: (public, chain-level, open-access subnet, identity subnet) prefixes.
PREFIXES = {
    V1: (API_PREFIX, API_PREFIX, OPEN_ACCESS_PREFIX, IDENTITY_PREFIX),
    UNSTABLE: (
        "/api/_unstable",
        "/api/_unstable/openaccess",
        "/api/_unstable/openaccess/subnet/{netuid}",
        "/api/_unstable/identity/{identity_name}/subnet/{netuid}",
    ),
}

ResponseT = TypeVar("ResponseT", bound=PylonResponse)


class Scope(Enum):
    PUBLIC = "public"  # no token at all
    CHAIN = "chain"  # chain-level; authenticated with the open-access token
    # Chain-level and sent with no token, as the published client sends the drand round read.
    CHAIN_ANONYMOUS = "chain_anonymous"
    SUBNET = "subnet"  # per subnet; open access or identity
    IDENTITY = "identity"  # identity only


class Tier(Enum):
    OPEN_ACCESS = "open_access"
    IDENTITY = "identity"


@dataclass(frozen=True)
class Endpoint(Generic[ResponseT]):
    """One route. `name` is the client method that calls it (the mock's name for it too); a method that picks
    its route by an argument (`put_weights` by mechanism) has several endpoints under one name."""

    name: str
    method: str
    path: str
    scope: Scope
    response: type[ResponseT]
    version: str = V1

    @property
    def idempotent(self) -> bool:
        """Safe to resend after a failure that may have reached the server."""
        return self.method == "GET"

    def templates(self) -> dict[Tier | None, str]:
        """The full path template for each tier that can call this endpoint (None: tier does not matter)."""
        public, chain, open_access, identity = PREFIXES[self.version]
        if self.scope is Scope.PUBLIC:
            return {None: public + self.path}
        if self.scope in (Scope.CHAIN, Scope.CHAIN_ANONYMOUS):
            return {None: chain + self.path}
        if self.scope is Scope.IDENTITY:
            return {Tier.IDENTITY: identity + self.path}
        return {Tier.OPEN_ACCESS: open_access + self.path, Tier.IDENTITY: identity + self.path}


GET_IDENTITIES = Endpoint("get_identities", "GET", "/identities", Scope.PUBLIC, GetIdentitiesResponse)
GET_LATEST_BLOCK_INFO = Endpoint(
    "get_latest_block_info", "GET", "/block/latest", Scope.CHAIN, GetLatestBlockInfoResponse
)
GET_EXTRINSIC = Endpoint(
    "get_extrinsic", "GET", "/block/{block_number}/extrinsic/{extrinsic_index}", Scope.CHAIN, GetExtrinsicResponse
)

GET_NEURONS = Endpoint("get_neurons", "GET", "/block/{block_number}/neurons", Scope.SUBNET, GetNeuronsResponse)
GET_LATEST_NEURONS = Endpoint("get_latest_neurons", "GET", "/block/latest/neurons", Scope.SUBNET, GetNeuronsResponse)
GET_RECENT_NEURONS = Endpoint("get_recent_neurons", "GET", "/block/recent/neurons", Scope.SUBNET, GetNeuronsResponse)
GET_VALIDATORS = Endpoint(
    "get_validators", "GET", "/block/{block_number}/validators", Scope.SUBNET, GetValidatorsResponse
)
GET_LATEST_VALIDATORS = Endpoint(
    "get_latest_validators", "GET", "/block/latest/validators", Scope.SUBNET, GetValidatorsResponse
)

GET_CERTIFICATES = Endpoint(
    "get_certificates", "GET", "/block/latest/certificates", Scope.SUBNET, GetCertificatesResponse
)
GET_CERTIFICATE = Endpoint(
    "get_certificate", "GET", "/block/latest/certificates/{hotkey}", Scope.SUBNET, GetCertificateResponse
)
GET_OWN_CERTIFICATE = Endpoint(
    "get_own_certificate", "GET", "/block/latest/certificates/self", Scope.IDENTITY, GetCertificateResponse
)
GENERATE_CERTIFICATE_KEYPAIR = Endpoint(
    "generate_certificate_keypair",
    "POST",
    "/certificates/self",
    Scope.IDENTITY,
    GenerateCertificateKeypairResponse,
)

GET_COMMITMENTS = Endpoint("get_commitments", "GET", "/block/latest/commitments", Scope.SUBNET, GetCommitmentsResponse)
GET_COMMITMENT = Endpoint(
    "get_commitment", "GET", "/block/latest/commitments/{hotkey}", Scope.SUBNET, GetCommitmentResponse
)
GET_OWN_COMMITMENT = Endpoint(
    "get_own_commitment", "GET", "/block/latest/commitments/self", Scope.IDENTITY, GetCommitmentResponse
)
GET_ALL_REVEALED_COMMITMENTS = Endpoint(
    "get_all_revealed_commitments",
    "GET",
    "/block/latest/commitments/revealed",
    Scope.SUBNET,
    GetAllRevealedCommitmentsResponse,
)
GET_REVEALED_COMMITMENTS = Endpoint(
    "get_revealed_commitments",
    "GET",
    "/block/latest/commitments/revealed/{hotkey}",
    Scope.SUBNET,
    GetRevealedCommitmentsResponse,
)
GET_OWN_REVEALED_COMMITMENTS = Endpoint(
    "get_own_revealed_commitments",
    "GET",
    "/block/latest/commitments/revealed/self",
    Scope.IDENTITY,
    GetRevealedCommitmentsResponse,
)

# Mechanism 0 uses the short routes (what the published v1 client sends); other mechanisms the `/mechanism/{id}`
# ones.
PUT_WEIGHTS = Endpoint("put_weights", "PUT", "/weights", Scope.IDENTITY, SetWeightsResponse)
PUT_MECHANISM_WEIGHTS = Endpoint(
    "put_weights", "PUT", "/mechanism/{mechanism_id}/weights", Scope.IDENTITY, SetWeightsResponse
)
GET_WEIGHTS_JOB = Endpoint("get_weights_job", "GET", "/weights/status", Scope.IDENTITY, GetWeightsJobResponse)
GET_MECHANISM_WEIGHTS_JOB = Endpoint(
    "get_weights_job", "GET", "/mechanism/{mechanism_id}/weights/status", Scope.IDENTITY, GetWeightsJobResponse
)
GET_WEIGHTS_STATUS = Endpoint(
    "get_weights_status",
    "GET",
    "/mechanism/{mechanism_id}/block/{block_number}/weights/status",
    Scope.IDENTITY,
    GetWeightsStatusResponse,
)
GET_LATEST_HYPERPARAMETERS = Endpoint(
    "get_latest_hyperparameters", "GET", "/block/latest/hyperparameters", Scope.SUBNET, GetHyperparametersResponse
)
GET_HYPERPARAMETERS = Endpoint(
    "get_hyperparameters", "GET", "/block/{block_number}/hyperparameters", Scope.SUBNET, GetHyperparametersResponse
)

# Weights as the chain holds them. Mechanism 0 uses the short routes, other mechanisms the `/mechanism/{id}` ones.
GET_OWN_LATEST_ONCHAIN_WEIGHTS = Endpoint(
    "get_own_latest_onchain_weights", "GET", "/block/latest/weights/self", Scope.IDENTITY, GetOnChainWeightsResponse
)
GET_OWN_LATEST_MECHANISM_ONCHAIN_WEIGHTS = Endpoint(
    "get_own_latest_onchain_weights",
    "GET",
    "/block/latest/mechanism/{mechanism_id}/weights/self",
    Scope.IDENTITY,
    GetOnChainWeightsResponse,
)
GET_LATEST_ONCHAIN_WEIGHTS = Endpoint(
    "get_latest_onchain_weights", "GET", "/block/latest/weights/{hotkey}", Scope.SUBNET, GetOnChainWeightsResponse
)
GET_LATEST_MECHANISM_ONCHAIN_WEIGHTS = Endpoint(
    "get_latest_onchain_weights",
    "GET",
    "/block/latest/mechanism/{mechanism_id}/weights/{hotkey}",
    Scope.SUBNET,
    GetOnChainWeightsResponse,
)
GET_OWN_ONCHAIN_WEIGHTS = Endpoint(
    "get_own_onchain_weights", "GET", "/block/{block_number}/weights/self", Scope.IDENTITY, GetOnChainWeightsResponse
)
GET_OWN_MECHANISM_ONCHAIN_WEIGHTS = Endpoint(
    "get_own_onchain_weights",
    "GET",
    "/block/{block_number}/mechanism/{mechanism_id}/weights/self",
    Scope.IDENTITY,
    GetOnChainWeightsResponse,
)
GET_ONCHAIN_WEIGHTS = Endpoint(
    "get_onchain_weights", "GET", "/block/{block_number}/weights/{hotkey}", Scope.SUBNET, GetOnChainWeightsResponse
)
GET_MECHANISM_ONCHAIN_WEIGHTS = Endpoint(
    "get_onchain_weights",
    "GET",
    "/block/{block_number}/mechanism/{mechanism_id}/weights/{hotkey}",
    Scope.SUBNET,
    GetOnChainWeightsResponse,
)

SET_COMMITMENT = Endpoint("set_commitment", "POST", "/commitments", Scope.IDENTITY, SetCommitmentResponse)
SET_REVEALED_COMMITMENT = Endpoint(
    "set_revealed_commitment", "POST", "/commitments/revealed", Scope.IDENTITY, SetRevealedCommitmentResponse
)

# The live event stream (Server-Sent Events, not JSON): sent by `events()` through its own reader, so it is not
# among the JSON endpoints below (nor answered by the mock).
EVENTS = Endpoint("events", "GET", "/events", Scope.SUBNET, PylonResponse)

ALL_ENDPOINTS: tuple[Endpoint[Any], ...] = (
    GET_IDENTITIES,
    GET_LATEST_BLOCK_INFO,
    GET_EXTRINSIC,
    GET_LATEST_NEURONS,
    GET_RECENT_NEURONS,
    GET_NEURONS,
    GET_LATEST_VALIDATORS,
    GET_VALIDATORS,
    GET_CERTIFICATES,
    GET_OWN_CERTIFICATE,
    GET_CERTIFICATE,
    GENERATE_CERTIFICATE_KEYPAIR,
    GET_COMMITMENTS,
    GET_OWN_COMMITMENT,
    GET_ALL_REVEALED_COMMITMENTS,
    GET_OWN_REVEALED_COMMITMENTS,
    GET_REVEALED_COMMITMENTS,
    GET_COMMITMENT,
    PUT_WEIGHTS,
    PUT_MECHANISM_WEIGHTS,
    GET_WEIGHTS_JOB,
    GET_MECHANISM_WEIGHTS_JOB,
    GET_WEIGHTS_STATUS,
    GET_LATEST_HYPERPARAMETERS,
    GET_HYPERPARAMETERS,
    GET_OWN_LATEST_ONCHAIN_WEIGHTS,
    GET_OWN_LATEST_MECHANISM_ONCHAIN_WEIGHTS,
    GET_LATEST_ONCHAIN_WEIGHTS,
    GET_LATEST_MECHANISM_ONCHAIN_WEIGHTS,
    GET_OWN_ONCHAIN_WEIGHTS,
    GET_OWN_MECHANISM_ONCHAIN_WEIGHTS,
    GET_ONCHAIN_WEIGHTS,
    GET_MECHANISM_ONCHAIN_WEIGHTS,
    SET_COMMITMENT,
    SET_REVEALED_COMMITMENT,
)
"""Ordered so that literal segments (`latest`, `self`, `revealed`) come before the parameter that would also match
them."""


def _unstable(name: str, method: str, path: str, scope: Scope, response: type[ResponseT]) -> Endpoint[ResponseT]:
    return Endpoint(name, method, path, scope, response, version=UNSTABLE)


# The `_unstable` API: the published client 2.3's `client.unstable` sends exactly these.
U_GET_IDENTITIES = _unstable("get_identities", "GET", "/identities", Scope.PUBLIC, GetIdentitiesResponse)
U_GET_LATEST_BLOCK_INFO = _unstable(
    "get_latest_block_info", "GET", "/block/latest", Scope.CHAIN, GetLatestBlockInfoResponse
)
U_GET_EXTRINSIC = _unstable(
    "get_extrinsic", "GET", "/block/{block_number}/extrinsic/{extrinsic_index}", Scope.CHAIN, GetExtrinsicResponse
)
U_GET_LATEST_PRICES = _unstable("get_latest_prices", "GET", "/block/latest/prices", Scope.CHAIN, GetPricesResponse)
U_GET_PRICES = _unstable("get_prices", "GET", "/block/{block_number}/prices", Scope.CHAIN, GetPricesResponse)
U_GET_DRAND_LAST_STORED_ROUND = _unstable(
    "get_drand_last_stored_round",
    "GET",
    "/block/latest/drand/last_stored_round",
    Scope.CHAIN_ANONYMOUS,
    GetDrandLastStoredRoundResponse,
)
U_GET_EVM_LOGS = _unstable(
    "get_evm_logs", "POST", "/evm/contracts/{contract_address}/logs", Scope.CHAIN, GetEvmLogsResponse
)
U_GET_NEURONS = _unstable("get_neurons", "GET", "/block/{block_number}/neurons", Scope.SUBNET, GetNeuronsResponse)
U_GET_LATEST_NEURONS = _unstable("get_latest_neurons", "GET", "/block/latest/neurons", Scope.SUBNET, GetNeuronsResponse)
U_GET_RECENT_NEURONS = _unstable("get_recent_neurons", "GET", "/block/recent/neurons", Scope.SUBNET, GetNeuronsResponse)
U_GET_VALIDATORS = _unstable(
    "get_validators", "GET", "/block/{block_number}/validators", Scope.SUBNET, GetValidatorsResponse
)
U_GET_LATEST_VALIDATORS = _unstable(
    "get_latest_validators", "GET", "/block/latest/validators", Scope.SUBNET, GetValidatorsResponse
)
U_GET_LATEST_PRICE = _unstable("get_latest_price", "GET", "/block/latest/price", Scope.SUBNET, GetPriceResponse)
U_GET_PRICE = _unstable("get_price", "GET", "/block/{block_number}/price", Scope.SUBNET, GetPriceResponse)
U_GET_CERTIFICATE = _unstable(
    "get_certificate", "GET", "/block/latest/certificates/{hotkey}", Scope.SUBNET, GetCertificateResponse
)
U_GET_LATEST_EVM_ASSOCIATIONS = _unstable(
    "get_latest_evm_associations",
    "GET",
    "/block/latest/evm_associations",
    Scope.SUBNET,
    GetLatestEvmAssociationsResponse,
)
U_GET_COMMITMENTS = _unstable(
    "get_commitments", "GET", "/block/latest/commitments", Scope.SUBNET, UnstableGetCommitmentsResponse
)
U_GET_COMMITMENT = _unstable(
    "get_commitment", "GET", "/block/latest/commitments/{hotkey}", Scope.SUBNET, UnstableGetCommitmentResponse
)
U_GET_OWN_COMMITMENT = _unstable(
    "get_own_commitment", "GET", "/block/latest/commitments/self", Scope.IDENTITY, UnstableGetCommitmentResponse
)
U_GET_ALL_REVEALED_COMMITMENTS = _unstable(
    "get_all_revealed_commitments",
    "GET",
    "/block/latest/commitments/revealed",
    Scope.SUBNET,
    GetAllRevealedCommitmentsResponse,
)
U_GET_REVEALED_COMMITMENTS = _unstable(
    "get_revealed_commitments",
    "GET",
    "/block/latest/commitments/revealed/{hotkey}",
    Scope.SUBNET,
    GetRevealedCommitmentsResponse,
)
U_GET_OWN_REVEALED_COMMITMENTS = _unstable(
    "get_own_revealed_commitments",
    "GET",
    "/block/latest/commitments/revealed/self",
    Scope.IDENTITY,
    GetRevealedCommitmentsResponse,
)
# `_unstable` sends every weights write to the mechanism route, mechanism 0 included.
U_PUT_WEIGHTS = _unstable("put_weights", "PUT", "/mechanism/{mechanism_id}/weights", Scope.IDENTITY, SetWeightsResponse)
U_GET_WEIGHTS_STATUS = _unstable(
    "get_weights_status",
    "GET",
    "/mechanism/{mechanism_id}/block/{block_number}/weights/status",
    Scope.IDENTITY,
    GetWeightsStatusResponse,
)
U_SET_COMMITMENT = _unstable("set_commitment", "POST", "/commitments", Scope.IDENTITY, SetCommitmentResponse)
U_SET_REVEALED_COMMITMENT = _unstable(
    "set_revealed_commitment", "POST", "/commitments/revealed", Scope.IDENTITY, SetRevealedCommitmentResponse
)

UNSTABLE_ENDPOINTS: tuple[Endpoint[Any], ...] = (
    U_GET_IDENTITIES,
    U_GET_LATEST_BLOCK_INFO,
    U_GET_LATEST_PRICES,
    U_GET_PRICES,
    U_GET_DRAND_LAST_STORED_ROUND,
    U_GET_EXTRINSIC,
    U_GET_EVM_LOGS,
    U_GET_LATEST_NEURONS,
    U_GET_RECENT_NEURONS,
    U_GET_NEURONS,
    U_GET_LATEST_VALIDATORS,
    U_GET_VALIDATORS,
    U_GET_LATEST_PRICE,
    U_GET_PRICE,
    U_GET_LATEST_EVM_ASSOCIATIONS,
    U_GET_CERTIFICATE,
    U_GET_COMMITMENTS,
    U_GET_OWN_COMMITMENT,
    U_GET_ALL_REVEALED_COMMITMENTS,
    U_GET_OWN_REVEALED_COMMITMENTS,
    U_GET_REVEALED_COMMITMENTS,
    U_GET_COMMITMENT,
    U_PUT_WEIGHTS,
    U_GET_WEIGHTS_STATUS,
    U_SET_COMMITMENT,
    U_SET_REVEALED_COMMITMENT,
)
"""Ordered like `ALL_ENDPOINTS`: literal segments before the parameter that would also match them."""
