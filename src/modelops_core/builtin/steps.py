"""The built-in pipeline steps (:mod:`modelops_core.pipeline.steps`), declared by the core's own
plugin."""

from __future__ import annotations

from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.markers import hookimpl

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
        registry.add(name, f"modelops_core.pipeline.steps.{target}", description=description)
