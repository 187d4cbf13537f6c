"""Values, errors and schema rules shared by the feature store facade and its backends.

No heavy import here: the backends and :mod:`modelops_core.features.store` import this module, and
``msgspec`` is imported only when rows are encoded or decoded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import attrs

from modelops_core.errors import ModelOpsError
from modelops_core.store.contract import StoreConnectionError

DEFAULT_FEATURE_SET = "default"
DEFAULT_INDEX = "default"
METRICS = ("cosine", "ip", "l2")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


# --- errors ------------------------------------------------------------------------------------


class FeatureStoreError(ModelOpsError):
    """A feature store operation failed."""


class FeatureValueError(FeatureStoreError, ValueError):
    """An entity, feature set or feature value cannot be stored (the message names it)."""


class FeatureSetVersionError(FeatureStoreError):
    """A push under an existing feature set version has a different schema."""


class EmbeddingError(FeatureValueError):
    """Embeddings cannot be stored or searched (the message names the index and the ids)."""


class EmbeddingDimensionError(EmbeddingError):
    """A vector's length differs from the index's dimension."""


class EmbeddingValueError(EmbeddingError):
    """A vector holds NaN or infinity (or is all zeros in a cosine index)."""


class IndexNotFoundError(FeatureStoreError, LookupError):
    """No embedding was ever pushed to the named index."""


class FeatureStoreConnectionError(FeatureStoreError, StoreConnectionError):
    """The feature store's server cannot be reached (the message names the URL, masked)."""


# --- values ------------------------------------------------------------------------------------


class FeatureRow(NamedTuple):
    """One stored push of an entity: its features, event time and expiry (None: never)."""

    entity: str
    features: dict[str, Any]
    timestamp: float
    expires: float | None


@attrs.frozen
class Neighbor:
    """A search result: ``distance`` is ``1 - cos`` (cosine), ``1 - dot`` (ip) or the squared
    euclidean distance (l2); smaller is nearer."""

    id: str
    distance: float
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class IndexInfo:
    """An embedding index: its dimension, metric, size and search method."""

    name: str
    dim: int
    metric: str
    count: int
    method: str


@attrs.frozen
class FeatureSetInfo:
    """A feature set version, its schema (feature -> kind) and how many entities it holds."""

    name: str
    version: int
    schema: Mapping[str, str]
    entities: int


@attrs.frozen
class RecallReport:
    """Recall@k of an approximate search method against exact search, with query times."""

    index: str
    method: str
    k: int
    queries: int
    recall: float
    approximate_ms: float
    exact_ms: float


# --- names and schemas -------------------------------------------------------------------------


def check_name(value: str, what: str) -> str:
    """Return ``value`` if it is a valid feature set or index name, else raise."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise FeatureValueError(
            f"Invalid {what} {value!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return value


def check_entity(entity: Any) -> str:
    """Return ``entity`` if it is a non-empty string, else raise naming it."""
    if not isinstance(entity, str) or not entity:
        raise FeatureValueError(
            f"An entity must be a non-empty string, got {type(entity).__name__} {entity!r}. "
            "Convert ids to str (e.g. str(user_id))."
        )
    return entity


_KINDS: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    bytes: "bytes",
    list: "list",
    tuple: "list",
    dict: "dict",
}
KINDS = ("bool", "int", "float", "str", "bytes", "list", "dict", "any")


def kind_of(value: Any) -> str:
    """The schema kind of a feature value (``any`` for None; numpy scalars by dtype)."""
    found = _KINDS.get(type(value))
    if found is not None:
        return found
    if value is None:
        return "any"
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        if getattr(value, "ndim", 0):
            return "list"
        return {"b": "bool", "i": "int", "u": "int", "f": "float"}.get(dtype.kind, "any")
    for base, kind in _KINDS.items():
        if isinstance(value, base):
            return kind
    return "any"


def schema_of(features: Mapping[str, Any]) -> dict[str, str]:
    """The schema of one row: feature name -> kind, sorted by name."""
    return {name: kind_of(features[name]) for name in sorted(features)}


def accepts(declared: str, value: Any) -> bool:
    """Whether ``value`` fits a feature declared as ``declared`` (None fits every kind)."""
    if value is None or declared == "any":
        return True
    kind = kind_of(value)
    return kind == declared or (declared == "float" and kind == "int")


def check_schema(declared: Mapping[str, str]) -> dict[str, str]:
    """Validate a declared schema (feature -> kind) and return it sorted."""
    for name, kind in declared.items():
        if kind not in KINDS:
            raise FeatureValueError(
                f"Feature {name!r} has the unknown kind {kind!r}; use one of {', '.join(KINDS)}."
            )
    return {name: declared[name] for name in sorted(declared)}


_TYPES_OF_KIND: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int": (int,),
    "float": (float, int),
    "str": (str,),
    "bytes": (bytes,),
    "list": (list, tuple),
    "dict": (dict,),
}


class SchemaCheck:
    """A fast check of rows against one schema; :meth:`fits` is True for rows that fit."""

    def __init__(self, schema: Mapping[str, str]) -> None:
        self.schema = dict(schema)
        self._names = frozenset(schema)
        self._types: dict[str, frozenset[type] | None] = {
            name: None if kind == "any" else frozenset((*_TYPES_OF_KIND[kind], type(None)))
            for name, kind in schema.items()
        }
        self._checked = tuple(
            (name, allowed) for name, allowed in self._types.items() if allowed is not None
        )

    def fits(self, features: Mapping[str, Any]) -> bool:
        """Whether ``features`` has exactly the schema's names with values of their kinds."""
        if features.keys() != self._names:
            return False
        for name, allowed in self._checked:
            value = features[name]
            # numpy scalars and subclasses take the slow path (and the next features are checked).
            if type(value) not in allowed and not accepts(self.schema[name], value):
                return False
        return True


def describe_schema(schema: Mapping[str, str]) -> str:
    """``{age: int, country: str}``."""
    return "{" + ", ".join(f"{name}: {kind}" for name, kind in schema.items()) + "}"


def schema_conflict(
    feature_set: str,
    version: int,
    stored: Mapping[str, str],
    pushed: Mapping[str, Any],
    entity: str,
) -> FeatureSetVersionError | None:
    """The error for a row of ``entity`` that does not fit ``stored``, or None when it fits."""
    missing = sorted(set(stored) - set(pushed))
    unexpected = sorted(set(pushed) - set(stored))
    wrong = sorted(
        name for name in set(stored) & set(pushed) if not accepts(stored[name], pushed[name])
    )
    if not (missing or unexpected or wrong):
        return None
    details = []
    if missing:
        details.append(f"missing: {', '.join(missing)}")
    if unexpected:
        details.append(f"unexpected: {', '.join(unexpected)}")
    if wrong:
        details.append(
            "different kinds: "
            + ", ".join(f"{n} is {kind_of(pushed[n])}, not {stored[n]}" for n in wrong)
        )
    return FeatureSetVersionError(
        f"Feature set {feature_set!r} version {version} already has the schema "
        f"{describe_schema(stored)}; the row of entity {entity!r} has "
        f"{describe_schema(schema_of(pushed))} ({'; '.join(details)}). Push the new schema as "
        f"version {version + 1} (feature_set={feature_set!r}, version={version + 1}), or make "
        "the row fit the existing one."
    )


# --- encoding ----------------------------------------------------------------------------------


def _encode_hook(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy scalars and arrays
        return tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise NotImplementedError(f"values of type {type(value).__name__} cannot be stored")


class Codec:
    """msgpack encoding of feature rows (bytes, ints and floats round-trip exactly)."""

    def __init__(self) -> None:
        import msgspec

        self._encoder = msgspec.msgpack.Encoder(enc_hook=_encode_hook)
        self._decoder = msgspec.msgpack.Decoder(dict[str, Any])
        self._any_decoder = msgspec.msgpack.Decoder()
        self._error = msgspec.EncodeError

    def encode(self, features: Mapping[str, Any], entity: str) -> bytes:
        """Encode one row; an unsupported value raises :class:`FeatureValueError`."""
        try:
            return self._encoder.encode(features)
        except (self._error, NotImplementedError, TypeError, OverflowError) as exc:
            raise FeatureValueError(
                f"The features of entity {entity!r} cannot be stored: {exc}. Use str, int, "
                "float, bool, bytes, None, lists or dicts of them (numpy values are converted)."
            ) from exc

    def encode_value(self, value: Any) -> bytes:
        """Encode any supported value (metadata, single features)."""
        return self._encoder.encode(value)

    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode one row."""
        return self._decoder.decode(data)

    def decode_value(self, data: bytes) -> Any:
        """Decode a value written by :meth:`encode_value`."""
        return self._any_decoder.decode(data)
