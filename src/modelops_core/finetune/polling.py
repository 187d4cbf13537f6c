"""Polling a provider until a job finishes: exponential backoff with full jitter, bounded
retries of transient errors (honouring ``Retry-After``) and an overall deadline.

The clock and the random source are injected, so tests run the whole loop without sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Protocol

from modelops_core.finetune.errors import JobTimeoutError
from modelops_core.finetune.provider_contract import ProviderJob, ProviderUnavailableError
from modelops_core.finetune.settings import FineTuneSettings


class Clock(Protocol):
    """Where the poller reads the time and waits (the system clock, or a test's clock)."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """:func:`time.monotonic` and :func:`time.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Backoff:
    """Exponential backoff with full jitter: the n-th delay is uniform in
    ``[base / 10, min(cap, base * 2**n)]`` (full jitter, floored so a poll never spins).
    """

    def __init__(self, base: float, cap: float, rng: random.Random) -> None:
        self.base = base
        self.cap = max(cap, base)
        self.rng = rng
        self.attempt = 0

    def next_delay(self) -> float:
        """The next delay in seconds; each call doubles the ceiling up to ``cap``."""
        ceiling = min(self.cap, self.base * 2.0 ** min(self.attempt, 60))
        self.attempt += 1
        return self.rng.uniform(min(self.base / 10.0, ceiling), ceiling)

    def reset(self) -> None:
        """Start again from ``base`` (after a status change or a successful call)."""
        self.attempt = 0


def poll_until_finished(
    fetch: Callable[[], ProviderJob],
    *,
    job_id: str,
    settings: FineTuneSettings,
    clock: Clock,
    rng: random.Random,
    timeout: float | None = None,
    poll_interval: float | None = None,
) -> ProviderJob:
    """Call ``fetch`` until the job it returns is finished; return that snapshot.

    :param fetch: one provider call returning the job's snapshot (it records it, too).
    :param timeout: overall seconds (default ``settings.timeout``); then :class:`JobTimeoutError`.
    :param poll_interval: the first delay (default ``settings.poll_interval``); it doubles while
        nothing changes, up to ``settings.max_poll_interval``, and starts again on a change.
    :raises ProviderUnavailableError: more than ``settings.max_retries`` transient errors in a
        row; the job is still tracked and can be re-attached.
    """
    limit = settings.timeout if timeout is None else timeout
    base = settings.poll_interval if poll_interval is None else poll_interval
    deadline = clock.monotonic() + limit
    polls = Backoff(base, max(settings.max_poll_interval, base), rng)
    retries = Backoff(base, max(settings.max_poll_interval, base), rng)
    failures = 0
    last_seen: tuple[str, float | None] | None = None
    snapshot: ProviderJob | None = None
    while True:
        try:
            snapshot = fetch()
        except ProviderUnavailableError as exc:
            failures += 1
            if failures > settings.max_retries:
                raise ProviderUnavailableError(
                    f"{exc} — gave up on job {job_id} after {settings.max_retries} retries. "
                    "The job is still tracked: re-attach with FineTuningJob.attach("
                    f"{job_id!r}) or `modelops finetune watch {job_id}` once the provider "
                    "answers again.",
                    retry_after=exc.retry_after,
                ) from exc
            delay = exc.retry_after if exc.retry_after is not None else retries.next_delay()
        else:
            failures = 0
            retries.reset()
            if snapshot.status.finished:
                return snapshot
            seen = (snapshot.raw_status, snapshot.progress)
            if seen != last_seen:
                polls.reset()
                last_seen = seen
            delay = polls.next_delay()
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            last = (
                f"last status {snapshot.status.value!r} (raw {snapshot.raw_status!r})"
                if snapshot is not None
                else "no status received"
            )
            raise JobTimeoutError(
                f"Job {job_id} did not finish within {limit:g}s ({last}). It keeps running at "
                f"the provider and stays tracked: re-attach with FineTuningJob.attach({job_id!r})"
                f" or `modelops finetune watch {job_id}`; raise [finetune] timeout or pass "
                "wait(timeout=...) to wait longer.",
                job_id=job_id,
            )
        clock.sleep(max(0.0, min(delay, remaining)))
