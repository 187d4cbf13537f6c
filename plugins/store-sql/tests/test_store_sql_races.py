"""A write that checks a version races a delete of it: the check and the write are one
transaction, so the delete commits wholly before or after them, on SQLite and PostgreSQL.

The delete is held open on a second connection (plain SQL, the statements ``delete_version``
runs) while the store's write starts in a thread; once the database shows that write waiting
for the deleter's lock, the delete commits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from modelops_store_sql.store import SqlStore
from store_sql_plain import PlainSql

from modelops_core.store.contract import ModelVersion, VersionNotFoundError
from modelops_core.testing import DEFAULT_POSTGRES_URL


def add(store: SqlStore, *versions: str) -> None:
    for version in versions:
        store.add_version(ModelVersion("m", version, None), version, actor="alice")


def begin_deleting(plain_sql: PlainSql, version: str) -> None:
    """Start deleting ``version`` of ``m`` as ``delete_version`` does, without committing: the
    model's row locked, the aliases and the row deleted, the audit entries written."""
    plain_sql.begin()
    lock = " FOR UPDATE" if plain_sql.dialect == "postgresql" else ""
    (model_id,) = plain_sql.execute(f"SELECT id FROM models WHERE name = 'm'{lock}")[0]
    plain_sql.execute("DELETE FROM aliases WHERE model_id = ? AND version = ?", (model_id, version))
    plain_sql.execute(
        "DELETE FROM versions WHERE model_id = ? AND version = ?", (model_id, version)
    )
    for action in ("register", "delete"):
        plain_sql.execute(
            "INSERT INTO audit_log (at, actor, action, model, version, details) "
            "VALUES (?, 'bob', ?, 'm', ?, '{}')",
            (time.time(), action, version),
        )


def race_with_the_delete(
    store: SqlStore, plain_sql: PlainSql, write: Callable[[], Any]
) -> BaseException | None:
    """Run ``write`` in a thread; commit the held delete once the write waits for its lock;
    return what ``write`` raised."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            write()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    waiting = _waiting_for_a_lock(store)
    thread = threading.Thread(target=run)
    thread.start()
    try:
        waiting()
    finally:
        plain_sql.commit()
        thread.join(timeout=30)
        if store.dialect == "sqlite":
            store._connection.set_trace_callback(None)  # type: ignore[union-attr]
    assert outcome, "the write did not finish"
    return outcome[0]


def _waiting_for_a_lock(store: SqlStore) -> Callable[[], None]:
    """A function returning once the store's connection waits for another's lock."""
    assert store._connection is not None
    if store.dialect == "sqlite":
        # SQLite traces BEGIN IMMEDIATE as it starts, before it waits for the write lock
        began = threading.Event()
        store._connection.set_trace_callback(
            lambda statement: began.set() if statement.startswith("BEGIN") else None
        )

        def wait_for_begin() -> None:
            assert began.wait(10), "the write never began its transaction"

        return wait_for_begin
    import psycopg

    pid = store._connection.info.backend_pid

    def wait_for_lock() -> None:
        with psycopg.connect(DEFAULT_POSTGRES_URL, autocommit=True) as observer:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                row = observer.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
                ).fetchone()
                if row is not None and row[0] == "Lock":
                    return
                time.sleep(0.005)
        raise AssertionError("the write never waited for the deleter's lock")

    return wait_for_lock


def test_an_alias_set_while_its_version_is_deleted_is_refused(
    store: SqlStore, plain_sql: PlainSql
) -> None:
    add(store, "1", "2")
    begin_deleting(plain_sql, "2")
    raised = race_with_the_delete(
        store, plain_sql, lambda: store.set_alias("m", "production", "2", actor="alice")
    )
    assert isinstance(raised, VersionNotFoundError)
    assert str(raised) == "Model 'm' has no version '2'. Known versions: 1."
    assert store.aliases("m") == {}  # no alias left pointing to the deleted version
    assert store.alias_history("m", "production") == []
    assert [(e.action, e.version) for e in store.audit("m")] == [
        ("delete", "2"), ("register", "2"), ("register", "1"),
    ]  # fmt: skip


def test_a_version_deleted_twice_at_once_is_deleted_and_audited_once(
    store: SqlStore, plain_sql: PlainSql
) -> None:
    add(store, "1", "2")
    begin_deleting(plain_sql, "2")
    raised = race_with_the_delete(
        store, plain_sql, lambda: store.delete_version("m", "2", actor="carol")
    )
    assert isinstance(raised, VersionNotFoundError)
    assert [(e.action, e.actor, e.version) for e in store.audit("m")] == [
        ("delete", "bob", "2"), ("register", "bob", "2"), ("register", "alice", "1"),
    ]  # fmt: skip


def test_an_archive_while_the_version_is_deleted_is_refused(
    store: SqlStore, plain_sql: PlainSql
) -> None:
    add(store, "1", "2")
    begin_deleting(plain_sql, "2")
    raised = race_with_the_delete(
        store, plain_sql, lambda: store.set_status("m", "2", "archived", actor="carol")
    )
    assert isinstance(raised, VersionNotFoundError)
    assert "status.archived" not in [e.action for e in store.audit("m")]


def test_a_missing_version_among_20000_names_the_count_and_the_nearest(
    store: SqlStore, plain_sql: PlainSql
) -> None:
    add(store, "1")
    (model_id,) = plain_sql.execute("SELECT id FROM models WHERE name = 'm'")[0]
    plain_sql.begin()  # one transaction: 20,000 rows in a fraction of a second
    plain_sql.executemany(
        "INSERT INTO versions (model_id, version, version_key, serializer, metadata, tags, "
        "lineage, status, created_at, created_by) "
        "VALUES (?, ?, ?, '', '{}', '{}', '{}', 'active', 1.0, 'alice')",
        [
            (model_id, f"{n}.{minor}", f"{n:09d}{minor:09d}" if minor else f"{n:09d}")
            for n in range(1, 10001)
            for minor in (0, 5)
            if (n, minor) not in {(1, 0), (10000, 5)}
        ]
        + [(model_id, "12345.0.1", f"{12345:09d}{0:09d}{1:09d}")],
    )
    plain_sql.commit()
    nearest = {
        "10000.5": "9999.0, 9999.5, 10000.0, 12345.0.1",  # the one missing in the middle
        "12345": "9999.0, 9999.5, 10000.0, 12345.0.1",  # 12345.0.1 sorts above it
        "v99999": "9999.5, 10000.0, 12345.0.1",  # above them all
        "latest": "9999.5, 10000.0, 12345.0.1",  # no version: the highest ones
    }
    for asked, expected in nearest.items():
        with pytest.raises(VersionNotFoundError) as caught:
            store.get_version("m", asked)
        assert str(caught.value) == (
            f"Model 'm' has no version {asked!r}. It has 20000 versions; the nearest: "
            f"{expected}. `modelops registry versions m` lists them all."
        )


MOVER_AND_DELETER = """
import json, random, sys
from modelops_store_sql.store import SqlStore
from modelops_core.store.contract import VersionNotFoundError

options, seed = json.loads(sys.argv[1]), int(sys.argv[2])
store = SqlStore(**options)
generator = random.Random(seed)
for _ in range(25):
    version = str(generator.randint(1, 30))
    try:
        if generator.random() < 0.7:
            store.set_alias("m", generator.choice(["production", "staging"]), version, actor="w")
        else:
            store.delete_version("m", version, actor="w")
    except VersionNotFoundError:
        pass
store.close()
"""


def test_processes_moving_aliases_and_deleting_leave_no_dangling_alias(store: SqlStore) -> None:
    import json
    import subprocess
    import sys

    add(store, *(str(number) for number in range(1, 31)))
    if store.dialect == "sqlite":
        options: dict[str, Any] = {"path": store.location}
    else:
        schema = store._query("SELECT current_schema()")[0][0]
        options = {"url": DEFAULT_POSTGRES_URL, "schema": schema}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", MOVER_AND_DELETER, json.dumps(options), str(seed)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(4)
    ]
    errors = [worker.communicate(timeout=60)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0, 0], errors
    remaining = set(store.list_version_names("m"))
    assert set(store.aliases("m").values()) <= remaining
    deleted = set(map(str, range(1, 31))) - remaining
    entries = store.audit("m", limit=10_000)
    deletes = sorted(e.version for e in entries if e.action == "delete")
    registrations = sorted(e.version for e in entries if e.action == "register")
    assert deletes == sorted(deleted)  # each deleted once, however many processes tried
    assert registrations == sorted(map(str, range(1, 31)))  # the deleted ones' copies kept
