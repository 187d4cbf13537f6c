"""The modelops plugin of acme-metrics: cheap to import, it only declares the metric."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelops_core import hookimpl

if TYPE_CHECKING:
    from modelops_core import ComponentRegistrar


@hookimpl
def modelops_register_metrics(registry: ComponentRegistrar) -> None:
    registry.add(
        "acme.latency_p95",
        "acme_metrics.latency:LatencyP95",  # imported only when the metric is chosen
        description="95th percentile of the latency_ms column (lower is better)",
    )
