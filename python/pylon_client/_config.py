"""Client configuration: where the service is, which tokens to use, timeouts and the retry policy."""

from __future__ import annotations

import os
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tenacity import (
    AsyncRetrying,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from ._exceptions import PylonRequestException, PylonServiceUnavailable
from ._types import IdentityName, PylonAuthToken

TIMEOUT_HEADER = "X-Pylon-Timeout"
ENV_PREFIX = "PYLON_CLIENT_"


class PylonTimeout(BaseModel):
    """Client-side timeouts in seconds. `read` is also sent as `X-Pylon-Timeout`, so the service gives up
    (504) when the client would stop waiting anyway, instead of working for nobody."""

    connect: float = Field(default=5.0, gt=0)
    read: float = Field(default=60.0, gt=0)
    write: float = Field(default=5.0, gt=0)
    pool: float = Field(default=5.0, gt=0)

    def get_header(self) -> dict[str, str]:
        return {TIMEOUT_HEADER: str(self.read)}

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


# What the default policy retries: no response at all (connection trouble, timeouts, 504) and 503 (the service
# cannot reach the chain right now). Writes are further limited to failures before anything was sent.
_RETRYABLE = (PylonRequestException, PylonServiceUnavailable)

# 0.1 s, 0.2 s, 0.4 s... plus up to 0.2 s of jitter so that many clients do not retry in lockstep.
_BACKOFF = wait_exponential(multiplier=0.1, max=5) + wait_random(0, 0.2)

DEFAULT_RETRIES = Retrying(
    wait=_BACKOFF,
    stop=stop_after_attempt(3),
    retry=retry_if_exception_type(_RETRYABLE),
    reraise=True,
)

ASYNC_DEFAULT_RETRIES = AsyncRetrying(
    wait=_BACKOFF,
    stop=stop_after_attempt(3),
    retry=retry_if_exception_type(_RETRYABLE),
    reraise=True,
)

RetryT = TypeVar("RetryT", Retrying, AsyncRetrying)

_SCALAR_FIELDS = (
    "address",
    "identity_name",
    "identity_token",
    "open_access_token",
    "mtls_cert_path",
    "mtls_key_path",
    "neurons_file",
    "neuron_keepalive_expiry",
)
_TIMEOUT_FIELDS = ("connect", "read", "write", "pool")


class BaseConfig(BaseModel, Generic[RetryT]):
    """Shared configuration of the sync and async clients.

    Any field not passed falls back to a `PYLON_CLIENT_<FIELD>` environment variable
    (`PYLON_CLIENT_TIMEOUT__READ` for a timeout); passed values win.

    Args:
        address: the service's base URL, e.g. `http://127.0.0.1:8000` (`http://` is assumed when missing).
        identity_name: the identity to act as in `client.identity` (with `identity_token`).
        identity_token: that identity's token.
        open_access_token: the token for `client.open_access`; `""` for a service with open reads.
        retry: the tenacity policy for reads; writes use it only for failures before anything was sent.
        timeout: client-side timeouts; `timeout.read` is sent as `X-Pylon-Timeout`.
        mtls_cert_path, mtls_key_path: the validator's TLS certificate and key (PEM) that `get_neuron_client`
            presents to miners; with them it speaks mTLS, pinned to each miner's published certificate.
        neurons_file: a local YAML/JSON file of neurons that the latest/recent neurons reads return instead of
            asking the service (development against local miners; `get_neuron_client` then uses plain HTTP).
        neuron_keepalive_expiry: seconds an idle connection to a miner stays in `get_neuron_client`'s pool.
    """

    # Unknown fields are errors, not silently ignored: a misspelt or unsupported option must not look accepted.
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    address: str
    identity_name: IdentityName | None = None
    identity_token: PylonAuthToken | None = Field(default=None, repr=False)
    open_access_token: PylonAuthToken | None = Field(default=None, repr=False)
    timeout: PylonTimeout = Field(default_factory=PylonTimeout)
    retry: RetryT
    mtls_cert_path: str | None = None
    mtls_key_path: str | None = None
    neurons_file: str | None = None
    neuron_keepalive_expiry: float = Field(default=5.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _fill_from_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in _SCALAR_FIELDS:
            env = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
            if name not in data and env is not None:
                data[name] = env
        if "timeout" not in data:
            timeout = {
                part: os.environ[f"{ENV_PREFIX}TIMEOUT__{part.upper()}"]
                for part in _TIMEOUT_FIELDS
                if f"{ENV_PREFIX}TIMEOUT__{part.upper()}" in os.environ
            }
            if timeout:
                data["timeout"] = timeout
        address = data.get("address")
        if isinstance(address, str) and "://" not in address:
            data["address"] = f"http://{address}"
        return data

    @model_validator(mode="after")
    def _check(self) -> BaseConfig[RetryT]:
        if bool(self.identity_name) != bool(self.identity_token):
            raise ValueError("identity_name and identity_token must be given together")
        if bool(self.mtls_cert_path) != bool(self.mtls_key_path):
            raise ValueError("mtls_cert_path and mtls_key_path must be given together")
        for name in ("mtls_cert_path", "mtls_key_path", "neurons_file"):
            path = getattr(self, name)
            if path and not os.path.exists(path):
                raise ValueError(f"{name} does not exist: {path!r}")
        return self

    @property
    def base_url(self) -> str:
        return self.address.rstrip("/")


class Config(BaseConfig[Retrying]):
    """Configuration of `PylonClient` (synchronous). See `BaseConfig` for the fields."""

    retry: Retrying = Field(default_factory=DEFAULT_RETRIES.copy)


class AsyncConfig(BaseConfig[AsyncRetrying]):
    """Configuration of `AsyncPylonClient`. See `BaseConfig` for the fields."""

    retry: AsyncRetrying = Field(default_factory=ASYNC_DEFAULT_RETRIES.copy)
