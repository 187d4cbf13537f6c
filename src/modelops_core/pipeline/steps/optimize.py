"""The ``optimize`` and ``benchmark`` steps: an optimized model that passed the quality gate,
and its figures beside the original's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelops_core.pipeline.runner import StepContext


class OptimizeStep:
    """Optimize the latest ``model_id`` on the latest ``test`` file (the holdout).

    Outputs ``optimized_model_id``, ``optimized_model_name``/``_version`` and the gate's
    numbers (``optimize_metric``, ``original_value``, ``optimized_value``, ``drop``). A
    refused model (:class:`~modelops_core.optimize.values.QualityGateError`) stops the pipeline.

    :param target: ``latency``, ``cost`` or ``memory``.
    :param tolerance: the largest allowed drop of ``metric``.
    :param metric: the metric compared (default ``accuracy``).
    :param techniques: technique names or tables ``{ name = "int8", bits = 8 }`` instead of
        the target's defaults.
    :param name: the registered name (default: ``<model_name>-optimized`` after ``register``).
    """

    def __init__(
        self,
        target: str = "latency",
        tolerance: float = 0.01,
        metric: str = "accuracy",
        techniques: Sequence[Any] | None = None,
        name: str | None = None,
    ) -> None:
        from modelops_core.optimize.values import TARGET_TECHNIQUES

        if techniques is None and target not in TARGET_TECHNIQUES:
            raise ValueError(
                f"target must be one of {', '.join(TARGET_TECHNIQUES)}, got {target!r}"
            )
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance}")
        self.target = target
        self.tolerance = tolerance
        self.metric = metric
        self.techniques = list(techniques) if techniques is not None else None
        self.name = name

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.optimize.optimizer import InferenceOptimizer

        model_id = context.latest("model_id")
        holdout = context.latest("test")
        registered = context.latest("model_name", None)
        name = self.name or (f"{registered}-optimized" if registered else None)
        result = InferenceOptimizer(context.runtime).optimize_result(
            model_id, self.target, holdout=holdout, metric=self.metric,
            tolerance=self.tolerance, techniques=self.techniques, name=name,
        )  # fmt: skip
        context.say(
            f"{result.model_id} ({', '.join(result.techniques)}): {self.metric} "
            f"{result.original:.4f} -> {result.optimized:.4f}"
        )
        if context.run is not None:
            context.run.log_params({"optimize.model_id": result.model_id})
        return {
            "optimized_model_id": result.model_id,
            "optimized_model_name": result.name,
            "optimized_model_version": result.version,
            "optimize_metric": self.metric,
            "original_value": result.original,
            "optimized_value": result.optimized,
            "drop": result.drop,
            "techniques": list(result.techniques),
            "reports": {key: dict(value) for key, value in result.reports.items()},
        }


class BenchmarkStep:
    """Benchmark the latest ``optimized_model_id`` (else ``model_id``) on the ``test`` inputs.

    Outputs ``benchmark`` (the figures of the model and its original) and the p50 speedup.

    :param repeats: passes over the inputs.
    :param concurrency: threads calling at once.
    :param limit: the most test inputs used.
    """

    cacheable = False  # timings describe this machine now

    def __init__(self, repeats: int = 2, concurrency: int = 1, limit: int = 200) -> None:
        if repeats < 1 or concurrency < 1 or limit < 1:
            raise ValueError("repeats, concurrency and limit must be at least 1")
        self.repeats = repeats
        self.concurrency = concurrency
        self.limit = limit

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.datasets.dataset import Dataset
        from modelops_core.optimize.optimizer import InferenceOptimizer

        model_id = context.latest("optimized_model_id", None) or context.latest("model_id")
        inputs = [pair[0] for pair in Dataset.from_jsonl(context.latest("test")).pairs()]
        figures = InferenceOptimizer(context.runtime).benchmark(
            model_id, inputs[: self.limit], repeats=self.repeats, concurrency=self.concurrency
        )
        model = figures["model"]
        context.say(f"{model_id}: p50 {model['p50_ms']:.3f} ms, {model['throughput_per_s']:.0f}/s")
        outputs: dict[str, Any] = {"benchmark": figures}
        if "speedup" in figures:
            outputs["p50_speedup"] = figures["speedup"]["p50"]
        return outputs
