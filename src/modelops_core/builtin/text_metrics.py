"""The two text metrics of the reference module: exact match and length ratio.

Both follow the calling convention of every modelops metric: ``(predictions, references)``
positionally or as keywords, options in the constructor.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelops_core.errors import MetricInputError
from modelops_core.evaluation.inputs import check_lengths, check_not_empty, check_texts

__all__ = [
    "ExactMatch",
    "LengthRatio",
    "MetricInputError",
    "exact_match_metric",
    "length_ratio_metric",
]


def _check_pair(predictions: Sequence[str], references: Sequence[str]) -> None:
    """The shared checks: equal lengths, at least one pair, strings only."""
    check_lengths({"predictions": predictions, "references": references})
    check_not_empty(predictions, "predictions")
    check_texts(predictions, "predictions")
    check_texts(references, "references")


def exact_match_metric(predictions: Sequence[str], references: Sequence[str]) -> float:
    """The share of predictions equal to their reference after stripping whitespace.

    >>> exact_match_metric(["Paris ", "4"], ["Paris", "5"])
    0.5
    """
    _check_pair(predictions, references)
    hits = sum(p.strip() == r.strip() for p, r in zip(predictions, references, strict=True))
    return hits / len(predictions)


def length_ratio_metric(predictions: Sequence[str], references: Sequence[str]) -> float:
    """The mean over pairs of ``len(prediction) / len(reference)``, in characters.

    A ratio above 1 means the model writes longer answers than the references. Pairs whose
    reference is empty are an error, since their ratio is undefined.

    >>> length_ratio_metric(["abcd", "ab"], ["ab", "ab"])
    1.5
    """
    _check_pair(predictions, references)
    total = 0.0
    for index, (prediction, reference) in enumerate(zip(predictions, references, strict=True)):
        if not reference:
            raise MetricInputError(
                f"references[{index}] is empty, so its length ratio is undefined; drop the "
                "pair or give it a reference.",
                argument="references",
            )
        total += len(prediction) / len(reference)
    return total / len(predictions)


class ExactMatch:
    """The ``exact_match`` metric component (see :func:`exact_match_metric`)."""

    name = "exact_match"
    higher_is_better = True

    def compute(self, predictions: Sequence[str], references: Sequence[str]) -> float:
        return exact_match_metric(predictions, references)


class LengthRatio:
    """The ``length_ratio`` metric component (see :func:`length_ratio_metric`)."""

    name = "length_ratio"
    higher_is_better = False

    def compute(self, predictions: Sequence[str], references: Sequence[str]) -> float:
        return length_ratio_metric(predictions, references)
