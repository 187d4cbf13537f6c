"""Evaluation: run metrics over predictions and references.

``Evaluator`` keeps the reference module's calling convention
(``Evaluator().evaluate(predictions, references) -> dict``) and accepts custom metric
functions; :func:`evaluate_components` runs metrics chosen by name from the runtime's tables.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from modelops_core.errors import ModelOpsError
from modelops_core.kinds import Kind
from modelops_core.text_metrics import exact_match_metric, length_ratio_metric

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice
    from modelops_core.runtime import Runtime

MetricFunction = Callable[[Sequence[Any], Sequence[Any]], Any]


class EvaluationError(ModelOpsError):
    """Evaluation input that cannot be used; the message names the record or column."""


class Evaluator:
    """Evaluate predictions against references with named metric functions.

    >>> Evaluator().evaluate(["Paris", "4"], ["Paris", "5"])
    {'exact_match': 0.5, 'length_ratio': 1.0}

    :param metrics: name -> ``fn(predictions, references)``; default: exact match and
        length ratio.
    """

    def __init__(self, metrics: Mapping[str, MetricFunction] | None = None) -> None:
        defaults = {"exact_match": exact_match_metric, "length_ratio": length_ratio_metric}
        self._metrics: dict[str, MetricFunction] = dict(metrics if metrics else defaults)

    @property
    def metrics(self) -> Mapping[str, MetricFunction]:
        """The metric functions by name (read-only)."""
        return MappingProxyType(self._metrics)

    def add_metric(self, name: str, function: MetricFunction) -> None:
        """Add or replace the metric ``name``."""
        self._metrics[name] = function

    def evaluate(self, predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, Any]:
        """Every metric's value on ``predictions`` against ``references``."""
        return {name: fn(predictions, references) for name, fn in self._metrics.items()}


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
    built = {
        choice if isinstance(choice, str) else choice.name: runtime.create(Kind.METRIC, choice)
        for choice in metrics
    }
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
