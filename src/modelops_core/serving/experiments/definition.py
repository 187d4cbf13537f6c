"""What an experiment is: a model, a control and a treatment alias, the treatment's share of
traffic, the metrics that decide it and the guardrails that may stop it.

Metric specs (``--metric``) are ``NAME[:KIND][:lower]``: ``NAME`` is the outcome name feedback
carries, ``KIND`` says how a unit's feedback becomes one number (:data:`METRIC_KINDS`), and
``lower`` marks a metric whose decrease is the improvement (a handling time). The first metric
is the primary one (the decision); the others are reported and share the multiple-testing
correction.

Guardrail specs (``--guardrail``) are ``METRIC<+LIMIT`` on a request-log metric
(:data:`GUARDRAIL_METRICS`): ``latency_p99<+10%`` allows the treatment's p99 latency at most
10 % above the control's (a relative change), ``error_rate<+0.01`` at most one percentage
point more errors (a difference). The check is one-sided.
"""

from __future__ import annotations

import math
import re
from typing import Any

import attrs

from modelops_core.serving.experiments.errors import (
    ExperimentDefinitionError,
    UnknownMetricError,
)

__all__ = [
    "CORRECTIONS",
    "GUARDRAIL_METRICS",
    "METRIC_KINDS",
    "Experiment",
    "Guardrail",
    "Metric",
    "parse_guardrail",
    "parse_metric",
]

#: how a unit's feedback on a metric becomes its value, and what a unit without feedback counts
METRIC_KINDS = {
    "mean": "the mean of the unit's values; units without feedback are left out",
    "sum": "the sum of the unit's values; a unit without feedback counts 0 (revenue per unit)",
    "proportion": "1 if any of the unit's values is 1, else 0; values must be 0 or 1 "
    "(a unit without feedback counts 0: it did not convert)",
}
#: the request-log metrics a guardrail may watch
GUARDRAIL_METRICS = {
    "latency_p50": "median latency (ms)",
    "latency_p90": "90th percentile latency (ms)",
    "latency_p95": "95th percentile latency (ms)",
    "latency_p99": "99th percentile latency (ms)",
    "latency_mean": "mean latency (ms)",
    "error_rate": "share of requests answered with status 500 or more",
}
#: multiple-testing corrections across the metrics (Holm: family-wise error; BH: false discovery)
CORRECTIONS = ("holm", "bh")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_GUARDRAIL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*<\s*\+?\s*([0-9.eE+-]+)\s*(%?)\s*")


@attrs.frozen
class Metric:
    """A metric of an experiment: its outcome name, its kind, and which way is better."""

    name: str
    kind: str = "mean"
    lower_is_better: bool = False

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.kind}" + (":lower" if self.lower_is_better else "")


@attrs.frozen
class Guardrail:
    """``metric`` of the treatment may exceed the control's by at most ``limit`` (a relative
    change when ``relative``, else a difference), shown one-sided."""

    metric: str
    limit: float
    relative: bool

    @property
    def spec(self) -> str:
        return (
            f"{self.metric}<+{self.limit * 100:g}%"
            if self.relative
            else (f"{self.metric}<+{self.limit:g}")
        )


def parse_metric(spec: str) -> Metric:
    """``"resolved:proportion"`` -> ``Metric("resolved", "proportion")``; bad specs raise
    :class:`UnknownMetricError` naming the kinds and the guardrail metrics."""
    parts = spec.strip().split(":") if isinstance(spec, str) else [""]
    name = parts[0]
    if name in GUARDRAIL_METRICS:
        raise UnknownMetricError(
            f"{name!r} is a request-log metric: watch it with --guardrail (e.g. "
            f"--guardrail {name}<+10%); a --metric is an outcome the feedback reports, such as "
            "resolved:proportion."
        )
    if not _NAME.fullmatch(name):
        raise ExperimentDefinitionError(
            f"Invalid metric name {name!r} in --metric {spec!r}: use 1-64 letters, digits, '_', "
            "'.' and '-', starting with a letter or '_' (e.g. resolved:proportion)."
        )
    kind = parts[1] if len(parts) > 1 and parts[1] else "mean"
    if kind not in METRIC_KINDS:
        kinds = "; ".join(f"{k}: {what}" for k, what in METRIC_KINDS.items())
        raise UnknownMetricError(
            f"Unknown metric kind {kind!r} in --metric {spec!r}. Kinds: {kinds}."
        )
    direction = parts[2] if len(parts) > 2 else "higher"
    if direction not in ("lower", "higher") or len(parts) > 3:
        raise ExperimentDefinitionError(
            f"--metric {spec!r} is not NAME[:KIND][:lower]; the third part may only be 'lower' "
            "(a decrease is the improvement) or 'higher'."
        )
    return Metric(name, kind, direction == "lower")


def parse_guardrail(spec: str) -> Guardrail:
    """``"latency_p99<+10%"`` -> ``Guardrail("latency_p99", 0.10, relative=True)``."""
    match = _GUARDRAIL.fullmatch(spec) if isinstance(spec, str) else None
    if match is None:
        raise ExperimentDefinitionError(
            f"--guardrail {spec!r} is not METRIC<+LIMIT: write e.g. latency_p99<+10% (at most "
            "10 % slower than the control) or error_rate<+0.01 (at most 1 point more errors)."
        )
    metric, number, percent = match.groups()
    if metric not in GUARDRAIL_METRICS:
        from modelops_core.errors import did_you_mean

        raise UnknownMetricError(
            f"Unknown guardrail metric {metric!r} in --guardrail {spec!r}."
            f"{did_you_mean(metric, GUARDRAIL_METRICS)} Guardrail metrics (from the request "
            f"log): {', '.join(GUARDRAIL_METRICS)}."
        )
    try:
        limit = float(number)
    except ValueError:
        limit = math.nan
    if not math.isfinite(limit) or limit < 0:
        raise ExperimentDefinitionError(
            f"The limit of --guardrail {spec!r} must be a number at least 0, got {number!r}."
        )
    return Guardrail(metric, limit / 100 if percent else limit, bool(percent))


@attrs.frozen
class Experiment:
    """A stored experiment (see :class:`~modelops_core.serving.experiments.store.ExperimentStore`).

    :param split: the treatment's percent of the traffic (the control gets the rest).
    :param min_sample: units each arm needs before the result is final (0: no minimum).
    :param mde: the smallest relative change of the primary metric worth detecting (0.02 for
        2 %), for the power warning; None when not given.
    :param salt: the traffic split's salt while the experiment runs (units hash with it).
    :param previous: the model's traffic split before the start (restored by stop), or None.
    """

    name: str
    model: str
    control: str
    treatment: str
    split: float
    metrics: tuple[Metric, ...]
    guardrails: tuple[Guardrail, ...] = ()
    min_sample: int = 0
    mde: float | None = None
    correction: str = "holm"
    alpha: float = 0.05
    salt: str = ""
    status: str = "running"
    started_at: float = 0.0
    stopped_at: float | None = None
    previous: dict[str, Any] | None = attrs.field(default=None, eq=False)
    created_by: str = ""

    @property
    def primary(self) -> Metric:
        return self.metrics[0]

    def metric(self, name: str | None) -> Metric:
        """The metric called ``name`` (the only one when ``name`` is None)."""
        if name is None:
            if len(self.metrics) == 1:
                return self.metrics[0]
            raise UnknownMetricError(
                f"Experiment {self.name!r} has several metrics "
                f'({", ".join(m.name for m in self.metrics)}); say which with "metric".'
            )
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise UnknownMetricError(
            f"Experiment {self.name!r} has no metric {name[:64]!r} (its metrics: "
            f"{', '.join(m.name for m in self.metrics)}); send feedback for one of them, or "
            "start an experiment that names it with --metric."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "control": self.control,
            "treatment": self.treatment,
            "split": self.split,
            "metrics": [m.spec for m in self.metrics],
            "guardrails": [g.spec for g in self.guardrails],
            "min_sample": self.min_sample,
            "mde": self.mde,
            "correction": self.correction,
            "alpha": self.alpha,
            "salt": self.salt,
            "status": self.status,
            "started_at": self.started_at,
            "stopped_at": self.stopped_at,
            "created_by": self.created_by,
        }


def check_definition(
    name: str,
    model: str,
    control: str,
    treatment: str,
    split: float,
    metrics: tuple[Metric, ...],
    min_sample: int,
    mde: float | None,
    correction: str,
    alpha: float,
) -> None:
    """Refuse what no experiment can run with; each error names the option."""
    from modelops_core.registry.model_registry import validate_alias, validate_model_name
    from modelops_core.store.contract import InvalidModelNameError

    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ExperimentDefinitionError(
            f"Invalid experiment name {name!r}: use 1-64 letters, digits, '_', '.' and '-', "
            "starting with a letter or '_'."
        )
    try:
        validate_model_name(model)
        validate_alias(control)
        validate_alias(treatment)
    except InvalidModelNameError as exc:
        raise ExperimentDefinitionError(f"Experiment {name!r}: {exc}") from exc
    if control == treatment:
        raise ExperimentDefinitionError(
            f"--control and --treatment are both {control!r}; an experiment compares two "
            "aliases (e.g. --control production --treatment candidate)."
        )
    ok = isinstance(split, int | float) and not isinstance(split, bool) and math.isfinite(split)
    if not ok or not 0 < split < 100:
        raise ExperimentDefinitionError(
            f"--split {split!r} is not a percent between 0 and 100 (exclusive): it is the "
            "treatment's share of the traffic, e.g. --split 50 (or 10 for a cautious start)."
        )
    if not metrics:
        raise ExperimentDefinitionError(
            "An experiment needs at least one --metric (the first decides), e.g. "
            "--metric resolved:proportion."
        )
    names = [metric.name for metric in metrics]
    if len(set(names)) != len(names):
        raise ExperimentDefinitionError(f"A --metric is given twice ({', '.join(names)}).")
    if isinstance(min_sample, bool) or not isinstance(min_sample, int) or min_sample < 0:
        raise ExperimentDefinitionError(
            f"--min-sample must be a whole number of units per arm, at least 0, got {min_sample!r}."
        )
    if mde is not None and (not math.isfinite(mde) or mde <= 0):
        raise ExperimentDefinitionError(
            f"--mde must be a positive relative change (e.g. 2% or 0.02), got {mde!r}."
        )
    if correction not in CORRECTIONS:
        raise ExperimentDefinitionError(
            f"--correction {correction!r}: use one of {', '.join(CORRECTIONS)}."
        )
    if not 0 < alpha < 0.5:
        raise ExperimentDefinitionError(f"--alpha must lie in (0, 0.5), got {alpha!r}.")
