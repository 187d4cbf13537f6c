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
        self._default_metrics = not metrics  # the task's metrics when a model is evaluated
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
        predictions: Sequence[Any] | str | None = None,
        references: Sequence[Any] | str | None = None,
        *,
        model: Any = None,
        dataset: EvaluationDataset | None = None,
        data: Any = None,
        metrics: Sequence[MetricRequest] | None = None,
        provider: str | None = None,
        scores: Sequence[Any] | str | None = None,
        groups: Sequence[Any] | str | None = None,
    ) -> Any:
        """Evaluate, in one of three forms:

        - ``evaluate(predictions, references)`` returns ``{metric: value}`` (a plain dict);
          both may be lists, numpy arrays, pandas/polars Series or pyarrow arrays;
        - ``evaluate(model=..., data=frame, references="label")`` runs the model on the
          table's other columns (a pandas/polars DataFrame, a pyarrow Table, a mapping of
          columns) and returns an :class:`EvaluationResult`; a model with ``predict_proba``
          (or ``decision_function``) gives the scores of ``auc_roc``, ``log_loss`` …; without
          ``metrics`` the task's metrics are chosen from the references (binary, multiclass or
          regression);
        - ``evaluate(model=..., dataset=..., metrics=["accuracy", "f1"])`` runs the model on
          the dataset's inputs. ``model`` is a model id served by ``provider`` (default: the
          configured provider), an object with ``predict(inputs)``, or a function of the
          inputs.

        With ``data=``, ``predictions``, ``references``, ``scores`` and ``groups`` may name
        columns of it (``evaluate("pred", "label", data=frame)``).
        """
        if data is not None and model is not None:
            if dataset is not None:
                raise EvaluationError("pass data= or dataset=, not both.")
            return self._evaluate_on_table(model, data, references, metrics, scores, groups)
        if data is not None:
            predictions, references, scores, groups = (
                _named_column(data, value, argument)
                for value, argument in (
                    (predictions, "predictions"), (references, "references"),
                    (scores, "scores"), (groups, "groups"),
                )
            )  # fmt: skip
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

    def _evaluate_on_table(
        self,
        model: Any,
        data: Any,
        references: Any,
        metrics: Sequence[MetricRequest] | None,
        scores: Any,
        groups: Any,
    ) -> EvaluationResult:
        from modelops_core.tabular.frames import column, drop_columns, is_table, library_of

        if not is_table(data):
            raise EvaluationError(
                f"data= is a {type(data).__name__}; pass a table (a pandas or polars DataFrame, "
                "a pyarrow Table or a mapping of columns) holding the inputs and the "
                "references column."
            )
        if not isinstance(references, str):
            raise EvaluationError(
                "evaluate(model=..., data=...) needs references='<column>': the column of "
                "data holding the true labels or values (it is not given to the model)."
            )
        predict = _method(model, "predict")
        actual = column(data, references, "data")
        named = [name for name in (groups, scores) if isinstance(name, str)]
        group_column = _named_column(data, groups, "groups")
        score_column = _named_column(data, scores, "scores")
        inputs = drop_columns(data, [references, *named], "data")
        if library_of(inputs) in ("polars", "pyarrow"):
            from modelops_core.tabular.frames import to_pandas

            inputs = to_pandas(inputs)  # what scikit-learn and most models take
        source = f"model {getattr(model, 'model_id', None) or type(model).__name__}"
        predicted = _values(predict(inputs))
        _check_outputs(predicted, range(_length(actual)), source)
        if score_column is None:
            score_column = _scores_of(model, inputs)
        chosen = metrics
        if chosen is None and self._default_metrics:
            chosen = _task_metrics(_values(actual), score_column)
        model_id = getattr(model, "model_id", None) or getattr(model, "name", None)
        return self.evaluate_result(
            predicted, _values(actual), metrics=chosen, scores=score_column,
            groups=None if group_column is None else _values(group_column),
            model_id=None if model_id is None else str(model_id),
        )  # fmt: skip

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


def _method(model: Any, name: str) -> Any:
    method = getattr(model, name, None)
    if callable(method):
        return method
    offered = sorted(
        attr
        for attr in ("predict", "predict_proba", "decision_function", "transform", "__call__")
        if callable(getattr(model, attr, None))
    )
    raise EvaluationError(
        f"model={type(model).__module__}.{type(model).__qualname__} has no {name}() "
        f"(it offers: {', '.join(offered) or 'none of predict, predict_proba, transform'}). "
        "Pass a fitted estimator, a model loaded from the registry, or an object with "
        "predict(inputs)."
    )


def _named_column(data: Any, value: Any, argument: str) -> Any:
    """The column ``value`` names in ``data`` (a string), else ``value`` as given."""
    if not isinstance(value, str):
        return value
    from modelops_core.tabular.frames import column, is_table

    if not is_table(data):
        raise EvaluationError(
            f"{argument}={value!r} names a column, but data= is a {type(data).__name__}, not "
            "a table (a DataFrame, a pyarrow Table or a mapping of columns)."
        )
    return column(data, value, "data")


def _values(values: Any) -> Any:
    """A column of any table library as a numpy array (lists stay lists)."""
    from modelops_core.tabular.frames import library_of, to_numpy

    if library_of(values) in ("pandas", "polars", "pyarrow"):
        return to_numpy(values)
    return values


def _length(values: Any) -> int:
    shape = getattr(values, "shape", None)
    return int(shape[0]) if shape is not None else len(values)


def _scores_of(model: Any, inputs: Any) -> Any:
    """The model's probabilities (positive class for two classes), else its decision scores."""
    proba = getattr(model, "predict_proba", None)
    if callable(proba):
        import numpy as np

        values = np.asarray(proba(inputs), dtype=np.float64)
        if values.ndim == 2 and values.shape[1] == 2:
            return values[:, 1]
        return values
    decision = getattr(model, "decision_function", None)
    if callable(decision):
        import numpy as np

        return np.asarray(decision(inputs), dtype=np.float64)
    return None


def _task_metrics(references: Any, scores: Any) -> list[MetricRequest]:
    """The metrics of the task the references show: binary, multiclass or regression."""
    import numpy as np

    from modelops_core.config import ComponentChoice

    actual = np.asarray(references)
    distinct = np.unique(actual).shape[0]
    if actual.dtype.kind == "f" and distinct > 20:
        return list(TASK_METRICS["regression"])
    if distinct <= 2:
        chosen: list[MetricRequest] = list(TASK_METRICS["binary"])
        if scores is not None and np.asarray(scores).ndim == 1:
            chosen += ["auc_roc", "average_precision"]
            if float(np.min(scores)) >= 0 and float(np.max(scores)) <= 1:
                chosen += ["log_loss", "brier"]
        return chosen
    return [
        item if isinstance(item, str) else ComponentChoice(item[0], item[1], where="code")
        for item in TASK_METRICS["multiclass"]
    ]


def _split_pairs(dataset: EvaluationDataset) -> tuple[list[str], list[str]]:
    pairs = list(dataset.pairs())
    if not pairs:
        raise EvaluationError("the dataset has no examples; evaluate on at least one pair.")
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def _check_outputs(outputs: Any, inputs: Sequence[Any], source: str) -> Any:
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
