"""The points and summaries behind the report's ROC and precision-recall plots.

Binary scores: the area under the ROC curve, the average precision (the step-wise area of the
precision-recall curve, as ``sklearn.metrics.average_precision_score``) and the prevalence of
the positive class (the precision of a classifier that guesses, drawn as the PR baseline).

Multiclass scores (an ``(n, k)`` matrix, columns in the sorted order of the labels, as the
metrics take them): one-vs-rest curves per class, the micro average (every (example, class)
pair pooled) and the macro average (the per-class ROC curves averaged on a common FPR grid,
the per-class average precisions averaged). Per-class summaries are kept for every class; the
curve points only for the ``cap`` classes of lowest AUC (the ones worth looking at).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: per-class curves drawn at most (micro and macro averages are always drawn).
CLASS_CURVES = 8


def summary(points: Any) -> dict[str, float]:
    """AUC, average precision and prevalence of a :class:`ThresholdSweep` (all its points)."""
    total = points.positives + points.negatives
    if points.positives <= 0 or points.negatives <= 0:
        return {
            "auc": math.nan,
            "average_precision": math.nan,
            "prevalence": points.positives / total if total else math.nan,
        }
    fpr, tpr = points.fpr, points.tpr
    recall, precision = points.recall, points.precision
    return {
        "auc": float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)),
        "average_precision": float(np.sum(np.diff(recall) * precision[1:])),
        "prevalence": float(points.positives / total),
    }


def _thin(points: Any, keys: Sequence[str]) -> dict[str, list[float]]:
    from modelops_core.evaluation.stats.thresholds import downsample

    keep = downsample(points.thresholds.shape[0])
    return {key: np.asarray(getattr(points, key))[keep].tolist() for key in keys}


def _classes(actual: NDArray[Any], predicted: NDArray[Any], columns: int) -> list[Any] | None:
    """The label of each score column: the sorted labels seen, when there are ``columns``."""
    for seen in (np.unique(actual), np.unique(np.concatenate([actual, predicted]))):
        if seen.shape[0] == columns:
            return list(seen.tolist())
    if actual.dtype.kind in "iu" and actual.size and actual.min() >= 0 and actual.max() < columns:
        return list(range(columns))  # integer labels name their column
    return None


def one_vs_rest(
    scores: NDArray[Any], actual: NDArray[Any], predicted: NDArray[Any], cap: int = CLASS_CURVES
) -> dict[str, Any] | None:
    """One-vs-rest ROC and PR curves of ``(n, k)`` scores; None when the columns cannot be
    matched to labels (neither ``k`` labels seen nor integer labels below ``k``)."""
    from modelops_core.evaluation.stats.thresholds import sweep

    columns = scores.shape[1]
    classes = _classes(actual, predicted, columns)
    if classes is None or columns < 2:
        return None
    values = scores.astype(np.float64)
    per_class = []
    grid = np.linspace(0.0, 1.0, 201)
    macro_tpr = []
    for column, label in enumerate(classes):
        points = sweep(values[:, column], actual == label, pos_label=True)
        entry: dict[str, Any] = {"label": label, "support": int(points.positives)}
        entry.update(summary(points))
        if math.isfinite(entry["auc"]):
            macro_tpr.append(np.interp(grid, points.fpr, points.tpr))
        entry["_points"] = points
        per_class.append(entry)
    ranked = sorted(
        (e for e in per_class if math.isfinite(e["auc"])), key=lambda e: (e["auc"], str(e["label"]))
    )
    shown = {id(e) for e in ranked[:cap]}
    for entry in per_class:
        points = entry.pop("_points")
        if id(entry) in shown:
            entry.update(_thin(points, ("fpr", "tpr", "recall", "precision")))
    codes = np.searchsorted(np.asarray(classes), actual) if len(classes) else actual
    one_hot = np.zeros(values.shape, dtype=bool)
    present = np.isin(actual, np.asarray(classes))
    one_hot[np.flatnonzero(present), np.asarray(codes)[present]] = True
    pooled = sweep(values.ravel(), one_hot.ravel(), pos_label=True)
    micro: dict[str, Any] = summary(pooled)
    micro.update(_thin(pooled, ("fpr", "tpr", "recall", "precision")))
    finite_ap = [e["average_precision"] for e in per_class if math.isfinite(e["average_precision"])]
    macro: dict[str, Any] = {
        "auc": float(np.mean([e["auc"] for e in ranked])) if ranked else math.nan,
        "average_precision": float(np.mean(finite_ap)) if finite_ap else math.nan,
        "fpr": grid.tolist() if macro_tpr else [],
        "tpr": np.mean(macro_tpr, axis=0).tolist() if macro_tpr else [],
    }
    if macro_tpr:
        macro["tpr"][0] = 0.0
    return {
        "classes": classes,
        "per_class": per_class,
        "micro": micro,
        "macro": macro,
        "shown": len(shown),
    }
