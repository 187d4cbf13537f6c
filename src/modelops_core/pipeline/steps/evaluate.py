"""The ``evaluate`` step: run the tuned model on the test file; metrics with intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelops_core.pipeline.steps import component_choice

if TYPE_CHECKING:
    from modelops_core.pipeline.runner import StepContext


class EvaluateStep:
    """Evaluate the latest ``model_id`` on the latest ``test`` file.

    Outputs ``metrics``, ``evaluation`` (JSON), ``report`` (HTML), ``test_fingerprint`` and
    ``evaluation_summary`` (what ``register`` stores; it names the test set too).

    :param metrics: metric names, or tables with options (``{ name = "f1", average = "macro" }``);
        default: ``[evaluation] metrics`` of the configuration.
    :param bootstrap: resamples for the confidence intervals (0: none).
    :param seed: the bootstrap's seed.
    :param provider: the provider serving the model (default: the one that tuned it).
    :param report: also write the HTML report with plots.
    :param model_id: the model to evaluate, when it is not the one an earlier ``finetune``
        step produced (a deployment name, a provisioned model ARN, a registered baseline).
    """

    def __init__(
        self,
        metrics: Sequence[str | Mapping[str, Any]] | None = None,
        bootstrap: int = 1000,
        seed: int = 0,
        provider: str | None = None,
        report: bool = True,
        model_id: str | None = None,
    ) -> None:
        self.metrics = [
            component_choice(metric, f"evaluate step metrics[{index}]")
            for index, metric in enumerate(metrics or ())
        ]
        self.bootstrap = bootstrap
        self.seed = seed
        self.provider = provider
        self.report = report
        self.model_id = model_id

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.datasets.dataset import Dataset
        from modelops_core.evaluation.evaluator import Evaluator, ModelEvaluator

        model_id = self.model_id or context.latest("model_id")
        provider = self.provider or context.latest("provider", None)
        test = Dataset.from_jsonl(context.latest("test"))
        test_fingerprint = test.fingerprint()
        context.say(f"{model_id} on {len(test)} held-out examples")
        evaluator = Evaluator(
            self.metrics or None, runtime=context.runtime, bootstrap=self.bootstrap, seed=self.seed
        )
        result = ModelEvaluator(context.runtime, evaluator=evaluator).evaluate(
            model_id=model_id, test_dataset=test, provider=provider
        )
        evaluation = context.workdir / "evaluation.json"
        result.to_json(evaluation)
        values = {
            name: float(value)
            for name, value in dict(result).items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        outputs: dict[str, Any] = {
            "metrics": values,
            "evaluation": str(evaluation.resolve()),
            "evaluation_summary": _summary(result, values, test_fingerprint),
            "test_fingerprint": test_fingerprint,
        }
        if self.report:
            report = context.workdir / "report.html"
            result.to_html(report, title=f"{model_id} on {test_fingerprint[:19]}")
            outputs["report"] = str(report.resolve())
        if context.run is not None:
            context.run.log_metrics(values)
        context.say(", ".join(f"{name}={value:.3f}" for name, value in values.items()))
        return outputs


def _summary(result: Any, values: Mapping[str, float], test_fingerprint: str) -> dict[str, Any]:
    """What the registry keeps with the version: values, their intervals, and the test set
    they were measured on (a gate compares only evaluations of the same test set)."""
    intervals = {}
    for name in values:
        try:
            interval = result.interval(name)
        except LookupError:  # no interval for this metric
            continue
        intervals[name] = [float(interval.low), float(interval.high)]
    return {
        "values": dict(values),
        "intervals": intervals,
        "n": result.n,
        "test_fingerprint": test_fingerprint,
    }
