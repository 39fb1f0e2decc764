"""The exception hierarchy, and the one place where an HTTP outcome becomes an exception.

BasePylonException
├── PylonRequestException          the request got no usable answer (connection, timeout)
│   └── PylonTimeoutException      client-side timeout, or 504 from the service (X-Pylon-Timeout ran out)
├── PylonResponseException         the service answered with an error status
│   ├── PylonNetuidMismatch  308   PylonBadRequest        400   PylonUnauthorized  401
│   ├── PylonForbidden       403   PylonNotFound          404   PylonConflict      409
│   ├── PylonUnprocessableEntity 422  PylonTooManyRequests 429  PylonInternalServerError 500
│   ├── PylonBadGateway      502   PylonServiceUnavailable 503
│   └── PylonInvalidResponse       a 2xx whose body is not what the method returns
├── PylonWeightsTimeout            wait_for_weights: the job was not final in time
├── PylonWeightsJobReplaced        wait_for_weights: the job is no longer the identity's newest
├── PylonClosed                    the client is not open
└── PylonMisconfigured             the client's configuration cannot serve this call
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

import httpx

if TYPE_CHECKING:
    from ._models import WeightsJob


class BasePylonException(Exception):
    """Base of every exception the client raises."""


class PylonRequestException(BasePylonException):
    """The request did not produce a response from the service (connection refused, reset, timed out...).

    `may_have_reached_server` is False only when the failure happened before any byte was sent (no connection
    could be made); the client resends writes only in that case.
    """

    def __init__(self, message: str, *, may_have_reached_server: bool = True) -> None:
        super().__init__(message)
        self.may_have_reached_server = may_have_reached_server


class TimeoutReason(StrEnum):
    CONNECT = "connect"
    READ = "read"
    WRITE = "write"
    POOL = "pool"
    GATEWAY_TIMEOUT = "gateway_timeout"


class PylonTimeoutException(PylonRequestException):
    """A client-side timeout, or the service's 504 when it could not answer within `X-Pylon-Timeout`."""

    def __init__(
        self,
        reason: TimeoutReason,
        timeout_seconds: float | None = None,
        detail: str | None = None,
        *,
        response: httpx.Response | None = None,
    ) -> None:
        message = f"Request to Pylon API timed out ({reason})"
        if timeout_seconds is not None:
            message += f" after {timeout_seconds}s"
        message += f": {detail}" if detail else "."
        # Nothing is sent before the connection exists, or while waiting for a pooled one.
        reached = reason not in (TimeoutReason.CONNECT, TimeoutReason.POOL)
        super().__init__(message, may_have_reached_server=reached)
        self.reason = reason
        self.timeout_seconds = timeout_seconds
        self.detail = detail
        self.response = response
        self.status_code = response.status_code if response is not None else None


class PylonResponseException(BasePylonException):
    """The service answered with an error status. `status_code`, `detail` (the service's reason) and `response`
    (the `httpx.Response`, when there was one) say what happened."""

    default_message: ClassVar[str] = "Pylon returned an error"
    default_status_code: ClassVar[int | None] = None

    def __init__(
        self,
        message: str | None = None,
        status_code: int | None = None,
        detail: str | None = None,
        *,
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code if status_code is not None else self.default_status_code
        self.detail = detail
        self.response = response
        text = message if message is not None else self.default_message
        if self.status_code is not None:
            text = f"{text} (HTTP {self.status_code})"
        if detail:
            text = f"{text}: {detail}"
        super().__init__(text)


class PylonNetuidMismatch(PylonResponseException):
    """The netuid in the URL is not the identity's netuid (the identity was moved to another subnet)."""

    default_message = "Netuid mismatch"
    default_status_code = 308


class PylonBadRequest(PylonResponseException):
    """The request was malformed (a bad netuid, hotkey, block number or body); `detail` names the field."""

    default_message = "Bad request"
    default_status_code = 400


class PylonUnauthorized(PylonResponseException):
    """No token, or a malformed one."""

    default_message = "Unauthorized"
    default_status_code = 401


class PylonForbidden(PylonResponseException):
    """The token is valid for no identity or tier that may use this route."""

    default_message = "Forbidden"
    default_status_code = 403


class PylonNotFound(PylonResponseException):
    """The resource does not exist: unknown identity, a block not yet produced, no commitment for a hotkey..."""

    default_message = "Not found"
    default_status_code = 404


class PylonConflict(PylonResponseException):
    default_message = "Conflict"
    default_status_code = 409


class PylonUnprocessableEntity(PylonResponseException):
    """The body was well-formed but cannot be acted on (e.g. none of the weights' hotkeys is on the subnet)."""

    default_message = "Unprocessable entity"
    default_status_code = 422


class PylonTooManyRequests(PylonResponseException):
    default_message = "Too many requests"
    default_status_code = 429


class PylonInternalServerError(PylonResponseException):
    default_message = "Internal server error"
    default_status_code = 500


class PylonBadGateway(PylonResponseException):
    """The chain node answered with an error or something the service could not decode."""

    default_message = "Bad gateway"
    default_status_code = 502


class PylonServiceUnavailable(PylonResponseException):
    """The service cannot reach the chain and has nothing cached for the request."""

    default_message = "Service unavailable"
    default_status_code = 503


class PylonInvalidResponse(PylonResponseException):
    """A success status whose body does not have the shape the method returns (a client/service mismatch)."""

    default_message = "Invalid response from Pylon API"


class PylonWeightsTimeout(BasePylonException):
    """`wait_for_weights` gave up: the job was still not final after `timeout_seconds`. `job` is its last status
    (the service keeps driving it; wait again or read `get_weights_job()` later)."""

    def __init__(self, job: WeightsJob, timeout_seconds: float) -> None:
        super().__init__(
            f"Weights job {job.job_id} is still {job.status.value} after {timeout_seconds}s "
            f"(attempts: {job.attempts}, epoch ends at block {job.epoch.end})"
            + (f"; last error: {job.last_error}" if job.last_error else "")
        )
        self.job = job
        self.timeout_seconds = timeout_seconds


class PylonWeightsJobReplaced(BasePylonException):
    """`wait_for_weights(job_id)`: the service reports only the identity's newest job, and that is now another one
    (`newest`), so the outcome of `job_id` can no longer be read. A request made after `job_id` either superseded
    it (if it had not been sent yet) or followed it."""

    def __init__(self, job_id: int, newest: WeightsJob) -> None:
        super().__init__(
            f"Weights job {job_id} is no longer the identity's newest: job {newest.job_id} is ({newest.status.value})"
        )
        self.job_id = job_id
        self.newest = newest


class PylonClosed(BasePylonException):
    """The client is used before `open()` / `with`, or after `close()`."""


class PylonMisconfigured(BasePylonException):
    """The configuration cannot serve the call: no open-access token for `open_access`, no identity for
    `identity`, or an identity the service does not know."""


class MtlsVerificationError(BasePylonException):
    """Kept for imports from older client versions: raised when a miner's TLS certificate fails verification."""


_BY_STATUS: dict[int, type[PylonResponseException]] = {
    cls.default_status_code: cls
    for cls in (
        PylonNetuidMismatch,
        PylonBadRequest,
        PylonUnauthorized,
        PylonForbidden,
        PylonNotFound,
        PylonConflict,
        PylonUnprocessableEntity,
        PylonTooManyRequests,
        PylonInternalServerError,
        PylonBadGateway,
        PylonServiceUnavailable,
    )
    if cls.default_status_code is not None
}

_MAX_DETAIL_CHARS = 2000


def error_detail(response: httpx.Response) -> str | None:
    """The service's reason for an error: the JSON `detail` (plus `extra` validation notes when present),
    else the body's text, shortened."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()
        return text[:_MAX_DETAIL_CHARS] or None
    if not isinstance(body, dict):
        return json.dumps(body)[:_MAX_DETAIL_CHARS]
    detail = body.get("detail", body.get("message", body.get("error")))
    if detail is None:
        return None
    text = detail if isinstance(detail, str) else json.dumps(detail)
    extra = body.get("extra")
    if extra:
        text = f"{text} {json.dumps(extra)}"
    return text[:_MAX_DETAIL_CHARS]


def exception_for_status(response: httpx.Response) -> BasePylonException:
    """The exception for a non-2xx response."""
    detail = error_detail(response)
    status = response.status_code
    if status == 504:
        return PylonTimeoutException(TimeoutReason.GATEWAY_TIMEOUT, detail=detail, response=response)
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls(detail=detail, response=response)
    return PylonResponseException(
        "Invalid response from Pylon API", status_code=status, detail=detail, response=response
    )


def exception_for_transport_error(exc: httpx.RequestError, timeouts: httpx.Timeout) -> PylonRequestException:
    """The exception for a request that got no response."""
    if isinstance(exc, httpx.TimeoutException):
        reason, seconds = {
            httpx.ConnectTimeout: (TimeoutReason.CONNECT, timeouts.connect),
            httpx.ReadTimeout: (TimeoutReason.READ, timeouts.read),
            httpx.WriteTimeout: (TimeoutReason.WRITE, timeouts.write),
            httpx.PoolTimeout: (TimeoutReason.POOL, timeouts.pool),
        }.get(type(exc), (TimeoutReason.READ, timeouts.read))
        return PylonTimeoutException(reason, seconds)
    # A failed connect means nothing was sent; anything later (reset, protocol error) may follow a full send.
    reached = not isinstance(exc, httpx.ConnectError)
    return PylonRequestException(
        f"An error occurred while making a request to Pylon API: {type(exc).__name__}: {exc}",
        may_have_reached_server=reached,
    )
