"""Embedding indexes of the local store: numpy files under ``<root>/<index>/gen-<n>/``.

A generation holds ``vectors.npy`` (float32, memory-mapped on read), ``rows.msgpack`` (ids and
metadata) and ``graph.usearch``: the HNSW graph is built by the push that brings the index to
``hnsw_min_rows`` rows (not by the first search) and extended by later pushes.

Switching generations. A push (holding SQLite's write lock, ``BEGIN IMMEDIATE``) writes
generation N+1 in a temporary folder, renames it to ``gen-<N+1>``, and commits the new number:
a reader sees N or N+1, never a partial one, and a push that dies before its commit leaves N in
force (its ``gen-<N+1>`` is deleted by the next push). Generation N is deleted only once no
reader can see it: readers look the number up and open the files in one SQLite read
transaction, and after its commit a push runs ``PRAGMA wal_checkpoint(FULL)``, which succeeds
only when every reader is past that commit (it waits :data:`READER_WAIT` seconds at most; if a
reader still holds an older snapshot then, the old generations stay for the next push to
delete). Files of a generation already open (memory-mapped) stay readable after it is deleted.
"""

from __future__ import annotations

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

from modelops_core.features.values import (
    Codec,
    EmbeddingDimensionError,
    FeatureStoreError,
    FeatureValueError,
    IndexInfo,
    Neighbor,
)
from modelops_core.features.vectors import (
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

# Test hook: a push stops with os._exit(CRASH_EXIT) at the point this environment variable
# names: "published" (generation N+1 in place, not committed) or "committed" (switched to N+1,
# older generations not deleted yet). The crash tests kill real pushes there.
CRASH_HOOK = "MODELOPS_FEATURES_LOCAL_TEST_CRASH"
CRASH_EXIT = 86
# Seconds a push waits for readers of older snapshots before leaving the old generations to
# the next push (readers hold a snapshot only while opening a generation's files).
READER_WAIT = 2.0


class IndexFilesMissingError(FeatureStoreError):
    """The files of an index's current generation are gone (deleted or moved by hand)."""


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_HOOK) == name:
        os._exit(CRASH_EXIT)


def _generation_of(path: Path) -> int | None:
    """N for a folder named ``gen-N``, else None."""
    prefix, _, number = path.name.partition("-")
    return int(number) if prefix == "gen" and number.isdigit() else None


class HnswMissingWarning(UserWarning):
    """usearch is not installed; searches are exact (slower over large indexes)."""


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
                info, generation = self._write_locked(index, ids, matrix, metadata, metric)
                _crash_point("published")
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._loaded.pop(index, None)
                raise
            _crash_point("committed")
            self._collect(index, generation)
        return info

    def _write_locked(
        self,
        index: str,
        ids: Sequence[str],
        matrix: Matrix,
        metadata: Sequence[Mapping[str, Any]],
        metric: str,
    ) -> tuple[IndexInfo, int]:
        row = self._db.execute(
            "SELECT dim, generation FROM vector_indexes WHERE name = ?", (index,)
        ).fetchone()
        if row is not None and row[0] != matrix.shape[1]:
            raise EmbeddingDimensionError(
                f"Index {index!r} holds {row[0]}-dimensional vectors; the vector of id "
                f"{ids[0]!r} has {matrix.shape[1]}. Use the same embedding model, or push to "
                "another index."
            )
        self._remove_unpublished(index, row[1] if row is not None else 0)
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
        if current is not None:
            current.graph = None  # extended for the new generation: no longer the old one's
        self._db.execute(
            "INSERT OR REPLACE INTO vector_indexes (name, dim, metric, count, generation) "
            "VALUES (?, ?, ?, ?, ?)",
            (index, matrix.shape[1], metric, len(new_ids), generation),
        )
        self._loaded[index] = _Loaded(
            generation, folder, np.load(folder / "vectors.npy", mmap_mode="r"), new_ids,
            positions, all_metadata, graph=graph,
        )  # fmt: skip
        info = IndexInfo(index, matrix.shape[1], metric, len(new_ids), self.method)
        return info, generation

    def _remove_unpublished(self, index: str, current: int) -> None:
        """Delete what crashed pushes left (their temporary folders, generations after the
        committed one): no reader ever saw them. Called holding the write lock."""
        base = self.root / index
        if not base.is_dir():
            return
        for path in base.iterdir():
            number = _generation_of(path)
            if path.name.startswith(".tmp-") or (number is not None and number > current):
                shutil.rmtree(path, ignore_errors=True)

    def _collect(self, index: str, current: int) -> None:
        """Delete the generations of ``index`` before ``current`` once no reader can see them
        (see the module docstring); otherwise the next push tries again."""
        old = []
        for path in (self.root / index).iterdir():
            number = _generation_of(path)
            if number is not None and number < current:
                old.append(path)
        if old and self._readers_are_past_the_commit():
            for path in old:
                shutil.rmtree(path, ignore_errors=True)

    def _readers_are_past_the_commit(self) -> bool:
        """Whether every reader of the database reads the latest commit (a FULL checkpoint
        waits for readers of older snapshots, :data:`READER_WAIT` seconds at most)."""
        (before,) = self._db.execute("PRAGMA busy_timeout").fetchone()
        self._db.execute(f"PRAGMA busy_timeout = {int(READER_WAIT * 1000)}")
        try:
            busy = int(self._db.execute("PRAGMA wal_checkpoint(FULL)").fetchone()[0])
        except sqlite3.OperationalError:  # locked by a writer of another process
            busy = 1
        finally:
            self._db.execute(f"PRAGMA busy_timeout = {int(before)}")
        return busy == 0

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
                graph.save(temp / hnsw.FILE)
            elif self._builds_graph(len(ids)):
                # Build at push time (in batches, on every core), not on the first search.
                graph = self._new_graph(data.shape[1], metric)
                graph.build(data)
                graph.save(temp / hnsw.FILE)
            target = base / f"gen-{generation}"
            os.replace(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            if current is not None:
                current.graph = None  # it may hold part of this push's rows
            raise
        return target, graph

    # --- reading -------------------------------------------------------------------------------

    def _load(self, index: str, generation: int) -> _Loaded:
        """Generation ``generation`` of ``index``; called where the generation is visible
        (the write transaction, or the read transaction of :meth:`_current`)."""
        loaded = self._loaded.get(index)
        if loaded is not None and loaded.generation == generation:
            return loaded
        folder = self.root / index / f"gen-{generation}"
        try:
            data = np.load(folder / "vectors.npy", mmap_mode="r")
            ids, metadata = self._codec.decode_value((folder / "rows.msgpack").read_bytes())
        except FileNotFoundError as exc:
            raise IndexFilesMissingError(
                f"The files of embedding index {index!r} are missing: {exc.filename} "
                f"(generation {generation} in {self._db_path()}). Restore {str(folder)!r} "
                "from a backup, or drop the index (run DELETE FROM vector_indexes WHERE name "
                f"= {index!r} in that database with sqlite3) and push its vectors again."
            ) from exc
        loaded = _Loaded(generation, folder, data, ids, {v: i for i, v in enumerate(ids)},
                         metadata)  # fmt: skip
        self._loaded[index] = loaded
        return loaded

    def _db_path(self) -> str:
        row = self._db.execute("PRAGMA database_list").fetchone()
        return str(row[2]) if row else "features.db"

    def _current(self, index: str, graph_metric: str | None = None) -> _Loaded | None:
        """The current generation of ``index`` (None when there is no such index), with its
        saved HNSW graph read when ``graph_metric`` is given and the index has one.

        The number is looked up and the files opened in one read transaction: the push that
        replaces this generation deletes it only after that transaction ends."""
        row = self._db.execute(
            "SELECT generation FROM vector_indexes WHERE name = ?", (index,)
        ).fetchone()
        cached = self._loaded.get(index)
        if row is None:
            return None
        if (
            cached is not None
            and cached.generation == row[0]
            and (graph_metric is None or cached.graph is not None or not self._uses_graph(cached))
        ):
            return cached
        with self._lock:
            self._db.execute("BEGIN")
            try:
                row = self._db.execute(
                    "SELECT generation FROM vector_indexes WHERE name = ?", (index,)
                ).fetchone()
                if row is None:
                    return None
                loaded = self._load(index, row[0])
                if graph_metric is not None and loaded.graph is None and self._uses_graph(loaded):
                    self._read_graph(loaded, graph_metric)
            finally:
                self._db.execute("COMMIT")
        return loaded

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
        chosen = method or self.method
        if chosen not in METHODS:
            raise FeatureValueError(
                f"Unknown search method {chosen!r}; use one of {', '.join(METHODS)}."
            )
        graph_metric = metric if chosen == "hnsw" and where is None else None
        loaded = self._current(index, graph_metric)
        if loaded is None:
            return []
        rows = None
        if where is not None:
            rows, found = exact_search(
                loaded.data, query, k, metric, matching_rows(loaded.metadata, where),
                loaded.squared_norms(metric),
            )  # fmt: skip
        elif graph_metric is not None and self._uses_graph(loaded) and self._graph(loaded, metric):
            assert loaded.graph is not None
            # Twice k (and 10 more) candidates: a half-precision graph may rank the k-th and
            # (k+1)-th rows the wrong way round; the exact re-rank below keeps the true k.
            candidates, _ = loaded.graph.search(query, 2 * k + 10)
            if len(candidates) < min(k, len(loaded.ids)):
                rows = None  # the graph found fewer rows than asked: search exactly instead
            else:  # exact float32 distances (and order) for the rows the graph picked
                rows, found = exact_search(loaded.data, query, k, metric, np.sort(candidates))
        elif chosen == "int8":
            if loaded.codes is None:
                loaded.codes, loaded.scales = quantize_int8(loaded.data)
            rows, found = int8_search(
                loaded.codes, loaded.scales, query, k, metric, loaded.data,
                loaded.squared_norms(metric),
            )  # fmt: skip
        if rows is None:
            rows, found = exact_search(
                loaded.data, query, k, metric, squared_norms=loaded.squared_norms(metric)
            )
        return [
            Neighbor(loaded.ids[row], float(distance), loaded.metadata[row])
            for row, distance in zip(rows.tolist(), found.tolist(), strict=True)
        ]

    def _uses_graph(self, loaded: _Loaded) -> bool:
        """Whether ``hnsw`` searches of ``loaded`` go through a graph (else exact)."""
        return len(loaded.ids) >= self._min_rows

    def _builds_graph(self, count: int) -> bool:
        """Whether a push of an index reaching ``count`` rows builds its HNSW graph."""
        return self.method == "hnsw" and count >= self._min_rows and hnsw.available()

    def _new_graph(self, dim: int, metric: str) -> hnsw.HnswGraph:
        return hnsw.HnswGraph(
            dim, metric, m=self._m, ef_construction=self._ef_construction, ef=self._ef
        )

    def _read_graph(self, loaded: _Loaded, metric: str) -> None:
        """Read the saved graph of ``loaded`` if it has a usable one (usearch installed, the
        file there and whole); a generation written with hnswlib (``hnsw.bin``) has none."""
        path = loaded.folder / hnsw.FILE
        if hnsw.available() and path.is_file():
            graph = self._new_graph(loaded.data.shape[1], metric)
            if graph.load(path, len(loaded.ids)):
                loaded.graph = graph

    def _graph(self, loaded: _Loaded, metric: str) -> bool:
        """Load or build the HNSW graph of ``loaded``; False when usearch is missing."""
        if loaded.graph is not None:
            return True
        if not hnsw.available():
            if not self._warned:
                self._warned = True
                warnings.warn(
                    "usearch is not installed, so nearest() is exact numpy search (slower over "
                    "large indexes). pip install 'modelops-featurestore-local[hnsw]' for HNSW.",
                    HnswMissingWarning,
                    stacklevel=4,
                )
            return False
        self._read_graph(loaded, metric)
        if loaded.graph is None:
            # No graph saved (an older generation, or a damaged file): build one from the
            # vectors and save it for the other processes while the generation is there.
            graph = self._new_graph(loaded.data.shape[1], metric)
            graph.build(np.asarray(loaded.data))
            loaded.graph = graph
            with self._lock:
                if not self._db.in_transaction:  # (a push extends and saves it itself)
                    self._save_graph(loaded)
        return True

    def _save_graph(self, loaded: _Loaded) -> None:
        """Save the graph of ``loaded`` in its folder if it is still the current generation
        (checked in a read transaction, so the folder is not deleted meanwhile)."""
        assert loaded.graph is not None
        self._db.execute("BEGIN")
        try:
            row = self._db.execute(
                "SELECT generation FROM vector_indexes WHERE name = ?",
                (loaded.folder.parent.name,),
            ).fetchone()
            if row is not None and row[0] == loaded.generation:
                loaded.graph.save(loaded.folder / hnsw.FILE)
        except OSError:
            pass  # a read-only folder: the graph still serves this process
        finally:
            self._db.execute("COMMIT")
