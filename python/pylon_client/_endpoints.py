"""Every endpoint of the v1 API, defined once: the sync and async clients, the mock and the OpenAPI drift test
all read this table.

A path is relative to its scope's prefix:
  CHAIN / PUBLIC   /api/v1                                         (chain-level data; the identity list)
  SUBNET           /api/v1/subnet/{netuid}  or, as an identity,
                   /api/v1/identity/{identity_name}/subnet/{netuid}
  IDENTITY         /api/v1/identity/{identity_name}/subnet/{netuid} only (writes and "self" reads)
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
    GetExtrinsicResponse,
    GetIdentitiesResponse,
    GetLatestBlockInfoResponse,
    GetNeuronsResponse,
    GetRevealedCommitmentsResponse,
    GetValidatorsResponse,
    GetWeightsJobResponse,
    GetWeightsStatusResponse,
    PylonResponse,
    SetCommitmentResponse,
    SetRevealedCommitmentResponse,
    SetWeightsResponse,
)

API_PREFIX = "/api/v1"
OPEN_ACCESS_PREFIX = API_PREFIX + "/subnet/{netuid}"
IDENTITY_PREFIX = API_PREFIX + "/identity/{identity_name}/subnet/{netuid}"

ResponseT = TypeVar("ResponseT", bound=PylonResponse)


class Scope(Enum):
    PUBLIC = "public"  # no token at all
    CHAIN = "chain"  # chain-level; authenticated with the open-access token
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

    @property
    def idempotent(self) -> bool:
        """Safe to resend after a failure that may have reached the server."""
        return self.method == "GET"

    def templates(self) -> dict[Tier | None, str]:
        """The full path template for each tier that can call this endpoint (None: tier does not matter)."""
        if self.scope in (Scope.PUBLIC, Scope.CHAIN):
            return {None: API_PREFIX + self.path}
        if self.scope is Scope.IDENTITY:
            return {Tier.IDENTITY: IDENTITY_PREFIX + self.path}
        return {Tier.OPEN_ACCESS: OPEN_ACCESS_PREFIX + self.path, Tier.IDENTITY: IDENTITY_PREFIX + self.path}


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
SET_COMMITMENT = Endpoint("set_commitment", "POST", "/commitments", Scope.IDENTITY, SetCommitmentResponse)
SET_REVEALED_COMMITMENT = Endpoint(
    "set_revealed_commitment", "POST", "/commitments/revealed", Scope.IDENTITY, SetRevealedCommitmentResponse
)

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
    SET_COMMITMENT,
    SET_REVEALED_COMMITMENT,
)
"""Ordered so that literal segments (`latest`, `self`, `revealed`) come before the parameter that would also match
them."""
