"""One chosen metric and the columns it is computed on, as the evaluation engine sees them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray


@attrs.frozen(eq=False)
class Columns:
    """Aligned per-example columns; ``take(indices)`` resamples all of them together."""

    predictions: NDArray[Any]
    references: NDArray[Any]
    scores: NDArray[Any] | None = None
    groups: NDArray[Any] | None = None
    extra: Mapping[str, NDArray[Any]] = attrs.field(factory=dict)

    @property
    def n(self) -> int:
        return int(self.references.shape[0])

    def take(self, indices: NDArray[Any]) -> Columns:
        return Columns(
            self.predictions[indices],
            self.references[indices],
            None if self.scores is None else self.scores[indices],
            None if self.groups is None else self.groups[indices],
            {name: column[indices] for name, column in self.extra.items()},
        )


@attrs.frozen(eq=False)
class MetricSpec:
    """A metric to compute: a component from the tables, a :class:`Metric` or a function.

    :param choice: ``{"component": name, "options": {...}}`` when it came from the tables, so a
        comparison can rebuild it from a result file.
    """

    name: str
    metric: Any
    needs_scores: bool = False
    higher_is_better: bool | None = None
    choice: Mapping[str, Any] | None = None

    @property
    def component_name(self) -> str:
        return str(getattr(self.metric, "name", "") or self.name)

    def compute(self, columns: Columns) -> Any:
        """The metric on ``columns``: scores as predictions when it needs them; groups and any
        other accepted keyword filled when present."""
        inputs = columns.scores if self.needs_scores else columns.predictions
        function: Callable[..., Any] = getattr(self.metric, "compute", self.metric)
        extra = {}
        for parameter in keyword_parameters(function):
            if parameter == "groups" and columns.groups is not None:
                extra["groups"] = columns.groups
            elif parameter in columns.extra:
                extra[parameter] = columns.extra[parameter]
        if self.takes_arrays:
            return function(inputs, columns.references, **extra)
        # functions written for plain sequences (``if not predictions`` …) get lists
        return function(
            _plain_list(inputs),
            _plain_list(columns.references),
            **{key: _plain_list(value) for key, value in extra.items()},
        )

    @property
    def takes_arrays(self) -> bool:
        """A metric declaring ``takes_arrays = True`` gets numpy arrays, others plain lists."""
        return bool(getattr(self.metric, "takes_arrays", False))


def _plain_list(values: Any) -> Any:
    return values.tolist() if isinstance(values, np.ndarray) else values


def keyword_parameters(function: Callable[..., Any]) -> list[str]:
    """Keyword parameters of ``function`` after ``(predictions, references)``."""
    try:
        parameters = list(inspect.signature(function).parameters.values())[2:]
    except (TypeError, ValueError):
        return []
    keywordable = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in keywordable]


def is_scalar(value: Any) -> bool:
    """A real number (not a bool, not a structure)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )
