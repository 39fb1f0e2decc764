"""The client against the real service (`pylon dev`: a local chain plus the service), every v1 method end to end.

Values are checked against each other and against what `pylon dev` reports about its identity; how the service
gets them from the chain is the service's own tests' business.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from pylon_client.v1 import (
    AsyncConfig,
    AsyncPylonClient,
    BlockNumber,
    CertificateAlgorithm,
    Config,
    ExtrinsicIndex,
    Hotkey,
    MechanismId,
    NetUid,
    NeuronUid,
    PylonBadRequest,
    PylonClient,
    PylonForbidden,
    PylonNotFound,
    PylonUnauthorized,
    PylonUnprocessableEntity,
    Weight,
    WeightsJobStatus,
)

from ..service import Service

T = TypeVar("T")
# How long to wait for a write to be included in a block: a few block times of the local chain.
INCLUSION_SECONDS = 90.0
# Weights may also wait out the chain's rate limit (100 blocks on the dev subnet) and the job's retry backoff.
WEIGHTS_SECONDS = 300.0


def identity_config(service: Service) -> dict[str, object]:
    if not (service.identity_name and service.identity_token and service.identity_netuid is not None):
        pytest.skip("the service under test has no identity configured for tests")
    return {
        "address": service.url,
        "open_access_token": service.open_access_token or "",
        "identity_name": service.identity_name,
        "identity_token": service.identity_token,
    }


@pytest.fixture(scope="module")
def client(pylon_service: Service) -> Iterator[PylonClient]:
    with PylonClient(Config(**identity_config(pylon_service))) as client:
        yield client


@pytest.fixture(scope="module")
def netuid(pylon_service: Service) -> NetUid:
    assert pylon_service.identity_netuid is not None
    return NetUid(pylon_service.identity_netuid)


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Polls until the chain shows a write (inclusion takes blocks); fails naming what never appeared."""
    deadline = time.monotonic() + INCLUSION_SECONDS
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not appear within {INCLUSION_SECONDS}s; last read: {value!r}")
        time.sleep(1.0)


def test_the_identity_resolves_to_the_netuid_the_service_reports(client: PylonClient, netuid: NetUid) -> None:
    client.identity.get_latest_neurons()
    assert client.identity.netuid == netuid


def test_latest_neurons_contain_the_identity_and_agree_with_the_same_block_by_number(
    client: PylonClient, netuid: NetUid, pylon_service: Service
) -> None:
    latest = client.open_access.get_latest_neurons(netuid)
    assert latest.block.number >= 0
    assert latest.block.hash.startswith("0x")
    assert len(latest.block.hash) == 66
    assert pylon_service.identity_hotkey in latest.neurons
    for hotkey, neuron in latest.neurons.items():
        assert neuron.hotkey == hotkey
    assert sorted(n.uid for n in latest.neurons.values()) == list(range(len(latest.neurons)))
    by_number = client.open_access.get_neurons(netuid, latest.block.number)
    assert by_number.block == latest.block
    assert by_number.neurons == latest.neurons
    as_identity = client.identity.get_neurons(latest.block.number)
    assert as_identity == by_number


def test_recent_neurons_of_the_identity_subnet(client: PylonClient, netuid: NetUid) -> None:
    recent = client.identity.get_recent_neurons()
    latest = client.identity.get_latest_neurons()
    assert recent.block.number <= latest.block.number
    assert recent.neurons.keys() == client.open_access.get_recent_neurons(netuid).neurons.keys()


def test_validators_are_the_permitted_neurons_by_stake(client: PylonClient, netuid: NetUid) -> None:
    latest = client.open_access.get_latest_neurons(netuid)
    validators = client.open_access.get_validators(netuid, latest.block.number)
    assert validators.block == latest.block
    permitted = {hotkey for hotkey, neuron in latest.neurons.items() if neuron.validator_permit}
    assert {v.hotkey for v in validators.validators} == permitted
    totals = [v.stakes.total for v in validators.validators]
    assert totals == sorted(totals, reverse=True)
    assert client.identity.get_latest_validators().block.number >= latest.block.number


def test_block_info_and_an_extrinsic_of_that_block(client: PylonClient, netuid: NetUid) -> None:
    neurons_block = client.open_access.get_latest_neurons(netuid).block
    info = client.open_access.get_latest_block_info()
    assert info.number >= neurons_block.number
    assert info.timestamp > 0
    # Every block starts with the inherent that sets its timestamp.
    extrinsic = client.open_access.get_extrinsic(info.number, ExtrinsicIndex(0))
    assert extrinsic.block_number == info.number
    assert extrinsic.extrinsic_index == 0
    assert extrinsic.call.call_module == "Timestamp"
    assert extrinsic.call.call_function == "set"
    assert extrinsic.address is None


def test_a_block_that_does_not_exist_yet_is_not_found(client: PylonClient, netuid: NetUid) -> None:
    future = BlockNumber(client.open_access.get_latest_block_info().number + 1_000_000)
    with pytest.raises(PylonNotFound):
        client.open_access.get_neurons(netuid, future)
    with pytest.raises(PylonNotFound):
        client.open_access.get_extrinsic(future, ExtrinsicIndex(0))


def test_a_malformed_netuid_is_a_bad_request_naming_it(client: PylonClient) -> None:
    with pytest.raises(PylonBadRequest) as raised:
        client.open_access.get_latest_neurons(NetUid(-1))
    assert "netuid" in (raised.value.detail or "")


def test_wrong_and_missing_tokens(pylon_service: Service, netuid: NetUid) -> None:
    values = identity_config(pylon_service)
    if not pylon_service.open_access_token:
        pytest.skip("the service under test has open reads")
    wrong = Config(**{**values, "open_access_token": "not-the-token", "identity_token": "not-it"})
    with PylonClient(wrong) as client:
        with pytest.raises(PylonForbidden):
            client.open_access.get_latest_neurons(netuid)
        with pytest.raises(PylonForbidden):
            client.identity.get_latest_neurons()
    missing = Config(**{**values, "open_access_token": ""})
    with PylonClient(missing) as client, pytest.raises(PylonUnauthorized):
        client.open_access.get_latest_neurons(netuid)
    # Tokens never cross tiers: the identity's token does not open the open-access routes.
    crossed = Config(**{**values, "open_access_token": values["identity_token"]})
    with PylonClient(crossed) as client, pytest.raises(PylonForbidden):
        client.open_access.get_latest_neurons(netuid)


def test_put_weights_lands_with_the_weights_the_service_computed(client: PylonClient, pylon_service: Service) -> None:
    # The first weights of this module: the chain rate-limits weights per hotkey (100 blocks on the dev subnet),
    # so a job sent right after an included one would wait that long.
    neurons = client.identity.get_latest_neurons().neurons
    weights = {hotkey: Weight(float(neuron.uid + 1)) for hotkey, neuron in neurons.items()}
    answer = client.identity.put_weights(weights)
    assert answer.job_id is not None
    assert answer.count == len(neurons)
    assert answer.unknown_hotkeys == []
    assert answer.epoch is not None

    job = client.identity.wait_for_weights(answer.job_id, timeout=WEIGHTS_SECONDS, poll_interval=1.0)
    assert job.status is WeightsJobStatus.INCLUDED, job
    assert job.weights_submitted
    # The reference's conversion: the largest weight becomes 65535, the others round(w / max * 65535).
    largest = max(weights.values())
    expected = {NeuronUid(n.uid): round(weights[hotkey] / largest * 65535) for hotkey, n in neurons.items()}
    assert job.chain_weights == expected
    assert job.included_block is not None
    assert answer.epoch.start <= job.included_block < answer.epoch.end

    # The included block holds the extrinsic the job reports, signed by the identity's hotkey.
    extrinsic = client.identity.get_extrinsic(job.included_block, ExtrinsicIndex(0))
    index = 0
    while extrinsic.extrinsic_hash != job.extrinsic_hash:
        index += 1
        extrinsic = client.identity.get_extrinsic(job.included_block, ExtrinsicIndex(index))
    assert extrinsic.address == pylon_service.identity_hotkey
    assert extrinsic.call.call_module == "SubtensorModule"
    assert "weights" in extrinsic.call.call_function

    assert client.identity.get_weights_status(job.included_block).weights_submitted is True
    far_future = BlockNumber(job.included_block + 1_000_000)
    assert client.identity.get_weights_status(far_future).weights_submitted is False

    # The chain holds what the job sent: the identity's Weights row at the inclusion block (the dev subnet
    # has commit-reveal off), and the open-access read of the same row by address agrees.
    onchain = client.identity.get_own_onchain_weights(job.included_block)
    assert (onchain.block.number, onchain.hotkey, onchain.mechanism_id) == (
        job.included_block,
        pylon_service.identity_hotkey,
        0,
    )
    assert onchain.weights.by_uid == job.chain_weights
    assert onchain.weights.normalized == pytest.approx(
        {hotkey: expected[n.uid] / sum(expected.values()) for hotkey, n in neurons.items()}
    )
    assert onchain.pending_commits == []
    by_address = client.open_access.get_onchain_weights(onchain.netuid, job.included_block, onchain.hotkey)
    assert by_address == onchain
    latest = client.identity.get_own_latest_onchain_weights()
    assert latest.block.number >= job.included_block
    assert latest.weights.by_uid == job.chain_weights


def test_a_mechanism_the_identity_set_no_weights_on_has_no_job(client: PylonClient) -> None:
    with pytest.raises(PylonNotFound) as raised:
        client.identity.get_weights_job(MechanismId(1))
    assert "mechanism 1" in (raised.value.detail or "")
    latest = client.identity.get_latest_block_info().number
    assert client.identity.get_weights_status(latest, MechanismId(1)).weights_submitted is False


def test_a_mechanism_the_subnet_does_not_have_is_not_found_with_the_count(client: PylonClient) -> None:
    with pytest.raises(PylonNotFound) as raised:
        client.identity.get_own_latest_onchain_weights(MechanismId(5))
    assert "mechanism 5 does not exist" in (raised.value.detail or "")


def test_hyperparameters_latest_and_at_that_block_agree(client: PylonClient, netuid: NetUid) -> None:
    latest = client.open_access.get_latest_hyperparameters(netuid)
    assert latest.netuid == netuid
    assert latest.tempo > 0
    assert latest.source in ("runtime_api", "storage")
    if latest.next_epoch_start is not None:
        assert latest.next_epoch_start > latest.block.number - latest.tempo - 1
    same = client.identity.get_hyperparameters(latest.block.number)
    assert same == latest
    with pytest.raises(PylonNotFound):
        client.open_access.get_latest_hyperparameters(NetUid(4000))


def test_put_weights_for_hotkeys_none_of_which_is_registered_is_unprocessable(client: PylonClient) -> None:
    unregistered = Hotkey("5HpG9w8EBLe5XCrbczpwq5TSXvedjrBGCwqxK1iQ7qUsSWFc")  # //Alice//stash, not on the subnet
    if unregistered in client.identity.get_latest_neurons().neurons:
        pytest.skip("the test hotkey is registered on this subnet")
    with pytest.raises(PylonUnprocessableEntity):
        client.identity.put_weights({unregistered: Weight(1.0)})


def test_set_commitment_then_read_it_back(client: PylonClient, netuid: NetUid, pylon_service: Service) -> None:
    data = f"pylon-client-e2e-{time.time_ns()}".encode()
    client.identity.set_commitment(data)

    def own() -> str | None:
        try:
            return client.identity.get_own_commitment().commitment
        except PylonNotFound:
            return None

    eventually(own, lambda value: value == "0x" + data.hex(), "the commitment")
    assert pylon_service.identity_hotkey is not None
    hotkey = Hotkey(pylon_service.identity_hotkey)
    by_hotkey = client.open_access.get_commitment(netuid, hotkey)
    assert by_hotkey.hotkey == hotkey
    assert by_hotkey.commitment == "0x" + data.hex()
    assert client.open_access.get_commitments(netuid).commitments[hotkey] == "0x" + data.hex()


def test_generate_a_certificate_keypair_then_read_the_certificate(client: PylonClient, netuid: NetUid) -> None:
    keypair = client.identity.generate_certificate_keypair()
    assert keypair.algorithm is CertificateAlgorithm.ED25519
    assert keypair.private_key

    def own() -> str | None:
        try:
            return client.identity.get_own_certificate().public_key
        except PylonNotFound:
            return None

    eventually(own, lambda value: value == keypair.public_key, "the certificate")
    hotkey = Hotkey(
        next(
            k
            for k, v in client.open_access.get_certificates(netuid).certificates.items()
            if v.public_key == keypair.public_key
        )
    )
    assert client.open_access.get_certificate(netuid, hotkey).public_key == keypair.public_key


def test_the_published_readme_examples_run(pylon_service: Service, netuid: NetUid) -> None:
    """The two examples of the published client's README, with this service's address and tokens."""
    values = identity_config(pylon_service)

    async def read_example() -> None:
        config = AsyncConfig(address=pylon_service.url, open_access_token=str(values["open_access_token"]))
        async with AsyncPylonClient(config) as client:
            response = await client.open_access.get_latest_neurons(netuid=NetUid(netuid))
            assert len(response.neurons) > 0

    async def write_example() -> None:
        config = AsyncConfig(
            address=pylon_service.url,
            identity_name=str(values["identity_name"]),
            identity_token=str(values["identity_token"]),
        )
        async with AsyncPylonClient(config) as client:
            neurons = await client.identity.get_latest_neurons()
            weights = {Hotkey(hotkey): Weight(0.5) for hotkey in list(neurons.neurons)[:2]}
            await client.identity.put_weights(weights=weights)

    asyncio.run(read_example())
    asyncio.run(write_example())


def test_the_async_client_reads_what_the_sync_client_reads(
    client: PylonClient, netuid: NetUid, pylon_service: Service
) -> None:
    block = client.open_access.get_latest_neurons(netuid).block.number
    values = identity_config(pylon_service)

    async def read() -> tuple[object, ...]:
        async with AsyncPylonClient(AsyncConfig(**values)) as async_client:
            return await asyncio.gather(
                async_client.open_access.get_neurons(netuid, block),
                async_client.open_access.get_validators(netuid, block),
                async_client.identity.get_neurons(block),
                async_client.open_access.get_extrinsic(block, ExtrinsicIndex(0)),
            )

    neurons, validators, identity_neurons, extrinsic = asyncio.run(read())
    assert neurons == client.open_access.get_neurons(netuid, block)
    assert validators == client.open_access.get_validators(netuid, block)
    assert identity_neurons == client.identity.get_neurons(block)
    assert extrinsic == client.open_access.get_extrinsic(block, ExtrinsicIndex(0))
