"""Progress as the provider reports it, moved on by time between rare reports; and the
warning for a loss that barely fell."""

from __future__ import annotations

import pytest

from modelops_core.finetune.curves import ProgressEstimate, learning_warning, reported_position
from modelops_core.finetune.provider_contract import JobStatus, ProviderJob
from modelops_core.store.contract import MetricPoint


def snapshot(status: str = "running", progress: float | None = None, **details: int) -> ProviderJob:
    return ProviderJob(
        id="job-1",
        provider="openai",
        status=JobStatus(status),
        raw_status=status,
        model="gpt-4o-mini",
        progress=progress,
        details=details,
    )


def test_a_provider_that_reports_rarely_is_interpolated_by_time_not_jumped() -> None:
    # The provider reports 4% at t=0, 26% at t=22 s (steps 4 and 26 of 100), then nothing.
    estimate = ProgressEstimate()
    estimate.report(snapshot(progress=0.04, step=4, total_steps=100), now=0.0)
    assert estimate.fraction(now=10.0) == 0.04  # no pace known yet: stay at the report
    estimate.report(snapshot(progress=0.26, step=26, total_steps=100), now=22.0)
    assert estimate.text() == "step 26/100"
    # 22 points in 22 s: one point a second, moved on by time between reports ...
    assert estimate.fraction(now=22.5) == pytest.approx(0.265)
    # ... but never past the next step the provider has not reported yet
    assert estimate.fraction(now=40.0) == pytest.approx(0.27)
    # a report below what was shown does not move the bar backwards
    estimate.report(snapshot(progress=0.265, step=26, total_steps=100), now=41.0)
    assert estimate.fraction(now=41.0) == pytest.approx(0.27)
    estimate.report(snapshot("succeeded", progress=None, step=100, total_steps=100), now=60.0)
    assert estimate.fraction(now=61.0) == 1.0


def test_epochs_are_the_count_when_the_provider_reports_no_steps() -> None:
    estimate = ProgressEstimate()
    estimate.report(snapshot(epoch=2, epochs=5), now=0.0)
    assert estimate.text() == "epoch 2/5"
    assert estimate.fraction(now=0.0) == pytest.approx(0.4)
    assert reported_position({"epoch": True, "epochs": 5}) is None  # a flag is not a count


def test_a_loss_that_barely_fell_is_a_warning_with_what_to_do() -> None:
    flat = [MetricPoint("train_loss", 1.7875, 0), MetricPoint("train_loss", 1.7789, 30)]
    assert learning_warning(flat, 1e-05) == (
        "loss fell 0.5% (1.788 -> 1.779): the model barely learned; raise the learning rate, "
        "e.g. --learning-rate 0.0001 (10x the 1e-05 used), or leave it out for the provider's "
        "default."
    )
    assert learning_warning(flat, None) == (
        "loss fell 0.5% (1.788 -> 1.779): the model barely learned; raise the learning rate "
        "(--learning-rate) or train more epochs (--epochs)."
    )
    falling = [MetricPoint("train_loss", 1.79, 0), MetricPoint("train_loss", 0.24, 30)]
    assert learning_warning(falling, None) is None
    assert learning_warning(falling[:1], None) is None  # one point is no curve
    rising = [MetricPoint("train_loss", 1.0, 0), MetricPoint("train_loss", 1.2, 1)]
    assert learning_warning(rising, 0.5) == (
        "loss rose 20.0% (1 -> 1.2): the model did not learn; lower the learning rate, e.g. "
        "--learning-rate 0.05."
    )
