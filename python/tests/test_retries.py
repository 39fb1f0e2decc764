"""Reads are retried with backoff on transient failures; writes are resent only when nothing was sent."""

from __future__ import annotations

import httpx
import pytest
from tenacity import AsyncRetrying, Retrying, retry_if_exception_type, stop_after_attempt, wait_none

from pylon_client.v1 import (
    AsyncConfig,
    AsyncPylonClient,
    Config,
    Hotkey,
    NetUid,
    PylonBadGateway,
    PylonClient,
    PylonNotFound,
    PylonRequestException,
    PylonServiceUnavailable,
    PylonTimeoutException,
    Weight,
)

from .support import ADDRESS, OPEN_TOKEN, Script, config_values

NEURONS = {"block": {"number": 5, "hash": "0x05"}, "neurons": {}}
WEIGHTS = {Hotkey("5abc"): Weight(1.0)}


@pytest.mark.parametrize(
    "transient",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(503, json={"detail": "chain unreachable"}),
        httpx.Response(504, json={"detail": "timed out"}),
    ],
    ids=["connect-error", "read-timeout", "dropped", "503", "504"],
)
def test_read_is_retried_until_it_succeeds(transient: object) -> None:
    script = Script([transient, transient, httpx.Response(200, json=NEURONS)])  # type: ignore[list-item]
    with script.sync_client(attempts=3) as client:
        response = client.open_access.get_latest_neurons(NetUid(1))
    assert response.block.number == 5
    assert len(script.requests) == 3


def test_read_gives_up_after_the_configured_attempts_with_the_last_error() -> None:
    script = Script([httpx.Response(503, json={"detail": "still down"})])
    with script.sync_client(attempts=4) as client, pytest.raises(PylonServiceUnavailable, match="still down"):
        client.open_access.get_latest_neurons(NetUid(1))
    assert len(script.requests) == 4


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 502])
def test_read_is_not_retried_on_a_definite_answer(status: int) -> None:
    script = Script([httpx.Response(status, json={"detail": "no"})])
    with script.sync_client(attempts=3) as client, pytest.raises(Exception, match="no"):
        client.open_access.get_latest_neurons(NetUid(1))
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("sent, no answer in time"),
        httpx.WriteTimeout("partly sent"),
        httpx.ReadError("reset after sending"),
        httpx.RemoteProtocolError("server disconnected without a response"),
        httpx.Response(503, json={"detail": "unavailable"}),
        httpx.Response(504, json={"detail": "gateway timeout"}),
    ],
    ids=["read-timeout", "write-timeout", "read-error", "disconnected", "503", "504"],
)
def test_write_that_may_have_reached_the_server_is_never_resent(failure: object) -> None:
    script = Script([failure, httpx.Response(200, json={})])  # type: ignore[list-item]
    with script.sync_client(attempts=5) as client, pytest.raises((PylonRequestException, PylonServiceUnavailable)):
        client.identity.put_weights(WEIGHTS)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("no connection"), httpx.PoolTimeout("pool full")],
    ids=["connect-error", "connect-timeout", "pool-timeout"],
)
def test_write_that_never_left_the_client_is_retried(failure: Exception) -> None:
    script = Script([failure, httpx.Response(200, json={})])
    with script.sync_client(attempts=3) as client:
        client.identity.put_weights(WEIGHTS)
    assert len(script.requests) == 2


async def test_async_write_is_not_resent_after_a_read_timeout() -> None:
    script = Script([httpx.ReadTimeout("slow"), httpx.Response(200, json={})])
    async with script.async_client(attempts=5) as client:
        with pytest.raises(PylonTimeoutException):
            await client.identity.set_commitment(b"\x01")
    assert len(script.requests) == 1


async def test_async_read_is_retried() -> None:
    script = Script([httpx.ConnectError("refused"), httpx.Response(200, json=NEURONS)])
    async with script.async_client(attempts=2) as client:
        response = await client.open_access.get_latest_neurons(NetUid(1))
    assert response.block.number == 5
    assert len(script.requests) == 2


def test_a_users_retry_policy_is_honoured() -> None:
    # The published client's README example: retry only PylonRequestException, five attempts.
    retry = Retrying(wait=wait_none(), stop=stop_after_attempt(5), retry=retry_if_exception_type(PylonRequestException))
    script = Script([httpx.ConnectError("refused")])
    config = Config(address=ADDRESS, open_access_token=OPEN_TOKEN, retry=retry)
    with PylonClient(config, transport=httpx.MockTransport(script)) as client, pytest.raises(PylonRequestException):
        client.open_access.get_latest_neurons(NetUid(1))
    assert len(script.requests) == 5
    # The user's policy says nothing about 503, so it is not retried.
    script = Script([httpx.Response(503, json={})])
    with PylonClient(config, transport=httpx.MockTransport(script)) as client, pytest.raises(PylonServiceUnavailable):
        client.open_access.get_latest_neurons(NetUid(1))
    assert len(script.requests) == 1


async def test_a_users_async_retry_policy_still_never_resends_a_write() -> None:
    retry = AsyncRetrying(wait=wait_none(), stop=stop_after_attempt(5), retry=retry_if_exception_type(Exception))
    script = Script([httpx.Response(502, json={"detail": "bad"})])
    config = AsyncConfig(**config_values(), retry=retry)
    async with AsyncPylonClient(config, transport=httpx.MockTransport(script)) as client:
        with pytest.raises(PylonBadGateway):
            await client.identity.put_weights(WEIGHTS)
        assert len(script.requests) == 1
        with pytest.raises(PylonBadGateway):
            await client.open_access.get_latest_neurons(NetUid(1))
    assert len(script.requests) == 6


def test_retrying_does_not_change_the_configured_policy_object() -> None:
    script = Script([httpx.Response(404, json={})])
    client = script.sync_client()
    policy = client.config.retry
    retry_predicate = policy.retry
    with client, pytest.raises(PylonNotFound):
        client.identity.put_weights(WEIGHTS)
    assert client.config.retry is policy
    assert policy.retry is retry_predicate
