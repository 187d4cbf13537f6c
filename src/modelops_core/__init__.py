"""modelops-core: a small, fast, plugin-first core for the LLM/ML model lifecycle.

Importing the package does no I/O and imports no heavy library; every public name, the hook
markers included, is imported on first use (``from modelops_core import hookimpl`` imports
pluggy, which ``modelops --help`` does not need).
"""

from __future__ import annotations

from modelops_core._version import __version__

# Not typing.TYPE_CHECKING: importing typing is most of what `import modelops_core` would cost.
# Type checkers treat a name TYPE_CHECKING as true whatever its value.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from modelops_core.builtin.text_metrics import exact_match_metric, length_ratio_metric
    from modelops_core.config import ComponentChoice, Config, load_config
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.datasets.errors import DatasetError, DatasetFormatError
    from modelops_core.datasets.sanitize import DatasetSanitizer
    from modelops_core.datasets.stats import DatasetStats
    from modelops_core.datasets.validate import ValidationReport
    from modelops_core.errors import (
        ComponentError,
        ConfigError,
        MetricInputError,
        ModelOpsError,
        PluginError,
        VetoError,
    )
    from modelops_core.evaluation.compare import Comparison, compare, compare_models
    from modelops_core.evaluation.evaluator import (
        EvaluationResult,
        Evaluator,
        Interval,
        Metric,
        ModelEvaluator,
        TaskType,
        create_evaluator,
    )
    from modelops_core.evaluation.metrics import (
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
    from modelops_core.features.store import FeatureStore
    from modelops_core.features.values import (
        EmbeddingDimensionError,
        EmbeddingValueError,
        FeatureSetVersionError,
        FeatureStoreError,
        Neighbor,
    )
    from modelops_core.finetune.errors import (
        FineTuningError,
        JobTimeoutError,
        PreflightError,
    )
    from modelops_core.finetune.job import FineTuningJob
    from modelops_core.finetune.provider_contract import (
        JobStatus,
        MissingCredentialsError,
        ProviderError,
        ProviderRejectedError,
        ProviderUnavailableError,
    )
    from modelops_core.flavors.contract import FlavorError
    from modelops_core.flavors.model import FlavorModel
    from modelops_core.monitoring.drift import ColumnDrift, DriftReport, Monitor
    from modelops_core.monitoring.errors import MonitoringError, ProfileError
    from modelops_core.monitoring.performance import CBPE, MulticlassCBPE, PerformanceError
    from modelops_core.monitoring.profile import Profile
    from modelops_core.optimize.optimizer import InferenceOptimizer
    from modelops_core.optimize.values import QualityGateError
    from modelops_core.plugins.components import ComponentRegistrar, ComponentSpec
    from modelops_core.plugins.discovery import PluginInfo
    from modelops_core.plugins.kinds import Kind
    from modelops_core.plugins.markers import hookimpl, hookspec
    from modelops_core.registry.model_registry import (
        EvaluationRequiredError,
        Lineage,
        ModelRegistry,
        PickleSerializer,
        Serializer,
    )
    from modelops_core.registry.versions import (
        InvalidVersionError,
    )
    from modelops_core.runtime import Runtime
    from modelops_core.store.contract import (
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
    from modelops_core.tracking.tracker import (
        ExperimentTracker,
        Run,
    )

_LAZY = {
    "ComponentRegistrar": "modelops_core.plugins.components",
    "ComponentSpec": "modelops_core.plugins.components",
    "ComponentChoice": "modelops_core.config",
    "Config": "modelops_core.config",
    "load_config": "modelops_core.config",
    "ComponentError": "modelops_core.errors",
    "ConfigError": "modelops_core.errors",
    "MetricInputError": "modelops_core.errors",
    "ModelOpsError": "modelops_core.errors",
    "PluginError": "modelops_core.errors",
    "VetoError": "modelops_core.errors",
    "Evaluator": "modelops_core.evaluation.evaluator",
    "FeatureStore": "modelops_core.features.store",
    "InferenceOptimizer": "modelops_core.optimize.optimizer",
    "QualityGateError": "modelops_core.optimize.values",
    "FeatureStoreError": "modelops_core.features.values",
    "FeatureSetVersionError": "modelops_core.features.values",
    "EmbeddingDimensionError": "modelops_core.features.values",
    "EmbeddingValueError": "modelops_core.features.values",
    "Neighbor": "modelops_core.features.values",
    "EvaluationResult": "modelops_core.evaluation.evaluator",
    "Interval": "modelops_core.evaluation.evaluator",
    "Metric": "modelops_core.evaluation.evaluator",
    "ModelEvaluator": "modelops_core.evaluation.evaluator",
    "TaskType": "modelops_core.evaluation.evaluator",
    "create_evaluator": "modelops_core.evaluation.evaluator",
    "Comparison": "modelops_core.evaluation.compare",
    "compare": "modelops_core.evaluation.compare",
    "compare_models": "modelops_core.evaluation.compare",
    "AUCROCMetric": "modelops_core.evaluation.metrics",
    "AccuracyMetric": "modelops_core.evaluation.metrics",
    "AveragePrecisionMetric": "modelops_core.evaluation.metrics",
    "BalancedAccuracyMetric": "modelops_core.evaluation.metrics",
    "BrierScoreMetric": "modelops_core.evaluation.metrics",
    "CohenKappaMetric": "modelops_core.evaluation.metrics",
    "ConfusionMatrix": "modelops_core.evaluation.metrics",
    "ExpectedCalibrationErrorMetric": "modelops_core.evaluation.metrics",
    "F1Metric": "modelops_core.evaluation.metrics",
    "LogLossMetric": "modelops_core.evaluation.metrics",
    "MAEMetric": "modelops_core.evaluation.metrics",
    "MCCMetric": "modelops_core.evaluation.metrics",
    "MSEMetric": "modelops_core.evaluation.metrics",
    "PrecisionMetric": "modelops_core.evaluation.metrics",
    "R2Metric": "modelops_core.evaluation.metrics",
    "RMSEMetric": "modelops_core.evaluation.metrics",
    "RecallMetric": "modelops_core.evaluation.metrics",
    "Dataset": "modelops_core.datasets.dataset",
    "DatasetError": "modelops_core.datasets.errors",
    "DatasetFormatError": "modelops_core.datasets.errors",
    "DatasetStats": "modelops_core.datasets.stats",
    "ColumnDrift": "modelops_core.monitoring.drift",
    "DriftReport": "modelops_core.monitoring.drift",
    "Monitor": "modelops_core.monitoring.drift",
    "MonitoringError": "modelops_core.monitoring.errors",
    "ProfileError": "modelops_core.monitoring.errors",
    "Profile": "modelops_core.monitoring.profile",
    "CBPE": "modelops_core.monitoring.performance",
    "MulticlassCBPE": "modelops_core.monitoring.performance",
    "PerformanceError": "modelops_core.monitoring.performance",
    "ValidationReport": "modelops_core.datasets.validate",
    "DatasetSanitizer": "modelops_core.datasets.sanitize",
    "FineTuningJob": "modelops_core.finetune.job",
    "FineTuningError": "modelops_core.finetune.errors",
    "JobTimeoutError": "modelops_core.finetune.errors",
    "PreflightError": "modelops_core.finetune.errors",
    "JobStatus": "modelops_core.finetune.provider_contract",
    "MissingCredentialsError": "modelops_core.finetune.provider_contract",
    "ProviderError": "modelops_core.finetune.provider_contract",
    "ProviderRejectedError": "modelops_core.finetune.provider_contract",
    "ProviderUnavailableError": "modelops_core.finetune.provider_contract",
    "Kind": "modelops_core.plugins.kinds",
    "hookimpl": "modelops_core.plugins.markers",
    "hookspec": "modelops_core.plugins.markers",
    "PluginInfo": "modelops_core.plugins.discovery",
    "Runtime": "modelops_core.runtime",
    "exact_match_metric": "modelops_core.builtin.text_metrics",
    "length_ratio_metric": "modelops_core.builtin.text_metrics",
    "ModelRegistry": "modelops_core.registry.model_registry",
    "Lineage": "modelops_core.registry.model_registry",
    "PickleSerializer": "modelops_core.registry.model_registry",
    "Serializer": "modelops_core.registry.model_registry",
    "FlavorModel": "modelops_core.flavors.model",
    "FlavorError": "modelops_core.flavors.contract",
    "EvaluationRequiredError": "modelops_core.registry.model_registry",
    "ExperimentTracker": "modelops_core.tracking.tracker",
    "Run": "modelops_core.tracking.tracker",
    "ModelVersion": "modelops_core.store.contract",
    "ArtifactRef": "modelops_core.store.contract",
    "MetricPoint": "modelops_core.store.contract",
    "StorageError": "modelops_core.store.contract",
    "DuplicateVersionError": "modelops_core.store.contract",
    "ModelNotFoundError": "modelops_core.store.contract",
    "VersionNotFoundError": "modelops_core.store.contract",
    "AliasNotFoundError": "modelops_core.store.contract",
    "ArtifactCorruptedError": "modelops_core.store.contract",
    "StoreLockedError": "modelops_core.store.contract",
    "InvalidVersionError": "modelops_core.registry.versions",
}

__all__ = [
    "CBPE",
    "AUCROCMetric",
    "AccuracyMetric",
    "AliasNotFoundError",
    "ArtifactCorruptedError",
    "ArtifactRef",
    "AveragePrecisionMetric",
    "BalancedAccuracyMetric",
    "BrierScoreMetric",
    "CohenKappaMetric",
    "ColumnDrift",
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
    "DriftReport",
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
    "FlavorError",
    "FlavorModel",
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
    "Monitor",
    "MonitoringError",
    "MulticlassCBPE",
    "Neighbor",
    "PerformanceError",
    "PickleSerializer",
    "PluginError",
    "PluginInfo",
    "PrecisionMetric",
    "PreflightError",
    "Profile",
    "ProfileError",
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
    from modelops_core.gc_pause import import_module

    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return __all__
