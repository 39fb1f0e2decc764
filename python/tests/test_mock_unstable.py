"""`MockPylon` answers `client.unstable` too: every method (from the parity test's table of calls) gets an answer
that parses, sync and async, and the unstable shapes are the unstable ones."""

from __future__ import annotations

import asyncio
import inspect

from pylon_client.testing import AsyncMockPylonClient, MockPylonClient
from pylon_client.v1 import Hotkey, NetUid

from .support import NETUID
from .test_unstable_parity import CALLS, HK, IDENTITY_ONLY, decode


def arguments(tier: str, method: str, netuid: int) -> list[object]:
    open_args, identity_args, _ = CALLS[method]
    args = decode(open_args if tier == "open_access" else identity_args or [])
    # The table's subnet is the parity test's; the mock serves its own.
    if tier == "open_access" and args and args[0] == NETUID:
        args[0] = netuid
    return args


def test_every_unstable_method_answers_through_the_mock() -> None:
    with MockPylonClient() as client:
        netuid = client.mock.netuid
        hotkey = next(iter(client.mock.neurons))
        client.unstable.identity.set_commitment(b"hi")
        for tier in ("open_access", "identity"):
            api = getattr(client.unstable, tier)
            for method, _ in inspect.getmembers(type(api), inspect.isfunction):
                if method.startswith("_") or (tier == "open_access" and method in IDENTITY_ONLY):
                    continue
                args = [hotkey if a == HK else a for a in arguments(tier, method, netuid)]
                if method in ("get_revealed_commitments", "get_own_revealed_commitments", "get_certificate"):
                    continue  # the mock has none of these until set: 404, as v1
                getattr(api, method)(*args)
        commitments = client.unstable.open_access.get_commitments(NetUid(netuid)).commitments
        assert commitments[client.mock.identity_hotkey].kind == "hex_data"
        assert commitments[client.mock.identity_hotkey].commitment == "0x6869"
        own = client.unstable.identity.get_own_commitment()
        assert own.commitment.hotkey == client.mock.identity_hotkey
        prices = client.unstable.open_access.get_latest_prices()
        assert prices.prices[NetUid(0)].value == 1_000_000_000
        logs = client.unstable.open_access.get_evm_logs("0x" + "22" * 20, 5, 9, [])  # type: ignore[arg-type]
        assert (logs.from_block, logs.to_block, logs.logs) == (5, 9, [])
        assert {call.version for call in client.mock.calls} == {"_unstable"}
        # The v1 answer of the same name keeps v1's shape.
        assert client.v1.open_access.get_commitments(NetUid(netuid)).commitments[Hotkey(client.mock.identity_hotkey)]


def test_async_unstable_through_the_mock() -> None:
    async def scenario() -> int:
        async with AsyncMockPylonClient() as client:
            price = await client.unstable.identity.get_latest_price()
            return int(price.price.value)

    assert asyncio.run(scenario()) == 500_000_000
