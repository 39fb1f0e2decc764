"""Reads the devnet's state with async-substrate-interface, an independent Substrate client, for the contract tests.

Run by the SDK's venv (`.venv`; the published client's venv has no Substrate client): one JSON request per line on
stdin, one JSON answer per line on stdout, so a test session keeps one connection open.
    {"op": "head"} | {"op": "block_hash", "number": N} | {"op": "query", "module", "storage", "params", "at"}
    {"op": "query_map", "module", "storage", "params", "at"} | {"op": "runtime_call", "api", "method", "params", "at"}
    {"op": "extrinsic", "at", "index"}
Answers are {"ok": value} or {"error": "..."}.
"""

import json
import sys
from typing import Any

from async_substrate_interface import SubstrateInterface


def plain(value: Any) -> Any:
    """JSON-able form of what the decoder returns (bytes as 0x hex, tuples as lists)."""
    if hasattr(value, "value") and not isinstance(
        value, (dict, list, tuple, str, bytes, int, float, bool)
    ):
        value = value.value
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def handle(substrate: SubstrateInterface, request: dict[str, Any]) -> Any:
    op = request["op"]
    at = request.get("at")
    if op == "head":
        block_hash = substrate.get_chain_head()
        return {"number": substrate.get_block_number(block_hash), "hash": block_hash}
    if op == "block_hash":
        return substrate.get_block_hash(request["number"])
    if op == "query":
        result = substrate.query(
            request["module"],
            request["storage"],
            request.get("params", []),
            block_hash=at,
        )
        return plain(result)
    if op == "query_map":
        result = substrate.query_map(
            request["module"],
            request["storage"],
            request.get("params", []),
            block_hash=at,
        )
        return [[plain(key), plain(value)] for key, value in result]
    if op == "runtime_call":
        result = substrate.runtime_call(
            request["api"], request["method"], request.get("params", []), block_hash=at
        )
        return plain(result)
    if op == "extrinsic":
        block = substrate.get_block(block_hash=at)
        extrinsic = block["extrinsics"][request["index"]]
        decoded = (
            plain(extrinsic.value) if hasattr(extrinsic, "value") else plain(extrinsic)
        )
        return {"decoded": decoded, "count": len(block["extrinsics"])}
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    substrate = SubstrateInterface(sys.argv[1])
    try:
        for line in sys.stdin:
            try:
                answer = {"ok": handle(substrate, json.loads(line))}
            except Exception as e:  # noqa: BLE001 (the test reports it; the reader keeps serving)
                answer = {"error": f"{type(e).__name__}: {e}"}
            print(json.dumps(answer, default=str), flush=True)
    finally:
        substrate.close()


if __name__ == "__main__":
    main()
