"""The evaluation engine: check inputs, compute metrics, per-group values, intervals, curves.

:func:`evaluate_predictions` is what ``Evaluator``, ``ModelEvaluator`` and ``modelops eval
run`` call. It returns an :class:`EvaluationResult` and fires ``modelops_after_evaluate``.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from modelops_core.evaluation.inputs import (
    EvaluationInputError,
    as_column,
    check_labels,
    check_lengths,
    check_scores,
)
from modelops_core.evaluation.metric_spec import (
    Columns,
    MetricSpec,
    is_scalar,
    keyword_parameters,
)
from modelops_core.evaluation.result import EvaluationResult, Interval
from modelops_core.plugins.kinds import Kind

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime

MetricRequest = Any  # a name, a ComponentChoice, a Metric / component object, or a function


def build_specs(
    metrics: Sequence[MetricRequest] | Mapping[str, Any], runtime: Runtime | None
) -> list[MetricSpec]:
    """Metric specs from names / config choices (built by ``runtime``), objects or functions."""
    from modelops_core.config import ComponentChoice

    items: list[tuple[str | None, Any]] = (
        list(metrics.items()) if isinstance(metrics, Mapping) else [(None, m) for m in metrics]
    )
    specs = []
    for label, item in items:
        if isinstance(item, str | ComponentChoice):
            if runtime is None:
                raise EvaluationInputError(
                    f"metric {item!r} is a name; pass runtime= to build it from the plugins.",
                    argument="metrics",
                )
            choice = ComponentChoice(item) if isinstance(item, str) else item
            metric = runtime.create(Kind.METRIC, choice)
            name = label or choice.name
            record = {"component": choice.name, "options": dict(choice.options)}
            specs.append(_spec(name, metric, choice.name, record))
        else:
            name = label or str(getattr(item, "name", "") or getattr(item, "__name__", "metric"))
            specs.append(_spec(name, item, str(getattr(item, "name", "") or name), None))
    return _unique_names(specs)


def _unique_names(specs: list[MetricSpec]) -> list[MetricSpec]:
    """A metric asked for twice with other options is named after them (``f1[average=micro]``);
    asked for twice with the same options, it is an error rather than a silent overwrite."""
    import attrs

    seen: set[str] = set()
    unique = []
    for spec in specs:
        name = spec.name
        if name in seen and spec.choice and spec.choice.get("options"):
            options = ",".join(f"{k}={v}" for k, v in sorted(spec.choice["options"].items()))
            name = f"{spec.name}[{options}]"
        if name in seen:
            raise EvaluationInputError(
                f"metric {spec.name!r} is listed twice with the same options; list it once, or "
                "give the second one other options.",
                argument="metrics",
            )
        seen.add(name)
        unique.append(spec if name == spec.name else attrs.evolve(spec, name=name))
    return unique


def _spec(name: str, metric: Any, component: str, record: Mapping[str, Any] | None) -> MetricSpec:
    # what a metric needs is declared on it (Metric.needs_scores …), never listed here
    needs_scores = bool(getattr(metric, "needs_scores", False))
    direction = getattr(metric, "higher_is_better", None)
    return MetricSpec(name, metric, needs_scores, direction, record)


def evaluate_predictions(
    predictions: Any,
    references: Any,
    *,
    metrics: Sequence[MetricRequest] | Mapping[str, Any],
    runtime: Runtime | None = None,
    scores: Any = None,
    groups: Any = None,
    labels: Sequence[Any] | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
    level: float = 0.95,
    method: str = "percentile",
    model_id: str | None = None,
    dataset_fingerprint: str | None = None,
    task: str | None = None,
    keep_examples: bool = True,
    pos_label: Any = 1,
    columns: Mapping[str, Sequence[Any]] | None = None,
) -> EvaluationResult:
    """Compute ``metrics`` over aligned columns and return an :class:`EvaluationResult`.

    :param scores: per-example scores or probabilities (1-D for binary, ``(n, k)`` for
        multiclass); metrics such as ``auc_roc`` or ``log_loss`` take them as predictions.
    :param groups: per-example group labels; every scalar metric is also computed per group.
    :param labels: the declared labels; a prediction or reference outside them is an error.
    :param bootstrap: resamples for confidence intervals of scalar metrics (0: none).
    :param method: ``percentile``, ``basic`` or ``bca``.
    :param keep_examples: store the per-example columns in the result (for paired A/B tests).
    :param columns: other per-example columns by name (``latency_ms`` …); a metric whose
        ``compute`` takes a keyword of that name receives the column.
    """
    from modelops_core.evaluation.stats.bootstrap import check_request

    started = time.perf_counter()
    specs = build_specs(metrics, runtime)
    if not specs:
        raise EvaluationInputError("no metrics chosen; name at least one.", argument="metrics")
    if bootstrap:
        check_request(bootstrap, level, method)
    data = _columns(predictions, references, scores, groups, labels, specs, columns or {})
    values: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for spec in specs:
        tick = time.perf_counter()
        values[spec.name] = _plain(spec.compute(data))
        timings[spec.name] = time.perf_counter() - tick
    scalar = [spec for spec in specs if is_scalar(values[spec.name])]
    per_group, group_sizes = _per_group(scalar, data, values)
    intervals: dict[str, Interval] = {}
    group_intervals: dict[str, dict[str, Interval]] = {}
    if bootstrap:
        tick = time.perf_counter()
        intervals = _intervals(scalar, data, values, bootstrap, seed, level, method)
        group_intervals = _group_intervals(scalar, data, per_group, bootstrap, seed, level, method)
        timings["bootstrap"] = time.perf_counter() - tick
    curves = _curves(data, pos_label)
    timings["total"] = time.perf_counter() - started
    result = EvaluationResult(
        metrics=values,
        n=data.n,
        model_id=model_id,
        dataset_fingerprint=dataset_fingerprint,
        task=None if task is None else str(task),
        seed=seed if bootstrap else None,
        intervals=intervals,
        per_group=per_group,
        group_sizes=group_sizes,
        group_intervals=group_intervals,
        higher_is_better={spec.name: spec.higher_is_better for spec in specs},
        timings=timings,
        curves=curves,
        per_example=_examples(data) if keep_examples else None,
        created_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        metric_choices={spec.name: spec.choice for spec in specs if spec.choice is not None},
    )
    if runtime is not None:
        runtime.hook.modelops_after_evaluate(result=result, runtime=runtime)
    return result


def _columns(
    predictions: Any,
    references: Any,
    scores: Any,
    groups: Any,
    labels: Sequence[Any] | None,
    specs: Sequence[MetricSpec],
    others: Mapping[str, Sequence[Any]],
) -> Columns:
    predicted = as_column(predictions, "predictions")
    actual = as_column(references, "references")
    score_column = None if scores is None else as_column(scores, "scores")
    group_column = None if groups is None else as_column(groups, "groups")
    extra = {name: as_column(values, name) for name, values in others.items()}
    check_lengths(
        {"predictions": predicted, "references": actual, "scores": score_column,
         "groups": group_column, **extra}
    )  # fmt: skip
    wanting = [spec.name for spec in specs if spec.needs_scores]
    if score_column is None and wanting:
        raise EvaluationInputError(
            f"metric {wanting[0]!r} needs scores (probabilities); pass scores= (CLI: --scores "
            "COLUMN) or drop the metric.",
            argument="scores",
        )
    if score_column is not None:
        probabilities = any(getattr(spec.metric, "needs_probabilities", False) for spec in specs)
        score_column = check_scores(score_column, probabilities=probabilities)
    if labels is not None:
        check_labels(actual, labels, "references")
        check_labels(predicted, labels, "predictions")
    return Columns(predicted, actual, score_column, group_column, extra)


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (results are JSON-friendly)."""
    return value.item() if isinstance(value, np.generic) else value


def _per_group(
    scalar: Sequence[MetricSpec], columns: Columns, values: Mapping[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    if columns.groups is None:
        return {}, {}
    names, codes = np.unique(columns.groups.astype(str), return_inverse=True)
    sizes = {str(name): int(size) for name, size in zip(names, np.bincount(codes), strict=True)}
    per_group: dict[str, dict[str, Any]] = {}
    for spec in scalar:
        if "groups" in keyword_parameters(getattr(spec.metric, "compute", spec.metric)):
            continue  # a fairness metric: it is already about the groups
        group_values = {}
        for index, name in enumerate(names):
            subset = columns.take(np.flatnonzero(codes == index))
            try:
                group_values[str(name)] = _plain(spec.compute(subset))
            except ValueError:  # e.g. AUC of a group holding one class
                group_values[str(name)] = float("nan")
        per_group[spec.name] = group_values
    return per_group, sizes


def _intervals(
    scalar: Sequence[MetricSpec],
    columns: Columns,
    values: Mapping[str, Any],
    resamples: int,
    seed: int | None,
    level: float,
    method: str,
) -> dict[str, Interval]:
    from modelops_core.evaluation.intervals import bootstrap_metric

    intervals = {}
    for spec in scalar:
        estimate = bootstrap_metric(
            spec, columns, values[spec.name], resamples=resamples, seed=seed,
            jackknife=method == "bca",
        )  # fmt: skip
        low, high = estimate.interval(level, method)
        intervals[spec.name] = Interval(low, high, level, method, resamples)
    return intervals


def _group_intervals(
    scalar: Sequence[MetricSpec],
    columns: Columns,
    per_group: Mapping[str, Mapping[str, Any]],
    resamples: int,
    seed: int | None,
    level: float,
    method: str,
) -> dict[str, dict[str, Interval]]:
    """Intervals of each metric within each group (the group's rows resampled on their own);
    a group where a metric cannot be computed (e.g. AUC of one class) gets none."""
    if columns.groups is None or not per_group:
        return {}
    names, codes = np.unique(columns.groups.astype(str), return_inverse=True)
    found: dict[str, dict[str, Interval]] = {}
    for index, name in enumerate(names.tolist()):
        subset = columns.take(np.flatnonzero(codes == index))
        for spec in scalar:
            value = per_group.get(spec.name, {}).get(name)
            if not is_scalar(value) or value != value:
                continue  # not computed per group, or NaN in this group
            try:
                interval = _intervals([spec], subset, {spec.name: value}, resamples, seed,
                                      level, method)[spec.name]  # fmt: skip
            except ValueError:  # e.g. a resample of one class
                continue
            found.setdefault(spec.name, {})[name] = interval
    return found


def _curves(columns: Columns, pos_label: Any) -> dict[str, Any]:
    """ROC, PR and reliability points (binary scores), one-vs-rest curves (multiclass scores)
    and the confusion matrix (labels)."""
    from modelops_core.evaluation.report.curves import one_vs_rest, summary
    from modelops_core.evaluation.stats.thresholds import downsample, sweep

    curves: dict[str, Any] = {}
    predicted, actual = columns.predictions, columns.references
    labels = np.unique(np.concatenate([actual, predicted])) if _labelled(columns) else None
    if labels is not None and labels.shape[0] <= 50:
        codes_actual = np.searchsorted(labels, actual)
        codes_predicted = np.searchsorted(labels, predicted)
        k = labels.shape[0]
        matrix = np.bincount(codes_actual * k + codes_predicted, minlength=k * k).reshape(k, k)
        curves["confusion"] = {"labels": labels.tolist(), "matrix": matrix.tolist()}
    scores = columns.scores
    if scores is not None and scores.ndim == 1 and np.unique(actual).shape[0] == 2:
        positive = pos_label if pos_label in set(np.unique(actual).tolist()) else actual.max()
        points = sweep(scores, actual, pos_label=positive)
        keep = downsample(points.thresholds.shape[0])
        table = points.as_dict()
        table["thresholds"] = [float(t) for t in points.thresholds]
        curves["roc"] = {key: [table[key][i] for i in keep] for key in ("fpr", "tpr")}
        curves["pr"] = {key: [table[key][i] for i in keep] for key in ("recall", "precision")}
        areas = summary(points)  # the report's legends and PR baseline, from every point
        curves["roc"]["auc"] = areas["auc"]
        curves["pr"].update(average_precision=areas["average_precision"],
                            prevalence=areas["prevalence"])  # fmt: skip
        if scores.min() >= 0 and scores.max() <= 1:
            curves["calibration"] = _reliability(scores, actual == positive)
    elif scores is not None and scores.ndim == 2 and actual.ndim == 1:
        ovr = one_vs_rest(scores, actual, predicted)
        if ovr is not None:
            curves["one_vs_rest"] = ovr
    return curves


def _labelled(columns: Columns) -> bool:
    """Predictions look like labels: 1-D, not floats, and of the references' kind."""
    predicted, actual = columns.predictions, columns.references
    return (
        predicted.ndim == 1
        and predicted.dtype.kind not in "fcO"
        and actual.dtype.kind not in "fcO"
        and (predicted.dtype.kind == "U") == (actual.dtype.kind == "U")
    )


def _reliability(scores: NDArray[np.float64], positive: NDArray[Any], bins: int = 10) -> Any:
    """Uniform-bin reliability points: mean predicted, observed frequency, count per bin."""
    index = np.minimum((scores * bins).astype(np.intp), bins - 1)
    counts = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=scores, minlength=bins)
    observed = np.bincount(index, weights=positive.astype(np.float64), minlength=bins)
    used = counts > 0
    return {
        "mean_predicted": (predicted[used] / counts[used]).tolist(),
        "fraction_positive": (observed[used] / counts[used]).tolist(),
        "counts": counts[used].tolist(),
    }


def _examples(columns: Columns) -> dict[str, tuple[Any, ...]]:
    kept = {"prediction": columns.predictions, "reference": columns.references}
    if columns.scores is not None:
        kept["score"] = columns.scores
    if columns.groups is not None:
        kept["group"] = columns.groups
    return {key: tuple(column.tolist()) for key, column in kept.items()}


def columns_of(result: EvaluationResult) -> Columns:
    """The per-example columns stored in ``result`` (for paired comparison)."""
    if result.per_example is None:
        raise EvaluationInputError(
            "the result holds no per-example data; evaluate with keep_examples=True.",
            argument="result",
        )
    examples = result.per_example
    score = examples.get("score")
    group = examples.get("group")
    return Columns(
        np.asarray(examples["prediction"]),
        np.asarray(examples["reference"]),
        None if score is None else np.asarray(score, dtype=np.float64),
        None if group is None else np.asarray(group),
    )


def specs_of(result: EvaluationResult, runtime: Runtime | None) -> dict[str, MetricSpec]:
    """The metrics of ``result`` rebuilt from the tables (only those chosen by name)."""
    from modelops_core.config import ComponentChoice

    specs = {}
    for name, choice in result.metric_choices.items():
        if runtime is None:
            break
        built = ComponentChoice(choice["component"], choice.get("options", {}))
        specs[name] = build_specs({name: built}, runtime)[0]
    return specs
