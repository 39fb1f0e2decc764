"""`client.unstable` against the published client 2.3's: the same methods (found by introspection on both), and for
each one the same request (method, path with query, Authorization, body), and answers both parse into the same
values. Our sync and async clients are both judged. Runs where `.venv-ref` (or `PYLON_REFERENCE_PYTHON`) has the
published client, like `test_reference_parity.py`."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
from typing import Any

import httpx

from pylon_client.v1 import AsyncPylonClient, PylonClient

from .support import ADDRESS, IDENTITY, IDENTITY_TOKEN, NETUID, OPEN_TOKEN, async_config, sync_config
from .test_reference_parity import DRIVER, reference_python

HK = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
BLOCK = {"number": 100, "hash": "0x" + "ab" * 32}
NEURON = {
    "uid": 0,
    "coldkey": "5Cold",
    "hotkey": HK,
    "active": True,
    "axon_info": {"ip": "10.0.0.1", "port": 8091, "protocol": 4},
    "stake": 1.5,
    "rank": 0.0,
    "emission": 0.0,
    "incentive": 0.0,
    "consensus": 0.0,
    "trust": 0.0,
    "validator_trust": 0.0,
    "dividends": 0.0,
    "last_update": 10,
    "validator_permit": True,
    "pruning_score": 0,
    "stakes": {"alpha": 1.0, "tao": 0.5, "total": 1.5},
}
HEX = {"kind": "hex_data", "commitment_block_number": 90, "hotkey": HK, "commitment": "0x6869"}
SEALED = {
    "kind": "timelock_encrypted",
    "commitment_block_number": 95,
    "hotkey": HK,
    "commitment": "0x00",
    "reveal_round": 7,
}
OTHER = {**SEALED, "hotkey": "5Other"}
REVEALED = {"reveal_block_number": 99, "hotkey": HK, "commitment": "hi"}
PRICE = {"value": 12_345_678}
EVM_ABI = [{"type": "event", "name": "Transfer", "inputs": []}]

# By method: (arguments for open access, arguments for identity (None: open access only), the answer to serve).
CALLS: dict[str, tuple[list[Any], list[Any] | None, dict[str, Any]]] = {
    "get_neurons": ([NETUID, 100], [100], {"block": BLOCK, "neurons": {HK: NEURON}}),
    "get_latest_neurons": ([NETUID], [], {"block": BLOCK, "neurons": {HK: NEURON}}),
    "get_recent_neurons": ([NETUID], [], {"block": BLOCK, "neurons": {HK: NEURON}}),
    "get_validators": ([NETUID, 100], [100], {"block": BLOCK, "validators": [NEURON]}),
    "get_latest_validators": ([NETUID], [], {"block": BLOCK, "validators": [NEURON]}),
    "get_commitments": (
        [NETUID],
        [],
        {"block": BLOCK, "commitments": {HK: HEX, "5Other": OTHER}},
    ),
    "get_commitment": ([NETUID, HK], [HK], {"block": BLOCK, "commitment": SEALED}),
    "get_own_commitment": ([], [], {"block": BLOCK, "commitment": HEX}),
    "get_all_revealed_commitments": ([NETUID], [], {"block": BLOCK, "commitments": {HK: [REVEALED]}}),
    "get_revealed_commitments": ([NETUID, HK], [HK], {"block": BLOCK, "commitments": [REVEALED]}),
    "get_own_revealed_commitments": ([], [], {"block": BLOCK, "commitments": [REVEALED]}),
    "get_certificate": ([NETUID, HK], [HK], {"algorithm": 1, "public_key": "ab" * 32}),
    "get_latest_block_info": ([], [], {**BLOCK, "timestamp": 1_700_000_000}),
    "get_latest_prices": ([], [], {"block": BLOCK, "prices": {"0": {"value": 10**9}, str(NETUID): PRICE}}),
    "get_prices": ([100], [100], {"block": BLOCK, "prices": {str(NETUID): PRICE}}),
    "get_latest_price": ([NETUID], [], {"block": BLOCK, "netuid": NETUID, "price": PRICE}),
    "get_price": ([NETUID, 100], [100], {"block": BLOCK, "netuid": NETUID, "price": PRICE}),
    "get_extrinsic": (
        [100, 0],
        [100, 0],
        {
            "block_number": 100,
            "extrinsic_index": 0,
            "extrinsic_hash": "0x01",
            "extrinsic_length": 10,
            "call": {"call_module": "Timestamp", "call_function": "set", "call_args": []},
        },
    ),
    "get_drand_last_stored_round": ([], [], {"last_stored_round": 123}),
    "get_latest_evm_associations": (
        [NETUID],
        [],
        {
            "block": BLOCK,
            "evm_associations": {
                HK: {"hotkey": HK, "evm_address": "0x" + "11" * 20, "last_block_where_ownership_was_proven": 80}
            },
        },
    ),
    "get_evm_logs": (
        ["0x" + "22" * 20, 5, 9, EVM_ABI],
        None,
        {
            "from_block": 5,
            "to_block": 9,
            "logs": [
                {
                    "event": "Transfer",
                    "args": {"value": 3},
                    "address": "0x" + "22" * 20,
                    "block_number": 6,
                    "transaction_hash": "0x" + "33" * 32,
                    "transaction_index": 0,
                    "log_index": 1,
                }
            ],
        },
    ),
    "put_weights": ([], [{HK: 0.5}, 2], {}),
    "get_weights_status": ([], [100, 2], {"weights_submitted": True}),
    "set_commitment": ([], [{"__bytes__": "6869"}], {}),
    "set_revealed_commitment": ([], ["later", 20], {"reveal_round": 77}),
}
OPEN_ONLY_IDENTITY = {"put_weights", "get_weights_status", "set_commitment", "set_revealed_commitment"}
IDENTITY_ONLY = {"get_own_commitment", "get_own_revealed_commitments", *OPEN_ONLY_IDENTITY}


def published_methods(python: str) -> dict[str, list[str]]:
    script = (
        "import inspect, json, warnings; warnings.simplefilter('ignore');"
        "from pylon_client.artanis import Config, PylonClient;"
        "c = PylonClient(Config(address='http://x', open_access_token='t', identity_name='i', identity_token='t'));"
        "print(json.dumps({t: sorted(n for n, m in inspect.getmembers(type(getattr(c.unstable, t)))"
        " if not n.startswith('_') and callable(m)) for t in ('open_access', 'identity')}))"
    )
    out = subprocess.run([python, "-I", "-c", script], capture_output=True, text=True, check=True, timeout=60)
    methods: dict[str, list[str]] = json.loads(out.stdout)
    return methods


def our_methods(client: PylonClient | AsyncPylonClient, tier: str) -> list[str]:
    api = getattr(client.unstable, tier)
    return sorted(n for n, m in inspect.getmembers(type(api)) if not n.startswith("_") and callable(m))


def cases() -> list[tuple[str, str, list[Any]]]:
    out = []
    for method, (open_args, identity_args, _) in CALLS.items():
        if method not in IDENTITY_ONLY:
            out.append(("open_access", method, open_args))
        if identity_args is not None:
            out.append(("identity", method, identity_args))
    return out


def decode(args: list[Any]) -> list[Any]:
    return [bytes.fromhex(a["__bytes__"]) if isinstance(a, dict) and "__bytes__" in a else a for a in args]


class Recorder(httpx.MockTransport, httpx.AsyncBaseTransport):
    """Answers the identities lookup, and every other request with the current case's answer."""

    def __init__(self) -> None:
        self.answer: dict[str, Any] = {}
        self.requests: list[httpx.Request] = []
        super().__init__(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/_unstable/identities":
            return httpx.Response(200, json={"identities": {IDENTITY: NETUID}})
        request.read()
        self.requests.append(request)
        return httpx.Response(200, json=self.answer)


def sent(request: httpx.Request) -> dict[str, Any]:
    return {
        "http_method": request.method,
        "path": request.url.raw_path.decode(),
        "auth": request.headers.get("authorization"),
        "body": json.loads(request.content) if request.content else None,
    }


def run_ours() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Our sync client's requests and parsed answers per case (the async client must send the same)."""
    recorder = Recorder()
    async_recorder = Recorder()
    results = []
    parsed = {}

    async def call_async(tier: str, method: str, args: list[Any]) -> Any:
        async with AsyncPylonClient(async_config(), transport=async_recorder) as client:
            return await getattr(getattr(client.unstable, tier), method)(*args)

    with PylonClient(sync_config(), transport=recorder) as client:
        for tier, method, args in cases():
            answer = CALLS[method][2]
            recorder.answer = async_recorder.answer = answer
            value = getattr(getattr(client.unstable, tier), method)(*decode(args))
            async_value = asyncio.run(call_async(tier, method, decode(args)))
            assert value == async_value, f"{tier}.{method}: sync and async parse differently"
            assert sent(recorder.requests[-1]) == sent(async_recorder.requests[-1]), f"{tier}.{method}"
            parsed[f"{tier}.{method}"] = value.model_dump(mode="json")
            results.append(
                {
                    "namespace": f"unstable.{tier}",
                    "method": method,
                    "args": args,
                    **sent(recorder.requests[-1]),
                    "status": 200,
                    "response": answer,
                    "address": ADDRESS,
                    "open_access_token": OPEN_TOKEN,
                    "identity": IDENTITY,
                    "identity_token": IDENTITY_TOKEN,
                    "netuid": NETUID,
                }
            )
    return results, parsed


def test_unstable_has_the_published_methods() -> None:
    python = reference_python()
    client = PylonClient(sync_config())
    theirs = published_methods(python)
    for tier in ("open_access", "identity"):
        assert our_methods(client, tier) == theirs[tier]
        assert our_methods(AsyncPylonClient(async_config()), tier) == theirs[tier]
    # Every published method has a case here.
    assert {method for _, method, _ in cases()} == set(theirs["open_access"]) | set(theirs["identity"])


def test_unstable_sends_what_the_published_client_sends() -> None:
    python = reference_python()
    ours, _ = run_ours()
    # The driver answers each (method, path) with the case's answer and reports what the published client sent.
    run = subprocess.run(
        [python, "-I", str(DRIVER)], input=json.dumps(ours), capture_output=True, text=True, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr
    theirs = json.loads(run.stdout)
    problems = []
    for mine, published in zip(ours, theirs, strict=True):
        name = f"{mine['namespace']}.{mine['method']}"
        if published.get("missing"):
            problems.append(f"{name}: the published client has no such method")
            continue
        if published["error"]:
            problems.append(f"{name}: the published client failed: {published['error']}")
        for key in ("http_method", "path", "auth", "body"):
            if published[key] != mine[key]:
                problems.append(f"{name} {key}: published {published[key]!r}, ours {mine[key]!r}")
    assert problems == []


def test_unstable_models_read_the_variants() -> None:
    _, parsed = run_ours()
    commitments = parsed["open_access.get_commitments"]["commitments"]
    assert commitments[HK]["kind"] == "hex_data"
    assert commitments["5Other"]["reveal_round"] == 7
    assert parsed["identity.get_commitment"]["commitment"]["kind"] == "timelock_encrypted"
    assert parsed["open_access.get_latest_prices"]["prices"] == {"0": {"value": 10**9}, str(NETUID): PRICE}
    assert parsed["open_access.get_evm_logs"]["logs"][0]["log_index"] == 1
    assert parsed["identity.set_revealed_commitment"]["reveal_round"] == 77
