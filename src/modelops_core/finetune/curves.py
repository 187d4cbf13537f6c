"""Training curves of a fine-tuning job: did it learn, and how far along is it.

* :func:`learning_warning` reads the ``train_loss`` series a provider reports and says, in
  words a user can act on, when the loss barely fell (a learning rate far too small is the
  usual cause).
* :class:`ProgressEstimate` turns the progress a provider reports (``epoch 2/5``, ``step
  40/120``, or a bare fraction) into what a progress bar shows: the reported value, moved on by
  time between reports at the pace seen so far, never past the next report's value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from modelops_core.finetune.provider_contract import ProviderJob
    from modelops_core.store.contract import MetricPoint

#: a loss that fell by less than this share from its first to its last value "did not learn".
MIN_LOSS_DROP = 0.10


def loss_series(points: Sequence[MetricPoint], key: str = "train_loss") -> list[MetricPoint]:
    """The points of ``key`` in step order (the last value logged for a step wins)."""
    by_step = {point.step: point for point in points if point.key == key}
    return [by_step[step] for step in sorted(by_step)]


def learning_warning(
    points: Sequence[MetricPoint],
    learning_rate: float | None,
    *,
    threshold: float = MIN_LOSS_DROP,
) -> str | None:
    """A warning when ``train_loss`` fell by less than ``threshold`` (a share of its first
    value) from its first to its last point; None when it fell enough or there is no curve.

    >>> from modelops_core.store.contract import MetricPoint
    >>> learning_warning([MetricPoint("train_loss", 1.7875, 0),
    ...                   MetricPoint("train_loss", 1.7789, 3)], 1e-5)  # doctest: +ELLIPSIS
    'loss fell 0.5% (1.788 -> 1.779): the model barely learned; raise the learning rate ...'
    """
    series = loss_series(points)
    if len(series) < 2:
        return None
    first, last = series[0].value, series[-1].value
    if not first > 0:
        return None
    drop = (first - last) / first
    if drop >= threshold:
        return None
    if drop < 0:  # diverging: the steps overshoot
        lower = f", e.g. --learning-rate {learning_rate / 10:g}" if learning_rate else ""
        return (
            f"loss rose {-drop:.1%} ({first:.4g} -> {last:.4g}): the model did not learn; "
            f"lower the learning rate{lower}."
        )
    if learning_rate is not None:
        advice = (
            f"raise the learning rate, e.g. --learning-rate {learning_rate * 10:g} (10x the "
            f"{learning_rate:g} used), or leave it out for the provider's default"
        )
    else:
        advice = "raise the learning rate (--learning-rate) or train more epochs (--epochs)"
    return f"loss fell {drop:.1%} ({first:.4g} -> {last:.4g}): the model barely learned; {advice}."


@attrs.frozen
class Position:
    """Where a job is, as its provider counts: ``done`` of ``total`` ``unit`` (step, epoch)."""

    unit: str
    done: float
    total: float

    def text(self) -> str:
        return f"{self.unit} {self.done:g}/{self.total:g}"


_COUNTS = (("step", "step", "total_steps"), ("epoch", "epoch", "epochs"))


def reported_position(details: Mapping[str, Any]) -> Position | None:
    """The step (preferred) or epoch count in a snapshot's ``details``, when both the count
    and its total are there."""
    for unit, done_key, total_key in (
        ("step", "step", "total_steps"),
        ("epoch", "epoch", "epochs"),
    ):
        done, total = _number(details.get(done_key)), _number(details.get(total_key))
        if done is not None and total is not None and total > 0:
            return Position(unit, done, total)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class ProgressEstimate:
    """The fraction a progress bar shows for a job whose provider reports progress rarely.

    Between two reports the bar moves at the pace of the reports so far (fraction per second,
    from the first running report seen to the last), and stops short of the next step
    of the provider's count (one epoch or step ahead of the last report; 2% ahead when the
    provider reports a bare fraction), so it never runs past what the provider will report.
    A new report always wins, so the bar never goes backwards either.
    """

    def __init__(self) -> None:
        self._reported = 0.0
        self._reported_at: float | None = None
        self._first: tuple[float, float] | None = None  # (fraction, time) first seen running
        self._ceiling = 0.0
        self._shown = 0.0
        self.position: Position | None = None

    def report(self, snapshot: ProviderJob, now: float) -> None:
        """Take a snapshot the provider returned at ``now`` (monotonic seconds)."""
        if snapshot.status.value == "succeeded":
            fraction = 1.0
        else:
            fraction = min(max(snapshot.progress or 0.0, 0.0), 1.0)
        self.position = reported_position(snapshot.details)
        if self.position is not None and snapshot.progress is None:
            fraction = min(self.position.done / self.position.total, 1.0)
        if self._first is None and snapshot.status.value == "running":
            self._first = (fraction, now)
        if fraction != self._reported or self._reported_at is None:
            self._reported, self._reported_at = fraction, now
        if self.position is not None:
            next_step = (self.position.done + 1) / self.position.total
        else:
            next_step = fraction + 0.02
        finished = snapshot.status.finished
        self._ceiling = fraction if finished else min(max(next_step, fraction), 1.0)
        self._shown = max(self._shown, fraction) if not finished else fraction

    def fraction(self, now: float) -> float:
        """What to show at ``now``: the last report moved on by time, capped (0.0 to 1.0)."""
        if self._reported_at is None:
            return 0.0
        estimate = self._reported
        if self._first is not None:
            gained = self._reported - self._first[0]
            elapsed = self._reported_at - self._first[1]
            if gained > 0 and elapsed > 0:
                estimate = self._reported + gained / elapsed * (now - self._reported_at)
        self._shown = max(self._shown, min(estimate, self._ceiling))
        return self._shown

    def text(self) -> str:
        """The provider's own count (``epoch 2/5``), or empty when it reports none."""
        return self.position.text() if self.position is not None else ""
