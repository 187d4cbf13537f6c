"""Label-free performance estimates of binary and multiclass classifiers: CBPE (confidence-based
performance estimation, as NannyML defines it), the calibration check it needs, and the
comparison with the realized performance once labels arrive.

If the probability ``p`` a model gives is calibrated, a prediction ``ŷ = 1`` (score at or above
the decision threshold) is a true positive with probability ``p`` and a false positive with
probability ``1 - p``; a prediction ``ŷ = 0`` is a false negative with probability ``p`` and a
true negative with ``1 - p``. Summed over the rows, the **expected confusion matrix**::

    TP = Σ_{ŷ=1} p    FP = Σ_{ŷ=1} (1 - p)    FN = Σ_{ŷ=0} p    TN = Σ_{ŷ=0} (1 - p)

gives the estimates: accuracy ``(TP + TN) / n``, precision ``TP / (TP + FP)``, recall
``TP / (TP + FN)``, F1 ``2 TP / (2 TP + FP + FN)`` (NannyML's ``tp / (tp + (fp + fn) / 2)``),
and ROC AUC the area under the expected ROC curve (the cumulative sums of ``p`` and ``1 - p``
from the highest score down; equal scores are one point). The realized metrics are the same
formulas with the labels (0 or 1) in place of ``p``, so an estimate and its realization are
computed alike. Rows are ranked by the model's own scores; the probabilities ``p`` are the
scores after calibration when the check asks for it.

The **calibration check** (on the reference, where labels are known): in each of ``folds`` seeded
folds, the expected calibration error (ECE, equal-width bins over [0, 1], weighted by rows) of
the raw scores against the ECE of the same rows calibrated by isotonic regression fitted on the
other folds. The estimator calibrates when calibration lowers the ECE in every fold
(``calibration="auto"``, the rule NannyML's documentation states; its 0.13.1 code compares the
pooled folds instead): well-calibrated scores are left alone rather than refitted to the
reference's noise; ``"always"`` and ``"never"`` force the choice.

Thresholds: with ``chunk_size``, the realized metrics of the reference's chunks give a band
``mean ± 3 std`` per metric (NannyML's default), clipped to [0, 1]; an estimate outside the band
raises an alert ``performance.estimated.<metric>``, a realization outside it
``performance.realized.<metric>``. Explicit ``thresholds={"accuracy": (0.8, None)}`` replace it.

**Multiclass** (:class:`MulticlassCBPE`, NannyML's multiclass CBPE): the model gives one
probability per class and predicts the class of the highest one (the first on ties). Each class's
column is checked one-vs-rest as above (class ``c`` against the rest) and calibrated by its own
isotonic map when its check asks for it; a row of calibrated probabilities is then divided by its
sum so it adds up to 1 again (a row the maps sent to all zeros keeps the model's own, where
NannyML makes it uniform). A row predicted ``i`` is of true class ``j`` with probability
``p_j``, so the **expected confusion matrix** (rows the true class, columns the predicted one, as
scikit-learn's ``confusion_matrix``) is ``E[C[j, i]] = Σ_{ŷ=i} p_j``. From it: accuracy
``trace / n``; per class precision ``C[c, c] / Σ_j C[j, c]``, recall ``C[c, c] / Σ_i C[c, i]``, F1
``2 C[c, c] / (predicted + support)``; their ``macro`` (mean over the classes where defined),
``weighted`` (by support) and ``micro`` (pooled) averages, as scikit-learn's
``precision_recall_fscore_support(..., zero_division=np.nan)``; and ``roc_auc_macro``, the mean of
the one-vs-rest expected ROC AUCs. The realized metrics take the labels' one-hot rows for ``p``.
Chunks (``estimate_chunks``, ``compare_chunks``) are consecutive runs of ``chunk_size`` rows; a
last shorter run is a chunk of its own unless it is a single row, which joins the chunk before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.config import frozen_mapping
from modelops_core.monitoring.alerts import Alert, MonitorValue
from modelops_core.monitoring.errors import MonitoringError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
CALIBRATION = ("auto", "always", "never")


class PerformanceError(MonitoringError, ValueError):
    """Scores, labels or settings CBPE cannot use; the message names them and the fix."""


def _scores(values: Any, what: str) -> NDArray[np.float64]:
    import numpy as np

    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PerformanceError(f"{what}: not numbers ({exc})") from exc
    if array.ndim == 2 and array.shape[1] == 2:
        array = array[:, 1]
    if array.ndim != 1:
        raise PerformanceError(
            f"{what}: expected one probability of the positive class per row, got shape "
            f"{array.shape}; CBPE here estimates binary classifiers"
        )
    if array.size == 0:
        raise PerformanceError(f"{what}: no rows")
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0) | (array > 1))
    if bad.size:
        raise PerformanceError(
            f"{what}: {bad.size} scores are not probabilities in [0, 1] (first at row "
            f"{int(bad[0])}: {float(array[bad[0]])!r}); pass the positive-class probability"
        )
    return array


def _labels(values: Any, rows: int, what: str) -> NDArray[np.float64]:
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != rows:
        raise PerformanceError(
            f"{what}: {array.shape[0] if array.ndim else 0} labels for {rows} scores"
        )
    try:
        numbers = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise PerformanceError(f"{what}: labels must be 0 or 1 ({exc})") from exc
    bad = np.flatnonzero((numbers != 0) & (numbers != 1))
    if bad.size:
        raise PerformanceError(
            f"{what}: {bad.size} labels are not 0 or 1 (first at row {int(bad[0])}: "
            f"{array[bad[0]].item()!r}); encode the positive class as 1"
        )
    return numbers


def _confusion(
    predicted: NDArray[np.bool_], weights: NDArray[np.float64]
) -> tuple[float, float, float, float]:
    """(TP, FP, FN, TN) with ``weights`` the probability (or label) of the positive class."""
    tp = float(weights[predicted].sum())
    fp = float((1 - weights[predicted]).sum())
    fn = float(weights[~predicted].sum())
    tn = float((1 - weights[~predicted]).sum())
    return tp, fp, fn, tn


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def roc_auc(scores: NDArray[np.float64], weights: NDArray[np.float64]) -> float | None:
    """The area under the ROC curve of ``scores`` whose positives are ``weights`` (labels, or
    probabilities for the expected curve); None without positive or negative weight."""
    import numpy as np

    positives = float(weights.sum())
    negatives = float((1 - weights).sum())
    if positives <= 0 or negatives <= 0:
        return None
    order = np.argsort(-scores, kind="stable")
    ranked, ranked_weights = scores[order], weights[order]
    ends = np.append(np.flatnonzero(np.diff(ranked) != 0), ranked.size - 1)
    tp = np.concatenate(([0.0], np.cumsum(ranked_weights)[ends]))
    fp = np.concatenate(([0.0], np.cumsum(1 - ranked_weights)[ends]))
    area = float(np.sum(np.diff(fp) * (tp[1:] + tp[:-1]) / 2))
    return area / (positives * negatives)


def metrics_of(
    scores: NDArray[np.float64],
    weights: NDArray[np.float64],
    threshold: float,
    names: Sequence[str] = METRICS,
) -> dict[str, float | None]:
    """The metrics of predictions ``scores >= threshold`` against ``weights`` (see module)."""
    tp, fp, fn, tn = _confusion(scores >= threshold, weights)
    found: dict[str, float | None] = {
        "accuracy": (tp + tn) / scores.size,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }
    if "roc_auc" in names:
        found["roc_auc"] = roc_auc(scores, weights)
    return {name: found[name] for name in names}


def expected_calibration_error(
    probabilities: NDArray[np.float64], labels: NDArray[np.float64], bins: int = 10
) -> float:
    """Σ over equal-width bins of [0, 1] of (rows in bin / rows) * |mean probability - share of
    positives|."""
    import numpy as np

    index = np.minimum((probabilities * bins).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins)
    mean_p = np.bincount(index, probabilities, bins)
    positives = np.bincount(index, labels, bins)
    filled = counts > 0
    gap = np.abs(mean_p[filled] - positives[filled]) / counts[filled]
    return float(np.sum(gap * counts[filled]) / probabilities.size)


@attrs.frozen
class Isotonic:
    """A fitted isotonic (monotone non-decreasing) map from scores to probabilities:
    pool-adjacent-violators on the labels, linear between the fitted scores, flat outside.

    Only the first and last score of each pooled block are kept (the map is flat inside a
    block), so applying it interpolates over a few hundred points, not every distinct score.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]

    @classmethod
    def fit(cls, scores: NDArray[np.float64], labels: NDArray[np.float64]) -> Isotonic:
        import numpy as np

        unique, inverse = np.unique(scores, return_inverse=True)
        weight = np.bincount(inverse).astype(np.float64)
        value = np.bincount(inverse, labels) / weight
        fitted, starts = _pool_adjacent_violators(value, weight)
        ends = np.append(starts[1:], unique.size) - 1
        x = np.column_stack((unique[starts], unique[ends])).reshape(-1)
        y = np.repeat(fitted[starts], 2)
        keep = np.ones(x.size, dtype=bool)
        keep[1::2] = ends != starts  # a block of one score is one point
        return cls(tuple(x[keep].tolist()), tuple(y[keep].tolist()))

    def __call__(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        import numpy as np

        mapped: NDArray[np.float64] = np.interp(scores, np.asarray(self.x), np.asarray(self.y))
        return mapped


def _pool_adjacent_violators(
    value: NDArray[np.float64], weight: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The weighted isotonic fit of ``value`` and the index where each block starts: SciPy's
    ``isotonic_regression`` (1.12+, compiled) or the same algorithm in Python."""
    import numpy as np

    try:
        from scipy.optimize import isotonic_regression  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # SciPy 1.11
        return _pool_adjacent_violators_python(value, weight)
    result = isotonic_regression(value, weights=weight, increasing=True)
    return np.asarray(result.x, dtype=np.float64), np.asarray(result.blocks[:-1], dtype=np.int64)


def _pool_adjacent_violators_python(
    value: NDArray[np.float64], weight: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    import numpy as np

    blocks: list[list[float]] = []  # [value, weight, first index, last index]
    for i in range(value.size):
        blocks.append([float(value[i]), float(weight[i]), i, i])
        while len(blocks) > 1 and blocks[-2][0] >= blocks[-1][0]:
            last = blocks.pop()
            merged = blocks[-1]
            total = merged[1] + last[1]
            merged[0] = (merged[0] * merged[1] + last[0] * last[1]) / total
            merged[1] = total
            merged[3] = last[3]
    fitted = np.empty(value.size)
    for block_value, _, first, last_index in blocks:
        fitted[int(first) : int(last_index) + 1] = block_value
    return fitted, np.asarray([int(block[2]) for block in blocks], dtype=np.int64)


@attrs.frozen
class CalibrationCheck:
    """Whether the scores need calibrating before CBPE can trust them.

    :param ece: the expected calibration error of the raw scores on the reference.
    :param ece_calibrated: the out-of-fold ECE of isotonic-calibrated scores.
    :param calibrated: whether the estimator calibrates the scores.
    :param improved: the folds where calibration lowered the fold's ECE (``auto`` calibrates
        when it did in every fold).
    """

    ece: float
    ece_calibrated: float
    calibrated: bool
    bins: int
    folds: int
    reason: str
    improved: int = 0

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def check_calibration(
    scores: Any,
    labels: Any,
    *,
    bins: int = 10,
    folds: int = 5,
    seed: int = 0,
    calibration: str = "auto",
) -> CalibrationCheck:
    """Compare, fold by fold, the ECE of the raw scores with that of scores calibrated by an
    isotonic map fitted on the other folds; ``auto`` calibrates when every fold improves."""
    import numpy as np

    if calibration not in CALIBRATION:
        raise PerformanceError(f"calibration={calibration!r}: use one of {', '.join(CALIBRATION)}")
    if bins < 1 or folds < 2:
        raise PerformanceError(f"bins={bins}, folds={folds}: use bins >= 1 and folds >= 2")
    raw = _scores(scores, "reference scores")
    truth = _labels(labels, raw.size, "reference labels")
    if raw.size < folds:
        raise PerformanceError(
            f"reference: {raw.size} rows cannot be split into {folds} folds; give more rows"
        )
    order = np.random.default_rng(seed).permutation(raw.size)
    out_of_fold = np.empty(raw.size)
    improved = 0
    for part in np.array_split(order, folds):
        rest = np.setdiff1d(order, part, assume_unique=True)
        out_of_fold[part] = Isotonic.fit(raw[rest], truth[rest])(raw[part])
        improved += int(
            expected_calibration_error(out_of_fold[part], truth[part], bins)
            < expected_calibration_error(raw[part], truth[part], bins)
        )
    ece = expected_calibration_error(raw, truth, bins)
    ece_calibrated = expected_calibration_error(out_of_fold, truth, bins)
    if calibration == "auto":
        calibrate = improved == folds
        reason = (
            f"calibrated: isotonic calibration lowers the ECE in every fold ({ece:.4f} -> "
            f"{ece_calibrated:.4f} out of fold)"
            if calibrate
            else f"not calibrated: isotonic calibration lowers the ECE in {improved} of {folds} "
            f"folds only ({ece:.4f} -> {ece_calibrated:.4f} out of fold)"
        )
    else:
        calibrate = calibration == "always"
        reason = f"calibration={calibration!r}"
    return CalibrationCheck(ece, ece_calibrated, calibrate, bins, folds, reason, improved)


class _Banded:
    """What an estimate of either kind answers from its ``metrics`` and ``band``: the metrics
    outside the band, their alerts and their monitor values."""

    rows: int
    metrics: Mapping[str, float | None]
    band: Mapping[str, tuple[float | None, float | None]]
    kind: str

    def outside(self) -> dict[str, float]:
        """The metrics outside their band."""
        return _outside(self.metrics, self.band)

    def alerts(self, subject: str = "", at: float | None = None) -> tuple[Alert, ...]:
        """An alert per metric outside its band (``performance.<kind>.<metric>``)."""
        return _alerts(self.kind, self.metrics, self.band, self.rows, subject, at)

    def values(self, labels: Mapping[str, str] | None = None) -> tuple[MonitorValue, ...]:
        return _values(self.kind, self.metrics, labels)


@attrs.frozen
class PerformanceEstimate(_Banded):
    """The expected confusion matrix of ``rows`` predictions and the metrics it gives.

    :param band: per metric, the (lower, upper) band from the reference (None: no bound).
    """

    rows: int
    confusion: Mapping[str, float] = attrs.field(converter=frozen_mapping)
    metrics: Mapping[str, float | None] = attrs.field(converter=frozen_mapping)
    band: Mapping[str, tuple[float | None, float | None]] = attrs.field(converter=frozen_mapping)
    calibrated: bool = False
    kind: str = "estimated"
    start: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "confusion": dict(self.confusion),
            "metrics": dict(self.metrics),
            "band": {name: list(bounds) for name, bounds in self.band.items()},
            "outside": self.outside(),
            "calibrated": self.calibrated,
            "start": self.start,
        }


def _bound(value: float | None) -> str:
    return "-inf" if value is None else f"{value:.4f}"


def _outside(
    metrics: Mapping[str, float | None], band: Mapping[str, tuple[float | None, float | None]]
) -> dict[str, float]:
    found = {}
    for name, value in metrics.items():
        lower, upper = band.get(name, (None, None))
        if value is None:
            continue
        if (lower is not None and value < lower) or (upper is not None and value > upper):
            found[name] = value
    return found


def _alerts(
    kind: str,
    metrics: Mapping[str, float | None],
    band: Mapping[str, tuple[float | None, float | None]],
    rows: int,
    subject: str,
    at: float | None,
) -> tuple[Alert, ...]:
    found = []
    for name, value in _outside(metrics, band).items():
        lower, upper = band[name]
        found.append(
            Alert(
                f"performance.{kind}.{name}",
                "warning",
                f"{kind} {name} {value:.4f} is outside [{_bound(lower)}, {_bound(upper)}] over "
                f"{rows} rows",
                subject=subject,
                at=at,
                details={
                    "metric": name,
                    "value": value,
                    "lower": lower,
                    "upper": upper,
                    "rows": rows,
                    "kind": kind,
                },
            )
        )
    return tuple(found)


def _values(
    kind: str, metrics: Mapping[str, float | None], labels: Mapping[str, str] | None
) -> tuple[MonitorValue, ...]:
    return tuple(
        MonitorValue(
            f"performance_{kind}",
            math.nan if value is None else value,
            {**(labels or {}), "metric": name},
            f"{kind} classifier performance",
        )
        for name, value in metrics.items()
    )


def _chunks(rows: int, chunk_size: int, what: str) -> list[range]:
    """Consecutive runs of ``chunk_size`` rows; a last single row joins the run before."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 2:
        raise PerformanceError(
            f"chunk_size={chunk_size!r}: a chunk needs at least 2 rows; pass a larger chunk_size"
        )
    if rows < 2:
        raise PerformanceError(
            f"{what}: {rows} row cannot make a chunk of at least 2 rows; pass more rows"
        )
    chunks = [range(start, min(start + chunk_size, rows)) for start in range(0, rows, chunk_size)]
    if len(chunks[-1]) == 1:
        last = chunks.pop()
        chunks[-1] = range(chunks[-1].start, last.stop)
    return chunks


def _reference_chunks(rows: int, chunk_size: int) -> list[range]:
    """The whole chunks of the reference (at least two), for the bands."""
    chunks = [chunk for chunk in _chunks(rows, chunk_size, "reference") if len(chunk) == chunk_size]
    if len(chunks) < 2:
        raise PerformanceError(
            f"chunk_size={chunk_size}: the reference's {rows} rows make fewer than two whole "
            "chunks; use a smaller chunk_size or pass thresholds="
        )
    return chunks


def _band(
    per_chunk: Sequence[Mapping[str, float | None]], names: Sequence[str], std_multiplier: float
) -> dict[str, tuple[float | None, float | None]]:
    """``mean ± std_multiplier * std`` of each metric over the chunks, clipped to [0, 1]."""
    import numpy as np

    band: dict[str, tuple[float | None, float | None]] = {}
    for name in names:
        values = np.asarray([m[name] for m in per_chunk if m[name] is not None])
        if values.size < 2:
            continue
        mean, std = float(values.mean()), float(values.std())
        band[name] = (max(0.0, mean - std_multiplier * std), min(1.0, mean + std_multiplier * std))
    return band


@attrs.frozen
class PerformanceComparison:
    """An estimate against the realized performance of the same rows.

    :param error: per metric, estimated minus realized (None when either is undefined).
    """

    estimated: PerformanceEstimate | MulticlassEstimate
    realized: PerformanceEstimate | MulticlassEstimate
    error: Mapping[str, float | None] = attrs.field(converter=frozen_mapping)

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimated": self.estimated.to_dict(),
            "realized": self.realized.to_dict(),
            "error": dict(self.error),
        }


def _compare(
    estimated: PerformanceEstimate | MulticlassEstimate,
    realized: PerformanceEstimate | MulticlassEstimate,
    names: Sequence[str],
) -> PerformanceComparison:
    error = {}
    for name in names:
        e, r = estimated.metrics[name], realized.metrics[name]
        error[name] = None if e is None or r is None else e - r
    return PerformanceComparison(estimated, realized, error)


@attrs.frozen
class CBPE:
    """A fitted CBPE estimator: build it with :meth:`fit` on reference scores and labels.

    :param threshold: the decision threshold of the model (predicted positive at or above).
    :param check: the calibration check; ``calibrator`` is set when it asks to calibrate.
    :param band: per metric, the (lower, upper) band estimates are held to.
    """

    threshold: float
    metrics: tuple[str, ...]
    check: CalibrationCheck
    calibrator: Isotonic | None
    band: Mapping[str, tuple[float | None, float | None]] = attrs.field(converter=frozen_mapping)

    @classmethod
    def fit(
        cls,
        scores: Any,
        labels: Any,
        *,
        threshold: float = 0.5,
        metrics: Sequence[str] = METRICS,
        calibration: str = "auto",
        chunk_size: int | None = None,
        std_multiplier: float = 3.0,
        thresholds: Mapping[str, tuple[float | None, float | None]] | None = None,
        bins: int = 10,
        folds: int = 5,
        seed: int = 0,
    ) -> CBPE:
        """Check calibration on the reference, fit the calibrator if needed, and derive the band
        of each metric from the reference's chunks of ``chunk_size`` rows (or ``thresholds``)."""
        unknown = [name for name in metrics if name not in METRICS]
        if unknown:
            raise PerformanceError(f"unknown metrics {unknown}; use some of {', '.join(METRICS)}")
        if not 0 < threshold < 1:
            raise PerformanceError(f"threshold={threshold}: use a decision threshold in (0, 1)")
        raw = _scores(scores, "reference scores")
        truth = _labels(labels, raw.size, "reference labels")
        check = check_calibration(
            raw, truth, bins=bins, folds=folds, seed=seed, calibration=calibration
        )
        calibrator = Isotonic.fit(raw, truth) if check.calibrated else None
        band: dict[str, tuple[float | None, float | None]] = {}
        if thresholds is not None:
            band = {name: thresholds[name] for name in thresholds}
        elif chunk_size is not None:
            chunks = _reference_chunks(raw.size, chunk_size)
            per_chunk = [
                metrics_of(raw[chunk.start : chunk.stop], truth[chunk.start : chunk.stop],
                           threshold, metrics)
                for chunk in chunks
            ]  # fmt: skip
            band = _band(per_chunk, metrics, std_multiplier)
        return cls(threshold, tuple(metrics), check, calibrator, band)

    def probabilities(self, scores: Any) -> NDArray[np.float64]:
        """The scores as calibrated probabilities (the raw scores when not calibrated)."""
        raw = _scores(scores, "scores")
        return raw if self.calibrator is None else self.calibrator(raw)

    def estimate(self, scores: Any) -> PerformanceEstimate:
        """The expected confusion matrix and metrics of ``scores``, without labels."""
        raw = _scores(scores, "scores")
        probabilities = raw if self.calibrator is None else self.calibrator(raw)
        return self._result(raw, probabilities, "estimated")

    def realized(self, scores: Any, labels: Any) -> PerformanceEstimate:
        """The confusion matrix and metrics of ``scores`` against the labels that arrived."""
        raw = _scores(scores, "scores")
        return self._result(raw, _labels(labels, raw.size, "labels"), "realized")

    def compare(self, scores: Any, labels: Any) -> PerformanceComparison:
        """The estimate of ``scores`` against their realized performance."""
        return _compare(self.estimate(scores), self.realized(scores, labels), self.metrics)

    def estimate_chunks(self, scores: Any, chunk_size: int) -> tuple[PerformanceEstimate, ...]:
        """The estimate of each chunk of ``chunk_size`` consecutive rows (see the module)."""
        raw = _scores(scores, "scores")
        probabilities = raw if self.calibrator is None else self.calibrator(raw)
        return tuple(
            self._result(raw[chunk.start : chunk.stop], probabilities[chunk.start : chunk.stop],
                         "estimated", chunk.start)
            for chunk in _chunks(raw.size, chunk_size, "scores")
        )  # fmt: skip

    def compare_chunks(
        self, scores: Any, labels: Any, chunk_size: int
    ) -> tuple[PerformanceComparison, ...]:
        """Per chunk, the estimate against the realized performance."""
        raw = _scores(scores, "scores")
        truth = _labels(labels, raw.size, "labels")
        estimates = self.estimate_chunks(raw, chunk_size)
        return tuple(
            _compare(
                estimate,
                self._result(
                    raw[estimate.start : estimate.start + estimate.rows],
                    truth[estimate.start : estimate.start + estimate.rows],
                    "realized",
                    estimate.start,
                ),
                self.metrics,
            )
            for estimate in estimates
        )

    def _result(
        self, raw: NDArray[np.float64], weights: NDArray[np.float64], kind: str, start: int = 0
    ) -> PerformanceEstimate:
        tp, fp, fn, tn = _confusion(raw >= self.threshold, weights)
        return PerformanceEstimate(
            int(raw.size),
            {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
            metrics_of(raw, weights, self.threshold, self.metrics),
            self.band,
            self.calibrator is not None,
            kind,
            start,
        )


#: The metrics of :class:`MulticlassCBPE` (see the module).
MULTICLASS_METRICS = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "precision_micro",
    "recall_micro",
    "f1_micro",
    "roc_auc_macro",
)
#: How far a row of probabilities may add up from 1 (probabilities rounded in a file); rows are
#: divided by their sum before use.
SUM_TOLERANCE = 0.01


def _class_names(classes: Sequence[Any]) -> str:
    return ", ".join(repr(c) for c in classes)


def _plain_class(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _probability_matrix(
    values: Any, classes: Sequence[Any], what: str, names_of: Sequence[str] | None = None
) -> NDArray[np.float64]:
    """One row per prediction, one column per class in the order of ``classes``; a DataFrame's
    columns are ``names_of`` (the column of each class), or else the classes' names."""
    import numpy as np

    columns = getattr(values, "columns", None)
    if columns is not None and names_of is not None:
        names = [str(c) for c in columns]
        missing = [
            f"{name!r} (class {c!r})"
            for c, name in zip(classes, names_of, strict=True)
            if name not in names
        ]
        if missing:
            raise PerformanceError(
                f"{what}: no column {', '.join(missing)}; its columns are "
                f"{', '.join(repr(name) for name in names)}"
            )
        values = values[[columns[names.index(name)] for name in names_of]]
    elif columns is not None:
        names = [str(c) for c in columns]
        wanted = [str(c) for c in classes]
        missing = [c for c, name in zip(classes, wanted, strict=True) if name not in names]
        extra = [name for name in names if name not in wanted]
        if missing or extra:
            raise PerformanceError(
                f"{what}: the columns must be the classes ({_class_names(classes)}); missing "
                f"{missing}, not classes {extra}"
            )
        values = values[[columns[names.index(name)] for name in wanted]]
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PerformanceError(f"{what}: not numbers ({exc})") from exc
    if array.ndim != 2 or array.shape[1] != len(classes):
        shape = "one value per row" if array.ndim == 1 else f"shape {array.shape}"
        raise PerformanceError(
            f"{what}: {shape}, expected one column per class ({len(classes)}: "
            f"{_class_names(classes)}); pass the model's predict_proba output"
        )
    if array.shape[0] == 0:
        raise PerformanceError(f"{what}: no rows")
    bad = ~np.isfinite(array) | (array < 0) | (array > 1)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise PerformanceError(
            f"{what}: {int(bad.sum())} values are not probabilities in [0, 1] (first at row "
            f"{row}, column {classes[column]!r}: {float(array[row, column])!r})"
        )
    sums = array.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > SUM_TOLERANCE)
    if off.size:
        raise PerformanceError(
            f"{what}: {off.size} rows do not add up to 1 (first at row {int(off[0])}: "
            f"{float(sums[off[0]]):.10g}); pass one probability per class, the whole distribution"
        )
    return array


def _label_array(labels: Any) -> NDArray[Any]:
    """``labels`` as an array; a list mixing text with other values (a NaN) stays objects, where
    numpy would turn the NaN into the text ``'nan'``."""
    import numpy as np

    array = np.asarray(labels)
    if (
        array.dtype.kind in "US"
        and isinstance(labels, list | tuple)
        and not all(isinstance(label, str | bytes) for label in labels)
    ):
        array = np.empty(len(labels), dtype=object)
        array[:] = list(labels)
    return array


def _class_indices(labels: Any, classes: Sequence[Any], rows: int, what: str) -> NDArray[np.int64]:
    """The position in ``classes`` of each label."""
    import numpy as np

    array = _label_array(labels)
    if array.ndim != 1 or array.shape[0] != rows:
        count = array.shape[0] if array.ndim else 0
        raise PerformanceError(f"{what}: {count} labels for {rows} rows of probabilities")
    position = {c: i for i, c in enumerate(classes)}
    unique: Any
    try:
        unique, inverse = np.unique(array, return_inverse=True)
    except TypeError:  # labels of types that do not order (mixed objects)
        first: dict[Any, int] = {}
        inverse = np.asarray([first.setdefault(v, len(first)) for v in array.tolist()])
        unique = list(first)
    inverse = inverse.reshape(-1)
    found = [position.get(_plain_class(value)) for value in unique]
    for k, index in enumerate(found):
        if index is None:
            row = int(np.flatnonzero(inverse == k)[0])
            raise PerformanceError(
                f"{what}: label {_plain_class(unique[k])!r} at row {row} is not one of the "
                f"classes ({_class_names(classes)}); pass classes= with every class the model "
                "knows"
            )
    indices: NDArray[np.int64] = np.asarray(found, dtype=np.int64)[inverse]
    return indices


def multiclass_metrics(
    confusion: NDArray[np.float64], names: Sequence[str] = MULTICLASS_METRICS
) -> tuple[dict[str, float | None], list[dict[str, float | None]]]:
    """The metrics of a confusion matrix (rows the true class, columns the predicted one), and
    per class its precision, recall, F1 and support (None where undefined), as scikit-learn's
    ``precision_recall_fscore_support(..., zero_division=np.nan)`` with every class labelled."""
    import numpy as np

    true_positive = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    per_class: list[dict[str, float | None]] = []
    for c in range(confusion.shape[0]):
        tp = float(true_positive[c])
        per_class.append(
            {
                "precision": _ratio(tp, float(predicted[c])),
                "recall": _ratio(tp, float(support[c])),
                "f1": _ratio(2 * tp, float(predicted[c] + support[c])),
                "support": float(support[c]),
            }
        )
    total = float(confusion.sum())
    tp_all = float(true_positive.sum())
    found: dict[str, float | None] = {"accuracy": _ratio(tp_all, total)}
    for metric in ("precision", "recall", "f1"):
        defined = [
            (value, float(support[c]))
            for c, value in enumerate(entry[metric] for entry in per_class)
            if value is not None
        ]
        found[f"{metric}_macro"] = (
            sum(value for value, _ in defined) / len(defined) if defined else None
        )
        found[f"{metric}_weighted"] = _ratio(
            sum(value * weight for value, weight in defined), sum(w for _, w in defined)
        )
    found["precision_micro"] = _ratio(tp_all, float(predicted.sum()))
    found["recall_micro"] = _ratio(tp_all, float(support.sum()))
    found["f1_micro"] = _ratio(2 * tp_all, float(predicted.sum() + support.sum()))
    return {name: found[name] for name in names if name in found}, per_class


def _frozen_per_class(
    value: Mapping[str, Mapping[str, float | None]],
) -> Mapping[str, Mapping[str, float | None]]:
    return frozen_mapping({str(name): frozen_mapping(entry) for name, entry in value.items()})


@attrs.frozen
class MulticlassEstimate(_Banded):
    """The confusion matrix of ``rows`` predictions of a multiclass model (expected from the
    probabilities, or counted from labels) and the metrics it gives.

    :param classes: the classes, in the order of the matrix's rows and columns.
    :param confusion: rows the true class, columns the predicted class.
    :param per_class: per class (as text) its ``precision``, ``recall``, ``f1``, ``support``.
    :param band: per metric, the (lower, upper) band from the reference (None: no bound).
    :param calibrated: the classes whose scores were calibrated.
    :param start: the first row of these rows in the data given (chunks).
    """

    rows: int
    classes: tuple[Any, ...]
    confusion: tuple[tuple[float, ...], ...]
    metrics: Mapping[str, float | None] = attrs.field(converter=frozen_mapping)
    per_class: Mapping[str, Mapping[str, float | None]] = attrs.field(converter=_frozen_per_class)
    band: Mapping[str, tuple[float | None, float | None]] = attrs.field(converter=frozen_mapping)
    calibrated: tuple[Any, ...] = ()
    kind: str = "estimated"
    start: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "start": self.start,
            "classes": list(self.classes),
            "confusion": [list(row) for row in self.confusion],
            "metrics": dict(self.metrics),
            "per_class": {name: dict(entry) for name, entry in self.per_class.items()},
            "band": {name: list(bounds) for name, bounds in self.band.items()},
            "outside": self.outside(),
            "calibrated": list(self.calibrated),
        }


@attrs.frozen
class MulticlassCBPE:
    """A fitted multiclass CBPE estimator: build it with :meth:`fit` on the reference's class
    probabilities (one column per class) and labels.

    :param classes: the classes, in the order of the probability columns.
    :param checks: per class, its one-vs-rest calibration check.
    :param calibrators: per class, its isotonic map (None: not calibrated).
    :param band: per metric, the (lower, upper) band estimates are held to.
    :param columns: per class, the DataFrame column of its probability (None: the class's name).
    """

    classes: tuple[Any, ...]
    metrics: tuple[str, ...]
    checks: tuple[CalibrationCheck, ...]
    calibrators: tuple[Isotonic | None, ...]
    band: Mapping[str, tuple[float | None, float | None]] = attrs.field(converter=frozen_mapping)
    columns: tuple[str, ...] | None = None

    @classmethod
    def fit(
        cls,
        probabilities: Any,
        labels: Any,
        *,
        classes: Sequence[Any] | Mapping[Any, str] | None = None,
        metrics: Sequence[str] = MULTICLASS_METRICS,
        calibration: str = "auto",
        chunk_size: int | None = None,
        std_multiplier: float = 3.0,
        thresholds: Mapping[str, tuple[float | None, float | None]] | None = None,
        bins: int = 10,
        folds: int = 5,
        seed: int = 0,
    ) -> MulticlassCBPE:
        """Check each class's calibration on the reference, fit the calibrators it asks for,
        and derive the band of each metric from the reference's chunks of ``chunk_size`` rows
        (or ``thresholds``).

        :param classes: the class of each probability column, in order, or a mapping of each
            class to its column of a DataFrame (``{"cat": "p_cat", ...}``, NannyML's
            ``y_pred_proba``); default: a DataFrame's column names, else the distinct labels
            sorted (as scikit-learn's ``classes_``).
        """
        import numpy as np

        unknown = [name for name in metrics if name not in MULTICLASS_METRICS]
        if unknown:
            raise PerformanceError(
                f"unknown metrics {unknown}; use some of {', '.join(MULTICLASS_METRICS)}"
            )
        columns = None
        if isinstance(classes, Mapping):
            columns = tuple(str(name) for name in classes.values())
            classes = list(classes)
        chosen = _classes(probabilities, labels, classes)
        raw = _probability_matrix(probabilities, chosen, "reference probabilities", columns)
        truth = _class_indices(labels, chosen, raw.shape[0], "reference labels")
        checks = []
        calibrators: list[Isotonic | None] = []
        for c in range(len(chosen)):
            is_class = (truth == c).astype(np.float64)
            check = check_calibration(
                raw[:, c], is_class, bins=bins, folds=folds, seed=seed, calibration=calibration
            )
            checks.append(check)
            calibrators.append(Isotonic.fit(raw[:, c], is_class) if check.calibrated else None)
        fitted = cls(chosen, tuple(metrics), tuple(checks), tuple(calibrators), {}, columns)
        if thresholds is not None:
            return attrs.evolve(fitted, band=dict(thresholds))
        if chunk_size is None:
            return fitted
        one_hot = np.eye(len(chosen))[truth]
        per_chunk = [
            fitted._result(raw[chunk.start : chunk.stop], one_hot[chunk.start : chunk.stop],
                           "realized").metrics
            for chunk in _reference_chunks(raw.shape[0], chunk_size)
        ]  # fmt: skip
        return attrs.evolve(fitted, band=_band(per_chunk, metrics, std_multiplier))

    def probabilities(self, probabilities: Any) -> NDArray[np.float64]:
        """The probabilities after each class's calibration, rows divided by their sum (a row
        whose calibrated values are all 0 keeps the model's own)."""
        return self._calibrated(self._matrix(probabilities))

    def estimate(self, probabilities: Any) -> MulticlassEstimate:
        """The expected confusion matrix and metrics of ``probabilities``, without labels."""
        raw = self._matrix(probabilities)
        return self._result(raw, self._calibrated(raw), "estimated")

    def realized(self, probabilities: Any, labels: Any) -> MulticlassEstimate:
        """The confusion matrix and metrics of the predictions against the labels that
        arrived."""
        import numpy as np

        raw = self._matrix(probabilities)
        truth = _class_indices(labels, self.classes, raw.shape[0], "labels")
        return self._result(raw, np.eye(len(self.classes))[truth], "realized")

    def compare(self, probabilities: Any, labels: Any) -> PerformanceComparison:
        """The estimate of ``probabilities`` against their realized performance."""
        return _compare(
            self.estimate(probabilities), self.realized(probabilities, labels), self.metrics
        )

    def estimate_chunks(
        self, probabilities: Any, chunk_size: int
    ) -> tuple[MulticlassEstimate, ...]:
        """The estimate of each chunk of ``chunk_size`` consecutive rows (see the module)."""
        raw = self._matrix(probabilities)
        calibrated = self._calibrated(raw)
        return tuple(
            self._result(raw[chunk.start : chunk.stop], calibrated[chunk.start : chunk.stop],
                         "estimated", chunk.start)
            for chunk in _chunks(raw.shape[0], chunk_size, "probabilities")
        )  # fmt: skip

    def compare_chunks(
        self, probabilities: Any, labels: Any, chunk_size: int
    ) -> tuple[PerformanceComparison, ...]:
        """Per chunk, the estimate against the realized performance."""
        import numpy as np

        raw = self._matrix(probabilities)
        one_hot = np.eye(len(self.classes))[
            _class_indices(labels, self.classes, raw.shape[0], "labels")
        ]
        calibrated = self._calibrated(raw)
        found = []
        for chunk in _chunks(raw.shape[0], chunk_size, "probabilities"):
            rows = slice(chunk.start, chunk.stop)
            estimated = self._result(raw[rows], calibrated[rows], "estimated", chunk.start)
            realized = self._result(raw[rows], one_hot[rows], "realized", chunk.start)
            found.append(_compare(estimated, realized, self.metrics))
        return tuple(found)

    def _matrix(self, probabilities: Any) -> NDArray[np.float64]:
        return _probability_matrix(probabilities, self.classes, "probabilities", self.columns)

    def _calibrated(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        import numpy as np

        columns = [
            raw[:, c] if calibrator is None else calibrator(raw[:, c])
            for c, calibrator in enumerate(self.calibrators)
        ]
        stacked = np.column_stack(columns)
        sums = stacked.sum(axis=1)
        empty = sums <= 0
        if empty.any():  # isotonic maps can give 0 to every class of a row
            stacked[empty] = raw[empty]
            sums[empty] = raw[empty].sum(axis=1)
        calibrated: NDArray[np.float64] = stacked / sums[:, None]
        return calibrated

    def _result(
        self, raw: NDArray[np.float64], weights: NDArray[np.float64], kind: str, start: int = 0
    ) -> MulticlassEstimate:
        """``weights``: per row the probability (or one-hot label) of each true class."""
        import numpy as np

        size = len(self.classes)
        predicted = raw.argmax(axis=1)
        confusion = np.stack(
            [np.bincount(predicted, weights[:, j], minlength=size) for j in range(size)]
        ).astype(np.float64)
        metrics, per_class = multiclass_metrics(confusion, self.metrics)
        if "roc_auc_macro" in self.metrics:
            areas = [roc_auc(raw[:, c], weights[:, c]) for c in range(size)]
            defined = [area for area in areas if area is not None]
            metrics["roc_auc_macro"] = sum(defined) / len(defined) if defined else None
        return MulticlassEstimate(
            int(raw.shape[0]),
            self.classes,
            tuple(tuple(float(v) for v in row) for row in confusion),
            {name: metrics[name] for name in self.metrics},
            {str(c): entry for c, entry in zip(self.classes, per_class, strict=True)},
            self.band,
            tuple(
                c
                for c, calibrator in zip(self.classes, self.calibrators, strict=True)
                if calibrator is not None
            ),
            kind,
            start,
        )


def _classes(probabilities: Any, labels: Any, classes: Sequence[Any] | None) -> tuple[Any, ...]:
    import numpy as np

    if classes is None:
        columns = getattr(probabilities, "columns", None)
        if columns is not None:
            classes = list(columns)
        else:
            try:
                classes = [_plain_class(c) for c in np.unique(_label_array(labels))]
            except TypeError as exc:
                raise PerformanceError(
                    f"reference labels: their classes cannot be sorted ({exc}); pass classes= "
                    "in the order of the probability columns"
                ) from exc
            width = np.shape(probabilities)[1] if np.ndim(probabilities) == 2 else None
            if width is not None and width != len(classes):
                raise PerformanceError(
                    f"reference labels: {len(classes)} classes ({_class_names(classes)}) for "
                    f"{width} probability columns; pass classes= in the order of the columns"
                )
    chosen = tuple(_plain_class(c) for c in classes)
    if len(chosen) < 2 or len(set(chosen)) != len(chosen):
        raise PerformanceError(
            f"classes=({_class_names(chosen)}): give at least two classes, each once"
        )
    return chosen


def columns_of(
    data: Any, names: Sequence[str], what: str, optional: Sequence[str] = ()
) -> dict[str, NDArray[Any]]:
    """The columns ``names`` of ``data`` (a CSV, JSONL or Parquet file, a DataFrame, an Arrow
    table, a mapping of columns), read by chunks and joined; a missing one is named. Columns of
    ``optional`` are read when the data has them."""
    import numpy as np

    from modelops_core.monitoring.reader import iter_chunks

    parts: dict[str, list[Any]] = {}
    for chunk in iter_chunks(data):
        missing = [name for name in names if name not in chunk]
        if missing:
            raise PerformanceError(
                f"{what}: no column {', '.join(repr(m) for m in missing)}; its columns are "
                f"{', '.join(repr(c) for c in chunk)}"
            )
        for name in [*names, *(name for name in optional if name in chunk)]:
            values = chunk[name]
            array = _label_array(values) if isinstance(values, list) else np.asarray(values)
            parts.setdefault(name, []).append(array)
    if not parts:
        raise PerformanceError(f"{what}: no rows")
    return {name: np.concatenate(values) for name, values in parts.items()}
