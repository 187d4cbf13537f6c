"""Bad situations give clear errors: locked database, newer schema, unreachable server."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from modelops_store_sql.store import DatabaseDamagedError, SqlStore

from modelops_core.config import mask_url
from modelops_core.store.contract import (
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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # libpq would end the userinfo at the first '@' and print the host 'ss@127.0.0.1'
        ("postgresql://alice:p@ss@127.0.0.1:1/db", "postgresql://alice:***@127.0.0.1:1/db"),
        ("postgresql://alice:p@ss:w0rd@127.0.0.1:1/db", "postgresql://alice:***@127.0.0.1:1/db"),
        (
            "postgresql://alice@127.0.0.1:1/db?sslmode=disable&password=p@ss",
            "postgresql://alice@127.0.0.1:1/db?sslmode=disable&password=***",
        ),
        (
            "postgresql://alice@127.0.0.1:1/db?password=p@ss&bogus=1",  # libpq refuses 'bogus'
            "postgresql://alice@127.0.0.1:1/db?password=***&bogus=1",
        ),
    ],
)
def test_no_piece_of_a_password_reaches_a_connection_error(url: str, shown: str) -> None:
    with pytest.raises(StoreConnectionError) as caught:
        SqlStore(url=url, connect_timeout=1)
    message = str(caught.value)
    assert f"Cannot connect to PostgreSQL at {shown!r}" in message
    driver_error = str(caught.value.__context__)  # hidden (from None), and clean all the same
    for piece in ("p@ss", "ss@", "'ss", "w0rd"):
        assert piece not in message and piece not in driver_error
    assert caught.value.__suppress_context__


def test_a_password_with_at_signs_connects_and_stays_masked() -> None:
    from modelops_core.testing import fresh_postgres_schema, postgres_url_or_skip

    postgres_url_or_skip()
    # trust authentication accepts any password; libpq must get the right host and user
    url = "postgresql://postgres:p@ss:w0rd@127.0.0.1:5432/test?application_name=modelops"
    with fresh_postgres_schema(prefix="modelops_masked") as schema:
        store = SqlStore(url=url, schema=schema)
        try:
            store.add_version(ModelVersion("m", "1", None), "1", actor="t")
            masked = "postgresql://postgres:***@127.0.0.1:5432/test?application_name=modelops"
            assert store.location == masked
            assert repr(store) == f"SqlStore(postgresql: {masked!r})"
        finally:
            store.close()


def test_an_empty_database_file_is_refused_as_damaged(tmp_path: Path) -> None:
    database = tmp_path / "modelops.db"
    database.touch()
    with pytest.raises(DatabaseDamagedError) as caught:
        SqlStore(path=str(database))
    assert str(caught.value) == (
        f"The SQLite database {str(database)!r} is damaged (it is empty (0 bytes)); modelops "
        "did not change it. Restore it from a backup, or copy out what SQLite can still read "
        f'with `sqlite3 {str(database)!r} ".recover" | sqlite3 recovered.db` and point '
        "[registry] path at the result. If the file should not hold a registry, move it away: "
        "a new one is created in its place."
    )
    assert database.stat().st_size == 0  # left as found


def damage_pages(database: Path) -> None:
    """Overwrite the start of every page after the first three (the header stays valid)."""
    data = bytearray(database.read_bytes())
    for offset in range(4096 * 3, len(data), 4096):
        data[offset : offset + 100] = b"\xff" * 100
    database.write_bytes(bytes(data))


def fill(store: SqlStore, count: int) -> None:
    for index in range(count):
        store.add_version(ModelVersion("m", str(index + 1), None), str(index + 1), actor="t")


@pytest.mark.parametrize("damage", ["pages", "not-a-database"])
def test_a_damaged_database_says_so_and_how_to_recover(tmp_path: Path, damage: str) -> None:
    database = tmp_path / "modelops.db"
    store = SqlStore(path=str(database))
    fill(store, 300)
    store.close()
    if damage == "pages":
        damage_pages(database)
    else:
        database.write_bytes(b"not a database at all " * 500)
    before = database.read_bytes()
    with pytest.raises(DatabaseDamagedError) as caught:
        SqlStore(path=str(database)).list_versions("m")
    message = str(caught.value)
    assert message.startswith(f"The SQLite database {str(database)!r} is damaged (SQLite says: ")
    assert f'`sqlite3 {str(database)!r} ".recover"' in message and "backup" in message
    assert "writable" not in message and "permission" not in message
    assert database.read_bytes() == before


def test_a_database_damaged_while_open_is_named_on_the_next_read(tmp_path: Path) -> None:
    database = tmp_path / "modelops.db"
    store = SqlStore(path=str(database))
    fill(store, 300)
    store.close()
    store = SqlStore(path=str(database))  # has read the schema, not the versions
    damage_pages(database)
    try:
        with pytest.raises(DatabaseDamagedError, match=r"modelops\.db.*is damaged.*\.recover"):
            store.list_versions("m")
        with pytest.raises(DatabaseDamagedError, match=r"modelops\.db.*is damaged"):
            fill(store, 1)
    finally:
        store.close()


OPEN_AND_REGISTER = """
import sys
from modelops_store_sql.store import SqlStore
from modelops_core.store.contract import ModelVersion
store = SqlStore(path=sys.argv[1])
store.add_version(ModelVersion("m", sys.argv[2], None), sys.argv[2], actor="t")
store.close()
"""


def test_processes_creating_one_database_at_once_never_see_it_empty(tmp_path: Path) -> None:
    """A new database appears with its header written, so a process opening it at the same
    moment as its creator never takes it for an emptied (damaged) one."""
    for attempt in range(3):
        database = tmp_path / f"new-{attempt}" / "modelops.db"
        children = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AND_REGISTER, str(database), str(index + 1)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for index in range(4)
        ]
        errors = [child.communicate(timeout=60)[1] for child in children]
        assert [child.returncode for child in children] == [0, 0, 0, 0], errors
        store = SqlStore(path=str(database))
        assert sorted(store.list_version_names("m")) == ["1", "2", "3", "4"]
        store.close()
        assert sorted(os.listdir(database.parent)) == [
            "modelops.db",
            "modelops.db-shm",
            "modelops.db-wal",
            "modelops.db.writer-lock",
        ] or sorted(os.listdir(database.parent)) == ["modelops.db", "modelops.db.writer-lock"]


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
