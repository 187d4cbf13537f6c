"""A file read ahead (``FileAhead``, both files of ``monitor drift``) is also regrouped into
the profile's chunks on its reading thread, which has time to spare once the file is parsed,
not on the caller's: the same chunks, in the same order, as a file read when used."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelops_core import Profile

pytest.importorskip("pyarrow", reason="pyarrow is not installed (core-only run)")


def write_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(7)
    values = rng.normal(0, 1, rows).round(4)
    counts = rng.integers(0, 50, rows)
    plans = rng.choice(["free", "pro", "team"], rows)
    lines = [f"{v},{c},{p}" for v, c, p in zip(values, counts, plans, strict=True)]
    lines[17] = ",3,"  # a null number and a null category
    lines[5_000] = "inf,4,pro"
    lines[9_000] = "-inf,5,free"
    lines[12_000] = "-0.0,6,team"
    path.write_text("score,count,plan\n" + "\n".join(lines) + "\n")
    return path


def chunks_and_threads(
    data: Any, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, list[Any]]], set[str]]:
    from modelops_core.monitoring import reader

    threads: set[str] = set()
    arrow_columns = reader._arrow_columns

    def recorded(*args: Any) -> Any:
        threads.add(threading.current_thread().name)
        return arrow_columns(*args)

    with monkeypatch.context() as patch:
        patch.setattr(reader, "_arrow_columns", recorded)
        chunks = [
            {name: _plain(values) for name, values in chunk.items()}
            for chunk in reader.iter_chunks(data, chunk_rows)
        ]
    return chunks, threads


def _plain(values: Any) -> list[Any]:
    if isinstance(values, np.ndarray):
        return [("nan" if v != v else v) for v in values.tolist()]
    return [str(v) for v in values.to_pylist()]


def test_a_file_read_ahead_is_chunked_on_its_reading_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelops_core.monitoring.reader import FileAhead

    path = write_csv(tmp_path / "data.csv", 25_000)
    expected, read_threads = chunks_and_threads(path, 4_096, monkeypatch)
    with FileAhead(path, chunk_rows=4_096) as ahead:
        chunks, ahead_threads = chunks_and_threads(ahead, 4_096, monkeypatch)
    assert [len(chunk["score"]) for chunk in chunks] == [4_096] * 6 + [424]
    assert chunks == expected
    assert read_threads == {"MainThread"}
    assert ahead_threads == {"modelops-read-csv"}


def test_a_profile_of_a_file_read_ahead_is_the_profile_of_the_file(tmp_path: Path) -> None:
    from modelops_core.monitoring.reader import FileAhead

    path = write_csv(tmp_path / "data.csv", 25_000)
    expected = Profile.build(path, chunk_rows=4_096, workers=1)
    with FileAhead(path, chunk_rows=4_096) as ahead:
        profile = Profile.build(ahead, chunk_rows=4_096, workers=1)
    assert profile.to_dict() == expected.to_dict()
    score = profile.columns["score"]
    assert (score.nulls, score.infinite, profile.columns["plan"].nulls) == (1, 2, 1)


def test_a_read_ahead_stopped_early_leaves_no_thread(tmp_path: Path) -> None:
    from modelops_core.monitoring.reader import FileAhead

    path = write_csv(tmp_path / "data.csv", 25_000)
    with FileAhead(path, chunk_rows=1_000) as ahead:
        chunks = ahead.chunks(1_000)
        first = next(chunks)
        chunks.close()
    assert len(first["score"]) == 1_000
    names = [t.name for t in threading.enumerate() if t.name.startswith("modelops-read")]
    assert names == []
