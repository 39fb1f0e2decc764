"""What the every-method contract test needs besides the published client: the chain's own state (read by
async-substrate-interface in the SDK's venv), an EVM JSON-RPC reader, and a miner's TLS server for mTLS."""

from __future__ import annotations

import datetime
import http.server
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[2]
SDK_PYTHON = REPO / ".venv" / "bin" / "python"
READER = Path(__file__).with_name("chain_reader.py")


class ChainReader:
    """One `chain_reader.py` process in the SDK's venv, asked one JSON line at a time."""

    def __init__(self, chain_url: str) -> None:
        self._process = subprocess.Popen(
            [str(SDK_PYTHON), str(READER), chain_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()

    def ask(self, **request: Any) -> Any:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        with self._lock:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the chain reader exited")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"chain reader {request}: {answer['error']}")
        return answer["ok"]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()

    # Convenience reads -------------------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        head = self.ask(op="head")
        return int(head["number"]), head["hash"]

    def block_hash(self, number: int) -> str:
        return self.ask(op="block_hash", number=number)

    def wait_until_weights_allowed(
        self, netuid: int, uid: int, timeout: float = 120.0
    ) -> None:
        """Until the chain's `WeightsSetRateLimit` since the neuron's `LastUpdate` has passed: a weights case
        then tests that its weights land, not how the service waits out the previous case's rate limit (on a fast
        devnet a wait can outlast the epoch, and the job rightly expires with it)."""
        limit = int(
            self.query("SubtensorModule", "WeightsSetRateLimit", [netuid], None)
        )
        deadline = time.monotonic() + timeout
        while True:
            number, at = self.head()
            last = self.query("SubtensorModule", "LastUpdate", [netuid], at) or []
            if uid >= len(last) or number - int(last[uid]) > limit:
                return
            assert time.monotonic() < deadline, (
                f"the rate limit of uid {uid} never passed"
            )
            time.sleep(0.5)

    def query(
        self, module: str, storage: str, params: list[Any], at: str | None
    ) -> Any:
        return self.ask(
            op="query", module=module, storage=storage, params=params, at=at
        )

    def query_map(
        self, module: str, storage: str, params: list[Any], at: str | None
    ) -> list[list[Any]]:
        return self.ask(
            op="query_map", module=module, storage=storage, params=params, at=at
        )

    def neurons(self, netuid: int, at: str) -> list[dict[str, Any]]:
        return self.ask(
            op="runtime_call",
            api="NeuronInfoRuntimeApi",
            method="get_neurons_lite",
            params=[netuid],
            at=at,
        )

    def extrinsic(self, at: str, index: int) -> dict[str, Any]:
        return self.ask(op="extrinsic", at=at, index=index)


def eventually(
    read: Callable[[], Any],
    done: Callable[[Any], bool],
    what: str,
    timeout: float = 90.0,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, (
            f"{what} never arrived; last seen: {value!r}"
        )
        time.sleep(0.5)


def raw_bytes(value: Any) -> bytes:
    """A decoded byte string, whichever way the decoder gave it (0x hex, a list of ints, or text)."""
    if isinstance(value, list):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        return bytes.fromhex(value[2:])
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"not bytes: {value!r}")


def commitment_fields(info: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (kind, content) fields of a `Commitments.CommitmentOf` value: `Raw<n>` data or `TimelockEncrypted`."""
    fields = info["info"]["fields"]
    out = []
    for field in fields:
        # A field is a one-element list/tuple holding a one-key dict ({"Raw5": ...}), or the dict itself.
        while isinstance(field, list) and len(field) == 1:
            field = field[0]
        if isinstance(field, dict):
            [(kind, content)] = field.items()
            out.append((kind, content))
        else:
            out.append((str(field), None))
    return out


def hex_data(info: dict[str, Any]) -> str | None:
    """The commitment's `Raw` data as the reference serves it (0x hex of the bytes), None when it has none."""
    raws = [
        raw_bytes(content)
        for kind, content in commitment_fields(info)
        if kind.startswith("Raw")
    ]
    if not raws:
        return None
    return "0x" + b"".join(raws).hex()


def timelock_rounds(info: dict[str, Any]) -> list[int]:
    return [
        int(content["reveal_round"])
        for kind, content in commitment_fields(info)
        if kind == "TimelockEncrypted"
    ]


# EVM JSON-RPC -----------------------------------------------------------------------------------------------------


def eth_rpc(url: str, method: str, params: list[Any]) -> Any:
    response = httpx.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


# mTLS: a miner's server ------------------------------------------------------------------------------------------


def self_signed(key: Ed25519PrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, None)
    )


def write_pem(directory: Path, name: str, key: Ed25519PrivateKey) -> tuple[Path, Path]:
    """A self-signed certificate and its key as PEM files: (cert path, key path)."""
    cert_path = directory / f"{name}.crt"
    key_path = directory / f"{name}.key"
    cert_path.write_bytes(
        self_signed(key, name).public_bytes(serialization.Encoding.PEM)
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def raw_public_key(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


class MinerServer:
    """An HTTPS server with the miner's Ed25519 keypair that asks for (and checks) the caller's client certificate,
    and answers every GET with the raw public key of the client certificate it was shown."""

    def __init__(
        self, directory: Path, key: Ed25519PrivateKey, trusted_client_cert: Path
    ) -> None:
        cert_path, key_path = write_pem(directory, "miner", key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cafile=str(trusted_client_cert))

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                der = self.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
                client_key = None
                if der:
                    public = x509.load_der_x509_certificate(der).public_key()
                    client_key = public.public_bytes(
                        serialization.Encoding.Raw, serialization.PublicFormat.Raw
                    ).hex()
                body = json.dumps(
                    {"path": self.path, "client_public_key": client_key}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
