"""A fake Pylon service for your own tests: no network, canned answers, and a record of every call.

    from pylon_client.testing import MockPylonClient

    def test_my_validator_sets_weights():
        with MockPylonClient() as client:
            my_validator_step(client)                      # your code, given the client
            assert client.mock.weights["mock"] == {...}    # what it sent

`MockPylon` is an httpx transport (sync and async) that answers every v1 route with sample data: a three-neuron
subnet at block 1000. Replace any answer with `set_response(method_name, body)` or `set_error(method_name,
status_code, detail)`; method names are the client's (`"get_latest_neurons"`, `"put_weights"`, ...). Writes are
remembered: `weights` (per identity), `weights_jobs` (the newest job per identity and mechanism, included at once
at the mock's block, which `get_weights_job`, `wait_for_weights` and `get_weights_status` then report) and
commitments, which the commitment reads then return. Requests go through the real client code (URLs, headers,
validation, error mapping), so what passes here passes against a service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any
from urllib.parse import unquote

import httpx
from pydantic import BaseModel
from tenacity import wait_none

from ._client import AsyncPylonClient, PylonClient
from ._config import ASYNC_DEFAULT_RETRIES, DEFAULT_RETRIES, AsyncConfig, Config
from ._endpoints import ALL_ENDPOINTS, UNSTABLE, UNSTABLE_ENDPOINTS, V1, Endpoint, Tier
from ._models import (
    AxonInfo,
    AxonProtocol,
    Block,
    CertificateAlgorithm,
    Epoch,
    Neuron,
    NeuronCertificate,
    Stakes,
    WeightsJob,
    WeightsJobStatus,
)
from ._types import (
    AlphaStake,
    BlockHash,
    BlockNumber,
    Coldkey,
    Consensus,
    Dividends,
    Emission,
    ExtrinsicHash,
    Hotkey,
    Incentive,
    MechanismId,
    NetUid,
    NeuronActive,
    NeuronUid,
    Port,
    PruningScore,
    PublicKey,
    Rank,
    Stake,
    TaoStake,
    Timestamp,
    TotalStake,
    Trust,
    ValidatorPermit,
    ValidatorTrust,
    WeightsJobId,
)

__all__ = [
    "AsyncMockPylonClient",
    "MockCall",
    "MockPylon",
    "MockPylonClient",
    "sample_neurons",
]

SAMPLE_BLOCK = Block(number=BlockNumber(1000), hash=BlockHash("0x" + "ab" * 32))
SAMPLE_TIMESTAMP = Timestamp(1_700_000_000_000)
# The hash the mock reports for every write it "includes".
_SAMPLE_EXTRINSIC_HASH = ExtrinsicHash("0x" + "ef" * 32)

# Well-known development keys (//Alice, //Bob, //Charlie as hotkeys; //Dave, //Eve, //Ferdie as coldkeys).
_SAMPLE_KEYS = (
    ("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy"),
    ("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw"),
    ("5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y", "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL"),
)


def sample_neurons() -> dict[Hotkey, Neuron]:
    """Three neurons: uid 0 a validator with stake, uids 1 and 2 serving miners."""
    neurons: dict[Hotkey, Neuron] = {}
    for uid, (hotkey, coldkey) in enumerate(_SAMPLE_KEYS):
        validator = uid == 0
        alpha = 1000.0 if validator else 10.0 * uid
        neurons[Hotkey(hotkey)] = Neuron(
            uid=NeuronUid(uid),
            coldkey=Coldkey(coldkey),
            hotkey=Hotkey(hotkey),
            active=NeuronActive(True),
            axon_info=AxonInfo(
                ip=IPv4Address("0.0.0.0") if validator else IPv4Address(f"10.0.0.{uid}"),
                port=Port(0 if validator else 8090 + uid),
                protocol=AxonProtocol.TCP if validator else AxonProtocol.HTTP,
            ),
            stake=Stake(alpha),
            rank=Rank(0.0 if validator else 0.5),
            emission=Emission(0.0 if validator else 0.25 * uid),
            incentive=Incentive(0.0 if validator else 0.5),
            consensus=Consensus(0.0 if validator else 0.5),
            trust=Trust(0.0 if validator else 1.0),
            validator_trust=ValidatorTrust(1.0 if validator else 0.0),
            dividends=Dividends(1.0 if validator else 0.0),
            last_update=Timestamp(990),
            validator_permit=ValidatorPermit(validator),
            pruning_score=PruningScore(65535 if validator else 100 * uid),
            stakes=Stakes(alpha=AlphaStake(alpha), tao=TaoStake(0.0), total=TotalStake(alpha)),
        )
    return neurons


@dataclass(frozen=True)
class MockCall:
    """One request the mock received."""

    name: str
    method: str
    path: str
    tier: Tier | None
    params: dict[str, str]
    json: Any
    headers: dict[str, str] = field(repr=False)
    # The API the route belongs to: "v1" or "_unstable" (`client.unstable`).
    version: str = V1


Body = BaseModel | Mapping[str, Any] | list[Any] | Callable[[MockCall], Any]


@dataclass
class _Canned:
    body: Body
    status_code: int


@dataclass(frozen=True)
class _Route:
    endpoint: Endpoint[Any]
    tier: Tier | None
    pattern: re.Pattern[str]


_NUMERIC_PARAMS = {"netuid", "block_number", "extrinsic_index", "mechanism_id"}
# Blocks between two epoch runs of the mock's subnet (tempo 360, as on most subnets).
_EPOCH_BLOCKS = 361


def _param_regex(match: re.Match[str]) -> str:
    name = match.group(1)
    return rf"(?P<{name}>-?\d+)" if name in _NUMERIC_PARAMS else rf"(?P<{name}>[^/]+)"


def _routes() -> list[_Route]:
    routes = []
    for endpoint in (*ALL_ENDPOINTS, *UNSTABLE_ENDPOINTS):
        for tier, template in endpoint.templates().items():
            regex = re.sub(r"\{(\w+)\}", _param_regex, template)
            routes.append(_Route(endpoint, tier, re.compile(f"^{regex}$")))
    return routes


class MockPylon(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An in-process fake of the Pylon v1 and `_unstable` APIs, usable as the `transport` of either client.

    `set_response(name, …)` answers the method `name` in both APIs (check `MockCall.version` in a function body
    to tell them apart).

    Args:
        netuid: the subnet every identity serves (unless `identities` says otherwise).
        identities: identity name -> netuid; calls for another netuid get 308, as from the real service.
        identity_hotkey: the hotkey the identities act as ("self" routes, commitments they set).
        neurons: the subnet's neurons (default: `sample_neurons()`).
        block: the latest block every read reports.
    """

    def __init__(
        self,
        *,
        netuid: int = 1,
        identities: Mapping[str, int] | None = None,
        identity_hotkey: str | None = None,
        neurons: Mapping[Hotkey, Neuron] | None = None,
        block: Block = SAMPLE_BLOCK,
    ) -> None:
        self.netuid = NetUid(netuid)
        self.identities = dict(identities) if identities is not None else None
        self.neurons: dict[Hotkey, Neuron] = dict(neurons) if neurons is not None else sample_neurons()
        self.identity_hotkey = Hotkey(identity_hotkey or next(iter(self.neurons), _SAMPLE_KEYS[0][0]))
        self.block = block
        self.calls: list[MockCall] = []
        # The last weights each identity sent for mechanism 0, as sent.
        self.weights: dict[str, dict[str, float]] = {}
        # The newest weights job per (identity, mechanism id).
        self.weights_jobs: dict[tuple[str, int], WeightsJob] = {}
        self.commitments: dict[Hotkey, str] = {}
        self.certificates: dict[Hotkey, NeuronCertificate] = {}
        self._canned: dict[str, _Canned] = {}
        self._routes = _routes()

    # Configuring answers

    def set_response(self, name: str, body: Body, status_code: int = 200) -> None:
        """Answer every later call of client method `name` with `body` (a model, JSON-able data, or a function
        of the `MockCall` returning either)."""
        self._check_name(name)
        self._canned[name] = _Canned(body, status_code)

    def set_error(self, name: str, status_code: int, detail: str = "mock error") -> None:
        """Answer every later call of client method `name` with an error status and `{"detail": detail}`."""
        self.set_response(name, {"detail": detail}, status_code)

    def reset(self, name: str | None = None) -> None:
        """Back to the default answer for `name` (or for everything), and forget the recorded calls."""
        if name is None:
            self._canned.clear()
            self.calls.clear()
        else:
            self._canned.pop(name, None)

    def calls_to(self, name: str) -> list[MockCall]:
        """The recorded calls of client method `name`, oldest first."""
        self._check_name(name)
        return [call for call in self.calls if call.name == name]

    @staticmethod
    def _check_name(name: str) -> None:
        if name not in {endpoint.name for endpoint in (*ALL_ENDPOINTS, *UNSTABLE_ENDPOINTS)}:
            raise ValueError(f"MockPylon has no endpoint named {name!r}")

    # httpx transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._respond(request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._respond(request, await request.aread())

    def _respond(self, request: httpx.Request, content: bytes) -> httpx.Response:
        # Match the still-encoded path, so that an escaped "/" inside a hotkey stays inside its segment.
        path = request.url.raw_path.decode("ascii").partition("?")[0]
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None or route.endpoint.method != request.method:
                continue
            call = MockCall(
                name=route.endpoint.name,
                method=request.method,
                path=path,
                tier=route.tier,
                params={
                    **dict(request.url.params),
                    **{key: unquote(value) for key, value in match.groupdict().items()},
                },
                json=json.loads(content) if content else None,
                headers=dict(request.headers),
                version=route.endpoint.version,
            )
            self.calls.append(call)
            mismatch = self._netuid_mismatch(call)
            if mismatch is not None:
                return mismatch
            canned = self._canned.get(call.name)
            if canned is not None:
                body = canned.body(call) if callable(canned.body) else canned.body
                return _json_response(canned.status_code, body)
            return self._default(call)
        return _json_response(404, {"detail": f"no route for {request.method} {path}"})

    def _netuid_mismatch(self, call: MockCall) -> httpx.Response | None:
        identity = call.params.get("identity_name")
        if identity is None:
            return None
        if self.identities is not None and identity not in self.identities:
            return _json_response(404, {"detail": f"identity {identity!r} is not configured"})
        expected = self._identity_netuid(identity)
        if int(call.params["netuid"]) != expected:
            return _json_response(308, {"detail": f"identity {identity!r} serves netuid {expected}"})
        return None

    def _identity_netuid(self, identity: str) -> int:
        return self.identities[identity] if self.identities is not None else self.netuid

    # Default answers: the sample subnet, and writes that are remembered.

    def _unstable_default(self, call: MockCall) -> httpx.Response | None:
        """The `_unstable` answers whose shape differs from v1's (commitments with their kind) or that v1 lacks;
        None for the rest, which v1's defaults answer."""
        block = self.block.model_dump(mode="json")
        hotkey = call.params.get("hotkey")

        def variant(key: Hotkey) -> dict[str, Any]:
            return {
                "kind": "hex_data",
                "hotkey": key,
                "commitment": self.commitments[key],
                "commitment_block_number": self.block.number,
            }

        match call.name:
            case "get_commitments":
                commitments = {key: variant(key) for key in self.commitments}
                return _json_response(200, {"block": block, "commitments": commitments})
            case "get_commitment" | "get_own_commitment":
                key = Hotkey(hotkey or self.identity_hotkey)
                if key not in self.commitments:
                    return _json_response(404, {"detail": "Commitment not found"})
                return _json_response(200, {"block": block, "commitment": variant(key)})
            case "get_latest_prices" | "get_prices":
                # Root is priced at 1 TAO; the mock's subnet at 0.5 TAO per alpha.
                prices = {"0": {"value": 1_000_000_000}, str(self.netuid): {"value": 500_000_000}}
                if call.name == "get_prices":
                    block = {"number": int(call.params["block_number"]), "hash": self.block.hash}
                return _json_response(200, {"block": block, "prices": prices})
            case "get_latest_price" | "get_price":
                if call.name == "get_price":
                    block = {"number": int(call.params["block_number"]), "hash": self.block.hash}
                netuid = int(call.params["netuid"])
                value = 1_000_000_000 if netuid == 0 else 500_000_000
                return _json_response(200, {"block": block, "netuid": netuid, "price": {"value": value}})
            case "get_drand_last_stored_round":
                return _json_response(200, {"last_stored_round": 20_000_000 + self.block.number})
            case "get_latest_evm_associations":
                return _json_response(200, {"block": block, "evm_associations": {}})
            case "get_evm_logs":
                window = {"from_block": int(call.params["from_block"]), "to_block": int(call.params["to_block"])}
                return _json_response(200, {**window, "logs": []})
        return None

    def _default(self, call: MockCall) -> httpx.Response:
        if call.version == UNSTABLE and (answer := self._unstable_default(call)) is not None:
            return answer
        block = self.block.model_dump(mode="json")
        hotkey = call.params.get("hotkey")
        match call.name:
            case "get_identities":
                names = self.identities if self.identities is not None else {"mock": self.netuid}
                return _json_response(200, {"identities": names})
            case "get_latest_block_info":
                return _json_response(200, {**block, "timestamp": SAMPLE_TIMESTAMP})
            case "get_extrinsic":
                return _json_response(200, self._extrinsic(call))
            case "get_neurons" | "get_latest_neurons" | "get_recent_neurons":
                neurons = {key: neuron.model_dump(mode="json") for key, neuron in self.neurons.items()}
                if call.name == "get_neurons":
                    block = {"number": int(call.params["block_number"]), "hash": self.block.hash}
                return _json_response(200, {"block": block, "neurons": neurons})
            case "get_validators" | "get_latest_validators":
                validators = sorted(
                    (neuron for neuron in self.neurons.values() if neuron.validator_permit),
                    key=lambda neuron: neuron.stakes.total,
                    reverse=True,
                )
                if call.name == "get_validators":
                    block = {"number": int(call.params["block_number"]), "hash": self.block.hash}
                return _json_response(
                    200, {"block": block, "validators": [neuron.model_dump(mode="json") for neuron in validators]}
                )
            case "get_certificates":
                certificates = {key: cert.model_dump(mode="json") for key, cert in self.certificates.items()}
                return _json_response(200, certificates)
            case "get_certificate" | "get_own_certificate":
                cert = self.certificates.get(Hotkey(hotkey or self.identity_hotkey))
                if cert is None:
                    return _json_response(404, {"detail": "Certificate not found"})
                return _json_response(200, cert.model_dump(mode="json"))
            case "generate_certificate_keypair":
                public_key = PublicKey("0x" + "11" * 32)
                self.certificates[self.identity_hotkey] = NeuronCertificate(
                    algorithm=CertificateAlgorithm.ED25519, public_key=public_key
                )
                return _json_response(201, {"algorithm": 1, "public_key": public_key, "private_key": "0x" + "22" * 32})
            case "get_commitments":
                return _json_response(200, {"block": block, "commitments": self.commitments})
            case "get_commitment" | "get_own_commitment":
                key = Hotkey(hotkey or self.identity_hotkey)
                if key not in self.commitments:
                    return _json_response(404, {"detail": "Commitment not found"})
                return _json_response(
                    200,
                    {
                        "block": block,
                        "hotkey": key,
                        "commitment": self.commitments[key],
                        "commitment_block_number": self.block.number,
                    },
                )
            case "get_all_revealed_commitments":
                return _json_response(200, {"block": block, "commitments": {}})
            case "get_revealed_commitments" | "get_own_revealed_commitments":
                return _json_response(404, {"detail": "No revealed commitments"})
            case "put_weights":
                return _json_response(200, self._record_weights_job(call))
            case "get_weights_job":
                job = self.weights_jobs.get(self._weights_key(call))
                if job is None:
                    return _json_response(404, {"detail": "the identity has set no weights on this mechanism"})
                return _json_response(200, job)
            case "get_weights_status":
                job = self.weights_jobs.get(self._weights_key(call))
                submitted = job is not None and job.status is WeightsJobStatus.INCLUDED
                return _json_response(200, {"weights_submitted": submitted})
            case "get_latest_hyperparameters" | "get_hyperparameters":
                if "block_number" in call.params:
                    block = {"number": int(call.params["block_number"]), "hash": self.block.hash}
                return _json_response(200, self._hyperparameters(call, block))
            case (
                "get_latest_onchain_weights"
                | "get_onchain_weights"
                | "get_own_latest_onchain_weights"
                | "get_own_onchain_weights"
            ):
                if "block_number" in call.params:
                    block = {"number": int(call.params["block_number"]), "hash": self.block.hash}
                return self._onchain_weights(call, Hotkey(hotkey or self.identity_hotkey), block)
            case "set_commitment":
                self.commitments[self.identity_hotkey] = call.json["commitment"]
                return _json_response(201, {"block": block, "extrinsic_hash": _SAMPLE_EXTRINSIC_HASH})
            case "set_revealed_commitment":
                reveal_round = 1_000_000 + int(call.json["blocks_until_reveal"])
                return _json_response(
                    201, {"reveal_round": reveal_round, "block": block, "extrinsic_hash": _SAMPLE_EXTRINSIC_HASH}
                )
        raise AssertionError(f"MockPylon has no default for {call.name}")  # pragma: no cover

    @staticmethod
    def _weights_key(call: MockCall) -> tuple[str, int]:
        return call.params["identity_name"], int(call.params.get("mechanism_id", 0))

    def _record_weights_job(self, call: MockCall) -> dict[str, Any]:
        """A job for the weights, converted as the service converts them, and included at once."""
        key = self._weights_key(call)
        weights: dict[str, float] = dict(call.json["weights"])
        if key[1] == 0:
            self.weights[key[0]] = weights
        by_uid = {
            self.neurons[Hotkey(hotkey)].uid: weight for hotkey, weight in weights.items() if hotkey in self.neurons
        }
        largest = max(by_uid.values(), default=0.0)
        uids = sorted(by_uid)
        epoch = Epoch(start=self.block.number, end=BlockNumber(self.block.number + _EPOCH_BLOCKS))
        job_id = WeightsJobId(1 + max((job.job_id for job in self.weights_jobs.values()), default=0))
        self.weights_jobs[key] = WeightsJob(
            job_id=job_id,
            netuid=NetUid(int(call.params["netuid"])),
            mechanism_id=MechanismId(key[1]),
            status=WeightsJobStatus.INCLUDED,
            weights_submitted=True,
            epoch=epoch,
            requested_at_block=self.block.number,
            attempts=1,
            included_block=self.block.number,
            extrinsic_hash=_SAMPLE_EXTRINSIC_HASH,
            uids=uids,
            # The service's conversion: the largest weight becomes 65535, the rest in proportion.
            weights=[round(by_uid[uid] / largest * 65535) if largest > 0 else 0 for uid in uids],
            created_at=SAMPLE_TIMESTAMP // 1000,
            updated_at=SAMPLE_TIMESTAMP // 1000,
        )
        return {
            "detail": "weights update scheduled",
            "job_id": job_id,
            "count": len(uids),
            "unknown_hotkeys": [hotkey for hotkey in weights if hotkey not in self.neurons],
            "epoch": epoch.model_dump(mode="json"),
            "superseded_job_id": None,
        }

    def _hyperparameters(self, call: MockCall, block: dict[str, Any]) -> dict[str, Any]:
        """Tempo 360, commit-reveal (CRv4) on: the settings of most subnets."""
        next_start = (self.block.number // _EPOCH_BLOCKS + 1) * _EPOCH_BLOCKS
        values = {
            "tempo": _EPOCH_BLOCKS - 1,
            "commit_reveal_weights_enabled": True,
            "commit_reveal_version": 4,
            "commit_reveal_period": 1,
            "weights_rate_limit": 100,
            "min_allowed_weights": 1,
            "max_weights_limit": 65535,
            "weights_version": 0,
            "activity_cutoff": 5000,
            "immunity_period": 5000,
        }
        return {
            "block": block,
            "netuid": int(call.params["netuid"]),
            "source": "runtime_api",
            **values,
            "next_epoch_start": next_start,
            "all": dict(values),
        }

    def _onchain_weights(self, call: MockCall, hotkey: Hotkey, block: dict[str, Any]) -> httpx.Response:
        """The `Weights` row the mock's newest weights job for the mechanism left (for the identity hotkey),
        already revealed: the mock keeps no pending commits."""
        neuron = self.neurons.get(hotkey)
        if neuron is None:
            return _json_response(404, {"detail": f"{hotkey} is not registered on netuid {call.params['netuid']}"})
        mechanism = int(call.params.get("mechanism_id", 0))
        jobs = [job for (_, mech), job in self.weights_jobs.items() if mech == mechanism]
        newest = max(jobs, key=lambda job: job.job_id) if jobs and hotkey == self.identity_hotkey else None
        uids, values = (newest.uids, newest.weights) if newest is not None else ([], [])
        total = sum(values)
        by_uid = {n.uid: key for key, n in self.neurons.items()}
        normalized = {by_uid[uid]: value / total for uid, value in zip(uids, values, strict=True) if total}
        return _json_response(
            200,
            {
                "block": block,
                "netuid": int(call.params["netuid"]),
                "mechanism_id": mechanism,
                "hotkey": hotkey,
                "uid": neuron.uid,
                "weights": {"uids": uids, "values": values, "normalized": normalized},
                "pending_commits": [],
            },
        )

    def _extrinsic(self, call: MockCall) -> dict[str, Any]:
        return {
            "block_number": int(call.params["block_number"]),
            "extrinsic_index": int(call.params["extrinsic_index"]),
            "extrinsic_hash": "0x" + "cd" * 32,
            "extrinsic_length": 11,
            "address": None,
            "call": {
                "call_module": "Timestamp",
                "call_function": "set",
                "call_args": [{"name": "now", "type": "Moment", "value": SAMPLE_TIMESTAMP}],
            },
        }


def _json_response(status_code: int, body: Any) -> httpx.Response:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return httpx.Response(status_code, json=body)


def _mock_config_values(mock: MockPylon) -> dict[str, Any]:
    identity = next(iter(mock.identities)) if mock.identities else "mock"
    return {
        "address": "http://pylon.mock",
        "open_access_token": "mock-open-access-token",
        "identity_name": identity,
        "identity_token": "mock-identity-token",
    }


class MockPylonClient(PylonClient):
    """A `PylonClient` wired to a `MockPylon` (available as `.mock`). Without a config it has both the
    open-access and an identity ("mock") configured; its default retry policy does not wait between attempts."""

    def __init__(self, config: Config | None = None, *, mock: MockPylon | None = None) -> None:
        self.mock = mock if mock is not None else MockPylon()
        if config is None:
            config = Config(**_mock_config_values(self.mock), retry=DEFAULT_RETRIES.copy(wait=wait_none()))
        super().__init__(config, transport=self.mock)


class AsyncMockPylonClient(AsyncPylonClient):
    """An `AsyncPylonClient` wired to a `MockPylon` (available as `.mock`); see `MockPylonClient`."""

    def __init__(self, config: AsyncConfig | None = None, *, mock: MockPylon | None = None) -> None:
        self.mock = mock if mock is not None else MockPylon()
        if config is None:
            config = AsyncConfig(**_mock_config_values(self.mock), retry=ASYNC_DEFAULT_RETRIES.copy(wait=wait_none()))
        super().__init__(config, transport=self.mock)
