"""The input checks every metric shares: one place, one error class, messages that help.

Every metric (the core's text metrics, each module of ``modelops-metrics``, third-party ones)
and the evaluation engine check their inputs with these functions, the way scikit-learn's
metrics all go through ``check_consistent_length`` and ``_check_targets``. Each check raises
:class:`~modelops_core.errors.MetricInputError` (also importable here as
``EvaluationInputError``) whose message names the argument, the position and the counts, and
says what to do; ``error.argument`` is the argument at fault.

The checks are one vectorised pass each (a length, an ``isfinite``, a ``min``/``max``); the
position and counts are worked out only when a check fails, so on large arrays the metric, not
its validation, sets the run time. numpy is imported on first use, so the core's text metrics
can use the checks on plain lists without it.

A metric checks its arguments in a few lines::

    from modelops_core.evaluation.inputs import as_numbers, as_weights, check_same_length

    def compute(self, predictions, references, *, sample_weight=None):
        predicted = as_numbers(predictions, "predictions")  # numbers, finite, not empty
        actual = as_numbers(references, "references")
        length = check_same_length(predicted, actual)  # "predictions has 3 items but ..."
        weights = as_weights(sample_weight, length)  # None, or finite weights >= 0
        ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelops_core.errors import MetricInputError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "EvaluationInputError",
    "MetricInputError",
    "as_array",
    "as_column",
    "as_labels",
    "as_numbers",
    "as_weights",
    "check_comparable",
    "check_finite",
    "check_labels",
    "check_length",
    "check_lengths",
    "check_ndim",
    "check_no_missing_labels",
    "check_not_empty",
    "check_probabilities",
    "check_same_length",
    "check_scores",
    "check_texts",
    "check_weighted_total",
    "length_of",
    "undeclared_label_error",
]

#: the name this error had in the evaluation engine; the same class
EvaluationInputError = MetricInputError


# --- lengths and emptiness (plain Python: sequences, arrays, anything with a length) -----------


def length_of(values: Any, argument: str) -> int:
    """The number of items of ``values`` (its first axis); missing, text or a scalar is refused."""
    if values is None:
        raise MetricInputError(
            f"{argument} is missing; pass one value per example.", argument=argument
        )
    shape = getattr(values, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise _single_value(values, argument)
        return int(shape[0])
    if isinstance(values, str | bytes):
        raise MetricInputError(
            f"{argument} is one {type(values).__name__} ({_short(values)}); pass a sequence with "
            "one item per example (a list of strings for text).",
            argument=argument,
        )
    try:
        return len(values)
    except TypeError:
        raise _single_value(values, argument) from None


def check_not_empty(values: Any, argument: str) -> int:
    """The number of items of ``values``; none at all is refused."""
    length = length_of(values, argument)
    if length == 0:
        raise _empty(argument)
    return length


def check_length(values: Any, argument: str, expected: int, *, of: str = "predictions") -> int:
    """Refuse ``values`` unless it has ``expected`` items, the length of the argument ``of``."""
    length = length_of(values, argument)
    if length != expected:
        raise _mismatch(of, expected, argument, length)
    return length


def check_lengths(columns: Mapping[str, Any]) -> int:
    """The common length of the given columns (None: absent); a mismatch names both arguments.

    The first present column sets the length; the error blames the column that differs.
    """
    first = ""
    expected = -1
    for name, values in columns.items():
        if values is None:
            continue
        if expected < 0:
            first, expected = name, length_of(values, name)
        else:
            check_length(values, name, expected, of=first)
    if expected < 0:
        raise MetricInputError(
            f"none of {', '.join(columns)} was given; pass one value per example.",
            argument=next(iter(columns), None),
        )
    return expected


def check_same_length(predictions: Any, references: Any) -> int:
    """The common length of ``predictions`` and ``references`` (arrays or sequences)."""
    try:  # the common case, checked by metrics on every call: two arrays of equal length
        expected = int(predictions.shape[0])
        if expected == references.shape[0]:
            return expected
    except (AttributeError, IndexError, TypeError):
        pass  # not arrays, or scalars: the full check below names the problem
    expected = length_of(predictions, "predictions")
    return check_length(references, "references", expected)


def check_texts(values: Iterable[Any], argument: str) -> list[str]:
    """``values`` as a list of strings; the first item that is not a string is named."""
    texts = list(values)
    for index, value in enumerate(texts):
        if not isinstance(value, str):
            raise MetricInputError(
                f"{argument}[{index}] is {type(value).__name__}, not str; text metrics compare "
                f"strings. Convert {argument} to text, or choose a metric for "
                f"{type(value).__name__} values.",
                argument=argument,
            )
    return texts


def check_weighted_total(total: float, metric: str) -> None:
    """Refuse a computation over examples whose weights sum to zero."""
    if total <= 0:
        raise MetricInputError(
            f"{metric}: the sample weights sum to {total!r} (or no example was given); pass at "
            "least one example with a positive weight.",
            argument="sample_weight",
        )


# --- arrays ------------------------------------------------------------------------------------


def as_array(values: Any, argument: str, *, ragged: bool = False) -> NDArray[Any]:
    """``values`` as a numpy array (no copy for arrays); missing, scalar or empty is refused.

    :param ragged: accept nested sequences of different lengths as a 1-D object array (lists
        of acceptable answers); otherwise they are refused.
    """
    import numpy as np

    if values is None:
        raise MetricInputError(
            f"{argument} is missing; pass one value per example.", argument=argument
        )
    if type(values).__name__ in ("DataFrame", "Table") and hasattr(values, "columns"):
        values = _single_column(values, argument)
    try:
        array = np.asarray(values)
    except ValueError:  # nested sequences of different lengths
        if not ragged:
            raise MetricInputError(
                f"{argument} holds nested sequences of different lengths; pass one value per "
                "example, or an (n, k) matrix whose rows have equal lengths.",
                argument=argument,
            ) from None
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
    if array.ndim == 0:
        raise _single_value(values, argument)
    if array.shape[0] == 0:
        raise _empty(argument)
    return array


def as_column(values: Any, argument: str) -> NDArray[Any]:
    """An evaluation column: :func:`as_array` keeping ragged lists of answers as objects."""
    return as_array(values, argument, ragged=True)


def check_ndim(
    array: NDArray[Any], argument: str, *, allowed: Sequence[int] = (1,), hint: str = ""
) -> None:
    """Refuse an array whose number of dimensions is not ``allowed``; ``hint`` says what to pass."""
    if array.ndim not in allowed:
        wanted = " or ".join(f"{n}-D" for n in allowed)
        raise MetricInputError(
            f"{argument} has shape {array.shape} but this metric takes {wanted} input; "
            f"{hint or 'pass one value per example (a 1-D sequence).'}",
            argument=argument,
        )


def as_numbers(values: Any, argument: str, *, finite: bool = True) -> NDArray[np.float64]:
    """``values`` as a float64 array (no copy when it already is one), NaN and infinity refused.

    :param finite: False skips the NaN/infinity scan; the caller must then call
        :func:`check_finite` itself (e.g. only when a sum it computed is not finite).
    """
    import numpy as np

    array = as_array(values, argument)
    if array.dtype.kind not in "biuf":
        raise MetricInputError(
            f"{argument} holds values of type {array.dtype} (e.g. {_short(array.flat[0])}); "
            "pass numbers (scores, probabilities or values).",
            argument=argument,
        )
    numbers = array.astype(np.float64, copy=False)
    if finite:
        check_finite(numbers, argument)
    return numbers


def check_finite(array: NDArray[Any], argument: str) -> None:
    """Refuse NaN or infinity in ``array``, naming the first position and how many there are."""
    import numpy as np

    if not np.isfinite(array).all():
        bad = ~np.isfinite(array)
        where, value, count = _first(array, bad)
        raise MetricInputError(
            f"{argument}[{where}] is {value!r}: {argument} contains NaN or infinity ({count} of "
            f"{array.size} values); remove or impute those examples first.",
            argument=argument,
        )


def check_probabilities(array: NDArray[Any], argument: str) -> None:
    """Refuse values outside [0, 1] (one ``min`` and one ``max`` pass when all are inside)."""
    if array.min() < 0 or array.max() > 1:
        where, value, count = _first(array, (array < 0) | (array > 1))
        raise MetricInputError(
            f"{argument}[{where}] is {value!r}, outside [0, 1] ({count} of {array.size} values); "
            "pass probabilities (for raw scores or logits apply a sigmoid or softmax first).",
            argument=argument,
        )


def check_scores(scores: NDArray[Any], *, probabilities: bool) -> NDArray[np.float64]:
    """The ``scores`` column as finite float64 numbers; within [0, 1] when ``probabilities``."""
    values = as_numbers(scores, "scores")
    if probabilities:
        check_probabilities(values, "scores")
    return values


def as_weights(
    sample_weight: Any, length: int, *, of: str = "predictions"
) -> NDArray[np.float64] | None:
    """``sample_weight`` as ``length`` finite, non-negative float64 weights, or None."""
    import numpy as np

    if sample_weight is None:
        return None
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricInputError(
            f"sample_weight holds values that are not numbers ({exc}); pass one number per "
            "example.",
            argument="sample_weight",
        ) from None
    if weights.ndim != 1:
        raise MetricInputError(
            f"sample_weight has shape {weights.shape}; pass one weight per example (1-D).",
            argument="sample_weight",
        )
    if weights.shape[0] != length:
        raise _mismatch(of, length, "sample_weight", weights.shape[0])
    check_finite(weights, "sample_weight")
    if length and weights.min() < 0:
        where, value, count = _first(weights, weights < 0)
        raise MetricInputError(
            f"sample_weight[{where}] is {value!r}, a negative weight ({count} of {length} "
            "values); weights must be >= 0.",
            argument="sample_weight",
        )
    return weights


# --- labels ------------------------------------------------------------------------------------


def as_labels(values: Any, argument: str) -> NDArray[Any]:
    """``values`` as a 1-D array of labels; missing labels (NaN, None) are refused.

    A missing label is not a class: counting it as one would change accuracy, recall, MCC and
    the confusion matrix without a word (scikit-learn refuses it too).
    """
    array = as_array(values, argument)
    check_ndim(
        array,
        argument,
        hint="pass one label per example; for scores or probabilities use a score-based metric.",
    )
    check_no_missing_labels(array, argument, values)
    return array


def check_no_missing_labels(array: NDArray[Any], argument: str, original: Any = None) -> None:
    """Refuse NaN or None among the 1-D labels ``array``, naming the first and how many.

    One ``isnan`` pass for float labels, none for integer, boolean or string labels. ``original``
    (the values ``array`` was made from) is looked at only when numpy turned a NaN among strings
    into the text ``"nan"``: a list ``["a", nan]`` becomes the array ``["a", "nan"]``.
    """
    import numpy as np

    kind = array.dtype.kind
    if kind in "fc":
        missing = np.isnan(array)
    elif kind == "O":
        missing = np.frompyfunc(_is_missing, 1, 1)(array).astype(bool)
    elif kind == "U" and original is not None and not hasattr(original, "dtype"):
        if not (array == "nan").any():
            return
        missing = np.fromiter(
            (_is_missing(value) for value in original), dtype=bool, count=array.shape[0]
        )
    else:
        return
    if missing.any():
        positions = np.flatnonzero(missing)
        where, count = int(positions[0]), int(positions.shape[0])
        value = original[where] if kind == "U" else _python(array.flat[where])
        raise MetricInputError(
            f"{argument}[{where}] is {value!r}: {argument} contains {count} missing label"
            f"{'' if count == 1 else 's'} (NaN or None) among {array.size} values; a missing "
            "label is not a class. Drop those examples, or fill them with a label, first.",
            argument=argument,
        )


def _is_missing(value: Any) -> bool:
    """None, a NaN of any number type, or pandas' NA / NaT."""
    from numbers import Number

    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, Number) and value != value


def check_comparable(predictions: NDArray[Any], references: NDArray[Any]) -> None:
    """Refuse numbers in one argument and strings in the other (a mixed-up column)."""
    numbers = {predictions.dtype.kind in "biuf", references.dtype.kind in "biuf"}
    text = {predictions.dtype.kind in "US", references.dtype.kind in "US"}
    if len(numbers) == 2 and len(text) == 2:
        raise MetricInputError(
            f"predictions hold {predictions.dtype} values (e.g. {_short(predictions.flat[0])}) "
            f"but references hold {references.dtype} values (e.g. "
            f"{_short(references.flat[0])}); labels of both must be of the same kind (numbers "
            "or strings). Convert one of them.",
            argument="predictions",
        )


def check_labels(values: NDArray[Any], labels: Sequence[Any], argument: str) -> None:
    """Refuse a value of ``values`` that is not among the declared ``labels``."""
    import numpy as np

    declared = np.asarray(list(labels))
    unknown = ~np.isin(values, declared)
    if unknown.any():
        raise undeclared_label_error(values, unknown, declared, argument)


def undeclared_label_error(
    values: NDArray[Any], missing: NDArray[np.bool_], declared: NDArray[Any], argument: str
) -> MetricInputError:
    """The error for the values of ``values`` that ``missing`` marks as not declared."""
    where, value, count = _first(values, missing)
    return MetricInputError(
        f"{argument}[{where}] is {value!r}: {argument} contains the label {value!r}, which is not "
        f"a declared label ({count} of {values.size} values); labels={declared.tolist()}. Add it "
        "to labels or drop those examples.",
        argument=argument,
    )


def _single_column(table: Any, argument: str) -> Any:
    """The one column of a pandas/polars DataFrame or pyarrow Table; more are refused by name."""
    from modelops_core.tabular.frames import column, column_names, to_numpy

    names = column_names(table)
    if not names:
        raise _empty(argument)
    if len(names) > 1:
        raise MetricInputError(
            f"{argument} is a table with {len(names)} columns "
            f"({', '.join(map(repr, names[:10]))}); pass one column, e.g. "
            f"{argument}=frame[{names[0]!r}], or evaluate(..., data=frame) with column names.",
            argument=argument,
        )
    return to_numpy(column(table, names[0], argument))


# --- messages ----------------------------------------------------------------------------------


def _mismatch(first: str, expected: int, name: str, length: int) -> MetricInputError:
    return MetricInputError(
        f"{first} has {expected} item{'' if expected == 1 else 's'} but {name} has {length}; the "
        "lengths mismatch. Pass one value per example, in the same order.",
        argument=name,
    )


def _empty(argument: str) -> MetricInputError:
    return MetricInputError(f"{argument} is empty; pass at least one example.", argument=argument)


def _single_value(values: Any, argument: str) -> MetricInputError:
    return MetricInputError(
        f"{argument} is a single value ({_short(values)}); pass a sequence with one item per "
        "example.",
        argument=argument,
    )


def _first(array: NDArray[Any], mask: NDArray[np.bool_]) -> tuple[str, Any, int]:
    """(index text, Python value, count) of the first and the number of marked items."""
    import numpy as np

    positions = np.flatnonzero(mask)
    index = np.unravel_index(int(positions[0]), array.shape)
    value = array[index]
    return ", ".join(str(int(i)) for i in index), _python(value), int(positions.shape[0])


def _python(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value


def _short(value: Any) -> str:
    text = repr(_python(value))
    return text if len(text) <= 40 else f"{text[:37]}..."
