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
    ArtifactStoreContract,
    ComponentContract,
    DriftTestContract,
    EngineContract,
    FeatureStoreContract,
    MetricContract,
    MetricExample,
    OptimizerContract,
    ProviderContract,
    RegistryBackendContract,
    SanitizerContract,
    SanitizerExample,
    assert_close,
)
from modelops_core.testing.fixtures import make_runtime

__all__ = [
    "ArtifactStoreContract",
    "ComponentContract",
    "DriftTestContract",
    "EngineContract",
    "FeatureStoreContract",
    "MetricContract",
    "MetricExample",
    "OptimizerContract",
    "ProviderContract",
    "RegistryBackendContract",
    "SanitizerContract",
    "SanitizerExample",
    "assert_close",
    "make_runtime",
]
