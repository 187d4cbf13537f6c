"""Contract test suites, one class per component kind.

A plugin's tests subclass the suite of its kind and fill in the class attributes (and, for
kinds with behaviour checks, the example methods); pytest then runs every inherited test.
The suites grow append-only as the kinds' protocols grow.

One module per kind; every suite is importable from here and from :mod:`modelops_core.testing`.
"""

from __future__ import annotations

from modelops_core.testing.contracts.alert_sinks import AlertSinkContract
from modelops_core.testing.contracts.artifact_stores import ArtifactStoreContract
from modelops_core.testing.contracts.backends import RegistryBackendContract
from modelops_core.testing.contracts.base import ComponentContract
from modelops_core.testing.contracts.drift_tests import DriftTestContract
from modelops_core.testing.contracts.engines import EngineContract
from modelops_core.testing.contracts.features import FeatureStoreContract
from modelops_core.testing.contracts.flavors import ModelFlavorContract
from modelops_core.testing.contracts.metrics import MetricContract, MetricExample, assert_close
from modelops_core.testing.contracts.optimizers import OptimizerContract
from modelops_core.testing.contracts.providers import (
    ProviderContract,
    ProviderScenario,
    ScenarioRun,
)
from modelops_core.testing.contracts.sanitizers import SanitizerContract, SanitizerExample

__all__ = [
    "AlertSinkContract",
    "ArtifactStoreContract",
    "ComponentContract",
    "DriftTestContract",
    "EngineContract",
    "FeatureStoreContract",
    "MetricContract",
    "MetricExample",
    "ModelFlavorContract",
    "OptimizerContract",
    "ProviderContract",
    "ProviderScenario",
    "RegistryBackendContract",
    "SanitizerContract",
    "SanitizerExample",
    "ScenarioRun",
    "assert_close",
]
