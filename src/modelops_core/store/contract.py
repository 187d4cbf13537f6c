"""The storage contract: what a registry backend, a tracking backend and an artifact store offer.

Plugins implement these protocols; the facades (:mod:`modelops_core.registry.model_registry`,
:mod:`modelops_core.tracking.tracker`) hold all policy (validation, hooks, serializers) and only
    call
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


class UnsafeArtifactNameError(ArtifactError, ValueError):
    """An artifact name that is not one plain file name: a name read from a (damaged or
    hostile) row that would lead a checkout outside its folder, or a file name that cannot be
    stored (a ``\\`` in it)."""


class ArtifactLinkError(ArtifactError):
    """A symbolic link was given to store, or found inside a folder to store."""


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
    """The last component of ``name`` (``""`` for nothing usable): never a path.

    For names the caller chose (``put_bytes(name=...)``); a file's own name goes through
    :func:`stored_file_name`, which refuses what this would silently cut.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "" if base in ("", ".", "..") else base


_MAX_NAME_BYTES = 255  # the longest file name of ext4, XFS, APFS and NTFS


def _name_problem(name: str) -> str | None:
    """Why ``name`` is not one plain file name (None when it is, or is empty)."""
    if name in (".", ".."):
        return f"it is {name!r}, which names a folder"
    for separator, label in (("/", "'/'"), ("\\", "'\\'"), ("\0", "a NUL character")):
        if separator in name:
            return f"it contains {label}, so it is a path, not a file name"
    if len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES:
        return f"it is longer than {_MAX_NAME_BYTES} bytes"
    return None


def artifact_name(ref: ArtifactRef, owner: str = "") -> str:
    """``ref.name`` when it is one plain file name (or ``""``), else
    :class:`UnsafeArtifactNameError`: the check every store makes before a checkout is named
    after it, as :func:`artifact_hex` checks the digest, so a damaged or hostile row can never
    place a checkout outside its folder.

    :param owner: what the reference belongs to (``"churn 1.0"``), named in the error.
    """
    name = ref.name
    problem = _name_problem(name) if name else None
    if problem is None:
        return name
    whose = f" of {owner}" if owner else ""
    raise UnsafeArtifactNameError(
        f"The artifact name {name!r}{whose} ({ref.digest}) is unsafe: {problem}. Nothing was "
        "checked out. The row that holds it is damaged or was written by hand; register the "
        "model again from a trusted copy (or set the row's artifact_name to the file's name)."
    )


def check_artifact_ref(ref: ArtifactRef, owner: str) -> ArtifactRef:
    """``ref`` when its digest, kind and name are well formed; else :class:`ArtifactError`
    naming ``owner`` (``"churn 1.0"``): what the facades check on every ref read from a
    backend before handing it to the artifact store."""
    if _DIGEST.match(ref.digest) is None:
        raise ArtifactError(
            f"The artifact of {owner} has the invalid digest {ref.digest!r}: expected "
            "'sha256:' and 64 hex digits. The row is damaged; register the model again."
        )
    if ref.kind not in ("file", "tree"):
        raise ArtifactError(
            f"The artifact of {owner} ({ref.digest}) has the unknown kind {ref.kind!r}: "
            "expected 'file' or 'tree'. The row is damaged; register the model again."
        )
    artifact_name(ref, owner)
    return ref


def stored_file_name(path: str | os.PathLike[str]) -> str:
    """The name a file or folder at ``path`` is stored under: its last component, refused
    with :class:`UnsafeArtifactNameError` when no store could check it out again (a ``\\``
    in it is a path separator on Windows and in every checkout)."""
    source = os.fspath(path)
    name = os.path.basename(source) or os.path.basename(os.path.normpath(source))
    if "\\" in name:
        raise UnsafeArtifactNameError(
            f"Cannot store {source!r}: its name {name!r} contains '\\', which checkouts "
            "read as a path separator, so it could never be loaded again. Rename it."
        )
    return "" if name in (".", "..", os.sep) else name


def link_refused(path: str | os.PathLike[str], inside: str = "") -> ArtifactLinkError:
    """The error for a symbolic link given to store (or found in the folder ``inside``):
    a link is never followed, so a model path cannot copy what it points to (``/etc/passwd``)
    into the store by accident; the user passes the target itself if that is what they mean."""
    source = os.fspath(path)
    try:
        target = os.readlink(source)
    except OSError:
        target = "?"
    where = (
        f"Cannot store the folder {inside!r}: {source!r} is"
        if inside
        else f"Cannot store {source!r}: it is"
    )
    return ArtifactLinkError(
        f"{where} a symbolic link (to {target!r}); links are not followed. To store what it "
        f"points to, pass the target's path (os.path.realpath({source!r})) instead; to keep a "
        "folder's link, replace it by a copy of its target."
    )


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

    Symbolic links (to files or to folders) are refused with :class:`ArtifactLinkError`, a
    file name with a ``\\`` with :class:`UnsafeArtifactNameError`, special files and
    unreadable sub-folders with :class:`ArtifactError`, each naming the path; nothing is left
    out silently.
    """
    name = stored_file_name(folder)
    files: list[tuple[str, str, int]] = []
    total = 0

    def unreadable(error: OSError) -> None:
        raise ArtifactError(
            f"Cannot store the folder {str(folder)!r}: {error.filename!r} cannot be read "
            f"({error.strerror or error}). Check its permissions."
        )

    for current, dirs, names in os.walk(folder, onerror=unreadable):
        dirs.sort()
        for entry in [*dirs, *names]:
            entry_path = Path(current, entry)
            relative = entry_path.relative_to(folder).as_posix()
            if "\\" in entry:
                raise UnsafeArtifactNameError(
                    f"Cannot store the folder {str(folder)!r}: the name {relative!r} contains "
                    "'\\', which checkouts read as a path separator, so the folder could "
                    "never be loaded again. Rename it."
                )
            if entry_path.is_symlink():
                raise link_refused(entry_path, inside=str(folder))
        for file_name in sorted(names):
            file_path = Path(current, file_name)
            relative = file_path.relative_to(folder).as_posix()
            if not file_path.is_file():
                raise ArtifactError(
                    f"Cannot store the folder {str(folder)!r}: {relative!r} is a special file "
                    "(a pipe, socket or device). Replace it by a regular file or remove it."
                )
            digest, size = put_file(file_path)
            files.append((relative, f"sha256:{digest}", size))
            total += size
    ref = put_bytes(encode_tree_manifest(files))
    return ArtifactRef(ref.digest, "tree", total, name)


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
        user gave it). A symbolic link, given or inside the folder, is refused with
        :class:`ArtifactLinkError` (:func:`link_refused`), never followed; a name with a ``\\``
        with :class:`UnsafeArtifactNameError` (:func:`stored_file_name`, :func:`put_tree`).
        """
        ...

    def put_bytes(self, data: bytes, name: str = "") -> ArtifactRef:
        """Store ``data`` as a file artifact."""
        ...

    def get_bytes(self, ref: ArtifactRef) -> bytes:
        """The content of a file artifact; :class:`ArtifactCorruptedError` on a mismatch."""
        ...

    def local_path(self, ref: ArtifactRef) -> Path:
        """A verified local file (named ``ref.name``) or folder with the artifact's content.

        Always inside the store's own checkout folder: ``ref.name`` is checked with
        :func:`artifact_name` (a name read from a damaged row is refused, nothing is written
        or removed). The path is a copy (or a copy-on-write clone), never the stored content
        itself: writing to it cannot change what the store holds, and the next call hands out
        a verified copy again.
        """
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
    :class:`modelops_core.registry.versions.Version` and must be unique per model. Every change
        writes an
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
        """Mark the run ``"finished"``, ``"failed"`` or ``"cancelled"`` (a fine-tuning job
        cancelled at its provider)."""
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
