"""The reference profile of a model version, stored with it.

A version registered with :func:`register_with_profile` (``ModelRegistry.register_with_profile``)
carries the profile of its training or evaluation data: the profile's JSON is an artifact in the
registry's store, ``metadata["reference_profile"]`` points to it, and the version's lineage says
which data it was (``lineage["reference_profile"]``: the role, the data's name and, for a file,
its sha256). Registry versions are immutable, so the profile is given when the version is
registered; :func:`reference_profile` reads it back (``modelops monitor drift NAME@ALIAS
CURRENT``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelops_core.monitoring.errors import ProfileError, ReferenceProfileNotFoundError
from modelops_core.monitoring.profile import Profile

if TYPE_CHECKING:
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.store.contract import ModelVersion

#: the data a reference profile may be taken from.
ROLES = ("training", "evaluation")
#: the key of the version's metadata and lineage that hold the reference profile.
KEY = "reference_profile"
_MODEL_REF = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,127})@(?P<which>[^@/\\]+)")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """``sha256:<hex>`` of a file's bytes, read by blocks."""
    import hashlib  # OpenSSL's library: loaded when a file is hashed, not by every command

    with open(path, "rb") as handle:
        return f"sha256:{hashlib.file_digest(handle, 'sha256').hexdigest()}"


def register_with_profile(
    registry: ModelRegistry,
    name: str,
    version: str | None = None,
    model: Any = None,
    *,
    data: Any = None,
    profile: Profile | None = None,
    role: str = "training",
    **register_options: Any,
) -> ModelVersion:
    """Register a version of ``name`` with the reference profile of its ``role`` data.

    :param data: the training or evaluation data to profile (a path, a DataFrame ...). A
        file's sha256 goes into the lineage.
    :param profile: its profile, when already built (then ``data``, if given, only names it).
    :param role: ``"training"`` or ``"evaluation"``: which data the profile describes.
    :param register_options: passed to ``registry.register`` (``model_path``, ``metadata``,
        ``lineage``, ``tags``, ``evaluation``, ``flavor`` ...).
    """
    if role not in ROLES:
        raise ProfileError(
            f"role={role!r}: the reference profile is of 'training' or 'evaluation' data"
        )
    if data is None and profile is None:
        raise ProfileError(
            f"register_with_profile({name!r}): give the reference data (data=...) or its "
            "profile (profile=...)"
        )
    is_file = isinstance(data, str | os.PathLike) and Path(data).is_file()
    fingerprint = file_sha256(data) if is_file else None
    if profile is None:
        profile = Profile.build(data)
    payload = json.dumps(profile.to_dict()).encode("utf-8")
    ref = registry.artifacts.put_bytes(payload, name=f"{name}.reference.profile.json")
    metadata = dict(register_options.pop("metadata", None) or {})
    lineage = dict(register_options.pop("lineage", None) or {})
    described = {"role": role, "data": profile.source, "data_sha256": fingerprint}
    metadata[KEY] = {
        **described,
        "artifact": {"digest": ref.digest, "kind": ref.kind, "size": ref.size, "name": ref.name},
        "rows": profile.rows,
        "columns": {column.name: column.kind for column in profile.columns.values()},
    }
    lineage[KEY] = described
    return registry.register(
        name, version, model, metadata=metadata, lineage=lineage, **register_options
    )


def reference_profile(
    registry: ModelRegistry, name: str, version: str | None = None, *, alias: str | None = None
) -> Profile:
    """The reference profile stored with a version (the latest when neither is given)."""
    from modelops_core.store.contract import ArtifactError, ArtifactRef, check_artifact_ref

    record = registry.get_version(name, version, alias=alias)
    where = f"model {record.name!r} version {record.version}"
    stored = record.metadata.get(KEY)
    if not isinstance(stored, Mapping) or not isinstance(stored.get("artifact"), Mapping):
        raise ReferenceProfileNotFoundError(
            f"{where} has no reference profile; register the version with one: "
            "registry.register_with_profile(name, version, model, data=TRAINING_DATA) or "
            "`modelops monitor profile DATA --register NAME --model PATH`"
        )
    artifact = stored["artifact"]
    try:
        ref = ArtifactRef(
            str(artifact["digest"]), str(artifact["kind"]), int(artifact["size"]),
            str(artifact.get("name", "")),
        )  # fmt: skip
        ref = check_artifact_ref(ref, f"{where} reference profile")
        data = json.loads(registry.artifacts.get_bytes(ref))
    except (KeyError, TypeError, ValueError, ArtifactError) as exc:
        raise ProfileError(
            f"{where}: its reference profile cannot be read ({exc}); register a new version "
            "with the profile of its data"
        ) from exc
    return Profile.from_dict(data, where=f"{where} reference profile")


def parse_model_reference(text: str) -> tuple[str, str] | None:
    """``("churn", "production")`` for ``"churn@production"`` (an alias or a version), else
    None (a path)."""
    found = _MODEL_REF.fullmatch(text)
    return None if found is None else (found["name"], found["which"])


def profile_of_model(registry: ModelRegistry, name: str, which: str) -> Profile:
    """The reference profile of ``name@which``: ``which`` is an alias when ``name`` has one of
    that name, else a version."""
    if which in registry.aliases(name):
        return reference_profile(registry, name, alias=which)
    return reference_profile(registry, name, which)
