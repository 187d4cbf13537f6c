"""Bad situations give clear errors: locked database, newer schema, unreachable server."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from modelops_store_sql.store import SqlStore, mask_url

from modelops_core.storage import (
    ModelVersion,
    SchemaVersionError,
    StoreConnectionError,
    StoreLockedError,
)


def test_the_default_database_is_sqlite_in_wal_mode_under_home(tmp_path: Path) -> None:
    store = SqlStore(home=str(tmp_path / ".modelops"))
    assert store.dialect == "sqlite"
    assert (tmp_path / ".modelops" / "modelops.db").is_file()
    with sqlite3.connect(tmp_path / ".modelops" / "modelops.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_a_locked_database_is_retried_then_named(tmp_path: Path) -> None:
    store = SqlStore(home=str(tmp_path), busy_timeout=0.05, retries=2)
    blocker = sqlite3.connect(tmp_path / "modelops.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    started = time.perf_counter()
    try:
        with pytest.raises(StoreLockedError, match=r"modelops\.db.*stayed locked.*3 attempts"):
            store.add_version(ModelVersion("m", "1", None), "1", actor="t")
    finally:
        blocker.execute("ROLLBACK")
    assert time.perf_counter() - started < 2
    store.add_version(ModelVersion("m", "1", None), "1", actor="t")  # works once released
    store.close()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    SqlStore(home=str(tmp_path)).close()
    with sqlite3.connect(tmp_path / "modelops.db") as connection:
        connection.execute("INSERT INTO modelops_schema (version) VALUES (99)")
    with pytest.raises(SchemaVersionError, match="schema version 99.*pip install -U"):
        SqlStore(home=str(tmp_path))


def test_an_unreachable_server_is_named_with_the_password_masked() -> None:
    url = "postgresql://alice:s3cret@127.0.0.1:1/db"
    with pytest.raises(StoreConnectionError) as caught:
        SqlStore(url=url, connect_timeout=1)
    message = str(caught.value)
    assert "s3cret" not in message
    assert "postgresql://alice:***@127.0.0.1:1/db" in message and "[registry]" in message


def test_an_unsupported_url_says_which_ones_work() -> None:
    with pytest.raises(StoreConnectionError, match="postgresql://"):
        SqlStore(url="mysql://x/y")


def test_mask_url_leaves_urls_without_password_alone() -> None:
    assert mask_url("postgresql://postgres@h/db") == "postgresql://postgres@h/db"


def test_a_sqlite_url_names_the_file(tmp_path: Path) -> None:
    store = SqlStore(url=f"sqlite:///{tmp_path / 'x.db'}")
    assert (tmp_path / "x.db").is_file()
    store.close()


def test_runs_are_found_by_tag_through_the_index(tmp_path: Path) -> None:
    store = SqlStore(home=str(tmp_path))
    for index in range(50):
        store.create_run("fine-tuning", tags={"job.id": f"ft-{index}"}, environment={})
    assert [r.tags["job.id"] for r in store.find_runs("fine-tuning", {"job.id": "ft-7"})] == [
        "ft-7"
    ]
    assert store._connection is not None
    plan = store._connection.execute(
        "EXPLAIN QUERY PLAN SELECT r.run_id FROM runs r JOIN run_tags t0 ON "
        "t0.run_id = r.run_id AND t0.key = ? AND t0.value = ?",
        ("job.id", '"ft-7"'),
    ).fetchall()
    assert any("run_tags_by_value" in str(row) for row in plan), plan
    store.close()
