"""What the async and the sync event streams share (no I/O): turning a Server-Sent Event into a typed event,
remembering where to resume, and how long to wait before reconnecting.

The wire format: each event has `id: <block>-<n>`, `event: <kind>` and one line of JSON `data`; the service sends
`retry: <ms>` first and `: keep-alive` comments while silent. A reconnect sends `Last-Event-ID` and the service
replays what followed it, or sends a `gap` event when it no longer can.
"""

from __future__ import annotations

import json
import logging
import random

from httpx_sse import ServerSentEvent
from pydantic import TypeAdapter, ValidationError

from ._exceptions import PylonInvalidResponse
from ._models import EVENT_KINDS, Event

logger = logging.getLogger("pylon_client")

_EVENT = TypeAdapter[Event](Event)
# What the service's first `retry:` line says before it says it.
DEFAULT_RETRY_SECONDS = 2.0
# The service sends a keep-alive comment every 15 s of silence: a read that waits this long means the connection
# is dead, and the stream reconnects.
DEFAULT_READ_TIMEOUT = 45.0
DEFAULT_MAX_BACKOFF = 30.0
# Answers after which reconnecting may help (the service or a proxy in trouble); any other error status is final.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class StreamState:
    """The stream's position (`last_event_id`) and reconnect pacing: the service's `retry` interval, doubled after
    each attempt that brought no event, up to `max_backoff` seconds, with jitter so that many clients cut off at
    once do not come back at once."""

    def __init__(self, last_event_id: str | None, max_backoff: float, max_retries: int | None) -> None:
        self.last_event_id = last_event_id
        self.retry_seconds = DEFAULT_RETRY_SECONDS
        self.max_backoff = max_backoff
        self.max_retries = max_retries
        # Attempts in a row that brought no event.
        self.failures = 0
        self._got_event = False

    def connecting(self) -> dict[str, str]:
        """The headers of the next attempt."""
        self._got_event = False
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        return headers

    def accept(self, sse: ServerSentEvent) -> Event | None:
        """The typed event, or None for what carries none (the `retry` line, a kind this client does not know)."""
        if sse.retry is not None:
            self.retry_seconds = sse.retry / 1000
        if sse.event == "message" and not sse.data:
            return None
        if sse.id:
            self.last_event_id = sse.id
        if sse.event not in EVENT_KINDS:
            logger.debug("skipping a stream event of unknown kind %r", sse.event)
            return None
        try:
            data = json.loads(sse.data)
            if not isinstance(data, dict):
                raise TypeError(f"data is a {type(data).__name__}, not an object")
            event = _EVENT.validate_python({**data, "kind": sse.event, "id": sse.id})
        except (ValueError, TypeError, ValidationError) as e:
            raise PylonInvalidResponse(f"the stream sent a {sse.event!r} event that is not one", detail=str(e)) from e
        self._got_event = True
        self.failures = 0
        return event

    def next_pause(self, reason: object) -> float:
        """Seconds to wait before reconnecting after an attempt ended (`reason`: the error, or None when the service
        closed the stream). Raises `reason` (if an exception) once `max_retries` attempts in a row brought
        nothing."""
        if not self._got_event:
            self.failures += 1
        if self.max_retries is not None and self.failures > self.max_retries:
            if isinstance(reason, BaseException):
                raise reason
            raise PylonInvalidResponse(f"the event stream closed {self.failures} times in a row without an event")
        delay = min(self.max_backoff, self.retry_seconds * float(2 ** max(self.failures - 1, 0)))
        delay *= random.uniform(0.5, 1.0)
        logger.info("event stream: reconnecting in %.1fs (%s)", delay, reason or "closed by the service")
        return delay
