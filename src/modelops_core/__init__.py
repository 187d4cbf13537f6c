"""modelops-core: a small, fast, plugin-first core for the LLM/ML model lifecycle.

Importing the package does no I/O and imports no heavy library; names other than the hook
markers are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from modelops_core._version import __version__
from modelops_core.markers import hookimpl, hookspec

if TYPE_CHECKING:
    from modelops_core.components import ComponentRegistrar, ComponentSpec
    from modelops_core.config import ComponentChoice, Config, load_config
    from modelops_core.dataset import Dataset
    from modelops_core.dataset_errors import DatasetError, DatasetFormatError
    from modelops_core.dataset_stats import DatasetStats
    from modelops_core.dataset_validate import ValidationReport
    from modelops_core.errors import (
        ComponentError,
        ConfigError,
        ModelOpsError,
        PluginError,
        VetoError,
    )
    from modelops_core.evaluation import Evaluator
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
    "ModelOpsError": "modelops_core.errors",
    "PluginError": "modelops_core.errors",
    "VetoError": "modelops_core.errors",
    "Evaluator": "modelops_core.evaluation",
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
    "AliasNotFoundError",
    "ArtifactCorruptedError",
    "ArtifactRef",
    "ComponentChoice",
    "ComponentError",
    "ComponentRegistrar",
    "ComponentSpec",
    "Config",
    "ConfigError",
    "Dataset",
    "DatasetError",
    "DatasetFormatError",
    "DatasetSanitizer",
    "DatasetStats",
    "DuplicateVersionError",
    "EvaluationRequiredError",
    "Evaluator",
    "ExperimentTracker",
    "FineTuningError",
    "FineTuningJob",
    "InvalidVersionError",
    "JobStatus",
    "JobTimeoutError",
    "Kind",
    "Lineage",
    "MetricPoint",
    "MissingCredentialsError",
    "ModelNotFoundError",
    "ModelOpsError",
    "ModelRegistry",
    "ModelVersion",
    "PickleSerializer",
    "PluginError",
    "PluginInfo",
    "PreflightError",
    "ProviderError",
    "ProviderRejectedError",
    "ProviderUnavailableError",
    "Run",
    "Runtime",
    "Serializer",
    "StorageError",
    "StoreLockedError",
    "ValidationReport",
    "VersionNotFoundError",
    "VetoError",
    "__version__",
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
