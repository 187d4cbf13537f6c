"""A registration killed at any point leaves a consistent registry; schemas migrate forward.

The child process is a real ``python`` that registers a model with a pause patched in at one
point of the write path; the test waits until it reaches that point, SIGKILLs it, then checks
that every version row has its complete artifact and that the store still works. Every point
is tried on SQLite and on PostgreSQL (the server on 127.0.0.1:5432; skipped when it is down).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelops_core.config import ComponentChoice, Config
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_core.store.contract import ArtifactCorruptedError, ModelVersion
from modelops_core.testing import (
    fresh_postgres_schema,
    make_runtime,
    postgres_url_or_skip,
)

store_plugin = pytest.importorskip(
    "modelops_store_sql.plugin", reason="modelops-store-sql is not installed (core-only run)"
)
artifacts_plugin = pytest.importorskip(
    "modelops_artifacts_local.plugin",
    reason="modelops-artifacts-local is not installed (core-only run)",
)
PLUGINS = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]

# The child registers "victim" 2 with a 9 MiB file (above the 8 MiB read in one go: streamed
# through tmp/) on the backend given as JSON options; the third argument names the point where
# it stops to be killed.
CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from modelops_artifacts_local import plugin as artifacts_plugin, store as local_store
    from modelops_store_sql import plugin as store_plugin, store as sql_store
    from modelops_core.config import ComponentChoice, Config
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.testing import make_runtime

    home, source, point = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    options = json.loads(sys.argv[4])

    def pause():
        print("paused", flush=True)
        time.sleep(60)

    def pausing(function, before=True):
        def wrapper(*args, **kwargs):
            if before:
                pause()
            result = function(*args, **kwargs)
            if not before:
                pause()
            return result
        return wrapper

    if point == "artifact-half-written":  # half of the file's first chunk is written
        real_write_all = local_store._write_all
        def write_half(fd, data):
            real_write_all(fd, data[: len(data) // 2])
            pause()
        local_store._write_all = write_half
    elif point == "artifact-before-publish":
        # complete but not yet named: linked (an unnamed file) or renamed (a named one)
        local_store.os.link = pausing(os.link)
        local_store.os.replace = pausing(os.replace)
    elif point == "before-row":
        sql_store.SqlStore.add_version = pausing(sql_store.SqlStore.add_version)
    elif point == "inside-transaction":
        # Stop after the version row is written, before COMMIT. Registering a version of a
        # known model is one autocommitted statement (PostgreSQL: every registration); here it
        # runs inside BEGIN ... COMMIT, so the kill lands between the written rows and their
        # commit, the moment the guarantee is about.
        def execute_in_transaction(self, statement, params=()):
            self._connection.execute("BEGIN")
            result = self._connection.execute(self._sql(statement), params)
            if statement.startswith(("INSERT INTO versions", "WITH m AS")):
                pause()
            self._connection.execute("COMMIT")
            return result
        sql_store.SqlStore._execute_alone = execute_in_transaction
    elif point == "after-commit":
        sql_store.SqlStore.add_version = pausing(sql_store.SqlStore.add_version, before=False)

    plugins = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]
    config = Config(home=home, registry=ComponentChoice("sql", options))
    registry = ModelRegistry(make_runtime(home, plugins, config=config))
    registry.register_model("victim", source, "2")
    print("finished", flush=True)
    """
)

POINTS = [
    ("artifact-half-written", False),
    ("artifact-before-publish", False),
    ("before-row", False),
    ("inside-transaction", False),
    ("after-commit", True),
]


def new_runtime(home: Path, options: dict[str, Any] | None = None) -> Runtime:
    config = Config(home=home, registry=ComponentChoice("sql", options or {}))
    return make_runtime(home, PLUGINS, config=config)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_options(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The ``[registry]`` options of each backend: SQLite under home, or a fresh schema on
    the PostgreSQL server (dropped afterwards)."""
    if request.param == "sqlite":
        yield {}
        return
    url = postgres_url_or_skip()
    with fresh_postgres_schema(url, prefix="modelops_crash") as schema:
        yield {"url": url, "schema": schema}


def kill_at(point: str, home: Path, source: Path, tmp_path: Path, options: dict[str, Any]) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    kill_when_paused(
        [sys.executable, str(script), str(home), str(source), point, json.dumps(options)], point
    )


def kill_when_paused(command: list[str], where: str) -> None:
    """Run ``command``, SIGKILL it once it prints ``paused`` (it stopped at ``where``)."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "paused", f"the child did not reach {where}: {line} {child.stderr.read()}"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


MODEL_SIZE = 9 << 20


def assert_consistent(registry: ModelRegistry) -> None:
    """Every version row points to an artifact that is complete and verifies, and has its
    audit entry (written in the same transaction); no audit entry lacks its row."""
    for name in registry.list_models():
        versions = registry.list_versions(name)
        for version in versions:
            path = Path(registry.get_model(name, version))  # verifies the sha256
            record = registry.get_version(name, version)
            assert record.artifact is not None and path.stat().st_size == record.artifact.size
            assert f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}" == (
                record.artifact.digest
            )
        audited = [e.version for e in registry.audit(name) if e.action == "register"]
        assert sorted(audited) == sorted(versions)


def corrupt_every_blob(home: Path) -> None:
    """Change one byte in the middle of every stored blob, behind the store's back."""
    for blob in (home / "artifacts" / "blobs").rglob("*"):
        if blob.is_file():
            os.chmod(blob, 0o644)
            with blob.open("r+b") as handle:
                handle.seek(blob.stat().st_size // 2)
                byte = handle.read(1)
                handle.seek(-1, os.SEEK_CUR)
                handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.slow
@pytest.mark.parametrize(("point", "registered"), POINTS, ids=[p for p, _ in POINTS])
def test_a_registration_killed_midway_leaves_a_consistent_registry(
    point: str, registered: bool, backend_options: dict[str, Any], tmp_path: Path
) -> None:
    home = tmp_path / ".modelops"
    source = tmp_path / "model.bin"
    source.write_bytes(os.urandom(MODEL_SIZE))
    with ModelRegistry(new_runtime(home, backend_options)) as registry:
        registry.register("victim", "1", {"kept": True})
    kill_at(point, home, source, tmp_path, backend_options)
    with ModelRegistry(new_runtime(home, backend_options)) as registry:
        assert registry.list_versions("victim") == (["1", "2"] if registered else ["1"])
        assert_consistent(registry)
        # nothing left in tmp/: written unnamed (O_TMPFILE), or named, locked and removed
        # when the store was opened again
        assert not list((home / "artifacts" / "tmp").iterdir())
        blobs = home / "artifacts" / "blobs"
        for blob in blobs.rglob("*"):  # nothing incomplete was published as a blob
            if blob.is_file():
                assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
        # the database is not left locked: the same registration now succeeds
        version = "3" if registered else "2"
        registry.register_model("victim", str(source), version)
        assert Path(registry.get_model("victim", version)).stat().st_size == MODEL_SIZE
        # every read hashes the stored content again, checked out before or not
        corrupt_every_blob(home)
        for stored in registry.list_versions("victim"):
            with pytest.raises(ArtifactCorruptedError, match="is corrupted"):
                registry.get_model("victim", stored)
        with pytest.raises(ArtifactCorruptedError, match="is corrupted"):
            registry.load("victim", "1")


# --- schema versions ---------------------------------------------------------------------------


def build_version_1_database(path: Path) -> None:
    """A database as modelops-store-sql 0.1 (schema version 1) left it, with one tagged run."""
    from modelops_store_sql.schema import MIGRATIONS

    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE modelops_schema (version INTEGER NOT NULL)")
        for statement in MIGRATIONS[1]:
            assert isinstance(statement, str)
            connection.execute(statement.replace("{pk}", "INTEGER PRIMARY KEY"))
        connection.execute("INSERT INTO modelops_schema (version) VALUES (1)")
        connection.execute(
            "INSERT INTO runs (run_id, experiment, status, started_at, tags, environment) "
            "VALUES ('old-run', 'fine-tuning', 'finished', 1.0, ?, '{}')",
            (json.dumps({"job.id": "ft-1", "job.status": "succeeded"}),),
        )


def test_an_old_schema_is_migrated_forward_on_open(tmp_path: Path) -> None:
    from modelops_store_sql.schema import LATEST
    from modelops_store_sql.store import SqlStore

    database = tmp_path / "modelops.db"
    build_version_1_database(database)
    store = SqlStore(path=str(database))
    try:
        found = store.find_runs("fine-tuning", {"job.id": "ft-1"})
        assert [run.run_id for run in found] == ["old-run"]
    finally:
        store.close()
    with sqlite3.connect(database) as connection:
        versions = [row[0] for row in connection.execute("SELECT version FROM modelops_schema")]
    assert versions == list(range(1, LATEST + 1))


def test_a_database_from_a_newer_modelops_is_refused(tmp_path: Path) -> None:
    from modelops_core.store.contract import SchemaVersionError

    home = tmp_path / ".modelops"
    with ModelRegistry(new_runtime(home)) as registry:
        registry.register("m", "1", {})
    with sqlite3.connect(home / "modelops.db") as connection:
        connection.execute("INSERT INTO modelops_schema (version) VALUES (999)")
    with (
        ModelRegistry(new_runtime(home)) as registry,
        pytest.raises(SchemaVersionError, match="schema version 999.*pip install -U"),
    ):
        registry.list_models()


# --- deleting a version ------------------------------------------------------------------------

# The child deletes "m" 2 on the backend given as JSON options and stops inside the delete's
# transaction, after the version row and its aliases are gone and the registration's entry is
# copied into audit_log, before the "delete" entry and the commit.
DELETING_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from modelops_artifacts_local import plugin as artifacts_plugin
    from modelops_store_sql import plugin as store_plugin, store as sql_store
    from modelops_core.config import ComponentChoice, Config
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.testing import make_runtime

    home, options = Path(sys.argv[1]), json.loads(sys.argv[2])

    def pause_before(*args, **kwargs):
        print("paused", flush=True)
        time.sleep(60)

    sql_store.SqlStore._audit = pause_before  # the delete's last statement
    plugins = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]
    config = Config(home=home, registry=ComponentChoice("sql", options))
    ModelRegistry(make_runtime(home, plugins, config=config), actor="mallory").delete("m", "2")
    """
)


def register_two_versions(home: Path, options: dict[str, Any]) -> ModelVersion:
    """``m`` 1 and 2 registered by alice, ``production`` on 2; returns version 2."""
    with ModelRegistry(new_runtime(home, options), actor="alice") as registry:
        registry.register("m", "1", {"w": 1})
        second = registry.register("m", "2", {"w": 2})
        registry.set_alias("m", "production", "2")
    return second


def test_a_deleted_version_keeps_its_registration_in_the_audit_log(
    backend_options: dict[str, Any], tmp_path: Path
) -> None:
    home = tmp_path / ".modelops"
    second = register_two_versions(home, backend_options)
    assert second.artifact is not None
    digest = second.artifact.digest
    with ModelRegistry(new_runtime(home, backend_options), actor="bob") as registry:
        registry.delete("m", "2")
        entries = registry.audit("m")
    assert [(e.action, e.actor, e.version, dict(e.details)) for e in entries] == [
        ("delete", "bob", "2", {"artifact": digest}),
        ("alias.set", "alice", "2", {"alias": "production", "previous": None}),
        ("register", "alice", "2", {"artifact": digest}),  # the version row's entry, kept
        ("register", "alice", "1", {"artifact": entries[-1].details["artifact"]}),
    ]
    assert entries[2].at == second.created_at  # copied as it was, not re-dated


def test_a_delete_killed_midway_loses_neither_the_version_nor_its_audit_entry(
    backend_options: dict[str, Any], tmp_path: Path
) -> None:
    home = tmp_path / ".modelops"
    register_two_versions(home, backend_options)
    script = tmp_path / "delete.py"
    script.write_text(DELETING_CHILD)
    kill_when_paused(
        [sys.executable, str(script), str(home), json.dumps(backend_options)], "the delete"
    )
    with ModelRegistry(new_runtime(home, backend_options), actor="bob") as registry:
        assert registry.list_versions("m") == ["1", "2"]
        assert registry.aliases("m") == {"production": "2"}
        assert [(e.action, e.actor, e.version) for e in registry.audit("m")] == [
            ("alias.set", "alice", "2"), ("register", "alice", "2"), ("register", "alice", "1"),
        ]  # fmt: skip
        registry.delete("m", "2")  # not left locked: the delete now completes
        assert [(e.action, e.actor, e.version) for e in registry.audit("m")] == [
            ("delete", "bob", "2"), ("alias.set", "alice", "2"), ("register", "alice", "2"),
            ("register", "alice", "1"),
        ]  # fmt: skip
