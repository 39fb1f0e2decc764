"""No secret leaves the process: the tokens and the dev hotkey's private key, seed and phrase appear
in no response (status line, headers, body), not in the metrics and in no log line of `pylon dev`
(debug level), after
traffic with right, crossed, malformed and wrong tokens on every tier. This file runs after the
property tests in this folder, so their traffic is in the scanned log too.
"""

import json
import urllib.error
import urllib.request
from pathlib import Path

from pylon_dev import PylonDev

# //Alice, the dev identity's hotkey: the well-known Substrate dev phrase and its derived seed.
DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
ALICE_SEED = "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a"


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None) -> str:
    """The whole answer (status, headers, body) as text, whatever its status."""
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, head, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, payload = error.code, error.headers, error.read()
    return f"{status}\n{head}\n{payload.decode(errors='replace')}"


def secrets_of(pylon: PylonDev) -> dict[str, str]:
    keyfile = pylon.data_dir / "wallets" / "pylon-dev" / "hotkeys" / "validator"
    private_key = json.loads(keyfile.read_text())["privateKey"].removeprefix("0x")
    return {
        "open-access token": pylon.open_access_token,
        "identity token": pylon.identity_token,
        "metrics token": pylon.metrics_token,
        "hotkey private key": private_key,
        "hotkey private key (secret half)": private_key[:64],
        "hotkey seed": ALICE_SEED,
        "hotkey phrase": DEV_PHRASE,
    }


def test_no_secret_in_responses_or_logs(pylon: PylonDev, log_file: Path) -> None:
    netuid = pylon.identity_netuid
    open_base = f"{pylon.url}/api/v1/subnet/{netuid}"
    identity_base = f"{pylon.url}/api/v1/identity/{pylon.identity_name}/subnet/{netuid}"
    routes = [
        "/block/latest",
        "/block/latest/neurons",
        "/block/1/validators",
        "/block/1/extrinsic/0",
        "/block/latest/certificates/self",
        "/block/latest/commitments/self",
        f"/block/latest/commitments/{pylon.identity_hotkey}",
        "/block/latest/certificates/not-an-address",
    ]
    metrics_token = pylon.metrics_token
    tokens = [pylon.open_access_token, pylon.identity_token, metrics_token]
    answers: list[str] = []
    for route in routes:
        for base in (open_base, identity_base):
            for token in tokens:
                for header in (f"Bearer {token}", f"Basic {token}", f"Bearer {token}x", token):
                    answers.append(request(base + route, headers={"Authorization": header}))
    for path in ("/api/v1/identities", "/schema/openapi.json", "/metrics", "/api/v1/nowhere"):
        for token in tokens:
            answers.append(request(pylon.url + path, headers={"Authorization": f"Bearer {token}"}))
    # Writes too, whatever they answer (a weights job is recorded; the rest are refused).
    body = json.dumps({"weights": {pylon.identity_hotkey: 1.0}}).encode()
    for path in ("/weights", "/commitments", "/commitments/revealed", "/certificates/self"):
        for method in ("PUT", "POST"):
            answers.append(
                request(
                    identity_base + path,
                    method=method,
                    headers={"Authorization": f"Bearer {pylon.identity_token}", "Content-Type": "application/json"},
                    body=body,
                )
            )
    # The metrics, scraped after all of the above.
    scrape = request(pylon.url + "/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert scrape.startswith("200"), scrape[:500]
    assert "pylon_" in scrape, scrape[:500]
    answers.append(scrape)
    assert any(answer.startswith("200") for answer in answers)
    assert any(answer.startswith(("401", "403")) for answer in answers)

    log = log_file.read_text()
    # The scan has something to scan: every request above is in the debug log.
    assert log.count("finished processing request") >= len(answers), log[-2000:]
    for what, secret in secrets_of(pylon).items():
        assert len(secret) >= 16, what
        for answer in answers:
            assert secret not in answer, f"a response carries the {what}: {answer[:500]}"
        assert secret not in log, f"the log carries the {what}"
