"""Every client method, sync and async: the exact HTTP method, path, Authorization, X-Pylon-Timeout and body it
sends, and the model it returns. Paths are written out here by hand (from the v1 contract), not derived from the
client's endpoint table, so a wrong entry in that table fails."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from pylon_client.testing import MockPylon
from pylon_client.v1 import (
    AsyncIdentityApi,
    AsyncOpenAccessApi,
    AsyncPylonClient,
    BlockNumber,
    CertificateAlgorithm,
    ExtrinsicIndex,
    GenerateCertificateKeypairResponse,
    GetAllRevealedCommitmentsResponse,
    GetCertificateResponse,
    GetCertificatesResponse,
    GetCommitmentResponse,
    GetCommitmentsResponse,
    GetExtrinsicResponse,
    GetHyperparametersResponse,
    GetLatestBlockInfoResponse,
    GetNeuronsResponse,
    GetOnChainWeightsResponse,
    GetRevealedCommitmentsResponse,
    GetValidatorsResponse,
    GetWeightsJobResponse,
    GetWeightsStatusResponse,
    Hotkey,
    IdentityApi,
    MechanismId,
    NetUid,
    NeuronCertificate,
    OpenAccessApi,
    PylonClient,
    SetCommitmentResponse,
    SetRevealedCommitmentResponse,
    SetWeightsResponse,
    Weight,
)

from .support import IDENTITY_TOKEN, NETUID, OPEN_TOKEN, async_config, sync_config

HK = Hotkey("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty")
OA = "/api/v1/subnet/3"
ID = f"/api/v1/identity/sn1/subnet/{NETUID}"
OPEN = f"Bearer {OPEN_TOKEN}"
IDENT = f"Bearer {IDENTITY_TOKEN}"


@dataclass
class Case:
    namespace: str
    method: str
    args: tuple[Any, ...]
    http_method: str
    path: str
    auth: str
    returns: type
    body: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    # False for calls the published v1 client cannot make although it has the method (see test_reference_parity).
    published_v1: bool = True

    @property
    def id(self) -> str:
        return f"{self.namespace}.{self.method}{self.args}"


CASES = [
    Case("open_access", "get_neurons", (NetUid(3), BlockNumber(100)), "GET", f"{OA}/block/100/neurons", OPEN, GetNeuronsResponse),
    Case("open_access", "get_latest_neurons", (NetUid(3),), "GET", f"{OA}/block/latest/neurons", OPEN, GetNeuronsResponse),
    Case("open_access", "get_recent_neurons", (NetUid(3),), "GET", f"{OA}/block/recent/neurons", OPEN, GetNeuronsResponse),
    Case("open_access", "get_validators", (NetUid(3), BlockNumber(100)), "GET", f"{OA}/block/100/validators", OPEN, GetValidatorsResponse),
    Case("open_access", "get_latest_validators", (NetUid(3),), "GET", f"{OA}/block/latest/validators", OPEN, GetValidatorsResponse),
    Case("open_access", "get_latest_block_info", (), "GET", "/api/v1/block/latest", OPEN, GetLatestBlockInfoResponse),
    Case("open_access", "get_extrinsic", (BlockNumber(100), ExtrinsicIndex(2)), "GET", "/api/v1/block/100/extrinsic/2", OPEN, GetExtrinsicResponse),
    Case("open_access", "get_certificates", (NetUid(3),), "GET", f"{OA}/block/latest/certificates", OPEN, GetCertificatesResponse),
    Case("open_access", "get_certificate", (NetUid(3), HK), "GET", f"{OA}/block/latest/certificates/{HK}", OPEN, GetCertificateResponse),
    Case("open_access", "get_commitments", (NetUid(3),), "GET", f"{OA}/block/latest/commitments", OPEN, GetCommitmentsResponse),
    Case("open_access", "get_commitment", (NetUid(3), HK), "GET", f"{OA}/block/latest/commitments/{HK}", OPEN, GetCommitmentResponse),
    Case("open_access", "get_all_revealed_commitments", (NetUid(3),), "GET", f"{OA}/block/latest/commitments/revealed", OPEN, GetAllRevealedCommitmentsResponse),
    Case("open_access", "get_revealed_commitments", (NetUid(3), HK), "GET", f"{OA}/block/latest/commitments/revealed/{HK}", OPEN, GetRevealedCommitmentsResponse),
    Case("open_access", "get_latest_hyperparameters", (NetUid(3),), "GET", f"{OA}/block/latest/hyperparameters", OPEN, GetHyperparametersResponse, published_v1=False),
    Case("open_access", "get_hyperparameters", (NetUid(3), BlockNumber(100)), "GET", f"{OA}/block/100/hyperparameters", OPEN, GetHyperparametersResponse, published_v1=False),
    Case("open_access", "get_latest_onchain_weights", (NetUid(3), HK), "GET", f"{OA}/block/latest/weights/{HK}", OPEN, GetOnChainWeightsResponse, published_v1=False),
    Case("open_access", "get_latest_onchain_weights", (NetUid(3), HK, MechanismId(2)), "GET", f"{OA}/block/latest/mechanism/2/weights/{HK}", OPEN, GetOnChainWeightsResponse, published_v1=False),
    Case("open_access", "get_onchain_weights", (NetUid(3), BlockNumber(100), HK), "GET", f"{OA}/block/100/weights/{HK}", OPEN, GetOnChainWeightsResponse, published_v1=False),
    Case("open_access", "get_onchain_weights", (NetUid(3), BlockNumber(100), HK, MechanismId(2)), "GET", f"{OA}/block/100/mechanism/2/weights/{HK}", OPEN, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "get_neurons", (BlockNumber(100),), "GET", f"{ID}/block/100/neurons", IDENT, GetNeuronsResponse),
    Case("identity", "get_latest_neurons", (), "GET", f"{ID}/block/latest/neurons", IDENT, GetNeuronsResponse),
    Case("identity", "get_recent_neurons", (), "GET", f"{ID}/block/recent/neurons", IDENT, GetNeuronsResponse),
    Case("identity", "get_validators", (BlockNumber(100),), "GET", f"{ID}/block/100/validators", IDENT, GetValidatorsResponse),
    Case("identity", "get_latest_validators", (), "GET", f"{ID}/block/latest/validators", IDENT, GetValidatorsResponse),
    # Chain-level routes belong to the open-access tier even when called through the identity namespace.
    Case("identity", "get_latest_block_info", (), "GET", "/api/v1/block/latest", OPEN, GetLatestBlockInfoResponse),
    Case("identity", "get_extrinsic", (BlockNumber(100), ExtrinsicIndex(2)), "GET", "/api/v1/block/100/extrinsic/2", OPEN, GetExtrinsicResponse),
    Case("identity", "get_certificates", (), "GET", f"{ID}/block/latest/certificates", IDENT, GetCertificatesResponse),
    Case("identity", "get_certificate", (HK,), "GET", f"{ID}/block/latest/certificates/{HK}", IDENT, GetCertificateResponse),
    Case("identity", "get_own_certificate", (), "GET", f"{ID}/block/latest/certificates/self", IDENT, GetCertificateResponse),
    Case("identity", "generate_certificate_keypair", (), "POST", f"{ID}/certificates/self", IDENT, GenerateCertificateKeypairResponse, {"algorithm": 1}),
    Case("identity", "generate_certificate_keypair", (CertificateAlgorithm.ED25519,), "POST", f"{ID}/certificates/self", IDENT, GenerateCertificateKeypairResponse, {"algorithm": 1}),
    Case("identity", "get_commitments", (), "GET", f"{ID}/block/latest/commitments", IDENT, GetCommitmentsResponse),
    Case("identity", "get_commitment", (HK,), "GET", f"{ID}/block/latest/commitments/{HK}", IDENT, GetCommitmentResponse),
    Case("identity", "get_own_commitment", (), "GET", f"{ID}/block/latest/commitments/self", IDENT, GetCommitmentResponse),
    Case("identity", "get_all_revealed_commitments", (), "GET", f"{ID}/block/latest/commitments/revealed", IDENT, GetAllRevealedCommitmentsResponse),
    Case("identity", "get_revealed_commitments", (HK,), "GET", f"{ID}/block/latest/commitments/revealed/{HK}", IDENT, GetRevealedCommitmentsResponse),
    Case("identity", "get_own_revealed_commitments", (), "GET", f"{ID}/block/latest/commitments/revealed/self", IDENT, GetRevealedCommitmentsResponse),
    Case("identity", "get_latest_hyperparameters", (), "GET", f"{ID}/block/latest/hyperparameters", IDENT, GetHyperparametersResponse, published_v1=False),
    Case("identity", "get_hyperparameters", (BlockNumber(100),), "GET", f"{ID}/block/100/hyperparameters", IDENT, GetHyperparametersResponse, published_v1=False),
    Case("identity", "get_latest_onchain_weights", (HK,), "GET", f"{ID}/block/latest/weights/{HK}", IDENT, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "get_latest_onchain_weights", (HK, MechanismId(2)), "GET", f"{ID}/block/latest/mechanism/2/weights/{HK}", IDENT, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "get_onchain_weights", (BlockNumber(100), HK), "GET", f"{ID}/block/100/weights/{HK}", IDENT, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "get_onchain_weights", (BlockNumber(100), HK, MechanismId(2)), "GET", f"{ID}/block/100/mechanism/2/weights/{HK}", IDENT, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "get_own_latest_onchain_weights", (), "GET", f"{ID}/block/latest/weights/self", IDENT, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "get_own_latest_onchain_weights", (MechanismId(2),), "GET", f"{ID}/block/latest/mechanism/2/weights/self", IDENT, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "get_own_onchain_weights", (BlockNumber(100),), "GET", f"{ID}/block/100/weights/self", IDENT, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "get_own_onchain_weights", (BlockNumber(100), MechanismId(2)), "GET", f"{ID}/block/100/mechanism/2/weights/self", IDENT, GetOnChainWeightsResponse, published_v1=False),
    Case("identity", "put_weights", ({HK: Weight(0.25), Hotkey("5abc"): Weight(1)},), "PUT", f"{ID}/weights", IDENT, SetWeightsResponse, {"weights": {HK: 0.25, "5abc": 1.0}}),
    Case("identity", "put_weights", ({HK: Weight(0.25)}, MechanismId(0)), "PUT", f"{ID}/weights", IDENT, SetWeightsResponse, {"weights": {HK: 0.25}}, published_v1=False),
    Case("identity", "put_weights", ({HK: Weight(0.25)}, MechanismId(2)), "PUT", f"{ID}/mechanism/2/weights", IDENT, SetWeightsResponse, {"weights": {HK: 0.25}}, published_v1=False),
    Case("identity", "get_weights_job", (), "GET", f"{ID}/weights/status", IDENT, GetWeightsJobResponse),
    Case("identity", "get_weights_job", (MechanismId(2),), "GET", f"{ID}/mechanism/2/weights/status", IDENT, GetWeightsJobResponse),
    Case("identity", "get_weights_status", (BlockNumber(100),), "GET", f"{ID}/mechanism/0/block/100/weights/status", IDENT, GetWeightsStatusResponse, published_v1=False),
    Case("identity", "get_weights_status", (BlockNumber(100), MechanismId(2)), "GET", f"{ID}/mechanism/2/block/100/weights/status", IDENT, GetWeightsStatusResponse, published_v1=False),
    Case("identity", "wait_for_weights", (), "GET", f"{ID}/weights/status", IDENT, GetWeightsJobResponse),
    Case("identity", "wait_for_weights", (None, MechanismId(2)), "GET", f"{ID}/mechanism/2/weights/status", IDENT, GetWeightsJobResponse),
    Case("identity", "set_commitment", (b"\x01\xab",), "POST", f"{ID}/commitments", IDENT, SetCommitmentResponse, {"commitment": "0x01ab"}),
    Case("identity", "set_commitment", ("abcd",), "POST", f"{ID}/commitments", IDENT, SetCommitmentResponse, {"commitment": "0xabcd"}),
    Case("identity", "set_commitment", ("0xABCD",), "POST", f"{ID}/commitments", IDENT, SetCommitmentResponse, {"commitment": "0xabcd"}),
    Case("identity", "set_revealed_commitment", ("hello",), "POST", f"{ID}/commitments/revealed", IDENT, SetRevealedCommitmentResponse, {"commitment": "hello", "blocks_until_reveal": 360}),
    Case("identity", "set_revealed_commitment", ("hi", 10), "POST", f"{ID}/commitments/revealed", IDENT, SetRevealedCommitmentResponse, {"commitment": "hi", "blocks_until_reveal": 10}),
]  # fmt: skip


def weights_job(mechanism_id: int, status: str = "included", job_id: int = 9) -> dict[str, Any]:
    """A weights job as the service reports it (`GET …/weights/status`)."""
    included = status == "included"
    return {
        "job_id": job_id, "netuid": NETUID, "mechanism_id": mechanism_id, "status": status,
        "weights_submitted": included, "epoch": {"start": 100, "end": 461}, "requested_at_block": 120,
        "attempts": 1 if status != "pending" else 0, "last_error": None,
        "included_block": 123 if included else None, "extrinsic_hash": "0x" + "12" * 32 if included else None,
        "reason": None, "superseded_by": None, "uids": [1, 2], "weights": [16384, 65535],
        "created_at": 1_700_000_000, "updated_at": 1_700_000_010,
    }  # fmt: skip


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Records each request, then lets a `MockPylon` with data for every route produce a valid answer."""

    def __init__(self) -> None:
        self.mock = MockPylon(identities={"sn1": NETUID})
        for hotkey in (HK, self.mock.identity_hotkey):
            self.mock.certificates[hotkey] = NeuronCertificate(
                algorithm=CertificateAlgorithm.ED25519, public_key="0x01"
            )
        self.mock.commitments[HK] = "0xbeef"
        self.mock.commitments[self.mock.identity_hotkey] = "0xcafe"
        revealed = {"block": {"number": 1, "hash": "0x00"}, "commitments": [
            {"reveal_block_number": 1, "hotkey": HK, "commitment": "secret"}
        ]}  # fmt: skip
        self.mock.set_response("get_revealed_commitments", revealed)
        self.mock.set_response("get_own_revealed_commitments", revealed)
        # A finished weights job on every mechanism, for the status reads.
        self.mock.set_response("get_weights_job", lambda call: weights_job(int(call.params.get("mechanism_id", 0))))
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if request.url.path != "/api/v1/identities":
            self.requests.append(request)
        return self.mock.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if request.url.path != "/api/v1/identities":
            self.requests.append(request)
        return await self.mock.handle_async_request(request)


def check(case: Case, recorder: Recorder, result: object) -> None:
    assert isinstance(result, case.returns)
    [request] = recorder.requests
    assert request.method == case.http_method
    assert request.url.path == case.path
    assert request.headers["Authorization"] == case.auth
    assert request.headers["X-Pylon-Timeout"] == "60.0"
    if case.body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == case.body


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_sync_method_sends_the_contract_request(case: Case) -> None:
    recorder = Recorder()
    with PylonClient(sync_config(), transport=recorder) as client:
        result = getattr(getattr(client, case.namespace), case.method)(*case.args, **case.kwargs)
    check(case, recorder, result)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_async_method_sends_the_contract_request(case: Case) -> None:
    recorder = Recorder()
    async with AsyncPylonClient(async_config(), transport=recorder) as client:
        result = await getattr(getattr(client, case.namespace), case.method)(*case.args, **case.kwargs)
    check(case, recorder, result)


# Methods that open the live event stream rather than make one request.
STREAMS = {"events"}


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize(
    ("sync_cls", "async_cls", "namespace"),
    [(OpenAccessApi, AsyncOpenAccessApi, "open_access"), (IdentityApi, AsyncIdentityApi, "identity")],
)
def test_sync_and_async_apis_match_and_every_method_is_covered(sync_cls: type, async_cls: type, namespace: str) -> None:
    sync_methods = public_methods(sync_cls)
    async_methods = public_methods(async_cls)
    assert sync_methods.keys() == async_methods.keys()
    for name, signature in sync_methods.items():
        if name in STREAMS:
            # Returns the stream (an async iterator) at once; its requests are tested in test_events.py.
            assert str(signature).replace("EventStream", "") == str(async_methods[name]).replace("AsyncEventStream", "")
            assert not inspect.iscoroutinefunction(getattr(async_cls, name)), name
            continue
        assert str(signature) == str(async_methods[name]), name
        assert inspect.iscoroutinefunction(getattr(async_cls, name)), name
    covered = {case.method for case in CASES if case.namespace == namespace}
    assert covered == set(sync_methods) - STREAMS


def test_hotkey_is_escaped_in_the_path() -> None:
    recorder = Recorder()
    recorder.mock.set_response("get_certificate", {"algorithm": 1, "public_key": "0x01"})
    with PylonClient(sync_config(), transport=recorder) as client:
        client.open_access.get_certificate(NetUid(3), Hotkey("a/b c"))
    assert recorder.requests[0].url.raw_path == b"/api/v1/subnet/3/block/latest/certificates/a%2Fb%20c"


def test_chain_routes_from_identity_without_open_access_token_send_no_authorization() -> None:
    recorder = Recorder()
    with PylonClient(sync_config(open_access_token=None), transport=recorder) as client:
        client.identity.get_latest_block_info()
    assert "Authorization" not in recorder.requests[0].headers


def test_empty_open_access_token_means_an_open_service_and_sends_no_authorization() -> None:
    recorder = Recorder()
    with PylonClient(sync_config(open_access_token=""), transport=recorder) as client:
        client.open_access.get_latest_neurons(NetUid(3))
    assert "Authorization" not in recorder.requests[0].headers
