"""modelops-core: a small, fast, plugin-first core for the LLM/ML model lifecycle.

Importing the package does no I/O and imports no heavy library; every public name, the hook
markers included, is imported on first use (``from modelops_core import hookimpl`` imports
pluggy, which ``modelops --help`` does not need).
"""

from __future__ import annotations

import importlib

from modelops_core._version import __version__

# Not typing.TYPE_CHECKING: importing typing is most of what `import modelops_core` would cost.
# Type checkers treat a name TYPE_CHECKING as true whatever its value.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from modelops_core.components import ComponentRegistrar, ComponentSpec
    from modelops_core.config import ComponentChoice, Config, load_config
    from modelops_core.dataset import Dataset
    from modelops_core.dataset_errors import DatasetError, DatasetFormatError
    from modelops_core.dataset_stats import DatasetStats
    from modelops_core.dataset_validate import ValidationReport
    from modelops_core.errors import (
        ComponentError,
        ConfigError,
        MetricInputError,
        ModelOpsError,
        PluginError,
        VetoError,
    )
    from modelops_core.evaluation import (
        EvaluationResult,
        Evaluator,
        Interval,
        Metric,
        ModelEvaluator,
        TaskType,
        create_evaluator,
    )
    from modelops_core.evaluation_compare import Comparison, compare, compare_models
    from modelops_core.evaluation_metrics import (
        AccuracyMetric,
        AUCROCMetric,
        AveragePrecisionMetric,
        BalancedAccuracyMetric,
        BrierScoreMetric,
        CohenKappaMetric,
        ConfusionMatrix,
        ExpectedCalibrationErrorMetric,
        F1Metric,
        LogLossMetric,
        MAEMetric,
        MCCMetric,
        MSEMetric,
        PrecisionMetric,
        R2Metric,
        RecallMetric,
        RMSEMetric,
    )
    from modelops_core.feature_types import (
        EmbeddingDimensionError,
        EmbeddingValueError,
        FeatureSetVersionError,
        FeatureStoreError,
        Neighbor,
    )
    from modelops_core.features import FeatureStore
    from modelops_core.finetune import FineTuningJob
    from modelops_core.finetune_errors import (
        FineTuningError,
        JobTimeoutError,
        PreflightError,
    )
    from modelops_core.jobs import (
        JobStatus,
        MissingCredentialsError,
        ProviderError,
        ProviderRejectedError,
        ProviderUnavailableError,
    )
    from modelops_core.kinds import Kind
    from modelops_core.markers import hookimpl, hookspec
    from modelops_core.optimize import InferenceOptimizer
    from modelops_core.optimize_types import QualityGateError
    from modelops_core.plugins import PluginInfo
    from modelops_core.registry import (
        EvaluationRequiredError,
        Lineage,
        ModelRegistry,
        PickleSerializer,
        Serializer,
    )
    from modelops_core.runtime import Runtime
    from modelops_core.sanitize import DatasetSanitizer
    from modelops_core.semver import (
        InvalidVersionError,
    )
    from modelops_core.storage import (
        AliasNotFoundError,
        ArtifactCorruptedError,
        ArtifactRef,
        DuplicateVersionError,
        MetricPoint,
        ModelNotFoundError,
        ModelVersion,
        StorageError,
        StoreLockedError,
        VersionNotFoundError,
    )
    from modelops_core.text_metrics import exact_match_metric, length_ratio_metric
    from modelops_core.tracking import (
        ExperimentTracker,
        Run,
    )

_LAZY = {
    "ComponentRegistrar": "modelops_core.components",
    "ComponentSpec": "modelops_core.components",
    "ComponentChoice": "modelops_core.config",
    "Config": "modelops_core.config",
    "load_config": "modelops_core.config",
    "ComponentError": "modelops_core.errors",
    "ConfigError": "modelops_core.errors",
    "MetricInputError": "modelops_core.errors",
    "ModelOpsError": "modelops_core.errors",
    "PluginError": "modelops_core.errors",
    "VetoError": "modelops_core.errors",
    "Evaluator": "modelops_core.evaluation",
    "FeatureStore": "modelops_core.features",
    "InferenceOptimizer": "modelops_core.optimize",
    "QualityGateError": "modelops_core.optimize_types",
    "FeatureStoreError": "modelops_core.feature_types",
    "FeatureSetVersionError": "modelops_core.feature_types",
    "EmbeddingDimensionError": "modelops_core.feature_types",
    "EmbeddingValueError": "modelops_core.feature_types",
    "Neighbor": "modelops_core.feature_types",
    "EvaluationResult": "modelops_core.evaluation",
    "Interval": "modelops_core.evaluation",
    "Metric": "modelops_core.evaluation",
    "ModelEvaluator": "modelops_core.evaluation",
    "TaskType": "modelops_core.evaluation",
    "create_evaluator": "modelops_core.evaluation",
    "Comparison": "modelops_core.evaluation_compare",
    "compare": "modelops_core.evaluation_compare",
    "compare_models": "modelops_core.evaluation_compare",
    "AUCROCMetric": "modelops_core.evaluation_metrics",
    "AccuracyMetric": "modelops_core.evaluation_metrics",
    "AveragePrecisionMetric": "modelops_core.evaluation_metrics",
    "BalancedAccuracyMetric": "modelops_core.evaluation_metrics",
    "BrierScoreMetric": "modelops_core.evaluation_metrics",
    "CohenKappaMetric": "modelops_core.evaluation_metrics",
    "ConfusionMatrix": "modelops_core.evaluation_metrics",
    "ExpectedCalibrationErrorMetric": "modelops_core.evaluation_metrics",
    "F1Metric": "modelops_core.evaluation_metrics",
    "LogLossMetric": "modelops_core.evaluation_metrics",
    "MAEMetric": "modelops_core.evaluation_metrics",
    "MCCMetric": "modelops_core.evaluation_metrics",
    "MSEMetric": "modelops_core.evaluation_metrics",
    "PrecisionMetric": "modelops_core.evaluation_metrics",
    "R2Metric": "modelops_core.evaluation_metrics",
    "RMSEMetric": "modelops_core.evaluation_metrics",
    "RecallMetric": "modelops_core.evaluation_metrics",
    "Dataset": "modelops_core.dataset",
    "DatasetError": "modelops_core.dataset_errors",
    "DatasetFormatError": "modelops_core.dataset_errors",
    "DatasetStats": "modelops_core.dataset_stats",
    "ValidationReport": "modelops_core.dataset_validate",
    "DatasetSanitizer": "modelops_core.sanitize",
    "FineTuningJob": "modelops_core.finetune",
    "FineTuningError": "modelops_core.finetune_errors",
    "JobTimeoutError": "modelops_core.finetune_errors",
    "PreflightError": "modelops_core.finetune_errors",
    "JobStatus": "modelops_core.jobs",
    "MissingCredentialsError": "modelops_core.jobs",
    "ProviderError": "modelops_core.jobs",
    "ProviderRejectedError": "modelops_core.jobs",
    "ProviderUnavailableError": "modelops_core.jobs",
    "Kind": "modelops_core.kinds",
    "hookimpl": "modelops_core.markers",
    "hookspec": "modelops_core.markers",
    "PluginInfo": "modelops_core.plugins",
    "Runtime": "modelops_core.runtime",
    "exact_match_metric": "modelops_core.text_metrics",
    "length_ratio_metric": "modelops_core.text_metrics",
    "ModelRegistry": "modelops_core.registry",
    "Lineage": "modelops_core.registry",
    "PickleSerializer": "modelops_core.registry",
    "Serializer": "modelops_core.registry",
    "EvaluationRequiredError": "modelops_core.registry",
    "ExperimentTracker": "modelops_core.tracking",
    "Run": "modelops_core.tracking",
    "ModelVersion": "modelops_core.storage",
    "ArtifactRef": "modelops_core.storage",
    "MetricPoint": "modelops_core.storage",
    "StorageError": "modelops_core.storage",
    "DuplicateVersionError": "modelops_core.storage",
    "ModelNotFoundError": "modelops_core.storage",
    "VersionNotFoundError": "modelops_core.storage",
    "AliasNotFoundError": "modelops_core.storage",
    "ArtifactCorruptedError": "modelops_core.storage",
    "StoreLockedError": "modelops_core.storage",
    "InvalidVersionError": "modelops_core.semver",
}

__all__ = [
    "AUCROCMetric",
    "AccuracyMetric",
    "AliasNotFoundError",
    "ArtifactCorruptedError",
    "ArtifactRef",
    "AveragePrecisionMetric",
    "BalancedAccuracyMetric",
    "BrierScoreMetric",
    "CohenKappaMetric",
    "Comparison",
    "ComponentChoice",
    "ComponentError",
    "ComponentRegistrar",
    "ComponentSpec",
    "Config",
    "ConfigError",
    "ConfusionMatrix",
    "Dataset",
    "DatasetError",
    "DatasetFormatError",
    "DatasetSanitizer",
    "DatasetStats",
    "DuplicateVersionError",
    "EmbeddingDimensionError",
    "EmbeddingValueError",
    "EvaluationRequiredError",
    "EvaluationResult",
    "Evaluator",
    "ExpectedCalibrationErrorMetric",
    "ExperimentTracker",
    "F1Metric",
    "FeatureSetVersionError",
    "FeatureStore",
    "FeatureStoreError",
    "FineTuningError",
    "FineTuningJob",
    "InferenceOptimizer",
    "Interval",
    "InvalidVersionError",
    "JobStatus",
    "JobTimeoutError",
    "Kind",
    "Lineage",
    "LogLossMetric",
    "MAEMetric",
    "MCCMetric",
    "MSEMetric",
    "Metric",
    "MetricInputError",
    "MetricPoint",
    "MissingCredentialsError",
    "ModelEvaluator",
    "ModelNotFoundError",
    "ModelOpsError",
    "ModelRegistry",
    "ModelVersion",
    "Neighbor",
    "PickleSerializer",
    "PluginError",
    "PluginInfo",
    "PrecisionMetric",
    "PreflightError",
    "ProviderError",
    "ProviderRejectedError",
    "ProviderUnavailableError",
    "QualityGateError",
    "R2Metric",
    "RMSEMetric",
    "RecallMetric",
    "Run",
    "Runtime",
    "Serializer",
    "StorageError",
    "StoreLockedError",
    "TaskType",
    "ValidationReport",
    "VersionNotFoundError",
    "VetoError",
    "__version__",
    "compare",
    "compare_models",
    "create_evaluator",
    "exact_match_metric",
    "hookimpl",
    "hookspec",
    "length_ratio_metric",
    "load_config",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelops_core' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
