"""ModelRegistry: versioned models with aliases, lineage, an audit log and policy hooks.

The registry holds the policy (name and version validation, ``require_evaluation``, the
``modelops_before_register`` veto, serializers); the backend chosen by ``[registry] backend``
stores rows and the store chosen by ``[artifacts] store`` stores bytes (see
:mod:`modelops_core.store.contract`). The artifact is written before the version row, so a crash
never leaves a version pointing to a missing or partial artifact.

    registry = ModelRegistry()
    registry.register("churn", "1.0", {"weights": [0.1, 0.2]})
    registry.set_alias("churn", "production", "1.0")
    registry.load("churn", alias="production")
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from modelops_core.errors import ModelOpsError
from modelops_core.flavors.builtin import BytesModelFlavor, JsonFlavor, NumpyFlavor, PickleFlavor
from modelops_core.flavors.contract import FlavorError
from modelops_core.registry.versions import Version, next_version, parse_version
from modelops_core.store.contract import (
    AliasEvent,
    ArtifactRef,
    ArtifactStore,
    AuditEntry,
    DuplicateVersionError,
    InvalidModelNameError,
    ModelVersion,
    RegistryBackend,
    ReleaseIndex,
    StorageError,
    VersionNotFoundError,
    check_artifact_ref,
)
from modelops_core.store.lazy_open import StoreFacade

if TYPE_CHECKING:
    from modelops_core.flavors.resolve import Flavors
    from modelops_core.monitoring.profile import Profile
    from modelops_core.runtime import Runtime

# used with fullmatch: "$" would also match before a trailing newline ("m\n")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")
_AUTO_RETRIES = 100
_FLAVORS_BUILT = threading.Lock()  # a registry's flavors are built once, on first use
_REMEMBERED_NAMES = 1024  # valid model names a registry remembers (forgotten all at once)
_LINEAGE_KEYS = (
    "dataset_fingerprint",
    "training_job",
    "base_model",
    "provider",
    "parent_version",
    "run_id",
)


class RegistryPolicyError(ModelOpsError):
    """The registration breaks the configured policy (e.g. ``require_evaluation``)."""


class EvaluationRequiredError(RegistryPolicyError):
    """``require_evaluation = true`` and the version carries no evaluation results."""


#: the error of a model no flavor stores or loads (the flavors' error, under its old name)
SerializerError = FlavorError


# --- serializers (the built-in model flavors, under their old names) ---------------------------


@runtime_checkable
class Serializer(Protocol):
    """Turns an in-memory model into bytes and back: a model flavor that stores one byte string
    (see :mod:`modelops_core.flavors.contract`). ``name`` is stored with the version."""

    name: str

    def accepts(self, model: Any) -> bool: ...

    def dumps(self, model: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


JsonSerializer = JsonFlavor
BytesSerializer = BytesModelFlavor
NumpySerializer = NumpyFlavor
PickleSerializer = PickleFlavor


# --- values ------------------------------------------------------------------------------------


@attrs.frozen
class Lineage:
    """Where a model version came from (every field optional)."""

    name: str
    version: str
    dataset_fingerprint: str | None = None
    training_job: str | None = None
    base_model: str | None = None
    provider: str | None = None
    parent_version: str | None = None
    run_id: str | None = None
    evaluation: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)


def validate_model_name(name: str) -> str:
    """``name`` if valid: 1-128 letters, digits, ``.``, ``_``, ``-``; letter or digit first."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise InvalidModelNameError(
            f"Invalid model name {name!r}: use 1-128 letters, digits, '.', '_' and '-', "
            "starting with a letter or digit (no '/', '\\' or '..')."
        )
    return name


def validate_alias(alias: str) -> str:
    """``alias`` if valid: 1-64 letters, digits, ``.``, ``_``, ``-``, starting with a letter."""
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidModelNameError(
            f"Invalid alias {alias!r}: use 1-64 letters, digits, '.', '_' and '-', starting "
            "with a letter (e.g. 'production', 'staging')."
        )
    return alias


def _json_mapping(value: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a mapping, got {type(value).__name__}.")
    try:
        return dict(json.loads(json.dumps(dict(value), default=_json_default)))
    except (TypeError, ValueError) as exc:
        raise StorageError(
            f"{what} must hold JSON values (strings, numbers, booleans, lists, mappings): {exc}."
        ) from exc


def _json_default(value: Any) -> Any:
    if attrs.has(type(value)):
        return attrs.asdict(value)
    for method in ("to_dict", "as_dict"):
        convert = getattr(value, method, None)
        if callable(convert):
            return convert()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON-serializable")


def _evaluation_mapping(evaluation: Any) -> dict[str, Any]:
    converted = json.loads(json.dumps(evaluation, default=_json_default))
    if not isinstance(converted, dict):
        raise TypeError(
            "evaluation must be an EvaluationResult or a mapping of metric name to value, got "
            f"{type(evaluation).__name__}."
        )
    return converted


# --- the facade --------------------------------------------------------------------------------


class ModelRegistry(StoreFacade):
    """Register, find, alias, roll back and load model versions.

    Close it (or use it in ``with``) to close the backend and store it opened; a closed
    registry raises :class:`~modelops_core.store.facade.FacadeClosedError` when used.

    :param runtime: the runtime whose configuration chooses the backend and artifact store
        (default: a new :class:`~modelops_core.runtime.Runtime`).
    :param actor: who is recorded in the audit log. Default: ``MODELOPS_ACTOR`` in the
        runtime's environment (``Runtime(environ=...)``), else the login name (``$LOGNAME``,
        ``$USER``). Both defaults are advisory, since whoever starts the process sets them; a
        platform that authenticates its users passes the authenticated name here.
    :param backend: a registry backend object to use instead of ``[registry] backend``.
    :param artifacts: an artifact store object to use instead of ``[artifacts] store``.
    :param serializers: serializers for in-memory models, tried in order after the built-in
        ``json``, ``bytes`` and ``numpy`` (model flavors that store one byte string).
    :param flavors: model flavors to use before the ones the plugins declare (e.g.
        ``SklearnFlavor(allow_pickle=True)``, ``PickleFlavor()``); see docs/models.md.
    """

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        actor: str | None = None,
        backend: RegistryBackend | None = None,
        artifacts: ArtifactStore | None = None,
        serializers: Iterable[Serializer] = (),
        flavors: Iterable[Any] = (),
    ) -> None:
        if runtime is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        super().__init__(runtime, "registry", RegistryBackend, backend=backend, artifacts=artifacts)
        self.actor = actor or _default_actor(runtime.environ)
        self._valid_names: set[str] = set()
        self._checked_backend: RegistryBackend | None = None
        self._release_index: ReleaseIndex | None = None  # the backend, if it offers one
        # Built on first use: registering a file or folder needs no flavor (nor the imports of
        # flavor resolution, schemas and frames).
        self._given_flavors = (*serializers, *flavors)
        for given in self._given_flavors:  # refused now, as Flavors.add would
            if not isinstance(getattr(given, "name", None), str):
                raise TypeError(f"{given!r} is not a model flavor: it has no name.")
        self._flavor_set: Flavors | None = None

    # --- components ----------------------------------------------------------------------------

    @property
    def backend(self) -> RegistryBackend:
        """The registry backend (created on first use from ``[registry]``)."""
        backend: RegistryBackend = self._opened_backend()
        return backend

    @property
    def artifacts(self) -> ArtifactStore:
        """The artifact store (created on first use from ``[artifacts]``)."""
        return self._opened_artifacts()

    def add_serializer(self, serializer: Serializer) -> None:
        """Make ``serializer`` available for registering and loading in-memory models."""
        self._flavors.add(serializer)

    def add_flavor(self, flavor: Any) -> None:
        """Use the model flavor ``flavor`` (before the plugins' flavors of the same name)."""
        self._flavors.add(flavor)

    @property
    def flavors(self) -> Flavors:
        """The model flavors this registry stores and loads with."""
        return self._flavors

    @property
    def _flavors(self) -> Flavors:
        if self._flavor_set is None:
            from modelops_core.flavors.resolve import Flavors

            built = Flavors(self._given_flavors, self.runtime)
            with _FLAVORS_BUILT:  # threads asking at once all get the same set
                if self._flavor_set is None:
                    self._flavor_set = built
        return self._flavor_set

    # --- registering ---------------------------------------------------------------------------

    def register_model(
        self,
        name: str,
        model_path: str | os.PathLike[str],
        version: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Register the file or folder at ``model_path`` (the reference module's signature)."""
        return self.register(name, version, model_path=model_path, metadata=metadata)

    def register(
        self,
        name: str,
        version: str | None = None,
        model: Any = None,
        *,
        model_path: str | os.PathLike[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        lineage: Mapping[str, Any] | None = None,
        evaluation: Any = None,
        serializer: str | None = None,
        flavor: Any = None,
        sample: Any = None,
    ) -> ModelVersion:
        """Register a version of ``name`` from a path or an in-memory model.

        :param version: ``"1.0"``, ``"2.1.0"`` …; None auto-increments (``1``, ``2`` … or the
            highest release's last number plus one).
        :param model: a dict, list, bytes, numpy array, an object a serializer accepts, or a
            path (``str`` or ``Path``) to a file or folder.
        :param model_path: a file or folder to register (instead of ``model``).
        :param metadata: JSON metadata stored with the version.
        :param tags: JSON tags used by :meth:`search`.
        :param lineage: ``dataset_fingerprint``, ``training_job``, ``base_model``,
            ``provider``, ``parent_version``, ``run_id`` (plus any extra keys).
        :param evaluation: evaluation results (an ``EvaluationResult`` or a mapping), stored
            as ``metadata["evaluation"]``; required when ``require_evaluation = true``.
        :param serializer: the serializer name for an in-memory model (default: the first that
            accepts it); the same as ``flavor``.
        :param flavor: the model flavor (a name or a flavor object) for an in-memory model
            (default: the first that accepts it: ``json``, ``bytes``, ``numpy``, then the
            plugins' flavors such as ``sklearn`` and ``onnx``).
        :param sample: input data (a DataFrame, an array …) the input and output schemas are
            taken from (``predict`` runs on its first rows); recorded with the flavor and
            library versions in ``metadata["model_flavor"]``.
        :raises DuplicateVersionError: the version (or an equal one) exists.
        :raises VetoError: a ``modelops_before_register`` hook refused it.
        """
        self._check_name(name)
        if model is not None and model_path is not None:
            raise TypeError("Pass either model or model_path, not both.")
        if model is None and model_path is None:
            raise TypeError(
                f"Nothing to register for {name!r}: pass model=<object or path> or model_path=."
            )
        stored_metadata = _json_mapping(metadata, "metadata")
        if evaluation is not None:
            stored_metadata["evaluation"] = _evaluation_mapping(evaluation)
        stored_tags = _json_mapping(tags, "tags")
        stored_lineage = _json_mapping(lineage, "lineage")
        if self.runtime.config.require_evaluation and not stored_metadata.get("evaluation"):
            raise EvaluationRequiredError(
                f"Cannot register {name!r}: [registry] require_evaluation = true in "
                f"{self.runtime.config.source} and the version has no evaluation results. "
                "Pass evaluation=<EvaluationResult or {metric: value}> to register(), or "
                "metadata={'evaluation': {...}}."
            )
        explicit = parse_version(version) if version is not None else None
        # Serialize (cheap checks) before anything is stored or any hook is asked.
        if flavor is not None and serializer is not None:
            raise TypeError("Pass either flavor or serializer (its old name), not both.")
        workdir: list[str] = []  # the folder a path flavor wrote into, removed at the end
        try:
            payload, serializer_name, source, record = self._prepare(
                model, model_path, flavor if flavor is not None else serializer, sample, workdir
            )
            if record is not None:
                from modelops_core.flavors.resolve import METADATA_KEY

                stored_metadata[METADATA_KEY] = record
            return self._register(
                name, explicit, payload, serializer_name, source, stored_metadata, stored_tags,
                stored_lineage,
            )  # fmt: skip
        finally:
            if workdir:
                import shutil

                for folder in workdir:
                    shutil.rmtree(folder, ignore_errors=True)

    def _register(
        self,
        name: str,
        explicit: Version | None,
        payload: bytes | None,
        serializer_name: str,
        source: str | os.PathLike[str] | None,
        stored_metadata: dict[str, Any],
        stored_tags: dict[str, Any],
        stored_lineage: dict[str, Any],
    ) -> ModelVersion:
        wanted = explicit if explicit is not None else self._predict_version(name)
        artifact: ArtifactRef | None = None
        backend = self.backend
        for _ in range(_AUTO_RETRIES):
            self.runtime.veto(
                "modelops_before_register",
                name=name,
                version=wanted.text,
                metadata=stored_metadata,
            )
            if artifact is None:  # stored once, after the first answer of the hooks
                artifact = self._store(payload, source)
            record = ModelVersion(
                name, wanted.text, artifact, serializer_name, stored_metadata, stored_tags,
                stored_lineage,
            )  # fmt: skip
            try:
                stored = backend.add_version(record, wanted.key, actor=self.actor)
                break
            except DuplicateVersionError:
                if explicit is not None:
                    raise
            wanted = self._predict_version(name)  # taken meanwhile: the hooks are asked again
        else:
            raise StorageError(
                f"Could not auto-increment a version of {name!r} after {_AUTO_RETRIES} attempts "
                "(many concurrent registrations). Retry, or give an explicit version."
            )
        after_register = self.runtime.hook.modelops_after_register
        # Nobody listening: skip pluggy's call (3% of a registration). get_hookimpls() is public
        # HookCaller API; the implementations are only counted, never called by hand.
        if after_register.get_hookimpls():
            after_register(
                name=name, version=stored.version, metadata=stored.metadata, runtime=self.runtime
            )
        return stored

    def _check_name(self, name: str) -> None:
        """:func:`validate_model_name`, remembered for the names this registry has seen."""
        if name not in self._valid_names:
            validate_model_name(name)
            if len(self._valid_names) >= _REMEMBERED_NAMES:
                self._valid_names.clear()
            self._valid_names.add(name)

    def _prepare(
        self,
        model: Any,
        model_path: str | os.PathLike[str] | None,
        flavor: Any,
        sample: Any,
        workdir: list[str],
    ) -> tuple[bytes | None, str, str | os.PathLike[str] | None, dict[str, Any] | None]:
        """(bytes or a path to store, flavor name, the flavor record for the metadata)."""
        path = model_path if model_path is not None else model
        if isinstance(path, (str, os.PathLike)) and flavor is None:
            source = os.fspath(path)
            # Path() also finds "model.bin/" (a file written with a trailing slash)
            if not (os.path.exists(source) or Path(source).exists()):
                from modelops_core.store.contract import ArtifactNotFoundError

                raise ArtifactNotFoundError(
                    f"Cannot register {str(path)!r}: no such file or folder. Check the path; to "
                    "store a string itself, put it in a dict or pass it as bytes."
                )
            return None, "", path, None
        if isinstance(flavor, str):
            chosen = self._flavors.named(flavor, purpose="to store the model with")
        elif flavor is not None:
            chosen = flavor
        else:
            chosen = self._flavors.for_model(model)
        if not chosen.accepts(model):
            kind = f"{type(model).__module__}.{type(model).__qualname__}"
            raise FlavorError(
                f"The model flavor {chosen.name!r} does not store a {kind}. Leave flavor= out "
                f"to choose one by the model (available: {', '.join(self._flavors.names())})."
            )
        recorded = chosen.name not in ("json", "bytes", "numpy", "pickle") or sample is not None
        if callable(getattr(chosen, "dumps", None)):
            payload: bytes | None = chosen.dumps(model)
            written: str | None = None
            details: dict[str, Any] = {}
        else:
            import tempfile

            workdir.append(tempfile.mkdtemp(prefix="modelops-flavor-"))
            written = os.path.join(workdir[0], "model")
            os.mkdir(written)
            details = dict(chosen.save(model, Path(written)) or {})
            payload = None
        if not recorded:
            return payload, chosen.name, written, None
        from modelops_core.flavors.resolve import describe

        return payload, chosen.name, written, describe(chosen, model, sample, details)

    def _store(self, payload: bytes | None, source: str | os.PathLike[str] | None) -> ArtifactRef:
        if source is not None:
            return self.artifacts.put_path(source)
        assert payload is not None
        return self.artifacts.put_bytes(payload)

    def _predict_version(self, name: str) -> Version:
        """The next auto-incremented version: the highest release plus one (``1`` first)."""
        backend = self.backend
        if self._checked_backend is not backend:  # a protocol check costs microseconds
            self._checked_backend = backend
            self._release_index = backend if isinstance(backend, ReleaseIndex) else None
        if self._release_index is not None:
            highest = self._release_index.highest_release(name)
            if highest is not None:
                return parse_version(highest).next()
        # no release yet (none at all, or pre-releases only), or a backend without the index
        return parse_version(next_version(backend.list_version_names(name)))

    # --- reading -------------------------------------------------------------------------------

    def get_version(
        self, name: str, version: str | None = None, *, alias: str | None = None
    ) -> ModelVersion:
        """The stored record of a version (default: the latest active one)."""
        validate_model_name(name)
        if alias is not None:
            return self.get_by_alias(name, alias)
        if version is None:
            return self.latest(name)
        text = str(parse_version(version))
        try:
            return self.backend.get_version(name, text)
        except VersionNotFoundError:
            # an equal version written differently ("1" for "1.0"): the names are a cheap read
            wanted = parse_version(text)
            for stored in self.backend.list_version_names(name):
                if stored != text and parse_version(stored) == wanted:
                    return self.backend.get_version(name, stored)
            raise

    def latest(self, name: str) -> ModelVersion:
        """The highest active (not archived) version of ``name``."""
        records = [r for r in self.backend.list_versions(validate_model_name(name))]
        active = [r for r in records if r.status == "active"]
        if not active:
            raise VersionNotFoundError(
                f"Model {name!r} has no active version (all {len(records)} are archived). "
                "Pass an explicit version."
            )
        return max(active, key=lambda r: parse_version(r.version))

    def list_versions(self, name: str) -> list[str]:
        """Every version of ``name`` in ascending version order (``1.9`` before ``1.10``)."""
        records = self.backend.list_versions(validate_model_name(name))
        return [r.version for r in sorted(records, key=lambda r: parse_version(r.version))]

    def list_models(self) -> list[str]:
        """The registered model names, sorted."""
        return self.backend.list_models()

    def get_model(self, name: str, version: str | None = None, *, alias: str | None = None) -> str:
        """A verified local path to the version's file or folder (as ``str``)."""
        record = self.get_version(name, version, alias=alias)
        return str(self.artifacts.local_path(self._artifact_of(record)))

    def load(self, name: str, version: str | None = None, *, alias: str | None = None) -> Any:
        """The in-memory model given to :meth:`register`, or the :class:`Path` of a file model."""
        record = self.get_version(name, version, alias=alias)
        artifact = self._artifact_of(record)
        if not record.serializer:
            return self.artifacts.local_path(artifact)
        flavor = self._flavors.named(
            record.serializer,
            purpose=f"in this registry: {name} {record.version} was stored with it",
        )
        from modelops_core.flavors.resolve import METADATA_KEY, wrap

        stored = record.metadata.get(METADATA_KEY)
        stored = stored if isinstance(stored, Mapping) else {}
        if callable(getattr(flavor, "loads", None)):
            loaded = flavor.loads(self.artifacts.get_bytes(artifact))
        else:
            details = stored.get("details")
            loaded = flavor.load(
                self.artifacts.local_path(artifact), dict(details) if details else {}
            )
        return wrap(loaded, flavor, stored, f"{record.name}:{record.version}")

    # --- the reference profile (monitoring) -----------------------------------------------------

    def register_with_profile(
        self,
        name: str,
        version: str | None = None,
        model: Any = None,
        *,
        data: Any = None,
        profile: Profile | None = None,
        role: str = "training",
        **options: Any,
    ) -> ModelVersion:
        """:meth:`register` with the reference profile of the version's ``role`` data
        (``"training"`` or ``"evaluation"``): ``data`` is profiled (or ``profile`` given), stored
        as an artifact, pointed to by ``metadata["reference_profile"]``, and the lineage says
        which data it was. See :mod:`modelops_core.monitoring.reference`."""
        from modelops_core.monitoring.reference import register_with_profile

        return register_with_profile(
            self, name, version, model, data=data, profile=profile, role=role, **options
        )

    def reference_profile(
        self, name: str, version: str | None = None, *, alias: str | None = None
    ) -> Profile:
        """The reference profile stored with a version (default: the latest active one)."""
        from modelops_core.monitoring.reference import reference_profile

        return reference_profile(self, name, version, alias=alias)

    def _artifact_of(self, record: ModelVersion) -> ArtifactRef:
        """The version's artifact, its digest, kind and name checked before any store sees
        them: a damaged or hostile row is refused naming the model and version."""
        if record.artifact is None:
            raise StorageError(f"{record.name} {record.version} has no artifact.")
        owner = f"model {record.name!r} version {record.version}"
        return check_artifact_ref(record.artifact, owner)

    # --- aliases -------------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: str) -> str | None:
        """Point ``alias`` at ``version``; return the version it pointed to before."""
        record = self.get_version(name, version)
        return self.backend.set_alias(name, validate_alias(alias), record.version, actor=self.actor)

    def get_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points to."""
        version = self.backend.get_alias(validate_model_name(name), validate_alias(alias))
        return self.backend.get_version(name, version)

    def aliases(self, name: str) -> dict[str, str]:
        """Every alias of ``name`` and its version."""
        return self.backend.aliases(validate_model_name(name))

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``alias`` from ``name``."""
        self.backend.delete_alias(
            validate_model_name(name), validate_alias(alias), actor=self.actor
        )

    def rollback(self, name: str, alias: str = "production") -> str:
        """Move ``alias`` back to the version that held it before its latest move."""
        return self.backend.rollback_alias(
            validate_model_name(name), validate_alias(alias), actor=self.actor
        )

    def alias_history(self, name: str, alias: str) -> list[AliasEvent]:
        """Every move of ``alias``, oldest first."""
        return self.backend.alias_history(validate_model_name(name), validate_alias(alias))

    # --- search, lineage, lifecycle ------------------------------------------------------------

    def search(
        self,
        name_prefix: str = "",
        *,
        tags: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        include_archived: bool = False,
    ) -> list[ModelVersion]:
        """Versions whose name starts with ``name_prefix`` and whose tags/metadata match.

        A filter value matches when the stored value equals it; a dotted key such as
        ``"evaluation.accuracy"`` looks into nested metadata.
        """
        found = []
        for record in self.backend.search(name_prefix):
            if record.status != "active" and not include_archived:
                continue
            if _matches(record.tags, tags) and _matches(record.metadata, metadata):
                found.append(record)
        return sorted(found, key=lambda r: (r.name, parse_version(r.version)))

    def lineage(self, name: str, version: str) -> Lineage:
        """Where the version came from: dataset, training job, base model, evaluation …"""
        record = self.get_version(name, version)
        given = dict(record.lineage)
        known = {key: given.pop(key, None) for key in _LINEAGE_KEYS}
        evaluation = record.metadata.get("evaluation")
        return Lineage(
            name=record.name,
            version=record.version,
            evaluation=evaluation if isinstance(evaluation, Mapping) else None,
            extra=given,
            **{key: None if value is None else str(value) for key, value in known.items()},
        )

    def archive(self, name: str, version: str) -> None:
        """Mark a version archived: kept and loadable, hidden from latest and search."""
        record = self.get_version(name, version)
        self.backend.set_status(name, record.version, "archived", actor=self.actor)

    def restore(self, name: str, version: str) -> None:
        """Make an archived version active again."""
        record = self.get_version(name, version)
        self.backend.set_status(name, record.version, "active", actor=self.actor)

    def delete(self, name: str, version: str) -> ModelVersion:
        """Delete a version and the aliases pointing to it (its content-addressed artifact is
        kept, since other versions may share it)."""
        record = self.get_version(name, version)
        return self.backend.delete_version(name, record.version, actor=self.actor)

    def audit(self, name: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest audit entries (of model ``name``), newest first."""
        if name is not None:
            validate_model_name(name)
        return self.backend.audit(name, limit)


def _matches(stored: Mapping[str, Any], wanted: Mapping[str, Any] | None) -> bool:
    for key, value in (wanted or {}).items():
        current: Any = stored
        for part in key.split("."):
            if not isinstance(current, Mapping) or part not in current:
                return False
            current = current[part]
        if current != value:
            return False
    return True


def _default_actor(environ: Mapping[str, str]) -> str:
    """``MODELOPS_ACTOR``, else the login name, read from ``environ`` (the runtime's)."""
    # getpass.getuser() reads the same variables first; looking them up here spares its import
    # (and termios, pwd) when one is set, as it nearly always is.
    for variable in ("MODELOPS_ACTOR", "LOGNAME", "USER", "LNAME", "USERNAME"):
        user = environ.get(variable)
        if user:
            return user
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER", "unknown")
