"""Label-free performance estimates of a binary classifier: CBPE (confidence-based
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

The **calibration check** (on the reference, where labels are known): the expected calibration
error (ECE, equal-width bins over [0, 1], weighted by rows) of the raw scores, against the ECE of
scores calibrated by isotonic regression fitted on the other folds (out-of-fold, ``folds``
seeded folds). The estimator calibrates when that lowers the ECE (``calibration="auto"``), as
NannyML does; ``"always"`` and ``"never"`` force the choice.

Thresholds: with ``chunk_size``, the realized metrics of the reference's chunks give a band
``mean ± 3 std`` per metric (NannyML's default), clipped to [0, 1]; an estimate outside the band
raises an alert ``performance.estimated.<metric>``, a realization outside it
``performance.realized.<metric>``. Explicit ``thresholds={"accuracy": (0.8, None)}`` replace it.
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
    pool-adjacent-violators on the labels, linear between the fitted scores, flat outside."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    @classmethod
    def fit(cls, scores: NDArray[np.float64], labels: NDArray[np.float64]) -> Isotonic:
        import numpy as np

        unique, inverse = np.unique(scores, return_inverse=True)
        weight = np.bincount(inverse).astype(np.float64)
        value = np.bincount(inverse, labels) / weight
        blocks: list[list[float]] = []  # [value, weight, first index, last index]
        for i in range(unique.size):
            blocks.append([float(value[i]), float(weight[i]), i, i])
            while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
                last = blocks.pop()
                merged = blocks[-1]
                total = merged[1] + last[1]
                merged[0] = (merged[0] * merged[1] + last[0] * last[1]) / total
                merged[1] = total
                merged[3] = last[3]
        fitted = np.empty(unique.size)
        for block_value, _, first, last_index in blocks:
            fitted[int(first) : int(last_index) + 1] = block_value
        return cls(tuple(float(v) for v in unique), tuple(float(v) for v in fitted))

    def __call__(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        import numpy as np

        mapped: NDArray[np.float64] = np.interp(scores, np.asarray(self.x), np.asarray(self.y))
        return mapped


@attrs.frozen
class CalibrationCheck:
    """Whether the scores need calibrating before CBPE can trust them.

    :param ece: the expected calibration error of the raw scores on the reference.
    :param ece_calibrated: the out-of-fold ECE of isotonic-calibrated scores.
    :param calibrated: whether the estimator calibrates the scores.
    """

    ece: float
    ece_calibrated: float
    calibrated: bool
    bins: int
    folds: int
    reason: str

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
    """Compare the ECE of the raw scores with the out-of-fold ECE of calibrated ones."""
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
    for part in np.array_split(order, folds):
        rest = np.setdiff1d(order, part, assume_unique=True)
        out_of_fold[part] = Isotonic.fit(raw[rest], truth[rest])(raw[part])
    ece = expected_calibration_error(raw, truth, bins)
    ece_calibrated = expected_calibration_error(out_of_fold, truth, bins)
    if calibration == "auto":
        calibrate = ece_calibrated < ece
        reason = (
            f"calibrated: isotonic calibration lowers the ECE from {ece:.4f} to "
            f"{ece_calibrated:.4f}"
            if calibrate
            else f"not calibrated: the raw scores' ECE {ece:.4f} is not above the calibrated "
            f"{ece_calibrated:.4f}"
        )
    else:
        calibrate = calibration == "always"
        reason = f"calibration={calibration!r}"
    return CalibrationCheck(ece, ece_calibrated, calibrate, bins, folds, reason)


@attrs.frozen
class PerformanceEstimate:
    """The expected confusion matrix of ``rows`` predictions and the metrics it gives.

    :param band: per metric, the (lower, upper) band from the reference (None: no bound).
    """

    rows: int
    confusion: Mapping[str, float] = attrs.field(converter=frozen_mapping)
    metrics: Mapping[str, float | None] = attrs.field(converter=frozen_mapping)
    band: Mapping[str, tuple[float | None, float | None]] = attrs.field(converter=frozen_mapping)
    calibrated: bool = False
    kind: str = "estimated"

    def outside(self) -> dict[str, float]:
        """The metrics outside their band."""
        found = {}
        for name, value in self.metrics.items():
            lower, upper = self.band.get(name, (None, None))
            if value is None:
                continue
            if (lower is not None and value < lower) or (upper is not None and value > upper):
                found[name] = value
        return found

    def alerts(self, subject: str = "", at: float | None = None) -> tuple[Alert, ...]:
        """An alert per metric outside its band (``performance.<kind>.<metric>``)."""
        found = []
        for name, value in self.outside().items():
            lower, upper = self.band[name]
            found.append(
                Alert(
                    f"performance.{self.kind}.{name}",
                    "warning",
                    f"{self.kind} {name} {value:.4f} is outside [{_bound(lower)}, "
                    f"{_bound(upper)}] over {self.rows} rows",
                    subject=subject,
                    at=at,
                    details={
                        "metric": name,
                        "value": value,
                        "lower": lower,
                        "upper": upper,
                        "rows": self.rows,
                        "kind": self.kind,
                    },
                )
            )
        return tuple(found)

    def values(self, labels: Mapping[str, str] | None = None) -> tuple[MonitorValue, ...]:
        return tuple(
            MonitorValue(
                f"performance_{self.kind}",
                math.nan if value is None else value,
                {**(labels or {}), "metric": name},
                f"{self.kind} classifier performance",
            )
            for name, value in self.metrics.items()
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "confusion": dict(self.confusion),
            "metrics": dict(self.metrics),
            "band": {name: list(bounds) for name, bounds in self.band.items()},
            "outside": self.outside(),
            "calibrated": self.calibrated,
        }


def _bound(value: float | None) -> str:
    return "-inf" if value is None else f"{value:.4f}"


@attrs.frozen
class PerformanceComparison:
    """An estimate against the realized performance of the same rows.

    :param error: per metric, estimated minus realized (None when either is undefined).
    """

    estimated: PerformanceEstimate
    realized: PerformanceEstimate
    error: Mapping[str, float | None] = attrs.field(converter=frozen_mapping)

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimated": self.estimated.to_dict(),
            "realized": self.realized.to_dict(),
            "error": dict(self.error),
        }


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
        import numpy as np

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
            if chunk_size < 1:
                raise PerformanceError(f"chunk_size={chunk_size}: use a positive number of rows")
            chunks = [range(start, start + chunk_size) for start in range(0, raw.size, chunk_size)]
            chunks = [chunk for chunk in chunks if chunk.stop <= raw.size]
            if len(chunks) < 2:
                raise PerformanceError(
                    f"chunk_size={chunk_size}: the reference's {raw.size} rows make fewer than "
                    "two whole chunks; use a smaller chunk_size or pass thresholds="
                )
            per_chunk = [
                metrics_of(raw[chunk.start : chunk.stop], truth[chunk.start : chunk.stop],
                           threshold, metrics)
                for chunk in chunks
            ]  # fmt: skip
            for name in metrics:
                values = np.asarray([m[name] for m in per_chunk if m[name] is not None])
                if values.size < 2:
                    continue
                mean, std = float(values.mean()), float(values.std())
                band[name] = (
                    max(0.0, mean - std_multiplier * std),
                    min(1.0, mean + std_multiplier * std),
                )
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
        estimated = self.estimate(scores)
        realized = self.realized(scores, labels)
        error = {}
        for name in self.metrics:
            e, r = estimated.metrics[name], realized.metrics[name]
            error[name] = None if e is None or r is None else e - r
        return PerformanceComparison(estimated, realized, error)

    def _result(
        self, raw: NDArray[np.float64], weights: NDArray[np.float64], kind: str
    ) -> PerformanceEstimate:
        tp, fp, fn, tn = _confusion(raw >= self.threshold, weights)
        return PerformanceEstimate(
            int(raw.size),
            {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
            metrics_of(raw, weights, self.threshold, self.metrics),
            self.band,
            self.calibrator is not None,
            kind,
        )
