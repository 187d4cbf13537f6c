"""The text metrics of the reference module (``exact_match``, ``length_ratio``), declared by the
core's own plugin."""

from __future__ import annotations

from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.markers import hookimpl


@hookimpl
def modelops_register_metrics(registry: ComponentRegistrar) -> None:
    registry.add(
        "exact_match",
        "modelops_core.builtin.text_metrics:ExactMatch",
        description="share of predictions equal to their reference (whitespace-stripped)",
    )
    registry.add(
        "length_ratio",
        "modelops_core.builtin.text_metrics:LengthRatio",
        description="mean of len(prediction) / len(reference), in characters",
    )
