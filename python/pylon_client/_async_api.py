"""The `open_access` and `identity` namespaces of the clients (`v1` and `unstable`), written once, async.

`_sync_api.py` is generated from this file by `scripts/unasync_api.py` (`async`/`await` removed, `AsyncX` names
mapped to their sync twins); edit this file and regenerate, never the other.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import Any, Self

import httpx
from httpx_sse import EventSource, SSEError

from . import _endpoints as ep
from . import _http
from ._concurrency import AsyncLock, async_sleep
from ._config import TIMEOUT_HEADER
from ._endpoints import Endpoint, ResponseT, Scope, Tier
from ._events import DEFAULT_MAX_BACKOFF, DEFAULT_READ_TIMEOUT, RETRYABLE_STATUSES, StreamState
from ._exceptions import (
    PylonInvalidResponse,
    PylonMisconfigured,
    PylonNetuidMismatch,
    exception_for_status,
    exception_for_transport_error,
)
from ._http import AsyncSender, build_call
from ._models import CertificateAlgorithm as _Algorithm
from ._models import (
    Event,
    EvmLogsBody,
    GenerateCertificateKeypairBody,
    GenerateCertificateKeypairResponse,
    GetAllRevealedCommitmentsResponse,
    GetCertificateResponse,
    GetCertificatesResponse,
    GetCommitmentResponse,
    GetCommitmentsResponse,
    GetDrandLastStoredRoundResponse,
    GetEvmLogsResponse,
    GetExtrinsicResponse,
    GetHyperparametersResponse,
    GetIdentitiesResponse,
    GetLatestBlockInfoResponse,
    GetLatestEvmAssociationsResponse,
    GetNeuronsResponse,
    GetOnChainWeightsResponse,
    GetPriceResponse,
    GetPricesResponse,
    GetRevealedCommitmentsResponse,
    GetValidatorsResponse,
    GetWeightsJobResponse,
    GetWeightsStatusResponse,
    PylonBody,
    SetCommitmentBody,
    SetCommitmentResponse,
    SetRevealedCommitmentBody,
    SetRevealedCommitmentResponse,
    SetWeightsBody,
    SetWeightsResponse,
    UnstableGetCommitmentResponse,
    UnstableGetCommitmentsResponse,
)
from ._neurons_file import load_neurons_file
from ._types import (
    MAIN_MECHANISM,
    BlockNumber,
    CommitmentDataBytes,
    CommitmentDataHex,
    EvmBlockNumber,
    EvmContractAddress,
    ExtrinsicIndex,
    Hotkey,
    IdentityName,
    MechanismId,
    NetUid,
    RevealedCommitmentData,
    Weight,
    WeightsJobId,
)
from ._weights_wait import WeightsWait


class AsyncStreamSource:
    """What an API namespace gives its event streams: the request for a subnet's stream, and (for an identity) a
    fresh netuid lookup when the service answers 308."""

    _sender: AsyncSender

    async def _stream_call(self, netuid: NetUid | None, moved: bool) -> _http.Call[Any]:
        raise NotImplementedError


class AsyncEventStream:
    """The live events of a subnet (`…/subnet/{netuid}/events`), typed: `BlockEvent`, `EpochEvent`, `NeuronsEvent`,
    `WeightsEvent` (identity streams), `GapEvent`, `DroppedEvent`.

        async with client.open_access.events(NetUid(1)) as events:
            async for event in events:
                ...

    The stream never ends by itself: when the connection drops or the service closes it, it reconnects (waiting
    the service's `retry` interval, doubled after each attempt that brought nothing, up to `max_backoff`
    seconds) and sends the id of the last event it yielded as `Last-Event-ID`, so the service replays what was
    missed or sends a `GapEvent`. An error status other than 308/408/425/429/5xx (a wrong token: 401/403; an
    unknown subnet: 404) is raised; so is the last failure after `max_retries` attempts in a row that brought no
    event (None: keep trying). Leave it with `break` inside `async with`, or call `aclose()`.
    """

    def __init__(
        self,
        source: AsyncStreamSource,
        netuid: NetUid | None,
        *,
        last_event_id: str | None = None,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_retries: int | None = None,
    ) -> None:
        self._source = source
        self._netuid = netuid
        self._state = StreamState(last_event_id, max_backoff, max_retries)
        self._read_timeout = read_timeout
        self._iterator: AsyncGenerator[Event, None] | None = None

    @property
    def last_event_id(self) -> str | None:
        """The id of the newest event seen: pass it as `last_event_id` to a later `events()` to resume there."""
        return self._state.last_event_id

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Ends the stream and its connection."""
        if self._iterator is not None:
            await self._iterator.aclose()

    async def _run(self) -> AsyncGenerator[Event, None]:
        moved = False
        while True:
            call = await self._source._stream_call(self._netuid, moved)
            just_moved, moved = moved, False
            http = self._source._sender.http
            timeout = httpx.Timeout(self._read_timeout, connect=self._source._sender.config.timeout.connect)
            request = http.build_request(
                "GET", call.url, headers={**call.headers, **self._state.connecting()}, timeout=timeout
            )
            # The request timeout the client sends with every read would end a stream that is meant to stay open.
            request.headers.pop(TIMEOUT_HEADER, None)
            reason: object = None
            try:
                response = await http.send(request, stream=True)
            except httpx.TransportError as e:
                await async_sleep(self._state.next_pause(exception_for_transport_error(e, timeout)))
                continue
            try:
                if response.status_code != 200:
                    await response.aread()
                    error = exception_for_status(response)
                    if isinstance(error, PylonNetuidMismatch) and not just_moved:
                        # The identity serves another subnet now: look it up and reconnect at once (a second 308
                        # in a row is raised).
                        moved = True
                        continue
                    if response.status_code not in RETRYABLE_STATUSES:
                        raise error
                    reason = error
                else:
                    async for sse in EventSource(response).aiter_sse():
                        event = self._state.accept(sse)
                        if event is not None:
                            yield event
            except SSEError as e:  # (an httpx.TransportError: caught first)
                raise PylonInvalidResponse("the event stream is not text/event-stream", detail=str(e)) from e
            except httpx.TransportError as e:
                reason = exception_for_transport_error(e, timeout)
            finally:
                await response.aclose()
            await async_sleep(self._state.next_pause(reason))


class AsyncOpenAccessBase(AsyncStreamSource):
    """What the open-access APIs (`v1` and `unstable`) share: sending a call with the open-access token, and the
    local neurons file (`Config.neurons_file`) that answers the latest/recent neurons reads in development."""

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender

    async def _call(
        self,
        endpoint: Endpoint[ResponseT],
        netuid: NetUid | None = None,
        body: PylonBody | None = None,
        query: dict[str, object] | None = None,
        **params: object,
    ) -> ResponseT:
        config = self._sender.config
        call = build_call(config, endpoint, Tier.OPEN_ACCESS, netuid=netuid, body=body, path_params=params, query=query)
        return await self._sender.send(call)

    def _file_neurons(self) -> GetNeuronsResponse | None:
        path = self._sender.config.neurons_file
        return load_neurons_file(path) if path else None

    async def _stream_call(self, netuid: NetUid | None, moved: bool) -> _http.Call[Any]:
        return build_call(self._sender.config, ep.EVENTS, Tier.OPEN_ACCESS, netuid=netuid)


class AsyncOpenAccessApi(AsyncOpenAccessBase):
    """Reads for any subnet, authenticated with the open-access token.

    Every method may raise `PylonRequestException` (no response after the retries), a `PylonResponseException`
    subclass for the service's error status (e.g. `PylonNotFound` for a block that does not exist yet), or
    `PylonClosed` when the client is not open.
    """

    async def get_neurons(self, netuid: NetUid, block_number: BlockNumber) -> GetNeuronsResponse:
        """The subnet's neurons at a past block, keyed by hotkey."""
        return await self._call(ep.GET_NEURONS, netuid, block_number=block_number)

    async def get_latest_neurons(self, netuid: NetUid) -> GetNeuronsResponse:
        """The subnet's neurons at the latest block, keyed by hotkey (from `Config.neurons_file` when set)."""
        if (neurons := self._file_neurons()) is not None:
            return neurons
        return await self._call(ep.GET_LATEST_NEURONS, netuid)

    async def get_recent_neurons(self, netuid: NetUid) -> GetNeuronsResponse:
        """The subnet's neurons from the service's cache: at most a few blocks old, answered without waiting
        for the chain. The subnet must be one the service keeps recent data for. From `Config.neurons_file` when
        set."""
        if (neurons := self._file_neurons()) is not None:
            return neurons
        return await self._call(ep.GET_RECENT_NEURONS, netuid)

    async def get_validators(self, netuid: NetUid, block_number: BlockNumber) -> GetValidatorsResponse:
        """Neurons with a validator permit at a past block, by total stake, highest first."""
        return await self._call(ep.GET_VALIDATORS, netuid, block_number=block_number)

    async def get_latest_validators(self, netuid: NetUid) -> GetValidatorsResponse:
        """Neurons with a validator permit at the latest block, by total stake, highest first."""
        return await self._call(ep.GET_LATEST_VALIDATORS, netuid)

    async def get_latest_block_info(self) -> GetLatestBlockInfoResponse:
        """The latest block's number, hash and timestamp."""
        return await self._call(ep.GET_LATEST_BLOCK_INFO)

    async def get_extrinsic(self, block_number: BlockNumber, extrinsic_index: ExtrinsicIndex) -> GetExtrinsicResponse:
        """One decoded extrinsic of a block."""
        return await self._call(ep.GET_EXTRINSIC, block_number=block_number, extrinsic_index=extrinsic_index)

    async def get_certificates(self, netuid: NetUid) -> GetCertificatesResponse:
        """Every neuron certificate published on the subnet, by hotkey."""
        return await self._call(ep.GET_CERTIFICATES, netuid)

    async def get_certificate(self, netuid: NetUid, hotkey: Hotkey) -> GetCertificateResponse:
        """The certificate a hotkey published on the subnet. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.GET_CERTIFICATE, netuid, hotkey=hotkey)

    async def get_commitments(self, netuid: NetUid) -> GetCommitmentsResponse:
        """Every hex-data commitment on the subnet at the latest block, by hotkey."""
        return await self._call(ep.GET_COMMITMENTS, netuid)

    async def get_commitment(self, netuid: NetUid, hotkey: Hotkey) -> GetCommitmentResponse:
        """A hotkey's hex-data commitment. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.GET_COMMITMENT, netuid, hotkey=hotkey)

    async def get_all_revealed_commitments(self, netuid: NetUid) -> GetAllRevealedCommitmentsResponse:
        """Every revealed (formerly timelocked) commitment on the subnet, by hotkey."""
        return await self._call(ep.GET_ALL_REVEALED_COMMITMENTS, netuid)

    async def get_revealed_commitments(self, netuid: NetUid, hotkey: Hotkey) -> GetRevealedCommitmentsResponse:
        """A hotkey's revealed commitments. Raises `PylonNotFound` when there are none."""
        return await self._call(ep.GET_REVEALED_COMMITMENTS, netuid, hotkey=hotkey)

    def events(
        self,
        netuid: NetUid,
        *,
        last_event_id: str | None = None,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_retries: int | None = None,
    ) -> AsyncEventStream:
        """The subnet's live events (new blocks, epoch runs, neuron changes), reconnecting by itself; see
        `AsyncEventStream`. `last_event_id` resumes after an event of an earlier stream."""
        return AsyncEventStream(
            self,
            netuid,
            last_event_id=last_event_id,
            max_backoff=max_backoff,
            read_timeout=read_timeout,
            max_retries=max_retries,
        )

    async def get_latest_hyperparameters(self, netuid: NetUid) -> GetHyperparametersResponse:
        """The subnet's settings at the latest block (tempo, commit-reveal, weights limits, next epoch start…).
        Raises `PylonNotFound` when the subnet does not exist."""
        return await self._call(ep.GET_LATEST_HYPERPARAMETERS, netuid)

    async def get_hyperparameters(self, netuid: NetUid, block_number: BlockNumber) -> GetHyperparametersResponse:
        """The subnet's settings at a block. Raises `PylonNotFound` when the block or the subnet does not exist."""
        return await self._call(ep.GET_HYPERPARAMETERS, netuid, block_number=block_number)

    async def get_latest_onchain_weights(
        self, netuid: NetUid, hotkey: Hotkey, mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> GetOnChainWeightsResponse:
        """A validator's weights as the chain holds them at the latest block: its `Weights` row on mechanism
        `mechanism_id` and its CRv4 commits not yet revealed. Raises `PylonNotFound` when the hotkey is not
        registered or the subnet has no such mechanism."""
        if mechanism_id == 0:
            return await self._call(ep.GET_LATEST_ONCHAIN_WEIGHTS, netuid, hotkey=hotkey)
        return await self._call(
            ep.GET_LATEST_MECHANISM_ONCHAIN_WEIGHTS, netuid, hotkey=hotkey, mechanism_id=mechanism_id
        )

    async def get_onchain_weights(
        self, netuid: NetUid, block_number: BlockNumber, hotkey: Hotkey, mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> GetOnChainWeightsResponse:
        """A validator's weights as the chain held them at a block (see `get_latest_onchain_weights`)."""
        if mechanism_id == 0:
            return await self._call(ep.GET_ONCHAIN_WEIGHTS, netuid, block_number=block_number, hotkey=hotkey)
        return await self._call(
            ep.GET_MECHANISM_ONCHAIN_WEIGHTS,
            netuid,
            block_number=block_number,
            hotkey=hotkey,
            mechanism_id=mechanism_id,
        )


class AsyncIdentityBase(AsyncStreamSource):
    """What the identity APIs (`v1` and `unstable`) share: the identity's netuid, looked up on first use and again
    when the service answers 308, and sending a call with the identity's token."""

    _identities: Endpoint[GetIdentitiesResponse] = ep.GET_IDENTITIES

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender
        identity_name = sender.config.identity_name
        if identity_name is None:
            raise PylonMisconfigured("The identity API needs identity_name and identity_token in the config.")
        self.identity_name: IdentityName = identity_name
        self._netuid: NetUid | None = None
        self._lock = AsyncLock()

    @property
    def netuid(self) -> NetUid:
        """The identity's netuid, once resolved by the first call."""
        if self._netuid is None:
            raise AttributeError("The identity's netuid is resolved by its first request.")
        return self._netuid

    async def _resolve_netuid(self, stale: NetUid | None) -> NetUid:
        async with self._lock:
            if self._netuid is None or self._netuid == stale:
                config = self._sender.config
                identities = (await self._sender.send(build_call(config, self._identities, Tier.IDENTITY))).identities
                if self.identity_name not in identities:
                    raise PylonMisconfigured(f"Identity {self.identity_name!r} is not configured on the service.")
                self._netuid = identities[self.identity_name]
            return self._netuid

    async def _call(self, endpoint: Endpoint[ResponseT], body: PylonBody | None = None, **params: object) -> ResponseT:
        if endpoint.scope in (Scope.CHAIN, Scope.CHAIN_ANONYMOUS, Scope.PUBLIC):
            # Chain-level data does not depend on the subnet: no netuid lookup needed.
            call = build_call(self._sender.config, endpoint, Tier.IDENTITY, body=body, path_params=params)
            return await self._sender.send(call)
        netuid = self._netuid if self._netuid is not None else await self._resolve_netuid(None)
        try:
            return await self._send(endpoint, netuid, body, params)
        except PylonNetuidMismatch:
            # The service refused before acting, so repeating (even a write) is safe.
            return await self._send(endpoint, await self._resolve_netuid(netuid), body, params)

    async def _send(
        self, endpoint: Endpoint[ResponseT], netuid: NetUid, body: PylonBody | None, params: dict[str, Any]
    ) -> ResponseT:
        call = build_call(
            self._sender.config,
            endpoint,
            Tier.IDENTITY,
            netuid=netuid,
            identity_name=self.identity_name,
            body=body,
            path_params=params,
        )
        return await self._sender.send(call)

    def _file_neurons(self) -> GetNeuronsResponse | None:
        path = self._sender.config.neurons_file
        return load_neurons_file(path) if path else None

    async def _stream_call(self, netuid: NetUid | None, moved: bool) -> _http.Call[Any]:
        # After a 308 the identity serves another subnet now: look it up again.
        current = await self._resolve_netuid(self._netuid if moved else None)
        return build_call(
            self._sender.config, ep.EVENTS, Tier.IDENTITY, netuid=current, identity_name=self.identity_name
        )


class AsyncIdentityApi(AsyncIdentityBase):
    """Reads and writes for the configured identity's subnet, authenticated with the identity's token.

    The identity's netuid is looked up (`GET /api/v1/identities`) on first use and kept; when the service
    answers 308 (the identity now serves another subnet) it is looked up again and the call repeated once.
    Raises what `OpenAccessApi` raises, and `PylonMisconfigured` when the service does not know the identity.
    """

    async def get_neurons(self, block_number: BlockNumber) -> GetNeuronsResponse:
        """The identity's subnet's neurons at a past block, keyed by hotkey."""
        return await self._call(ep.GET_NEURONS, block_number=block_number)

    async def get_latest_neurons(self) -> GetNeuronsResponse:
        """The identity's subnet's neurons at the latest block, keyed by hotkey (from `Config.neurons_file` when
        set)."""
        if (neurons := self._file_neurons()) is not None:
            return neurons
        return await self._call(ep.GET_LATEST_NEURONS)

    async def get_recent_neurons(self) -> GetNeuronsResponse:
        """The identity's subnet's neurons from the service's cache (at most a few blocks old, no chain wait); from
        `Config.neurons_file` when set."""
        if (neurons := self._file_neurons()) is not None:
            return neurons
        return await self._call(ep.GET_RECENT_NEURONS)

    async def get_validators(self, block_number: BlockNumber) -> GetValidatorsResponse:
        """Neurons with a validator permit at a past block, by total stake, highest first."""
        return await self._call(ep.GET_VALIDATORS, block_number=block_number)

    async def get_latest_validators(self) -> GetValidatorsResponse:
        """Neurons with a validator permit at the latest block, by total stake, highest first."""
        return await self._call(ep.GET_LATEST_VALIDATORS)

    async def get_latest_block_info(self) -> GetLatestBlockInfoResponse:
        """The latest block's number, hash and timestamp (a chain-level route: it uses the open-access token
        when one is configured)."""
        return await self._call(ep.GET_LATEST_BLOCK_INFO)

    async def get_extrinsic(self, block_number: BlockNumber, extrinsic_index: ExtrinsicIndex) -> GetExtrinsicResponse:
        """One decoded extrinsic of a block (chain-level, like `get_latest_block_info`)."""
        return await self._call(ep.GET_EXTRINSIC, block_number=block_number, extrinsic_index=extrinsic_index)

    async def get_certificates(self) -> GetCertificatesResponse:
        """Every neuron certificate published on the identity's subnet, by hotkey."""
        return await self._call(ep.GET_CERTIFICATES)

    async def get_certificate(self, hotkey: Hotkey) -> GetCertificateResponse:
        """The certificate a hotkey published. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.GET_CERTIFICATE, hotkey=hotkey)

    async def get_own_certificate(self) -> GetCertificateResponse:
        """The certificate of the identity's own hotkey. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.GET_OWN_CERTIFICATE)

    async def generate_certificate_keypair(
        self, algorithm: _Algorithm = _Algorithm.ED25519
    ) -> GenerateCertificateKeypairResponse:
        """Has the service generate a keypair and publish its public key as the hotkey's certificate.
        The response carries the private key: keep it secret. Not retried after it may have reached the service."""
        return await self._call(ep.GENERATE_CERTIFICATE_KEYPAIR, GenerateCertificateKeypairBody(algorithm=algorithm))

    async def get_commitments(self) -> GetCommitmentsResponse:
        """Every hex-data commitment on the identity's subnet at the latest block, by hotkey."""
        return await self._call(ep.GET_COMMITMENTS)

    async def get_commitment(self, hotkey: Hotkey) -> GetCommitmentResponse:
        """A hotkey's hex-data commitment. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.GET_COMMITMENT, hotkey=hotkey)

    async def get_own_commitment(self) -> GetCommitmentResponse:
        """The identity's own hotkey's commitment. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.GET_OWN_COMMITMENT)

    async def get_all_revealed_commitments(self) -> GetAllRevealedCommitmentsResponse:
        """Every revealed commitment on the identity's subnet, by hotkey."""
        return await self._call(ep.GET_ALL_REVEALED_COMMITMENTS)

    async def get_revealed_commitments(self, hotkey: Hotkey) -> GetRevealedCommitmentsResponse:
        """A hotkey's revealed commitments. Raises `PylonNotFound` when there are none."""
        return await self._call(ep.GET_REVEALED_COMMITMENTS, hotkey=hotkey)

    async def get_own_revealed_commitments(self) -> GetRevealedCommitmentsResponse:
        """The identity's own hotkey's revealed commitments. Raises `PylonNotFound` when there are none."""
        return await self._call(ep.GET_OWN_REVEALED_COMMITMENTS)

    def events(
        self,
        *,
        last_event_id: str | None = None,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_retries: int | None = None,
    ) -> AsyncEventStream:
        """The identity's subnet's live events, and `WeightsEvent`s for the identity's weights jobs there,
        reconnecting by itself; see `AsyncEventStream`."""
        return AsyncEventStream(
            self,
            None,
            last_event_id=last_event_id,
            max_backoff=max_backoff,
            read_timeout=read_timeout,
            max_retries=max_retries,
        )

    async def get_latest_hyperparameters(self) -> GetHyperparametersResponse:
        """The identity's subnet's settings at the latest block."""
        return await self._call(ep.GET_LATEST_HYPERPARAMETERS)

    async def get_hyperparameters(self, block_number: BlockNumber) -> GetHyperparametersResponse:
        """The identity's subnet's settings at a block. Raises `PylonNotFound` when the block does not exist."""
        return await self._call(ep.GET_HYPERPARAMETERS, block_number=block_number)

    async def get_latest_onchain_weights(
        self, hotkey: Hotkey, mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> GetOnChainWeightsResponse:
        """A validator's weights as the chain holds them at the latest block, on the identity's subnet."""
        if mechanism_id == 0:
            return await self._call(ep.GET_LATEST_ONCHAIN_WEIGHTS, hotkey=hotkey)
        return await self._call(ep.GET_LATEST_MECHANISM_ONCHAIN_WEIGHTS, hotkey=hotkey, mechanism_id=mechanism_id)

    async def get_onchain_weights(
        self, block_number: BlockNumber, hotkey: Hotkey, mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> GetOnChainWeightsResponse:
        """A validator's weights as the chain held them at a block, on the identity's subnet."""
        if mechanism_id == 0:
            return await self._call(ep.GET_ONCHAIN_WEIGHTS, block_number=block_number, hotkey=hotkey)
        return await self._call(
            ep.GET_MECHANISM_ONCHAIN_WEIGHTS, block_number=block_number, hotkey=hotkey, mechanism_id=mechanism_id
        )

    async def get_own_latest_onchain_weights(
        self, mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> GetOnChainWeightsResponse:
        """The identity's own weights as the chain holds them at the latest block: its `Weights` row on mechanism
        `mechanism_id` and its CRv4 commits not yet revealed (`pending_commits`: epoch, commit block, drand reveal
        round) — to check that what `put_weights` asked for is what the chain holds."""
        if mechanism_id == 0:
            return await self._call(ep.GET_OWN_LATEST_ONCHAIN_WEIGHTS)
        return await self._call(ep.GET_OWN_LATEST_MECHANISM_ONCHAIN_WEIGHTS, mechanism_id=mechanism_id)

    async def get_own_onchain_weights(
        self, block_number: BlockNumber, mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> GetOnChainWeightsResponse:
        """The identity's own weights as the chain held them at a block (see `get_own_latest_onchain_weights`)."""
        if mechanism_id == 0:
            return await self._call(ep.GET_OWN_ONCHAIN_WEIGHTS, block_number=block_number)
        return await self._call(
            ep.GET_OWN_MECHANISM_ONCHAIN_WEIGHTS, block_number=block_number, mechanism_id=mechanism_id
        )

    async def put_weights(
        self, weights: dict[Hotkey, Weight], mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> SetWeightsResponse:
        """Sets the identity's weights on its subnet (mechanism `mechanism_id`): `{hotkey: weight}`, scaled by the
        service so that the largest becomes 65535.

        Returns once the service has recorded the job (`job_id`, `unknown_hotkeys`, the `epoch` it must land in);
        the service submits it (directly or with commit-reveal, as the subnet requires) and retries until it is
        included or the epoch ends: follow it with `get_weights_job` or `wait_for_weights`. A newer call for the
        same mechanism replaces a job not yet sent. Raises `pydantic.ValidationError` before sending for an empty
        mapping or a non-finite weight, `PylonUnprocessableEntity` when no hotkey is registered on the subnet.
        Never resent once it may have reached the service.
        """
        body = SetWeightsBody(weights=weights)
        if mechanism_id == 0:
            return await self._call(ep.PUT_WEIGHTS, body)
        return await self._call(ep.PUT_MECHANISM_WEIGHTS, body, mechanism_id=mechanism_id)

    async def get_weights_job(self, mechanism_id: MechanismId = MAIN_MECHANISM) -> GetWeightsJobResponse:
        """The identity's newest weights job for `mechanism_id`: its status (`pending`, `submitted`, `included`,
        `failed`, `expired`, `superseded`), attempts, the block it was included in, and the uids and u16 weights
        it sends. Raises `PylonNotFound` when the identity has set no weights on that mechanism yet."""
        if mechanism_id == 0:
            return await self._call(ep.GET_WEIGHTS_JOB)
        return await self._call(ep.GET_MECHANISM_WEIGHTS_JOB, mechanism_id=mechanism_id)

    async def get_weights_status(
        self, block_number: BlockNumber, mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> GetWeightsStatusResponse:
        """Whether the identity's weights for `mechanism_id` were included during the epoch containing
        `block_number` (`weights_submitted`)."""
        return await self._call(ep.GET_WEIGHTS_STATUS, mechanism_id=mechanism_id, block_number=block_number)

    async def wait_for_weights(
        self,
        job_id: WeightsJobId | None = None,
        mechanism_id: MechanismId = MAIN_MECHANISM,
        *,
        # A deadline of its own rather than a timeout context: running out raises PylonWeightsTimeout with the
        # job's last status.
        timeout: float = 600.0,  # noqa: ASYNC109
        poll_interval: float = 2.0,
    ) -> GetWeightsJobResponse:
        """Reads the weights job `job_id` (default: the newest job at the first read) every `poll_interval`
        seconds until it is final (`included`, `failed`, `expired` or `superseded`) and returns it; check
        `status` (or `weights_submitted`) for the outcome.

        Raises `PylonWeightsTimeout` (carrying the last status) when the job is not final within `timeout`
        seconds — the service ends every job by the end of its epoch (on finney, tempo 360: about 72 minutes), so
        a longer timeout always sees the outcome — and `PylonWeightsJobReplaced` when a newer `put_weights` for
        the same mechanism makes another job the newest (its outcome can no longer be read).
        """
        wait = WeightsWait(job_id, timeout, poll_interval)
        while True:
            job = await self.get_weights_job(mechanism_id)
            pause = wait.pause_after(job)
            if pause is None:
                return job
            await async_sleep(pause)

    async def set_commitment(
        self, commitment: CommitmentDataBytes | CommitmentDataHex | bytes | str
    ) -> SetCommitmentResponse:
        """Publishes a commitment for the identity's hotkey: bytes, or hex with or without `0x`."""
        return await self._call(ep.SET_COMMITMENT, SetCommitmentBody.model_validate({"commitment": commitment}))

    async def set_revealed_commitment(
        self, commitment: str, blocks_until_reveal: int = 360
    ) -> SetRevealedCommitmentResponse:
        """Publishes a timelocked commitment that the chain reveals after `blocks_until_reveal` blocks;
        returns the drand round it is encrypted to."""
        body = SetRevealedCommitmentBody(
            commitment=RevealedCommitmentData(commitment), blocks_until_reveal=blocks_until_reveal
        )
        return await self._call(ep.SET_REVEALED_COMMITMENT, body)


class AsyncUnstableOpenAccessApi(AsyncOpenAccessBase):
    """`client.unstable.open_access`: the `/api/_unstable` reads of the published client 2.3, same names, arguments
    and models. Unstable by name: the service may change these routes between versions. Raises what
    `OpenAccessApi` raises."""

    async def get_neurons(self, netuid: NetUid, block_number: BlockNumber) -> GetNeuronsResponse:
        """The subnet's neurons at a past block, keyed by hotkey."""
        return await self._call(ep.U_GET_NEURONS, netuid, block_number=block_number)

    async def get_latest_neurons(self, netuid: NetUid) -> GetNeuronsResponse:
        """The subnet's neurons at the latest block (from `Config.neurons_file` when set)."""
        if (neurons := self._file_neurons()) is not None:
            return neurons
        return await self._call(ep.U_GET_LATEST_NEURONS, netuid)

    async def get_recent_neurons(self, netuid: NetUid) -> GetNeuronsResponse:
        """The subnet's neurons from the service's cache (from `Config.neurons_file` when set)."""
        if (neurons := self._file_neurons()) is not None:
            return neurons
        return await self._call(ep.U_GET_RECENT_NEURONS, netuid)

    async def get_commitments(self, netuid: NetUid) -> UnstableGetCommitmentsResponse:
        """Every commitment of a hotkey registered on the subnet: hex data or still timelock-encrypted (`kind`)."""
        return await self._call(ep.U_GET_COMMITMENTS, netuid)

    async def get_all_revealed_commitments(self, netuid: NetUid) -> GetAllRevealedCommitmentsResponse:
        """Every revealed commitment on the subnet, by hotkey."""
        return await self._call(ep.U_GET_ALL_REVEALED_COMMITMENTS, netuid)

    async def get_commitment(self, netuid: NetUid, hotkey: Hotkey) -> UnstableGetCommitmentResponse:
        """A hotkey's commitment (hex data or timelock-encrypted). Raises `PylonNotFound` when there is none."""
        return await self._call(ep.U_GET_COMMITMENT, netuid, hotkey=hotkey)

    async def get_revealed_commitments(self, netuid: NetUid, hotkey: Hotkey) -> GetRevealedCommitmentsResponse:
        """A hotkey's revealed commitments. Raises `PylonNotFound` when there are none."""
        return await self._call(ep.U_GET_REVEALED_COMMITMENTS, netuid, hotkey=hotkey)

    async def get_validators(self, netuid: NetUid, block_number: BlockNumber) -> GetValidatorsResponse:
        """Neurons with a validator permit at a past block, by total stake, highest first."""
        return await self._call(ep.U_GET_VALIDATORS, netuid, block_number=block_number)

    async def get_latest_validators(self, netuid: NetUid) -> GetValidatorsResponse:
        """Neurons with a validator permit at the latest block, by total stake, highest first."""
        return await self._call(ep.U_GET_LATEST_VALIDATORS, netuid)

    async def get_certificate(self, netuid: NetUid, hotkey: Hotkey) -> GetCertificateResponse:
        """The certificate a hotkey published (public key as bare hex). Raises `PylonNotFound` when there is none."""
        return await self._call(ep.U_GET_CERTIFICATE, netuid, hotkey=hotkey)

    async def get_latest_block_info(self) -> GetLatestBlockInfoResponse:
        """The latest block's number, hash and timestamp."""
        return await self._call(ep.U_GET_LATEST_BLOCK_INFO)

    async def get_latest_prices(self) -> GetPricesResponse:
        """Every subnet's alpha price (rao of TAO) at the latest block."""
        return await self._call(ep.U_GET_LATEST_PRICES)

    async def get_prices(self, block_number: BlockNumber) -> GetPricesResponse:
        """Every subnet's alpha price (rao of TAO) at a block."""
        return await self._call(ep.U_GET_PRICES, block_number=block_number)

    async def get_latest_price(self, netuid: NetUid) -> GetPriceResponse:
        """One subnet's alpha price (rao of TAO) at the latest block."""
        return await self._call(ep.U_GET_LATEST_PRICE, netuid)

    async def get_price(self, netuid: NetUid, block_number: BlockNumber) -> GetPriceResponse:
        """One subnet's alpha price (rao of TAO) at a block."""
        return await self._call(ep.U_GET_PRICE, netuid, block_number=block_number)

    async def get_extrinsic(self, block_number: BlockNumber, extrinsic_index: ExtrinsicIndex) -> GetExtrinsicResponse:
        """One decoded extrinsic of a block."""
        return await self._call(ep.U_GET_EXTRINSIC, block_number=block_number, extrinsic_index=extrinsic_index)

    async def get_drand_last_stored_round(self) -> GetDrandLastStoredRoundResponse:
        """The newest drand round whose pulse the chain stores."""
        return await self._call(ep.U_GET_DRAND_LAST_STORED_ROUND)

    async def get_latest_evm_associations(self, netuid: NetUid) -> GetLatestEvmAssociationsResponse:
        """The EVM addresses the subnet's hotkeys proved they own, by hotkey, at the latest block."""
        return await self._call(ep.U_GET_LATEST_EVM_ASSOCIATIONS, netuid)

    async def get_evm_logs(
        self,
        contract_address: EvmContractAddress,
        from_block: EvmBlockNumber,
        to_block: EvmBlockNumber,
        abi: list[dict[str, Any]],
    ) -> GetEvmLogsResponse:
        """A contract's logs in the EVM blocks `from_block..=to_block`, decoded with `abi` by the service (which
        reads them from its EVM node). Not retried once it may have reached the service (it is a POST)."""
        return await self._call(
            ep.U_GET_EVM_LOGS,
            body=EvmLogsBody(abi=abi),
            query={"from_block": from_block, "to_block": to_block},
            contract_address=contract_address,
        )


class AsyncUnstableIdentityApi(AsyncIdentityBase):
    """`client.unstable.identity`: the `/api/_unstable` reads and writes for the configured identity, as the
    published client 2.3 has them. Netuid resolution as `IdentityApi` (through `GET /api/_unstable/identities`)."""

    _identities = ep.U_GET_IDENTITIES

    async def get_neurons(self, block_number: BlockNumber) -> GetNeuronsResponse:
        """The identity's subnet's neurons at a past block."""
        return await self._call(ep.U_GET_NEURONS, block_number=block_number)

    async def get_latest_neurons(self) -> GetNeuronsResponse:
        """The identity's subnet's neurons at the latest block (from `Config.neurons_file` when set)."""
        if (neurons := self._file_neurons()) is not None:
            return neurons
        return await self._call(ep.U_GET_LATEST_NEURONS)

    async def get_recent_neurons(self) -> GetNeuronsResponse:
        """The identity's subnet's neurons from the service's cache (from `Config.neurons_file` when set)."""
        if (neurons := self._file_neurons()) is not None:
            return neurons
        return await self._call(ep.U_GET_RECENT_NEURONS)

    async def put_weights(
        self, weights: dict[Hotkey, Weight], mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> SetWeightsResponse:
        """Sets the identity's weights for `mechanism_id` (the service submits them and handles commit-reveal).
        Never resent once it may have reached the service."""
        return await self._call(ep.U_PUT_WEIGHTS, SetWeightsBody(weights=weights), mechanism_id=mechanism_id)

    async def get_weights_status(
        self, block_number: BlockNumber, mechanism_id: MechanismId = MAIN_MECHANISM
    ) -> GetWeightsStatusResponse:
        """Whether the identity's weights for `mechanism_id` were included in the epoch containing `block_number`."""
        return await self._call(ep.U_GET_WEIGHTS_STATUS, mechanism_id=mechanism_id, block_number=block_number)

    async def get_commitments(self) -> UnstableGetCommitmentsResponse:
        """Every commitment on the identity's subnet (hex data or timelock-encrypted), by hotkey."""
        return await self._call(ep.U_GET_COMMITMENTS)

    async def get_all_revealed_commitments(self) -> GetAllRevealedCommitmentsResponse:
        """Every revealed commitment on the identity's subnet, by hotkey."""
        return await self._call(ep.U_GET_ALL_REVEALED_COMMITMENTS)

    async def get_commitment(self, hotkey: Hotkey) -> UnstableGetCommitmentResponse:
        """A hotkey's commitment. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.U_GET_COMMITMENT, hotkey=hotkey)

    async def get_revealed_commitments(self, hotkey: Hotkey) -> GetRevealedCommitmentsResponse:
        """A hotkey's revealed commitments. Raises `PylonNotFound` when there are none."""
        return await self._call(ep.U_GET_REVEALED_COMMITMENTS, hotkey=hotkey)

    async def get_own_commitment(self) -> UnstableGetCommitmentResponse:
        """The identity's own hotkey's commitment. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.U_GET_OWN_COMMITMENT)

    async def get_own_revealed_commitments(self) -> GetRevealedCommitmentsResponse:
        """The identity's own hotkey's revealed commitments. Raises `PylonNotFound` when there are none."""
        return await self._call(ep.U_GET_OWN_REVEALED_COMMITMENTS)

    async def set_commitment(
        self, commitment: CommitmentDataBytes | CommitmentDataHex | bytes | str
    ) -> SetCommitmentResponse:
        """Publishes a commitment for the identity's hotkey: bytes, or hex with or without `0x`."""
        return await self._call(ep.U_SET_COMMITMENT, SetCommitmentBody.model_validate({"commitment": commitment}))

    async def set_revealed_commitment(
        self, commitment: str, blocks_until_reveal: int = 360
    ) -> SetRevealedCommitmentResponse:
        """Publishes a timelocked commitment revealed after `blocks_until_reveal` blocks; returns its drand round."""
        body = SetRevealedCommitmentBody(
            commitment=RevealedCommitmentData(commitment), blocks_until_reveal=blocks_until_reveal
        )
        return await self._call(ep.U_SET_REVEALED_COMMITMENT, body)

    async def get_validators(self, block_number: BlockNumber) -> GetValidatorsResponse:
        """Neurons with a validator permit at a past block, by total stake, highest first."""
        return await self._call(ep.U_GET_VALIDATORS, block_number=block_number)

    async def get_latest_validators(self) -> GetValidatorsResponse:
        """Neurons with a validator permit at the latest block, by total stake, highest first."""
        return await self._call(ep.U_GET_LATEST_VALIDATORS)

    async def get_certificate(self, hotkey: Hotkey) -> GetCertificateResponse:
        """The certificate a hotkey published on the identity's subnet. Raises `PylonNotFound` when there is none."""
        return await self._call(ep.U_GET_CERTIFICATE, hotkey=hotkey)

    async def get_latest_block_info(self) -> GetLatestBlockInfoResponse:
        """The latest block's number, hash and timestamp (chain-level: sent with the open-access token, if any)."""
        return await self._call(ep.U_GET_LATEST_BLOCK_INFO)

    async def get_latest_prices(self) -> GetPricesResponse:
        """Every subnet's alpha price at the latest block (chain-level)."""
        return await self._call(ep.U_GET_LATEST_PRICES)

    async def get_prices(self, block_number: BlockNumber) -> GetPricesResponse:
        """Every subnet's alpha price at a block (chain-level)."""
        return await self._call(ep.U_GET_PRICES, block_number=block_number)

    async def get_latest_price(self) -> GetPriceResponse:
        """The identity's subnet's alpha price at the latest block."""
        return await self._call(ep.U_GET_LATEST_PRICE)

    async def get_price(self, block_number: BlockNumber) -> GetPriceResponse:
        """The identity's subnet's alpha price at a block."""
        return await self._call(ep.U_GET_PRICE, block_number=block_number)

    async def get_extrinsic(self, block_number: BlockNumber, extrinsic_index: ExtrinsicIndex) -> GetExtrinsicResponse:
        """One decoded extrinsic of a block (chain-level)."""
        return await self._call(ep.U_GET_EXTRINSIC, block_number=block_number, extrinsic_index=extrinsic_index)

    async def get_drand_last_stored_round(self) -> GetDrandLastStoredRoundResponse:
        """The newest drand round whose pulse the chain stores (chain-level)."""
        return await self._call(ep.U_GET_DRAND_LAST_STORED_ROUND)

    async def get_latest_evm_associations(self) -> GetLatestEvmAssociationsResponse:
        """The EVM addresses the identity's subnet's hotkeys proved they own, at the latest block."""
        return await self._call(ep.U_GET_LATEST_EVM_ASSOCIATIONS)
