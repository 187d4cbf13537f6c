"""The registry backend (``SqlRegistry``) and the tracking backend (``SqlTracking``) are two
classes over one database: each offers only its own protocol, both use one schema migrated
once, a registration links a run the other one started, and ``SqlStore`` (the ``sql``
component) runs both on one connection, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from modelops_store_sql.registry import SqlRegistry
from modelops_store_sql.schema import LATEST
from modelops_store_sql.store import DatabaseDamagedError, SqlStore
from modelops_store_sql.tracking import SqlTracking
from store_sql_plain import PlainSql

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.store.contract import (
    ModelVersion,
    RegistryBackend,
    ReleaseIndex,
    StorageError,
    StoreLockedError,
    TrackingBackend,
)
from modelops_core.testing import (
    DEFAULT_POSTGRES_URL,
    RegistryBackendContract,
    fresh_postgres_schema,
    make_runtime,
    postgres_url_or_skip,
)
from modelops_core.tracking.tracker import ExperimentTracker


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The options of a new database: a SQLite file under ``tmp_path``, or a fresh schema on
    the PostgreSQL server (dropped afterwards; skipped when the server is down)."""
    if request.param == "sqlite":
        yield {"path": str(tmp_path / "modelops.db")}
        return
    postgres_url_or_skip()
    with fresh_postgres_schema(DEFAULT_POSTGRES_URL, prefix="modelops_split") as schema:
        yield {"url": DEFAULT_POSTGRES_URL, "schema": schema}


def schema_versions(backend: SqlRegistry | SqlTracking) -> list[int]:
    """The rows of ``modelops_schema``, read with plain SQL: one per migration applied."""
    plain = PlainSql(backend)  # type: ignore[arg-type]
    try:
        return [row[0] for row in plain.execute("SELECT version FROM modelops_schema ORDER BY 1")]
    finally:
        plain.connection.close()


def test_each_backend_offers_its_own_protocol_only(database: dict[str, Any]) -> None:
    with closing(SqlRegistry(**database)) as registry, closing(SqlTracking(**database)) as runs:
        assert isinstance(registry, RegistryBackend) and isinstance(registry, ReleaseIndex)
        assert not isinstance(registry, TrackingBackend)
        assert isinstance(runs, TrackingBackend)
        assert not isinstance(runs, RegistryBackend) and not isinstance(runs, ReleaseIndex)
    with closing(SqlStore(**database)) as store:  # the sql component: both
        assert isinstance(store, RegistryBackend) and isinstance(store, TrackingBackend)


def test_opened_apart_they_share_one_schema_migrated_once(
    database: dict[str, Any], tmp_path: Path
) -> None:
    # the tracking backend opens the new database first: it creates the registry's tables too
    with closing(SqlTracking(**database)) as runs:
        assert schema_versions(runs) == list(range(1, LATEST + 1))
        with closing(SqlRegistry(**database)) as registry:
            assert schema_versions(registry) == list(range(1, LATEST + 1))  # not migrated again
            tracker = ExperimentTracker(
                make_runtime(tmp_path), backend=runs, capture_environment=False
            )
            with tracker.start("train") as run:
                run.log_metric("loss", 0.25, step=1)
                registry.add_version(
                    ModelVersion("churn", "1", None, lineage={"run_id": run.id}), "1", actor="ci"
                )
            # the registration linked the run in the tracking backend's tables
            assert runs.get_run(run.id).models == (("churn", "1"),)
            assert tracker.get_run(run.id).status == "finished"
            assert registry.get_version("churn", "1").lineage == {"run_id": run.id}
            with pytest.raises(StorageError, match=r"lineage run_id 'no-such-run' is not a run"):
                registry.add_version(
                    ModelVersion("churn", "2", None, lineage={"run_id": "no-such-run"}),
                    "2",
                    actor="ci",
                )
            assert registry.list_version_names("churn") == ["1"]  # nothing of it written


OPEN_ONE = textwrap.dedent(
    """
    import json, os, sys, time
    from modelops_core.store.contract import ModelVersion

    kind, go, index, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    if kind == "registry":
        from modelops_store_sql.registry import SqlRegistry as Backend
    else:
        from modelops_store_sql.tracking import SqlTracking as Backend
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    backend = Backend(**options)
    if kind == "registry":
        backend.add_version(ModelVersion("m", index, None), index, actor="t")
    else:
        backend.create_run("e", tags={"i": index}, environment={})
    backend.close()
    """
)


def test_processes_opening_a_new_database_as_registry_and_tracking_migrate_it_once(
    database: dict[str, Any], tmp_path: Path
) -> None:
    import json

    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_ONE, kind, str(go), str(index), json.dumps(database)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index, kind in enumerate(["registry", "tracking"] * 2, start=1)
    ]
    try:
        for child in children:  # every child imported, waiting for the same moment
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
        go.touch()
        errors = [child.communicate(timeout=60)[1] for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [child.returncode for child in children] == [0, 0, 0, 0], errors
    with closing(SqlRegistry(**database)) as registry, closing(SqlTracking(**database)) as runs:
        assert schema_versions(registry) == list(range(1, LATEST + 1))
        assert sorted(registry.list_version_names("m")) == ["1", "3"]
        assert sorted(run.tags["i"] for run in runs.list_runs("e")) == ["2", "4"]


def open_connections(options: dict[str, Any], marker: str) -> int:
    """How many connections this process holds to the database: descriptors of the SQLite
    file, or server sessions named ``marker`` (their ``application_name``)."""
    if "path" in options:
        target = os.path.realpath(options["path"])
        return sum(
            os.path.realpath(f"/proc/self/fd/{fd}") == target for fd in os.listdir("/proc/self/fd")
        )
    import psycopg

    with psycopg.connect(DEFAULT_POSTGRES_URL, autocommit=True) as observer:
        row = observer.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (marker,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_the_sql_component_runs_registry_and_tracking_on_one_connection(
    database: dict[str, Any],
) -> None:
    marker = f"modelops-split-{os.getpid()}-{time.monotonic_ns()}"
    options = dict(database)
    if "url" in options:  # libpq reads the session's name from the URL
        options["url"] = f"{options['url']}?application_name={marker}"
    with closing(SqlStore(**options)) as store:
        run = store.create_run("train", tags={}, environment={})
        store.add_version(ModelVersion("m", "1", None, lineage={"run_id": run.run_id}), "1",
                          actor="ci")  # fmt: skip
        assert store.get_run(run.run_id).models == (("m", "1"),)
        assert open_connections(options, marker) == 1
    with closing(SqlRegistry(**options)), closing(SqlTracking(**options)):
        assert open_connections(options, marker) == 2  # one each, when opened apart


def test_tracking_errors_name_the_tracking_table(tmp_path: Path) -> None:
    database = tmp_path / "modelops.db"
    runs = SqlTracking(path=str(database), busy_timeout=0.05, retries=1)
    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreLockedError) as caught:
            runs.create_run("train", tags={}, environment={})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        runs.close()
    assert str(caught.value).endswith("or raise busy_timeout / retries in [tracking].")
    emptied = tmp_path / "emptied.db"
    emptied.write_bytes(b"")
    with pytest.raises(DatabaseDamagedError) as damaged:
        SqlTracking(path=str(emptied))
    assert (
        "point [tracking] path at the result. If the file should not hold tracked runs, move it "
        "away: a new one is created in its place." in str(damaged.value)
    )
    assert emptied.read_bytes() == b""  # left as it was


class RegistryOnlyPlugin:
    """A plugin declaring ``SqlRegistry`` alone as the registry backend ``sql``."""

    @hookimpl
    def modelops_register_registry_backends(self, registry: ComponentRegistrar) -> None:
        registry.add("sql", "modelops_store_sql.registry:SqlRegistry")


class TestSqlRegistryAloneOnSqlite(RegistryBackendContract):
    """The registry class alone passes the registry contract (its tracking checks skip)."""

    plugin = RegistryOnlyPlugin()
    component_name = "sql"


class TestSqlRegistryAloneOnPostgres(RegistryBackendContract):
    plugin = RegistryOnlyPlugin()
    component_name = "sql"

    @pytest.fixture(autouse=True)
    def _schema(self) -> Iterator[None]:
        with fresh_postgres_schema(postgres_url_or_skip(), prefix="modelops_split") as schema:
            self.schema = schema
            yield

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"home": str(tmp_path), "url": DEFAULT_POSTGRES_URL, "schema": self.schema}
