"""acme.latency_p95 passes the modelops metric contract and computes what it promises."""

from __future__ import annotations

from collections.abc import Callable

import acme_metrics.plugin
import pytest

from modelops_core import Runtime
from modelops_core.errors import ComponentOptionError
from modelops_core.evaluation.evaluator import evaluate_components
from modelops_core.testing import MetricContract, MetricExample


class TestLatencyP95(MetricContract):
    plugin = acme_metrics.plugin
    component_name = "acme.latency_p95"
    distribution = "acme-metrics"

    def examples(self) -> list[MetricExample]:
        return [
            # rank (5 - 1) * 0.95 = 3.8: 40 + 0.8 * (100 - 40)
            MetricExample(
                ["a", "b", "c", "d", "e"],
                ["a", "b", "c", "d", "e"],
                expected=88.0,
                columns={"latency_ms": [100, 10, 40, 20, 30]},
            ),
            MetricExample(["a"], ["a"], expected=12.5, columns={"latency_ms": [12.5]}),
        ]


def test_the_percentile_is_an_option(modelops_runtime_factory: Callable[..., Runtime]) -> None:
    runtime = modelops_runtime_factory(plugins=[("acme-metrics", acme_metrics.plugin)])
    median = runtime.create("metric", "acme.latency_p95", percentile=50.0)
    assert median.compute(["a"] * 4, ["a"] * 4, latency_ms=[1, 2, 3, 4]) == 2.5


def test_a_misspelled_option_is_refused_with_a_hint(
    modelops_runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = modelops_runtime_factory(plugins=[("acme-metrics", acme_metrics.plugin)])
    with pytest.raises(ComponentOptionError, match="Did you mean 'percentile'"):
        runtime.create("metric", "acme.latency_p95", percentil=99.0)


def test_the_latency_column_reaches_the_metric(
    modelops_runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = modelops_runtime_factory(plugins=[("acme-metrics", acme_metrics.plugin)])
    records = [
        {"prediction": "yes", "reference": "yes", "latency_ms": latency}
        for latency in (120, 80, 200, 95)
    ]
    result = evaluate_components(runtime, ["acme.latency_p95"], records)
    assert result == {"acme.latency_p95": pytest.approx(188.0)}  # 120 + 0.85 * (200 - 120)


def test_a_percentile_outside_0_to_100_is_refused() -> None:
    from acme_metrics.latency import LatencyP95

    with pytest.raises(ValueError, match="between 0 and 100"):
        LatencyP95(percentile=150.0)
