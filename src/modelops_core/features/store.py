"""FeatureStore: features per entity and embeddings, on the backend ``[features] store`` names.

    store = FeatureStore()
    store.push_features("user-1", {"age": 31, "country": "FR"})
    store.get_features("user-1")            # {"age": 31, "country": "FR"}
    store.get_features("nobody")            # {} -- an unknown entity is not an error

A push replaces the entity's row in its feature set; every push is kept with its event
timestamp for point-in-time reads (``as_of=``). A row pushed with ``ttl=`` seconds is not
returned once ``timestamp + ttl`` has passed. The ``default`` feature set accepts any row;
a named feature set version has one schema (feature -> kind), fixed by its first push or by
:meth:`FeatureStore.define_feature_set`, and a row that does not fit it is refused.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from modelops_core.features.values import (
    DEFAULT_FEATURE_SET,
    DEFAULT_INDEX,
    FeatureRow,
    FeatureSetInfo,
    FeatureSetVersionError,
    FeatureStoreError,
    FeatureValueError,
    IndexInfo,
    IndexNotFoundError,
    Neighbor,
    RecallReport,
    SchemaCheck,
    check_entity,
    check_name,
    check_schema,
    describe_schema,
    schema_conflict,
    schema_of,
)
from modelops_core.plugins.kinds import Kind
from modelops_core.store.facade import Facade, FacadeClosedError

if TYPE_CHECKING:
    from modelops_core.features.vectors import MetadataFilter
    from modelops_core.plugins.protocols import FeatureStoreComponent
    from modelops_core.runtime import Runtime

Timestamp = float | datetime.datetime
Duration = float | datetime.timedelta

__all__ = ["FeatureStore", "FeatureStoreClosedError"]


class FeatureStoreClosedError(FacadeClosedError, FeatureStoreError):
    """A :class:`FeatureStore` was used after :meth:`FeatureStore.close`."""


def _seconds(value: Timestamp | None) -> float | None:
    if value is None or isinstance(value, float | int):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise FeatureValueError(
                f"The datetime {value.isoformat()} has no time zone; pass an aware datetime "
                "(e.g. datetime.now(timezone.utc)) or a Unix timestamp."
            )
        return value.timestamp()
    raise FeatureValueError(f"A timestamp must be a number or a datetime, got {value!r}.")


def _duration(value: Duration | None) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, datetime.timedelta) else float(value)
    if seconds <= 0:
        raise FeatureValueError(f"ttl must be positive, got {value!r}.")
    return seconds


class FeatureStore(Facade):
    """Push and read features per entity; store and search embeddings.

    Close it (or use it in ``with``) to close the backend it opened; a closed store raises
    :class:`FeatureStoreClosedError` when used.

    :param runtime: the runtime whose ``[features]`` choice builds the backend (default: a
        runtime on the configuration found from the working directory).
    :param backend: a backend to use instead of the configured one (not closed by us).
    :param ttl: the default time to live of pushed rows, in seconds (None: forever).
    :param clock: the current time in seconds (tests pass a fake clock).
    """

    _component_attributes: ClassVar[tuple[str, ...]] = ("_backend",)
    _closed_error = FeatureStoreClosedError

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        backend: FeatureStoreComponent | None = None,
        ttl: Duration | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if runtime is None and backend is None:
            from modelops_core.runtime import Runtime

            runtime = Runtime()
        super().__init__()
        self.runtime = runtime
        self._backend: FeatureStoreComponent | None = backend
        self.ttl = _duration(ttl)
        self.clock = clock
        self._schemas: dict[tuple[str, int], SchemaCheck] = {}
        self._indexes: dict[str, IndexInfo] = {}
        self._checked: set[tuple[str, int]] = set()

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def backend(self) -> FeatureStoreComponent:
        """The backend (created on first use from ``[features] store``)."""
        backend = self._backend
        if backend is None:
            backend = self._open("_backend", self._build_backend)
        return backend

    def _build_backend(self) -> FeatureStoreComponent:
        assert self.runtime is not None
        config = self.runtime.config
        built: FeatureStoreComponent = self.runtime.create(
            Kind.FEATURE_STORE, config.features, home=str(config.home)
        )
        return built

    # --- feature sets --------------------------------------------------------------------------

    def define_feature_set(self, name: str, version: int, schema: Mapping[str, str]) -> None:
        """Declare the schema (feature -> ``bool/int/float/str/bytes/list/dict/any``) of a
        feature set version before its first push.

        :raises FeatureSetVersionError: the version exists with a different schema.
        """
        check_name(name, "feature set name")
        declared = check_schema(schema)
        stored = self.backend.put_schema(name, self._version(version), declared)
        if dict(stored) != declared:
            raise FeatureSetVersionError(
                f"Feature set {name!r} version {version} already has the schema "
                f"{describe_schema(stored)}; the declared one is {describe_schema(declared)}. "
                f"Declare it as version {version + 1}."
            )
        self._schemas[(name, version)] = SchemaCheck(stored)

    def feature_sets(self) -> list[FeatureSetInfo]:
        """Every feature set version with its schema and entity count."""
        return self.backend.feature_sets()

    def schema(self, feature_set: str, version: int = 1) -> dict[str, str] | None:
        """The schema of a feature set version, or None before its first push."""
        found = self.backend.get_schema(feature_set, version)
        return dict(found) if found is not None else None

    def entities(
        self, feature_set: str | None = None, version: int = 1, limit: int = 1000
    ) -> list[str]:
        """Entity ids with rows in a feature set version (sorted, at most ``limit``)."""
        name = check_name(feature_set or DEFAULT_FEATURE_SET, "feature set name")
        return self.backend.entities(name, self._version(version), limit)

    # --- features ------------------------------------------------------------------------------

    def push_features(
        self,
        entity: str,
        features: Mapping[str, Any],
        *,
        feature_set: str | None = None,
        version: int = 1,
        timestamp: Timestamp | None = None,
        ttl: Duration | None = None,
    ) -> None:
        """Store ``features`` as the row of ``entity`` (replacing its previous row).

        :param timestamp: the event time (default: now); reads with ``as_of`` see the row
            from then on.
        :param ttl: seconds (or a timedelta) after ``timestamp`` when the row expires.
        :raises FeatureSetVersionError: the row does not fit the feature set's schema.
        """
        self.push_many(
            ((entity, features),),
            feature_set=feature_set,
            version=version,
            timestamp=timestamp,
            ttl=ttl,
        )

    def push_many(
        self,
        rows: Mapping[str, Mapping[str, Any]] | Iterable[tuple[str, Mapping[str, Any]]],
        *,
        feature_set: str | None = None,
        version: int = 1,
        timestamp: Timestamp | None = None,
        ttl: Duration | None = None,
    ) -> int:
        """Store many rows in one transaction (all or nothing); returns how many.

        :param rows: ``{entity: features}`` or ``(entity, features)`` pairs.
        """
        name = check_name(feature_set or DEFAULT_FEATURE_SET, "feature set name")
        version = self._version(version)
        pairs = rows.items() if isinstance(rows, Mapping) else rows
        at = _seconds(timestamp)
        at = self.clock() if at is None else at
        lifetime = _duration(ttl) if ttl is not None else self.ttl
        expires = at + lifetime if lifetime is not None else None
        stored: list[FeatureRow] = []
        append = stored.append
        check = None if name == DEFAULT_FEATURE_SET else self._schemas.get((name, version))
        fits = check.fits if check is not None else None
        for entity, features in pairs:
            if type(entity) is not str or not entity:
                check_entity(entity)
            if type(features) is not dict and not isinstance(features, Mapping):
                raise FeatureValueError(
                    f"The features of entity {entity!r} must be a mapping of name -> value, "
                    f"got {type(features).__name__}."
                )
            if name != DEFAULT_FEATURE_SET:
                if fits is None:
                    check = self._schema_for(name, version, features)
                    fits = check.fits
                if not fits(features):
                    assert check is not None
                    conflict = schema_conflict(name, version, check.schema, features, entity)
                    if conflict is not None:
                        raise conflict
            # The backend encodes the rows before push_many returns: a dict needs no copy.
            row = features if type(features) is dict else dict(features)
            append(FeatureRow(entity, row, at, expires))
        if stored:
            self.backend.write_rows(name, version, stored)
        return len(stored)

    def push_frame(
        self,
        frame: Any,
        *,
        entity: str = "entity",
        feature_set: str | None = None,
        version: int = 1,
        timestamp: Timestamp | None = None,
        ttl: Duration | None = None,
    ) -> int:
        """Store the rows of a DataFrame (pandas, polars), a pyarrow Table or a mapping of
        columns: the ``entity`` column names each row's entity, the other columns are its
        features. One transaction, as :meth:`push_many`; a missing cell (NaN, null) is stored
        as None.
        """
        from modelops_core.tabular.frames import column_names, is_table, rows

        if not is_table(frame):
            raise FeatureValueError(
                f"push_frame takes a table (a pandas or polars DataFrame, a pyarrow Table or a "
                f"mapping of columns), got {type(frame).__name__}; use push_many for "
                "{entity: features}."
            )
        if entity not in column_names(frame):
            raise FeatureValueError(
                f"The table has no entity column {entity!r}; it has: "
                f"{', '.join(map(repr, column_names(frame))) or 'no columns'}. Pass "
                "entity='<the column naming each row>'."
            )
        pairs = []
        for row in rows(frame):
            key = row.pop(entity)
            pairs.append((key, {name: _cell(value) for name, value in row.items()}))
        return self.push_many(
            pairs, feature_set=feature_set, version=version, timestamp=timestamp, ttl=ttl
        )

    def get_frame(
        self,
        entities: Iterable[str] | Any,
        *,
        feature_set: str | None = None,
        version: int = 1,
        as_of: Timestamp | None = None,
        entity: str = "entity",
        library: str = "pandas",
    ) -> Any:
        """The features of ``entities`` (a list, a Series, an array) as a DataFrame: one row
        per entity in the order asked, the ``entity`` column first, one column per feature
        (missing for an entity: None/NaN; an unknown entity gives a row of missing values).

        :param library: ``pandas`` or ``polars``.
        """
        from modelops_core.tabular.frames import library_of, to_numpy

        if library not in ("pandas", "polars"):
            raise FeatureValueError(f"library={library!r}: choose 'pandas' or 'polars'.")
        if library_of(entities) in ("pandas", "polars", "pyarrow", "numpy"):
            entities = to_numpy(entities).tolist()
        asked = list(entities)
        found = self.get_many(asked, feature_set=feature_set, version=version, as_of=as_of)
        names = list(dict.fromkeys(name for features in found.values() for name in features))
        if entity in names:
            raise FeatureValueError(
                f"A feature is named {entity!r}, like the entity column; pass entity='<another "
                "name>' to get_frame."
            )
        columns: dict[str, list[Any]] = {entity: asked}
        for name in names:
            columns[name] = [found[key].get(name) for key in asked]
        if library == "polars":
            import polars

            return polars.DataFrame(columns)
        from modelops_core.tabular.frames import to_pandas

        return to_pandas(columns)

    def get_features(
        self,
        entity: str,
        *,
        feature_set: str | None = None,
        version: int = 1,
        as_of: Timestamp | None = None,
    ) -> dict[str, Any]:
        """The features of ``entity``; an unknown or expired entity gives ``{}`` (no error).

        :param as_of: read the row that was current at that time (point-in-time read).
        """
        name = feature_set or DEFAULT_FEATURE_SET
        if (name, version) not in self._checked:
            check_name(name, "feature set name")
            self._checked.add((name, self._version(version)))
        when = _seconds(as_of)
        row = self.backend.read_rows(name, version, (entity,), when)[0]
        if row is None:
            return {}
        if row.expires is not None and row.expires <= (self.clock() if when is None else when):
            return {}
        return row.features

    def get_many(
        self,
        entities: Iterable[str],
        *,
        feature_set: str | None = None,
        version: int = 1,
        as_of: Timestamp | None = None,
    ) -> dict[str, dict[str, Any]]:
        """``{entity: features}`` for every entity asked (``{}`` for unknown ones)."""
        name = check_name(feature_set or DEFAULT_FEATURE_SET, "feature set name")
        wanted = list(dict.fromkeys(entities))
        when = _seconds(as_of)
        now = self.clock() if when is None else when
        found = self.backend.read_rows(name, self._version(version), wanted, when)
        return {
            entity: row.features
            if row is not None and (row.expires is None or row.expires > now)
            else {}
            for entity, row in zip(wanted, found, strict=True)
        }

    def get_or_compute(
        self,
        entity: str,
        compute: Callable[[str], Mapping[str, Any]],
        *,
        feature_set: str | None = None,
        version: int = 1,
        ttl: Duration | None = None,
    ) -> dict[str, Any]:
        """The stored features of ``entity``, or ``compute(entity)`` pushed then returned.

        ``compute`` runs only when nothing current is stored (never pushed, or expired), so an
        expensive feature or embedding is computed once and reused.
        """
        name = check_name(feature_set or DEFAULT_FEATURE_SET, "feature set name")
        row = self.backend.read_rows(name, self._version(version), (check_entity(entity),), None)[0]
        if row is not None and (row.expires is None or row.expires > self.clock()):
            return row.features
        features = dict(compute(entity))
        self.push_features(entity, features, feature_set=name, version=version, ttl=ttl)
        return features

    def prune(
        self,
        older_than: Timestamp,
        *,
        feature_set: str | None = None,
        version: int | None = None,
    ) -> int:
        """Bound the history kept for ``as_of=`` reads; returns how many history rows went.

        Deleted: rows superseded by a newer row before ``older_than``, and rows expired by
        then. Every read without ``as_of``, or with ``as_of >= older_than``, answers as
        before; reads further back may find nothing. Run it periodically (e.g.
        ``prune(time.time() - 30 * 86400)`` keeps 30 days of history).

        :param feature_set: only this feature set (default: all of them).
        :param version: only this version of ``feature_set`` (default: all versions).
        :raises FeatureStoreError: the backend keeps no prunable history.
        """
        cut = _seconds(older_than)
        assert cut is not None
        if feature_set is not None:
            check_name(feature_set, "feature set name")
        if version is not None:
            self._version(version)
        prune = getattr(self.backend, "prune_history", None)
        if prune is None:
            raise FeatureStoreError(
                f"The feature store backend {self.backend!r} cannot prune its history; "
                "upgrade its plugin, or delete old rows with the backend's own tools."
            )
        deleted: int = prune(cut, feature_set, version)
        return deleted

    # --- embeddings ----------------------------------------------------------------------------

    def push_embeddings(
        self,
        ids: Sequence[str],
        matrix: Any,
        metadata: Sequence[Mapping[str, Any]] | None = None,
        *,
        index: str = DEFAULT_INDEX,
        metric: str = "cosine",
    ) -> IndexInfo:
        """Store float32 vectors (one row per id; an existing id is replaced) in ``index``.

        :param metadata: one mapping per id, used by ``nearest(filter=...)``.
        :param metric: ``cosine`` (vectors stored unit-length), ``ip`` or ``l2``; fixed by the
            index's first push.
        :raises EmbeddingDimensionError: a row's width differs from the index's dimension.
        :raises EmbeddingValueError: a row holds NaN or infinity.
        """
        from modelops_core.features.vectors import as_matrix, check_metric

        check_name(index, "index name")
        ids = [check_entity(item) for item in ids]
        if len(set(ids)) != len(ids):
            duplicated = sorted({item for item in ids if ids.count(item) > 1})[:5]
            raise FeatureValueError(f"Index {index!r}: duplicated ids {duplicated}.")
        info = self._index(index, required=False)
        if info is not None and info.metric != metric:
            raise FeatureValueError(
                f"Index {index!r} uses the metric {info.metric!r}, not {metric!r}; pass "
                f"metric={info.metric!r} or push to another index."
            )
        check_metric(metric, index)
        data = as_matrix(matrix, ids, index, info.dim if info else None, metric)
        rows = [dict(item) for item in metadata] if metadata is not None else [{} for _ in ids]
        if len(rows) != len(ids):
            raise FeatureValueError(
                f"Index {index!r}: {len(ids)} ids but {len(rows)} metadata mappings."
            )
        stored = self.backend.write_vectors(index, ids, data, rows, metric)
        self._indexes[index] = stored
        return stored

    def nearest(
        self,
        vector: Any,
        k: int = 10,
        *,
        filter: MetadataFilter | None = None,
        exact: bool = False,
        method: str | None = None,
        index: str = DEFAULT_INDEX,
    ) -> list[Neighbor]:
        """The ``k`` nearest stored vectors to ``vector``, nearest first.

        :param filter: ``{key: value}`` (a list value means "one of") or a callable on each
            row's metadata; filtered searches are exact over the matching rows.
        :param exact: exact search even when the index has an approximate method.
        :param method: ``"hnsw"``, ``"int8"`` or ``"exact"`` instead of the backend's default.
        :raises EmbeddingDimensionError: the query's length differs from the index's dimension.
        """
        from modelops_core.features.vectors import as_query

        if k < 1:
            raise FeatureValueError(f"k must be at least 1, got {k}.")
        info = self._index(index, required=True)
        assert info is not None
        query = as_query(vector, index, info.dim, info.metric)
        return self.backend.search(index, query, k, filter, "exact" if exact else method)

    def get_embeddings(self, ids: Sequence[str], *, index: str = DEFAULT_INDEX) -> dict[str, Any]:
        """``{id: vector}`` for the stored ids among ``ids`` (unknown ids are left out)."""
        if self._index(index, required=False) is None:
            return {}
        return self.backend.read_vectors(index, list(ids))

    def get_or_compute_embeddings(
        self,
        ids: Sequence[str],
        compute: Callable[[list[str]], Any],
        *,
        index: str = DEFAULT_INDEX,
        metric: str = "cosine",
    ) -> Any:
        """A (len(ids), dim) float32 matrix; only the ids not stored yet are computed, in one
        ``compute(missing_ids)`` call, then pushed."""
        import numpy as np

        found = self.get_embeddings(ids, index=index)
        missing = [item for item in dict.fromkeys(ids) if item not in found]
        if missing:
            self.push_embeddings(missing, compute(missing), index=index, metric=metric)
            found.update(self.backend.read_vectors(index, missing))
        return np.stack([found[item] for item in ids]).astype(np.float32, copy=False)

    def indexes(self) -> list[IndexInfo]:
        """Every embedding index with its dimension, metric, size and method."""
        return self.backend.indexes()

    def recall(
        self, index: str = DEFAULT_INDEX, *, method: str | None = None, k: int = 10,
        queries: int = 100, seed: int = 0,
    ) -> RecallReport:  # fmt: skip
        """Recall@k of ``method`` (default: the backend's) against exact search, measured with
        ``queries`` stored vectors as queries, plus the mean query time of both."""
        import numpy as np

        from modelops_core.features.vectors import recall_at_k

        info = self._index(index, required=True)
        assert info is not None
        ids = self.backend.vector_ids(index, info.count)
        chosen = np.random.default_rng(seed).permutation(len(ids))[:queries]
        vectors = self.backend.read_vectors(index, [ids[i] for i in chosen])
        noise = np.random.default_rng(seed + 1).standard_normal((len(vectors), info.dim))
        # Stored vectors moved a little are realistic queries (not identical to a row).
        stored = [
            (vector + 0.05 * float(np.abs(vector).mean()) * noise[i]).astype(np.float32)
            for i, vector in enumerate(vectors.values())
        ]
        approximate, exact = [], []
        approximate_time = exact_time = 0.0
        for vector in stored:
            started = time.perf_counter()
            found = self.backend.search(index, vector, k, None, method)
            approximate_time += time.perf_counter() - started
            started = time.perf_counter()
            truth = self.backend.search(index, vector, k, None, "exact")
            exact_time += time.perf_counter() - started
            approximate.append([hash(n.id) for n in found])
            exact.append([hash(n.id) for n in truth])
        count = max(len(stored), 1)
        return RecallReport(
            index=index,
            method=method or info.method,
            k=k,
            queries=len(stored),
            recall=recall_at_k(approximate, exact),
            approximate_ms=approximate_time / count * 1000,
            exact_ms=exact_time / count * 1000,
        )

    # --- helpers -------------------------------------------------------------------------------

    def _version(self, version: int) -> int:
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise FeatureValueError(f"A feature set version is an int >= 1, got {version!r}.")
        return version

    def _schema_for(self, name: str, version: int, first: Mapping[str, Any]) -> SchemaCheck:
        check = SchemaCheck(self.backend.put_schema(name, version, schema_of(first)))
        self._schemas[(name, version)] = check
        return check

    def _index(self, index: str, *, required: bool) -> IndexInfo | None:
        info = self._indexes.get(index)
        if info is None:
            info = self.backend.index_info(index)
            if info is not None:
                self._indexes[index] = info
        if info is None and required:
            known = ", ".join(i.name for i in self.backend.indexes()) or "none"
            raise IndexNotFoundError(
                f"No embeddings were pushed to index {index!r} (known indexes: {known}). "
                "Push some with push_embeddings(ids, matrix, index=...)."
            )
        return info


def _cell(value: Any) -> Any:
    """A table cell as a feature value: a missing one (NaN, NaT, null) as None."""
    if isinstance(value, float) and value != value:
        return None
    return value
