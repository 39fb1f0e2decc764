"""Wire parity with the published client: for every method both have, the published `bittensor-pylon-client`
2.3 sends exactly the request ours sends (method, path, Authorization, X-Pylon-Timeout, body), and parses the
answer our mock gives (so our JSON shapes are the ones its models read).

Runs when an interpreter with the published client is available: `PYLON_REFERENCE_PYTHON`, or the workspace's
`.venv-ref` (made by scripts/bootstrap). It lives in another environment because both packages are `pylon_client`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pylon_client.v1 import PylonClient

from .support import ADDRESS, IDENTITY, IDENTITY_TOKEN, NETUID, OPEN_TOKEN, sync_config
from .test_wire import CASES, Recorder

DRIVER = Path(__file__).with_name("reference_driver.py")
WORKSPACE = Path(__file__).resolve().parents[2]
# Methods the published client does not have (ours adds them).
OURS_ONLY = {
    "get_certificates",
    "get_own_certificate",
    "generate_certificate_keypair",
    "get_weights_job",
    "wait_for_weights",
}


def reference_python() -> str:
    configured = os.environ.get("PYLON_REFERENCE_PYTHON")
    path = Path(configured) if configured else WORKSPACE / ".venv-ref" / "bin" / "python"
    if not path.is_file():
        pytest.skip("no interpreter with the published client (PYLON_REFERENCE_PYTHON or .venv-ref)")
    probe = subprocess.run(
        [str(path), "-I", "-c", "import pylon_client.v1, pylon_client._internal"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"{path} does not have the published client")
    return str(path)


def our_requests() -> list[dict[str, object]]:
    cases = []
    for case in CASES:
        recorder = Recorder()
        with PylonClient(sync_config(), transport=recorder) as client:
            getattr(getattr(client, case.namespace), case.method)(*case.args, **case.kwargs)
        [request] = recorder.requests
        answer = recorder.mock.handle_request(request)
        cases.append(
            {
                "namespace": case.namespace,
                "method": case.method,
                "published_v1": case.published_v1,
                "args": [{"__bytes__": a.hex()} if isinstance(a, bytes) else a for a in case.args],
                "http_method": request.method,
                "path": request.url.raw_path.decode(),
                "auth": request.headers.get("authorization"),
                "timeout": request.headers.get("x-pylon-timeout"),
                "body": json.loads(request.content) if request.content else None,
                "status": answer.status_code,
                "response": json.loads(answer.read()),
                "address": ADDRESS,
                "open_access_token": OPEN_TOKEN,
                "identity": IDENTITY,
                "identity_token": IDENTITY_TOKEN,
                "netuid": NETUID,
            }
        )
    return cases


def test_the_published_client_sends_what_ours_sends_and_reads_what_our_mock_answers() -> None:
    python = reference_python()
    ours = our_requests()
    run = subprocess.run(
        [python, "-I", str(DRIVER)], input=json.dumps(ours), capture_output=True, text=True, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr
    theirs = json.loads(run.stdout)
    compared = 0
    problems = []
    for mine, published in zip(ours, theirs, strict=True):
        name = f"{mine['namespace']}.{mine['method']}"
        if not mine["published_v1"]:
            # The published v1 client has these methods but cannot make these calls: its v1 `put_weights` takes
            # no mechanism, and its v1 route table lacks the weights-status route (it raises AttributeError).
            continue
        if published.get("missing"):
            assert mine["method"] in OURS_ONLY, f"the published client has no {name}"
            continue
        compared += 1
        if published["error"]:
            problems.append(f"{name}: the published client failed: {published['error']}")
        for key in ("http_method", "path", "auth", "timeout", "body"):
            if published[key] != mine[key]:
                problems.append(f"{name} {key}: published {published[key]!r}, ours {mine[key]!r}")
    assert problems == []
    assert compared == len([case for case in CASES if case.method not in OURS_ONLY and case.published_v1])
