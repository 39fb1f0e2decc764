"""The live event stream end to end: the client's `events()` against `pylon dev` (the service and its devnet).

Block events are judged by the devnet's own answer (`chain_getBlockHash` over JSON-RPC), not by the service's
other reads; resuming with `last_event_id` is judged by the block numbers being contiguous across two streams.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from pylon_client.v1 import (
    AsyncConfig,
    AsyncPylonClient,
    BlockEvent,
    Config,
    Event,
    NetUid,
    PylonClient,
    PylonNotFound,
    Weight,
    WeightsEvent,
    WeightsJobId,
    WeightsJobStatus,
)

from ..service import Service
from .test_client_against_pylon_dev import identity_config

# Blocks come every second or so on `pylon dev`: a few events arrive well within this.
STREAM_SECONDS = 60.0


def chain_block_hash(service: Service, number: int) -> str:
    """The devnet's own hash of block `number` (JSON-RPC over HTTP on the node's port)."""
    if service.chain_url is None:
        pytest.skip("the chain URL of the service under test is not known (PYLON_TEST_CHAIN_URL)")
    url = service.chain_url.replace("ws://", "http://").replace("wss://", "https://")
    answer = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "chain_getBlockHash", "params": [number]}, timeout=30
    )
    answer.raise_for_status()
    result: str = answer.json()["result"]
    return result


@pytest.fixture(scope="module")
def config(pylon_service: Service) -> AsyncConfig:
    return AsyncConfig(**identity_config(pylon_service))


@pytest.fixture(scope="module")
def netuid(pylon_service: Service) -> NetUid:
    assert pylon_service.identity_netuid is not None
    return NetUid(pylon_service.identity_netuid)


async def blocks(config: AsyncConfig, netuid: NetUid, count: int, last_event_id: str | None = None) -> list[Event]:
    """The first `count` block events of a new open-access stream (other kinds are kept too, in order)."""
    seen: list[Event] = []
    async with AsyncPylonClient(config) as client:
        events = client.open_access.events(netuid, last_event_id=last_event_id, max_retries=5)
        async with events:
            async for event in events:
                seen.append(event)
                if sum(isinstance(e, BlockEvent) for e in seen) == count:
                    break
    return seen


async def test_block_events_are_the_chains_heads_in_order(
    config: AsyncConfig, netuid: NetUid, pylon_service: Service
) -> None:
    events = await asyncio.wait_for(blocks(config, netuid, 3), STREAM_SECONDS)
    heads = [e for e in events if isinstance(e, BlockEvent)]
    numbers = [e.number for e in heads]
    assert numbers == list(range(numbers[0], numbers[0] + 3)), numbers
    for head in heads:
        assert head.hash == chain_block_hash(pylon_service, head.number)
        assert head.id.startswith(f"{head.number}-")
        assert head.timestamp > 1_600_000_000  # unix seconds
    ids = [e.id for e in events]
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in i.split("-"))), ids


async def test_a_resumed_stream_continues_where_the_last_one_stopped(config: AsyncConfig, netuid: NetUid) -> None:
    first = await asyncio.wait_for(blocks(config, netuid, 2), STREAM_SECONDS)
    last = first[-1]
    assert isinstance(last, BlockEvent)
    await asyncio.sleep(2.5)  # a couple of blocks pass while nobody listens
    resumed = await asyncio.wait_for(blocks(config, netuid, 3, last_event_id=last.id), STREAM_SECONDS)
    numbers = [e.number for e in resumed if isinstance(e, BlockEvent)]
    # Replayed from the service's buffer: no block is missed and none repeated.
    assert numbers == list(range(last.number + 1, last.number + 4)), (last, resumed)
    assert all(e.kind != "gap" for e in resumed), resumed


def test_the_sync_identity_stream_and_an_unknown_subnet(pylon_service: Service) -> None:
    with PylonClient(Config(**identity_config(pylon_service))) as client:
        deadline = time.monotonic() + STREAM_SECONDS
        with client.identity.events(max_retries=5) as events:
            for event in events:
                assert time.monotonic() < deadline
                if isinstance(event, BlockEvent):
                    assert event.hash == chain_block_hash(pylon_service, event.number)
                    break
        with pytest.raises(PylonNotFound), client.open_access.events(NetUid(4000)) as events:
            next(iter(events))


async def test_the_identity_stream_reports_its_weights_job(config: AsyncConfig, netuid: NetUid) -> None:
    async def follow() -> tuple[WeightsJobId, list[WeightsEvent]]:
        async with AsyncPylonClient(config) as client:
            events = client.identity.events(max_retries=5)
            async with events:
                job_id: WeightsJobId | None = None
                mine: list[WeightsEvent] = []
                async for event in events:
                    if job_id is None and isinstance(event, BlockEvent):
                        # Subscribed: now set weights, whose job changes the stream must report.
                        neurons = (await client.identity.get_latest_neurons()).neurons
                        answer = await client.identity.put_weights({hotkey: Weight(1.0) for hotkey in neurons})
                        assert answer.job_id is not None
                        job_id = answer.job_id
                    elif isinstance(event, WeightsEvent) and event.job_id == job_id:
                        mine.append(event)
                        if event.status is not WeightsJobStatus.PENDING:
                            return job_id, mine
        raise AssertionError("the stream ended")

    # The job stays pending while the subnet's weights rate limit runs from an earlier test's
    # weights (a block a second or so): give the stream that long on top.
    async with AsyncPylonClient(config) as client:
        rate_limit = (await client.identity.get_latest_hyperparameters()).weights_rate_limit
    job_id, mine = await asyncio.wait_for(follow(), STREAM_SECONDS + 1.5 * rate_limit)
    assert all(e.netuid == netuid for e in mine)
    last = mine[-1]
    assert last.status in (WeightsJobStatus.SUBMITTED, WeightsJobStatus.INCLUDED, WeightsJobStatus.FAILED), mine
    async with AsyncPylonClient(config) as client:
        job = await client.identity.get_weights_job()
    assert job.job_id == job_id
    if last.status is WeightsJobStatus.INCLUDED:
        assert last.block == job.included_block
