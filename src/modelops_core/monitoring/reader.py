"""Data by chunks of rows, as ``{column: values}``: CSV, JSONL and Parquet files, pandas and
polars DataFrames, Arrow tables and mappings of columns. Memory stays bounded by one chunk."""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from modelops_core.monitoring.errors import ProfileError

Chunk = dict[str, Any]
CSV_SUFFIXES = (".csv", ".tsv")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED = "CSV (.csv, .tsv), JSONL (.jsonl, .ndjson), Parquet (.parquet) or a saved profile"


def is_profile_file(path: Path) -> bool:
    """True for a JSON file written by ``Profile.save``."""
    if path.suffix.lower() != ".json":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    return b"modelops.profile" in head


def describe(data: Any) -> str:
    """A short name of the data for lineage ("ref.csv", "pandas.DataFrame")."""
    if isinstance(data, str | Path):
        return str(data)
    kind = type(data)
    return f"{kind.__module__.split('.')[0]}.{kind.__name__}"


def iter_chunks(data: Any, chunk_rows: int = 65_536) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_rows`` rows of ``data``."""
    if chunk_rows < 1:
        raise ProfileError(f"chunk_rows={chunk_rows}: use a positive number of rows")
    if isinstance(data, str | Path):
        yield from _file_chunks(Path(data), chunk_rows)
        return
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "iloc"):
        for start in range(0, len(data), chunk_rows):
            part = data.iloc[start : start + chunk_rows]
            yield {str(name): part[name] for name in part.columns}
        return
    if module == "polars" and hasattr(data, "iter_slices"):
        for part in data.iter_slices(chunk_rows):
            yield {name: part[name].to_numpy() for name in part.columns}
        return
    if module == "pyarrow" and hasattr(data, "to_batches"):
        for batch in data.to_batches(max_chunksize=chunk_rows):
            yield _arrow_batch(batch)
        return
    if isinstance(data, Mapping):
        columns = {str(name): list(values) for name, values in data.items()}
        lengths = {len(values) for values in columns.values()}
        if len(lengths) > 1:
            sizes = {name: len(values) for name, values in columns.items()}
            raise ProfileError(f"columns of different lengths: {sizes}; give equal lengths")
        rows = lengths.pop() if lengths else 0
        for start in range(0, rows, chunk_rows):
            yield {name: values[start : start + chunk_rows] for name, values in columns.items()}
        return
    raise ProfileError(
        f"cannot profile a {describe(data)}: pass a path ({SUPPORTED}), a pandas or polars "
        "DataFrame, an Arrow table or a mapping of column name to values"
    )


def _arrow_batch(batch: Any) -> Chunk:
    chunk: Chunk = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = str(column.type)
        if kind.startswith(("int", "uint", "float", "double", "decimal")):
            chunk[name] = column.to_numpy(zero_copy_only=False)
        else:
            chunk[name] = column.to_pylist()
    return chunk


def _file_chunks(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    if not path.is_file():
        raise ProfileError(f"{path}: no such file; give {SUPPORTED}")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        yield from _csv_chunks(path, chunk_rows, "\t" if suffix == ".tsv" else ",")
    elif suffix in JSONL_SUFFIXES:
        yield from _jsonl_chunks(path, chunk_rows)
    elif suffix in PARQUET_SUFFIXES:
        yield from _parquet_chunks(path, chunk_rows)
    else:
        raise ProfileError(f"{path}: unknown file type {suffix or '(none)'!r}; give {SUPPORTED}")


def _csv_chunks(path: Path, chunk_rows: int, delimiter: str) -> Iterator[Chunk]:
    if importlib.util.find_spec("pandas") is not None:
        yield from _pandas_csv_chunks(path, chunk_rows, delimiter)
        return
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle, delimiter=delimiter)
            header = next(rows, None)
            if header is None:
                raise ProfileError(f"{path}: the file is empty; a CSV needs a header line")
            block: list[list[str]] = []
            for row in rows:
                if len(row) != len(header):
                    raise ProfileError(
                        f"{path}, line {rows.line_num}: {len(row)} fields, the header has "
                        f"{len(header)}; fix or remove the line"
                    )
                block.append(row)
                if len(block) == chunk_rows:
                    yield _columns(header, block)
                    block = []
            if block:
                yield _columns(header, block)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ProfileError(f"{path}: cannot read the CSV file ({exc})") from exc


def _columns(header: Sequence[str], block: list[list[str]]) -> Chunk:
    return {
        name: list(values) for name, values in zip(header, zip(*block, strict=True), strict=True)
    }


def _pandas_csv_chunks(path: Path, chunk_rows: int, delimiter: str) -> Iterator[Chunk]:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    try:
        reader = pd.read_csv(path, sep=delimiter, chunksize=chunk_rows, low_memory=False)
        with reader:
            for frame in reader:
                yield {str(name): frame[name] for name in frame.columns}
    except pd.errors.EmptyDataError as exc:
        raise ProfileError(f"{path}: the file is empty; a CSV needs a header line") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise ProfileError(f"{path}: cannot read the CSV file ({exc})") from exc


def _jsonl_chunks(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    import msgspec

    decoder = msgspec.json.Decoder()
    try:
        with path.open("rb") as handle:
            block: list[Mapping[str, Any]] = []
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = decoder.decode(line)
                except msgspec.DecodeError as exc:
                    raise ProfileError(
                        f"{path}, line {number}: not valid JSON ({exc}); fix or remove the line"
                    ) from exc
                if not isinstance(record, dict):
                    raise ProfileError(
                        f"{path}, line {number}: a JSON {type(record).__name__}, not an object; "
                        'each line must be one record {"column": value, ...}'
                    )
                block.append(record)
                if len(block) == chunk_rows:
                    yield _records(block)
                    block = []
            if block:
                yield _records(block)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc


def _records(block: list[Mapping[str, Any]]) -> Chunk:
    names = list(dict.fromkeys(name for record in block for name in record))
    return {name: [record.get(name) for record in block] for name in names}


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    try:
        import pyarrow.parquet as parquet  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise ProfileError(
            f"{path}: reading Parquet needs pyarrow; pip install pyarrow (or give CSV/JSONL)"
        ) from exc
    try:
        for batch in parquet.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield _arrow_batch(batch)
    except (OSError, ValueError) as exc:
        raise ProfileError(f"{path}: cannot read the Parquet file ({exc})") from exc
