"""Nothing is written or removed outside the store, and what is stored cannot be changed
through what the registry hands out: hostile version rows, links, checkouts written to,
processes killed while writing. Models are registered through :class:`ModelRegistry`, on
SQLite and on PostgreSQL (the server on 127.0.0.1:5432; skipped when it is down)."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops_artifacts_local import plugin as artifacts_plugin

from modelops_core.config import ComponentChoice, Config
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.store.contract import (
    ArtifactLinkError,
    ModelNotFoundError,
    UnsafeArtifactNameError,
)
from modelops_core.testing import fresh_postgres_schema, make_runtime, postgres_url_or_skip
from modelops_core.tracking.tracker import ExperimentTracker

store_plugin = pytest.importorskip(
    "modelops_store_sql.plugin", reason="modelops-store-sql is not installed"
)
PLUGINS = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]
BIG = (8 << 20) + (1 << 20)  # above the size read in one go: streamed through tmp/


class Backend:
    """Where a test's registry keeps its rows, and plain SQL on them behind its back."""

    def __init__(self, home: Path, options: dict[str, Any], execute: Callable[..., None]):
        self.home = home
        self.options = options
        self.execute = execute

    def registry(self) -> ModelRegistry:
        config = Config(home=self.home, registry=ComponentChoice("sql", self.options))
        return ModelRegistry(make_runtime(self.home, PLUGINS, config=config))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    home = tmp_path / ".modelops"
    if request.param == "sqlite":

        def execute_sqlite(statement: str, *params: Any) -> None:
            with sqlite3.connect(home / "modelops.db") as connection:
                connection.execute(statement.replace("%s", "?").format(table="versions"), params)
            connection.close()

        yield Backend(home, {}, execute_sqlite)
        return
    import psycopg

    url = postgres_url_or_skip()
    with fresh_postgres_schema(url, prefix="modelops_artifacts") as schema:

        def execute_postgres(statement: str, *params: Any) -> None:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(statement.format(table=f'"{schema}".versions'), params)

        yield Backend(home, {"url": url, "schema": schema}, execute_postgres)


def tree_snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for a folder)."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
        if not path.name.startswith("modelops.db")  # the database's own files
    }


# --- 3. a version row's artifact name never leads a checkout elsewhere --------------------------


@pytest.mark.parametrize("hostile", ["../../outside", "{tmp}/absolute", "a/../../b"])
def test_a_hostile_artifact_name_in_a_version_row_is_refused(
    backend: Backend, tmp_path: Path, hostile: str
) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    with backend.registry() as registry:
        record = registry.register("churn", "1", model_path=source)
        registry.register("config", "1", {"threshold": 0.5})  # an in-memory model: load()
    bad_name = hostile.format(tmp=tmp_path)
    backend.execute("UPDATE {table} SET artifact_name = %s", bad_name)
    digest = record.artifact.digest.removeprefix("sha256:") if record.artifact else ""
    checkout = tmp_path / ".modelops" / "artifacts" / "checkouts" / digest
    would_be = Path(os.path.normpath(checkout / bad_name))
    before = tree_snapshot(tmp_path)

    with backend.registry() as registry:
        with pytest.raises(UnsafeArtifactNameError) as refused:
            registry.get_model("churn", "1")
        assert f"{bad_name!r} of model 'churn' version 1" in str(refused.value)
        assert "register the model again" in str(refused.value)
        with pytest.raises(UnsafeArtifactNameError, match="of model 'config' version 1"):
            registry.load("config", "1")
        with pytest.raises(UnsafeArtifactNameError, match="of model 'churn' version 1"):
            registry.load("churn", "1")

    assert not would_be.exists()
    assert tree_snapshot(tmp_path) == before  # nothing written or removed anywhere


def test_a_folder_model_renamed_onto_an_existing_folder_does_not_remove_it(
    backend: Backend, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"w")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    with backend.registry() as registry:
        record = registry.register("churn", "1", model_path=model)
    assert record.artifact is not None
    checkout = tmp_path / ".modelops" / "artifacts" / "checkouts" / record.artifact.digest[7:]
    backend.execute("UPDATE {table} SET artifact_name = %s", os.path.relpath(victim, checkout))

    with backend.registry() as registry, pytest.raises(UnsafeArtifactNameError, match="victim"):
        registry.get_model("churn", "1")
    assert tree_snapshot(victim) == {"keep.txt": b"precious"}


# --- 3. links and names that cannot be checked out are refused when storing --------------------


def test_a_model_path_that_is_a_link_is_refused(backend: Backend, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    link = tmp_path / "model.bin"
    link.symlink_to(secret)
    with backend.registry() as registry:
        with pytest.raises(ArtifactLinkError) as refused:
            registry.register("churn", "1", model_path=link)
        assert f"{str(link)!r}: it is a symbolic link (to {str(secret)!r})" in str(refused.value)
        assert "os.path.realpath" in str(refused.value)
        with pytest.raises(ArtifactLinkError):
            registry.register_model("churn", str(link), "1")
        with pytest.raises(ModelNotFoundError):
            registry.list_versions("churn")
        # what the error says to do: pass the target itself
        registry.register("churn", "1", model_path=os.path.realpath(link))
        assert Path(registry.get_model("churn", "1")).read_text() == "password"
    assert not list((tmp_path / ".modelops" / "artifacts" / "tmp").iterdir())


def test_a_run_artifact_that_is_a_link_is_refused(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    link = tmp_path / "metrics.json"
    link.symlink_to(secret)
    tracker = ExperimentTracker(make_runtime(home, PLUGINS))
    with tracker.start("training") as run:
        with pytest.raises(ArtifactLinkError, match="metrics.json.*symbolic link"):
            run.log_artifact(link)
        with pytest.raises(ArtifactLinkError, match="metrics.json.*symbolic link"):
            run.log_artifact(f"{link}/")
    assert dict(tracker.get_run(run.id).artifacts) == {}
    assert not list(home.glob("artifacts/blobs/*"))  # nothing stored
    tracker.close()


def test_a_folder_holding_a_linked_folder_is_refused(backend: Backend, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"w")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.bin").write_bytes(b"d")
    (model / "shards").symlink_to(outside, target_is_directory=True)
    with backend.registry() as registry:
        with pytest.raises(ArtifactLinkError, match=r"model.*shards.*symbolic link"):
            registry.register("churn", "1", model_path=model)
        with pytest.raises(ModelNotFoundError):
            registry.list_versions("churn")


def test_a_name_with_a_backslash_is_refused_when_stored(backend: Backend, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "a\\b.bin").write_bytes(b"w")
    single = tmp_path / "weights\\v1.bin"
    single.write_bytes(b"w")
    with backend.registry() as registry:
        member, name = "a\\b.bin", "weights\\v1.bin"
        with pytest.raises(UnsafeArtifactNameError) as refused:
            registry.register("churn", "1", model_path=model)
        assert f"the name {member!r} contains '\\'" in str(refused.value)
        with pytest.raises(UnsafeArtifactNameError) as refused:
            registry.register("churn", "1", model_path=single)
        assert f"its name {name!r} contains '\\'" in str(refused.value)
        assert str(refused.value).endswith("Rename it.")
        with pytest.raises(ModelNotFoundError):
            registry.list_versions("churn")
        (model / "a\\b.bin").rename(model / "a-b.bin")
        registry.register("churn", "1", model_path=model)
        assert (Path(registry.get_model("churn", "1")) / "a-b.bin").read_bytes() == b"w"


# --- 4. the path get_model returns is a copy ----------------------------------------------------


def blob_of(home: Path, digest: str) -> Path:
    return home / "artifacts" / "blobs" / digest.removeprefix("sha256:")


def test_writing_into_a_checked_out_file_leaves_the_stored_model_intact(
    backend: Backend, tmp_path: Path
) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"original weights")
    with backend.registry() as registry:
        record = registry.register("churn", "1", model_path=source)
        assert record.artifact is not None
        checkout = Path(registry.get_model("churn", "1"))
        os.chmod(checkout, 0o644)  # root writes whatever the mode; anyone else does this first
        checkout.write_bytes(b"tampered")
        blob = blob_of(backend.home, record.artifact.digest)
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == record.artifact.digest[7:]
        assert not os.path.samefile(checkout, blob)
        assert Path(registry.get_model("churn", "1")).read_bytes() == b"original weights"
        assert registry.load("churn", "1").read_bytes() == b"original weights"


def test_writing_into_a_checked_out_folder_leaves_the_stored_model_intact(
    backend: Backend, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "sub" / "weights.bin").write_bytes(b"123")
    with backend.registry() as registry:
        registry.register("churn", "1", model_path=model)
        checkout = Path(registry.get_model("churn", "1"))
        weights = checkout / "sub" / "weights.bin"
        os.chmod(weights, 0o644)
        weights.write_bytes(b"999")
        (checkout / "extra.py").write_text("import os")  # nothing else is handed out either
        again = Path(registry.get_model("churn", "1"))
        assert tree_snapshot(again) == {
            "config.json": b"{}", "sub": None, "sub/weights.bin": b"123",
        }  # fmt: skip
        digest = hashlib.sha256(b"123").hexdigest()
        assert blob_of(backend.home, digest).read_bytes() == b"123"


# --- 6. a killed writer's temp files are removed when the store is opened again ----------------

CHILD = textwrap.dedent(
    """
    import hashlib, json, sys, time, types
    from modelops_artifacts_local import plugin as artifacts_plugin, store as local_store
    from modelops_store_sql import plugin as store_plugin
    from modelops_core.config import ComponentChoice, Config
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.testing import make_runtime

    home, source, action, options = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    local_store._UNNAMED_FILES = False  # named files in tmp/, as where there are no others

    class PausingSha256:
        # stops the process when a file's second chunk is hashed: the first is written by then

        def __init__(self, data=b""):
            self.inner, self.chunks = hashlib.sha256(data), 0

        def update(self, data):
            self.chunks += 1
            if self.chunks == 2:
                print("paused", flush=True)
                time.sleep(60)
            self.inner.update(data)

        def hexdigest(self):
            return self.inner.hexdigest()

    local_store.hashlib = types.SimpleNamespace(sha256=PausingSha256)
    plugins = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]
    config = Config(home=home, registry=ComponentChoice("sql", json.loads(options)))
    registry = ModelRegistry(make_runtime(home, plugins, config=config))
    if action == "register":
        registry.register("victim", "1", model_path=source)
    else:
        registry.get_model("kept", "1")
    print("finished", flush=True)
    """
)


@pytest.mark.parametrize("action", ["register", "checkout"])
def test_a_writer_killed_midway_leaves_no_temp_files_once_the_store_is_opened_again(
    backend: Backend, tmp_path: Path, action: str
) -> None:
    import json

    source = tmp_path / "model.bin"
    source.write_bytes(os.urandom(BIG))
    tmp = backend.home / "artifacts" / "tmp"
    with backend.registry() as registry:
        registry.register("kept", "1", model_path=source)
    if action == "register":
        source.write_bytes(os.urandom(BIG))  # new content: written, not found stored
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), str(backend.home), str(source), action,
         json.dumps(backend.options)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "paused", f"the child did not pause: {line} {child.stderr.read()}"
        left = list(tmp.iterdir())
        assert len(left) == 1  # a named temp file, or the folder a checkout is built in
        # another process opening the store meanwhile leaves the live writer's file alone
        with backend.registry() as registry:
            registry.register("other", "1", {"x": 1})
            assert registry.load("other", "1") == {"x": 1}
        assert list(tmp.iterdir()) == left
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert list(tmp.iterdir()) == left  # the kill left it behind
    with backend.registry() as registry:
        assert registry.list_models() == ["kept", "other"]
        assert Path(registry.get_model("kept", "1")).stat().st_size == BIG
    assert list(tmp.iterdir()) == []
