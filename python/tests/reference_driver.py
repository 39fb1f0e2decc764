# mypy: ignore-errors
"""Run by the *published* client's interpreter (never imported by ours; both are `pylon_client`).

Reads cases (method, arguments, and the answer to serve) as JSON on stdin, calls each method of the published
client's `pylon_client.v1` against an in-memory transport, and writes what it sent as JSON on stdout.
"""

import json
import sys
import warnings

import httpx

warnings.simplefilter("ignore")  # the published client's deprecation notices

from pylon_client._internal.client.sync import communicators  # noqa: E402
from tenacity import Retrying, stop_after_attempt  # noqa: E402

from pylon_client.v1 import Config, PylonClient  # noqa: E402


def main() -> None:
    cases = json.load(sys.stdin)
    answers = {(case["http_method"], case["path"]): case for case in cases}
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/api/v1/identities", "/api/_unstable/identities"):
            return httpx.Response(200, json={"identities": {case["identity"]: case["netuid"] for case in cases}})
        request.read()
        sent.append(request)
        case = answers.get((request.method, request.url.raw_path.decode()))
        if case is None:
            return httpx.Response(404, json={"detail": "no answer for this request"})
        return httpx.Response(case["status"], json=case["response"])

    # The published client builds its httpx client internally; give it the in-memory transport.
    original_open = communicators.HttpCommunicator._open

    def open_with_transport(self):
        original_open(self)
        self._raw_client._transport = httpx.MockTransport(handler)

    communicators.HttpCommunicator._open = open_with_transport

    first = cases[0]
    config = Config(
        address=first["address"],
        open_access_token=first["open_access_token"],
        identity_name=first["identity"],
        identity_token=first["identity_token"],
        retry=Retrying(stop=stop_after_attempt(1)),
    )
    results = []
    with PylonClient(config) as client:
        for case in cases:
            api = client
            for part in case["namespace"].split("."):  # "open_access", or "unstable.identity"
                api = getattr(api, part)
            method = getattr(api, case["method"], None)
            if method is None:
                results.append({"missing": True})
                continue
            args = [
                bytes.fromhex(a["__bytes__"]) if isinstance(a, dict) and "__bytes__" in a else a for a in case["args"]
            ]
            sent.clear()
            try:
                method(*args, **case.get("kwargs", {}))
                error = None
            except Exception as e:  # reported, not raised: the comparison names the case
                error = repr(e)
            request = sent[-1] if sent else None
            results.append(
                {
                    "error": error,
                    "http_method": request.method if request else None,
                    "path": request.url.raw_path.decode() if request else None,
                    "auth": request.headers.get("authorization") if request else None,
                    "timeout": request.headers.get("x-pylon-timeout") if request else None,
                    "body": json.loads(request.content) if request is not None and request.content else None,
                }
            )
    json.dump(results, sys.stdout)


main()
