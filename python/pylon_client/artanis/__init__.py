"""`pylon_client.artanis`: the published client's current import path (2.3), the same names as `pylon_client.v1`
(clients, configuration, types, exceptions) plus the process managers. The API version's own models are in
`pylon_client.artanis.v1` and `pylon_client.artanis.unstable`.

    from pylon_client.artanis import AsyncConfig, AsyncPylonClient
    async with AsyncPylonClient(AsyncConfig(address=..., open_access_token=...)) as client:
        prices = await client.unstable.open_access.get_latest_prices()
"""

from pylon_client import v1 as _v1
from pylon_client._process import PylonBinaryManager, PylonDockerManager
from pylon_client._types import (
    AlphaPriceRao,
    DrandRound,
    EvmBlockNumber,
    EvmContractAddress,
    EvmLogIndex,
    EvmTransactionHash,
    EvmTransactionIndex,
)
from pylon_client.v1 import *  # noqa: F403 (the same names, by design)

__all__ = [
    *_v1.__all__,
    "AlphaPriceRao",
    "DrandRound",
    "EvmBlockNumber",
    "EvmContractAddress",
    "EvmLogIndex",
    "EvmTransactionHash",
    "EvmTransactionIndex",
    "PylonBinaryManager",
    "PylonDockerManager",
]
