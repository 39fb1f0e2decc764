"""Turning an endpoint call into an HTTP exchange: the request (URL, auth, body), the retry policy, and the
response (model or exception). Everything here is shared; `SyncSender` and `AsyncSender` only add the I/O."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import pydantic
from tenacity import AsyncRetrying, Retrying, retry_all, retry_if_exception

from . import __version__
from ._config import AsyncConfig, BaseConfig, Config
from ._endpoints import Endpoint, ResponseT, Scope, Tier
from ._exceptions import (
    PylonClosed,
    PylonInvalidResponse,
    PylonRequestException,
    exception_for_status,
    exception_for_transport_error,
)
from ._models import PylonBody
from ._types import IdentityName, NetUid

USER_AGENT = f"bittensor-pylon-client/{__version__} (python; httpx)"

logger = logging.getLogger("pylon_client")

RetryT = TypeVar("RetryT", Retrying, AsyncRetrying)


@dataclass(frozen=True)
class Call(Generic[ResponseT]):
    """One request to make, ready to send (and to resend: it holds no state)."""

    endpoint: Endpoint[ResponseT]
    url: str
    # Holds the bearer token: kept out of repr() so that a logged or printed call does not leak it.
    headers: dict[str, str] = field(repr=False)
    json: Any | None = None
    query: dict[str, str] | None = None


def build_call(
    config: BaseConfig[Any],
    endpoint: Endpoint[ResponseT],
    tier: Tier,
    *,
    netuid: NetUid | None = None,
    identity_name: IdentityName | None = None,
    body: PylonBody | None = None,
    path_params: Mapping[str, object] | None = None,
    query: Mapping[str, object] | None = None,
) -> Call[ResponseT]:
    templates = endpoint.templates()
    template = templates.get(tier) or templates.get(None)
    if template is None:
        raise ValueError(f"{endpoint.name} cannot be called through {tier.value}")
    values = {key: quote(str(value), safe="") for key, value in (path_params or {}).items()}
    if netuid is not None:
        values["netuid"] = str(int(netuid))
    if identity_name is not None:
        values["identity_name"] = quote(identity_name, safe="")
    return Call(
        endpoint=endpoint,
        url=template.format(**values),
        headers=_auth_header(config, endpoint, tier),
        json=body.model_dump(mode="json") if body is not None else None,
        query={key: str(value) for key, value in query.items()} if query else None,
    )


def _auth_header(config: BaseConfig[Any], endpoint: Endpoint[Any], tier: Tier) -> dict[str, str]:
    if endpoint.scope in (Scope.PUBLIC, Scope.CHAIN_ANONYMOUS):
        return {}
    if endpoint.scope is Scope.CHAIN or tier is Tier.OPEN_ACCESS:
        # Chain-level routes belong to the open-access tier, whichever namespace calls them.
        token = config.open_access_token
    else:
        token = config.identity_token
    return {"Authorization": f"Bearer {token}"} if token else {}


def _not_sent(exc: BaseException) -> bool:
    return isinstance(exc, PylonRequestException) and not exc.may_have_reached_server


def retry_policy(configured: RetryT, endpoint: Endpoint[Any]) -> RetryT:
    """The configured policy for reads; for writes, the same policy limited to failures that happened before
    anything was sent, because a write that reached the server must never be submitted twice."""
    if endpoint.idempotent:
        return configured.copy(reraise=True)
    return configured.copy(retry=retry_all(configured.retry, retry_if_exception(_not_sent)), reraise=True)


def default_headers(config: BaseConfig[Any]) -> dict[str, str]:
    return {"User-Agent": USER_AGENT, "Accept": "application/json", **config.timeout.get_header()}


class ETagCache:
    """The last successful answer per URL that came with an `ETag`, to revalidate with `If-None-Match`.

    The service tags cacheable answers (a block's neurons are the same bytes for every reader of that block), so
    polling an unchanged resource costs a 304 with no body instead of the whole payload again. Only reads are
    cached, and only a bounded number of URLs.
    """

    def __init__(self, max_entries: int = 16) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[str, httpx.Response]] = OrderedDict()
        # Shared by the threads of a sync client; never held across an await.
        self._lock = threading.Lock()

    def lookup(self, call: Call[Any]) -> tuple[str, httpx.Response] | None:
        if not call.endpoint.idempotent:
            return None
        with self._lock:
            entry = self._entries.get(call.url)
            if entry is not None:
                self._entries.move_to_end(call.url)
            return entry

    def store(self, call: Call[Any], response: httpx.Response) -> None:
        etag = response.headers.get("ETag")
        if not call.endpoint.idempotent or etag is None:
            return
        with self._lock:
            self._entries[call.url] = (etag, response)
            self._entries.move_to_end(call.url)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


def request_headers(call: Call[Any], cached: tuple[str, httpx.Response] | None) -> dict[str, str]:
    return {**call.headers, "If-None-Match": cached[0]} if cached is not None else call.headers


def accept_response(
    call: Call[Any], response: httpx.Response, cached: tuple[str, httpx.Response] | None, cache: ETagCache
) -> httpx.Response:
    """The response to parse: the cached one when the service says it has not changed (304), else `response`
    if it is a success (an exception otherwise)."""
    if response.status_code == 304 and cached is not None:
        return cached[1]
    if not response.is_success:
        raise exception_for_status(response)
    cache.store(call, response)
    return response


def parse_response(endpoint: Endpoint[ResponseT], response: httpx.Response) -> ResponseT:
    # A write may be answered with an empty body (201/204); it then means the same as `{}`.
    content = response.content or b"{}"
    try:
        return endpoint.response.model_validate_json(content)
    except pydantic.ValidationError as e:
        raise PylonInvalidResponse(
            f"{endpoint.name} got a body that is not a {endpoint.response.__name__}",
            status_code=response.status_code,
            detail=str(e),
            response=response,
        ) from e


class SyncSender:
    """Holds the `httpx.Client` of a `PylonClient` and sends calls with retries."""

    def __init__(self, config: Config, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport
        self._http: httpx.Client | None = None
        self._etags = ETagCache()

    @property
    def is_open(self) -> bool:
        return self._http is not None

    @property
    def http(self) -> httpx.Client:
        """The open connection pool (for the event stream, which reads a response as it arrives)."""
        if self._http is None:
            raise PylonClosed("The client is closed: use `with PylonClient(...)` or call open() first.")
        return self._http

    def open(self) -> None:
        self._http = httpx.Client(
            base_url=self.config.base_url,
            timeout=self.config.timeout.as_httpx(),
            headers=default_headers(self.config),
            transport=self._transport,
        )

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self._http = None

    def send(self, call: Call[ResponseT]) -> ResponseT:
        if self._http is None:
            raise PylonClosed("The client is closed: use `with PylonClient(...)` or call open() first.")
        http = self._http
        response: httpx.Response | None = None
        for attempt in retry_policy(self.config.retry, call.endpoint):
            with attempt:
                response = self._send_once(http, call)
        assert response is not None
        return parse_response(call.endpoint, response)

    def _send_once(self, http: httpx.Client, call: Call[Any]) -> httpx.Response:
        logger.debug("%s %s", call.endpoint.method, call.url)
        cached = self._etags.lookup(call)
        try:
            response = http.request(
                call.endpoint.method, call.url, headers=request_headers(call, cached), json=call.json, params=call.query
            )
        except httpx.RequestError as e:
            raise exception_for_transport_error(e, self.config.timeout.as_httpx()) from e
        return accept_response(call, response, cached, self._etags)


class AsyncSender:
    """Holds the `httpx.AsyncClient` of an `AsyncPylonClient` and sends calls with retries."""

    def __init__(self, config: AsyncConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._etags = ETagCache()

    @property
    def is_open(self) -> bool:
        return self._http is not None

    @property
    def http(self) -> httpx.AsyncClient:
        """The open connection pool (for the event stream, which reads a response as it arrives)."""
        if self._http is None:
            raise PylonClosed("The client is closed: use `async with AsyncPylonClient(...)` or call open() first.")
        return self._http

    def open(self) -> None:
        self._http = httpx.AsyncClient(
            base_url=self.config.base_url,
            timeout=self.config.timeout.as_httpx(),
            headers=default_headers(self.config),
            transport=self._transport,
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        self._http = None

    async def send(self, call: Call[ResponseT]) -> ResponseT:
        if self._http is None:
            raise PylonClosed("The client is closed: use `async with AsyncPylonClient(...)` or call open() first.")
        http = self._http
        response: httpx.Response | None = None
        async for attempt in retry_policy(self.config.retry, call.endpoint):
            with attempt:
                response = await self._send_once(http, call)
        assert response is not None
        return parse_response(call.endpoint, response)

    async def _send_once(self, http: httpx.AsyncClient, call: Call[Any]) -> httpx.Response:
        logger.debug("%s %s", call.endpoint.method, call.url)
        cached = self._etags.lookup(call)
        try:
            response = await http.request(
                call.endpoint.method, call.url, headers=request_headers(call, cached), json=call.json, params=call.query
            )
        except httpx.RequestError as e:
            raise exception_for_transport_error(e, self.config.timeout.as_httpx()) from e
        return accept_response(call, response, cached, self._etags)
