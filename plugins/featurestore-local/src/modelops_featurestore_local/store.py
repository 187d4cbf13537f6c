"""LocalFeatureStore: the ``local`` feature store component (rows in SQLite, vectors in numpy).

Layout under ``<home>/features`` (or ``root``)::

    features.db                 SQLite (WAL): feature sets, rows with their history, indexes
    embeddings/<index>/gen-N/   vectors.npy, rows.msgpack, hnsw.bin (see ``embeddings.py``)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modelops_core.features.values import FeatureRow, FeatureSetInfo, IndexInfo, Neighbor
from modelops_core.features.vectors import Matrix, MetadataFilter
from modelops_featurestore_local.embeddings import LocalIndexes
from modelops_featurestore_local.rows import SqliteRows, connect


class LocalFeatureStore:
    """Feature rows and embeddings on one machine, no server.

    :param home: the modelops home directory (given by the facade).
    :param root: where to keep the store (default ``<home>/features``).
    :param method: default search method: ``hnsw`` (falls back to exact, with a warning, when
        usearch is missing), ``int8`` (a pass over int8 codes, then the best candidates
        re-ranked exactly on float32) or ``exact``.
    :param ef_search: HNSW search breadth (higher: better recall, slower; 128 gave recall@10
        1.0 over 100,000 x 384 clustered vectors).
    :param hnsw_m: HNSW graph degree.
    :param ef_construction: HNSW build breadth (usearch's ``expansion_add``; 200 gave the
        recall hnswlib had at 100, and the half-precision cosine graph still builds faster).
    :param hnsw_min_rows: below this many rows searches are exact (already fast) and no graph
        is built.
    """

    def __init__(
        self,
        home: str = ".modelops",
        root: str | None = None,
        method: str = "hnsw",
        ef_search: int = 128,
        hnsw_m: int = 16,
        ef_construction: int = 200,
        hnsw_min_rows: int = 2000,
    ) -> None:
        self.root = Path(root) if root is not None else Path(home) / "features"
        self._lock = threading.RLock()
        self._db = connect(self.root / "features.db")
        self._rows = SqliteRows(self._db, self._lock)
        self._indexes = LocalIndexes(
            self.root / "embeddings", self._db, self._lock, method=method, ef_search=ef_search,
            hnsw_m=hnsw_m, ef_construction=ef_construction, hnsw_min_rows=hnsw_min_rows,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"LocalFeatureStore(root={str(self.root)!r})"

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    # --- feature rows --------------------------------------------------------------------------

    def put_schema(
        self, feature_set: str, version: int, schema: Mapping[str, str]
    ) -> Mapping[str, str]:
        return self._rows.put_schema(feature_set, version, schema)

    def get_schema(self, feature_set: str, version: int) -> Mapping[str, str] | None:
        return self._rows.get_schema(feature_set, version)

    def feature_sets(self) -> list[FeatureSetInfo]:
        return self._rows.feature_sets()

    def write_rows(self, feature_set: str, version: int, rows: Sequence[FeatureRow]) -> None:
        self._rows.write_rows(feature_set, version, rows)

    def read_rows(
        self, feature_set: str, version: int, entities: Sequence[str], as_of: float | None
    ) -> list[FeatureRow | None]:
        return self._rows.read_rows(feature_set, version, entities, as_of)

    def entities(self, feature_set: str, version: int, limit: int) -> list[str]:
        return self._rows.entities(feature_set, version, limit)

    def prune_history(self, older_than: float, feature_set: str | None, version: int | None) -> int:
        """Delete history rows no read at or after ``older_than`` can return (see
        :meth:`SqliteRows.prune`); returns how many."""
        return self._rows.prune(older_than, feature_set, version)

    # --- embeddings ----------------------------------------------------------------------------

    def write_vectors(
        self,
        index: str,
        ids: Sequence[str],
        matrix: Matrix,
        metadata: Sequence[Mapping[str, Any]],
        metric: str,
    ) -> IndexInfo:
        return self._indexes.write(index, ids, matrix, metadata, metric)

    def index_info(self, index: str) -> IndexInfo | None:
        return self._indexes.info(index)

    def indexes(self) -> list[IndexInfo]:
        return self._indexes.all()

    def read_vectors(self, index: str, ids: Sequence[str]) -> dict[str, Any]:
        return self._indexes.read(index, ids)

    def vector_ids(self, index: str, limit: int) -> list[str]:
        return self._indexes.ids(index, limit)

    def search(
        self,
        index: str,
        query: Any,
        k: int,
        where: MetadataFilter | None,
        method: str | None,
    ) -> list[Neighbor]:
        info = self._indexes.info(index)
        if info is None:
            return []
        return self._indexes.search(index, query, k, where, method, info.metric)
