"""MLflow in and out: import an MLflow model registry, export a version as an MLflow model.

    from modelops_core.registry.mlflow_bridge import export_mlflow, import_mlflow

    report = import_mlflow(registry, "sqlite:///mlflow.db", model="churn")
    export_mlflow(registry, "bc", "1.0", "exported/bc")   # mlflow.pyfunc.load_model loads it

Both need ``pip install 'modelops-core[mlflow]'`` (mlflow-skinny, plus SQLAlchemy and Alembic
for ``sqlite:///`` and other database tracking URIs); mlflow is imported when they run, never
by ``import modelops_core``.

**Import** copies each registered model version with the same version number: the version's
artifacts (the MLflow model folder, stored as the version's folder), its tags (the registered
model's tags under the version's own), description, the source run's params and metrics
(``metadata["mlflow"]["run"]``, the metrics also as the version's evaluation), the lineage back
to the MLflow run (lineage ``mlflow_run_id``, ``mlflow_model``, ``mlflow_source``,
``mlflow_experiment_id``; ``run_id`` stays for runs of this project's own tracking store), and the
model's aliases. A version whose artifacts cannot be downloaded is imported without them (a
small JSON record stands for the model) with one :class:`MlflowArtifactsMissingWarning` per
version. Importing again skips what was imported before.

**Export** writes an MLflow model folder with MLflow's own writers: a scikit-learn version
(stored with skops) as MLflow's ``sklearn`` flavor in its skops format, an ONNX version (or a
scikit-learn one stored as ONNX) as MLflow's ``onnx`` flavor; both also load with
``mlflow.pyfunc.load_model``. A version imported from MLflow is written back as the MLflow
model folder it was imported with.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.config import mask_url, mask_urls_in
from modelops_core.errors import ModelOpsError

if TYPE_CHECKING:
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.store.contract import ModelVersion

__all__ = [
    "ImportedVersion",
    "MlflowArtifactsMissingWarning",
    "MlflowBridgeError",
    "MlflowImport",
    "export_mlflow",
    "import_mlflow",
]

#: ``format`` of the JSON record registered in place of artifacts that could not be downloaded
MISSING_FORMAT = "modelops-mlflow-missing-artifacts/1"
_PAGE = 200
_SQL_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


class MlflowBridgeError(ModelOpsError):
    """An MLflow store cannot be imported, or a version cannot be exported to MLflow."""


class MlflowArtifactsMissingWarning(UserWarning):
    """An MLflow model version was imported without its artifacts (they could not be read)."""


@attrs.frozen
class ImportedVersion:
    """One MLflow model version and what the import did with it.

    :param status: ``imported``, or ``skipped`` (imported before, unchanged).
    :param artifacts: True when its artifacts were copied.
    """

    name: str
    version: str
    mlflow_name: str
    run_id: str | None
    status: str
    artifacts: bool

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class MlflowImport:
    """What :func:`import_mlflow` did: the versions, the aliases set, the warnings given."""

    tracking_uri: str
    versions: tuple[ImportedVersion, ...]
    aliases: tuple[tuple[str, str, str], ...]  # (name, alias, version)
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "tracking_uri": self.tracking_uri,
            "versions": [version.to_json() for version in self.versions],
            "aliases": [{"name": n, "alias": a, "version": v} for n, a, v in self.aliases],
            "warnings": list(self.warnings),
        }


# --- import -------------------------------------------------------------------------------------


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError as exc:
        raise MlflowBridgeError(
            "MLflow import and export need mlflow: pip install 'modelops-core[mlflow]' "
            "(mlflow-skinny, with SQLAlchemy and Alembic for database tracking URIs)."
        ) from exc
    return mlflow


def _check_store(tracking_uri: str) -> None:
    """Refuse a database file that does not exist: MLflow would create an empty store."""
    scheme = tracking_uri.partition(":")[0].split("+")[0].lower()
    if scheme == "sqlite":
        path = tracking_uri.partition(":///")[2].split("?")[0]
        if not path or path == ":memory:" or not Path(path).is_file():
            raise MlflowBridgeError(
                f"There is no MLflow database at {mask_url(tracking_uri)} (no file "
                f"{path or '(none)'!r}). Give the tracking URI of an existing store, e.g. "
                "sqlite:////abs/path/mlflow.db (MLflow's --backend-store-uri)."
            )
    elif "://" not in tracking_uri and not Path(tracking_uri).is_dir():
        raise MlflowBridgeError(
            f"There is no MLflow store at {tracking_uri!r}: give a tracking URI (sqlite:///…, "
            "postgresql://…, http://host:5000) or an existing mlruns folder."
        )


def _paged(search: Any, *args: Any) -> Iterator[Any]:
    token = None
    while True:
        page = search(*args, max_results=_PAGE, page_token=token)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _quoted(name: str) -> str:
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def import_mlflow(
    registry: ModelRegistry,
    tracking_uri: str,
    *,
    model: str | None = None,
    registry_uri: str | None = None,
) -> MlflowImport:
    """Import the registered models of the MLflow store at ``tracking_uri`` into ``registry``.

    :param model: only this registered model (default: every one).
    :param registry_uri: MLflow's model registry URI when it is not the tracking URI.
    :raises MlflowBridgeError: no store there, no such model, or a version of the same
        number that came from somewhere else is in the registry already.
    """
    _mlflow()
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    _check_store(tracking_uri)
    shown_uri = mask_url(tracking_uri)
    try:
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
        if model is not None:
            names = [client.get_registered_model(model).name]
        else:
            names = [m.name for m in _paged(client.search_registered_models, None)]
    except MlflowException as exc:
        if model is not None and getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            try:
                known = sorted(m.name for m in _paged(client.search_registered_models, None))
            except MlflowException:
                known = []
            raise MlflowBridgeError(
                f"The MLflow store {shown_uri} has no registered model {model!r}; it has: "
                f"{', '.join(known[:20]) or 'none'}. Give one of them with --model/model=."
            ) from exc
        raise MlflowBridgeError(
            f"Cannot read the MLflow store {shown_uri}: {mask_urls_in(str(exc))}"
        ) from exc
    versions: list[ImportedVersion] = []
    aliases: list[tuple[str, str, str]] = []
    given: list[str] = []
    for mlflow_name in names:
        found = _import_model(registry, client, tracking_uri, mlflow_name, given)
        versions += found[0]
        aliases += found[1]
    return MlflowImport(shown_uri, tuple(versions), tuple(aliases), tuple(given))


def _warn(given: list[str], message: str, category: type[Warning] = UserWarning) -> None:
    given.append(message)
    warnings.warn(message, category, stacklevel=4)


def _local_name(mlflow_name: str, given: list[str]) -> str:
    import re

    from modelops_core.registry.model_registry import validate_model_name
    from modelops_core.store.contract import InvalidModelNameError

    try:
        return validate_model_name(mlflow_name)
    except InvalidModelNameError:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", mlflow_name).strip("-._")[:128] or "model"
        slug = re.sub(r"\.{2,}", ".", slug)
        _warn(
            given,
            f"MLflow model {mlflow_name!r} is imported as {slug!r} (model names here are "
            "letters, digits, '.', '_' and '-'); its MLflow name is kept in "
            "metadata['mlflow']['name'].",
        )
        return slug


def _import_model(
    registry: ModelRegistry, client: Any, tracking_uri: str, mlflow_name: str, given: list[str]
) -> tuple[list[ImportedVersion], list[tuple[str, str, str]]]:
    from modelops_core.registry.model_registry import validate_alias
    from modelops_core.store.contract import InvalidModelNameError

    name = _local_name(mlflow_name, given)
    described = client.get_registered_model(mlflow_name)
    model_tags = dict(described.tags or {})
    found = list(_paged(client.search_model_versions, f"name={_quoted(mlflow_name)}"))
    found.sort(key=lambda mv: int(mv.version))
    imported: list[ImportedVersion] = []
    for mv in found:
        imported.append(
            _import_version(registry, client, tracking_uri, name, mv, model_tags, described, given)
        )
    set_aliases: list[tuple[str, str, str]] = []
    current = registry.aliases(name) if imported else {}
    for alias, version in sorted(dict(described.aliases or {}).items()):
        try:
            validate_alias(alias)
        except InvalidModelNameError:
            _warn(
                given,
                f"MLflow alias {alias!r} of {mlflow_name} is not a valid alias here (letters, "
                "digits, '.', '_', '-'; a letter first); it was not set.",
            )
            continue
        if current.get(alias) != str(version):
            registry.set_alias(name, alias, str(version))
        set_aliases.append((name, alias, str(version)))
    return imported, set_aliases


def _import_version(
    registry: ModelRegistry,
    client: Any,
    tracking_uri: str,
    name: str,
    mv: Any,
    model_tags: Mapping[str, str],
    described: Any,
    given: list[str],
) -> ImportedVersion:
    from modelops_core.store.contract import ModelNotFoundError, VersionNotFoundError

    version = str(mv.version)
    source = {"tracking_uri": mask_url(tracking_uri), "name": mv.name, "version": version}
    run_id = mv.run_id or None
    try:
        existing: ModelVersion | None = registry.get_version(name, version)
    except (ModelNotFoundError, VersionNotFoundError):
        existing = None
    if existing is not None:
        recorded = existing.metadata.get("mlflow")
        if isinstance(recorded, Mapping) and recorded.get("source") == source:
            return ImportedVersion(name, version, mv.name, run_id, "skipped",
                                   recorded.get("artifacts") == "copied")  # fmt: skip
        raise MlflowBridgeError(
            f"{name} {version} is already in the registry and was not imported from "
            f"{mv.name} {version} of {source['tracking_uri']}; nothing of that version was "
            f"changed. Import into another registry, or rename the model in MLflow first."
        )
    run = _run_of(client, run_id, mv, given)
    document: dict[str, Any] = {
        "source": source,
        "name": mv.name,
        "description": mv.description or None,
        "model_description": described.description or None,
        "model_tags": dict(model_tags),
        "version_tags": dict(mv.tags or {}),
        "artifact_source": mask_url(str(mv.source or "")),
        "model_id": getattr(mv, "model_id", None),
        "status": mv.status,
        "created_at_ms": mv.creation_timestamp,
        "user_id": mv.user_id,
        "run": run,
    }
    lineage: dict[str, Any] = {  # run_id is a run of this project's tracking store: not MLflow's
        "mlflow_run_id": run_id,
        "mlflow_model": f"{mv.name}/{version}",
        "mlflow_source": mask_url(str(mv.source or "")),
        "mlflow_tracking_uri": mask_url(tracking_uri),
    }
    if run is not None and run.get("experiment_id") is not None:
        lineage["mlflow_experiment_id"] = run["experiment_id"]
    metrics = dict(run["metrics"]) if run else {}
    with tempfile.TemporaryDirectory(prefix="modelops-mlflow-") as scratch:
        folder, reason = _download(client, mv, Path(scratch))
        if folder is None:
            document["artifacts"] = "missing"
            document["artifacts_error"] = reason
            _warn(
                given,
                f"MLflow model {mv.name} version {version}: its artifacts could not be read "
                f"({reason}); it was imported without them (metadata, tags, run and lineage "
                "only). Restore the artifacts and import into a fresh registry to get them.",
                MlflowArtifactsMissingWarning,
            )
            placeholder = {"format": MISSING_FORMAT, "mlflow": source,
                           "artifact_source": document["artifact_source"]}  # fmt: skip
            stored = registry.register(
                name, version, model=placeholder, metadata={"mlflow": document},
                tags={**model_tags, **(mv.tags or {})}, lineage=lineage,
                evaluation=metrics or None,
            )  # fmt: skip
            return ImportedVersion(stored.name, stored.version, mv.name, run_id, "imported", False)
        document["artifacts"] = "copied"
        document["flavors"] = _flavors_of(folder)
        stored = registry.register(
            name, version, model_path=folder, metadata={"mlflow": document},
            tags={**model_tags, **(mv.tags or {})}, lineage=lineage, evaluation=metrics or None,
        )  # fmt: skip
    return ImportedVersion(stored.name, stored.version, mv.name, run_id, "imported", True)


def _run_of(client: Any, run_id: str | None, mv: Any, given: list[str]) -> dict[str, Any] | None:
    from mlflow.exceptions import MlflowException

    if not run_id:
        return None
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        _warn(given, f"MLflow model {mv.name} version {mv.version}: its run {run_id} cannot be "
                     f"read ({mask_urls_in(str(exc))[:200]}); imported without params and "
                     "metrics.")  # fmt: skip
        return None
    return {
        "run_id": run_id,
        "run_name": run.info.run_name,
        "experiment_id": run.info.experiment_id,
        "status": run.info.status,
        "params": dict(run.data.params),
        "metrics": dict(run.data.metrics),
        "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.log-model")},
    }


def _download(client: Any, mv: Any, scratch: Path) -> tuple[Path | None, str]:
    """The version's artifacts in a local folder, or None and why not."""
    from mlflow.artifacts import download_artifacts

    target = scratch / "model"
    target.mkdir()
    try:
        uri = client.get_model_version_download_uri(mv.name, mv.version)
        local = Path(download_artifacts(artifact_uri=uri, dst_path=str(target)))
    except Exception as exc:  # MlflowException, OSError: the store lost them
        text = " ".join(mask_urls_in(str(exc)).replace("#", "").split())
        return None, f"{type(exc).__name__}: {text[:300]}"
    folder = local if local.is_dir() else target
    if not any(folder.iterdir()):
        return None, f"the artifact location {mask_url(str(uri))} is empty"
    return folder, ""


def _flavors_of(folder: Path) -> list[str]:
    from mlflow.models import Model

    if not (folder / "MLmodel").is_file():
        return []
    try:
        return sorted(Model.load(str(folder / "MLmodel")).flavors)
    except Exception:  # a damaged MLmodel: the folder is still the artifact
        return []


# --- export -------------------------------------------------------------------------------------

_SIGNATURE_TYPES = {
    "float64": "double", "float32": "float", "int64": "long", "int32": "integer",
    "bool": "boolean", "str": "string", "object": "string",
}  # fmt: skip


def export_mlflow(
    registry: ModelRegistry,
    name: str,
    version: str | None,
    directory: str | os.PathLike[str],
    *,
    alias: str | None = None,
) -> Path:
    """Write ``name`` ``version`` as an MLflow model folder at ``directory`` (which must not
    exist, or be empty); returns its path. Written in a scratch folder beside it and moved
    into place, so a failed export leaves nothing behind.

    :raises MlflowBridgeError: the version is not a scikit-learn or ONNX model, or
        ``directory`` holds files.
    """
    _mlflow()
    from modelops_core.flavors.resolve import METADATA_KEY

    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise MlflowBridgeError(
            f"{target} already exists and is not an empty folder; export-mlflow writes a new "
            "MLflow model folder: give a path that does not exist yet."
        )
    record = registry.get_version(name, version, alias=alias)
    where = f"{record.name} {record.version}"
    if not record.serializer:
        folder = Path(registry.get_model(record.name, record.version))
        if folder.is_dir() and (folder / "MLmodel").is_file():  # imported from MLflow: as it was
            return _move_into(target, lambda written: shutil.copytree(folder, written))
    if record.serializer not in ("sklearn", "onnx"):
        kind = f"the {record.serializer!r} flavor" if record.serializer else "a file or folder"
        raise MlflowBridgeError(
            f"{where} is stored as {kind}; export-mlflow writes scikit-learn and ONNX models "
            "(register the estimator or ONNX model itself: registry.register(name, "
            "model=estimator))."
        )
    loaded = registry.load(record.name, record.version)
    native = getattr(loaded, "native", loaded)
    flavor_record = record.metadata.get(METADATA_KEY)
    flavor_record = flavor_record if isinstance(flavor_record, Mapping) else {}

    def write(written: Path) -> None:
        if hasattr(native, "session") and hasattr(native, "data"):  # an OnnxModel
            _save_onnx(native.data, written, flavor_record)
        else:
            _save_sklearn(native, written, flavor_record)

    return _move_into(target, write)


def _move_into(target: Path, write: Callable[[Path], Any]) -> Path:
    """``write(folder)`` in a scratch folder beside ``target``, then moved into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    written = scratch / "model"
    try:
        write(written)
        with contextlib.suppress(FileNotFoundError):
            target.rmdir()  # an empty folder given as the target
        os.replace(written, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _requirements(record: Mapping[str, Any], defaults: dict[str, str]) -> list[str]:
    recorded = record.get("libraries")
    libraries = dict(recorded) if isinstance(recorded, Mapping) else {}
    for distribution, version in defaults.items():
        libraries.setdefault(distribution, version)
    return [f"{distribution}=={version}" for distribution, version in sorted(libraries.items())]


def _signature(record: Mapping[str, Any]) -> Any:
    """MLflow's column signature of a recorded column schema (None for tensors)."""
    schema = record.get("input")
    if not isinstance(schema, Mapping) or schema.get("kind") != "columns":
        return None
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    columns: list[Any] = []
    for column in schema.get("columns") or ():
        kind = _SIGNATURE_TYPES.get(str(column.get("dtype")))
        if kind is None:  # "number" and other loose types: no signature rather than a wrong one
            return None
        columns.append(ColSpec(kind, str(column["name"])))
    return ModelSignature(inputs=Schema(columns)) if columns else None


def _save_sklearn(model: Any, path: Path, record: Mapping[str, Any]) -> None:
    import mlflow.sklearn
    import sklearn
    import skops
    import skops.io

    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    mlflow.sklearn.save_model(
        model,
        str(path),
        serialization_format="skops",
        skops_trusted_types=list(untrusted) or None,
        pip_requirements=_requirements(
            record, {"scikit-learn": sklearn.__version__, "skops": skops.__version__}
        ),
        signature=_signature(record),
    )


def _save_onnx(data: bytes, path: Path, record: Mapping[str, Any]) -> None:
    import mlflow.onnx
    import onnx
    import onnxruntime

    mlflow.onnx.save_model(
        onnx.load_from_string(data),
        str(path),
        pip_requirements=_requirements(
            record, {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}
        ),
    )
