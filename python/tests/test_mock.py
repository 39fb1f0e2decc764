"""The mock users test their own code with: canned answers, overrides, recorded calls, remembered writes."""

from __future__ import annotations

import pytest

from pylon_client.testing import AsyncMockPylonClient, MockPylon, MockPylonClient, sample_neurons
from pylon_client.v1 import (
    BlockNumber,
    Config,
    GetNeuronsResponse,
    Hotkey,
    NetUid,
    PylonNotFound,
    PylonServiceUnavailable,
    Weight,
)


def test_default_answers_are_the_sample_subnet() -> None:
    with MockPylonClient() as client:
        latest = client.open_access.get_latest_neurons(NetUid(1))
        validators = client.identity.get_latest_validators()
        past = client.identity.get_neurons(BlockNumber(42))
    assert latest.neurons == sample_neurons()
    assert [v.uid for v in validators.validators] == [0]
    assert past.block.number == 42


def test_writes_are_recorded_and_commitments_read_back() -> None:
    with MockPylonClient() as client:
        client.identity.put_weights({Hotkey("5abc"): Weight(0.5)})
        client.identity.set_commitment(b"\xca\xfe")
        own = client.identity.get_own_commitment()
        everything = client.open_access.get_commitments(NetUid(1))
    assert client.mock.weights == {"mock": {"5abc": 0.5}}
    assert own.commitment == "0xcafe"
    assert everything.commitments == {own.hotkey: "0xcafe"}
    [call] = client.mock.calls_to("put_weights")
    assert call.json == {"weights": {"5abc": 0.5}}
    assert call.headers["authorization"] == "Bearer mock-identity-token"


def test_overrides_and_errors() -> None:
    with MockPylonClient() as client:
        empty = GetNeuronsResponse.model_validate({"block": {"number": 7, "hash": "0x7"}, "neurons": {}})
        client.mock.set_response("get_latest_neurons", empty)
        assert client.open_access.get_latest_neurons(NetUid(1)).neurons == {}
        client.mock.set_response(
            "get_recent_neurons",
            lambda call: {"block": {"number": int(call.params["netuid"]), "hash": "0x"}, "neurons": {}},
        )
        assert client.open_access.get_recent_neurons(NetUid(9)).block.number == 9
        client.mock.set_error("get_certificate", 404, "Certificate not found")
        with pytest.raises(PylonNotFound, match="Certificate not found"):
            client.open_access.get_certificate(NetUid(1), Hotkey("5abc"))
        client.mock.set_error("get_latest_validators", 503)
        with pytest.raises(PylonServiceUnavailable):
            client.open_access.get_latest_validators(NetUid(1))
        # Reads are retried by the client, as against a real service.
        assert len(client.mock.calls_to("get_latest_validators")) == 3
        client.mock.reset("get_latest_neurons")
        assert client.open_access.get_latest_neurons(NetUid(1)).neurons == sample_neurons()


def test_unknown_method_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="no endpoint"):
        MockPylon().set_response("get_everything", {})


def test_identities_and_a_user_config() -> None:
    mock = MockPylon(identities={"validator": 12})
    config = Config(address="http://anything", identity_name="validator", identity_token="t")
    with MockPylonClient(config, mock=mock) as client:
        client.identity.get_latest_neurons()
    [call] = mock.calls_to("get_latest_neurons")
    assert call.path == "/api/v1/identity/validator/subnet/12/block/latest/neurons"


async def test_async_mock_client() -> None:
    async with AsyncMockPylonClient() as client:
        info = await client.open_access.get_latest_block_info()
        keypair = await client.identity.generate_certificate_keypair()
        own = await client.identity.get_own_certificate()
    assert info.number == 1000
    assert own.public_key == keypair.public_key
    assert "private_key" not in repr(keypair)
