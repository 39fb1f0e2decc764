"""Shared test helpers: clients wired to scripted transports, with retries that do not sleep."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
from tenacity import stop_after_attempt, wait_none

from pylon_client.v1 import ASYNC_DEFAULT_RETRIES, DEFAULT_RETRIES, AsyncConfig, AsyncPylonClient, Config, PylonClient

ADDRESS = "http://pylon.test"
OPEN_TOKEN = "open-token"
IDENTITY = "sn1"
IDENTITY_TOKEN = "identity-token"
NETUID = 7


def config_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "address": ADDRESS,
        "open_access_token": OPEN_TOKEN,
        "identity_name": IDENTITY,
        "identity_token": IDENTITY_TOKEN,
    }
    values.update(overrides)
    return values


def sync_config(attempts: int = 3, **overrides: Any) -> Config:
    retry = DEFAULT_RETRIES.copy(wait=wait_none(), stop=stop_after_attempt(attempts))
    return Config(**config_values(**overrides), retry=retry)


def async_config(attempts: int = 3, **overrides: Any) -> AsyncConfig:
    retry = ASYNC_DEFAULT_RETRIES.copy(wait=wait_none(), stop=stop_after_attempt(attempts))
    return AsyncConfig(**config_values(**overrides), retry=retry)


Outcome = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """A transport that answers `/identities` with {sn1: 7} and every other request with the next scripted
    outcome (the last one repeats), recording what it received."""

    def __init__(self, outcomes: Iterable[Outcome] = ()) -> None:
        self.outcomes = list(outcomes) or [httpx.Response(200, json={})]
        self.requests: list[httpx.Request] = []
        self.identity_lookups = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/identities":
            self.identity_lookups += 1
            return httpx.Response(200, json={"identities": {IDENTITY: NETUID}})
        request.read()
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, httpx.Response):
            return outcome
        return outcome(request)

    def sync_client(self, **config: Any) -> PylonClient:
        return PylonClient(sync_config(**config), transport=httpx.MockTransport(self))

    def async_client(self, **config: Any) -> AsyncPylonClient:
        return AsyncPylonClient(async_config(**config), transport=httpx.MockTransport(self))
