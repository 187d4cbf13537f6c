"""Every reader gives the same profile of the same data (issue 20): CSV, JSONL and Parquet files,
pandas and polars DataFrames, Arrow tables, mappings; by chunks, with nulls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelops_core import Profile, ProfileError

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (core-only run)")
pq = pytest.importorskip("pyarrow.parquet")
pd = pytest.importorskip("pandas", reason="pandas is not installed (core-only run)")
pl = pytest.importorskip("polars", reason="polars is not installed (core-only run)")

N = 1000


def columns() -> dict[str, list[Any]]:
    rng = np.random.default_rng(16)
    amount: list[Any] = rng.normal(50, 12, N).round(2).tolist()
    plan: list[Any] = rng.choice(["free", "pro", "team"], N, p=[0.6, 0.3, 0.1]).tolist()
    for index in rng.choice(N, 40, replace=False):
        amount[index] = None
    for index in rng.choice(N, 25, replace=False):
        plan[index] = None
    clicks = rng.integers(0, 50, N).tolist()
    return {"amount": amount, "plan": plan, "clicks": clicks}


def summary(profile: Profile) -> dict[str, Any]:
    result: dict[str, Any] = {"rows": profile.rows}
    for name, column in profile.columns.items():
        result[name] = (
            column.kind,
            column.count,
            column.nulls,
            column.values,
            None if column.kind != "numeric" else round(column.mean, 9),
            None if column.kind != "numeric" else round(column.m2, 6),
            dict(column.frequent.counts) if column.kind == "categorical" else None,
            column.quantiles.weighted()[0].tolist(),
            column.distinct_count(),
            column.grid.to_dict(),
        )
    return result


def sources(tmp_path: Path) -> dict[str, Any]:
    data = columns()
    frame = pd.DataFrame(data)
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    jsonl = tmp_path / "data.jsonl"
    records = zip(*data.values(), strict=True)
    jsonl.write_text(
        "".join(json.dumps(dict(zip(data, row, strict=True))) + "\n" for row in records)
    )
    table = pa.table(
        {
            "amount": pa.array(data["amount"], pa.float64()),
            "plan": pa.array(data["plan"], pa.string()),
            "clicks": pa.array(data["clicks"], pa.int64()),
        }
    )
    parquet = tmp_path / "data.parquet"
    pq.write_table(table, parquet, row_group_size=256)
    dictionary = table.set_column(1, "plan", table.column("plan").dictionary_encode())
    return {
        "mapping": data,
        "csv": csv,
        "jsonl": jsonl,
        "parquet": parquet,
        "pandas": frame,
        "pandas-arrow-strings": frame.astype({"plan": "string[pyarrow]"}),
        "pandas-nullable": frame.astype(
            {"amount": "Float64", "plan": "string[python]", "clicks": "Int64"}
        ),
        "pandas-object": frame.astype(object),
        "polars": pl.DataFrame(data),
        "arrow": table,
        "arrow-dictionary": dictionary,
    }


def test_every_reader_gives_the_same_profile(tmp_path: Path) -> None:
    profiles = {
        name: summary(Profile.build(source, chunk_rows=300))
        for name, source in sources(tmp_path).items()
    }
    expected = profiles.pop("mapping")
    assert expected["amount"][:4] == ("numeric", N, 40, N - 40)
    assert expected["plan"][:4] == ("categorical", N, 25, N - 25)
    assert sum(expected["plan"][6].values()) == N - 25
    for name, profile in profiles.items():
        assert profile == expected, name


def test_an_arrow_table_of_small_chunks_is_profiled_in_chunks_of_chunk_rows() -> None:
    """A table read by blocks holds many small chunks (of 7 rows here, with a dictionary of
    its own each): it is profiled in chunks of ``chunk_rows`` rows, as the same table in one
    chunk and the same columns as a mapping are (each small chunk was a chunk of the profile's
    own, and every sketch compacted once a chunk: 6 times slower on a CSV file's blocks)."""
    from modelops_core.monitoring.reader import iter_chunks

    data = columns()
    whole = pa.table(
        {
            "amount": pa.array(data["amount"], pa.float64()),
            "plan": pa.array(data["plan"], pa.string()).dictionary_encode(),
            "clicks": pa.array(data["clicks"], pa.int64()),
        }
    )
    pieces = pa.Table.from_batches(
        [
            pa.record_batch(
                [
                    pa.array(data["amount"][start : start + 7], pa.float64()),
                    pa.array(data["plan"][start : start + 7], pa.string()).dictionary_encode(),
                    pa.array(data["clicks"][start : start + 7], pa.int64()),
                ],
                names=["amount", "plan", "clicks"],
            )
            for start in range(0, N, 7)
        ]
    )
    assert pieces.column("plan").num_chunks == 143

    sizes = [len(chunk["amount"]) for chunk in iter_chunks(pieces, chunk_rows=300)]

    assert sizes == [300, 300, 300, 100]
    expected = summary(Profile.build(data, chunk_rows=300))
    assert summary(Profile.build(pieces, chunk_rows=300)) == expected
    assert summary(Profile.build(whole, chunk_rows=300)) == expected


def test_windows_of_every_reader_merge_with_a_reference(tmp_path: Path) -> None:
    reference = Profile.build(columns())
    for name, source in sources(tmp_path).items():
        window = Profile.build(source, reference=reference, chunk_rows=250)
        histogram = window.columns["amount"].histogram
        assert histogram is not None and sum(histogram.counts) == N - 40, name
        assert reference.merge(window).rows == 2 * N


def test_an_unreadable_parquet_file_is_a_named_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ProfileError, match=r"broken\.parquet: cannot read the Parquet file"):
        Profile.build(broken)


def test_a_csv_category_with_many_values_after_a_first_block_of_few(tmp_path: Path) -> None:
    """30,000 rows of three plans (dictionary-encoded from the first block), then 5,000
    distinct values and an empty cell: every value counted, as pandas counts them (Arrow's
    own inference failed the later block: "Dictionary length exceeded max cardinality")."""
    plans = [["free", "pro", "team"][i % 3] for i in range(30_000)]
    values = plans + [f"late{i}" for i in range(5_000)] + [""]
    path = tmp_path / "plans.csv"
    path.write_text("plan,n\n" + "".join(f"{v},{i}\n" for i, v in enumerate(values)))

    profile = Profile.build(path, cap=10_000)

    plan = profile.columns["plan"]
    expected = pd.read_csv(path)["plan"].value_counts().to_dict()
    assert (plan.kind, plan.count, plan.nulls) == ("categorical", 35_001, 1)
    assert dict(plan.frequent.counts) == expected
    assert (expected["free"], expected["late4999"], len(expected)) == (10_000, 1, 5_003)
    assert profile.columns["n"].count == 35_001


def _reading_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("modelops-read")]


def test_read_ahead_gives_the_items_in_order_and_raises_where_they_failed() -> None:
    from modelops_core.monitoring.reader import ReadAhead

    failure = ProfileError("line 11: broken")

    def items() -> Any:
        yield from range(10)
        raise failure

    seen: list[int] = []
    with pytest.raises(ProfileError) as raised:
        for item in ReadAhead(items(), limit=2, name="modelops-read-test"):
            seen.append(item)
    assert seen == list(range(10)) and raised.value is failure
    assert list(ReadAhead(iter(range(5)), limit=1, name="modelops-read-test")) == list(range(5))
    assert _reading_threads() == []


def test_closing_read_ahead_stops_its_thread_and_closes_the_items_on_it() -> None:
    """An endless source left after three items: close() returns once the thread has ended
    and the source's ``finally`` ran, on that thread (where Arrow's file is read)."""
    import itertools
    import threading

    from modelops_core.monitoring.reader import ReadAhead

    closed_on: list[str] = []

    def endless() -> Any:
        try:
            yield from itertools.count()
        finally:
            closed_on.append(threading.current_thread().name)

    ahead = ReadAhead(endless(), limit=2, name="modelops-read-endless")
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()
    assert closed_on == ["modelops-read-endless"] and _reading_threads() == []
    with pytest.raises(StopIteration):
        next(ahead)


def test_read_ahead_holds_at_most_its_limit() -> None:
    """Items of size 3 under a limit of 7: two wait, the thread holds the third until one is
    taken (memory stays bounded whatever the file's size); one larger than the limit still
    passes, alone."""
    import time

    from modelops_core.monitoring.reader import ReadAhead

    taken: list[int] = []

    def items() -> Any:
        for item in range(100):
            taken.append(item)
            yield item

    ahead = ReadAhead(items(), limit=7, name="modelops-read-test", size=lambda item: 3)
    deadline = time.monotonic() + 5
    while len(taken) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert len(taken) == 3
    assert next(ahead) == 0
    deadline = time.monotonic() + 5
    while len(taken) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert len(taken) == 4
    ahead.close()
    huge = ReadAhead(iter([1, 2]), limit=7, name="modelops-read-test", size=lambda item: 10)
    assert list(huge) == [1, 2] and _reading_threads() == []


def test_a_file_read_ahead_gives_the_profile_of_the_file(tmp_path: Path) -> None:
    """Profile.build(FileAhead(path)) is Profile.build(path), source included: a CSV file
    parsed ahead for its chunk size, read again for another size or a second profile; the
    other kinds read when used."""
    from modelops_core.monitoring.reader import FileAhead

    files = sources(tmp_path)
    for name in ("csv", "parquet", "jsonl"):
        path = files[name]
        expected = Profile.build(path, chunk_rows=300).to_dict()
        ahead = FileAhead(path, chunk_rows=300)
        assert Profile.build(ahead, chunk_rows=300, workers=1).to_dict() == expected, name
        assert Profile.build(ahead, chunk_rows=300, workers=1).to_dict() == expected, name
        other = FileAhead(path, chunk_rows=128)
        assert Profile.build(other, chunk_rows=300, workers=1).to_dict() == expected, name
        assert expected["source"] == str(path)
    # a word 40,000 rows into a numeric column: the blocks parsed ahead fail there, the
    # column is read again as text, every row counted once
    rows = [f"{i * 0.25},{'ab'[i % 2]}" for i in range(50_000)]
    rows[40_000] = "oops,a"
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("x,tag\n" + "\n".join(rows) + "\n")
    ahead = FileAhead(mixed, chunk_rows=7_000)
    profile = Profile.build(ahead, chunk_rows=7_000, workers=1)
    assert profile.to_dict() == Profile.build(mixed, chunk_rows=7_000).to_dict()
    assert (profile.columns["x"].invalid, profile.columns["x"].count) == (1, 50_000)
    assert _reading_threads() == []


def test_a_file_read_ahead_that_fails_is_a_named_error_and_leaves_no_thread(
    tmp_path: Path,
) -> None:
    from modelops_core.monitoring.reader import FileAhead

    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(50_000)) + "1,2,3\n")
    with pytest.raises(ProfileError, match=r"ragged\.csv"), FileAhead(path) as ahead:
        Profile.build(ahead, workers=1)
    unused = FileAhead(path)
    unused.close()
    assert _reading_threads() == []


def test_a_file_read_ahead_opens_and_infers_on_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FileAhead(path) returns before the file's types are inferred (the two parses of its
    first block, 5-10 ms a file that monitor drift waited for before its imports); the
    profile is the file's all the same."""
    import threading
    import time

    import pyarrow.csv as pcsv

    from modelops_core.monitoring.reader import FileAhead

    path = sources(tmp_path)["csv"]
    expected = Profile.build(path).to_dict()
    release = threading.Event()
    open_csv = pcsv.open_csv

    def slow_open_csv(*args: Any, **kwargs: Any) -> Any:
        release.wait(5)
        return open_csv(*args, **kwargs)

    monkeypatch.setattr(pcsv, "open_csv", slow_open_csv)
    started = time.perf_counter()
    ahead = FileAhead(path)
    waited = time.perf_counter() - started
    release.set()
    assert waited < 1, f"FileAhead waited {waited:.1f} s for the file's first block"
    assert Profile.build(ahead, workers=1).to_dict() == expected
    assert _reading_threads() == []


def test_a_file_read_ahead_whose_inference_fails_fails_as_a_file_read_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error opening the file or inferring its types, raised on the reading thread, is
    the one reading the file when its profile is built gives (named, no thread left)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from modelops_core.monitoring.reader import FileAhead

    path = sources(tmp_path)["csv"]

    def failing_open_csv(*args: Any, **kwargs: Any) -> Any:
        raise pa.ArrowInvalid("CSV parse error: the disk says no")

    monkeypatch.setattr(pcsv, "open_csv", failing_open_csv)
    with pytest.raises(ProfileError) as read_then:
        Profile.build(path, workers=1)
    with pytest.raises(ProfileError) as read_ahead:
        Profile.build(FileAhead(path), workers=1)
    assert str(read_ahead.value) == str(read_then.value)
    assert "the disk says no" in str(read_ahead.value) and path.name in str(read_ahead.value)
    assert _reading_threads() == []
