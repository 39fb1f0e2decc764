"""Weights jobs: the typed answer of `put_weights`, the job's status, the reference's per-block flag, and
`wait_for_weights` following a job to its outcome."""

from __future__ import annotations

import httpx
import pytest

from pylon_client.testing import AsyncMockPylonClient, MockPylonClient, sample_neurons
from pylon_client.v1 import (
    BlockNumber,
    Hotkey,
    MechanismId,
    NeuronUid,
    PylonNotFound,
    PylonWeightsJobReplaced,
    PylonWeightsTimeout,
    SetWeightsResponse,
    Weight,
    WeightsJobId,
    WeightsJobStatus,
)

from .support import Script
from .test_wire import weights_job

HK = Hotkey("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty")


def job_answer(status: str, job_id: int = 9) -> httpx.Response:
    return httpx.Response(200, json=weights_job(0, status, job_id))


def test_put_weights_answer_carries_the_job() -> None:
    answer = {
        "detail": "weights update scheduled",
        "count": 2,
        "job_id": 41,
        "superseded_job_id": 40,
        "epoch": {"start": 722, "end": 1083},
        "unknown_hotkeys": ["5abc"],
        "added_later": "kept",
    }
    script = Script([httpx.Response(200, json=answer)])
    with script.sync_client() as client:
        response = client.identity.put_weights({HK: Weight(1.0), Hotkey("5abc"): Weight(0.5)})
    assert response.job_id == 41
    assert response.count == 2
    assert response.superseded_job_id == 40
    assert response.epoch is not None
    assert (response.epoch.start, response.epoch.end) == (722, 1083)
    assert response.unknown_hotkeys == ["5abc"]
    assert response.model_extra == {"added_later": "kept"}


def test_put_weights_answer_of_an_earlier_service_still_parses() -> None:
    assert SetWeightsResponse.model_validate({}) == SetWeightsResponse(
        job_id=None, count=None, epoch=None, unknown_hotkeys=[]
    )


def test_the_job_status_is_typed() -> None:
    script = Script([job_answer("included")])
    with script.sync_client() as client:
        job = client.identity.get_weights_job()
    assert job.status is WeightsJobStatus.INCLUDED
    assert job.is_final
    assert job.weights_submitted
    assert job.included_block == 123
    assert job.chain_weights == {NeuronUid(1): 16384, NeuronUid(2): 65535}


def test_a_status_a_newer_service_adds_is_kept_and_not_final() -> None:
    script = Script([httpx.Response(200, json={**weights_job(0), "status": "queued"})])
    with script.sync_client() as client:
        job = client.identity.get_weights_job()
    assert job.status == "queued"
    assert not job.is_final


def test_wait_for_weights_reads_until_the_job_is_final() -> None:
    script = Script([job_answer("pending"), job_answer("submitted"), job_answer("included")])
    with script.sync_client() as client:
        job = client.identity.wait_for_weights(WeightsJobId(9), poll_interval=0)
    assert job.status is WeightsJobStatus.INCLUDED
    assert len(script.requests) == 3


async def test_async_wait_for_weights_reads_until_the_job_is_final() -> None:
    script = Script([job_answer("pending"), job_answer("failed")])
    async with script.async_client() as client:
        job = await client.identity.wait_for_weights(poll_interval=0)
    assert job.status is WeightsJobStatus.FAILED
    assert len(script.requests) == 2


def test_wait_for_weights_on_another_mechanism_reads_that_mechanisms_job() -> None:
    script = Script([job_answer("included")])
    with script.sync_client() as client:
        client.identity.wait_for_weights(mechanism_id=MechanismId(1), poll_interval=0)
    assert script.requests[0].url.path.endswith("/mechanism/1/weights/status")


def test_wait_for_weights_out_of_time_raises_with_the_last_status() -> None:
    script = Script([job_answer("submitted")])
    with script.sync_client() as client, pytest.raises(PylonWeightsTimeout) as raised:
        client.identity.wait_for_weights(timeout=0)
    assert raised.value.job.status is WeightsJobStatus.SUBMITTED
    assert raised.value.timeout_seconds == 0
    assert "job 9 is still submitted" in str(raised.value)
    assert len(script.requests) == 1


def test_wait_for_a_job_that_is_no_longer_the_newest_raises() -> None:
    script = Script([job_answer("pending", job_id=10)])
    with script.sync_client() as client, pytest.raises(PylonWeightsJobReplaced) as raised:
        client.identity.wait_for_weights(WeightsJobId(9), poll_interval=0)
    assert raised.value.job_id == 9
    assert raised.value.newest.job_id == 10


def test_without_a_job_id_the_wait_follows_the_job_it_first_saw() -> None:
    script = Script([job_answer("pending", job_id=9), job_answer("pending", job_id=10)])
    with script.sync_client() as client, pytest.raises(PylonWeightsJobReplaced) as raised:
        client.identity.wait_for_weights(poll_interval=0)
    assert (raised.value.job_id, raised.value.newest.job_id) == (9, 10)


def test_wait_without_any_job_fails_at_once() -> None:
    script = Script([httpx.Response(404, json={"detail": "identity `sn1` has set no weights"})])
    with script.sync_client(attempts=1) as client, pytest.raises(PylonNotFound, match="no weights"):
        client.identity.wait_for_weights()
    assert len(script.requests) == 1


@pytest.mark.parametrize(("timeout", "poll_interval"), [(-1.0, 1.0), (1.0, -1.0)])
def test_wait_rejects_negative_durations(timeout: float, poll_interval: float) -> None:
    script = Script([job_answer("pending")])
    with script.sync_client() as client, pytest.raises(ValueError, match="must not be negative"):
        client.identity.wait_for_weights(timeout=timeout, poll_interval=poll_interval)
    assert script.requests == []


def test_weights_submitted_for_a_block() -> None:
    script = Script([httpx.Response(200, json={"weights_submitted": True})])
    with script.sync_client() as client:
        status = client.identity.get_weights_status(BlockNumber(130), MechanismId(1))
    assert status.weights_submitted is True
    assert script.requests[0].url.path.endswith("/mechanism/1/block/130/weights/status")


def test_the_mock_includes_weights_jobs_at_once_with_the_services_conversion() -> None:
    bob, charlie = list(sample_neurons())[1:3]
    with MockPylonClient() as client:
        answer = client.identity.put_weights({bob: Weight(0.25), charlie: Weight(1.0), Hotkey("5abc"): Weight(2.0)})
        job = client.identity.wait_for_weights(answer.job_id, timeout=0)
        flag = client.identity.get_weights_status(BlockNumber(1000))
        with pytest.raises(PylonNotFound):
            client.identity.get_weights_job(MechanismId(1))
        assert not client.identity.get_weights_status(BlockNumber(1000), MechanismId(1)).weights_submitted
    assert answer.count == 2
    assert answer.unknown_hotkeys == ["5abc"]
    assert job.job_id == answer.job_id
    assert job.status is WeightsJobStatus.INCLUDED
    # Unknown hotkeys go nowhere, so the largest registered weight (charlie's 1.0) becomes 65535.
    assert job.chain_weights == {NeuronUid(1): 16384, NeuronUid(2): 65535}
    assert flag.weights_submitted
    assert client.mock.weights == {"mock": {bob: 0.25, charlie: 1.0, "5abc": 2.0}}


async def test_the_async_mock_keeps_one_job_per_mechanism() -> None:
    bob = list(sample_neurons())[1]
    async with AsyncMockPylonClient() as client:
        first = await client.identity.put_weights({bob: Weight(1.0)})
        other = await client.identity.put_weights({bob: Weight(1.0)}, MechanismId(1))
        main = await client.identity.get_weights_job()
        second = await client.identity.get_weights_job(MechanismId(1))
    assert (main.job_id, main.mechanism_id) == (first.job_id, 0)
    assert (second.job_id, second.mechanism_id) == (other.job_id, 1)
    assert first.job_id != other.job_id
    assert client.mock.calls_to("put_weights")[1].path.endswith("/mechanism/1/weights")
