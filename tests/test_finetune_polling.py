"""Backoff with full jitter, the polling loop and the [finetune] settings, on a fake clock."""

from __future__ import annotations

import random

import pytest
from finetune_support import FakeClock

from modelops_core.errors import ConfigTypeError, UnknownConfigKeyError
from modelops_core.finetune.errors import JobTimeoutError
from modelops_core.finetune.polling import Backoff, poll_until_finished
from modelops_core.finetune.provider_contract import (
    JobStatus,
    ProviderJob,
    ProviderUnavailableError,
)
from modelops_core.finetune.settings import FineTuneSettings


def snapshot(raw: str, status: JobStatus, progress: float | None = None) -> ProviderJob:
    return ProviderJob("job-9", "test", status, raw, "m", progress=progress)


def test_backoff_delays_stay_within_the_doubling_ceiling() -> None:
    backoff = Backoff(base=2.0, cap=30.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert all(0.2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays
    assert len(set(delays)) == len(delays)  # jittered, not a fixed schedule
    backoff.reset()
    assert backoff.next_delay() <= 2.0


def test_backoff_is_reproducible_for_a_seed() -> None:
    def delays(seed: int) -> list[float]:
        backoff = Backoff(1.0, 60.0, random.Random(seed))
        return [backoff.next_delay() for _ in range(5)]

    assert delays(3) == delays(3) != delays(4)


def test_polling_backs_off_while_nothing_changes_and_resets_on_a_change() -> None:
    script = iter(
        [snapshot("running", JobStatus.RUNNING, 0.1)] * 6
        + [snapshot("running", JobStatus.RUNNING, 0.6)]
        + [snapshot("succeeded", JobStatus.SUCCEEDED, 1.0)]
    )
    clock = FakeClock()
    settings = FineTuneSettings(poll_interval=1.0, max_poll_interval=100.0)
    final = poll_until_finished(
        lambda: next(script), job_id="job-9", settings=settings, clock=clock,
        rng=random.Random(0),
    )  # fmt: skip
    assert final.status is JobStatus.SUCCEEDED
    ceilings = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 1.0]  # the progress change starts again
    assert all(s <= c for s, c in zip(clock.sleeps, ceilings, strict=True)), clock.sleeps


def test_transient_errors_are_retried_a_bounded_number_of_times() -> None:
    calls = []

    def fetch() -> ProviderJob:
        calls.append(1)
        raise ProviderUnavailableError("503 Service Unavailable")

    clock = FakeClock()
    with pytest.raises(ProviderUnavailableError, match="503.*after 3 retries"):
        poll_until_finished(
            fetch, job_id="job-9", settings=FineTuneSettings(max_retries=3), clock=clock,
            rng=random.Random(0),
        )  # fmt: skip
    assert len(calls) == 4 and len(clock.sleeps) == 3


def test_the_deadline_is_kept_exactly() -> None:
    clock = FakeClock()
    with pytest.raises(JobTimeoutError, match="within 25s"):
        poll_until_finished(
            lambda: snapshot("queued", JobStatus.QUEUED), job_id="job-9",
            settings=FineTuneSettings(poll_interval=10.0), clock=clock, rng=random.Random(0),
            timeout=25,
        )  # fmt: skip
    assert sum(clock.sleeps) == pytest.approx(25)


def test_settings_from_the_table() -> None:
    settings = FineTuneSettings.from_table({"poll_interval": 2, "timeout": 60, "register": "bot"})
    assert (settings.poll_interval, settings.timeout, settings.register) == (2.0, 60.0, "bot")
    assert settings.max_retries == 5


@pytest.mark.parametrize(
    ("table", "error", "match"),
    [
        ({"time_out": 3}, UnknownConfigKeyError, "Did you mean 'timeout'"),
        ({"poll_interval": 0}, ConfigTypeError, "above 0"),
        ({"max_retries": -1}, ConfigTypeError, ">= 0"),
        ({"register": ""}, ConfigTypeError, "model name"),
        ({"poll_interval": 60, "max_poll_interval": 10}, ConfigTypeError, "below"),
    ],
)
def test_bad_settings_say_what_to_fix(table: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        FineTuneSettings.from_table(table)
