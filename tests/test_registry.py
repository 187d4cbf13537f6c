"""ModelRegistry as users call it, on the first-party ``sql`` backend and ``local`` store.

These tests need the plugins modelops-store-sql and modelops-artifacts-local; they are skipped
(with that reason) when the core is tested alone.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from open_files import OPEN_STORE, closed_message, closed_underneath, open_files_under

from modelops_core import hookimpl
from modelops_core.config import ComponentChoice, Config
from modelops_core.errors import VetoError
from modelops_core.registry.model_registry import (
    EvaluationRequiredError,
    ModelRegistry,
    PickleSerializer,
    SerializerError,
)
from modelops_core.registry.versions import InvalidVersionError
from modelops_core.runtime import Runtime
from modelops_core.store.contract import (
    AliasNotFoundError,
    ArtifactCorruptedError,
    ArtifactNotFoundError,
    DuplicateVersionError,
    InvalidModelNameError,
    ModelNotFoundError,
    StorageError,
    VersionNotFoundError,
)
from modelops_core.store.facade import FacadeClosedError
from modelops_core.testing import make_runtime

store_plugin = pytest.importorskip(
    "modelops_store_sql.plugin", reason="modelops-store-sql is not installed (core-only run)"
)
artifacts_plugin = pytest.importorskip(
    "modelops_artifacts_local.plugin",
    reason="modelops-artifacts-local is not installed (core-only run)",
)

PLUGINS = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]


def new_runtime(home: Path, *extra: object, **config: Any) -> Runtime:
    return make_runtime(home, [*PLUGINS, *extra], config=Config(home=home, **config))


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    with ModelRegistry(new_runtime(tmp_path / ".modelops"), actor="tester") as opened:
        yield opened


def test_an_in_memory_model_comes_back_from_load(registry: ModelRegistry) -> None:
    model = {"weights": [0.1, 0.2], "bias": 1}
    registry.register("test", "1.0", model)
    assert registry.load("test", "1.0") == model


def test_bytes_and_lists_round_trip(registry: ModelRegistry) -> None:
    registry.register("raw", "1", b"\x00\x01")
    registry.register("rows", "1", [[1, 2], [3, 4]])
    assert registry.load("raw", "1") == b"\x00\x01"
    assert registry.load("rows", "1") == [[1, 2], [3, 4]]


def test_numpy_arrays_round_trip_without_pickle(registry: ModelRegistry) -> None:
    numpy = pytest.importorskip("numpy")
    array = numpy.arange(12, dtype="float32").reshape(3, 4)
    registry.register("embeddings", "1", array)
    loaded = registry.load("embeddings", "1")
    assert loaded.dtype == array.dtype and (loaded == array).all()
    with pytest.raises(SerializerError, match="without pickling"):
        registry.register("objects", "1", numpy.array([object()], dtype=object))


def test_a_file_is_registered_by_path(registry: ModelRegistry, tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"w" * 4096)
    version = registry.register_model("churn", str(weights), "1.0", {"framework": "torch"})
    path = registry.get_model("churn", "1.0")
    assert isinstance(path, str) and Path(path).name == "model.safetensors"
    assert Path(path).read_bytes() == weights.read_bytes()
    assert version.metadata["framework"] == "torch"
    assert registry.load("churn", "1.0") == Path(path)


def test_a_folder_is_registered_with_keywords(registry: ModelRegistry, tmp_path: Path) -> None:
    folder = tmp_path / "llm"
    folder.mkdir()
    (folder / "config.json").write_text('{"layers": 2}')
    registry.register(name="llm", version="2.1.0", model_path=folder, metadata={"base": "x"})
    local = Path(registry.get_model("llm", "2.1.0"))
    assert (local / "config.json").read_text() == '{"layers": 2}'


def test_versions_are_ordered_numerically(registry: ModelRegistry) -> None:
    for version in ("1.10", "1.9", "1.0.0-rc.1", "2", "1.0"):
        registry.register("m", version, {"v": version})
    assert registry.list_versions("m") == ["1.0.0-rc.1", "1.0", "1.9", "1.10", "2"]
    assert registry.get_version("m").version == "2"


def test_versions_auto_increment(registry: ModelRegistry) -> None:
    assert [registry.register("m", model={"i": i}).version for i in range(3)] == ["1", "2", "3"]
    registry.register("n", "1.9", {})
    assert registry.register("n", model={}).version == "1.10"


class WithoutReleaseIndex:
    """A backend seen through a wrapper without ``highest_release`` (as a third-party
    backend may be): the registry then predicts versions from every version's name."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "highest_release":
            raise AttributeError(name)
        return getattr(self._inner, name)


@pytest.mark.parametrize("indexed", [True, False], ids=["release-index", "version-scan"])
def test_auto_increment_follows_the_highest_release(
    registry: ModelRegistry, tmp_path: Path, indexed: bool
) -> None:
    from modelops_core.store.contract import ReleaseIndex

    backend = registry.backend if indexed else WithoutReleaseIndex(registry.backend)
    assert isinstance(backend, ReleaseIndex) is indexed
    with ModelRegistry(registry.runtime, backend=backend) as using:
        using.register("m", "2.0-rc.1", {})
        assert using.register("m", model={}).version == "2.0"  # the pre-release's release
        for version in ("1.9", "1.10", "2.0.0-rc.2"):
            using.register("m", version, {})
        assert using.register("m", model={}).version == "2.1"
        assert using.register("fresh", model={}).version == "1"


def test_a_duplicate_version_is_refused(registry: ModelRegistry) -> None:
    registry.register("m", "1.0", {"a": 1})
    with pytest.raises(DuplicateVersionError, match="already has version"):
        registry.register("m", "1.0", {"a": 2})
    with pytest.raises(DuplicateVersionError, match="equal version"):
        registry.register("m", "1.0.0", {"a": 2})
    assert registry.load("m", "1.0") == {"a": 1}


@pytest.mark.parametrize("version", ["one", "1..2", "1.0-", "", "-1"])
def test_an_invalid_version_says_what_is_valid(registry: ModelRegistry, version: str) -> None:
    with pytest.raises(InvalidVersionError, match="dotted numbers"):
        registry.register("m", version, {})


@pytest.mark.parametrize("name", ["../etc", "a/b", "a\\b", "", ".hidden", "x" * 129, "a..b"])
def test_an_invalid_model_name_is_refused(registry: ModelRegistry, name: str) -> None:
    with pytest.raises(InvalidModelNameError, match="Invalid model name"):
        registry.register(name, "1", {})


@pytest.mark.parametrize("name", ["m\n", "m\r\n", "m\x00", "\uff4d"])  # "\uff4d": fullwidth m
def test_a_name_with_a_trailing_newline_or_odd_character_is_refused(
    registry: ModelRegistry, name: str
) -> None:
    with pytest.raises(InvalidModelNameError, match=re.escape(f"Invalid model name {name!r}")):
        registry.register(name, "1", {})
    assert registry.list_models() == []


@pytest.mark.parametrize("alias", ["prod\n", "prod\r\n", "prod\t"])
def test_an_alias_with_a_trailing_newline_is_refused(registry: ModelRegistry, alias: str) -> None:
    registry.register("m", "1", {})
    with pytest.raises(InvalidModelNameError, match=re.escape(f"Invalid alias {alias!r}")):
        registry.set_alias("m", alias, "1")
    assert registry.aliases("m") == {}


@pytest.mark.parametrize("version", ["\u0661", "1.\u0662", "\u0661.0.0-rc.1", "\uff11", "\u09e7.0"])
def test_a_version_with_digits_of_another_script_is_refused(
    registry: ModelRegistry, version: str
) -> None:
    """``\\d`` matches the Arabic-Indic one (U+0661), which Python reads as 1: it would be
    stored as written beside the "1" it equals."""
    registry.register("m", "2", {})
    with pytest.raises(InvalidVersionError, match=r"digits 0-9"):
        registry.register("m", version, {})
    assert registry.list_versions("m") == ["2"]


def test_a_missing_version_among_thousands_is_named_briefly(registry: ModelRegistry) -> None:
    import sqlite3

    registry.register("m", "1", {})
    database = registry.runtime.config.home / "modelops.db"
    with sqlite3.connect(database) as connection:
        (model_id,) = connection.execute("SELECT id FROM models WHERE name = 'm'").fetchone()
        connection.executemany(
            "INSERT INTO versions (model_id, version, version_key, serializer, metadata, tags, "
            "lineage, status, created_at, created_by) "
            "VALUES (?, ?, ?, '', '{}', '{}', '{}', 'active', 1.0, 'tester')",
            [(model_id, str(n), f"{n:09d}") for n in range(2, 20001) if n != 7000],
        )
    with pytest.raises(VersionNotFoundError) as caught:
        registry.get_version("m", "7000.0")
    assert str(caught.value) == (
        "Model 'm' has no version '7000.0'. It has 19999 versions; the nearest: 6997, 6998, "
        "6999, 7001, 7002, 7003. `modelops registry versions m` lists them all."
    )
    assert registry.get_version("m", "7001.0").version == "7001"  # an equal version, found


def test_the_actor_comes_from_the_runtime_environment_unless_given(tmp_path: Path) -> None:
    """An embedding platform sets the audited actor through ``Runtime(environ=...)`` or
    ``actor=``; ``$LOGNAME`` of the process is only the last resort (and advisory)."""
    home = tmp_path / ".modelops"
    environ = {"MODELOPS_ACTOR": "svc:alice", "LOGNAME": "root"}
    with ModelRegistry(make_runtime(home, PLUGINS, environ=environ)) as registry:
        assert registry.actor == "svc:alice"
        registry.register("m", "1", {})
    with ModelRegistry(make_runtime(home, PLUGINS, environ={"LOGNAME": "bob"})) as registry:
        assert registry.actor == "bob"
        registry.set_alias("m", "production", "1")
    given = ModelRegistry(make_runtime(home, PLUGINS, environ=environ), actor="carol")
    with given as registry:
        registry.archive("m", "1")
        entries = registry.audit("m")
    assert [(e.action, e.actor) for e in entries] == [
        ("status.archived", "carol"), ("alias.set", "bob"), ("register", "svc:alice"),
    ]  # fmt: skip


def test_a_missing_path_is_refused_before_anything_is_stored(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactNotFoundError, match="no such file"):
        registry.register_model("m", str(tmp_path / "missing.bin"), "1")
    assert registry.list_models() == []


def test_unknown_model_and_alias_are_named(registry: ModelRegistry) -> None:
    with pytest.raises(ModelNotFoundError, match="ghost"):
        registry.load("ghost", "1")
    registry.register("m", "1", {})
    with pytest.raises(AliasNotFoundError, match="production"):
        registry.get_by_alias("m", "production")


def test_nothing_is_unpickled_unless_pickle_was_chosen(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    with (
        ModelRegistry(new_runtime(home)) as plain,
        pytest.raises(SerializerError, match="No model flavor accepts a builtins.set"),
    ):
        plain.register("obj", "1", {1, 2})
    with ModelRegistry(new_runtime(home), serializers=[PickleSerializer()]) as trusting:
        trusting.register("obj", "1", {1, 2}, serializer="pickle")
        assert trusting.load("obj", "1") == {1, 2}
    with (
        ModelRegistry(new_runtime(home)) as plain,
        pytest.raises(SerializerError, match="Unpickling runs code"),
    ):
        plain.load("obj", "1")


def test_aliases_move_and_roll_back(registry: ModelRegistry) -> None:
    for version in ("1", "2", "3"):
        registry.register("m", version, {"v": version})
    registry.set_alias("m", "production", "1")
    registry.set_alias("m", "production", "2")
    assert registry.get_by_alias("m", "production").version == "2"
    assert registry.rollback("m") == "1"
    assert registry.load("m", alias="production") == {"v": "1"}
    registry.delete_alias("m", "production")
    assert registry.aliases("m") == {}


def test_search_by_prefix_tags_and_metadata(registry: ModelRegistry) -> None:
    registry.register("churn", "1", {}, tags={"team": "risk"}, metadata={"eval": {"auc": 0.8}})
    registry.register("churn", "2", {}, tags={"team": "risk"}, metadata={"eval": {"auc": 0.9}})
    registry.register("fraud", "1", {}, tags={"team": "ops"})
    assert [(v.name, v.version) for v in registry.search(tags={"team": "risk"})] == [
        ("churn", "1"), ("churn", "2"),
    ]  # fmt: skip
    assert [v.version for v in registry.search("ch", metadata={"eval.auc": 0.9})] == ["2"]
    registry.archive("churn", "2")
    assert [v.version for v in registry.search("churn")] == ["1"]
    assert registry.get_version("churn").version == "1"


def test_lineage_is_returned(registry: ModelRegistry) -> None:
    registry.register("base", "1", {})
    registry.register(
        "tuned", "1", {},
        lineage={"dataset_fingerprint": "sha256:abc", "training_job": "job-7",
                 "base_model": "base@1", "provider": "local", "parent_version": "0.9"},
        evaluation={"accuracy": 0.91},
    )  # fmt: skip
    lineage = registry.lineage("tuned", "1")
    assert lineage.dataset_fingerprint == "sha256:abc" and lineage.training_job == "job-7"
    assert lineage.base_model == "base@1" and lineage.parent_version == "0.9"
    assert lineage.evaluation == {"accuracy": 0.91}


def test_delete_removes_the_version(registry: ModelRegistry) -> None:
    registry.register("m", "1", {})
    registry.register("m", "2", {})
    registry.delete("m", "2")
    assert registry.list_versions("m") == ["1"]


def test_every_change_is_audited_with_who(registry: ModelRegistry) -> None:
    registry.register("m", "1", {})
    registry.set_alias("m", "production", "1")
    entries = registry.audit("m")
    assert [(e.action, e.actor) for e in entries] == [
        ("alias.set", "tester"), ("register", "tester"),
    ]  # fmt: skip


def test_require_evaluation_refuses_unevaluated_models(tmp_path: Path) -> None:
    runtime = new_runtime(tmp_path / ".modelops", require_evaluation=True)
    with ModelRegistry(runtime) as registry:
        with pytest.raises(EvaluationRequiredError, match="evaluation="):
            registry.register("m", "1", {})
        registry.register("m", "1", {}, evaluation={"accuracy": 0.9})
        assert registry.get_version("m", "1").metadata["evaluation"] == {"accuracy": 0.9}


class AccuracyGate:
    """A policy plugin: refuses versions whose accuracy is below 0.8."""

    def __init__(self) -> None:
        self.registered: list[tuple[str, str]] = []

    @hookimpl
    def modelops_before_register(self, metadata: Mapping[str, Any]) -> str | None:
        accuracy = metadata.get("evaluation", {}).get("accuracy", 0)
        return None if accuracy >= 0.8 else f"accuracy {accuracy} is below 0.8"

    @hookimpl
    def modelops_after_register(self, name: str, version: str) -> None:
        self.registered.append((name, version))


def test_a_hook_can_veto_and_observe_registrations(tmp_path: Path) -> None:
    gate = AccuracyGate()
    with ModelRegistry(new_runtime(tmp_path / ".modelops", ("gate", gate))) as registry:
        with pytest.raises(VetoError, match="'gate'.*accuracy 0.5 is below 0.8"):
            registry.register("m", "1", {}, evaluation={"accuracy": 0.5})
        assert registry.list_models() == []
        registry.register("m", "1", {}, evaluation={"accuracy": 0.9})
    assert gate.registered == [("m", "1")]


def test_a_corrupted_artifact_is_never_loaded(registry: ModelRegistry) -> None:
    version = registry.register("m", "1", {"w": 1})
    assert version.artifact is not None
    digest = version.artifact.digest.removeprefix("sha256:")
    blob = registry.runtime.config.home / "artifacts" / "blobs" / digest
    os.chmod(blob, 0o644)
    blob.write_bytes(b'{"w":2}')
    with pytest.raises(ArtifactCorruptedError, match="corrupted"):
        registry.load("m", "1")


def test_the_default_registry_uses_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelops_core.plugins.discovery import discover

    installed = {entry_point.name for entry_point in discover()}
    if not {"modelops-store-sql", "modelops-artifacts-local"} <= installed:
        pytest.skip("the plugins are importable but not installed as entry points")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    with ModelRegistry() as registry:
        registry.register("test", "1.0", {"a": 1})
    assert (tmp_path / ".modelops" / "modelops.db").is_file()
    assert (tmp_path / ".modelops" / "artifacts" / "blobs").is_dir()


# --- lifecycle: close, with, use after close ---------------------------------------------------


def test_the_with_block_closes_the_backend_and_the_artifact_store(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    with ModelRegistry(new_runtime(home)) as registry:
        registry.register("churn", "1", {"w": 1})
        assert open_files_under(home) == OPEN_STORE
    assert open_files_under(home) == []
    assert registry.closed


def test_a_closed_registry_refuses_to_be_used_and_nothing_is_written(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    registry = ModelRegistry(new_runtime(home))
    registry.register("churn", "1", {"w": 1})
    registry.close()
    with pytest.raises(FacadeClosedError) as caught:
        registry.register("churn", "2", {"w": 2})
    assert str(caught.value) == closed_message("ModelRegistry", "open its backend")
    with pytest.raises(FacadeClosedError, match="cannot open its backend"):
        registry.list_models()
    with pytest.raises(FacadeClosedError, match="cannot open its artifacts"):
        registry.artifacts.put_bytes(b"late")
    assert open_files_under(home) == []  # nothing was opened again behind the caller's back
    assert isinstance(caught.value, StorageError)
    with ModelRegistry(new_runtime(home)) as again:
        assert again.list_versions("churn") == ["1"]
        assert again.load("churn", "1") == {"w": 1}


def test_closing_twice_is_fine_and_given_components_stay_open(tmp_path: Path) -> None:
    home = tmp_path / ".modelops"
    runtime = new_runtime(home)
    with ModelRegistry(runtime) as owner:
        backend, artifacts = owner.backend, owner.artifacts
        with ModelRegistry(runtime, backend=backend, artifacts=artifacts) as borrower:
            borrower.register("churn", "1", {"w": 1})
        borrower.close()
        assert borrower.closed
        assert owner.load("churn", "1") == {"w": 1}  # the borrowed stores were not closed
    owner.close()
    assert open_files_under(home) == []


@pytest.mark.parametrize("first", ["backend", "artifacts"])
def test_a_store_whose_close_raises_still_lets_the_other_close(tmp_path: Path, first: str) -> None:
    """The SQLite store's lock descriptor is closed underneath it, so its close() raises
    EBADF; the artifact store is closed all the same, whichever was opened first."""
    home = tmp_path / ".modelops"
    registry = ModelRegistry(new_runtime(home))
    getattr(registry, first)  # opened first: closed last
    registry.register("churn", "1", {"w": 1})
    with closed_underneath(home / "modelops.db.writer-lock"), pytest.raises(OSError) as caught:
        registry.close()
    assert caught.value.errno == errno.EBADF
    assert open_files_under(home) == []
    assert registry.closed
    registry.close()  # the failure is reported once
    with ModelRegistry(new_runtime(home)) as again:
        assert again.load("churn", "1") == {"w": 1}


def test_the_store_opened_last_is_closed_first(tmp_path: Path) -> None:
    """Both closes fail: the artifact store's (opened last) is raised, the backend's is a note."""
    home = tmp_path / ".modelops"
    registry = ModelRegistry(new_runtime(home))
    registry.register("churn", "1", {"w": 1})  # opens the backend, then the artifact store
    backend = registry.backend
    with (
        closed_underneath(home / "modelops.db.writer-lock"),
        closed_underneath(home / "artifacts" / "blobs"),
        pytest.raises(OSError) as caught,
    ):
        registry.close()
    assert caught.value.errno == errno.EBADF
    assert caught.value.__notes__ == [
        f"Closing {backend!r} of this ModelRegistry also failed: "
        "OSError: [Errno 9] Bad file descriptor"
    ]
    assert open_files_under(home) == []


def test_the_with_block_closes_the_postgres_connection(tmp_path: Path) -> None:
    """As the server sees it: the registry's session (tagged by application_name) ends with
    the block, and a closed registry does not connect again."""
    import time
    import uuid

    import psycopg

    from modelops_core.testing import fresh_postgres_schema, postgres_url_or_skip

    url, tag = postgres_url_or_skip(), f"modelops-facade-{uuid.uuid4().hex[:12]}"

    def sessions() -> int:
        with psycopg.connect(url) as observer:
            query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            row = observer.execute(query, (tag,)).fetchone()
            assert row is not None
            return int(row[0])

    with fresh_postgres_schema(url, prefix="modelops_facade") as schema:
        options = {"url": f"{url}?application_name={tag}", "schema": schema}
        runtime = _runtime_with(tmp_path / ".modelops", options)
        with ModelRegistry(runtime) as registry:
            registry.register("churn", "1", {"w": 1})
            assert sessions() == 1
        deadline = time.monotonic() + 5  # the server process ends just after the client left
        while sessions() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sessions() == 0
        with pytest.raises(FacadeClosedError, match="cannot open its backend"):
            registry.list_models()
        assert sessions() == 0
        with ModelRegistry(runtime) as again:
            assert again.load("churn", "1") == {"w": 1}


# --- concurrency --------------------------------------------------------------------------------


def _runtime_with(home: Path, options: dict[str, Any]) -> Runtime:
    config = Config(home=home, registry=ComponentChoice("sql", options))
    return make_runtime(home, PLUGINS, config=config)


def _register_many(home: str, options: dict[str, Any], count: int) -> list[str]:
    with ModelRegistry(_runtime_with(Path(home), options)) as registry:
        return [registry.register("busy", model={"n": n}).version for n in range(count)]


def _run_concurrently(home: Path, options: dict[str, Any]) -> None:
    """8 processes x 50 auto-incremented registrations: 400 distinct versions, none lost."""
    context = multiprocessing.get_context("fork")
    with context.Pool(8) as pool:
        results = pool.starmap(_register_many, [(str(home), options, 50)] * 8)
    versions = [v for result in results for v in result]
    assert len(versions) == 400 and len(set(versions)) == 400
    with ModelRegistry(_runtime_with(home, options)) as registry:
        assert sorted(registry.list_versions("busy"), key=int) == sorted(versions, key=int)


@pytest.mark.slow
def test_concurrent_registrations_on_sqlite_lose_nothing(tmp_path: Path) -> None:
    _run_concurrently(tmp_path / ".modelops", {})


@pytest.mark.slow
def test_concurrent_registrations_on_postgres_lose_nothing(tmp_path: Path) -> None:
    from modelops_core.testing import fresh_postgres_schema, postgres_url_or_skip

    url = postgres_url_or_skip()
    with fresh_postgres_schema(url, prefix="modelops_conc") as schema:
        _run_concurrently(tmp_path / ".modelops", {"url": url, "schema": schema})


# --- CLI ----------------------------------------------------------------------------------------


def test_the_registry_cli_lists_moves_aliases_and_audits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from modelops_core.cli.registry import registry as registry_group
    from modelops_core.plugins.discovery import discover

    installed = {entry_point.name for entry_point in discover()}
    if not {"modelops-store-sql", "modelops-artifacts-local"} <= installed:
        pytest.skip("the plugins are importable but not installed as entry points")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    with ModelRegistry(actor="ana") as registry:
        registry.register("churn", "1", {"w": 1})
        registry.register("churn", "2", {"w": 2})
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(registry_group, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    assert "churn" in run("list")
    assert "production" in run("alias", "set", "churn", "production", "1")
    run("alias", "set", "churn", "production", "2")
    assert run("alias", "get", "churn", "production").strip() == "2"
    assert run("rollback", "churn").strip() == "churn@production -> 1"
    assert '"version": "2"' in run("show", "churn", "2", "--json")
    assert "alias.rollback" in run("audit", "churn")
    assert "production" in run("versions", "churn")
    failed = runner.invoke(registry_group, ["show", "ghost", "1"])
    assert failed.exit_code == 2 and "No model named 'ghost'" in failed.output
