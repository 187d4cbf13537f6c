"""Embedding indexes of the local store: numpy files under ``<root>/<index>/gen-<n>/``.

A generation holds ``vectors.npy`` (float32, memory-mapped on read), ``rows.msgpack`` (ids and
metadata) and ``hnsw.bin``: the HNSW graph is built by the push that brings the index to
``hnsw_min_rows`` rows (not by the first search) and extended in place by later pushes.
A push writes a new generation in a temporary folder, renames it into place, then switches the
generation number in SQLite in the same transaction that locked the index; readers see the old
or the new generation, never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from modelops_core.feature_types import (
    Codec,
    EmbeddingDimensionError,
    FeatureValueError,
    IndexInfo,
    Neighbor,
)
from modelops_core.vectors import (
    Matrix,
    MetadataFilter,
    exact_search,
    int8_search,
    matching_rows,
    quantize_int8,
    row_norms,
)
from modelops_featurestore_local import hnsw

METHODS = ("hnsw", "int8", "exact")


class HnswMissingWarning(UserWarning):
    """hnswlib is not installed; searches are exact (slower over large indexes)."""


@attrs.define
class _Loaded:
    """One generation of an index, in memory (vectors memory-mapped)."""

    generation: int
    folder: Path
    data: Matrix
    ids: list[str]
    rows: dict[str, int]
    metadata: list[dict[str, Any]]
    graph: hnsw.HnswGraph | None = None
    codes: Any = None
    scales: Any = None
    norms: Any = None  # squared row lengths, for l2 only

    def squared_norms(self, metric: str) -> Matrix | None:
        """The rows' squared lengths (computed once) for l2, else None."""
        if metric != "l2":
            return None
        if self.norms is None:
            self.norms = row_norms(self.data)
        norms: Matrix = self.norms
        return norms


class LocalIndexes:
    """The embedding indexes of one local store (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        connection: sqlite3.Connection,
        lock: threading.RLock,
        *,
        method: str,
        ef_search: int,
        hnsw_m: int,
        ef_construction: int,
        hnsw_min_rows: int,
    ) -> None:
        if method not in METHODS:
            raise FeatureValueError(
                f"Unknown search method {method!r} in [features] method; use one of "
                f"{', '.join(METHODS)}."
            )
        self.root = root
        self.method = method
        self._db = connection
        self._lock = lock
        self._ef = ef_search
        self._m = hnsw_m
        self._ef_construction = ef_construction
        self._min_rows = hnsw_min_rows
        self._loaded: dict[str, _Loaded] = {}
        self._codec = Codec()
        self._warned = False

    # --- metadata ------------------------------------------------------------------------------

    def info(self, index: str) -> IndexInfo | None:
        row = self._db.execute(
            "SELECT dim, metric, count FROM vector_indexes WHERE name = ?", (index,)
        ).fetchone()
        return IndexInfo(index, row[0], row[1], row[2], self.method) if row else None

    def all(self) -> list[IndexInfo]:
        return [
            IndexInfo(name, dim, metric, count, self.method)
            for name, dim, metric, count in self._db.execute(
                "SELECT name, dim, metric, count FROM vector_indexes ORDER BY name"
            )
        ]

    # --- writing -------------------------------------------------------------------------------

    def write(
        self,
        index: str,
        ids: Sequence[str],
        matrix: Matrix,
        metadata: Sequence[Mapping[str, Any]],
        metric: str,
    ) -> IndexInfo:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                info = self._write_locked(index, ids, matrix, metadata, metric)
            except BaseException:
                self._db.execute("ROLLBACK")
                self._loaded.pop(index, None)
                raise
            self._db.execute("COMMIT")
        return info

    def _write_locked(
        self,
        index: str,
        ids: Sequence[str],
        matrix: Matrix,
        metadata: Sequence[Mapping[str, Any]],
        metric: str,
    ) -> IndexInfo:
        row = self._db.execute(
            "SELECT dim, generation FROM vector_indexes WHERE name = ?", (index,)
        ).fetchone()
        if row is not None and row[0] != matrix.shape[1]:
            raise EmbeddingDimensionError(
                f"Index {index!r} holds {row[0]}-dimensional vectors; the vector of id "
                f"{ids[0]!r} has {matrix.shape[1]}."
            )
        current = self._load(index, row[1]) if row is not None else None
        old_ids = current.ids if current else []
        positions = dict(current.rows) if current else {}
        new_ids = list(old_ids)
        replaced, added = [], []
        for position, item in enumerate(ids):
            if item in positions:
                replaced.append((positions[item], position))
            else:
                positions[item] = len(new_ids)
                new_ids.append(item)
                added.append(position)
        data = np.empty((len(new_ids), matrix.shape[1]), dtype=np.float32)
        if current is not None:
            data[: len(old_ids)] = current.data
        all_metadata = list(current.metadata) if current else []
        for target, source in replaced:
            data[target] = matrix[source]
            all_metadata[target] = dict(metadata[source])
        data[len(old_ids) :] = matrix[added]
        all_metadata.extend(dict(metadata[source]) for source in added)
        generation = (row[1] + 1) if row is not None else 1
        if current is not None and current.graph is None and self._builds_graph(len(new_ids)):
            self._graph(current, metric)  # load the saved graph (or build it) to extend it
        folder, graph = self._publish(index, generation, data, new_ids, all_metadata, current,
                                      matrix, replaced, added, metric)  # fmt: skip
        self._db.execute(
            "INSERT OR REPLACE INTO vector_indexes (name, dim, metric, count, generation) "
            "VALUES (?, ?, ?, ?, ?)",
            (index, matrix.shape[1], metric, len(new_ids), generation),
        )
        if current is not None:
            shutil.rmtree(current.folder, ignore_errors=True)
        self._loaded[index] = _Loaded(
            generation, folder, np.load(folder / "vectors.npy", mmap_mode="r"), new_ids,
            positions, all_metadata, graph=graph,
        )  # fmt: skip
        return IndexInfo(index, matrix.shape[1], metric, len(new_ids), self.method)

    def _publish(
        self,
        index: str,
        generation: int,
        data: Matrix,
        ids: list[str],
        metadata: list[dict[str, Any]],
        current: _Loaded | None,
        matrix: Matrix,
        replaced: list[tuple[int, int]],
        added: list[int],
        metric: str,
    ) -> tuple[Path, hnsw.HnswGraph | None]:
        """Write a generation folder (vectors, rows, the HNSW graph once there is one) and
        rename it into place; returns it with the graph."""
        base = self.root / index
        base.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(dir=base, prefix=".tmp-"))
        graph = current.graph if current is not None else None
        try:
            np.save(temp / "vectors.npy", data)
            (temp / "rows.msgpack").write_bytes(self._codec.encode_value([ids, metadata]))
            if current is not None and graph is not None:
                # Keep the graph up to date rather than rebuilding it on the next search.
                if replaced:
                    targets = np.array([t for t, _ in replaced])
                    graph.add(matrix[[s for _, s in replaced]], targets)
                if added:
                    graph.add(matrix[added], np.arange(len(current.ids), len(ids)))
                graph.save(temp / "hnsw.bin")
            elif self._builds_graph(len(ids)):
                # Build at push time (in batches, on every core), not on the first search.
                graph = self._new_graph(data.shape[1], metric)
                graph.build(data)
                graph.save(temp / "hnsw.bin")
            target = base / f"gen-{generation}"
            shutil.rmtree(target, ignore_errors=True)  # a leftover of a crashed push
            os.replace(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return target, graph

    # --- reading -------------------------------------------------------------------------------

    def _generation(self, index: str) -> int | None:
        row = self._db.execute(
            "SELECT generation FROM vector_indexes WHERE name = ?", (index,)
        ).fetchone()
        return row[0] if row else None

    def _load(self, index: str, generation: int) -> _Loaded:
        loaded = self._loaded.get(index)
        if loaded is not None and loaded.generation == generation:
            return loaded
        folder = self.root / index / f"gen-{generation}"
        data = np.load(folder / "vectors.npy", mmap_mode="r")
        ids, metadata = self._codec.decode_value((folder / "rows.msgpack").read_bytes())
        loaded = _Loaded(generation, folder, data, ids, {v: i for i, v in enumerate(ids)},
                         metadata)  # fmt: skip
        self._loaded[index] = loaded
        return loaded

    def _current(self, index: str) -> _Loaded | None:
        generation = self._generation(index)
        return None if generation is None else self._load(index, generation)

    def read(self, index: str, ids: Sequence[str]) -> dict[str, Any]:
        loaded = self._current(index)
        if loaded is None:
            return {}
        return {
            item: np.array(loaded.data[loaded.rows[item]]) for item in ids if item in loaded.rows
        }

    def ids(self, index: str, limit: int) -> list[str]:
        loaded = self._current(index)
        return [] if loaded is None else loaded.ids[:limit]

    def search(
        self,
        index: str,
        query: Any,
        k: int,
        where: MetadataFilter | None,
        method: str | None,
        metric: str,
    ) -> list[Neighbor]:
        loaded = self._current(index)
        if loaded is None:
            return []
        chosen = method or self.method
        if chosen not in METHODS:
            raise FeatureValueError(
                f"Unknown search method {chosen!r}; use one of {', '.join(METHODS)}."
            )
        if where is not None:
            rows, found = exact_search(
                loaded.data, query, k, metric, matching_rows(loaded.metadata, where),
                loaded.squared_norms(metric),
            )  # fmt: skip
        elif chosen == "hnsw" and len(loaded.ids) >= self._min_rows and self._graph(loaded, metric):
            assert loaded.graph is not None
            rows, found = loaded.graph.search(query, k)
        elif chosen == "int8":
            if loaded.codes is None:
                loaded.codes, loaded.scales = quantize_int8(loaded.data)
            rows, found = int8_search(
                loaded.codes, loaded.scales, query, k, metric, loaded.data,
                loaded.squared_norms(metric),
            )  # fmt: skip
        else:
            rows, found = exact_search(
                loaded.data, query, k, metric, squared_norms=loaded.squared_norms(metric)
            )
        return [
            Neighbor(loaded.ids[row], float(distance), loaded.metadata[row])
            for row, distance in zip(rows.tolist(), found.tolist(), strict=True)
        ]

    def _builds_graph(self, count: int) -> bool:
        """Whether a push of an index reaching ``count`` rows builds its HNSW graph."""
        return self.method == "hnsw" and count >= self._min_rows and hnsw.available()

    def _new_graph(self, dim: int, metric: str) -> hnsw.HnswGraph:
        return hnsw.HnswGraph(
            dim, metric, m=self._m, ef_construction=self._ef_construction, ef=self._ef
        )

    def _graph(self, loaded: _Loaded, metric: str) -> bool:
        """Load or build the HNSW graph of ``loaded``; False when hnswlib is missing."""
        if loaded.graph is not None:
            return True
        if not hnsw.available():
            if not self._warned:
                self._warned = True
                warnings.warn(
                    "hnswlib is not installed, so nearest() is exact numpy search (slower over "
                    "large indexes). pip install 'modelops-featurestore-local[hnsw]' for HNSW.",
                    HnswMissingWarning,
                    stacklevel=4,
                )
            return False
        graph = self._new_graph(loaded.data.shape[1], metric)
        path = loaded.folder / "hnsw.bin"
        if path.exists():
            graph.load(path, len(loaded.ids))
        else:
            graph.build(np.asarray(loaded.data))
            # The generation may have been replaced meanwhile; the graph still serves.
            with contextlib.suppress(OSError):
                graph.save(path)
        loaded.graph = graph
        return True
