"""The storage contract: what a registry backend, a tracking backend and an artifact store offer.

Plugins implement these protocols; the facades (:mod:`modelops_core.registry`,
:mod:`modelops_core.tracking`) hold all policy (validation, hooks, serializers) and only call
them. Every factory is called with ``home=<config.home as str>`` plus the options of its config
table, so embedded backends know where ``.modelops/`` is.

A backend of kind ``registry_backend`` may serve both model registry and tracking (the
first-party ``sql`` backend does): ``[tracking] backend`` names a ``registry_backend`` component
that implements :class:`TrackingBackend`.

Order of writes the facades rely on: the artifact is stored (atomically) *before* the version
row that points to it is committed, so a crash leaves at most an unreferenced artifact, never a
row whose artifact is missing or incomplete.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import attrs

from modelops_core.errors import ModelOpsError

# --- errors ------------------------------------------------------------------------------------


class StorageError(ModelOpsError):
    """A registry, tracking or artifact operation failed; the message says what to do."""


class InvalidModelNameError(StorageError, ValueError):
    """A model name with forbidden characters, a path separator or a bad length."""


class ModelNotFoundError(StorageError, LookupError):
    """No model with that name is registered."""


class VersionNotFoundError(StorageError, LookupError):
    """The model exists but not that version."""


class DuplicateVersionError(StorageError):
    """The version (or an equal one: ``1.0`` == ``1.0.0``) is already registered."""


class AliasNotFoundError(StorageError, LookupError):
    """The model has no such alias (or nothing to roll the alias back to)."""


class RunNotFoundError(StorageError, LookupError):
    """No tracking run with that id."""


class StoreLockedError(StorageError):
    """The database stayed locked by another writer after every retry."""


class SchemaVersionError(StorageError):
    """The database was written by a newer modelops version than the installed backend."""


class StoreConnectionError(StorageError):
    """The database server cannot be reached; the message names the (masked) URL and key."""


class ArtifactError(StorageError):
    """An artifact could not be stored or read."""


class ArtifactNotFoundError(ArtifactError, LookupError):
    """The artifact (or the path given to store) does not exist."""


class ArtifactCorruptedError(ArtifactError):
    """The stored bytes no longer hash to the artifact's digest; the artifact is not returned."""


# --- values ------------------------------------------------------------------------------------


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class ArtifactRef:
    """A stored artifact: ``digest`` is ``"sha256:<hex>"`` of a file, or of a folder's manifest.

    :param kind: ``"file"`` or ``"tree"`` (a folder).
    :param size: total bytes of the content.
    :param name: the original file or folder name (``""`` for in-memory bytes).
    """

    digest: str
    kind: str
    size: int
    name: str = ""


@attrs.frozen
class ModelVersion:
    """One registered version of a model, as stored.

    :param serializer: the serializer of an in-memory model (``""`` for a file or folder).
    :param lineage: dataset fingerprint, training job, base model, provider, evaluation,
        parent version, run id (whatever was given).
    :param status: ``"active"`` or ``"archived"``.
    """

    name: str
    version: str
    artifact: ArtifactRef | None
    serializer: str = ""
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    tags: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    lineage: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    status: str = "active"
    created_at: float = 0.0
    created_by: str = ""


@attrs.frozen
class AliasEvent:
    """One move of an alias: to ``version`` (None when deleted), from ``previous``."""

    name: str
    alias: str
    version: str | None
    previous: str | None
    at: float
    by: str
    action: str


@attrs.frozen
class AuditEntry:
    """One change to the registry: who did what to which model and version, and when."""

    at: float
    actor: str
    action: str
    name: str
    version: str | None
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)


@attrs.frozen
class MetricPoint:
    """One logged metric value."""

    key: str
    value: float
    step: int = 0
    timestamp: float = 0.0


@attrs.frozen
class RunRecord:
    """A tracking run with its parameters, tags, environment and the models it produced."""

    run_id: str
    experiment: str
    status: str
    started_at: float
    ended_at: float | None = None
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)
    tags: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    environment: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    models: tuple[tuple[str, str], ...] = ()
    artifacts: Mapping[str, ArtifactRef] = attrs.field(factory=dict, converter=_frozen_mapping)


# --- helpers shared by artifact stores -----------------------------------------------------------

TREE_MANIFEST_FORMAT = "modelops-tree/1"
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")


def artifact_hex(ref: ArtifactRef) -> str:
    """The 64 hex digits of ``ref.digest``; :class:`ArtifactError` for anything else (so a
    damaged row can never name a path outside the store)."""
    match = _DIGEST.match(ref.digest)
    if match is None:
        raise ArtifactError(
            f"Invalid artifact digest {ref.digest!r}: expected 'sha256:' and 64 hex digits. "
            "The registry row is damaged; register the model again."
        )
    return match[1]


def safe_artifact_name(name: str) -> str:
    """The last component of ``name`` (``""`` for nothing usable): never a path."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "" if base in ("", ".", "..") else base


def encode_tree_manifest(files: Sequence[tuple[str, str, int]]) -> bytes:
    """The manifest of a folder: sorted ``(relative path, "sha256:<hex>", size)`` as JSON.

    A folder artifact's digest is the sha256 of these bytes, the same in every store.
    """
    entries = sorted([relative, digest, size] for relative, digest, size in files)
    return json.dumps(
        {"format": TREE_MANIFEST_FORMAT, "files": entries}, separators=(",", ":")
    ).encode()


def put_tree(
    folder: Path,
    put_file: Callable[[Path], tuple[str, int]],
    put_bytes: Callable[[bytes], ArtifactRef],
) -> ArtifactRef:
    """Store every file of ``folder`` with ``put_file`` (-> hex digest, size), then its
    manifest with ``put_bytes``: the folder artifact every store writes the same way.

    Symbolic links and special files are refused, naming the file.
    """
    import os

    files: list[tuple[str, str, int]] = []
    total = 0
    for current, dirs, names in os.walk(folder):
        dirs.sort()
        for file_name in sorted(names):
            file_path = Path(current, file_name)
            relative = file_path.relative_to(folder).as_posix()
            if file_path.is_symlink() or not file_path.is_file():
                raise ArtifactError(
                    f"Cannot store the folder {str(folder)!r}: {relative!r} is a symbolic "
                    "link or special file. Replace it by a regular file or remove it."
                )
            digest, size = put_file(file_path)
            files.append((relative, f"sha256:{digest}", size))
            total += size
    ref = put_bytes(encode_tree_manifest(files))
    return ArtifactRef(ref.digest, "tree", total, safe_artifact_name(folder.name))


def decode_tree_manifest(data: bytes, label: str) -> list[tuple[str, str, int]]:
    """The entries of a (verified) manifest; refuses paths that would leave the folder."""
    try:
        document = json.loads(data)
        entries = [(str(r), str(d), int(n)) for r, d, n in document["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactCorruptedError(
            f"The folder artifact {label} has a corrupted manifest ({exc})."
        ) from None
    for relative, _, _ in entries:
        parts = relative.split("/")
        if relative.startswith("/") or "\\" in relative or any(p in ("", ".", "..") for p in parts):
            raise ArtifactCorruptedError(
                f"The folder artifact {label} lists the unsafe path {relative!r}; it is not "
                "extracted. Register the model again from a trusted copy."
            )
    return entries


# --- protocols ---------------------------------------------------------------------------------


@runtime_checkable
class ArtifactStore(Protocol):
    """Stores files and folders by content; every read is verified against the digest."""

    def put_path(self, path: str | os.PathLike[str]) -> ArtifactRef:
        """Store a file or folder (once per distinct content) and return its reference.

        ``path`` is a ``str`` or a :class:`~pathlib.Path` (the registry hands over what the
        user gave it); a link is stored as what it points to.
        """
        ...

    def put_bytes(self, data: bytes, name: str = "") -> ArtifactRef:
        """Store ``data`` as a file artifact."""
        ...

    def get_bytes(self, ref: ArtifactRef) -> bytes:
        """The content of a file artifact; :class:`ArtifactCorruptedError` on a mismatch."""
        ...

    def local_path(self, ref: ArtifactRef) -> Path:
        """A verified local file (named ``ref.name``) or folder with the artifact's content."""
        ...

    def exists(self, ref: ArtifactRef) -> bool:
        """Whether the artifact's content is stored (not verified)."""
        ...

    def delete(self, ref: ArtifactRef) -> None:
        """Forget the artifact's content (no error if it is already gone)."""
        ...


@runtime_checkable
class RegistryBackend(Protocol):
    """Stores model versions, aliases with their history and the audit log.

    Names and versions arrive validated; ``version_key`` is the canonical key of
    :class:`modelops_core.semver.Version` and must be unique per model. Every change writes an
    audit entry in the same transaction.
    """

    def add_version(self, record: ModelVersion, version_key: str, *, actor: str) -> ModelVersion:
        """Store a new version; :class:`DuplicateVersionError` if an equal one exists."""
        ...

    def get_version(self, name: str, version: str) -> ModelVersion:
        """The version; :class:`ModelNotFoundError` or :class:`VersionNotFoundError`."""
        ...

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name`` (any order); :class:`ModelNotFoundError` if none."""
        ...

    def list_version_names(self, name: str) -> list[str]:
        """The version texts of ``name`` (any order; ``[]`` if none): a cheap read used to
        predict the next auto-incremented version."""
        ...

    def list_models(self) -> list[str]:
        """The names of every model, sorted."""
        ...

    def set_alias(self, name: str, alias: str, version: str, *, actor: str) -> str | None:
        """Point ``alias`` at ``version``; return the version it held before (or None)."""
        ...

    def get_alias(self, name: str, alias: str) -> str:
        """The version ``alias`` points to; :class:`AliasNotFoundError` if unset."""
        ...

    def aliases(self, name: str) -> dict[str, str]:
        """Every alias of ``name`` and its version."""
        ...

    def delete_alias(self, name: str, alias: str, *, actor: str) -> None:
        """Remove ``alias``; :class:`AliasNotFoundError` if unset."""
        ...

    def rollback_alias(self, name: str, alias: str, *, actor: str) -> str:
        """Move ``alias`` back to the version that held it before its latest move."""
        ...

    def alias_history(self, name: str, alias: str) -> list[AliasEvent]:
        """Every move of ``alias``, oldest first."""
        ...

    def set_status(self, name: str, version: str, status: str, *, actor: str) -> None:
        """Set a version's status (``"active"`` or ``"archived"``)."""
        ...

    def delete_version(self, name: str, version: str, *, actor: str) -> ModelVersion:
        """Delete a version (and aliases pointing to it); return what was deleted."""
        ...

    def search(self, name_prefix: str = "") -> list[ModelVersion]:
        """Versions whose model name starts with ``name_prefix``; the facade filters further."""
        ...

    def audit(self, name: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest ``limit`` audit entries (of model ``name``), newest first."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class ReleaseIndex(Protocol):
    """An optional capability of a registry backend: the highest release without a scan.

    Without it the registry predicts the next auto-incremented version from
    :meth:`RegistryBackend.list_version_names`, which reads every version of the model.
    """

    def highest_release(self, name: str) -> str | None:
        """The stored text of the highest version of ``name`` that has no pre-release part
        (version order: ``1.10`` above ``1.9``), or None when there is none."""
        ...


@runtime_checkable
class TrackingBackend(Protocol):
    """Stores runs, their parameters, tags and metric points."""

    def create_run(
        self, experiment: str, *, tags: Mapping[str, Any], environment: Mapping[str, Any]
    ) -> RunRecord:
        """Start a new run of ``experiment`` (status ``"running"``)."""
        ...

    def end_run(self, run_id: str, status: str) -> None:
        """Mark the run ``"finished"`` or ``"failed"``."""
        ...

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Record parameters (a changed value replaces the old one)."""
        ...

    def log_metrics(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        """Record metric points in one transaction."""
        ...

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Merge ``tags`` into the run's tags."""
        ...

    def log_artifact(self, run_id: str, label: str, ref: ArtifactRef) -> None:
        """Record that the run produced the artifact ``ref`` under ``label``."""
        ...

    def link_model(self, run_id: str, name: str, version: str) -> None:
        """Record that the run produced the model version."""
        ...

    def get_metrics(self, run_id: str, key: str | None = None) -> list[MetricPoint]:
        """The run's metric points (of ``key``), ordered by key, step and time."""
        ...

    def get_run(self, run_id: str) -> RunRecord:
        """The run; :class:`RunNotFoundError` if unknown."""
        ...

    def list_runs(self, experiment: str | None = None, limit: int = 100) -> list[RunRecord]:
        """The newest runs (of ``experiment``), newest first."""
        ...

    def find_runs(
        self,
        experiment: str | None,
        tags: Mapping[str, Any],
        *,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs (of ``experiment``, with ``status``) whose tags equal every item of ``tags``,
        newest first, at most ``limit``. Tag values compare as JSON values (``1`` != ``"1"``)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
