"""Mergeable, serializable profiles of data: one :class:`ColumnProfile` per column.

A profile is built by chunks (:func:`Profile.build` reads CSV, JSONL, Parquet files,
pandas/polars DataFrames, Arrow tables or mappings of columns), merged with
:meth:`Profile.merge` (associative and commutative: counts, nulls, min/max, histograms, frequent
items, distinct registers and grid histograms merge exactly, mean/variance up to float
rounding, quantiles within the sketch's rank error), and saved as JSON. Drift is computed
between two profiles.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from modelops_core.monitoring.errors import ProfileError
from modelops_core.monitoring.sketches import (
    DEFAULT_CAP,
    DEFAULT_K,
    DistinctSketch,
    FloatArray,
    FrequentItems,
    GridHistogram,
    MagnitudeGrid,
    QuantileSketch,
    Tails,
    hash_strings,
    sorted_floats,
)

if TYPE_CHECKING:
    from modelops_core.monitoring.reader import Chunk

    # row samples (a module and an attrs class) load when a profile keeps or reads one
    # (multivariate drift), not on every profile
    from modelops_core.monitoring.rows import RowSample

FORMAT = "modelops.profile/1"
NUMERIC, CATEGORICAL, EMPTY = "numeric", "categorical", "empty"
#: distinct values of a numeric column counted exactly (for low-cardinality numeric tests).
NUMERIC_VALUES_CAP = 32
#: bins of the fixed-edge histogram a reference gives its windows.
HISTOGRAM_BINS = 20


@attrs.frozen(eq=False)
class Histogram:
    """Counts of a numeric column on fixed edges (taken from the reference), with the values
    below the first and above the last edge."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    below: int = 0
    above: int = 0

    @classmethod
    def of(cls, edges: Sequence[float], values: FloatArray) -> Histogram:
        """Counts of finite ``values`` on ``edges``, as ``np.histogram(values, edges)`` counts
        the values within them (a value on an inner edge goes to the bin on its right, the
        last edge belongs to the last bin)."""
        return cls.of_sorted(edges, np.sort(values))

    @classmethod
    def of_sorted(cls, edges: Sequence[float], ordered: FloatArray) -> Histogram:
        """:meth:`of` for sorted values: a binary search of each edge."""
        grid = np.asarray(edges, dtype=np.float64)
        positions = np.searchsorted(ordered, grid, side="left")
        positions[-1] = np.searchsorted(ordered, grid[-1], side="right")
        return cls(
            tuple(float(e) for e in grid),
            tuple(np.diff(positions).tolist()),
            int(positions[0]),
            len(ordered) - int(positions[-1]),
        )

    def merge(self, other: Histogram, column: str) -> Histogram:
        if self.edges != other.edges:
            raise ProfileError(
                f"column {column!r}: the profiles have histograms on different edges; build "
                "window profiles against the same reference (Profile.build(data, reference=...))"
            )
        return Histogram(
            self.edges,
            tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            self.below + other.below,
            self.above + other.above,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and attrs.astuple(self) == attrs.astuple(other)


def _canonical_number(value: float) -> str:
    return repr(float(value))


@attrs.frozen(eq=False)
class ColumnProfile:
    """The profile of one column.

    :param kind: ``numeric``, ``categorical`` or ``empty`` (no non-null value seen yet).
    :param count: rows seen, nulls included. :param nulls: missing values (None, "", NaN).
    :param infinite: ±inf values (kept out of the moments and the sketch).
    :param invalid: values of a numeric column that are not numbers (counted, not used).
    :param mean: mean of the finite values; ``m2``: sum of squared deviations (Chan's merge).
    :param quantiles: the KLL sketch of the finite values.
    :param frequent: categories (or, for numeric columns, up to 32 distinct values) with counts.
    :param distinct: the HyperLogLog sketch of the non-null values.
    :param histogram: counts on the reference's edges (numeric columns of windows built with a
        reference), else None.
    :param grid: counts of the finite values on a power-of-two grid of at most 4,096 bins
        (:class:`~modelops_core.monitoring.sketches.GridHistogram`): the Wasserstein distance
        of large columns; ``dropped`` in profiles saved before it existed.
    :param tails: the 64 smallest and largest finite values, exactly
        (:class:`~modelops_core.monitoring.sketches.Tails`): the Wasserstein distance of
        columns whose outliers make the grid too coarse; unknown in profiles saved before.
    :param integers: values that came typed as integers (a numpy or Arrow signed-integer
        column, Python ints), nulls apart: a column whose every value did is an integer column
        as pandas types it, which Evidently takes as categorical with at most 10 values.
    :param magnitudes: counts of the finite values on bins of even width in ``log2 |x|``
        (:class:`~modelops_core.monitoring.sketches.MagnitudeGrid`): the Wasserstein distance
        of heavy-tailed columns; unknown in profiles saved before.
    """

    name: str
    kind: str = EMPTY
    count: int = 0
    nulls: int = 0
    infinite: int = 0
    invalid: int = 0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    quantiles: QuantileSketch = attrs.field(factory=QuantileSketch)
    frequent: FrequentItems = attrs.field(factory=FrequentItems)
    distinct: DistinctSketch = attrs.field(factory=DistinctSketch)
    histogram: Histogram | None = None
    grid: GridHistogram = attrs.field(factory=GridHistogram)
    tails: Tails = attrs.field(factory=Tails)
    magnitudes: MagnitudeGrid = attrs.field(factory=MagnitudeGrid)
    integers: int = 0

    @property
    def values(self) -> int:
        """Values that take part in tests: finite numbers, or non-null categories."""
        if self.kind == NUMERIC:
            return self.quantiles.count
        return self.count - self.nulls

    @property
    def std(self) -> float:
        """The population standard deviation of the finite values (NaN without values)."""
        n = self.quantiles.count
        return math.sqrt(self.m2 / n) if n else math.nan

    def distinct_count(self) -> float:
        """Exact while the categories fit the cap, else the HyperLogLog estimate."""
        if not self.frequent.overflowed and (self.kind == CATEGORICAL or self.frequent.counts):
            return float(len(self.frequent.counts))
        return self.distinct.estimate()

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """One profile of both inputs; the kinds must agree (``empty`` agrees with any)."""
        if self.kind != other.kind and EMPTY not in (self.kind, other.kind):
            raise ProfileError(
                f"column {self.name!r} is {self.kind} in one profile and {other.kind} in the "
                "other; profile both with the same kinds (kinds={...})"
            )
        kind = other.kind if self.kind == EMPTY else self.kind
        n1, n2 = self.quantiles.count, other.quantiles.count
        n = n1 + n2
        delta = other.mean - self.mean
        mean = self.mean + delta * n2 / n if n else 0.0
        m2 = self.m2 + other.m2 + (delta * delta * n1 * n2 / n if n else 0.0)
        frequent = self.frequent.merge(other.frequent)
        if kind == NUMERIC and (frequent.overflowed or len(frequent.counts) > NUMERIC_VALUES_CAP):
            # too many distinct numbers to count: the same marker whatever the chunking
            frequent = FrequentItems({}, frequent.cap, n, True)
        histogram = self.histogram
        if histogram is None:
            histogram = other.histogram
        elif other.histogram is not None:
            histogram = histogram.merge(other.histogram, self.name)
        return ColumnProfile(
            name=self.name,
            kind=kind,
            count=self.count + other.count,
            nulls=self.nulls + other.nulls,
            infinite=self.infinite + other.infinite,
            invalid=self.invalid + other.invalid,
            mean=mean,
            m2=m2,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            quantiles=self.quantiles.merge(other.quantiles),
            frequent=frequent,
            distinct=self.distinct.merge(other.distinct),
            histogram=histogram,
            grid=self.grid.merge(other.grid),
            tails=self.tails.merge(other.tails),
            magnitudes=self.magnitudes.merge(other.magnitudes),
            integers=self.integers + other.integers,
        )

    @classmethod
    def merge_many(cls, columns: Sequence[ColumnProfile]) -> ColumnProfile:
        """One profile of many (as merging them one by one, in one pass: the sums, Chan's
        parallel moments, one compaction of all quantile levels, one count of the items)."""
        first = columns[0]
        kinds = {c.kind for c in columns} - {EMPTY}
        if len(kinds) > 1:
            raise ProfileError(
                f"column {first.name!r} is {' and '.join(sorted(kinds))} in different profiles; "
                "profile them with the same kinds (kinds={...})"
            )
        kind = kinds.pop() if kinds else EMPTY
        sizes = np.array([c.quantiles.count for c in columns], dtype=np.float64)
        means = np.array([c.mean for c in columns])
        n = float(sizes.sum())
        mean = float(np.dot(sizes, means) / n) if n else 0.0
        m2 = float(sum(c.m2 for c in columns) + np.dot(sizes, (means - mean) ** 2)) if n else 0.0
        frequent = FrequentItems.merge_many([c.frequent for c in columns])
        if kind == NUMERIC and (frequent.overflowed or len(frequent.counts) > NUMERIC_VALUES_CAP):
            frequent = FrequentItems({}, frequent.cap, int(n), True)
        histogram = None
        for column in columns:
            if column.histogram is not None:
                histogram = (
                    column.histogram
                    if histogram is None
                    else histogram.merge(column.histogram, first.name)
                )
        return ColumnProfile(
            name=first.name,
            kind=kind,
            count=sum(c.count for c in columns),
            nulls=sum(c.nulls for c in columns),
            infinite=sum(c.infinite for c in columns),
            invalid=sum(c.invalid for c in columns),
            mean=mean,
            m2=m2,
            minimum=min(c.minimum for c in columns),
            maximum=max(c.maximum for c in columns),
            quantiles=QuantileSketch.merge_many([c.quantiles for c in columns]),
            frequent=frequent,
            distinct=DistinctSketch.merge_many([c.distinct for c in columns]),
            histogram=histogram,
            grid=GridHistogram.merge_many([c.grid for c in columns]),
            tails=Tails.merge_many([c.tails for c in columns]),
            magnitudes=MagnitudeGrid.merge_many([c.magnitudes for c in columns]),
            integers=sum(c.integers for c in columns),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "nulls": self.nulls,
            "infinite": self.infinite,
            "invalid": self.invalid,
            "mean": self.mean,
            "m2": self.m2,
            "min": None if math.isinf(self.minimum) else self.minimum,
            "max": None if math.isinf(self.maximum) else self.maximum,
            "quantiles": self.quantiles.to_dict(),
            "frequent": {
                "counts": dict(self.frequent.counts),
                "cap": self.frequent.cap,
                "dropped": self.frequent.dropped,
                "overflowed": self.frequent.overflowed,
            },
            "distinct": self.distinct.to_dict(),
            "histogram": None if self.histogram is None else attrs.asdict(self.histogram),
            "grid": self.grid.to_dict(),
            "tails": self.tails.to_dict(),
            "magnitudes": self.magnitudes.to_dict(),
            "integers": self.integers,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        frequent = data["frequent"]
        histogram = data.get("histogram")
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            count=int(data["count"]),
            nulls=int(data["nulls"]),
            infinite=int(data["infinite"]),
            invalid=int(data["invalid"]),
            mean=float(data["mean"]),
            m2=float(data["m2"]),
            minimum=math.inf if data["min"] is None else float(data["min"]),
            maximum=-math.inf if data["max"] is None else float(data["max"]),
            quantiles=QuantileSketch.from_dict(data["quantiles"]),
            frequent=FrequentItems(
                {str(k): int(v) for k, v in frequent["counts"].items()},
                int(frequent["cap"]),
                int(frequent["dropped"]),
                bool(frequent["overflowed"]),
            ),
            distinct=DistinctSketch.from_dict(data["distinct"]),
            histogram=None
            if histogram is None
            else Histogram(
                tuple(histogram["edges"]),
                tuple(histogram["counts"]),
                int(histogram["below"]),
                int(histogram["above"]),
            ),
            # a profile saved before grids: unknown (merges with it are dropped too)
            grid=GridHistogram.from_dict(data["grid"])
            if "grid" in data
            else GridHistogram(dropped=True),
            tails=Tails.from_dict(data.get("tails")),
            magnitudes=MagnitudeGrid.from_dict(data.get("magnitudes")),
            integers=int(data.get("integers", 0)),  # saved before: not known as integers
        )


def _is_null(value: Any) -> bool:
    """None, "", NaN (any float type), and pandas' NA and NaT."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, int | bytes):
        return False
    try:
        return bool(value != value)  # NaN, NaT
    except TypeError:  # pandas.NA: its comparisons are NA, which has no truth value
        return True
    except ValueError:  # an array in a cell: a value
        return False


def _numeric_update(
    column: ColumnProfile,
    values: FloatArray,
    invalid: int,
    edges: Sequence[float] | None,
    *,
    hash_later: bool = False,
    integers: int = 0,
) -> ColumnProfile:
    """``column`` with a chunk of numbers added, from one sort of its finite values
    (:func:`~modelops_core.monitoring.sketches.sorted_floats`): the sorted values give min and
    max, the one-pass quantile sketch, the histogram (a binary search per edge) and the
    distinct values (neighbours that differ) without other passes over the data.
    ``hash_later``: the distinct sketch keeps the sorted values, hashed when it is read."""
    size = len(values)
    usable = np.isfinite(values)
    if usable.all():
        nulls = infinite = 0
        finite = sorted_floats(values)
    else:
        nulls = int(np.count_nonzero(np.isnan(values)))
        finite = sorted_floats(values[usable])
        infinite = size - nulls - len(finite)
    count = len(finite)
    if count:
        mean = float(np.add.reduce(finite)) / count
        deviations = finite - mean
        np.multiply(deviations, deviations, out=deviations)
        m2 = float(np.add.reduce(deviations))
    else:
        mean = m2 = 0.0
    finite.flags.writeable = False  # a sorted copy: the distinct sketch may keep it as it is
    distinct = DistinctSketch().add_floats(finite)
    if infinite:
        distinct = distinct.add_floats(values[np.isinf(values)])
    if not hash_later:
        distinct = distinct.settled()
    quantiles = QuantileSketch(column.quantiles.k, seed=column.quantiles.seed)
    quantiles = quantiles.add(finite, ordered=True)
    chunk = ColumnProfile(
        name=column.name,
        kind=NUMERIC,
        count=size + invalid,
        nulls=nulls,
        infinite=infinite,
        invalid=invalid,
        mean=mean,
        m2=m2,
        minimum=float(finite[0]) if count else math.inf,
        maximum=float(finite[-1]) if count else -math.inf,
        quantiles=quantiles,
        frequent=_numeric_values(finite, quantiles, column.frequent.cap),
        distinct=distinct,
        histogram=None if edges is None else Histogram.of_sorted(edges, finite),
        grid=GridHistogram.of_sorted(finite),
        tails=Tails.of_sorted(finite),
        magnitudes=MagnitudeGrid.of_sorted(finite),
        integers=integers,
    )
    return column.merge(chunk)


def _numeric_values(ordered: FloatArray, sketch: QuantileSketch, cap: int) -> FrequentItems:
    """Counts of the distinct values of sorted finite numbers, or the overflow marker when
    there are more than :data:`NUMERIC_VALUES_CAP` (seen at once when the sketch's items,
    a subset of the values, already have more)."""
    if sketch.count > sketch.k and _distinct(np.concatenate(sketch.levels)) > NUMERIC_VALUES_CAP:
        return FrequentItems({}, cap, len(ordered), True)
    if len(ordered) == 0:
        return FrequentItems({}, cap)
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    if len(starts) > NUMERIC_VALUES_CAP:
        return FrequentItems({}, cap, len(ordered), True)
    counts = np.diff(np.append(starts, len(ordered)))
    return FrequentItems(
        {
            _canonical_number(v): int(c)
            for v, c in zip(ordered[starts].tolist(), counts.tolist(), strict=True)
        },
        cap,
    )


def _distinct(finite: FloatArray) -> int:
    """The number of distinct values of finite numbers, by a sort (``np.unique`` without
    counts imports ``numpy.ma``, 20 ms of a command-line run); a merge sort, as the sketch's
    levels are a few sorted runs."""
    ordered = np.sort(finite, kind="stable")
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + min(len(ordered), 1)


def _categorical_update(column: ColumnProfile, values: Sequence[Any]) -> ColumnProfile:
    counts: Counter[str] = Counter()
    nulls = 0
    for value, number in _value_counts(values).items():
        if _is_null(value):
            nulls += number
        else:
            counts[value if isinstance(value, str) else str(value)] += number
    chunk = ColumnProfile(
        name=column.name,
        kind=CATEGORICAL if counts else EMPTY,
        count=len(values),
        nulls=nulls,
        quantiles=QuantileSketch(column.quantiles.k, seed=column.quantiles.seed),
        frequent=FrequentItems({}, column.frequent.cap).add_counts(counts),
        distinct=DistinctSketch().add_hashes(hash_strings(counts)),
    )
    return column.merge(chunk)


def _value_counts(values: Sequence[Any]) -> Mapping[Any, int]:
    arrow = _arrow_array(values)
    if arrow is not None and hasattr(arrow, "indices"):  # dictionary-encoded strings
        from modelops_core.monitoring.reader import dictionary_counts

        return dictionary_counts(arrow)
    if arrow is not None:  # Arrow strings (pandas' str dtype, Arrow tables): Arrow's kernel
        import pyarrow.compute as pc  # type: ignore[import-not-found,import-untyped,unused-ignore]

        table = pc.value_counts(arrow)
        keys = table.field("values").to_pylist()
        return dict(zip(keys, table.field("counts").to_pylist(), strict=True))
    counter = getattr(values, "value_counts", None)  # a pandas Series: its C hash table
    if counter is not None:
        result: Mapping[Any, int] = counter(dropna=False).to_dict()
        return result
    return Counter(values.tolist() if isinstance(values, np.ndarray) else values)


def _arrow_array(values: Any) -> Any:
    """The Arrow string array behind ``values`` (an Arrow array, or a pandas Series of an
    Arrow-backed string dtype), else None. Only when pyarrow is already imported."""
    import sys

    if "pyarrow" not in sys.modules:
        return None
    import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]

    if isinstance(values, pa.Array | pa.ChunkedArray):
        array = values
    else:
        inner = getattr(values, "array", None)
        if inner is None or not hasattr(inner, "__arrow_array__"):
            return None
        if str(getattr(values, "dtype", "")) not in ("str", "string"):
            return None
        try:
            array = pa.array(inner)
        except (TypeError, ValueError, pa.ArrowException):
            return None
    kind = array.type
    if pa.types.is_dictionary(kind) and isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return array
    return None


def _parses(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def _as_numbers(values: Sequence[Any], expect_numbers: bool) -> tuple[FloatArray, int] | None:
    """Float values of a chunk (nulls as NaN) and the count of values that are not numbers;
    None when the chunk is not numeric (unless ``expect_numbers``: then every non-null value
    that is not a number is counted)."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in ("i", "u", "f"):  # numpy-backed: no copy
        return np.asarray(values).astype(np.float64, copy=False), 0
    strings: Any = _arrow_array(values)
    if strings is not None and not expect_numbers:
        head = strings[:16].to_pylist()
        if all(_is_null(v) for v in head):
            head = strings[:1000].to_pylist()
        first = next((v for v in head if not _is_null(v)), None)
        if first is not None and not _parses(first):
            return None  # a column of words: no conversion of the whole chunk
    array: np.ndarray[Any, Any]
    if isinstance(values, np.ndarray):
        array = values
    elif strings is not None:
        array = np.array(strings.to_pylist(), dtype=object)  # Arrow strings
    else:
        dtype = getattr(values, "dtype", None)
        kind = getattr(dtype, "kind", "")
        if isinstance(dtype, np.dtype) and kind in ("i", "u", "f"):  # numpy-backed: no copy
            array = np.asarray(values)
        elif hasattr(values, "to_numpy") and kind in ("i", "u", "f"):  # pandas' Int64, Float64
            array = values.to_numpy(dtype=np.float64, na_value=math.nan)
        else:
            array = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if array.dtype.kind in "iuf":
        return array.astype(np.float64, copy=False), 0
    if array.dtype.kind == "b":
        return (np.full(0, math.nan), len(array)) if expect_numbers else None
    if not expect_numbers:
        first = next((v for v in array[:1000].tolist() if not _is_null(v)), None)
        if first is not None and not _parses(first):
            return None  # a column of words: no need to try every value
    try:
        return np.asarray(array, dtype=np.float64), 0
    except (TypeError, ValueError):
        pass
    cleaned = [math.nan if _is_null(v) else v for v in array.tolist()]
    try:
        return np.asarray(cleaned, dtype=np.float64), 0
    except (TypeError, ValueError):
        pass
    numbers = [float(v) for v in cleaned if _parses(v)]
    invalid = len(cleaned) - len(numbers)
    if not expect_numbers and not numbers:
        return None
    return np.asarray(numbers, dtype=np.float64), invalid


def update_column(
    column: ColumnProfile,
    values: Sequence[Any],
    *,
    kind: str | None = None,
    edges: Sequence[float] | None = None,
    hash_later: bool = False,
) -> ColumnProfile:
    """``column`` with one chunk of its values added (the chunk's kind decides an ``empty``
    column; a numeric column counts strings that are not numbers as ``invalid``).
    ``hash_later``: numbers are hashed into the distinct sketch when it is read (they wait in
    memory, at most :data:`~modelops_core.monitoring.sketches.PENDING_VALUES` per column)."""
    wanted = kind or column.kind
    if wanted == CATEGORICAL:
        return _categorical_update(column, values)
    parsed = _as_numbers(values, expect_numbers=wanted == NUMERIC)
    if parsed is None:
        return _categorical_update(column, values)
    numbers, invalid = parsed
    integers = len(numbers) if _integer_typed(values) else 0
    if wanted == EMPTY and invalid:
        return _categorical_update(column, values)
    if (
        wanted == EMPTY
        and (len(numbers) == 0 or math.isnan(numbers[0]))
        and np.isnan(numbers).all()
    ):
        return attrs.evolve(
            column, count=column.count + len(values), nulls=column.nulls + len(values)
        )
    return _numeric_update(
        column, numbers, invalid, edges, hash_later=hash_later, integers=integers
    )


def _integer_typed(values: Any) -> bool:
    """Whether a chunk's values are typed as integers, as pandas types a column (a signed
    numpy integer dtype: Evidently reads the type from it); Python ints of a list or an Arrow
    integer array without nulls become one in pandas, and are too."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype):
        return dtype.kind == "i"
    if isinstance(values, list):  # Python or numpy ints (a mapping's column), no bools
        return bool(values) and all(
            isinstance(value, int | np.signedinteger) and not isinstance(value, bool)
            for value in values
        )
    kind = getattr(values, "type", None)
    if kind is not None and hasattr(values, "null_count"):
        return str(kind) in ("int8", "int16", "int32", "int64") and values.null_count == 0
    return False


#: one column's update: its profile so far, the chunk's values, the kind, histogram edges and
#: whether its numbers are hashed later.
_Update = tuple[ColumnProfile, Any, "str | None", "Sequence[float] | None", bool]
#: rows of a chunk from which its columns are profiled on threads (numpy's sort and ufuncs,
#: Arrow's counting and the CSV parser release the GIL); smaller chunks are not worth a thread.
PARALLEL_ROWS = 16_384
#: thread pools by size, made on first use and kept for the next profiles.
_POOLS: dict[int, Any] = {}


#: most threads profiling the columns of a chunk.
MAX_WORKERS = 4


def available_cpus() -> int:
    """The CPUs this process may run on."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _plan(
    name: str, reference: Profile | None, forced: Mapping[str, str]
) -> tuple[str | None, Sequence[float] | None]:
    """A column's kind, when known before its values (given, or the reference's), and its
    histogram's edges (the reference's)."""
    ref = None if reference is None else reference.columns.get(name)
    chosen: str | None = forced.get(name)
    if chosen is None and ref is not None and ref.kind != EMPTY:
        chosen = ref.kind
    return chosen, reference_edges(ref) if ref is not None else None


def _pool(workers: int) -> Any:
    """The shared pool of ``workers`` threads (made on first use)."""
    pool = _POOLS.get(workers)
    if pool is None:
        import os
        from concurrent.futures import ThreadPoolExecutor

        if not _POOLS and hasattr(os, "register_at_fork"):
            # a forked child has none of the parent's threads: it makes its own pools
            os.register_at_fork(after_in_child=_POOLS.clear)
        pool = _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="modelops-profile")
    return pool


def _update_columns(updates: list[_Update], rows: int, workers: int) -> list[ColumnProfile]:
    """The columns with their chunk added: on a shared pool of ``workers`` threads when the
    chunk is large, else one after another (the same results either way: each column is
    computed alone, in the same order of operations)."""
    if workers < 2 or rows < PARALLEL_ROWS or len(updates) < 2:
        return [update_column(c, v, kind=k, edges=e, hash_later=h) for c, v, k, e, h in updates]
    return list(
        _pool(workers).map(
            lambda u: update_column(u[0], u[1], kind=u[2], edges=u[3], hash_later=u[4]), updates
        )
    )


def _pandas_chunks(data: Any, chunk_rows: int) -> list[Chunk] | None:
    """The chunks of a pandas DataFrame of at least :data:`PARALLEL_ROWS` rows, all taken
    here (views of its rows, as :func:`~modelops_core.monitoring.reader.iter_chunks` gives
    them: pandas' slicing holds the GIL), to profile a column at a time, each through all
    its chunks on a thread of its own. A column's profile is the same, as the same chunks
    are added in the same order, without a wait for the slowest column of every chunk.
    None for other data, a smaller frame, or repeated column names."""
    from modelops_core.monitoring.reader import iter_chunks

    if type(data).__module__.split(".")[0] != "pandas" or not hasattr(data, "iloc"):
        return None
    names = [str(name) for name in getattr(data, "columns", ())]
    if len(data) < PARALLEL_ROWS or len(names) < 2 or len(set(names)) != len(names):
        return None
    return list(iter_chunks(data, chunk_rows))


@attrs.frozen(eq=False)
class Profile:
    """The profile of a data set: its columns in order, the rows seen and where they came from.

    :param source: what was profiled (a file name, "DataFrame"), kept as lineage.
    """

    columns: Mapping[str, ColumnProfile] = attrs.field(factory=dict)
    rows: int = 0
    source: str = ""
    #: text columns whose lengths are profiled as ``<column>.length`` (numeric, characters).
    lengths: tuple[str, ...] = ()
    #: a seeded sample of rows of the numeric columns (multivariate drift), or None.
    sample: RowSample | None = None

    @classmethod
    def build(
        cls,
        data: Any,
        *,
        reference: Profile | None = None,
        kinds: Mapping[str, str] | None = None,
        chunk_rows: int = 65_536,
        k: int = DEFAULT_K,
        cap: int = DEFAULT_CAP,
        seed: int = 0,
        lengths: Sequence[str] = (),
        sample_rows: int = 0,
        workers: int | None = None,
    ) -> Profile:
        """Profile ``data`` by chunks in bounded memory.

        :param data: a CSV, JSONL or Parquet path, a pandas/polars DataFrame, an Arrow table, a
            mapping of column name to values, or a saved profile's path (returned as loaded).
        :param reference: numeric columns get histograms on the reference's edges, and columns
            take the reference's kinds (so windows of one reference merge exactly).
        :param kinds: column -> ``"numeric"`` or ``"categorical"``, overriding the detection.
        :param k: the quantile sketch's accuracy (values kept exactly up to ``k``).
        :param cap: categories counted exactly per column.
        :param lengths: text columns (an LLM's answers ...) whose length in characters is
            profiled too, as the numeric column ``<column>.length`` (a reference's lengths are
            taken by the windows built against it).
        :param sample_rows: keep a seeded sample of this many rows of the numeric columns, for
            multivariate drift (``Monitor(..., multivariate="mmd")``); windows built against a
            reference with a sample take its columns and size.
        :param workers: threads profiling the columns of a chunk (numpy's sort and Arrow's
            counting run without the GIL); a pandas DataFrame's columns each go through all
            their chunks on one thread, without a wait for the slowest column of every chunk.
            Default: the available CPUs (at most 4) for data in memory, 1 for files, whose
            reading is about memory (each thread's allocator arena would keep its own freed
            chunks resident: about 20 MB more at the peak). The result does not depend on it.

        The numbers of data in memory are hashed into the columns' distinct sketches when
        those are first read (saving, merging many, an estimate: a drift reads none of a
        numeric column), up to 2 MB of them a column; those of files named by a path as they
        are read (a :class:`~modelops_core.monitoring.reader.FileAhead`, the command line's
        file already parsing, counts as data in memory here).
        """
        from modelops_core.monitoring.reader import describe, is_profile_file, iter_chunks

        if isinstance(data, str | Path) and is_profile_file(Path(data)):
            return cls.load(data)
        texts = tuple(dict.fromkeys([*lengths, *(reference.lengths if reference else ())]))
        forced = dict(kinds or {})
        for name, kind in forced.items():
            if kind not in (NUMERIC, CATEGORICAL):
                raise ProfileError(f"kinds[{name!r}] = {kind!r}: use 'numeric' or 'categorical'")
        in_memory = not isinstance(data, str | Path)
        if workers is None:
            workers = min(MAX_WORKERS, available_cpus()) if in_memory else 1
        elif workers < 1:
            raise ProfileError(f"workers={workers}: use 1 (no threads) or more")
        columns: dict[str, ColumnProfile] = {}
        rows = 0
        sample = None if reference is None else reference.sample
        if sample is not None:
            from modelops_core.monitoring.rows import RowSample

            sample = RowSample(sample.columns, size=sample.size, seed=sample.seed)
        elif sample_rows < 0:
            raise ProfileError(f"sample_rows={sample_rows}: use 0 (no sample) or more rows")
        if workers > 1 and not texts and sample is None and not sample_rows:
            chunks = _pandas_chunks(data, chunk_rows)
            if chunks is not None:

                def whole(name: str) -> ColumnProfile:
                    column = ColumnProfile(
                        name,
                        quantiles=QuantileSketch(k, seed=seed),
                        frequent=FrequentItems({}, cap),
                    )
                    chosen, edges = _plan(name, reference, forced)
                    for chunk in chunks:
                        column = update_column(
                            column, chunk[name], kind=chosen, edges=edges, hash_later=True
                        )
                    return column

                names = list(chunks[0])
                profiled = _pool(workers).map(whole, names)
                return cls(dict(zip(names, profiled, strict=True)), len(data), describe(data))
        for chunk in iter_chunks(data, chunk_rows):
            if texts:
                chunk = _with_lengths(chunk, texts)
            width = 0
            updates: list[_Update] = []
            for name, values in chunk.items():
                width = len(values)
                column = columns.get(name)
                if column is None:
                    column = ColumnProfile(
                        name,
                        count=rows,
                        nulls=rows,  # absent from earlier records: missing there
                        quantiles=QuantileSketch(k, seed=seed),
                        frequent=FrequentItems({}, cap),
                    )
                chosen, edges = _plan(name, reference, forced)
                updates.append((column, values, chosen, edges, in_memory))
            for column in _update_columns(updates, width, workers):
                columns[column.name] = column
            for name, column in columns.items():
                if name not in chunk:
                    columns[name] = attrs.evolve(
                        column, count=column.count + width, nulls=column.nulls + width
                    )
            if sample is None and sample_rows > 0:
                from modelops_core.monitoring.rows import RowSample

                numeric = tuple(n for n, c in columns.items() if c.kind == NUMERIC)
                sample = RowSample(numeric, size=sample_rows, seed=seed) if numeric else None
            if sample is not None:
                sample = sample.add(_sample_values(chunk, sample.columns, width))
            rows += width
        unknown = [name for name in texts if name not in columns]
        if unknown and columns:
            raise ProfileError(
                f"lengths={unknown}: no such column in {describe(data)}; its columns are "
                f"{', '.join(columns)}"
            )
        return cls(columns, rows, describe(data), texts, sample)

    def merge(self, other: Profile) -> Profile:
        """One profile of both inputs (a column missing on one side counts as nulls there)."""
        columns: dict[str, ColumnProfile] = {}
        for name in [*self.columns, *(n for n in other.columns if n not in self.columns)]:
            mine = self.columns.get(name) or _missing(name, self.rows, other.columns[name])
            theirs = other.columns.get(name) or _missing(name, other.rows, mine)
            columns[name] = mine.merge(theirs)
        sources = [s for s in (self.source, other.source) if s]
        lengths = tuple(dict.fromkeys([*self.lengths, *other.lengths]))
        if self.sample is not None and other.sample is not None:
            sample: RowSample | None = self.sample.merge(other.sample)
        else:
            sample = self.sample or other.sample
        return Profile(
            columns, self.rows + other.rows, " + ".join(dict.fromkeys(sources)), lengths, sample
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "source": self.source,
            "lengths": list(self.lengths),
            "sample": None if self.sample is None else self.sample.to_dict(),
            "columns": [column.to_dict() for column in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "profile") -> Profile:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ProfileError(
                f'{where}: not a modelops profile (expected "format": {FORMAT!r}); '
                "make one with `modelops monitor profile DATA --output ref.profile.json`"
            )
        try:
            columns = [ColumnProfile.from_dict(c) for c in data["columns"]]
            sample = None
            if data.get("sample") is not None:
                from modelops_core.monitoring.rows import RowSample

                sample = RowSample.from_dict(data["sample"])
            return cls(
                {c.name: c for c in columns},
                int(data["rows"]),
                str(data.get("source", "")),
                tuple(str(name) for name in data.get("lengths", ())),
                sample,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(
                f"{where}: a damaged profile ({type(exc).__name__}: {exc}); profile the data again"
            ) from exc

    def save(self, path: str | Path) -> Path:
        """Write the profile as JSON (atomically: a temporary file renamed into place)."""
        import os

        target = Path(path)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.to_dict()), encoding="utf-8")
        os.replace(temporary, target)
        return target

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProfileError(f"{source}: cannot read the profile ({exc})") from exc
        return cls.from_dict(data, where=str(source))


def _sample_values(chunk: Mapping[str, Any], names: Sequence[str], width: int) -> dict[str, Any]:
    """The chunk's values of the sampled columns as floats (NaN: missing or not a number)."""
    result: dict[str, Any] = {}
    for name in names:
        values = chunk.get(name)
        parsed = None if values is None else _as_numbers(values, expect_numbers=True)
        if values is None:
            result[name] = np.full(width, math.nan)
        elif parsed is None or parsed[1]:  # words among the numbers: value by value
            items = values.to_pylist() if hasattr(values, "to_pylist") else list(values)
            result[name] = np.array([_number_or_nan(v) for v in items], dtype=np.float64)
        else:
            result[name] = parsed[0]
    return result


def _number_or_nan(value: Any) -> float:
    return float(value) if not _is_null(value) and _parses(value) else math.nan


#: the suffix of a derived text-length column.
LENGTH_SUFFIX = ".length"


def text_lengths(values: Any) -> FloatArray:
    """Lengths in characters of a chunk of text values (NaN for a null; other values count
    the characters of their text)."""
    arrow = _arrow_array(values)
    if arrow is not None and hasattr(arrow, "indices"):  # dictionary-encoded: per code
        from modelops_core.monitoring.reader import dictionary_lengths

        return dictionary_lengths(arrow)
    items = arrow.to_pylist() if arrow is not None else values
    if hasattr(items, "tolist"):
        items = items.tolist()
    return np.fromiter(
        (math.nan if _is_null(v) else len(v if isinstance(v, str) else str(v)) for v in items),
        dtype=np.float64,
        count=len(items),
    )


def _with_lengths(chunk: Mapping[str, Any], texts: Sequence[str]) -> dict[str, Any]:
    """The chunk with ``<column>.length`` after each text column that it has."""
    result: dict[str, Any] = {}
    for name, values in chunk.items():
        result[name] = values
        if name in texts:
            result[name + LENGTH_SUFFIX] = text_lengths(values)
    return result


def _missing(name: str, rows: int, like: ColumnProfile) -> ColumnProfile:
    return ColumnProfile(
        name,
        count=rows,
        nulls=rows,
        quantiles=QuantileSketch(like.quantiles.k, seed=like.quantiles.seed),
        frequent=FrequentItems({}, like.frequent.cap),
    )


def reference_edges(column: ColumnProfile) -> tuple[float, ...] | None:
    """The fixed histogram edges a reference column gives its windows (None: not numeric)."""
    if column.kind != NUMERIC or column.quantiles.count == 0:
        return None
    if column.histogram is not None:
        return column.histogram.edges
    low, high = column.minimum, column.maximum
    if high <= low:
        high = low + 1.0
    return tuple(float(e) for e in np.linspace(low, high, HISTOGRAM_BINS + 1))


def profile_of(data: Any, **options: Any) -> Profile:
    """``Profile.build(data, **options)``."""
    return Profile.build(data, **options)


def merge_all(profiles: Iterable[Profile]) -> Profile:
    """The merge of many profiles: what merging them one by one gives (the order changes
    nothing but the quantile sketches' compaction, within their rank error), in one pass per
    column (1,000 window profiles of 20 columns in well under a second)."""
    given = list(profiles)
    if not given:
        raise ProfileError("merge_all: no profile given")
    if len(given) <= 2:
        return given[0] if len(given) == 1 else given[0].merge(given[1])
    names = list(dict.fromkeys(name for profile in given for name in profile.columns))
    columns: dict[str, ColumnProfile] = {}
    for name in names:
        like = next(p.columns[name] for p in given if name in p.columns)
        parts = [p.columns.get(name) or _missing(name, p.rows, like) for p in given]
        columns[name] = ColumnProfile.merge_many(parts)
    samples = [p.sample for p in given if p.sample is not None]
    sample = samples[0] if samples else None
    for other in samples[1:]:
        assert sample is not None
        sample = sample.merge(other)
    sources = dict.fromkeys(part for p in given for part in p.source.split(" + ") if part)
    lengths = tuple(dict.fromkeys(name for p in given for name in p.lengths))
    rows = sum(p.rows for p in given)
    return Profile(columns, rows, " + ".join(sources), lengths, sample)
