"""Checking evaluation inputs once, up front: each error is typed and names the argument."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelops_core.evaluation_result import EvaluationError


class EvaluationInputError(EvaluationError, ValueError):
    """Predictions, references, scores, groups or labels that cannot be evaluated.

    :param argument: the argument (or CLI option) at fault, e.g. ``"scores"``.
    """

    def __init__(self, message: str, *, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


def as_column(values: Any, argument: str) -> NDArray[Any]:
    """``values`` as a 1-D (or, for scores, 2-D) numpy array; empty and scalar are refused."""
    if values is None:
        raise EvaluationInputError(f"{argument} is missing; pass one value per example.",
                                   argument=argument)  # fmt: skip
    try:
        array = np.asarray(values)
    except ValueError:  # ragged nested lists
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
    if array.ndim == 0:
        raise EvaluationInputError(
            f"{argument} is a single value; pass a sequence with one item per example.",
            argument=argument,
        )
    if array.shape[0] == 0:
        raise EvaluationInputError(
            f"{argument} is empty; pass at least one example.", argument=argument
        )
    return array


def check_lengths(columns: dict[str, NDArray[Any] | None]) -> int:
    """The common length of the given columns; a mismatch names both arguments."""
    present = {name: column for name, column in columns.items() if column is not None}
    (first, reference), *others = present.items()
    for name, column in others:
        if column.shape[0] != reference.shape[0]:
            raise EvaluationInputError(
                f"{name} has {column.shape[0]} items but {first} has {reference.shape[0]}; the "
                "lengths mismatch. Pass one value per example, in the same order.",
                argument=name,
            )
    return int(reference.shape[0])


def check_scores(scores: NDArray[Any], *, probabilities: bool) -> NDArray[np.float64]:
    """Scores as float64 without NaN or infinity; within [0, 1] when they are probabilities."""
    if scores.dtype.kind not in "biuf":
        raise EvaluationInputError(
            f"scores has values of type {scores.dtype}; pass numbers (scores or probabilities).",
            argument="scores",
        )
    values = scores.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        where = int(np.flatnonzero(~finite.reshape(values.shape[0], -1).all(axis=1))[0])
        raise EvaluationInputError(
            f"scores[{where}] is {values.reshape(values.shape[0], -1)[where].tolist()}: NaN or "
            "infinity. Remove or impute those examples first.",
            argument="scores",
        )
    if probabilities and (values.min() < 0 or values.max() > 1):
        bad = float(values.min() if values.min() < 0 else values.max())
        raise EvaluationInputError(
            f"scores contains {bad!r}, outside [0, 1], but a probability metric was chosen; "
            "pass probabilities (apply a sigmoid or softmax to raw scores).",
            argument="scores",
        )
    return values


def check_labels(values: NDArray[Any], labels: Sequence[Any], argument: str) -> None:
    """Refuse a label of ``values`` that is not among the declared ``labels``."""
    declared = np.asarray(list(labels))
    unknown = ~np.isin(values, declared)
    if unknown.any():
        where = int(np.flatnonzero(unknown)[0])
        value = values[where]
        value = value.item() if isinstance(value, np.generic) else value
        raise EvaluationInputError(
            f"{argument}[{where}] is {value!r}, which is not a declared label "
            f"({', '.join(map(repr, declared.tolist()))}); fix the data or declare the label.",
            argument=argument,
        )
