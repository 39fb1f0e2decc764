"""The decisions of `wait_for_weights`, shared by the sync and async clients (which only add the I/O): which job
is waited for, when the wait is over, and how long to pause between two reads of its status."""

from __future__ import annotations

import time

from ._exceptions import PylonWeightsJobReplaced, PylonWeightsTimeout
from ._models import WeightsJob
from ._types import WeightsJobId


class WeightsWait:
    """One wait for a weights job to become final.

    The service reports only the identity's newest job per mechanism, so the wait follows one job id: the given
    one, or the newest job's at the first read. Its deadline starts when the wait is created.
    """

    def __init__(self, job_id: WeightsJobId | None, timeout: float, poll_interval: float) -> None:
        if timeout < 0:
            raise ValueError(f"timeout must not be negative, got {timeout}")
        if poll_interval < 0:
            raise ValueError(f"poll_interval must not be negative, got {poll_interval}")
        self.job_id = job_id
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._deadline = time.monotonic() + timeout

    def pause_after(self, job: WeightsJob) -> float | None:
        """None when `job` (just read) is final and the wait is over; otherwise the seconds to pause before the
        next read. Raises `PylonWeightsJobReplaced` when `job` is another job than the one waited for, and
        `PylonWeightsTimeout` when the deadline has passed."""
        if self.job_id is None:
            self.job_id = job.job_id
        elif job.job_id != self.job_id:
            raise PylonWeightsJobReplaced(self.job_id, job)
        if job.is_final:
            return None
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise PylonWeightsTimeout(job, self.timeout)
        return min(self.poll_interval, remaining)
