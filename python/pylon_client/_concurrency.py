"""The few primitives that differ between the async and the sync API, under names that `scripts/unasync_api.py`
maps one to the other (`AsyncLock` → `SyncLock`, `async_sleep` → `sync_sleep`)."""

import asyncio
import threading
import time

AsyncLock = asyncio.Lock
SyncLock = threading.Lock
async_sleep = asyncio.sleep
sync_sleep = time.sleep
