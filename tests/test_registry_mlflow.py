"""MLflow in and out (issue 16): ``import_mlflow`` / ``modelops registry import-mlflow`` against a
real MLflow store this module creates with mlflow-skinny (SQLite backend, file artifact root),
and ``export_mlflow`` / ``modelops registry export-mlflow`` folders that
``mlflow.pyfunc.load_model`` loads and that predict what the registered model predicts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelops_core.config import ComponentChoice, Config
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.testing import make_runtime

# the plugins first: without them (the core-only run) MLflow is not even imported
store_plugin = pytest.importorskip("modelops_store_sql.plugin")
artifacts_plugin = pytest.importorskip("modelops_artifacts_local.plugin")
sklearn_plugin = pytest.importorskip("modelops_flavor_sklearn.plugin")
onnx_plugin = pytest.importorskip("modelops_flavor_onnx.plugin")
mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")
pd = pytest.importorskip("pandas")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
from sklearn.linear_model import LogisticRegression  # noqa: E402

from modelops_core.registry.mlflow_bridge import (  # noqa: E402
    MISSING_FORMAT,
    MlflowArtifactsMissingWarning,
    MlflowBridgeError,
    export_mlflow,
    import_mlflow,
)

PLUGINS = [
    ("modelops-store-sql", store_plugin),
    ("modelops-artifacts-local", artifacts_plugin),
    ("modelops-flavor-sklearn", sklearn_plugin),
    ("modelops-flavor-onnx", onnx_plugin),
]


class Store:
    """The MLflow store: its URI, root, the models logged and the run ids."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = f"sqlite:///{root / 'mlflow.db'}"
        self.models: dict[str, Any] = {}
        self.runs: dict[str, str] = {}


@pytest.fixture(scope="module")
def iris() -> tuple[Any, Any]:
    return sklearn_datasets.load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, iris: tuple[Any, Any]) -> Iterator[Store]:
    """iris 1 (C=1.0) and 2 (C=0.05), aliases champion -> 2 and challenger -> 1, a model tag,
    a version tag and description; broken 1 and 2, whose artifact folders are then deleted."""
    import mlflow.sklearn
    from mlflow import MlflowClient

    found = Store(tmp_path_factory.mktemp("mlflow"))
    X, y = iris
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(found.uri)
    try:
        client = MlflowClient(found.uri)
        experiment = client.create_experiment(
            "iris", artifact_location=(found.root / "artifacts").as_uri()
        )
        logged = []
        for key, name, c in (("iris1", "iris", 1.0), ("iris2", "iris", 0.05),
                             ("broken1", "broken", 1.0), ("broken2", "broken", 2.0)):  # fmt: skip
            model = LogisticRegression(C=c, max_iter=500).fit(X, y)
            with mlflow.start_run(experiment_id=experiment, run_name=key) as run:
                mlflow.log_params({"C": c, "max_iter": 500})
                mlflow.log_metric("accuracy", float(model.score(X, y)))
                info = mlflow.sklearn.log_model(
                    model, name="model", registered_model_name=name,
                    pip_requirements=["scikit-learn"],
                )  # fmt: skip
            found.models[key], found.runs[key] = model, run.info.run_id
            logged.append(info)
        client.set_registered_model_alias("iris", "champion", "2")
        client.set_registered_model_alias("iris", "challenger", "1")
        client.set_registered_model_tag("iris", "team", "ml")
        client.set_model_version_tag("iris", "1", "validated", "yes")
        client.update_model_version("iris", "2", description="smaller C")
        for version in ("1", "2"):  # the artifact store lost broken's files
            uri = client.get_model_version_download_uri("broken", version)
            shutil.rmtree(uri.removeprefix("file://"))
    finally:
        mlflow.set_tracking_uri(previous)
    yield found


def registry_at(home: Path, backend: str = "sqlite") -> ModelRegistry:
    config = Config(home=home)
    if backend == "postgresql":
        from modelops_core.testing import postgres_url_or_skip

        url = postgres_url_or_skip()
        options = {"url": url, "schema": home.name}
        config = Config(home=home, registry=ComponentChoice("sql", options))
    return ModelRegistry(make_runtime(home, PLUGINS, config=config), actor="tester")


@pytest.fixture
def pg_schema(tmp_path: Path) -> Iterator[str]:
    from modelops_core.testing import fresh_postgres_schema, postgres_url_or_skip

    with fresh_postgres_schema(postgres_url_or_skip(), prefix="modelops_mlflow") as schema:
        yield schema


# --- import -------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_import_brings_versions_aliases_tags_runs_artifacts_and_lineage(
    store: Store, iris: tuple[Any, Any], tmp_path: Path, backend: str, request: Any
) -> None:
    home = tmp_path / ".modelops"
    if backend == "postgresql":
        home = tmp_path / request.getfixturevalue("pg_schema")
    X, _ = iris
    with registry_at(home, backend) as registry:
        with pytest.warns(MlflowArtifactsMissingWarning) as caught:
            report = import_mlflow(registry, store.uri)
        missing = [str(w.message) for w in caught
                   if issubclass(w.category, MlflowArtifactsMissingWarning)]  # fmt: skip
        assert len(missing) == 2  # one per version of broken
        assert "MLflow model broken version 1" in missing[0]
        assert "MLflow model broken version 2" in missing[1]
        assert report.tracking_uri == store.uri
        assert [(v.name, v.version, v.status, v.artifacts) for v in report.versions] == [
            ("broken", "1", "imported", False), ("broken", "2", "imported", False),
            ("iris", "1", "imported", True), ("iris", "2", "imported", True),
        ]  # fmt: skip
        assert sorted(report.aliases) == [("iris", "challenger", "1"), ("iris", "champion", "2")]

        assert registry.list_models() == ["broken", "iris"]
        assert registry.aliases("iris") == {"champion": "2", "challenger": "1"}
        first, second = registry.get_version("iris", "1"), registry.get_version("iris", "2")
        assert dict(first.tags) == {"team": "ml", "validated": "yes"}
        assert dict(second.tags) == {"team": "ml"}
        document = second.metadata["mlflow"]
        assert document["description"] == "smaller C"
        assert document["run"]["params"] == {"C": "0.05", "max_iter": "500"}
        accuracy = float(store.models["iris2"].score(*iris))
        assert document["run"]["metrics"] == {"accuracy": accuracy}
        assert second.metadata["evaluation"] == {"accuracy": accuracy}
        assert document["artifacts"] == "copied"
        assert document["flavors"] == ["python_function", "sklearn"]
        lineage = registry.lineage("iris", "2")
        assert lineage.extra["mlflow_run_id"] == store.runs["iris2"]
        assert lineage.extra["mlflow_model"] == "iris/2"

        # the artifacts are the MLflow model folder, loadable by MLflow itself
        folder = Path(registry.get_model("iris", "1"))
        assert sorted(p.name for p in folder.iterdir()) == [
            "MLmodel", "conda.yaml", "model.skops", "python_env.yaml", "requirements.txt",
        ]  # fmt: skip
        loaded = mlflow.pyfunc.load_model(str(folder))
        assert (loaded.predict(X) == store.models["iris1"].predict(X)).all()

        # the versions without artifacts keep everything else
        broken = registry.get_version("broken", "2")
        assert broken.metadata["mlflow"]["artifacts"] == "missing"
        assert broken.metadata["mlflow"]["run"]["params"]["C"] == "2.0"
        assert registry.lineage("broken", "2").extra["mlflow_run_id"] == store.runs["broken2"]
        assert registry.load("broken", "2")["format"] == MISSING_FORMAT


def test_importing_again_skips_what_was_imported_and_one_model_can_be_chosen(
    store: Store, tmp_path: Path
) -> None:
    with registry_at(tmp_path / ".modelops") as registry:
        first = import_mlflow(registry, store.uri, model="iris")
        assert [(v.name, v.version, v.status) for v in first.versions] == [
            ("iris", "1", "imported"), ("iris", "2", "imported"),
        ]  # fmt: skip
        assert registry.list_models() == ["iris"]
        again = import_mlflow(registry, store.uri, model="iris")
        assert [(v.version, v.status, v.artifacts) for v in again.versions] == [
            ("1", "skipped", True), ("2", "skipped", True),
        ]  # fmt: skip
        assert registry.list_versions("iris") == ["1", "2"]
        with pytest.raises(MlflowBridgeError, match=r"no registered model 'iriss'; it has: "
                                                    r"broken, iris\."):  # fmt: skip
            import_mlflow(registry, store.uri, model="iriss")


def test_a_version_of_the_same_number_from_elsewhere_is_refused_and_kept(
    store: Store, tmp_path: Path
) -> None:
    with registry_at(tmp_path / ".modelops") as registry:
        registry.register("iris", "1", model={"mine": True})
        with pytest.raises(MlflowBridgeError, match="iris 1 is already in the registry and was "
                                                    "not imported from iris 1"):  # fmt: skip
            import_mlflow(registry, store.uri, model="iris")
        assert registry.load("iris", "1") == {"mine": True}
        assert registry.list_versions("iris") == ["1"]


def test_a_tracking_uri_without_a_store_is_refused_and_no_database_is_created(
    tmp_path: Path,
) -> None:
    absent = tmp_path / "nowhere" / "mlflow.db"
    with (
        registry_at(tmp_path / ".modelops") as registry,
        pytest.raises(MlflowBridgeError, match="There is no MLflow database at sqlite:///"),
    ):
        import_mlflow(registry, f"sqlite:///{absent}")
    assert not absent.exists()


def test_cli_import_mlflow_prints_json_and_a_warning_per_version_without_artifacts(
    store: Store,
    iris: tuple[Any, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    from modelops_core.cli.main import main
    from modelops_core.plugins.discovery import discover

    installed = {entry_point.name for entry_point in discover()}
    if not {"modelops-store-sql", "modelops-artifacts-local"} <= installed:
        pytest.skip("the plugins are importable but not installed as entry points")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    assert main(["registry", "import-mlflow", "--tracking-uri", store.uri, "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert [(v["name"], v["version"], v["artifacts"]) for v in document["versions"]] == [
        ("broken", "1", False), ("broken", "2", False), ("iris", "1", True), ("iris", "2", True),
    ]  # fmt: skip
    assert captured.err.count("warning: MLflow model broken version") == 2
    assert main(["registry", "import-mlflow", "--tracking-uri", store.uri,
                 "--model", "iris"]) == 0  # fmt: skip
    table = capsys.readouterr().out
    assert "skipped" in table and "iris@champion -> 2" in table
    assert main(["registry", "export-mlflow", "iris", "2", "out", "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported == {"name": "iris", "version": "2", "directory": str(tmp_path / "out")}
    # an imported version goes back out as the MLflow model folder it came in as
    assert (tmp_path / "out" / "model.skops").is_file()
    X, _ = iris
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "out"))
    assert (loaded.predict(X) == store.models["iris2"].predict(X)).all()


# --- export -------------------------------------------------------------------------------------


def test_an_exported_sklearn_version_loads_with_pyfunc_and_predicts_the_same(
    iris: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    with registry_at(tmp_path / ".modelops") as registry:
        registry.register("iris", "1.0", model=model, sample=X)
        written = export_mlflow(registry, "iris", "1.0", tmp_path / "exported")
    assert written == tmp_path / "exported"
    meta = mlflow.models.Model.load(str(written / "MLmodel"))
    assert meta.flavors["sklearn"]["serialization_format"] == "skops"
    assert meta.signature.inputs.input_names()[0] == "sepal length (cm)"
    loaded = mlflow.pyfunc.load_model(str(written))
    assert (np.asarray(loaded.predict(X)) == model.predict(X)).all()
    native = mlflow.sklearn.load_model(str(written))
    assert np.array_equal(native.predict_proba(X), model.predict_proba(X))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".exported-")]


def test_an_exported_onnx_version_loads_with_pyfunc_and_predicts_the_same(
    iris: tuple[Any, Any], tmp_path: Path
) -> None:
    from modelops_flavor_sklearn import SklearnFlavor

    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X.to_numpy(), y)
    inputs = X.to_numpy(dtype=np.float32)
    home = tmp_path / ".modelops"
    with ModelRegistry(make_runtime(home, PLUGINS, config=Config(home=home)),
                       flavors=[SklearnFlavor(persistence="onnx")]) as registry:  # fmt: skip
        registry.register("iris-onnx", "1", model=model)
        expected = registry.load("iris-onnx", "1").predict(inputs)
        export_mlflow(registry, "iris-onnx", "1", tmp_path / "onnx")
    meta = mlflow.models.Model.load(str(tmp_path / "onnx" / "MLmodel"))
    assert sorted(meta.flavors) == ["onnx", "python_function"]
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "onnx"))
    answer = loaded.predict(inputs)
    labels = answer[meta_first_output(loaded)] if isinstance(answer, dict) else answer
    assert np.array_equal(np.asarray(labels).ravel(), expected)
    assert (expected == model.predict(X.to_numpy())).mean() == 1.0


def meta_first_output(loaded: Any) -> str:
    return str(loaded._model_impl.rt.get_outputs()[0].name)


def test_export_refuses_a_model_it_cannot_write_and_a_folder_with_files(
    iris: tuple[Any, Any], tmp_path: Path
) -> None:
    X, y = iris
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with registry_at(tmp_path / ".modelops") as registry:
        registry.register("weights", "1", model={"w": [1, 2]})
        refused = "weights 1 is stored as the 'json' flavor; export-mlflow writes scikit-learn"
        with pytest.raises(MlflowBridgeError, match=refused):
            export_mlflow(registry, "weights", "1", tmp_path / "out")
        registry.register("iris", "1", model=LogisticRegression(max_iter=500).fit(X, y))
        with pytest.raises(MlflowBridgeError, match="taken already exists and is not an empty"):
            export_mlflow(registry, "iris", "1", tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".modelops",
        "taken",
    ]  # nothing half-written
