"""Evaluation: run metrics over predictions and references, or a model over a dataset.

``Evaluator`` keeps the reference module's calling convention
(``Evaluator().evaluate(predictions, references) -> dict``) and accepts custom metric
functions; ``Evaluator().evaluate(model=..., dataset=..., metrics=[...])`` and
:class:`ModelEvaluator` run a model and return an :class:`EvaluationResult`;
:func:`create_evaluator` picks metrics by task; :func:`evaluate_components` runs metrics
chosen by name over records. The engine is :mod:`modelops_core.evaluation.run`; statistics
live in :mod:`modelops_core.evaluation.stats`, comparison in
:mod:`modelops_core.evaluation.compare`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from modelops_core.builtin.text_metrics import exact_match_metric, length_ratio_metric
from modelops_core.config import ComponentChoice
from modelops_core.errors import did_you_mean
from modelops_core.evaluation.metrics import Metric, TaskType
from modelops_core.evaluation.result import EvaluationError, EvaluationResult, Interval
from modelops_core.plugins.kinds import Kind

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime

__all__ = [
    "EvaluationDataset",
    "EvaluationError",
    "EvaluationResult",
    "Evaluator",
    "Interval",
    "Metric",
    "ModelEvaluator",
    "TaskType",
    "create_evaluator",
    "evaluate_components",
]

MetricFunction = Callable[[Sequence[Any], Sequence[Any]], Any]
MetricRequest = Any  # a name, a ComponentChoice, a Metric or component object, or a function


@runtime_checkable
class EvaluationDataset(Protocol):
    """What evaluation needs of a dataset (``modelops_core.datasets.dataset.Dataset`` has it)."""

    def pairs(self) -> list[tuple[str, str]]: ...

    def fingerprint(self) -> str: ...


#: the metrics :func:`create_evaluator` chooses for a task when none are named
TASK_METRICS: Mapping[str, tuple[str | tuple[str, Mapping[str, Any]], ...]] = MappingProxyType(
    {
        "binary": ("accuracy", "precision", "recall", "f1"),
        "classification": ("accuracy", ("f1", {"average": "macro"})),
        "multiclass": ("accuracy", ("f1", {"average": "macro"})),
        "regression": ("mse", "mae", "rmse", "r2"),
        "ranking": ("auc_roc", "average_precision"),
        "generation": ("exact_match", "length_ratio"),
    }
)


class Evaluator:
    """Evaluate predictions against references, or a model on a dataset.

    >>> Evaluator().evaluate(["Paris", "4"], ["Paris", "5"])
    {'exact_match': 0.5, 'length_ratio': 1.0}

    :param metrics: name -> ``fn(predictions, references)`` (the reference module's form), or
        a list of metric names / config choices / :class:`Metric` objects; default: exact
        match and length ratio.
    :param runtime: builds metrics named by the plugins and providers; default: a
        :class:`~modelops_core.runtime.Runtime` from the configuration, made on first need.
    :param bootstrap: resamples for confidence intervals (0: none); ``seed`` makes them
        reproducible; ``level`` and ``method`` (``percentile``, ``basic``, ``bca``).
    """

    def __init__(
        self,
        metrics: Mapping[str, MetricFunction] | Sequence[MetricRequest] | None = None,
        *,
        runtime: Runtime | None = None,
        task: str | None = None,
        bootstrap: int = 0,
        seed: int | None = 0,
        level: float = 0.95,
        method: str = "percentile",
    ) -> None:
        defaults = {"exact_match": exact_match_metric, "length_ratio": length_ratio_metric}
        self._metrics: dict[str, MetricFunction] = {}
        self._requests: list[MetricRequest] = []
        if isinstance(metrics, Mapping):
            self._metrics = dict(metrics)
        elif metrics:
            self._requests = list(metrics)
        else:
            self._metrics = dict(defaults)
        self._runtime = runtime
        self.task = task
        self.bootstrap = bootstrap
        self.seed = seed
        self.level = level
        self.method = method

    @property
    def metrics(self) -> Mapping[str, MetricFunction]:
        """The metric functions by name (read-only)."""
        return MappingProxyType(self._metrics)

    @property
    def runtime(self) -> Runtime:
        """The runtime building named metrics and providers (created on first use)."""
        if self._runtime is None:
            from modelops_core.runtime import Runtime

            self._runtime = Runtime()
        return self._runtime

    def add_metric(self, name: str, function: MetricFunction) -> None:
        """Add or replace the metric ``name``."""
        self._metrics[name] = function

    def _chosen(
        self, metrics: Sequence[MetricRequest] | None
    ) -> list[MetricRequest] | dict[str, Any]:
        if metrics is not None:
            return list(metrics)
        if self._requests:
            return [*self._requests, *self._metrics.items()] if self._metrics else self._requests
        return dict(self._metrics)

    def evaluate(
        self,
        predictions: Sequence[Any] | None = None,
        references: Sequence[Any] | None = None,
        *,
        model: Any = None,
        dataset: EvaluationDataset | None = None,
        metrics: Sequence[MetricRequest] | None = None,
        provider: str | None = None,
        scores: Sequence[Any] | None = None,
        groups: Sequence[Any] | None = None,
    ) -> Any:
        """Evaluate, in one of two forms:

        - ``evaluate(predictions, references)`` returns ``{metric: value}`` (a plain dict);
        - ``evaluate(model=..., dataset=..., metrics=["accuracy", "f1"])`` runs the model on
          the dataset's inputs and returns an :class:`EvaluationResult`. ``model`` is a model
          id served by ``provider`` (default: the configured provider), an object with
          ``predict(inputs)``, or a function of the inputs.
        """
        if model is not None or dataset is not None:
            if model is None or dataset is None:
                raise EvaluationError(
                    "evaluate(model=..., dataset=...) needs both a model and a dataset."
                )
            return self._evaluate_model(model, dataset, metrics, provider, groups)
        if predictions is None or references is None:
            raise EvaluationError(
                "pass predictions and references, or model= and dataset=, to evaluate."
            )
        chosen = self._chosen(metrics)
        if isinstance(chosen, dict) and scores is None and groups is None and not self.bootstrap:
            # the reference module's form: plain functions on plain sequences
            return {name: fn(predictions, references) for name, fn in chosen.items()}
        return dict(self.evaluate_result(predictions, references, metrics=metrics, scores=scores,
                                         groups=groups))  # fmt: skip

    def evaluate_result(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any],
        *,
        metrics: Sequence[MetricRequest] | None = None,
        scores: Sequence[Any] | None = None,
        groups: Sequence[Any] | None = None,
        labels: Sequence[Any] | None = None,
        model_id: str | None = None,
        dataset_fingerprint: str | None = None,
    ) -> EvaluationResult:
        """Like ``evaluate(predictions, references)`` but returns the full
        :class:`EvaluationResult` (intervals, per-group values, curves)."""
        from modelops_core.evaluation.run import evaluate_predictions

        chosen = self._chosen(metrics)
        named = isinstance(chosen, list) and any(
            isinstance(m, str | ComponentChoice) for m in chosen
        )
        return evaluate_predictions(
            predictions,
            references,
            metrics=chosen,
            runtime=self.runtime if named or self._runtime is not None else None,
            scores=scores,
            groups=groups,
            labels=labels,
            bootstrap=self.bootstrap,
            seed=self.seed,
            level=self.level,
            method=self.method,
            model_id=model_id,
            dataset_fingerprint=dataset_fingerprint,
            task=self.task,
        )

    def _evaluate_model(
        self,
        model: Any,
        dataset: EvaluationDataset,
        metrics: Sequence[MetricRequest] | None,
        provider: str | None,
        groups: Sequence[Any] | None,
    ) -> EvaluationResult:
        if isinstance(model, str):
            return ModelEvaluator(self.runtime, evaluator=self).evaluate(
                model_id=model, test_dataset=dataset, metrics=metrics, provider=provider,
                groups=groups,
            )  # fmt: skip
        inputs, targets = _split_pairs(dataset)
        predict = getattr(model, "predict", model)
        if not callable(predict):
            raise EvaluationError(
                f"model={model!r} is neither a model id, an object with predict(inputs), nor a "
                "function of the inputs."
            )
        outputs = _check_outputs(list(predict(inputs)), inputs, repr(model))
        model_id = getattr(model, "model_id", None) or getattr(model, "name", None)
        return self.evaluate_result(
            outputs, targets, metrics=metrics, groups=groups,
            model_id=None if model_id is None else str(model_id),
            dataset_fingerprint=dataset.fingerprint(),
        )  # fmt: skip


class ModelEvaluator:
    """Evaluate a model served by a provider plugin on a test dataset.

    ``evaluate(model_id=..., test_dataset=...)`` calls the provider's
    ``predict(model_id, inputs)``, then the metrics; ``result["accuracy"]`` and
    ``result.accuracy`` both work.

    :param runtime: the runtime whose provider and metric tables are used (default: one from
        the configuration).
    """

    def __init__(self, runtime: Runtime | None = None, *, evaluator: Evaluator | None = None):
        self._evaluator = evaluator or Evaluator(runtime=runtime)
        if runtime is not None:
            self._evaluator._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        return self._evaluator.runtime

    def evaluate(
        self,
        model_id: str,
        test_dataset: EvaluationDataset,
        metrics: Sequence[MetricRequest] | None = None,
        provider: str | None = None,
        *,
        groups: Sequence[Any] | None = None,
    ) -> EvaluationResult:
        """Run ``model_id`` on ``test_dataset``'s inputs and compute ``metrics`` (default: the
        ``[evaluation] metrics`` of the configuration, else exact match and length ratio)."""
        runtime = self.runtime
        inputs, targets = _split_pairs(test_dataset)
        component = runtime.create(Kind.PROVIDER, runtime.config.provider(provider))
        try:
            outputs = _check_outputs(
                list(component.predict(model_id, inputs)), inputs, f"provider {component.name!r}"
            )
        finally:
            close = getattr(component, "close", None)
            if callable(close):
                close()
        chosen = metrics
        if chosen is None and not self._evaluator._requests:
            chosen = list(runtime.config.metrics) or ["exact_match", "length_ratio"]
        return self._evaluator.evaluate_result(
            outputs, targets, metrics=chosen, groups=groups, model_id=model_id,
            dataset_fingerprint=test_dataset.fingerprint(),
        )  # fmt: skip


def create_evaluator(
    task: str = "classification",
    metrics: Sequence[MetricRequest] | None = None,
    *,
    runtime: Runtime | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
    level: float = 0.95,
    method: str = "percentile",
) -> Evaluator:
    """An :class:`Evaluator` for ``task`` (a :class:`TaskType`) with ``metrics``, or the
    task's default metrics (:data:`TASK_METRICS`)."""
    from modelops_core.config import ComponentChoice

    key = str(task)
    if key not in TASK_METRICS:
        raise EvaluationError(
            f"task={task!r} is unknown; use one of {', '.join(TASK_METRICS)}."
            f"{did_you_mean(key, TASK_METRICS)}"
        )
    chosen: list[MetricRequest] = list(metrics) if metrics else [
        item if isinstance(item, str) else ComponentChoice(item[0], item[1], where="code")
        for item in TASK_METRICS[key]
    ]  # fmt: skip
    return Evaluator(
        chosen, runtime=runtime, task=key, bootstrap=bootstrap, seed=seed, level=level,
        method=method,
    )  # fmt: skip


def _split_pairs(dataset: EvaluationDataset) -> tuple[list[str], list[str]]:
    pairs = list(dataset.pairs())
    if not pairs:
        raise EvaluationError("the dataset has no examples; evaluate on at least one pair.")
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def _check_outputs(outputs: list[Any], inputs: Sequence[str], source: str) -> list[Any]:
    if len(outputs) != len(inputs):
        raise EvaluationError(
            f"{source} returned {len(outputs)} predictions for {len(inputs)} inputs; a model "
            "must return one prediction per input."
        )
    return outputs


def evaluate_components(
    runtime: Runtime,
    metrics: Sequence[str | ComponentChoice],
    records: Sequence[Mapping[str, Any]],
    *,
    prediction_key: str = "prediction",
    reference_key: str = "reference",
    source: str = "records",
) -> dict[str, Any]:
    """Compute ``metrics`` (names, or config choices with options) over ``records``.

    Each record holds a prediction and a reference; any other keyword parameter of a metric's
    ``compute`` (``scores``, ``groups``, ``latency_ms`` …) is filled from the column of the
    same name. ``modelops_after_evaluate`` fires with the result.
    """
    from modelops_core.evaluation.run import build_specs

    # a metric listed twice with other options is named after them (f1[average=micro]); twice
    # with the same options is an error, never a silent overwrite
    built = {spec.name: spec.metric for spec in build_specs(list(metrics), runtime)}
    predictions = _column(records, prediction_key, source)
    references = _column(records, reference_key, source)
    result: dict[str, Any] = {}
    for name, metric in built.items():
        extra = {
            column: _column(records, column, source)
            for column in _extra_parameters(metric.compute)
            if records and column in records[0]
        }
        result[name] = metric.compute(predictions, references, **extra)
    runtime.hook.modelops_after_evaluate(result=MappingProxyType(result), runtime=runtime)
    return result


def _extra_parameters(compute: Callable[..., Any]) -> list[str]:
    parameters = list(inspect.signature(compute).parameters.values())[2:]
    keywordable = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in keywordable]


def _column(records: Sequence[Mapping[str, Any]], key: str, source: str) -> list[Any]:
    values = []
    for index, record in enumerate(records, start=1):
        if key not in record:
            raise EvaluationError(
                f"{source}: record {index} has no {key!r} field "
                f"(it has: {', '.join(sorted(record)) or 'nothing'})."
            )
        values.append(record[key])
    return values
