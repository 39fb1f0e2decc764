"""Configuration, client lifecycle, and input validation before anything is sent."""

from __future__ import annotations

import math

import httpx
import pydantic
import pytest
from tenacity import AsyncRetrying, Retrying

from pylon_client.v1 import (
    AsyncConfig,
    AsyncPylonClient,
    Config,
    Hotkey,
    NetUid,
    PylonClient,
    PylonClosed,
    PylonMisconfigured,
    PylonTimeout,
    Weight,
)

from .support import ADDRESS, Script


def test_defaults_match_the_published_client() -> None:
    config = Config(address=ADDRESS)
    assert config.timeout == PylonTimeout(connect=5.0, read=60.0, write=5.0, pool=5.0)
    assert isinstance(config.retry, Retrying)
    assert isinstance(AsyncConfig(address=ADDRESS).retry, AsyncRetrying)


def test_address_without_scheme_gets_http() -> None:
    assert Config(address="127.0.0.1:8000").base_url == "http://127.0.0.1:8000"
    assert Config(address="https://pylon.example/").base_url == "https://pylon.example"


def test_identity_name_and_token_come_together() -> None:
    with pytest.raises(pydantic.ValidationError, match="together"):
        Config(address=ADDRESS, identity_name="sn1")
    with pytest.raises(pydantic.ValidationError, match="together"):
        Config(address=ADDRESS, identity_token="secret")


def test_async_config_rejects_a_sync_retry_policy() -> None:
    with pytest.raises(pydantic.ValidationError):
        AsyncConfig(address=ADDRESS, retry=Retrying())


def test_unset_fields_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYLON_CLIENT_ADDRESS", "http://from-env:9000")
    monkeypatch.setenv("PYLON_CLIENT_OPEN_ACCESS_TOKEN", "env-token")
    monkeypatch.setenv("PYLON_CLIENT_TIMEOUT__READ", "12.5")
    config = Config(open_access_token="explicit")  # type: ignore[call-arg]
    assert config.address == "http://from-env:9000"
    assert config.open_access_token == "explicit"
    assert config.timeout.read == 12.5
    assert config.timeout.connect == 5.0


def test_tokens_are_not_in_the_repr() -> None:
    config = Config(address=ADDRESS, open_access_token="open-secret", identity_name="sn1", identity_token="id-secret")
    assert "open-secret" not in repr(config)
    assert "id-secret" not in repr(config)


def test_timeouts_are_applied_and_the_read_timeout_is_sent_as_x_pylon_timeout() -> None:
    script = Script([httpx.Response(200, json={"block": {"number": 1, "hash": "0x1"}, "neurons": {}})])
    timeout = PylonTimeout(connect=1.5, read=7.25, write=2.0, pool=3.0)
    with script.sync_client(timeout=timeout) as client:
        client.open_access.get_latest_neurons(NetUid(1))
    [request] = script.requests
    assert request.headers["X-Pylon-Timeout"] == "7.25"
    assert request.extensions["timeout"] == {"connect": 1.5, "read": 7.25, "write": 2.0, "pool": 3.0}
    assert request.headers["User-Agent"].startswith("bittensor-pylon-client/")


def test_missing_credentials_make_a_namespace_unavailable() -> None:
    client = PylonClient(Config(address=ADDRESS))
    with pytest.raises(PylonMisconfigured, match="open access"):
        _ = client.open_access
    with pytest.raises(PylonMisconfigured, match="identity"):
        _ = client.v1.identity


def test_v1_namespace_and_shortcuts_are_the_same_objects() -> None:
    client = Script().sync_client()
    assert client.open_access is client.v1.open_access
    assert client.identity is client.v1.identity


def test_calls_need_an_open_client() -> None:
    script = Script()
    client = script.sync_client()
    with pytest.raises(PylonClosed):
        client.open_access.get_latest_neurons(NetUid(1))
    client.open()
    with pytest.raises(ValueError, match="already open"):
        client.open()
    client.close()
    with pytest.raises(ValueError, match="already closed"):
        client.close()
    with pytest.raises(PylonClosed):
        client.open_access.get_latest_neurons(NetUid(1))
    assert script.requests == []


async def test_async_calls_need_an_open_client() -> None:
    client = Script().async_client()
    with pytest.raises(PylonClosed):
        await client.open_access.get_latest_neurons(NetUid(1))
    async with client:
        assert client.is_open
    assert not client.is_open


def test_async_client_takes_an_async_config() -> None:
    client = AsyncPylonClient(AsyncConfig(address=ADDRESS, open_access_token="t"))
    assert client.config.base_url == ADDRESS


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({}, "no weights"),
        ({Hotkey(""): Weight(1.0)}, "empty"),
        ({Hotkey("5abc"): Weight(math.nan)}, "finite"),
        ({Hotkey("5abc"): Weight(math.inf)}, "finite"),
        ({Hotkey("5abc"): "heavy"}, "weights"),
    ],
)
def test_invalid_weights_fail_before_anything_is_sent(weights: dict[Hotkey, Weight], message: str) -> None:
    script = Script()
    with script.sync_client() as client, pytest.raises(pydantic.ValidationError, match=message):
        client.identity.put_weights(weights)
    assert script.requests == []
    assert script.identity_lookups <= 1


@pytest.mark.parametrize("commitment", ["0xzz", "abc", b""])
def test_invalid_commitment_fails_before_anything_is_sent(commitment: str | bytes) -> None:
    script = Script()
    with script.sync_client() as client, pytest.raises(pydantic.ValidationError):
        client.identity.set_commitment(commitment)
    assert script.requests == []


def test_blocks_until_reveal_must_be_positive() -> None:
    script = Script()
    with script.sync_client() as client, pytest.raises(pydantic.ValidationError, match="blocks_until_reveal"):
        client.identity.set_revealed_commitment("x", blocks_until_reveal=0)
    assert script.requests == []


def test_unknown_options_are_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="verify_tls"):
        Config(address=ADDRESS, verify_tls=False)  # type: ignore[call-arg]


def test_mtls_paths_come_together_and_must_exist(tmp_path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    with pytest.raises(pydantic.ValidationError, match="given together"):
        Config(address=ADDRESS, mtls_cert_path=str(cert))
    with pytest.raises(pydantic.ValidationError, match="mtls_key_path does not exist"):
        Config(address=ADDRESS, mtls_cert_path=str(cert), mtls_key_path=str(tmp_path / "missing.pem"))


def test_an_address_with_a_path_prefix_keeps_it() -> None:
    script = Script([httpx.Response(200, json={"number": 1, "hash": "0x1", "timestamp": 2})])
    with script.sync_client(address="http://gateway.test/pylon/") as client:
        client.open_access.get_latest_block_info()
    assert str(script.requests[0].url) == "http://gateway.test/pylon/api/v1/block/latest"


def test_a_prepared_call_does_not_show_its_token() -> None:
    from pylon_client._endpoints import GET_LATEST_NEURONS, Tier
    from pylon_client._http import build_call

    call = build_call(
        Config(address=ADDRESS, open_access_token="s3cret"), GET_LATEST_NEURONS, Tier.OPEN_ACCESS, netuid=NetUid(1)
    )
    assert call.headers == {"Authorization": "Bearer s3cret"}
    assert "s3cret" not in repr(call)
