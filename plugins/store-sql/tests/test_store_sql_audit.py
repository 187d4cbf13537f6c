"""The audit log: a version row is the entry of its registration, the rest is in audit_log,
listed together newest first; databases of schema version 3 are migrated without doubles."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from modelops_store_sql.schema import MIGRATIONS
from modelops_store_sql.store import SqlStore

from modelops_core.registry.versions import parse_version
from modelops_core.store.contract import ArtifactRef, ModelVersion


def add(store: SqlStore, name: str, version: str, actor: str = "ci") -> ModelVersion:
    artifact = ArtifactRef(f"sha256:{version.replace('.', '') * 8}", "file", 1, "m.bin")
    record = ModelVersion(name, version, artifact)
    return store.add_version(record, parse_version(version).key, actor=actor)


def actions(store: SqlStore, name: str | None = None, limit: int = 100) -> list[tuple[Any, ...]]:
    return [(e.action, e.name, e.version, e.actor) for e in store.audit(name, limit)]


def test_registrations_and_changes_are_listed_newest_first(store: SqlStore) -> None:
    add(store, "churn", "1", actor="alice")
    add(store, "fraud", "1", actor="bob")
    store.set_alias("churn", "production", "1", actor="carol")
    add(store, "churn", "2", actor="alice")
    assert actions(store, "churn") == [
        ("register", "churn", "2", "alice"),
        ("alias.set", "churn", "1", "carol"),
        ("register", "churn", "1", "alice"),
    ]
    assert actions(store, limit=3) == [
        ("register", "churn", "2", "alice"),
        ("alias.set", "churn", "1", "carol"),
        ("register", "fraud", "1", "bob"),
    ]
    entry = store.audit("churn", 1)[0]
    assert entry.details == {"artifact": "sha256:" + "2" * 8}
    assert entry.at == store.get_version("churn", "2").created_at


def test_a_deleted_version_keeps_its_registration_in_the_log(store: SqlStore) -> None:
    registered = add(store, "churn", "1", actor="alice")
    store.delete_version("churn", "1", actor="bob")
    add(store, "churn", "1", actor="carol")  # the same version text, registered again
    entries = store.audit("churn")
    assert [(e.action, e.actor) for e in entries] == [
        ("register", "carol"), ("delete", "bob"), ("register", "alice"),
    ]  # fmt: skip
    assert entries[-1].at == registered.created_at  # kept as it was, not re-dated
    assert entries[-1].details == {"artifact": registered.artifact and registered.artifact.digest}


def test_a_registration_writes_no_row_to_audit_log(tmp_path: Path) -> None:
    store = SqlStore(home=str(tmp_path))
    try:
        for version in ("1", "2", "3"):
            add(store, "churn", version)
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "modelops.db") as connection:
        assert connection.execute("SELECT COUNT(*) FROM audit_log").fetchone() == (0,)


def build_version_3_database(path: Path) -> None:
    """A database as modelops-store-sql left it at schema version 3: an audit_log row for
    each registration, including one of a version deleted since."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE modelops_schema (version INTEGER NOT NULL)")

        def execute(statement: str, params: Any = ()) -> Any:
            return connection.execute(statement.replace("{pk}", "INTEGER PRIMARY KEY"), params)

        for schema_version in (1, 2, 3):
            for step in MIGRATIONS[schema_version]:
                execute(step) if isinstance(step, str) else step(execute)
            execute("INSERT INTO modelops_schema VALUES (?)", (schema_version,))
        execute("INSERT INTO models (name, created_at, created_by) VALUES ('m', 10, 'ann')")
        for version, at in (("1", 10.0), ("2", 30.0)):
            execute(
                "INSERT INTO versions (model_id, version, version_key, artifact_digest, "
                "serializer, metadata, tags, lineage, status, created_at, created_by) "
                "VALUES (1, ?, ?, 'sha256:ab', '', '{}', '{}', '{}', 'active', ?, 'ann')",
                (version, parse_version(version).sort_key, at),
            )
        log = [
            (10.0, "ann", "register", "1", '{"artifact":"sha256:ab"}'),
            (15.0, "ann", "register", "9", '{"artifact":"sha256:cd"}'),  # deleted since
            (20.0, "bo", "delete", "9", '{"artifact":"sha256:cd"}'),
            (30.0, "ann", "register", "2", '{"artifact":"sha256:ab"}'),
            (40.0, "cy", "alias.set", "2", '{"alias":"production","previous":null}'),
        ]
        for at, actor, action, version, details in log:
            execute(
                "INSERT INTO audit_log (at, actor, action, model, version, details) "
                "VALUES (?, ?, ?, 'm', ?, ?)",
                (at, actor, action, version, details),
            )


def test_a_version_3_database_keeps_every_entry_once(tmp_path: Path) -> None:
    database = tmp_path / "modelops.db"
    build_version_3_database(database)
    store = SqlStore(path=str(database))
    try:
        assert [(e.at, e.action, e.version) for e in store.audit("m")] == [
            (40.0, "alias.set", "2"),
            (30.0, "register", "2"),
            (20.0, "delete", "9"),
            (15.0, "register", "9"),
            (10.0, "register", "1"),
        ]
    finally:
        store.close()
    with sqlite3.connect(database) as connection:
        kept = connection.execute("SELECT version FROM audit_log WHERE action = 'register'")
        assert [row[0] for row in kept] == ["9"]  # the others live in their version rows
