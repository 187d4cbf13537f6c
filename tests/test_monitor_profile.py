"""Profiles: built by chunks from files and frames, merged exactly, saved and loaded; bad input
is a named error."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from modelops_core import Profile, ProfileError
from modelops_core.monitoring import sketches
from modelops_core.monitoring.profile import ColumnProfile, merge_all
from modelops_core.monitoring.sketches import (
    BUCKET_SORT_ROWS,
    QuantileSketch,
    rank_error,
    sorted_floats,
)


def _data(rng: np.random.Generator, n: int) -> dict[str, list[object]]:
    numbers = rng.normal(10, 3, n).round(3).tolist()
    for index in rng.choice(n, n // 10, replace=False):
        numbers[index] = None
    if n > 5:
        numbers[3] = math.inf
    return {
        "amount": numbers,
        "country": rng.choice(["de", "fr", "it", None], n).tolist(),  # type: ignore[list-item]
        "clicks": rng.integers(0, 4, n).tolist(),
    }


def _assert_same(left: Profile, right: Profile) -> None:
    assert left.rows == right.rows and list(left.columns) == list(right.columns)
    for name, a in left.columns.items():
        b = right.columns[name]
        exact = ("kind", "count", "nulls", "infinite", "invalid", "minimum", "maximum")
        assert [getattr(a, f) for f in exact] == [getattr(b, f) for f in exact], name
        assert a.frequent == b.frequent and a.distinct == b.distinct and a.histogram == b.histogram
        assert a.grid == b.grid and a.tails == b.tails, name  # merged exactly
        assert a.mean == pytest.approx(b.mean, rel=1e-12, abs=1e-12)
        assert a.m2 == pytest.approx(b.m2, rel=1e-9, abs=1e-9)
        assert a.quantiles.count == b.quantiles.count
        grid = np.linspace(0, 1, 41)
        if a.quantiles.count:
            # both within the rank error of the exact CDF: at most twice it apart
            points = a.quantiles.quantiles(grid)
            bound = 2 * rank_error(a.quantiles.k) + 1 / a.quantiles.count
            assert np.max(np.abs(a.quantiles.cdf(points) - b.quantiles.cdf(points))) <= bound


def test_profile_of_a_union_equals_the_merge_of_the_profiles_seeded_loop() -> None:
    rng = np.random.default_rng(2026)
    for _ in range(25):
        n = int(rng.integers(1, 6000))
        data = _data(rng, n)
        cut = int(rng.integers(0, n + 1))
        first = {k: v[:cut] for k, v in data.items()}
        second = {k: v[cut:] for k, v in data.items()}
        whole = Profile.build(data, k=256)
        parts = [Profile.build(first, k=256), Profile.build(second, k=256)]
        _assert_same(whole, parts[0].merge(parts[1]))
        _assert_same(parts[0].merge(parts[1]), parts[1].merge(parts[0]))  # commutative


def test_merge_is_associative_and_the_numbers_are_exact() -> None:
    rng = np.random.default_rng(5)
    a, b, c = (Profile.build(_data(rng, 700)) for _ in range(3))
    _assert_same(a.merge(b).merge(c), a.merge(b.merge(c)))
    amount = a.merge(b).merge(c).columns["amount"]
    values = np.array(
        [v for p in (a, b, c) for v in p.columns["amount"].quantiles.weighted()[0]], dtype=float
    )
    assert amount.quantiles.exact and amount.quantiles.count == len(values)
    assert amount.mean == pytest.approx(float(np.mean(values)), rel=1e-12)
    assert amount.std == pytest.approx(float(np.std(values)), rel=1e-10)
    assert amount.infinite == 3 and amount.nulls == 3 * 70


def test_the_quantile_sketch_keeps_its_rank_error_over_a_million_values_and_merges() -> None:
    rng = np.random.default_rng(11)
    values = rng.lognormal(0, 2, 1_000_000)
    windows = [QuantileSketch().add(part) for part in np.array_split(values, 200)]
    sketch = windows[0]
    for window in windows[1:]:
        sketch = sketch.merge(window)
    exact = np.sort(values)
    items, weights = sketch.weighted()
    estimated = np.cumsum(weights) / weights.sum()
    true = np.searchsorted(exact, items, side="right") / len(values)
    assert sketch.count == 1_000_000 and not sketch.exact
    assert float(np.max(np.abs(estimated - true))) <= rank_error(2048) == 6 / 2048


def test_a_saved_profile_loads_back_equal(tmp_path: Path) -> None:
    profile = Profile.build(_data(np.random.default_rng(1), 5000), k=128)
    loaded = Profile.load(profile.save(tmp_path / "ref.profile.json"))
    _assert_same(profile, loaded)
    assert loaded.columns["amount"].quantiles.weighted()[0].tolist() == (
        profile.columns["amount"].quantiles.weighted()[0].tolist()
    )


def test_files_are_read_by_chunks_with_the_same_result(tmp_path: Path) -> None:
    csv = tmp_path / "data.csv"
    csv.write_text("amount,country\n" + "".join(f"{i * 0.5},{'ab'[i % 2]}\n" for i in range(1000)))
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"amount": i * 0.5, "country": "ab"[i % 2]}) + "\n" for i in range(1000))
    )
    from_csv = Profile.build(csv, chunk_rows=64)
    from_jsonl = Profile.build(jsonl, chunk_rows=999)
    _assert_same(from_csv, from_jsonl)
    column = from_csv.columns["amount"]
    assert (column.kind, column.count, column.minimum, column.maximum) == (
        "numeric",
        1000,
        0,
        499.5,
    )
    assert from_csv.columns["country"].frequent.counts == {"a": 500, "b": 500}


def test_windows_built_against_a_reference_share_its_histogram_edges() -> None:
    reference = Profile.build({"x": list(range(100))})
    windows = [Profile.build({"x": [5, 50, 150]}, reference=reference) for _ in range(3)]
    merged = merge_all(windows).columns["x"].histogram
    assert merged is not None
    assert merged.edges[0] == 0 and merged.edges[-1] == 99 and len(merged.edges) == 21
    assert sum(merged.counts) == 6 and merged.above == 3


def test_a_numeric_column_counts_words_as_invalid_values() -> None:
    reference = Profile.build({"x": [1.0, 2.0, 3.0]})
    window = Profile.build({"x": ["4", "oops", None, "n/a"]}, reference=reference)
    column = window.columns["x"]
    assert (column.kind, column.count, column.nulls, column.invalid) == ("numeric", 4, 1, 2)


def test_a_categorical_with_more_values_than_the_cap_keeps_the_most_frequent() -> None:
    values = [f"id-{i}" for i in range(50_000)] + ["common"] * 10
    column = Profile.build({"user": values}, cap=1000).columns["user"]
    assert column.frequent.overflowed and len(column.frequent.counts) == 1000
    assert column.frequent.counts["common"] == 10
    assert column.distinct_count() == pytest.approx(50_001, rel=0.05)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "missing.csv: no such file"),
        ("bad.jsonl", '{"a": 1}\n{"a": \n', "bad.jsonl, line 2: not valid JSON"),
        ("list.jsonl", '{"a": 1}\n[1, 2]\n', "list.jsonl, line 2: a JSON list, not an object"),
        ("data.xlsx", "x", "unknown file type '.xlsx'"),
        ("empty.csv", "", "empty.csv: the file is empty"),
        ("damaged.json", '{"format": "modelops.profile/1", "rows": 1}', "a damaged profile"),
    ],
)
def test_unreadable_input_is_a_profile_error_naming_the_file(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ProfileError, match=message.replace("[", r"\[").replace(".", r"\.")):
        Profile.build(path)


def _rank_error(sketch: QuantileSketch, values: np.ndarray) -> float:
    exact = np.sort(values)
    points = np.concatenate([sketch.weighted()[0], np.quantile(values, np.linspace(0, 1, 501))])
    true = np.searchsorted(exact, points, "right") / len(exact)
    return float(np.max(np.abs(sketch.cdf(points) - true)))


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(3).normal(0, 1, 100_000).round(5),
        np.random.default_rng(3).lognormal(0, 3, 100_000),
        np.concatenate([np.random.default_rng(3).normal(0, 1, 99_999), [1e300]]),  # outlier
        np.full(50_000, 7.5),  # constant
        np.random.default_rng(3).integers(0, 3, 100_000).astype(float),  # three values
    ],
    ids=["normal", "lognormal", "outlier", "constant", "three-values"],
)
def test_a_large_chunk_is_sketched_in_one_pass_within_the_rank_error(values: np.ndarray) -> None:
    sketch = QuantileSketch().add(values)
    items, weights = sketch.weighted()
    assert sketch.count == len(values) == weights.sum() and not sketch.exact
    assert len(items) <= 2 * 2048 and set(items.tolist()) <= set(values.tolist())
    assert _rank_error(sketch, values) <= 2 / 2048  # the one-pass bound (stated: 6 / k)
    assert np.array_equal(QuantileSketch().add(values).weighted()[0], items)  # seeded


def test_histograms_on_even_edges_count_as_numpy_does_at_every_edge() -> None:
    from modelops_core.monitoring.profile import Histogram

    rng = np.random.default_rng(9)
    for _ in range(50):
        low, high = sorted(rng.normal(0, 100, 2))
        edges = np.linspace(low, high, 21)
        values = np.concatenate(
            [
                rng.uniform(low - 5, high + 5, 2000),
                edges,
                np.nextafter(edges, np.inf),
                np.nextafter(edges, -np.inf),
            ]
        )
        histogram = Histogram.of(tuple(edges), values)
        expected = np.histogram(values[(values >= low) & (values <= high)], edges)[0]
        assert histogram.counts == tuple(expected.tolist())
        assert (histogram.below, histogram.above) == (
            int(np.sum(values < low)),
            int(np.sum(values > high)),
        )


def test_a_word_late_in_a_numeric_csv_column_is_an_invalid_value(tmp_path: Path) -> None:
    """Arrow infers a column's type from the first block; a word 40,000 rows later is counted
    as an invalid value of the numeric column (as the other readers do), every row once."""
    rows = [f"{i * 0.25},{'ab'[i % 2]}" for i in range(50_000)]
    rows[40_000] = "oops,a"
    path = tmp_path / "mixed.csv"
    path.write_text("x,tag\n" + "\n".join(rows) + "\n")
    column = Profile.build(path, chunk_rows=7_000).columns["x"]
    assert (column.kind, column.count, column.invalid, column.nulls) == ("numeric", 50_000, 1, 0)
    assert column.mean == pytest.approx((sum(i * 0.25 for i in range(50_000)) - 10_000) / 49_999)
    assert Profile.build(path).columns["tag"].frequent.counts == {"a": 25_000, "b": 25_000}


def test_a_csv_line_with_too_many_fields_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(ProfileError, match=r"bad\.csv, line 3: 3 fields, the header has 2"):
        Profile.build(path)


def test_merge_all_in_one_pass_equals_merging_one_by_one() -> None:
    import functools

    rng = np.random.default_rng(21)
    windows = [Profile.build(_data(rng, int(rng.integers(50, 400))), k=128) for _ in range(30)]
    windows.append(Profile.build({"amount": [1.5, None]}, k=128))  # other columns missing
    one_by_one = functools.reduce(Profile.merge, windows)
    at_once = merge_all(windows)
    _assert_same(at_once, one_by_one)
    assert at_once.source == "builtins.dict" and not at_once.columns["amount"].quantiles.exact
    with pytest.raises(ProfileError, match="column 'x' is categorical and numeric"):
        merge_all([Profile.build({"x": [1.0]}), Profile.build({"x": ["a"]}), Profile.build({})])


@pytest.mark.parametrize("size", [7, 5000, 100_000])
def test_a_numeric_chunk_gives_the_exact_counts_moments_and_histogram(size: int) -> None:
    """One sort of the chunk gives every exact part of the profile: compared with numpy."""
    rng = np.random.default_rng(size)
    values = rng.integers(0, 9, size).astype(float) * 0.5
    values[rng.choice(size, size // 7 + 1, replace=False)] = math.nan
    values[:3] = [math.inf, -math.inf, math.inf]
    reference = Profile.build({"x": np.linspace(-1, 3, 11)})
    column = Profile.build({"x": values}, reference=reference).columns["x"]
    finite = values[np.isfinite(values)]
    unique, counts = np.unique(finite, return_counts=True)
    assert (column.count, column.nulls, column.infinite) == (
        size,
        int(np.isnan(values).sum()),
        int(np.isinf(values).sum()),
    )
    assert (column.minimum, column.maximum) == (finite.min(), finite.max())
    assert column.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert column.std == pytest.approx(finite.std(), rel=1e-12)
    expected = {repr(float(v)): int(c) for v, c in zip(unique, counts, strict=True)}
    assert column.frequent.counts == expected
    assert column.histogram is not None
    edges = np.asarray(column.histogram.edges)
    assert column.histogram.counts == tuple(np.histogram(finite, edges)[0].tolist())
    assert (column.histogram.below, column.histogram.above) == (
        int((finite < edges[0]).sum()),
        int((finite > edges[-1]).sum()),
    )
    assert column.quantiles.count == len(finite)
    assert column.distinct_count() == len(unique)


def test_columns_profiled_on_threads_give_the_same_profile() -> None:
    rng = np.random.default_rng(8)
    n = 40_000
    data = {
        "x": rng.normal(0, 1, n),
        "y": rng.integers(0, 5, n).astype(float),
        "c": rng.choice(["a", "b", "c"], n).tolist(),
        "d": rng.choice(["u", "v"], n).tolist(),
    }
    reference = Profile.build(data, workers=1)
    serial = Profile.build(data, reference=reference, workers=1, chunk_rows=30_000)
    threaded = Profile.build(data, reference=reference, workers=3, chunk_rows=30_000)
    assert json.dumps(threaded.to_dict()) == json.dumps(serial.to_dict())
    with pytest.raises(ProfileError, match="workers=0"):
        Profile.build(data, workers=0)


def test_a_dataframe_profiled_a_column_at_a_time_gives_the_chunk_by_chunk_profile() -> None:
    """A DataFrame's columns go through all their chunks on threads of their own: the same
    profile as chunk by chunk, kinds decided by the first chunk included (a word in a later
    chunk of numbers counts as invalid; numbers in a column of words stay categories)."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(21)
    n = 50_000
    words_late = rng.normal(5, 2, n).astype(object)
    words_late[n - 3] = "n/a"
    numbers_late = rng.choice(["red", "green", None], n).astype(object)
    numbers_late[n - 5] = 7
    frame = pd.DataFrame(
        {
            "x": rng.normal(0, 1, n),
            "counts": rng.integers(0, 9, n),
            "plan": rng.choice(["free", "pro", "team"], n),
            "words_late": words_late,
            "numbers_late": numbers_late,
            "empty": [None] * n,
            "flag": rng.integers(0, 2, n).astype(bool),
        }
    )
    frame.loc[::97, "x"] = np.nan
    reference = Profile.build(frame.iloc[: n // 2], workers=1, chunk_rows=7_000)
    for against in (None, reference):
        chunk_by_chunk = Profile.build(frame, reference=against, workers=1, chunk_rows=7_000)
        by_columns = Profile.build(frame, reference=against, workers=2, chunk_rows=7_000)
        assert json.dumps(by_columns.to_dict()) == json.dumps(chunk_by_chunk.to_dict())
    column = by_columns.columns["words_late"]
    assert (column.kind, column.invalid) == ("numeric", 1)
    assert by_columns.columns["numbers_late"].kind == "categorical"
    assert by_columns.rows == n and list(by_columns.columns) == list(frame.columns)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_profiles_on_threads_of_its_own() -> None:
    """The pool of threads is the process's: a child forked after a profile makes its own
    (the parent's threads do not exist there; reusing their pool would wait forever)."""
    import multiprocessing

    data = {"x": np.arange(50_000, dtype=float), "c": ["a", "b"] * 25_000}
    Profile.build(data, workers=2)  # the parent's pool exists now
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        rows = pool.apply_async(_rows_profiled, (data,)).get(timeout=60)
    assert rows == 50_000


def _rows_profiled(data: dict[str, object]) -> int:
    return Profile.build(data, workers=2).rows


def test_grid_histograms_merge_exactly_and_bin_every_value() -> None:
    """The grid of a union is the merge of the grids, whatever the cut (a constant chunk of
    tiny bins merged into a wide one included), and each value is in bin floor(x / width)."""
    from modelops_core.monitoring.sketches import GRID_BINS, GridHistogram

    rng = np.random.default_rng(30)
    cases = [rng.normal(rng.normal(0, 100), 10 ** rng.uniform(-6, 6), 3000) for _ in range(20)] + [
        rng.integers(-5, 5, 2000) * 0.25,
        np.concatenate([np.zeros(500), rng.normal(0, 1e-3, 5)]),
        np.full(100, -3.5),
    ]
    for values in cases:
        whole = GridHistogram.of_sorted(np.sort(values))
        parts = [GridHistogram.of_sorted(np.sort(p)) for p in np.array_split(values, 4)]
        assert GridHistogram.merge_many(parts) == whole
        assert parts[0].merge(parts[1]).merge(parts[2].merge(parts[3])) == whole
        index = np.floor(values / whole.width).astype(np.int64) - whole.start
        assert np.array_equal(np.bincount(index, minlength=len(whole.counts)), whole.counts)
        assert len(whole.counts) <= GRID_BINS
        assert GridHistogram.of_sorted(np.sort(values), bins=2 * GRID_BINS).width <= whole.width
    assert GridHistogram.of_sorted(np.array([-1e308, 1e308])).dropped  # no grid holds it
    column = Profile.build({"x": rng.normal(0, 1, 5000)}).columns["x"]
    assert ColumnProfile.from_dict(column.to_dict()).grid == column.grid


def test_magnitude_grids_merge_exactly_and_bin_every_value_by_its_log2() -> None:
    """The magnitude grid of a union is the merge of the parts' grids (negative values, zeros,
    subnormal and huge values included), and each value is in bin floor(log2 |x| / width)."""
    from modelops_core.monitoring.sketches import MagnitudeGrid

    rng = np.random.default_rng(33)
    cases = [
        rng.standard_t(2, 4000),
        rng.pareto(1.5, 4000),
        -rng.lognormal(0, 3, 4000),
        np.concatenate([np.zeros(300), rng.normal(0, 1, 700), [5e-324, -1e-310, 1e308, -1e300]]),
        rng.integers(-3, 4, 2000).astype(float),
        np.full(50, -2.5),
        np.zeros(10),
    ]
    for values in cases:
        whole = MagnitudeGrid.of_sorted(np.sort(values))
        parts = [MagnitudeGrid.of_sorted(np.sort(p)) for p in np.array_split(values, 5)]
        assert MagnitudeGrid.merge_many(parts) == whole
        assert parts[0].merge(parts[1]).merge(MagnitudeGrid.merge_many(parts[2:])) == whole
        assert whole.zeros == np.count_nonzero(values == 0)
        for side, chosen in ((whole.negative, values < 0), (whole.positive, values > 0)):
            logs = np.log2(np.abs(values[chosen]))
            if len(logs) == 0:
                assert side.empty
                continue
            index = np.floor(logs / side.width).astype(np.int64) - side.start
            assert np.array_equal(np.bincount(index, minlength=len(side.counts)), side.counts)
            assert len(side.counts) <= 4096
            assert side.width <= 2.0**-10 or len(side.counts) >= 2048  # as fine as fits
        loaded = MagnitudeGrid.from_dict(json.loads(json.dumps(whole.to_dict())))
        assert loaded == whole
        assert parts[0] != whole or len(values) == 0
    one, other = MagnitudeGrid.of_sorted(np.array([1.0])), MagnitudeGrid.of_sorted(np.array([2.0]))
    assert one != other and one != MagnitudeGrid.of_sorted(np.array([0.0, 1.0]))


def test_the_distance_between_magnitude_grids_integrates_the_cdfs_exactly() -> None:
    """Three bins [1, 2), [2, 4), [4, 8) with shares (0.6, 0.1, 0.3) and (0.2, 0.7, 0.1): the
    CDFs differ by 0 -> 0.4 over the first (area 0.2), cross zero in the second (0.4 -> -0.2:
    2 * (0.4^2 + 0.2^2) / (2 * 0.6) = 1/3) and close in the third (4 * 0.2 / 2 = 0.4); the bound
    is the widths times both shares (0.8 + 1.6 + 1.6). Mirrored on negative values, the same;
    a zero in one side only moves its mass to 0."""
    from modelops_core.monitoring.sketches import (
        GridHistogram,
        MagnitudeGrid,
        magnitude_wasserstein,
    )

    def grid(counts: list[int], zeros: int = 0, negative: bool = False) -> MagnitudeGrid:
        side = GridHistogram(0, 0, np.array(counts, dtype=np.int64))
        return (
            MagnitudeGrid(side, zeros, GridHistogram())
            if negative
            else MagnitudeGrid(GridHistogram(), zeros, side)
        )

    first, second = grid([6, 1, 3]), grid([2, 7, 1])
    distance, bound = magnitude_wasserstein(first, second, 1.0, 8.0)
    assert distance == pytest.approx(0.2 + 1 / 3 + 0.4, rel=1e-12)
    assert bound == pytest.approx(4.0, rel=1e-12)
    mirrored = magnitude_wasserstein(grid([6, 1, 3], negative=True), grid([2, 7, 1], negative=True),
                                     -8.0, -1.0)  # fmt: skip
    assert mirrored == pytest.approx((distance, bound), rel=1e-12)
    # a value 0 in place of the first side's value in [4, 8): the gap from 0 to 1 counts
    moved, _ = magnitude_wasserstein(grid([6, 1, 2], zeros=1), grid([6, 1, 3]), 0.0, 8.0)
    assert moved == pytest.approx(0.1 * 1 + 0.1 * (1 + 2) + 0.1 * 4 / 2, rel=1e-12)


def test_a_constant_column_gets_the_finest_magnitude_bins() -> None:
    from modelops_core.monitoring.sketches import MagnitudeGrid

    grid = MagnitudeGrid.of_sorted(np.full(50, -2.5))
    assert (grid.negative.width, grid.negative.counts.tolist()) == (2.0**-10, [50])
    assert grid.positive.empty and grid.zeros == 0


def test_grids_of_one_exponent_far_apart_merge_without_a_grid_between_them() -> None:
    """Two constant chunks, 6e5 and 9e5, have bins of 2**-32: 1.3e15 bins apart. They are
    coarsened apart (summing them on one array of that many bins would not fit in memory)."""
    from modelops_core.monitoring.sketches import GridHistogram

    parts = [GridHistogram.of_sorted(np.full(10, value)) for value in (6e5, 9e5)]
    assert parts[0].exponent == parts[1].exponent == -32
    whole = GridHistogram.of_sorted(np.array([6e5] * 10 + [9e5] * 10))
    assert GridHistogram.merge_many(parts) == whole


def test_the_finest_grid_of_subnormal_values_is_one_subnormal_step() -> None:
    from modelops_core.monitoring.sketches import GridHistogram

    tiny = GridHistogram.of_sorted(np.array([5e-324, 1e-323, 1.5e-323]))
    assert (tiny.width, tiny.counts.tolist()) == (5e-324, [1, 1, 1])


def test_the_distinct_estimate_is_hyperloglog_with_linear_counting_for_few() -> None:
    """HyperLogLog's estimate alpha m^2 / sum 2^-M (alpha = 0.7213 / (1 + 1.079 / m)), linear
    counting m ln(m / V) while it is at most 2.5 m with V empty registers; one hash counts."""
    from modelops_core.monitoring.sketches import DistinctSketch, hash_floats

    m = 4096.0
    alpha = 0.7213 / (1 + 1.079 / m)
    registers = np.full(4096, 20, dtype=np.uint8)
    registers[:3] = 0  # three empty registers, but the raw estimate is far over 2.5 m
    raw = alpha * m * m / float(np.sum(np.exp2(-registers.astype(float))))
    assert raw > 2.5 * m
    assert DistinctSketch(registers).estimate() == pytest.approx(raw, rel=1e-12)
    few = np.zeros(4096, dtype=np.uint8)
    few[:100] = 1
    assert DistinctSketch(few).estimate() == pytest.approx(m * math.log(m / 3996), rel=1e-12)
    # a hash whose 52 low bits are all 0 ranks width + 1 = 53 (the most a register holds)
    zero = DistinctSketch().add_hashes(np.array([0, 1 << 63, (1 << 63) | 1], dtype=np.uint64))
    assert zero.registers[[0, 2048]].tolist() == [53, 53] and zero.registers.sum() == 106
    one = DistinctSketch().add_hashes(hash_floats(np.array([1.0])))
    assert int(np.count_nonzero(one.registers)) == 1
    assert one.estimate() == pytest.approx(m * math.log(m / 4095), rel=1e-12)


def test_a_merged_grid_holds_at_most_its_bins_at_the_bound() -> None:
    """Two values whose grid needs exactly 4,096 bins of width 1 keep that width merged; one
    bin more (4,097) halves it, in the merge as in the grid of both values at once."""
    from modelops_core.monitoring.sketches import GRID_BINS, GridHistogram

    for high, width, bins in [(GRID_BINS - 0.5, 1.0, GRID_BINS), (GRID_BINS + 0.5, 2.0, 2049)]:
        parts = [GridHistogram.of_sorted(np.array([value])) for value in (0.5, high)]
        merged = GridHistogram.merge_many(parts)
        assert (merged.width, merged.start, len(merged.counts)) == (width, 0, bins)
        assert merged == GridHistogram.of_sorted(np.array([0.5, high]))
        assert merged.counts.sum() == 2 and merged.counts[0] == merged.counts[-1] == 1


def test_the_sketches_coin_flips_are_splitmix64() -> None:
    """The seeded compaction flips its coins with splitmix64 (Vigna's published outputs for
    the seed 1234567): a profile saved by one release compacts the same way in the next."""
    golden = 0x9E3779B97F4A7C15
    outputs = [sketches._seeded(2**64, 1234567 + i * golden) for i in range(3)]
    assert outputs == [6457827717110365317, 3203168211198807973, 9817491932198370423]
    assert sketches._seeded(2, 1234567) == 6457827717110365317 % 2


def test_a_sketch_keeps_every_value_up_to_k_and_compacts_past_it() -> None:
    """k values fill the sketch's one level exactly (every value kept); the next one compacts."""
    values = np.arange(64, dtype=float)
    full = QuantileSketch(64).add(values)
    assert full.exact and full.weighted()[0].tolist() == values.tolist()
    assert QuantileSketch(64).add(values[:40]).add(values[40:]).exact
    assert not full.add(np.array([64.0])).exact


def test_float_hashes_are_splitmix64_of_the_bits() -> None:
    """The distinct sketch hashes a float's bits with splitmix64 (Vigna's published output for
    1234567, and the scalar version the coin flips use, on 1,000 values); -0.0 as 0.0."""
    from modelops_core.monitoring.sketches import hash_floats

    bits = np.array([1234567], dtype=np.uint64)
    assert hash_floats(bits.view(np.float64)).tolist() == [6457827717110365317]
    values = np.random.default_rng(4).normal(0, 1e3, 1000)
    expected = [sketches._seeded(2**64, int(b)) for b in values.view(np.uint64)]
    assert hash_floats(values).tolist() == expected
    assert hash_floats(np.array([-0.0])).tolist() == hash_floats(np.array([0.0])).tolist()


def test_a_sketch_saved_without_its_seed_loads_with_the_seed_it_had() -> None:
    """Profiles saved before sketches had a seed were compacted with seed 0: one loaded
    without it merges as seed 0 does."""
    values = np.arange(2_000, dtype=float)
    saved = QuantileSketch(64).add(values).to_dict()
    del saved["seed"]
    loaded = QuantileSketch.from_dict(saved)
    other = QuantileSketch(64).add(values[::-1] + 0.5)
    assert loaded.seed == 0
    expected = QuantileSketch(64).add(values).merge(other).to_dict()
    assert loaded.merge(other).to_dict() == expected


def test_distinct_registers_by_blocks_equal_those_of_all_hashes_at_once() -> None:
    from modelops_core.monitoring.sketches import HASH_BLOCK, DistinctSketch, hash_floats

    rng = np.random.default_rng(12)
    values = np.concatenate([rng.normal(0, 1, 3 * HASH_BLOCK + 17), [0.0, -0.0, math.inf]])
    whole = DistinctSketch().add_hashes(hash_floats(values))
    assert DistinctSketch().add_floats(values) == whole
    assert DistinctSketch().add_floats(values[:5]).add_floats(values[5:]) == whole
    assert DistinctSketch().add_floats(values).estimate() == pytest.approx(len(values) - 1, 0.05)


def _sort_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(21)
    n = 20_000
    ties = rng.integers(-3, 4, n).astype(float)
    ties[rng.random(n) < 0.3] = -0.0
    return {
        "normal": rng.normal(10, 1.5, n).round(5),
        "uniform": rng.random(n),
        "negative": -rng.lognormal(0, 1, n),
        "subnormal": rng.normal(0, 1, n) * 1e-310,
        "lognormal": rng.lognormal(0, 1, n),
        "heavy tails": rng.standard_cauchy(n),  # crowded buckets: numpy's sort
        "one outlier": np.append(rng.normal(0, 1, n - 1), 1e300),
        "ties and signed zeros": ties,
        "sorted": np.sort(rng.normal(0, 1, n)),
        "reversed": np.sort(rng.normal(0, 1, n))[::-1].copy(),
        "constant": np.full(n, -2.5),
        "beyond the float range": np.append(rng.normal(0, 1, n - 2), [-1.7e308, 1.7e308]),
        "small": rng.normal(0, 1, 100),
        "at the threshold": rng.normal(0, 1, BUCKET_SORT_ROWS),
    }


@pytest.mark.parametrize("buckets", [True, False, None])
@pytest.mark.parametrize("name", list(_sort_inputs()))
def test_sorted_floats_are_numpys_sort_whichever_way_is_measured_faster(
    name: str, buckets: bool | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways (buckets then a merge sort, numpy's sort) and the first measurement give
    numpy's sorted values, bit for bit, with -0.0 as 0.0."""
    values = _sort_inputs()[name]
    given = values.copy()
    monkeypatch.setattr(sketches, "_BUCKETS_FASTER", [] if buckets is None else [buckets])
    result = sorted_floats(values)
    expected = np.sort(values) + 0.0
    assert result.tobytes() == expected.tobytes()
    assert not np.signbit(result[result == 0]).any()
    assert values.tobytes() == given.tobytes()  # the input is left alone
    if (
        buckets is None
        and len(values) >= BUCKET_SORT_ROWS
        and sketches._bucket_keys(values) is not None
    ):
        assert len(sketches._BUCKETS_FASTER) >= 1  # measured once, then kept


def test_the_bucket_order_applies_only_where_its_buckets_are_not_crowded() -> None:
    inputs = _sort_inputs()
    assert sketches._bucket_keys(inputs["normal"]) is not None
    assert sketches._bucket_keys(inputs["lognormal"]) is not None
    assert sketches._bucket_keys(inputs["ties and signed zeros"]) is not None  # ties are free
    for name in ("heavy tails", "one outlier", "constant", "beyond the float range", "subnormal"):
        assert sketches._bucket_keys(inputs[name]) is None, name
    keys = sketches._bucket_keys(inputs["uniform"])
    assert keys is not None and keys.dtype == np.uint16
    order = np.argsort(inputs["uniform"])
    assert np.all(np.diff(keys[order].astype(np.int64)) >= 0)  # keys grow with the values


@pytest.mark.parametrize("buckets", [True, False])
def test_a_column_of_signed_zeros_profiles_as_zeros_whichever_sort_runs(
    buckets: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-0.0 and 0.0 are one value: the same profile, counted as "0.0", whatever order a sort
    leaves equal zeros in (numpy's sorts differ from one CPU to another)."""
    monkeypatch.setattr(sketches, "_BUCKETS_FASTER", [buckets])
    rng = np.random.default_rng(5)
    values = rng.integers(0, 3, 30_000).astype(float) - 1.0
    signed = values.copy()
    signed[(values == 0) & (rng.random(30_000) < 0.5)] = -0.0
    assert np.signbit(signed[signed == 0]).any()
    with_signs = Profile.build({"x": signed}).to_dict()
    plain = Profile.build({"x": values}).to_dict()
    assert json.dumps(with_signs) == json.dumps(plain)
    column = Profile.build({"x": -np.zeros(BUCKET_SORT_ROWS)}).columns["x"]
    assert (column.minimum, column.maximum) == (0.0, 0.0)
    assert not math.copysign(1.0, column.minimum) < 0
    assert dict(column.frequent.counts) == {"0.0": BUCKET_SORT_ROWS}


def _eager_registers(*parts: np.ndarray) -> np.ndarray:
    """The registers of every value hashed at once (what the sketch stored before it waited)."""
    from modelops_core.monitoring.sketches import DistinctSketch, hash_floats

    values = np.concatenate(parts) if parts else np.empty(0)
    return DistinctSketch().add_hashes(hash_floats(values)).registers


def test_distinct_values_hashed_when_read_give_the_registers_of_hashing_them_at_once() -> None:
    from modelops_core.monitoring.sketches import PENDING_VALUES, DistinctSketch, hash_strings

    rng = np.random.default_rng(13)
    parts = [rng.normal(0, 1, size).round(3) for size in (5, 70_000, 100_000, 3, 120_000)]
    sketch = DistinctSketch()
    for index, part in enumerate(parts):
        sketch = sketch.add_floats(part)
        waiting = sum(len(v) for v in sketch._pending)
        assert waiting <= PENDING_VALUES  # bounded: the rest was hashed as it came
        if index == 1:
            assert waiting == 70_005  # not hashed yet
    assert np.array_equal(sketch.registers, _eager_registers(*parts))
    assert sketch._pending == ()  # hashed once, then kept
    # merges keep values waiting, on both sides and in many
    left = DistinctSketch().add_floats(parts[0]).add_floats(parts[1])
    shifted = parts[4][:50_000] + 1e6
    right = DistinctSketch().add_hashes(hash_strings(["a", "b"])).add_floats(shifted)
    merged = left.merge(right)
    assert sum(len(v) for v in merged._pending) == 70_005 + 50_000  # nothing computed yet
    assert not np.array_equal(merged.registers, left.registers)
    expected = np.maximum(
        _eager_registers(parts[0], parts[1], shifted),
        DistinctSketch().add_hashes(hash_strings(["a", "b"])).registers,
    )
    assert np.array_equal(merged.registers, expected)
    many = DistinctSketch.merge_many([DistinctSketch().add_floats(p) for p in parts])
    assert np.array_equal(many.registers, _eager_registers(*parts))
    assert DistinctSketch.merge_many([left, right]) == merged


def test_a_distinct_sketch_keeps_its_own_copy_of_values_that_could_change() -> None:
    from modelops_core.monitoring.sketches import DistinctSketch

    values = np.arange(10_000, dtype=np.float64)
    sketch = DistinctSketch().add_floats(values)
    view = np.arange(10_000, 20_000, dtype=np.float64)
    frozen_view = view[::2]
    frozen_view.flags.writeable = False  # read-only, but its base can still change
    other = DistinctSketch().add_floats(frozen_view)
    values[:] = -1.0
    view[:] = -1.0
    assert np.array_equal(sketch.registers, _eager_registers(np.arange(10_000.0)))
    assert np.array_equal(other.registers, _eager_registers(np.arange(10_000.0, 20_000.0, 2)))


def test_threads_reading_waiting_registers_at_once_read_the_same() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from modelops_core.monitoring.sketches import DistinctSketch

    rng = np.random.default_rng(3)
    parts = [rng.normal(0, 1, 60_000) for _ in range(4)]
    expected = _eager_registers(*parts)
    for _ in range(5):
        sketch = DistinctSketch()
        for part in parts:
            sketch = sketch.add_floats(part)
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda s: s.registers.copy(), [sketch] * 8))
        assert all(np.array_equal(r, expected) for r in results)


def test_numbers_in_memory_are_hashed_when_read_and_those_of_files_as_read(
    tmp_path: Path,
) -> None:
    """The same profile either way; a file's numbers are not kept (bounded memory)."""
    rng = np.random.default_rng(17)
    data = {"x": rng.normal(0, 1, 30_000).round(4), "c": rng.choice(["a", "b"], 30_000)}
    data["x"][[5, 15_000]] = [math.inf, -math.inf]
    path = tmp_path / "data.csv"
    path.write_text(
        "x,c\n"
        + "".join(f"{x!r},{c}\n" for x, c in zip(data["x"].tolist(), data["c"], strict=True))
    )
    in_memory = Profile.build(data, chunk_rows=10_000)
    from_file = Profile.build(path, chunk_rows=10_000)
    assert sum(len(v) for v in in_memory.columns["x"].distinct._pending) == 30_000
    assert from_file.columns["x"].distinct._pending == ()
    columns = [c.to_dict() for c in in_memory.columns.values()]
    assert json.dumps(columns) == json.dumps([c.to_dict() for c in from_file.columns.values()])
    assert in_memory.columns["x"].distinct._pending == ()  # read once, then kept
