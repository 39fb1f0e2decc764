"""`get_neuron_client`: an httpx client for talking to a miner, over mTLS pinned to the certificate the miner
published on chain (as Pylon serves it), or plain HTTP in development (`neurons_file`) or without a client
certificate.

Pinning: before the first request to a miner, a bare TLS connection reads the certificate the miner presents and
compares its raw Ed25519 public key with the registry's (`get_certificate`, bare hex). Only a match is trusted, and
the client then verifies exactly that certificate on every connection. One client per (ip, port), kept for the
Pylon client's lifetime (least recently used evicted past 257: a subnet holds at most 256 neurons).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections import OrderedDict
from ipaddress import IPv4Address, IPv6Address
from typing import Generic, TypeVar

import httpx
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import load_der_x509_certificate

from ._exceptions import MtlsVerificationError

CACHE_SIZE = 257

ClientT = TypeVar("ClientT", httpx.Client, httpx.AsyncClient)
Key = tuple[IPv4Address | IPv6Address, int]


def url_host(ip: IPv4Address | IPv6Address) -> str:
    return f"[{ip}]" if isinstance(ip, IPv6Address) else str(ip)


def _probe_context() -> ssl.SSLContext:
    # Reads the certificate before deciding whether to trust it: nothing is verified on this connection, and no
    # request is sent over it.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def pin(cert_der: bytes | None, expected_public_key: str) -> str:
    """The presented certificate as PEM, if its raw public key is `expected_public_key` (hex, `0x` allowed)."""
    if not cert_der:
        raise MtlsVerificationError("the miner presented no TLS certificate")
    try:
        public = load_der_x509_certificate(cert_der).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    except ValueError as e:
        raise MtlsVerificationError(f"the miner's TLS certificate has no raw public key: {e}") from e
    if public.hex() != expected_public_key.lower().removeprefix("0x"):
        raise MtlsVerificationError("the miner's TLS public key is not the one it published on chain")
    return ssl.DER_cert_to_PEM_cert(cert_der)


def pinned_context(cert_pem: str, client_cert: tuple[str, str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # a miner is known by its key, not by a name
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cadata=cert_pem)
    context.load_cert_chain(*client_cert)
    return context


def _as_mtls_error(error: httpx.ConnectError, url: object) -> None:
    cause: BaseException | None = error.__cause__
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            raise MtlsVerificationError(f"mTLS with {url} failed: {cause}") from error
        cause = cause.__cause__


class _MtlsTransport(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except httpx.ConnectError as e:
            _as_mtls_error(e, request.url)
            raise


class _AsyncMtlsTransport(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectError as e:
            _as_mtls_error(e, request.url)
            raise


class NeuronClients(Generic[ClientT]):
    """The cache and the settings shared by the sync and async managers."""

    def __init__(
        self,
        keepalive_expiry: float,
        cert_path: str | None,
        key_path: str | None,
        neurons_file: str | None,
    ) -> None:
        self.limits = httpx.Limits(keepalive_expiry=keepalive_expiry)
        self.client_cert = (cert_path, key_path) if cert_path and key_path else None
        self.use_mtls = self.client_cert is not None and not neurons_file
        self.clients: OrderedDict[Key, ClientT] = OrderedDict()

    def get(self, key: Key) -> ClientT | None:
        client = self.clients.get(key)
        if client is not None:
            self.clients.move_to_end(key)
        return client

    def insert(self, key: Key, client: ClientT) -> ClientT | None:
        """Caches `client`; returns the evicted one (for the caller to close)."""
        self.clients[key] = client
        return self.clients.popitem(last=False)[1] if len(self.clients) > CACHE_SIZE else None

    def base_url(self, key: Key, pinned: bool) -> str:
        return f"{'https' if pinned else 'http'}://{url_host(key[0])}:{key[1]}"

    def context(self, cert_pem: str) -> ssl.SSLContext:
        assert self.client_cert is not None
        return pinned_context(cert_pem, self.client_cert)


class SyncNeuronClients(NeuronClients[httpx.Client]):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock = threading.Lock()

    def build(self, key: Key, timeout: float, public_key: str | None) -> httpx.Client:
        """A client for the miner at `key`; pinned to `public_key` when given (probing its certificate first)."""
        cert_pem = None
        if public_key is not None:
            raw = socket.create_connection((str(key[0]), key[1]), timeout=timeout)
            with raw, _probe_context().wrap_socket(raw) as tls:
                cert_pem = pin(tls.getpeercert(binary_form=True), public_key)
        with self._lock:
            existing = self.get(key)
            if existing is not None:
                return existing
            if cert_pem is None:
                client = httpx.Client(base_url=self.base_url(key, False), timeout=timeout, limits=self.limits)
            else:
                client = httpx.Client(
                    base_url=self.base_url(key, True),
                    timeout=timeout,
                    limits=self.limits,
                    transport=_MtlsTransport(verify=self.context(cert_pem), limits=self.limits),
                )
            evicted = self.insert(key, client)
        if evicted is not None:
            evicted.close()
        return client

    def invalidate(self, key: Key, client: httpx.Client) -> None:
        with self._lock:
            if self.clients.get(key) is not client:
                return
            del self.clients[key]
        client.close()

    def clear(self) -> None:
        with self._lock:
            clients = list(self.clients.values())
            self.clients.clear()
        for client in clients:
            client.close()


class AsyncNeuronClients(NeuronClients[httpx.AsyncClient]):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock = asyncio.Lock()

    async def build(self, key: Key, timeout: float, public_key: str | None) -> httpx.AsyncClient:  # noqa: ASYNC109
        cert_pem = None
        if public_key is not None:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(str(key[0]), key[1], ssl=_probe_context()), timeout=timeout
            )
            try:
                cert_pem = pin(writer.get_extra_info("ssl_object").getpeercert(binary_form=True), public_key)
            finally:
                writer.close()
        async with self._lock:
            existing = self.get(key)
            if existing is not None:
                return existing
            if cert_pem is None:
                client = httpx.AsyncClient(base_url=self.base_url(key, False), timeout=timeout, limits=self.limits)
            else:
                client = httpx.AsyncClient(
                    base_url=self.base_url(key, True),
                    timeout=timeout,
                    limits=self.limits,
                    transport=_AsyncMtlsTransport(verify=self.context(cert_pem), limits=self.limits),
                )
            evicted = self.insert(key, client)
        if evicted is not None:
            await evicted.aclose()
        return client

    async def invalidate(self, key: Key, client: httpx.AsyncClient) -> None:
        if self.clients.get(key) is not client:
            return
        del self.clients[key]
        await client.aclose()

    async def clear(self) -> None:
        async with self._lock:
            clients = list(self.clients.values())
            self.clients.clear()
        await asyncio.gather(*(client.aclose() for client in clients))
