"""Generations of an embedding index under crashes and concurrent processes.

A push writes generation N+1 next to N and switches to it in one SQLite transaction; N stays
on disk until no reader can see it. These tests stop real pushes at named points (the test hook
``MODELOPS_FEATURES_LOCAL_TEST_CRASH``) and race real reader processes against a writer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from generation_worker import MIN_ROWS, open_store, vectors
from modelops_featurestore_local.embeddings import CRASH_EXIT, CRASH_HOOK, IndexFilesMissingError

WORKER = str(Path(__file__).with_name("generation_worker.py"))


def run_worker(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_HOOK}
    if crash_at is not None:
        env[CRASH_HOOK] = crash_at
    return subprocess.run([sys.executable, WORKER, *args], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def generations(home: Path, index: str = "default") -> list[str]:
    folder = home / "features" / "embeddings" / index
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A store whose index holds v0..v59 (generation 1, with its HNSW graph)."""
    store = open_store(str(tmp_path))
    store.push_embeddings([f"v{i}" for i in range(60)], vectors(0, 60))
    store.backend.close()
    return tmp_path


def test_a_push_killed_before_its_commit_leaves_the_old_generation_answering(home: Path) -> None:
    done = run_worker("push", str(home), "60", "10", crash_at="published")
    assert done.returncode == CRASH_EXIT, done.stderr
    assert generations(home) == ["gen-1", "gen-2"]  # the new one written, not switched to
    store = open_store(str(home))
    assert [i.count for i in store.indexes()] == [60]
    assert store.nearest(vectors(7, 1)[0], k=1)[0].id == "v7"
    assert store.nearest(vectors(7, 1)[0], k=1, method="exact")[0].id == "v7"
    assert store.get_embeddings(["v65"]) == {}
    # A later push works, and leaves only its own generation.
    store.push_embeddings(["late"], vectors(500, 1))
    assert [i.count for i in store.indexes()] == [61]
    assert store.nearest(vectors(500, 1)[0], k=1)[0].id == "late"
    assert generations(home) == ["gen-2"]
    store.backend.close()


def test_a_push_killed_after_its_commit_is_complete(home: Path) -> None:
    done = run_worker("push", str(home), "60", "10", crash_at="committed")
    assert done.returncode == CRASH_EXIT, done.stderr
    store = open_store(str(home))
    assert [i.count for i in store.indexes()] == [70]
    assert store.nearest(vectors(65, 1)[0], k=1)[0].id == "v65"
    assert generations(home) == ["gen-1", "gen-2"]  # the old one was not deleted yet
    store.push_embeddings(["late"], vectors(500, 1))
    assert generations(home) == ["gen-3"]  # ... and goes with the next push
    store.backend.close()


def test_a_generation_stays_while_a_reader_can_see_it(home: Path) -> None:
    db = home / "features" / "features.db"
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT generation FROM vector_indexes").fetchone() == (1,)
    store = open_store(str(home))
    store.push_embeddings(["a"], vectors(500, 1))
    assert generations(home) == ["gen-1", "gen-2"]  # the reader may still open gen-1
    assert np.load(home / "features/embeddings/default/gen-1/vectors.npy").shape == (60, 16)
    reader.execute("COMMIT")
    store.push_embeddings(["b"], vectors(501, 1))
    assert generations(home) == ["gen-3"]
    reader.close()
    store.backend.close()


def test_readers_in_other_processes_never_miss_a_generation(home: Path) -> None:
    done = home / "writer-done"
    readers = [subprocess.Popen([sys.executable, WORKER, "reader", str(home), str(done)],
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    writer = run_worker("writer", str(home), "150", str(done))
    assert writer.returncode == 0, writer.stderr
    reports = [json.loads(r.communicate(timeout=60)[0]) for r in readers]
    assert [r["errors"] for r in reports] == [{}, {}]
    assert all(r["searches"] > 0 for r in reports), reports
    store = open_store(str(home))
    assert [i.count for i in store.indexes()] == [210]
    store.push_embeddings(["last"], vectors(500, 1))
    assert generations(home) == ["gen-152"]  # nothing left over once no reader is left
    store.backend.close()


def test_a_missing_generation_is_a_typed_error_saying_what_to_do(home: Path) -> None:
    folder = home / "features" / "embeddings" / "default" / "gen-1"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    store = open_store(str(home))
    with pytest.raises(IndexFilesMissingError, match=r"'default'.*gen-1.*vectors\.npy") as error:
        store.nearest(vectors(7, 1)[0], k=1)
    assert "DELETE FROM vector_indexes WHERE name = 'default'" in str(error.value)
    with pytest.raises(IndexFilesMissingError, match="gen-1"):
        store.push_embeddings(["x"], vectors(500, 1))
    assert MIN_ROWS < 60
    store.backend.close()
