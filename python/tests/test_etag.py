"""Reads revalidate with If-None-Match: an unchanged resource comes back as a 304 and the cached answer."""

from __future__ import annotations

import httpx
import pytest

from pylon_client.v1 import Hotkey, NetUid, PylonResponseException, Weight

from .support import Script

NEURONS = {"block": {"number": 5, "hash": "0x05"}, "neurons": {}}
NEWER = {"block": {"number": 6, "hash": "0x06"}, "neurons": {}}


def test_a_read_is_revalidated_and_a_304_returns_the_cached_answer() -> None:
    script = Script(
        [
            httpx.Response(200, json=NEURONS, headers={"ETag": '"b5"'}),
            httpx.Response(304, headers={"ETag": '"b5"'}),
            httpx.Response(200, json=NEWER, headers={"ETag": '"b6"'}),
            httpx.Response(304),
        ]
    )
    with script.sync_client() as client:
        first = client.open_access.get_latest_neurons(NetUid(1))
        unchanged = client.open_access.get_latest_neurons(NetUid(1))
        changed = client.open_access.get_latest_neurons(NetUid(1))
        again = client.open_access.get_latest_neurons(NetUid(1))
    assert [r.headers.get("If-None-Match") for r in script.requests] == [None, '"b5"', '"b5"', '"b6"']
    assert first.block.number == unchanged.block.number == 5
    assert changed.block.number == again.block.number == 6
    # Each call gets its own model, so one caller's changes do not show up in another's answer.
    assert first is not unchanged


async def test_the_async_client_revalidates_too() -> None:
    script = Script([httpx.Response(200, json=NEURONS, headers={"ETag": "x"}), httpx.Response(304)])
    async with script.async_client() as client:
        await client.open_access.get_latest_neurons(NetUid(1))
        response = await client.open_access.get_latest_neurons(NetUid(1))
    assert response.block.number == 5
    assert script.requests[1].headers["If-None-Match"] == "x"


def test_urls_are_cached_separately_and_writes_never() -> None:
    script = Script([httpx.Response(200, json={}, headers={"ETag": "w"})])
    with script.sync_client() as client:
        client.identity.put_weights({Hotkey("5abc"): Weight(1.0)})
        client.identity.put_weights({Hotkey("5abc"): Weight(1.0)})
    assert all("If-None-Match" not in r.headers for r in script.requests)
    script = Script(
        [
            httpx.Response(200, json=NEURONS, headers={"ETag": "n1"}),
            httpx.Response(200, json=NEURONS, headers={"ETag": "n2"}),
        ]
    )
    with script.sync_client() as client:
        client.open_access.get_latest_neurons(NetUid(1))
        client.open_access.get_latest_neurons(NetUid(2))
    assert all("If-None-Match" not in r.headers for r in script.requests)


def test_a_304_without_a_cached_answer_is_an_error() -> None:
    script = Script([httpx.Response(304)])
    with script.sync_client() as client, pytest.raises(PylonResponseException) as raised:
        client.open_access.get_latest_neurons(NetUid(1))
    assert raised.value.status_code == 304
