"""The testing kit for plugin authors: contract suites per kind and runtime fixtures.

Subclass the contract of your component's kind in your plugin's tests::

    from modelops_core.testing import MetricContract, MetricExample
    import acme_metrics.plugin

    class TestLatencyP95(MetricContract):
        plugin = acme_metrics.plugin
        component_name = "acme.latency_p95"
        distribution = "acme-metrics"

        def examples(self):
            return [
                MetricExample(["a", "b", "c"], ["a", "b", "c"], expected=29.0,
                              columns={"latency_ms": [10, 20, 30]})
            ]

The fixtures ``modelops_runtime`` and ``modelops_runtime_factory`` come with the pytest plugin
that modelops-core installs (entry point ``pytest11``).
"""

from __future__ import annotations

from modelops_core.testing.contracts import (
    AlertSinkContract,
    ArtifactStoreContract,
    ComponentContract,
    DriftTestContract,
    EngineContract,
    FeatureStoreContract,
    MetricContract,
    MetricExample,
    ModelFlavorContract,
    OptimizerContract,
    ProviderContract,
    ProviderScenario,
    RegistryBackendContract,
    SanitizerContract,
    SanitizerExample,
    ScenarioRun,
    assert_close,
)
from modelops_core.testing.fixtures import make_runtime
from modelops_core.testing.imports import packages_imported_by
from modelops_core.testing.servers import (
    DEFAULT_POSTGRES_URL,
    free_port,
    fresh_postgres_schema,
    moto_server,
    postgres_unavailable_reason,
    postgres_url_or_skip,
)

__all__ = [
    "DEFAULT_POSTGRES_URL",
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
    "free_port",
    "fresh_postgres_schema",
    "make_runtime",
    "moto_server",
    "packages_imported_by",
    "postgres_unavailable_reason",
    "postgres_url_or_skip",
]
