"""The SqlStore's write machinery, value by value (issue 18: each test kills mutants of
database.py, tracking.py and registry.py the contract and error tests let live). SQLite and
PostgreSQL where both apply (the ``store`` fixture), hostile states made with plain SQL."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

import pytest
from modelops_store_sql.store import SqlStore
from store_sql_plain import PlainSql

from modelops_core.registry.versions import parse_version
from modelops_core.store.contract import MetricPoint, ModelVersion, StoreLockedError


def add(store: SqlStore, name: str, version: str) -> ModelVersion:
    return store.add_version(ModelVersion(name, version, None), parse_version(version).key,
                             actor="t")  # fmt: skip


def refuse_audit_entries(plain_sql: PlainSql) -> None:
    """A trigger that makes every INSERT into audit_log fail: the last statement of a write."""
    if plain_sql.dialect == "sqlite":
        plain_sql.execute(
            "CREATE TRIGGER audit_full BEFORE INSERT ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is full'); END"
        )
        return
    plain_sql.execute(
        "CREATE FUNCTION audit_full() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'the audit log is full'; END $$ LANGUAGE plpgsql"
    )
    plain_sql.execute(
        "CREATE TRIGGER audit_full BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_full()"
    )


def test_a_write_whose_last_statement_fails_changes_nothing(store: SqlStore, plain_sql):
    add(store, "m", "1")
    add(store, "m", "2")
    store.set_alias("m", "production", "1", actor="t")
    history = store.alias_history("m", "production")
    refuse_audit_entries(plain_sql)
    # (the database's own error comes through: sqlite3.IntegrityError as DuplicateRow,
    # psycopg's RaiseException as it is)
    with pytest.raises(Exception, match="the audit log is full"):
        store.set_alias("m", "production", "2", actor="t")
    # the alias, its history and the audit log are as before: one transaction, rolled back
    assert store.get_alias("m", "production") == "1"
    assert store.alias_history("m", "production") == history
    with pytest.raises(Exception, match="the audit log is full"):
        store.delete_version("m", "2", actor="t")
    assert [v.version for v in store.list_versions("m")] == ["1", "2"]


def test_a_locked_sqlite_database_is_retried_five_times_by_default(tmp_path: Path):
    store = SqlStore(home=str(tmp_path), busy_timeout=0.02)
    add(store, "m", "1")
    holder = sqlite3.connect(store.location, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        with pytest.raises(StoreLockedError, match=r"after 6 attempts\. Retry when"):
            add(store, "m", "2")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.retries == 5
    add(store, "m", "2")
    store.close()


def test_a_writer_waits_for_the_writer_lock_of_another_modelops_process(tmp_path: Path):
    store = SqlStore(home=str(tmp_path), busy_timeout=0.05, retries=0)
    add(store, "m", "1")
    lock = os.open(f"{store.location}.writer-lock", os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)  # as another modelops writer does while it writes
    try:
        with pytest.raises(StoreLockedError, match=r"another modelops writer held it for 0.05 s"):
            add(store, "m", "2")
    finally:
        os.close(lock)
    assert [v.version for v in store.list_versions("m")] == ["1"]
    store.close()


def test_delete_version_returns_the_deleted_record(store: SqlStore):
    add(store, "m", "1")
    removed = store.delete_version("m", "1", actor="t")
    assert (removed.name, removed.version, removed.artifact) == ("m", "1", None)


def test_metric_points_come_back_as_logged(store: SqlStore):
    run = store.create_run("exp", tags={"team": "risk"}, environment={"python": "3.11"})
    store.log_metrics(run.run_id, [MetricPoint("loss", 0.5, 1, 10.0),
                                   MetricPoint("acc", 0.9, 2, 11.0),
                                   MetricPoint("loss", 0.25, 2, 12.0)])  # fmt: skip
    assert store.get_metrics(run.run_id) == [
        MetricPoint("acc", 0.9, 2, 11.0),
        MetricPoint("loss", 0.5, 1, 10.0),
        MetricPoint("loss", 0.25, 2, 12.0),
    ]
    assert store.get_metrics(run.run_id, "loss")[1] == MetricPoint("loss", 0.25, 2, 12.0)
    record = store.get_run(run.run_id)
    assert (record.tags, record.environment) == ({"team": "risk"}, {"python": "3.11"})


def test_the_newest_hundred_runs_are_listed_by_default(store: SqlStore):
    created = [store.create_run("exp", tags={}, environment={}).run_id for _ in range(101)]
    listed = store.list_runs()
    assert len(listed) == 100
    assert created[0] not in {run.run_id for run in listed}
    assert len(store.list_runs("exp", limit=3)) == 3


def test_a_new_sqlite_file_gets_its_header_without_a_journal_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header is written in a private file with the journal in memory: an on-disk rollback
    journal cost three syncs of a new store and protected nothing, the file being linked into
    place only once complete. A folder where that journal would go proves none is made."""
    from modelops_store_sql import connect

    monkeypatch.setattr(connect.os, "urandom", lambda size: b"\x01" * size)
    path = tmp_path / "modelops.db"
    journal = tmp_path / f".modelops.db.{os.getpid()}-01010101.new-journal"
    journal.mkdir()  # SQLite cannot open a journal here
    connect.create_sqlite(path)
    journal.rmdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["modelops.db"]  # private name gone
    assert path.stat().st_size == 4096  # one page: the header, written and synced
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = SqlStore(home=str(tmp_path))  # opens the created file as a new database
    add(store, "m", "1")
    assert store.get_version("m", "1").version == "1"
    store.close()
