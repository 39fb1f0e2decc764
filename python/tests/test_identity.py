"""The identity namespace finds its netuid once, and follows the service when the identity moves subnet."""

from __future__ import annotations

import httpx
import pytest

from pylon_client.v1 import Config, Hotkey, PylonClient, PylonMisconfigured, PylonNetuidMismatch, Weight

from .support import ADDRESS, IDENTITY_TOKEN, NETUID, Script

NEURONS = {"block": {"number": 5, "hash": "0x05"}, "neurons": {}}


def test_netuid_is_looked_up_once_and_used_in_the_path() -> None:
    script = Script([httpx.Response(200, json=NEURONS)])
    with script.sync_client() as client:
        with pytest.raises(AttributeError):
            _ = client.identity.netuid
        client.identity.get_latest_neurons()
        client.identity.get_latest_neurons()
        assert client.identity.netuid == NETUID
    assert script.identity_lookups == 1
    assert [r.url.path for r in script.requests] == [f"/api/v1/identity/sn1/subnet/{NETUID}/block/latest/neurons"] * 2


def test_identities_lookup_sends_no_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/identities":
            return httpx.Response(200, json={"identities": {"sn1": 2}})
        return httpx.Response(200, json=NEURONS)

    config = Config(address=ADDRESS, identity_name="sn1", identity_token=IDENTITY_TOKEN)
    with PylonClient(config, transport=httpx.MockTransport(handler)) as client:
        client.identity.get_latest_neurons()
    assert "Authorization" not in seen[0].headers
    assert seen[1].headers["Authorization"] == f"Bearer {IDENTITY_TOKEN}"


def test_unknown_identity_is_a_misconfiguration() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"identities": {"other": 1}})

    config = Config(address=ADDRESS, identity_name="sn1", identity_token=IDENTITY_TOKEN)
    client = PylonClient(config, transport=httpx.MockTransport(handler))
    with client, pytest.raises(PylonMisconfigured, match="sn1"):
        client.identity.get_latest_neurons()


def test_chain_level_calls_do_not_need_the_netuid() -> None:
    script = Script([httpx.Response(200, json={"number": 1, "hash": "0x1", "timestamp": 2})])
    with script.sync_client() as client:
        client.identity.get_latest_block_info()
    assert script.identity_lookups == 0


class MovingIdentity:
    """The identity serves netuid 1, then the operator moves it to netuid 2: the old URL answers 308."""

    def __init__(self) -> None:
        self.netuid = 1
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/identities":
            return httpx.Response(200, json={"identities": {"sn1": self.netuid}})
        self.paths.append(request.url.path)
        if f"/subnet/{self.netuid}/" not in request.url.path:
            return httpx.Response(308, json={"detail": "netuid mismatch"})
        return httpx.Response(200, json={} if request.method == "PUT" else NEURONS)


def test_netuid_mismatch_refetches_the_netuid_and_repeats_once() -> None:
    service = MovingIdentity()
    config = Config(address=ADDRESS, identity_name="sn1", identity_token=IDENTITY_TOKEN)
    with PylonClient(config, transport=httpx.MockTransport(service)) as client:
        client.identity.get_latest_neurons()
        service.netuid = 2
        client.identity.put_weights({Hotkey("5abc"): Weight(1.0)})
        assert client.identity.netuid == 2
    assert service.paths == [
        "/api/v1/identity/sn1/subnet/1/block/latest/neurons",
        "/api/v1/identity/sn1/subnet/1/weights",
        "/api/v1/identity/sn1/subnet/2/weights",
    ]


def test_persistent_mismatch_is_raised_after_one_repeat() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/identities":
            return httpx.Response(200, json={"identities": {"sn1": 1}})
        return httpx.Response(308, json={"detail": "netuid mismatch"})

    config = Config(address=ADDRESS, identity_name="sn1", identity_token=IDENTITY_TOKEN)
    client = PylonClient(config, transport=httpx.MockTransport(handler))
    with client, pytest.raises(PylonNetuidMismatch, match="netuid mismatch"):
        client.identity.get_latest_neurons()


def test_concurrent_first_calls_look_the_netuid_up_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    script = Script([httpx.Response(200, json=NEURONS)])
    with script.sync_client() as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.identity.get_latest_neurons(), range(16)))
    assert script.identity_lookups == 1
    assert len(script.requests) == 16


async def test_concurrent_async_first_calls_look_the_netuid_up_once() -> None:
    import asyncio

    script = Script([httpx.Response(200, json=NEURONS)])
    async with script.async_client() as client:
        await asyncio.gather(*(client.identity.get_latest_neurons() for _ in range(16)))
    assert script.identity_lookups == 1
