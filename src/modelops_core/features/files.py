"""Embeddings read from files, for ``modelops features push-embeddings FILE``.

* JSONL: one object per line, ``{"id": "doc-1", "vector": [0.1, ...], ...}``; the other keys
  become the row's metadata (used by ``nearest --filter``);
* Parquet: a column of ids, a column of lists of numbers, the other columns as metadata;
* NumPy: ``.npy`` (a 2-D array; the ids come from a text file of one id per line) or ``.npz``
  (arrays ``ids`` and ``vectors``).

Every problem names the file and the line (JSONL), row (Parquet) or array (NumPy).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import attrs

from modelops_core.features.values import EmbeddingError

SUFFIXES = (".jsonl", ".ndjson", ".parquet", ".pq", ".npy", ".npz")


class EmbeddingFileError(EmbeddingError):
    """A file of embeddings cannot be read (the message names the file and the line or row)."""


@attrs.frozen
class EmbeddingFile:
    """Ids, a float32 matrix (one row per id) and one metadata mapping per id."""

    ids: tuple[str, ...]
    matrix: Any
    metadata: tuple[dict[str, Any], ...]


def read_embeddings(
    path: str | os.PathLike[str],
    *,
    ids_path: str | os.PathLike[str] | None = None,
    id_key: str = "id",
    vector_key: str = "vector",
) -> EmbeddingFile:
    """The embeddings of ``path``, by its suffix (see the module's docstring).

    :param ids_path: for ``.npy``: a text file of one id per line, in row order.
    :raises EmbeddingFileError: the file is missing, of another format, or a line/row is bad.
    """
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix not in SUFFIXES:
        raise EmbeddingFileError(
            f"{source}: {suffix or 'no suffix'} is not a file of embeddings; use .jsonl "
            '(one {"id": ..., "vector": [...]} per line), .parquet (columns id and vector), '
            ".npy (with a file of ids) or .npz (arrays ids and vectors)."
        )
    if not source.is_file():
        raise EmbeddingFileError(f"{source}: no such file.")
    if suffix in (".npy", ".npz"):
        return _numpy(source, ids_path)
    if ids_path is not None:
        raise EmbeddingFileError(
            f"{source}: a file of ids is only for .npy; this file holds its ids in {id_key!r}."
        )
    if suffix in (".parquet", ".pq"):
        return _rows(source, _parquet_rows(source), id_key, vector_key, "row")
    from modelops_core.datasets.jsonl.reader import iter_jsonl

    return _rows(source, iter_jsonl(source), id_key, vector_key, "line")


def _rows(source: Path, rows: Any, id_key: str, vector_key: str, unit: str) -> EmbeddingFile:
    import numpy as np

    ids: list[str] = []
    vectors: list[list[float]] = []
    metadata: list[dict[str, Any]] = []
    for number, record in rows:
        where = f"{source}:{number}" if unit == "line" else f"{source} row {number}"
        if not isinstance(record, dict):
            raise EmbeddingFileError(f"{where}: expected an object, got {type(record).__name__}.")
        for key in (id_key, vector_key):
            if key not in record:
                raise EmbeddingFileError(
                    f"{where}: no {key!r} key (it has: {', '.join(sorted(record)) or 'none'}); "
                    "pass --id-key/--vector-key to name the keys this file uses."
                )
        item = record[id_key]
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise EmbeddingFileError(f"{where}: {id_key!r} must be a string or an integer.")
        vector = _vector(record[vector_key], where, vector_key)
        if vectors and len(vector) != len(vectors[0]):
            raise EmbeddingFileError(
                f"{where}: {vector_key!r} has {len(vector)} numbers but the first vector of the "
                f"file has {len(vectors[0])}; every vector must have the same length."
            )
        ids.append(str(item))
        vectors.append(vector)
        metadata.append({k: v for k, v in record.items() if k not in (id_key, vector_key)})
    if not ids:
        raise EmbeddingFileError(f"{source}: holds no embeddings.")
    return EmbeddingFile(tuple(ids), np.asarray(vectors, dtype=np.float32), tuple(metadata))


def _vector(value: Any, where: str, key: str) -> list[float]:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, list) or not value:
        raise EmbeddingFileError(f"{where}: {key!r} must be a non-empty list of numbers.")
    for position, number in enumerate(value):
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise EmbeddingFileError(f"{where}: {key!r}[{position}] is {number!r}, not a number.")
        if not math.isfinite(number):
            raise EmbeddingFileError(
                f"{where}: {key!r}[{position}] is {number}; use finite numbers."
            )
    return [float(number) for number in value]


def _parquet_rows(source: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise EmbeddingFileError(
            f"{source}: reading Parquet needs pyarrow: pip install pyarrow (or write the "
            "embeddings as .jsonl or .npz)."
        ) from None
    try:
        table = pq.read_table(source)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError …
        raise EmbeddingFileError(f"{source}: not a readable Parquet file ({exc}).") from None
    return enumerate(table.to_pylist(), start=1)


def _numpy(source: Path, ids_path: str | os.PathLike[str] | None) -> EmbeddingFile:
    import numpy as np

    try:
        loaded = np.load(source, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise EmbeddingFileError(f"{source}: not a readable NumPy file ({exc}).") from None
    if source.suffix.lower() == ".npz":
        with loaded:
            missing = [name for name in ("ids", "vectors") if name not in loaded.files]
            if missing:
                raise EmbeddingFileError(
                    f"{source}: no array {missing[0]!r} (it has: {', '.join(loaded.files)}); "
                    "save it with np.savez(path, ids=ids, vectors=matrix)."
                )
            ids = [str(item) for item in loaded["ids"].tolist()]
            matrix = loaded["vectors"]
    else:
        if ids_path is None:
            raise EmbeddingFileError(
                f"{source}: a .npy file holds no ids; pass --ids FILE (one id per line, in row "
                "order), or save ids and vectors together in a .npz file."
            )
        lines = Path(ids_path).read_text(encoding="utf-8").splitlines()
        ids = [line.strip() for line in lines if line.strip()]
        matrix = loaded
    if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.number):
        raise EmbeddingFileError(
            f"{source}: expected a 2-D array of numbers (one row per id), got shape "
            f"{matrix.shape} of {matrix.dtype}."
        )
    if len(ids) != matrix.shape[0]:
        raise EmbeddingFileError(
            f"{source}: {matrix.shape[0]} vectors but {len(ids)} ids; give one id per row."
        )
    bad = np.argwhere(~np.isfinite(matrix))
    if bad.size:
        row, column = (int(v) for v in bad[0])
        raise EmbeddingFileError(
            f"{source}: row {row + 1} ({ids[row]!r}) column {column} is {matrix[row, column]}; "
            "use finite numbers."
        )
    return EmbeddingFile(tuple(ids), matrix.astype(np.float32), tuple({} for _ in ids))
