"""Datasets from and to tables: pandas and polars DataFrames, pyarrow Tables, Parquet files and
Hugging Face ``datasets``. Each library is optional and imported only when used.

A table's rows are records in any supported shape (``prompt``/``completion`` columns, a
``messages`` column of turns, ``prompt``/``chosen``/``rejected`` …); ``mapping`` renames
columns to fields first, e.g. ``{"prompt": "question", "completion": "answer"}``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelops_core.datasets.errors import DatasetFormatError, DatasetReadError

if TYPE_CHECKING:
    from modelops_core.datasets.read import Loaded

__all__ = ["TABLE_SUFFIXES", "read_file", "read_hf", "read_parquet", "read_table", "to_arrow"]

#: file suffixes read as tables (besides .jsonl/.json/.md), by ``read_file``
TABLE_SUFFIXES = (".parquet", ".pq", ".csv")


def _need(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module.split('.')[0]} is needed for this; install it with "
            f"`pip install 'modelops-core[{extra}]'`."
        ) from exc


def _renamed(
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    mapping: Mapping[str, str] | None,
    source: str,
) -> Iterable[dict[str, Any]]:
    if not mapping:
        yield from (dict(row) for row in rows)
        return
    for field, name in mapping.items():
        if name not in columns:
            raise DatasetFormatError(
                f"{source}: no column {name!r} (mapped to {field}); the columns are: "
                f"{', '.join(map(repr, columns)) or 'none'}. Pass mapping={{'{field}': "
                "'<column>'}."
            )
    sources = set(mapping.values())
    for row in rows:
        record = {key: value for key, value in row.items() if key not in sources}
        record.update({field: row[name] for field, name in mapping.items()})
        yield record


def read_table(table: Any, source: str, mapping: Mapping[str, str] | None = None) -> Loaded:
    """The rows of a pandas/polars DataFrame, a pyarrow Table or a mapping of columns."""
    from modelops_core.datasets.read import read_records
    from modelops_core.tabular.frames import column_names, is_table, rows

    if not is_table(table):
        raise DatasetFormatError(
            f"{source}: a {type(table).__module__}.{type(table).__qualname__} is not a table; "
            "pass a pandas or polars DataFrame, a pyarrow Table or a mapping of columns."
        )
    columns = column_names(table)
    records = list(_renamed(rows(table), columns, mapping, source))
    if not records:
        raise DatasetReadError(f"{source} has no rows (columns: {', '.join(columns) or 'none'}).")
    return read_records(records, source=source)


def read_parquet(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None) -> Loaded:
    """A Parquet file (pyarrow)."""
    parquet = _need("pyarrow.parquet", "parquet")
    file = Path(path)
    try:
        table = parquet.read_table(file)
    except FileNotFoundError as exc:
        raise DatasetReadError(f"{file}: no such file.", path=str(file)) from exc
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise DatasetReadError(
            f"{file} is not a readable Parquet file ({exc}). Check the file, or give a .jsonl "
            "or .csv file instead.",
            path=str(file),
        ) from exc
    return read_table(table, str(file), mapping)


def read_hf(dataset: Any, mapping: Mapping[str, str] | None = None) -> Loaded:
    """A Hugging Face ``datasets.Dataset``, or the path of one saved with ``save_to_disk``."""
    if isinstance(dataset, str | os.PathLike):
        hf = _need("datasets", "hf")
        where = os.fspath(dataset)
        try:
            dataset = hf.load_from_disk(where)
        except FileNotFoundError as exc:
            raise DatasetReadError(
                f"{where} is not a dataset saved with datasets' save_to_disk ({exc}).",
                path=where,
            ) from exc
        source = where
    else:
        source = "datasets.Dataset"
    if type(dataset).__name__ == "DatasetDict":
        raise DatasetFormatError(
            f"{source} holds the splits {', '.join(dataset)}; pick one, e.g. "
            f"Dataset.from_hf(d[{next(iter(dataset))!r}])."
        )
    if not hasattr(dataset, "to_list") or not hasattr(dataset, "column_names"):
        raise DatasetFormatError(
            f"{type(dataset).__qualname__} is not a Hugging Face datasets.Dataset; pass one, or "
            "the folder it was saved to."
        )
    return read_table({name: dataset[name] for name in dataset.column_names}, source, mapping)


def read_file(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None) -> Loaded:
    """A .parquet or .csv file by its suffix."""
    from modelops_core.datasets.read import read_csv

    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return read_parquet(path, mapping)
    if suffix == ".csv":
        return read_csv(path, mapping)
    raise DatasetFormatError(
        f"{path}: {suffix or 'no suffix'} is not a table file; use .parquet or .csv (or "
        "Dataset.from_jsonl for .jsonl)."
    )


def to_arrow(records: Iterable[Mapping[str, Any]]) -> Any:
    """The records as a pyarrow Table."""
    arrow = _need("pyarrow", "parquet")
    return arrow.Table.from_pylist([dict(r) for r in records])


def write_parquet(records: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write the records to a Parquet file atomically (temp file + ``os.replace``)."""
    parquet = _need("pyarrow.parquet", "parquet")
    from modelops_core.datasets.write import atomic_writer

    table = to_arrow(records)
    with atomic_writer(path) as handle:
        parquet.write_table(table, handle)
    return Path(path)
