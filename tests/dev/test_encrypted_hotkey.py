"""`pylon serve` with a hotkey that bittensor-wallet encrypted with a password (NaCl, as btcli does).

With `PYLON_ID_<NAME>_HOTKEY_PASSWORD` the service signs with it; without it, or with a wrong one, the
start fails naming the identity, the file and the variable. Each start with a password costs one
Argon2i key derivation (512 MiB; a few seconds of CPU), as does writing the keyfile.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bittensor_wallet import Keypair, Wallet
from pylon_dev import pylon_binary

PASSWORD = "correct horse battery staple"
IDENTITY = "validator"
TOKEN = "identity-token"
NETUID = 1  # //Bob is a validator on every subnet of the devnet's built-in scenario
PASSWORD_VARIABLE = "PYLON_ID_VALIDATOR_HOTKEY_PASSWORD"


@pytest.fixture(scope="module")
def devnet_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [str(pylon_binary()), "devnet", "--port", "0", "--block-time", "500ms"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    if not first.startswith("listening on "):
        proc.kill()
        pytest.fail(f"devnet did not start: {first!r}")
    try:
        yield first.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def wallets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`<wallets>/encrypted/hotkeys/validator`: //Bob's hotkey, NaCl-encrypted by bittensor-wallet."""
    path = tmp_path_factory.mktemp("wallets")
    wallet = Wallet(name="encrypted", hotkey="validator", path=str(path))
    wallet.hotkey_file.set_keypair(
        Keypair.create_from_uri("//Bob"),
        encrypt=True,
        overwrite=True,
        password=PASSWORD,
    )
    assert wallet.hotkey_file.is_encrypted()
    return path


def hotkey_file(wallets: Path) -> Path:
    return wallets / "encrypted" / "hotkeys" / "validator"


def free_port() -> int:
    # `pylon serve` does not report the port it bound, so pick one the kernel says is free.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text()


def start_serve(
    devnet_url: str, wallets: Path, workdir: Path, password: str | None
) -> Serve:
    port = free_port()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("PYLON_")
    }
    env.update(
        {
            "PYLON_BITTENSOR_NETWORK": devnet_url,
            "PYLON_BITTENSOR_ARCHIVE_NETWORK": "none",
            "PYLON_BITTENSOR_WALLET_PATH": str(wallets),
            "PYLON_DATA_DIR": str(workdir / "data"),
            "PYLON_HOST": "127.0.0.1",
            "PYLON_PORT": str(port),
            "PYLON_IDENTITIES": json.dumps([IDENTITY]),
            "PYLON_ID_VALIDATOR_WALLET_NAME": "encrypted",
            "PYLON_ID_VALIDATOR_HOTKEY_NAME": "validator",
            "PYLON_ID_VALIDATOR_NETUID": str(NETUID),
            "PYLON_ID_VALIDATOR_TOKEN": TOKEN,
        }
    )
    if password is not None:
        env[PASSWORD_VARIABLE] = password
    log = workdir / "pylon.log"
    with log.open("wb") as out:
        # cwd: the working directory's `.env` is read too; an empty one keeps the test's settings exact.
        process = subprocess.Popen(
            [str(pylon_binary()), "serve"],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Serve(process=process, url=f"http://127.0.0.1:{port}", log=log)


def call(
    serve: Serve, method: str, tail: str, body: dict | None = None
) -> tuple[int, dict]:
    """An identity route; waits (bounded) while the service is still starting."""
    request = urllib.request.Request(
        f"{serve.url}/api/v1/identity/{IDENTITY}/subnet/{NETUID}{tail}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json",
        },
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
        except (ConnectionError, urllib.error.URLError):
            if serve.process.poll() is not None:
                pytest.fail(f"pylon serve exited:\n{serve.log.read_text()}")
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_password_opens_the_hotkey_and_it_signs_a_commitment(
    devnet_url: str, wallets: Path, tmp_path: Path
) -> None:
    serve = start_serve(devnet_url, wallets, tmp_path, PASSWORD)
    try:
        status, body = call(serve, "POST", "/commitments", {"commitment": "0x656e63"})
        assert status == 201, body
        status, body = call(serve, "GET", "/block/latest/commitments/self")
        assert status == 200, body
        assert body["commitment"] == "0x656e63"
        assert body["hotkey"] == Keypair.create_from_uri("//Bob").ss58_address
    finally:
        log = serve.stop()
    assert PASSWORD not in log


def test_without_the_password_the_start_fails_naming_identity_file_and_variable(
    devnet_url: str, wallets: Path, tmp_path: Path
) -> None:
    serve = start_serve(devnet_url, wallets, tmp_path, None)
    assert serve.process.wait(timeout=120) != 0
    log = serve.stop()
    assert f"identity `{IDENTITY}`" in log
    assert str(hotkey_file(wallets)) in log
    assert PASSWORD_VARIABLE in log


def test_a_wrong_password_fails_the_start_without_showing_it(
    devnet_url: str, wallets: Path, tmp_path: Path
) -> None:
    serve = start_serve(devnet_url, wallets, tmp_path, "not the password")
    assert serve.process.wait(timeout=120) != 0
    log = serve.stop()
    assert f"wrong password for hotkey file {hotkey_file(wallets)}" in log
    assert PASSWORD_VARIABLE in log
    assert "not the password" not in log
