"""The names users know for metrics: ``Metric``, ``TaskType``, and the metric classes.

The classes (``AccuracyMetric`` … ``AUCROCMetric``, ``ConfusionMatrix``) live in the
``modelops-metrics`` plugin; :func:`metric_class` imports them on first use, so the core never
imports a plugin at import time, and says how to install it when it is missing.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Sequence
from typing import Any, ClassVar

from modelops_core.errors import ModelOpsError


class TaskType(enum.StrEnum):
    """The kind of prediction task; it chooses the default metrics of :func:`create_evaluator`."""

    CLASSIFICATION = "classification"
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"
    RANKING = "ranking"
    GENERATION = "generation"


class Metric:
    """Base class for a custom metric: set ``name``, implement ``compute``.

    >>> class ShareOfYes(Metric):
    ...     name = "share_of_yes"
    ...     def compute(self, predictions, references):
    ...         return sum(p == "yes" for p in predictions) / len(predictions)
    >>> ShareOfYes()(["yes", "no"], ["yes", "yes"])
    0.5

    A metric is callable, so it can be given to :class:`~modelops_core.evaluation.Evaluator`
    directly; registered from a plugin with ``registry.add(name, "module:Class")`` it becomes
    selectable by name. ``needs_scores = True`` makes the evaluator pass scores (probabilities)
    as ``predictions``.
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool | None] = True
    needs_scores: ClassVar[bool] = False

    def compute(self, predictions: Sequence[Any], references: Sequence[Any]) -> Any:
        """The metric's value; override it."""
        raise NotImplementedError(f"{type(self).__name__}.compute is not implemented.")

    def __call__(self, predictions: Sequence[Any], references: Sequence[Any]) -> Any:
        return self.compute(predictions, references)


#: metric names of modelops-metrics whose ``predictions`` are scores or probabilities
SCORE_METRICS = frozenset(
    {
        "auc_roc",
        "average_precision",
        "roc_curve",
        "pr_curve",
        "log_loss",
        "brier",
        "ece",
        "reliability_curve",
        "group_calibration_error",
    }
)
#: ... and of those, the ones whose scores must be probabilities in [0, 1]
PROBABILITY_METRICS = frozenset(
    {"log_loss", "brier", "ece", "reliability_curve", "group_calibration_error"}
)

#: public name -> "module:attr" in the modelops-metrics plugin
PLUGIN_CLASSES = {
    "AccuracyMetric": "modelops_metrics.classification:AccuracyMetric",
    "BalancedAccuracyMetric": "modelops_metrics.classification:BalancedAccuracyMetric",
    "PrecisionMetric": "modelops_metrics.classification:PrecisionMetric",
    "RecallMetric": "modelops_metrics.classification:RecallMetric",
    "F1Metric": "modelops_metrics.classification:F1Metric",
    "ConfusionMatrix": "modelops_metrics.classification:ConfusionMatrix",
    "MCCMetric": "modelops_metrics.classification:MCCMetric",
    "CohenKappaMetric": "modelops_metrics.classification:CohenKappaMetric",
    "LogLossMetric": "modelops_metrics.classification:LogLossMetric",
    "BrierScoreMetric": "modelops_metrics.classification:BrierScoreMetric",
    "AUCROCMetric": "modelops_metrics.ranking:AUCROCMetric",
    "AveragePrecisionMetric": "modelops_metrics.ranking:AveragePrecisionMetric",
    "ROCCurve": "modelops_metrics.ranking:ROCCurve",
    "PRCurve": "modelops_metrics.ranking:PRCurve",
    "MSEMetric": "modelops_metrics.regression:MSEMetric",
    "MAEMetric": "modelops_metrics.regression:MAEMetric",
    "RMSEMetric": "modelops_metrics.regression:RMSEMetric",
    "R2Metric": "modelops_metrics.regression:R2Metric",
    "MAPEMetric": "modelops_metrics.regression:MAPEMetric",
    "ExplainedVarianceMetric": "modelops_metrics.regression:ExplainedVarianceMetric",
    "ExpectedCalibrationErrorMetric": (
        "modelops_metrics.calibration:ExpectedCalibrationErrorMetric"
    ),
    "TokenF1Metric": "modelops_metrics.text:TokenF1Metric",
    "BleuMetric": "modelops_metrics.text:BleuMetric",
    "RougeLMetric": "modelops_metrics.text:RougeLMetric",
}


class MetricsPluginMissingError(ModelOpsError, ImportError):
    """A metric class of the ``modelops-metrics`` plugin was asked for but it is not installed."""


def metric_class(name: str) -> Any:
    """The class ``name`` from ``modelops-metrics``, imported now."""
    target = PLUGIN_CLASSES[name]
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("modelops_metrics"):
            raise
        raise MetricsPluginMissingError(
            f"{name} is provided by the modelops-metrics plugin, which is not installed; "
            "run `pip install modelops-metrics` (or `pip install ./plugins/metrics`)."
        ) from exc
    return getattr(module, attribute)


def __getattr__(name: str) -> Any:
    if name in PLUGIN_CLASSES:
        return metric_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
