"""`PylonClient` and `AsyncPylonClient`: configuration, connection lifecycle, and the API namespaces."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import Generic, Self, TypeVar

import httpx

from ._async_api import AsyncIdentityApi, AsyncOpenAccessApi, AsyncUnstableIdentityApi, AsyncUnstableOpenAccessApi
from ._config import AsyncConfig, Config
from ._exceptions import MtlsVerificationError, PylonMisconfigured
from ._http import AsyncSender, SyncSender
from ._models import Neuron
from ._neuron_client import AsyncNeuronClients, SyncNeuronClients
from ._sync_api import IdentityApi, OpenAccessApi, UnstableIdentityApi, UnstableOpenAccessApi

logger = logging.getLogger("pylon_client")

OpenAccessT = TypeVar(
    "OpenAccessT", OpenAccessApi, AsyncOpenAccessApi, UnstableOpenAccessApi, AsyncUnstableOpenAccessApi
)
IdentityT = TypeVar("IdentityT", IdentityApi, AsyncIdentityApi, UnstableIdentityApi, AsyncUnstableIdentityApi)


def _neuron_clients_args(config: Config | AsyncConfig) -> tuple[float, str | None, str | None, str | None]:
    return config.neuron_keepalive_expiry, config.mtls_cert_path, config.mtls_key_path, config.neurons_file


class ClientNamespace(Generic[OpenAccessT, IdentityT]):
    """`client.v1` and `client.unstable`: the `open_access` and `identity` APIs, each available only when the
    config has its credentials (otherwise `PylonMisconfigured` names what is missing)."""

    def __init__(self, open_access: OpenAccessT | None, identity: IdentityT | None) -> None:
        self._open_access: OpenAccessT | None = open_access
        self._identity: IdentityT | None = identity

    @property
    def open_access(self) -> OpenAccessT:
        if self._open_access is None:
            raise PylonMisconfigured(
                'Can not use open access api - no open_access_token in the config (use "" for an open service).'
            )
        return self._open_access

    @property
    def identity(self) -> IdentityT:
        if self._identity is None:
            raise PylonMisconfigured("Can not use identity api - no identity_name and identity_token in the config.")
        return self._identity


class AbstractPylonClient:
    """Base of the synchronous client (kept for type hints written against earlier versions)."""


class PylonClient(AbstractPylonClient):
    """Synchronous client of the Pylon service.

        with PylonClient(Config(address="http://127.0.0.1:8000", open_access_token="...")) as client:
            neurons = client.open_access.get_latest_neurons(NetUid(1))

    `transport` replaces the network (an `httpx.MockTransport`, or `pylon_client.testing.MockPylon`).
    A client is thread-safe once open.
    """

    def __init__(self, config: Config, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self._sender = SyncSender(config, transport)
        self.v1: ClientNamespace[OpenAccessApi, IdentityApi] = ClientNamespace(
            OpenAccessApi(self._sender) if config.open_access_token is not None else None,
            IdentityApi(self._sender) if config.identity_name else None,
        )
        self.unstable: ClientNamespace[UnstableOpenAccessApi, UnstableIdentityApi] = ClientNamespace(
            UnstableOpenAccessApi(self._sender) if config.open_access_token is not None else None,
            UnstableIdentityApi(self._sender) if config.identity_name else None,
        )
        self._neuron_clients = SyncNeuronClients(*_neuron_clients_args(config))

    @property
    def is_open(self) -> bool:
        return self._sender.is_open

    @property
    def open_access(self) -> OpenAccessApi:
        """Same as `client.v1.open_access`."""
        return self.v1.open_access

    @property
    def identity(self) -> IdentityApi:
        """Same as `client.v1.identity`."""
        return self.v1.identity

    def open(self) -> None:
        """Opens the connection pool. Raises `ValueError` when already open."""
        if self.is_open:
            raise ValueError("The client is already open.")
        logger.debug("Opening Pylon client for %s", self.config.base_url)
        self._sender.open()

    def close(self) -> None:
        """Closes the connection pool. Raises `ValueError` when already closed."""
        if not self.is_open:
            raise ValueError("The client is already closed.")
        logger.debug("Closing Pylon client for %s", self.config.base_url)
        self._neuron_clients.clear()
        self._sender.close()

    @contextmanager
    def get_neuron_client(self, neuron: Neuron, timeout: float = 30.0) -> Iterator[httpx.Client]:
        """An `httpx.Client` for the miner `neuron` (its axon's ip and port), kept per (ip, port) for this client's
        lifetime (`timeout` applies when it is first made).

        With `mtls_cert_path`/`mtls_key_path` in the config (and no `neurons_file`), it speaks mTLS: it reads the
        certificate the miner published (`v1.identity.get_certificate`), checks that the miner's TLS certificate
        carries that public key, trusts only that certificate, and presents the config's own. Otherwise plain HTTP.

        Raises `MtlsVerificationError` when the miner presents no certificate or another key, or TLS fails (the
        cached client is then dropped, so the next call probes again); `OSError`/`TimeoutError` when the miner
        cannot be reached for the probe; what `get_certificate` raises (`PylonNotFound`: nothing published).
        """
        key = (neuron.axon_info.ip, int(neuron.axon_info.port))
        client = self._neuron_clients.get(key)
        if client is None:
            public_key = None
            if self._neuron_clients.use_mtls:
                public_key = self.v1.identity.get_certificate(neuron.hotkey).public_key
            client = self._neuron_clients.build(key, timeout, public_key)
        try:
            yield client
        except MtlsVerificationError:
            self._neuron_clients.invalidate(key, client)
            raise

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AbstractAsyncPylonClient:
    """Base of the asynchronous client (kept for type hints written against earlier versions)."""


class AsyncPylonClient(AbstractAsyncPylonClient):
    """Asynchronous client of the Pylon service.

        async with AsyncPylonClient(AsyncConfig(address="http://127.0.0.1:8000", open_access_token="...")) as c:
            neurons = await c.open_access.get_latest_neurons(NetUid(1))

    `transport` replaces the network (an `httpx.MockTransport`, or `pylon_client.testing.MockPylon`).
    """

    def __init__(self, config: AsyncConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._sender = AsyncSender(config, transport)
        self.v1: ClientNamespace[AsyncOpenAccessApi, AsyncIdentityApi] = ClientNamespace(
            AsyncOpenAccessApi(self._sender) if config.open_access_token is not None else None,
            AsyncIdentityApi(self._sender) if config.identity_name else None,
        )
        self.unstable: ClientNamespace[AsyncUnstableOpenAccessApi, AsyncUnstableIdentityApi] = ClientNamespace(
            AsyncUnstableOpenAccessApi(self._sender) if config.open_access_token is not None else None,
            AsyncUnstableIdentityApi(self._sender) if config.identity_name else None,
        )
        self._neuron_clients = AsyncNeuronClients(*_neuron_clients_args(config))

    @property
    def is_open(self) -> bool:
        return self._sender.is_open

    @property
    def open_access(self) -> AsyncOpenAccessApi:
        """Same as `client.v1.open_access`."""
        return self.v1.open_access

    @property
    def identity(self) -> AsyncIdentityApi:
        """Same as `client.v1.identity`."""
        return self.v1.identity

    async def open(self) -> None:
        """Opens the connection pool. Raises `ValueError` when already open."""
        if self.is_open:
            raise ValueError("The client is already open.")
        logger.debug("Opening Pylon client for %s", self.config.base_url)
        self._sender.open()

    async def close(self) -> None:
        """Closes the connection pool. Raises `ValueError` when already closed."""
        if not self.is_open:
            raise ValueError("The client is already closed.")
        logger.debug("Closing Pylon client for %s", self.config.base_url)
        await self._neuron_clients.clear()
        await self._sender.close()

    @asynccontextmanager
    async def get_neuron_client(
        self,
        neuron: Neuron,
        # The published client's name: the probe's and the yielded client's timeout, not a deadline for the block.
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> AsyncIterator[httpx.AsyncClient]:
        """An `httpx.AsyncClient` for the miner `neuron`: `PylonClient.get_neuron_client`, async."""
        key = (neuron.axon_info.ip, int(neuron.axon_info.port))
        client = self._neuron_clients.get(key)
        if client is None:
            public_key = None
            if self._neuron_clients.use_mtls:
                public_key = (await self.v1.identity.get_certificate(neuron.hotkey)).public_key
            client = await self._neuron_clients.build(key, timeout, public_key)
        try:
            yield client
        except MtlsVerificationError:
            await self._neuron_clients.invalidate(key, client)
            raise

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
