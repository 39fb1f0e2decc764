"""`PylonBinaryManager` runs the real binary (`pylon dev`: a local chain plus the service), waits for its health, and
stops it on exit; the client it hands the URL to reads through it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from pylon_client.artanis import AsyncConfig, AsyncPylonClient, NetUid, PylonBinaryManager

from ..service import pylon_binary

pytestmark = pytest.mark.skipif(pylon_binary() is None, reason="no pylon binary (PYLON_BIN or target/debug/pylon)")


def test_the_binary_manager_runs_pylon_dev_and_stops_it(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, int]:
        manager = PylonBinaryManager(
            port=0, binary=pylon_binary(), args=("dev", "--chain-port", "0", "--data-dir", str(tmp_path))
        )
        async with manager:
            config = AsyncConfig(address=manager.url, open_access_token=manager.values["PYLON_OPEN_ACCESS_TOKEN"])
            async with AsyncPylonClient(config) as client:
                netuid = NetUid(int(manager.values["PYLON_DEV_IDENTITY_NETUID"]))
                neurons = await client.v1.open_access.get_latest_neurons(netuid)
                assert manager.values["PYLON_DEV_IDENTITY_HOTKEY"] in neurons.neurons
            assert manager.process is not None
            process = manager.process
        assert process.poll() is not None, "the manager stopped the service"
        return manager.url, len(neurons.neurons)

    url, count = asyncio.run(scenario())
    assert count > 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=2)
