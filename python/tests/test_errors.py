"""Each failure becomes the precise exception, carrying the service's detail and the response."""

from __future__ import annotations

import httpx
import pytest

from pylon_client.v1 import (
    BasePylonException,
    NetUid,
    PylonBadGateway,
    PylonBadRequest,
    PylonConflict,
    PylonForbidden,
    PylonInternalServerError,
    PylonInvalidResponse,
    PylonNotFound,
    PylonRequestException,
    PylonResponseException,
    PylonServiceUnavailable,
    PylonTimeoutException,
    PylonTooManyRequests,
    PylonUnauthorized,
    PylonUnprocessableEntity,
    TimeoutReason,
)

from .support import Script

# 503 is retried by default; one attempt keeps each case to one request.
ONE_ATTEMPT = {"attempts": 1}


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, PylonBadRequest),
        (401, PylonUnauthorized),
        (403, PylonForbidden),
        (404, PylonNotFound),
        (409, PylonConflict),
        (422, PylonUnprocessableEntity),
        (429, PylonTooManyRequests),
        (500, PylonInternalServerError),
        (502, PylonBadGateway),
        (503, PylonServiceUnavailable),
        (418, PylonResponseException),
    ],
)
def test_status_maps_to_exception_with_detail_and_response(
    status: int, exception: type[PylonResponseException]
) -> None:
    script = Script([httpx.Response(status, json={"detail": f"reason {status}"})])
    with script.sync_client(**ONE_ATTEMPT) as client, pytest.raises(exception) as raised:
        client.open_access.get_latest_neurons(NetUid(1))
    assert type(raised.value) is exception
    assert raised.value.status_code == status
    assert raised.value.detail == f"reason {status}"
    assert raised.value.response is not None
    assert raised.value.response.status_code == status
    assert f"HTTP {status}" in str(raised.value)
    assert f"reason {status}" in str(raised.value)


async def test_status_mapping_is_the_same_for_the_async_client() -> None:
    script = Script([httpx.Response(403, json={"detail": "wrong token"})])
    async with script.async_client(**ONE_ATTEMPT) as client:
        with pytest.raises(PylonForbidden, match="wrong token"):
            await client.open_access.get_latest_neurons(NetUid(1))


def test_504_is_a_gateway_timeout() -> None:
    script = Script([httpx.Response(504, json={"detail": "chain did not answer in 2.0s"})])
    with script.sync_client(**ONE_ATTEMPT) as client, pytest.raises(PylonTimeoutException) as raised:
        client.open_access.get_latest_neurons(NetUid(1))
    assert raised.value.reason is TimeoutReason.GATEWAY_TIMEOUT
    assert raised.value.detail == "chain did not answer in 2.0s"
    assert raised.value.status_code == 504
    assert isinstance(raised.value, PylonRequestException)


def test_validation_extras_are_part_of_the_detail() -> None:
    body = {"status_code": 400, "detail": "Validation failed", "extra": [{"key": "netuid", "message": "bad"}]}
    script = Script([httpx.Response(400, json=body)])
    with script.sync_client() as client, pytest.raises(PylonBadRequest) as raised:
        client.open_access.get_latest_neurons(NetUid(1))
    assert raised.value.detail is not None
    assert raised.value.detail.startswith("Validation failed")
    assert '"key": "netuid"' in raised.value.detail


def test_non_json_error_body_becomes_the_detail() -> None:
    script = Script([httpx.Response(502, text="upstream exploded")])
    with script.sync_client() as client, pytest.raises(PylonBadGateway) as raised:
        client.open_access.get_latest_neurons(NetUid(1))
    assert raised.value.detail == "upstream exploded"


def test_success_with_a_body_of_the_wrong_shape_is_an_invalid_response() -> None:
    script = Script([httpx.Response(200, json={"block": {"number": "not a number"}})])
    with script.sync_client() as client, pytest.raises(PylonInvalidResponse) as raised:
        client.open_access.get_latest_neurons(NetUid(1))
    assert raised.value.status_code == 200
    assert "GetNeuronsResponse" in str(raised.value)


@pytest.mark.parametrize(
    ("error", "reason", "seconds"),
    [
        (httpx.ConnectTimeout("slow connect"), TimeoutReason.CONNECT, 5.0),
        (httpx.ReadTimeout("slow read"), TimeoutReason.READ, 60.0),
        (httpx.WriteTimeout("slow write"), TimeoutReason.WRITE, 5.0),
        (httpx.PoolTimeout("no connection"), TimeoutReason.POOL, 5.0),
    ],
)
def test_client_side_timeouts_name_their_phase(error: Exception, reason: TimeoutReason, seconds: float) -> None:
    script = Script([error])
    with script.sync_client(**ONE_ATTEMPT) as client, pytest.raises(PylonTimeoutException) as raised:
        client.open_access.get_latest_neurons(NetUid(1))
    assert raised.value.reason is reason
    assert raised.value.timeout_seconds == seconds
    assert raised.value.__cause__ is error


@pytest.mark.parametrize(
    ("error", "reached"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ReadError("reset by peer"), True),
        (httpx.RemoteProtocolError("server disconnected without a response"), True),
    ],
)
def test_transport_errors_say_whether_the_request_may_have_reached_the_server(error: Exception, reached: bool) -> None:
    script = Script([error])
    with script.sync_client(**ONE_ATTEMPT) as client, pytest.raises(PylonRequestException) as raised:
        client.open_access.get_latest_neurons(NetUid(1))
    assert type(raised.value) is PylonRequestException
    assert raised.value.may_have_reached_server is reached


def test_every_exception_is_a_pylon_exception() -> None:
    for exc in (PylonNotFound(), PylonTimeoutException(TimeoutReason.READ), PylonRequestException("x")):
        assert isinstance(exc, BasePylonException)


def test_an_empty_success_body_is_an_empty_object_for_writes() -> None:
    script = Script([httpx.Response(201)])
    with script.sync_client() as client:
        client.identity.set_commitment(b"\x01")
    script = Script([httpx.Response(204)])
    with script.sync_client() as client, pytest.raises(PylonInvalidResponse):
        client.open_access.get_latest_neurons(NetUid(1))
