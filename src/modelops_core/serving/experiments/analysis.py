"""The analysis of an experiment: units per arm, the sample-ratio check, each metric's effect
with fixed-horizon and always-valid intervals (CUPED when pre-period values exist), the
multiple-testing correction, the guardrails, the power warning, the effect over time, and the
decision.

The decision (:attr:`ExperimentAnalysis.decision`) reads the always-valid (mSPRT) results, so
it may be read at any time: ``invalid`` (sample ratio mismatch: fix the assignment first),
``rollback`` (a guardrail failed, or the primary metric is significantly worse), ``ship`` (the
primary metric is significantly better and every guardrail is shown within its limit),
``no-difference`` (the minimum sample is reached and nothing is significant), else
``keep-running``. Significance is the corrected (Holm or BH across metrics) always-valid
p-value below ``alpha``; the fixed-horizon interval is reported beside it and is valid only
when read once, at the planned sample.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from modelops_core.serving.experiments.definition import Experiment, Guardrail, Metric
from modelops_core.serving.experiments.stats import (
    Change,
    Interval,
    SampleRatio,
    always_valid,
    bootstrap_change,
    cuped,
    fixed_effect,
    mean_of,
    minimum_detectable,
    quantile_of,
    sample_ratio_check,
    units_needed,
)
from modelops_core.serving.experiments.store import Exposure, FeedbackRow

__all__ = [
    "DECISIONS",
    "ExperimentAnalysis",
    "GuardrailResult",
    "MetricResult",
    "TimelinePoint",
    "analyze",
]

DECISIONS = ("ship", "rollback", "invalid", "no-difference", "keep-running")
#: points of the effect-over-time series
TIMELINE_POINTS = 12
#: requests each arm needs before a guardrail is checked
GUARDRAIL_MINIMUM = 20
_POWER = 0.8


@attrs.frozen
class MetricResult:
    """One metric: the arms' means, the effect treatment - control with both intervals.

    :param fixed: the fixed-horizon test (Welch, or the two-proportion z-test).
    :param sequential: the always-valid mSPRT interval and p-value.
    :param adjusted_p: ``sequential.p_value`` corrected across the metrics (what decides).
    :param theta: CUPED's coefficient when pre-period values were used (else None).
    :param variance_reduction: the share of variance CUPED removed.
    :param detectable: the smallest absolute effect detectable with 80 % power now.
    """

    metric: str
    kind: str
    lower_is_better: bool
    control_units: int
    treatment_units: int
    control_mean: float
    treatment_mean: float
    fixed: Interval
    sequential: Interval
    adjusted_p: float
    adjusted_fixed_p: float
    significant: bool
    relative: float | None
    theta: float | None = None
    variance_reduction: float | None = None
    detectable: float | None = None

    @property
    def improved(self) -> bool:
        """Significant in the metric's good direction."""
        good = self.sequential.effect < 0 if self.lower_is_better else self.sequential.effect > 0
        return self.significant and good

    def to_dict(self) -> dict[str, Any]:
        values = attrs.asdict(self, recurse=False)
        values["fixed"] = self.fixed.to_dict()
        values["sequential"] = self.sequential.to_dict()
        return values


@attrs.frozen
class GuardrailResult:
    """A guardrail: the treatment's change and its one-sided bounds; ``state`` is ``pass``
    (the upper bound is under the limit), ``fail`` (the lower bound is over it),
    ``inconclusive`` or ``waiting`` (fewer than 20 requests in an arm)."""

    spec: str
    metric: str
    limit: float
    relative: bool
    state: str
    change: Change | None

    def to_dict(self) -> dict[str, Any]:
        values = attrs.asdict(self, recurse=False)
        values["change"] = None if self.change is None else self.change.to_dict()
        return values


@attrs.frozen
class TimelinePoint:
    """The primary metric's effect as it stood at ``timestamp``."""

    timestamp: float
    control_units: int
    treatment_units: int
    effect: float
    fixed_low: float
    fixed_high: float
    sequential_low: float
    sequential_high: float

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class ExperimentAnalysis:
    """Everything ``modelops experiment report`` shows (:meth:`to_dict` is its ``--json``)."""

    experiment: Experiment
    at: float
    sample_ratio: SampleRatio
    metrics: tuple[MetricResult, ...]
    guardrails: tuple[GuardrailResult, ...]
    timeline: tuple[TimelinePoint, ...]
    decision: str
    reason: str
    warnings: tuple[str, ...] = ()
    units_needed: int | None = None

    @property
    def primary(self) -> MetricResult | None:
        return self.metrics[0] if self.metrics else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment.to_dict(),
            "at": self.at,
            "decision": self.decision,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "units": {
                "control": self.sample_ratio.control,
                "treatment": self.sample_ratio.treatment,
            },
            "sample_ratio": self.sample_ratio.to_dict(),
            "metrics": [m.to_dict() for m in self.metrics],
            "guardrails": [g.to_dict() for g in self.guardrails],
            "units_needed": self.units_needed,
            "timeline": [p.to_dict() for p in self.timeline],
        }


def assign_units(exposures: Sequence[Exposure], experiment: Experiment) -> dict[str, str]:
    """Each unit's arm: the variant that first answered it."""
    arms: dict[str, str] = {}
    for exposure in exposures:
        arms.setdefault(exposure.unit, exposure.variant)
    return arms


def _values(
    metric: Metric,
    arms: dict[str, str],
    arm: str,
    events: dict[str, list[FeedbackRow]],
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """(values, pre-period values or NaN) of the units of ``arm`` on ``metric``."""
    values: list[float] = []
    pre: list[float] = []
    for unit, chosen in arms.items():
        if chosen != arm:
            continue
        rows = events.get(unit, [])
        if not rows and metric.kind == "mean":
            continue
        numbers = [row.value for row in rows]
        if metric.kind == "mean":
            values.append(math.fsum(numbers) / len(numbers))
        elif metric.kind == "sum":
            values.append(math.fsum(numbers))
        else:
            values.append(1.0 if any(n >= 1 for n in numbers) else 0.0)
        given = [row.pre for row in rows if row.pre is not None]
        pre.append(given[-1] if given else math.nan)
    return np.asarray(values, dtype=np.float64), np.asarray(pre, dtype=np.float64)


def _metric_result(
    metric: Metric,
    experiment: Experiment,
    arms: dict[str, str],
    events: dict[str, list[FeedbackRow]],
) -> MetricResult:
    treatment, pre_t = _values(metric, arms, experiment.treatment, events)
    control, pre_c = _values(metric, arms, experiment.control, events)
    level = 1 - experiment.alpha
    n_t, n_c = treatment.shape[0], control.shape[0]
    mean_t = float(treatment.mean()) if n_t else math.nan
    mean_c = float(control.mean()) if n_c else math.nan
    empty = Interval(math.nan, math.nan, math.nan, 1.0, math.nan)
    if n_t < 2 or n_c < 2:
        return MetricResult(
            metric.name,
            metric.kind,
            metric.lower_is_better,
            n_c,
            n_t,
            mean_c,
            mean_t,
            empty,
            empty,
            1.0,
            1.0,
            False,
            None,
        )
    theta = reduction = None
    kind = metric.kind
    adjusted = (
        cuped(treatment, control, pre_t, pre_c)
        if np.isfinite(np.concatenate([pre_t, pre_c])).any()
        else None
    )
    if adjusted is not None:
        treatment, control = adjusted.treatment, adjusted.control
        theta, reduction = adjusted.theta, adjusted.variance_reduction
        kind = "mean"  # adjusted values are no longer 0/1
    fixed = fixed_effect(treatment, control, kind, level=level)
    sequential = always_valid(
        fixed.effect, fixed.standard_error**2, n_t + n_c, alpha=experiment.alpha
    )
    relative = fixed.effect / mean_c if mean_c else None
    detectable = minimum_detectable(fixed.standard_error, alpha=experiment.alpha, power=_POWER)
    return MetricResult(
        metric.name,
        metric.kind,
        metric.lower_is_better,
        n_c,
        n_t,
        mean_c,
        mean_t,
        fixed,
        sequential,
        sequential.p_value,
        fixed.p_value,
        False,
        relative,
        theta,
        reduction,
        detectable,
    )


def _events(feedback: Sequence[FeedbackRow], metric: str) -> dict[str, list[FeedbackRow]]:
    found: dict[str, list[FeedbackRow]] = defaultdict(list)
    for row in feedback:
        if row.metric == metric:
            found[row.unit].append(row)
    return found


def _guardrail(
    guardrail: Guardrail, exposures: Sequence[Exposure], experiment: Experiment
) -> GuardrailResult:
    def arm(name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        if guardrail.metric == "error_rate":
            picked = [1.0 if e.status >= 500 else 0.0 for e in exposures if e.variant == name]
        else:
            picked = [e.latency_ms for e in exposures if e.variant == name]
        return np.asarray(picked, dtype=np.float64)

    treatment, control = arm(experiment.treatment), arm(experiment.control)
    if min(treatment.shape[0], control.shape[0]) < GUARDRAIL_MINIMUM:
        return GuardrailResult(
            guardrail.spec, guardrail.metric, guardrail.limit, guardrail.relative, "waiting", None
        )
    name = guardrail.metric
    statistic = (
        mean_of
        if name in ("error_rate", "latency_mean")
        else quantile_of(int(name.removeprefix("latency_p")) / 100)
    )
    seed = int(hashlib.sha256(f"{experiment.salt}\0{name}".encode()).hexdigest()[:8], 16)
    change = bootstrap_change(
        treatment,
        control,
        statistic,
        relative=guardrail.relative,
        level=1 - experiment.alpha,
        seed=seed,
    )
    if change.upper < guardrail.limit:
        state = "pass"
    elif change.lower > guardrail.limit:
        state = "fail"
    else:
        state = "inconclusive"
    return GuardrailResult(guardrail.spec, name, guardrail.limit, guardrail.relative, state, change)


def _corrected(results: list[MetricResult], experiment: Experiment) -> list[MetricResult]:
    from modelops_core.evaluation.stats.multiple import adjust

    sequential = adjust([r.sequential.p_value for r in results], experiment.correction)
    fixed = adjust([r.fixed.p_value for r in results], experiment.correction)
    return [
        attrs.evolve(
            r,
            adjusted_p=p,
            adjusted_fixed_p=q,
            significant=r.control_units >= 2 and r.treatment_units >= 2 and p < experiment.alpha,
        )
        for r, p, q in zip(results, sequential, fixed, strict=True)
    ]


def _timeline(
    experiment: Experiment,
    exposures: Sequence[Exposure],
    feedback: Sequence[FeedbackRow],
    now: float,
) -> tuple[TimelinePoint, ...]:
    if not exposures:
        return ()
    first = exposures[0].timestamp
    end = now if experiment.stopped_at is None else experiment.stopped_at
    last = max(end, exposures[-1].timestamp)
    points = []
    for step in range(1, TIMELINE_POINTS + 1):
        # the last point holds everything, so it equals the analysis itself
        cut = (
            first + (last - first) * step / TIMELINE_POINTS if step < TIMELINE_POINTS else math.inf
        )
        arms = assign_units([e for e in exposures if e.timestamp <= cut], experiment)
        events = _events([f for f in feedback if f.timestamp <= cut], experiment.primary.name)
        result = _metric_result(experiment.primary, experiment, arms, events)
        if result.control_units < 2 or result.treatment_units < 2:
            continue
        points.append(
            TimelinePoint(
                min(cut, last),
                result.control_units,
                result.treatment_units,
                result.fixed.effect,
                result.fixed.low,
                result.fixed.high,
                result.sequential.low,
                result.sequential.high,
            )
        )
    return tuple(points)


def analyze(
    experiment: Experiment,
    exposures: Sequence[Exposure],
    feedback: Sequence[FeedbackRow],
    *,
    now: float,
) -> ExperimentAnalysis:
    """The analysis of ``experiment`` from its logged exposures and stored feedback."""
    arms = assign_units(exposures, experiment)
    counts = {experiment.control: 0, experiment.treatment: 0}
    for chosen in arms.values():
        counts[chosen] = counts.get(chosen, 0) + 1
    n_c, n_t = counts[experiment.control], counts[experiment.treatment]
    ratio = sample_ratio_check(n_c, n_t, experiment.split)
    results = _corrected(
        [
            _metric_result(m, experiment, arms, _events(feedback, m.name))
            for m in experiment.metrics
        ],
        experiment,
    )
    guardrails = tuple(_guardrail(g, exposures, experiment) for g in experiment.guardrails)
    warnings: list[str] = []
    crossed = _crossed(exposures)
    if crossed:
        warnings.append(
            f"{crossed} unit(s) were answered by both arms (the split changed during the "
            "experiment?); each is counted in the arm that answered it first."
        )
    if ratio.p_value is None:
        warnings.append(
            f"The sample ratio is checked once each arm has 8 units ({n_c} control, {n_t} "
            "treatment so far)."
        )
    needed = _units_needed(experiment, results[0], n_c, n_t)
    target = max(experiment.min_sample, needed or 0)
    if target and min(n_c, n_t) < target:
        why = []
        if experiment.min_sample:
            why.append(f"--min-sample {experiment.min_sample}")
        if needed:
            why.append(
                f"{needed} to detect a {experiment.mde:.2%} change of "
                f"{experiment.primary.name} with 80% power"
            )
        warnings.append(
            f"Underpowered: {min(n_c, n_t)} units in the smaller arm, {target} wanted per arm "
            f"({'; '.join(why)}). A result now may not hold; keep the experiment running."
        )
    decision, reason = _decide(experiment, ratio, results, guardrails, n_c, n_t, target)
    return ExperimentAnalysis(
        experiment,
        now,
        ratio,
        tuple(results),
        guardrails,
        _timeline(experiment, exposures, feedback, now),
        decision,
        reason,
        tuple(warnings),
        needed,
    )


def _crossed(exposures: Sequence[Exposure]) -> int:
    seen: dict[str, set[str]] = defaultdict(set)
    for exposure in exposures:
        seen[exposure.unit].add(exposure.variant)
    return sum(1 for variants in seen.values() if len(variants) > 1)


def _units_needed(experiment: Experiment, primary: MetricResult, n_c: int, n_t: int) -> int | None:
    """Units per arm (the larger arm's need) to detect ``mde`` with 80 % power, or None."""
    if experiment.mde is None or primary.control_units < 2 or primary.treatment_units < 2:
        return None
    se = primary.fixed.standard_error
    if not math.isfinite(se) or se <= 0 or not primary.control_mean:
        return None
    # the pooled standard deviation of one unit, from the effect's standard error
    sd = se / math.sqrt(1 / primary.treatment_units + 1 / primary.control_units)
    effect_size = experiment.mde * abs(primary.control_mean) / sd
    ratio = (100 - experiment.split) / experiment.split
    treatment = units_needed(effect_size, alpha=experiment.alpha, power=_POWER, ratio=ratio)
    return math.ceil(max(treatment, treatment * ratio))


def _decide(
    experiment: Experiment,
    ratio: SampleRatio,
    results: Sequence[MetricResult],
    guardrails: Sequence[GuardrailResult],
    n_c: int,
    n_t: int,
    target: int,
) -> tuple[str, str]:
    primary = results[0]
    name = primary.metric
    if ratio.mismatch:
        return "invalid", (
            f"Sample ratio mismatch: {n_c} control and {n_t} treatment units for a "
            f"{100 - experiment.split:g}/{experiment.split:g} split (chi-square p = "
            f"{ratio.p_value:.2g} < 0.001). The assignment or the logging is broken, so no "
            "effect can be trusted; find the cause before deciding."
        )
    failed = [g for g in guardrails if g.state == "fail"]
    if failed:
        shown = "; ".join(_guardrail_text(g) for g in failed)
        return "rollback", f"Guardrail failed: {shown}. Roll the treatment back."
    interval = f"[{primary.sequential.low:.4g}, {primary.sequential.high:.4g}]"
    if primary.significant and not primary.improved:
        return "rollback", (
            f"{experiment.treatment} is significantly worse on {name}: "
            f"{primary.sequential.effect:+.4g} (always-valid {1 - experiment.alpha:.0%} "
            f"interval {interval})."
        )
    if primary.improved:
        waiting = [g for g in guardrails if g.state != "pass"]
        if waiting:
            return "keep-running", (
                f"{experiment.treatment} is better on {name} ({primary.sequential.effect:+.4g}, "
                f"interval {interval}), but guardrail(s) "
                f"{', '.join(g.spec for g in waiting)} are not yet shown within their limits."
            )
        return "ship", (
            f"{experiment.treatment} is significantly better on {name}: "
            f"{primary.sequential.effect:+.4g} (always-valid {1 - experiment.alpha:.0%} "
            f"interval {interval}, corrected p = {primary.adjusted_p:.2g}); every guardrail "
            "holds."
        )
    if target and min(n_c, n_t) >= target:
        return "no-difference", (
            f"No significant difference on {name} at {min(n_c, n_t)} units per arm "
            f"(interval {interval}); the arms are equivalent within it."
        )
    return "keep-running", (
        f"No significant difference on {name} yet ({primary.sequential.effect:+.4g}, "
        f"always-valid interval {interval}); keep collecting."
    )


def _guardrail_text(guardrail: GuardrailResult) -> str:
    change = guardrail.change
    if change is None:
        return guardrail.spec
    if guardrail.relative:
        return (
            f"{guardrail.spec}: {guardrail.metric} {change.change:+.1%} (at least "
            f"{change.lower:+.1%})"
        )
    return (
        f"{guardrail.spec}: {guardrail.metric} {change.change:+.4g} (at least {change.lower:+.4g})"
    )
