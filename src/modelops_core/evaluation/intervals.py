"""Bootstrap intervals of chosen metrics: the fastest correct engine for each.

Accuracy and exact match (share of hits), precision / recall / F1 (confusion matrix) are
bootstrapped from their contingency tables; MSE, MAE and RMSE from per-example errors; any
other scalar metric by recomputing it on each resample. A fast path is used only when it
reproduces the metric's own value on the full data, so options it does not understand (sample
weights, unusual labels) fall back to the generic path instead of giving a wrong interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from modelops_core.evaluation.metric_spec import Columns, MetricSpec
from modelops_core.evaluation.stats.bootstrap import (
    BootstrapEstimate,
    bootstrap_generic,
    bootstrap_means,
    bootstrap_table,
)
from modelops_core.evaluation.stats.counts import (
    PRFStatistic,
    encode_pairs,
    share_of_ones,
)

FloatArray = NDArray[np.float64]


@attrs.frozen(eq=False)
class TableForm:
    """A metric as a statistic of a contingency table: cell codes, cell count, statistic."""

    codes: NDArray[np.intp]
    cells: int
    statistic: Callable[[NDArray[Any]], FloatArray]


@attrs.frozen(eq=False)
class MeanForm:
    """A metric as ``transform(mean of per-example values)``."""

    values: FloatArray
    transform: Callable[[FloatArray], FloatArray]


Form = TableForm | MeanForm


def _identity(means: FloatArray) -> FloatArray:
    result: FloatArray = means[:, 0]
    return result


def _sqrt(means: FloatArray) -> FloatArray:
    result: FloatArray = np.sqrt(means[:, 0])
    return result


def fast_form(spec: MetricSpec, columns: Columns, value: Any) -> Form | None:
    """The table or mean form of ``spec`` if it has one that reproduces ``value``."""
    try:
        form = _candidate_form(spec, columns)
    except (TypeError, ValueError):
        return None
    if form is None:
        return None
    if isinstance(form, TableForm):
        counts = np.bincount(form.codes, minlength=form.cells)[None, :]
        reproduced = float(form.statistic(counts)[0])
    else:
        reproduced = float(form.transform(form.values.mean(keepdims=True)[None, :])[0])
    same = math.isclose(reproduced, float(value), rel_tol=1e-9, abs_tol=1e-12) or (
        math.isnan(reproduced) and math.isnan(float(value))
    )
    return form if same else None


def _candidate_form(spec: MetricSpec, columns: Columns) -> Form | None:
    name = spec.component_name
    metric = spec.metric
    predicted, actual = columns.predictions, columns.references
    if name in ("accuracy", "exact_match"):
        if name == "exact_match":
            hits = np.char.strip(predicted.astype(str)) == np.char.strip(actual.astype(str))
        else:
            hits = predicted == actual
        return TableForm(np.asarray(hits, dtype=np.intp), 2, share_of_ones)
    if name in ("precision", "recall", "f1") and predicted.ndim == 1:
        average = getattr(metric, "average", None)
        if average not in ("binary", "micro", "macro", "weighted"):
            return None
        declared = getattr(metric, "labels", None)
        labels = None if declared is None else np.asarray(declared)
        codes, labels = encode_pairs(predicted, actual, labels)
        k = int(labels.shape[0])
        positive = 0
        if average == "binary":
            found = np.flatnonzero(labels == getattr(metric, "pos_label", 1))
            if found.shape[0] != 1:
                return None
            positive = int(found[0])
        statistic = PRFStatistic(
            name,
            average,
            k,
            positive,
            declared is not None,
            float(getattr(metric, "zero_division", 0.0)),
        )
        return TableForm(codes, k * k, statistic)
    if name in ("mse", "mae", "rmse") and predicted.dtype.kind in "biuf":
        error = predicted.astype(np.float64) - actual.astype(np.float64)
        values = np.abs(error) if name == "mae" else error**2
        return MeanForm(values, _sqrt if name == "rmse" else _identity)
    return None


def bootstrap_metric(
    spec: MetricSpec, columns: Columns, value: Any, *, resamples: int, seed: int | None,
    jackknife: bool = False,
) -> BootstrapEstimate:  # fmt: skip
    """Bootstrap replicates of one scalar metric on ``columns``."""
    form = fast_form(spec, columns, value)
    if isinstance(form, TableForm):
        return bootstrap_table(
            form.codes, form.cells, form.statistic, resamples=resamples, seed=seed
        )
    if isinstance(form, MeanForm):
        return bootstrap_means(
            form.values, transform=form.transform, resamples=resamples, seed=seed
        )
    return bootstrap_generic(
        columns.n,
        lambda indices: float(spec.compute(columns.take(indices))),
        resamples=resamples,
        seed=seed,
        jackknife=jackknife,
    )


def paired_difference(
    spec_a: MetricSpec,
    spec_b: MetricSpec,
    columns_a: Columns,
    columns_b: Columns,
    values: tuple[Any, Any],
    *,
    resamples: int,
    seed: int | None,
) -> BootstrapEstimate:
    """Bootstrap replicates of ``metric(A) - metric(B)`` on the same resampled examples."""
    form_a = fast_form(spec_a, columns_a, values[0])
    form_b = fast_form(spec_b, columns_b, values[1])
    if isinstance(form_a, TableForm) and isinstance(form_b, TableForm):
        cells_b = form_b.cells
        joint = form_a.codes * cells_b + form_b.codes
        stat_a, stat_b, cells_a = form_a.statistic, form_b.statistic, form_a.cells

        def difference(tables: NDArray[Any]) -> FloatArray:
            cube = tables.reshape(-1, cells_a, cells_b)
            result: FloatArray = stat_a(cube.sum(axis=2)) - stat_b(cube.sum(axis=1))
            return result

        return bootstrap_table(joint, cells_a * cells_b, difference, resamples=resamples, seed=seed)
    if isinstance(form_a, MeanForm) and isinstance(form_b, MeanForm):
        t_a, t_b = form_a.transform, form_b.transform

        def mean_difference(means: FloatArray) -> FloatArray:
            result: FloatArray = t_a(means[:, :1]) - t_b(means[:, 1:])
            return result

        stacked = np.column_stack([form_a.values, form_b.values])
        return bootstrap_means(stacked, transform=mean_difference, resamples=resamples, seed=seed)
    return bootstrap_generic(
        columns_a.n,
        lambda indices: (
            float(spec_a.compute(columns_a.take(indices)))
            - float(spec_b.compute(columns_b.take(indices)))
        ),
        resamples=resamples,
        seed=seed,
    )
