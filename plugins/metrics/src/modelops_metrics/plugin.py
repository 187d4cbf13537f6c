"""The ``modelops-metrics`` plugin: declares its metrics with lazy ``"module:attr"`` factories.

Importing this module imports no numpy; a metric's module is imported only when it is chosen.
"""

from __future__ import annotations

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar

_CLASSIFICATION = "modelops_metrics.classification"
_RANKING = "modelops_metrics.ranking"
_REGRESSION = "modelops_metrics.regression"


@hookimpl
def modelops_register_metrics(registry: ComponentRegistrar) -> None:
    # classification: predictions are labels
    registry.add(
        "accuracy", f"{_CLASSIFICATION}:AccuracyMetric", description="share of correct labels"
    )
    registry.add(
        "balanced_accuracy",
        f"{_CLASSIFICATION}:BalancedAccuracyMetric",
        description="mean recall over the classes present in the references",
    )
    registry.add(
        "precision",
        f"{_CLASSIFICATION}:PrecisionMetric",
        description="TP / (TP + FP); binary, micro, macro, weighted or per class",
    )
    registry.add(
        "recall",
        f"{_CLASSIFICATION}:RecallMetric",
        description="TP / (TP + FN); binary, micro, macro, weighted or per class",
    )
    registry.add(
        "f1",
        f"{_CLASSIFICATION}:F1Metric",
        description="harmonic mean of precision and recall; binary, micro, macro, weighted",
    )
    registry.add(
        "confusion_matrix",
        f"{_CLASSIFICATION}:ConfusionMatrix",
        description="counts of (reference, prediction) label pairs",
    )
    registry.add(
        "mcc", f"{_CLASSIFICATION}:MCCMetric", description="Matthews correlation coefficient"
    )
    registry.add(
        "cohen_kappa",
        f"{_CLASSIFICATION}:CohenKappaMetric",
        description="agreement beyond chance between predictions and references",
    )
    # classification: predictions are probabilities
    registry.add(
        "log_loss",
        f"{_CLASSIFICATION}:LogLossMetric",
        description="cross-entropy of predicted probabilities (lower is better)",
    )
    registry.add(
        "brier",
        f"{_CLASSIFICATION}:BrierScoreMetric",
        description="mean squared error of the positive-class probability (lower is better)",
    )
    # ranking: predictions are scores
    registry.add(
        "auc_roc",
        f"{_RANKING}:AUCROCMetric",
        description="area under the ROC curve; binary, one-vs-rest or one-vs-one",
    )
    registry.add(
        "average_precision",
        f"{_RANKING}:AveragePrecisionMetric",
        description="area under the precision-recall curve (step sum)",
    )
    registry.add("roc_curve", f"{_RANKING}:ROCCurve", description="false and true positive rates")
    registry.add("pr_curve", f"{_RANKING}:PRCurve", description="precision and recall")
    # regression
    registry.add("mse", f"{_REGRESSION}:MSEMetric", description="mean squared error")
    registry.add("mae", f"{_REGRESSION}:MAEMetric", description="mean absolute error")
    registry.add("rmse", f"{_REGRESSION}:RMSEMetric", description="root mean squared error")
    registry.add("r2", f"{_REGRESSION}:R2Metric", description="coefficient of determination")
    registry.add(
        "mape",
        f"{_REGRESSION}:MAPEMetric",
        description="mean absolute percentage error (as a fraction)",
    )
    registry.add(
        "explained_variance",
        f"{_REGRESSION}:ExplainedVarianceMetric",
        description="1 - Var(references - predictions) / Var(references)",
    )
    # --- calibration, fairness, text (registered by their module owner) ---
    registry.add(
        "ece",
        "modelops_metrics.calibration:ExpectedCalibrationErrorMetric",
        description="expected calibration error of binary probabilities (lower is better)",
    )
    registry.add(
        "reliability_curve",
        "modelops_metrics.calibration:ReliabilityCurve",
        description="mean predicted probability and observed frequency per bin",
    )
    registry.add(
        "demographic_parity_difference",
        "modelops_metrics.fairness:DemographicParityDifference",
        description="largest minus smallest group selection rate (needs groups=)",
    )
    registry.add(
        "demographic_parity_ratio",
        "modelops_metrics.fairness:DemographicParityRatio",
        description="smallest over largest group selection rate (needs groups=)",
    )
    registry.add(
        "equalized_odds_difference",
        "modelops_metrics.fairness:EqualizedOddsDifference",
        description="larger of the TPR and FPR differences between groups (needs groups=)",
    )
    registry.add(
        "equal_opportunity_difference",
        "modelops_metrics.fairness:EqualOpportunityDifference",
        description="largest minus smallest group true positive rate (needs groups=)",
    )
    registry.add(
        "equalized_odds_ratio",
        "modelops_metrics.fairness:EqualizedOddsRatio",
        description="smaller of the TPR and FPR ratios (smallest / largest group; needs groups=)",
    )
    registry.add(
        "equal_opportunity_ratio",
        "modelops_metrics.fairness:EqualOpportunityRatio",
        description="smallest over largest group true positive rate (needs groups=)",
    )
    registry.add(
        "group_metric",
        "modelops_metrics.fairness:GroupMetric",
        description="per-group values of any metric with difference and ratio (needs groups=)",
    )
    registry.add(
        "group_calibration_error",
        "modelops_metrics.fairness:GroupCalibrationError",
        description="expected calibration error per group (needs groups=)",
    )
    registry.add(
        "token_f1",
        "modelops_metrics.text:TokenF1Metric",
        description="SQuAD token-overlap F1 averaged over pairs",
    )
    registry.add(
        "bleu",
        "modelops_metrics.text:BleuMetric",
        description="corpus BLEU-4 with brevity penalty (Papineni 2002), in [0, 1]",
    )
    registry.add(
        "rouge_l",
        "modelops_metrics.text:RougeLMetric",
        description="longest-common-subsequence F-measure averaged over pairs",
    )
    registry.add(
        "perplexity",
        "modelops_metrics.text:PerplexityMetric",
        description="exp of the mean negative token log-probability (predictions = logprobs)",
    )
