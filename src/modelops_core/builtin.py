"""The core's own plugin, registered through its entry point like any other plugin.

It declares the two text metrics of the reference module, ``exact_match`` and
``length_ratio``, and the pipeline steps (``dataset``, ``sanitize``, ``finetune``,
``evaluate``, ``gate``, ``register``, ``promote``). It can be disabled with
``[plugins] disable = ["modelops-core"]``.
"""

from __future__ import annotations

from modelops_core.components import ComponentRegistrar
from modelops_core.markers import hookimpl


@hookimpl
def modelops_register_metrics(registry: ComponentRegistrar) -> None:
    registry.add(
        "exact_match",
        "modelops_core.text_metrics:ExactMatch",
        description="share of predictions equal to their reference (whitespace-stripped)",
    )
    registry.add(
        "length_ratio",
        "modelops_core.text_metrics:LengthRatio",
        description="mean of len(prediction) / len(reference), in characters",
    )


_STEPS = {
    "dataset": ("data:DatasetStep", "read a data file, split it into train and test JSONL"),
    "sanitize": ("sanitize:SanitizeStep", "sanitize train/test with [sanitizers] pipeline"),
    "finetune": ("finetune:FinetuneStep", "fine-tune on the train file and wait for the model"),
    "evaluate": ("evaluate:EvaluateStep", "evaluate the tuned model on the test file, with CIs"),
    "gate": ("gate:GateStep", "stop before registering when metrics miss their thresholds"),
    "register": ("register:RegisterStep", "register the tuned model with lineage"),
    "promote": ("register:PromoteStep", "point an alias (production) at the new version"),
    "optimize": ("optimize:OptimizeStep", "optimize the model; refused if the metric drops"),
    "benchmark": ("optimize:BenchmarkStep", "latency, throughput, memory: model vs original"),
}


@hookimpl
def modelops_register_steps(registry: ComponentRegistrar) -> None:
    for name, (target, description) in _STEPS.items():
        registry.add(name, f"modelops_core.steps.{target}", description=description)
