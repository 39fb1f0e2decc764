"""`get_neuron_client`: mTLS to a miner pinned to the public key the registry publishes (read through the client's
own `get_certificate`), against a real TLS server on this machine; plain HTTP with `neurons_file`."""

from __future__ import annotations

import asyncio
import datetime
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from pylon_client.v1 import AsyncPylonClient, AxonInfo, AxonProtocol, MtlsVerificationError, Neuron, PylonClient

from .support import IDENTITY, NETUID, async_config, sync_config

HK = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"


def raw_public(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def write_pem(directory: Path, name: str, key: Ed25519PrivateKey) -> tuple[Path, Path]:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, None)
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        der = self.connection.getpeercert(binary_form=True)
        client_key = None
        if der:
            public = x509.load_der_x509_certificate(der).public_key()
            client_key = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
        body = json.dumps({"path": self.path, "client_public_key": client_key}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def miner(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A miner's HTTPS server (Ed25519 certificate) that asks for the caller's certificate, trusting the validator's."""
    miner_key, validator_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    miner_cert, miner_key_path = write_pem(tmp_path, "miner", miner_key)
    validator_cert, validator_key_path = write_pem(tmp_path, "validator", validator_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(miner_cert, miner_key_path)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=str(validator_cert))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "port": server.server_address[1],
        "public_key": raw_public(miner_key),
        "cert": str(validator_cert),
        "key": str(validator_key_path),
        "validator_public_key": raw_public(validator_key),
    }
    server.shutdown()
    server.server_close()


def registry(published_key: str) -> httpx.MockTransport:
    """The Pylon service as far as get_neuron_client needs it: the identity and the miner's published certificate."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/identities":
            return httpx.Response(200, json={"identities": {IDENTITY: NETUID}})
        if request.url.path == f"/api/v1/identity/{IDENTITY}/subnet/{NETUID}/block/latest/certificates/{HK}":
            return httpx.Response(200, json={"algorithm": 1, "public_key": published_key})
        return httpx.Response(404, json={"detail": "no such route"})

    return httpx.MockTransport(handle)


def neuron(port: int) -> Neuron:
    return Neuron.model_validate(
        {
            "uid": 1,
            "coldkey": "5Cold",
            "hotkey": HK,
            "active": True,
            "axon_info": AxonInfo(ip="127.0.0.1", port=port, protocol=AxonProtocol.HTTP).model_dump(),
            "stake": 0.0,
            "rank": 0.0,
            "emission": 0.0,
            "incentive": 0.0,
            "consensus": 0.0,
            "trust": 0.0,
            "validator_trust": 0.0,
            "dividends": 0.0,
            "last_update": 0,
            "validator_permit": False,
            "pruning_score": 0,
            "stakes": {"alpha": 0.0, "tao": 0.0, "total": 0.0},
        }
    )


def test_sync_mtls_call_pinned_to_the_published_key(miner: dict[str, Any]) -> None:
    config = sync_config(mtls_cert_path=miner["cert"], mtls_key_path=miner["key"])
    with PylonClient(config, transport=registry(miner["public_key"])) as client:
        with client.get_neuron_client(neuron(miner["port"])) as http:
            assert str(http.base_url).startswith("https://127.0.0.1")
            body = http.get("/ping").json()
        # The same client is kept for the miner.
        with client.get_neuron_client(neuron(miner["port"])) as again:
            assert again is http
    assert body == {"path": "/ping", "client_public_key": miner["validator_public_key"]}


def test_async_mtls_call_accepts_a_0x_published_key(miner: dict[str, Any]) -> None:
    async def scenario() -> dict[str, Any]:
        config = async_config(mtls_cert_path=miner["cert"], mtls_key_path=miner["key"])
        client = AsyncPylonClient(config, transport=registry("0x" + miner["public_key"]))
        async with client, client.get_neuron_client(neuron(miner["port"])) as http:
            result: dict[str, Any] = (await http.get("/ping")).json()
            return result

    assert asyncio.run(scenario()) == {"path": "/ping", "client_public_key": miner["validator_public_key"]}


def test_a_miner_with_another_key_is_refused(miner: dict[str, Any]) -> None:
    config = sync_config(mtls_cert_path=miner["cert"], mtls_key_path=miner["key"])
    other = raw_public(Ed25519PrivateKey.generate())
    with (
        PylonClient(config, transport=registry(other)) as client,
        pytest.raises(MtlsVerificationError, match="not the one it published"),
        client.get_neuron_client(neuron(miner["port"])),
    ):
        pass


def test_without_a_client_certificate_it_is_plain_http(miner: dict[str, Any]) -> None:
    client = PylonClient(sync_config(), transport=registry(miner["public_key"]))
    with client, client.get_neuron_client(neuron(miner["port"])) as http:
        assert str(http.base_url) == f"http://127.0.0.1:{miner['port']}"


def test_neurons_file_answers_the_latest_neurons_and_turns_mtls_off(miner: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "neurons.yaml"
    path.write_text(f"neurons:\n  {HK}:\n    uid: 3\n    axon_info: {{ip: 127.0.0.1, port: {miner['port']}}}\n")
    config = sync_config(mtls_cert_path=miner["cert"], mtls_key_path=miner["key"], neurons_file=str(path))
    # Nothing may reach the service: the transport refuses everything.
    refuse = httpx.MockTransport(lambda request: httpx.Response(599))
    with PylonClient(config, transport=refuse) as client:
        for response in (
            client.v1.open_access.get_latest_neurons(NETUID),  # type: ignore[arg-type]
            client.v1.identity.get_recent_neurons(),
            client.unstable.open_access.get_latest_neurons(NETUID),  # type: ignore[arg-type]
        ):
            got = response.neurons[HK]  # type: ignore[index]
            assert got.uid == 3
            assert got.coldkey == HK  # defaults to the hotkey
            assert got.axon_info.protocol == AxonProtocol.HTTP
            assert response.block.number == 0
        with client.get_neuron_client(response.neurons[HK]) as http:  # type: ignore[index]
            assert str(http.base_url).startswith("http://")


def test_a_neurons_file_with_a_conflicting_hotkey_is_refused(tmp_path: Path) -> None:
    from pylon_client._neurons_file import load_neurons_file

    path = tmp_path / "neurons.json"
    path.write_text(json.dumps({"neurons": {HK: {"hotkey": "5Else", "axon_info": {"ip": "1.2.3.4", "port": 1}}}}))
    with pytest.raises(ValueError, match="different 'hotkey'"):
        load_neurons_file(path)
