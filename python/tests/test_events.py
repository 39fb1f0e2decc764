"""The live event stream's client (`events()`, async and sync) against a small local HTTP server that speaks
Server-Sent Events as the service's wire format says (`retry:` first, `id: <block>-<n>`, `event: <kind>`, one
line of JSON, `: keep-alive` comments): typed events, resuming with `Last-Event-ID` after the server closes or the
connection breaks, the `gap` event, refusals, and closing the connection when the caller stops.

The server is a real socket server (each connection follows its script), so the client's own HTTP and SSE
reading is what runs here."""

from __future__ import annotations

import asyncio
import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from pylon_client.v1 import (
    AsyncConfig,
    AsyncPylonClient,
    BlockEvent,
    Config,
    DroppedEvent,
    EpochEvent,
    Event,
    GapEvent,
    NetUid,
    NeuronsEvent,
    PylonClient,
    PylonInvalidResponse,
    PylonNetuidMismatch,
    PylonNotFound,
    PylonServiceUnavailable,
    PylonUnauthorized,
    WeightsEvent,
    WeightsJobStatus,
)

OPEN_TOKEN = "open-token"
IDENTITY_TOKEN = "identity-token"
HASH = "0x" + "ab" * 32


def sse(kind: str, event_id: str, data: dict[str, Any]) -> bytes:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def block(number: int, n: int = 0) -> bytes:
    return sse("block", f"{number}-{n}", {"number": number, "hash": HASH, "timestamp": 1_700_000_000 + number})


# A short retry so that reconnects in these tests take milliseconds.
RETRY = b"retry: 5\n\n"


@dataclass
class Reply:
    """One connection's answer: a status, then `chunks` (bytes sent in turn; a float pauses that many seconds),
    then `end`: "close" (the server ends the stream), "abort" (the connection breaks) or "hold" (stays open until
    the client leaves)."""

    chunks: Sequence[bytes | float] = field(default_factory=list)
    status: int = 200
    end: str = "close"
    content_type: str = "text/event-stream"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class SseServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, replies: list[Reply], identities: dict[str, int] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies = replies
        self.identities = identities or {"sn1": 7}
        self.seen: list[Seen] = []
        self.identity_lookups = 0
        # The identities answered after the first 308 (the identity moved to another subnet).
        self.moved_identities: dict[str, int] | None = None
        # Set when a held stream's client closed its side.
        self.client_left = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class _Handler(socketserver.BaseRequestHandler):
    server: SseServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(4096)
            if not chunk:
                return
            raw += chunk
        request_line, *lines = raw.split(b"\r\n\r\n")[0].decode().split("\r\n")
        path = request_line.split(" ")[1]
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        if path == "/api/v1/identities":
            self.server.identity_lookups += 1
            body = json.dumps({"identities": self.server.identities}).encode()
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            return
        self.server.seen.append(Seen(path, headers))
        reply = self.server.next_reply()
        if reply.status == 308 and self.server.moved_identities is not None:
            self.server.identities = self.server.moved_identities
        if reply.status != 200:
            body = json.dumps({"detail": f"scripted {reply.status}"}).encode()
            sock.sendall(
                f"HTTP/1.1 {reply.status} X\r\nContent-Type: application/json\r\nConnection: close\r\n".encode()
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            return
        sock.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: {reply.content_type}\r\nCache-Control: no-cache\r\n".encode()
            + b"Connection: close\r\n\r\n"
        )
        for item in reply.chunks:
            if isinstance(item, float):
                time.sleep(item)
            else:
                sock.sendall(item)
        if reply.end == "abort":
            # An abrupt reset, as from a crashed proxy: the half-sent event must not be yielded.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
        elif reply.end == "hold":
            sock.settimeout(10)
            try:
                while sock.recv(1024):
                    pass
            except OSError:
                pass
            self.server.client_left.set()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[SseServer] = []

    def start(replies: list[Reply], identities: dict[str, int] | None = None) -> SseServer:
        server = SseServer(replies, identities)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def config_values(server: SseServer) -> dict[str, Any]:
    return {
        "address": server.url,
        "open_access_token": OPEN_TOKEN,
        "identity_name": "sn1",
        "identity_token": IDENTITY_TOKEN,
    }


def take_sync(server: SseServer, count: int, identity: bool = False, **options: Any) -> list[Event]:
    events: list[Event] = []
    with PylonClient(Config(**config_values(server))) as client:
        stream = client.identity.events(**options) if identity else client.open_access.events(NetUid(3), **options)
        with stream:
            for event in stream:
                events.append(event)
                if len(events) == count:
                    break
    return events


async def take_async(server: SseServer, count: int, identity: bool = False, **options: Any) -> list[Event]:
    events: list[Event] = []
    async with AsyncPylonClient(AsyncConfig(**config_values(server))) as client:
        stream = client.identity.events(**options) if identity else client.open_access.events(NetUid(3), **options)
        async with stream:
            async for event in stream:
                events.append(event)
                if len(events) == count:
                    break
    return events


@pytest.fixture(params=["async", "sync"])
def take(request: pytest.FixtureRequest) -> Any:
    """Reads `count` events through the async iterator or the sync generator (the sync one in a thread)."""

    async def run(server: SseServer, count: int, identity: bool = False, **options: Any) -> list[Event]:
        if request.param == "async":
            return await asyncio.wait_for(take_async(server, count, identity, **options), 20)
        return await asyncio.wait_for(asyncio.to_thread(take_sync, server, count, identity, **options), 20)

    return run


ALL_KINDS = [
    RETRY,
    b": keep-alive\n\n",
    block(100),
    sse("epoch", "100-1", {"netuid": 3, "index": 9, "block": 100, "next_start": 461}),
    sse("neurons", "100-2", {"netuid": 3, "block": 100, "etag": '"abc"'}),
    sse("weights", "100-3", {"netuid": 3, "job_id": "12", "status": "included", "block": 100, "error": None}),
    sse("future-kind", "100-4", {"whatever": 1}),
    sse("dropped", "100-5", {"reason": "consumer too slow"}),
]


async def test_every_kind_is_a_typed_event(serve: Any, take: Any) -> None:
    server = serve([Reply(ALL_KINDS, end="hold")])
    events = await take(server, 5)
    assert events == [
        BlockEvent(id="100-0", number=100, hash=HASH, timestamp=1_700_000_100),
        EpochEvent(id="100-1", netuid=3, index=9, block=100, next_start=461),
        NeuronsEvent(id="100-2", netuid=3, block=100, etag='"abc"'),
        WeightsEvent(id="100-3", netuid=3, job_id=12, status=WeightsJobStatus.INCLUDED, block=100),
        # The unknown kind is skipped (a newer service may add kinds).
        DroppedEvent(id="100-5", reason="consumer too slow"),
    ]
    [seen] = server.seen
    assert seen.path == "/api/v1/subnet/3/events"
    assert seen.headers["authorization"] == f"Bearer {OPEN_TOKEN}"
    assert seen.headers["accept"] == "text/event-stream"
    assert "last-event-id" not in seen.headers
    # The client's per-request timeout header would cut a stream meant to stay open.
    assert "x-pylon-timeout" not in seen.headers


async def test_a_closed_stream_resumes_after_the_last_event_and_yields_the_gap(serve: Any, take: Any) -> None:
    # As the service sends it, the gap has no id of its own: the position stays at the last event before it.
    gap = b'event: gap\ndata: {"reason": "replay buffer exceeded", "last_event_id": "11-0"}\n\n'
    server = serve(
        [
            Reply([RETRY, block(10), block(11)]),
            Reply([RETRY, gap]),
            Reply([RETRY, block(12)], end="hold"),
        ]
    )
    events = await take(server, 4)
    assert [type(e) for e in events] == [BlockEvent, BlockEvent, GapEvent, BlockEvent]
    assert events[2] == GapEvent(id="", reason="replay buffer exceeded", last_event_id="11-0")
    assert [s.headers.get("last-event-id") for s in server.seen] == [None, "11-0", "11-0"]


async def test_a_broken_connection_resumes_from_the_last_whole_event(serve: Any, take: Any) -> None:
    half = block(21)[:20]
    server = serve([Reply([RETRY, block(20), half], end="abort"), Reply([RETRY, block(21), block(22)], end="hold")])
    events = await take(server, 3)
    assert [e.number for e in events if isinstance(e, BlockEvent)] == [20, 21, 22]
    assert [s.headers.get("last-event-id") for s in server.seen] == [None, "20-0"]


async def test_after_dropped_it_reconnects_with_its_position(serve: Any, take: Any) -> None:
    server = serve(
        [
            Reply([RETRY, block(30), sse("dropped", "30-1", {"reason": "too slow"})]),
            Reply([RETRY, block(31)], end="hold"),
        ]
    )
    events = await take(server, 3)
    assert [e.kind for e in events] == ["block", "dropped", "block"]
    assert server.seen[1].headers["last-event-id"] == "30-1"


async def test_last_event_id_resumes_an_earlier_stream(serve: Any, take: Any) -> None:
    server = serve([Reply([RETRY, block(41)], end="hold")])
    await take(server, 1, last_event_id="40-3")
    assert server.seen[0].headers["last-event-id"] == "40-3"


async def test_unavailable_is_retried_and_unauthorized_is_raised(serve: Any, take: Any) -> None:
    server = serve([Reply(status=503), Reply(status=503), Reply([RETRY, block(50)], end="hold")])
    [event] = await take(server, 1, max_backoff=0.05)
    assert isinstance(event, BlockEvent)
    assert len(server.seen) == 3
    server = serve([Reply(status=401)])
    with pytest.raises(PylonUnauthorized):
        await take(server, 1)
    assert len(server.seen) == 1  # a refusal is not retried
    server = serve([Reply(status=404)])
    with pytest.raises(PylonNotFound):
        await take(server, 1)


async def test_max_retries_raises_the_last_failure(serve: Any, take: Any) -> None:
    server = serve([Reply(status=503)])
    with pytest.raises(PylonServiceUnavailable):
        await take(server, 1, max_backoff=0.01, max_retries=2)
    assert len(server.seen) == 3


async def test_a_body_that_is_not_an_event_stream_is_invalid(serve: Any, take: Any) -> None:
    server = serve([Reply([b"{}"], content_type="application/json")])
    with pytest.raises(PylonInvalidResponse):
        await take(server, 1)
    server = serve([Reply([RETRY, b"id: 1-0\nevent: block\ndata: {not json\n\n"])])
    with pytest.raises(PylonInvalidResponse):
        await take(server, 1)


async def test_the_identity_stream_follows_its_identity_to_another_subnet(serve: Any, take: Any) -> None:
    server = serve([Reply([RETRY, block(60)]), Reply(status=308), Reply([RETRY, block(61)], end="hold")])
    server.moved_identities = {"sn1": 9}
    events = await take(server, 2, identity=True)
    assert [e.id for e in events] == ["60-0", "61-0"]
    assert [s.path for s in server.seen] == [
        "/api/v1/identity/sn1/subnet/7/events",
        "/api/v1/identity/sn1/subnet/7/events",
        "/api/v1/identity/sn1/subnet/9/events",
    ]
    assert {s.headers["authorization"] for s in server.seen} == {f"Bearer {IDENTITY_TOKEN}"}
    assert server.identity_lookups == 2
    # The position survives the move: the stream resumes after the last event it yielded.
    assert [s.headers.get("last-event-id") for s in server.seen] == [None, "60-0", "60-0"]


async def test_a_second_308_in_a_row_is_raised(serve: Any, take: Any) -> None:
    server = serve([Reply(status=308)])
    with pytest.raises(PylonNetuidMismatch):
        await take(server, 1, identity=True)
    assert len(server.seen) == 2


async def test_leaving_the_stream_closes_its_connection(serve: Any, take: Any) -> None:
    server = serve([Reply([RETRY, block(70), 0.05, block(71)], end="hold")])
    await take(server, 1)
    assert await asyncio.to_thread(server.client_left.wait, 5), "the client kept the stream's connection open"
