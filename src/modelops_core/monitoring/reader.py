"""Data by chunks of rows, as ``{column: values}``: CSV, JSONL and Parquet files, pandas and
polars DataFrames, Arrow tables and mappings of columns. Memory stays bounded by one chunk."""

from __future__ import annotations

import csv
import importlib.util
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from modelops_core.monitoring.errors import ProfileError

if TYPE_CHECKING:
    # the name only: the sketches module (attrs and its classes, ~12 ms) is not imported
    # before `monitor drift` starts parsing its files (FileAhead)
    from modelops_core.monitoring.sketches import FloatArray

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
    if isinstance(data, FileAhead):
        return str(data.path)
    kind = type(data)
    return f"{kind.__module__.split('.')[0]}.{kind.__name__}"


def iter_chunks(data: Any, chunk_rows: int = 65_536) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_rows`` rows of ``data``."""
    if chunk_rows < 1:
        raise ProfileError(f"chunk_rows={chunk_rows}: use a positive number of rows")
    if isinstance(data, FileAhead):
        yield from data.chunks(chunk_rows)
        return
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
        yield from _arrow_table_chunks(data, chunk_rows)
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


def _arrow_table_chunks(table: Any, chunk_rows: int) -> Iterator[Chunk]:
    """An Arrow table in chunks of ``chunk_rows`` rows, whatever its own chunks: a table read
    by blocks (``pyarrow.csv.read_csv``: about 7,000 rows a 1 MB block of a 20-column file)
    holds many small ones, each of which made a chunk of its own, with every sketch compacted
    once a block (profiling 10^5 rows took 3 times as long, 6 times with 256 KB blocks). A
    table's slice is a view; its columns are copied into one array a chunk (a column's
    dictionaries unified)."""
    for start in range(0, table.num_rows, chunk_rows):
        for batch in table.slice(start, chunk_rows).combine_chunks().to_batches():
            yield _arrow_batch(batch)


def _arrow_batch(batch: Any) -> Chunk:
    """Numbers as numpy arrays, text as Arrow arrays (counted with Arrow's kernels, or from
    the codes of a dictionary: no Python string per value), other types as Python values."""
    import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]

    chunk: Chunk = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = column.type
        text = kind.value_type if pa.types.is_dictionary(kind) else kind
        if str(kind).startswith(("int", "uint", "float", "double", "decimal")):
            chunk[name] = column.to_numpy(zero_copy_only=False)
        elif pa.types.is_string(text) or pa.types.is_large_string(text):
            chunk[name] = column
        else:
            chunk[name] = column.to_pylist()
    return chunk


def _file_chunks(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    if not path.is_file():
        raise ProfileError(f"{path}: no such file; give {SUPPORTED}")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        yield from _csv_chunks(path, chunk_rows, _delimiter(path))
    elif suffix in JSONL_SUFFIXES:
        yield from _jsonl_chunks(path, chunk_rows)
    elif suffix in PARQUET_SUFFIXES:
        yield from _parquet_chunks(path, chunk_rows)
    else:
        raise ProfileError(f"{path}: unknown file type {suffix or '(none)'!r}; give {SUPPORTED}")


def reads_ahead(path: Path) -> bool:
    """Whether :class:`FileAhead` parses ``path`` on a thread: a CSV file, with pyarrow (which
    parses without the GIL)."""
    if path.suffix.lower() not in CSV_SUFFIXES or not path.is_file():
        return False
    return importlib.util.find_spec("pyarrow") is not None


class ReadAhead:
    """The items of ``items``, taken on a thread from construction on, as many ready and
    waiting as fit in ``limit`` (each counted by ``size``; one at least): Arrow parses a
    file's next blocks without the GIL while the caller profiles the rows it has. The same
    items, in the same order, as iterating ``items``; its error (a file that cannot be read)
    is raised here, where that item would have been. :meth:`close` (or leaving the ``with``
    block) stops the thread after its current item and closes ``items`` on that thread."""

    def __init__(
        self,
        items: Iterator[Any],
        *,
        limit: int,
        name: str,
        size: Callable[[Any], int] = lambda item: 1,
    ) -> None:
        import collections
        import threading

        self._items = items
        self._limit = limit
        self._size = size
        self._held = 0
        self._ready: collections.deque[tuple[bool, Any, int]] = collections.deque()
        self._changed = threading.Condition()
        self._stopped = False
        self._done = False
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        last: tuple[bool, Any, int] = (False, None, 0)
        try:
            for item in self._items:
                size = self._size(item)
                with self._changed:
                    while self._ready and self._held + size > self._limit and not self._stopped:
                        self._changed.wait()
                    if self._stopped:
                        return
                    self._ready.append((True, item, size))
                    self._held += size
                    self._changed.notify()
        except BaseException as exc:  # raised on the consumer's thread
            last = (False, exc, 0)
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()
            with self._changed:
                self._ready.append(last)
                self._changed.notify()

    def __iter__(self) -> ReadAhead:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        with self._changed:
            while not self._ready:
                self._changed.wait()
            more, item, size = self._ready.popleft()
            self._held -= size
            self._changed.notify()
        if more:
            return item
        self.close()
        if item is not None:
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop: the thread ends after the item it is taking, ``items`` closed on it."""
        self._done = True
        with self._changed:
            self._stopped = True
            self._ready.clear()
            self._changed.notify()
        self._thread.join()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class FileAhead:
    """A CSV file whose parsing starts now, on a thread, for a profile built later with the
    same ``chunk_rows`` (``Profile.build(FileAhead(path))``): the command line starts parsing
    both files of ``monitor drift`` before it imports what profiles them, and parses the
    current file while the reference is profiled. At most :data:`FILE_AHEAD_BYTES` of parsed
    rows wait (memory stays bounded whatever the file's size). Parsed ahead once; a second
    read, one with other ``chunk_rows``, or another kind of file is read when used."""

    def __init__(self, path: str | Path, chunk_rows: int = 65_536) -> None:
        self.path = Path(path)
        self.chunk_rows = chunk_rows
        self._blocks: _CsvBlocks | None = None
        if reads_ahead(self.path):
            try:
                self._blocks = _CsvBlocks(
                    self.path, _delimiter(self.path), (), FILE_AHEAD_BYTES, chunk_rows=chunk_rows
                )
            except Exception:  # read (and its error named) when used
                self._blocks = None
            # (the file is opened and its types inferred on the thread: an error there is
            # raised when the blocks are used, and handled as a file read then)

    def chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        """The file's chunks of ``chunk_rows`` rows (from the blocks parsed ahead when the
        size is the same and they were not used yet)."""
        blocks, self._blocks = self._blocks, None
        if blocks is None or chunk_rows != self.chunk_rows:
            if blocks is not None:
                blocks.close()
            yield from _file_chunks(self.path, chunk_rows)
            return
        try:
            yield from _arrow_csv_chunks(self.path, chunk_rows, _delimiter(self.path), blocks)
        finally:
            blocks.close()

    def close(self) -> None:
        """Stop parsing ahead (the file is read again if its chunks are asked for later)."""
        blocks, self._blocks = self._blocks, None
        if blocks is not None:
            blocks.close()

    def __enter__(self) -> FileAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _csv_chunks(path: Path, chunk_rows: int, delimiter: str) -> Iterator[Chunk]:
    """CSV by chunks: with pyarrow when installed (no pandas import, Arrow strings that the
    profile counts with Arrow's kernels), else pandas, else the csv module."""
    if importlib.util.find_spec("pyarrow") is not None:
        yield from _arrow_csv_chunks(path, chunk_rows, delimiter)
    elif importlib.util.find_spec("pandas") is not None:
        yield from _pandas_csv_chunks(path, chunk_rows, delimiter)
    else:
        yield from _plain_csv_chunks(path, chunk_rows, delimiter)


#: bytes pyarrow parses at a time (its batches are regrouped into chunks of ``chunk_rows``).
ARROW_BLOCK_BYTES = 256 << 10
#: bytes of parsed blocks (Arrow buffers) waiting for the profile (:class:`ReadAhead`).
AHEAD_BYTES = 1 << 20
#: the same for a :class:`FileAhead`, which parses while other work runs: a 10^5-row file of
#: 20 columns (12 MB parsed) is parsed ahead whole, a larger one up to this.
FILE_AHEAD_BYTES = 16 << 20
#: distinct strings in the first block up to which a text column is read dictionary-encoded
#: (when its values also repeat: at most one distinct value per two rows).
DICTIONARY_CARDINALITY = 1024


def _arrow_csv_chunks(
    path: Path, chunk_rows: int, delimiter: str, first: _CsvBlocks | None = None
) -> Iterator[Chunk]:
    """A CSV file's chunks, parsed by pyarrow; ``first``: its blocks, already being parsed
    (:class:`FileAhead`), for the first pass."""
    import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]

    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle, delimiter=delimiter), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ProfileError(f"{path}: cannot read the CSV file ({exc})") from exc
    if header is None:
        raise ProfileError(f"{path}: the file is empty; a CSV needs a header line")
    # Arrow infers each column's type from the first block; a later value that does not fit
    # (a word in a numeric column) fails that block. The column is then read again as text
    # from the start, the rows already given skipped, so a mixed column is profiled as the
    # other readers do (numbers counted, words as invalid values), never read twice.
    text_columns: set[str] = set()
    given = 0
    while True:
        try:
            if first is None:
                first = _CsvBlocks(path, delimiter, text_columns, AHEAD_BYTES)
            blocks, first = first, None
            for chunk in _arrow_csv_pass(blocks, chunk_rows, text_columns, given):
                given += len(next(iter(chunk.values()), ()))
                yield chunk
            return
        except pa.ArrowInvalid as exc:
            column = _failed_column(str(exc), header)
            if column is None or column in text_columns:
                for _ in _plain_csv_chunks(path, chunk_rows, delimiter):  # names the line
                    pass
                raise ProfileError(f"{path}: cannot read the CSV file ({exc})") from exc
            text_columns.add(column)
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read the CSV file ({exc})") from exc


def _failed_column(message: str, header: Sequence[str]) -> str | None:
    """The column of an Arrow conversion error ("In CSV column #3: CSV conversion error")."""
    import re

    found = re.search(r"CSV column #(\d+): (?:Row #\d+: )?CSV conversion error", message)
    if found is None or int(found.group(1)) >= len(header):
        return None
    return header[int(found.group(1))]


class _CsvBlocks:
    """A CSV file's blocks, parsed by pyarrow on a thread (:class:`ReadAhead`) from
    construction on, up to ``ahead`` bytes of them waiting; each column read as the first
    block's types say (``text_columns`` as text). The thread also opens the file and infers
    the types (two parses of the first block, 5-10 ms a file that the caller waited for):
    its error (an unreadable file, a conversion) is raised where the first block would have
    been. :attr:`schema` is set before the first block is given. :meth:`close` stops the
    thread and closes the file.

    With ``chunk_rows`` (a :class:`FileAhead`, whose thread has time to spare once its file
    is parsed, while the caller profiles), the thread also regroups the blocks into the
    chunks of ``chunk_rows`` rows the profile takes (:func:`_arrow_columns`: Arrow's copies
    into one array a column, about 3-6 ms a chunk of 20 columns) and :attr:`batches` gives
    those chunks."""

    def __init__(
        self,
        path: Path,
        delimiter: str,
        text_columns: Iterable[str],
        ahead: int,
        *,
        chunk_rows: int | None = None,
    ) -> None:
        import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]
        import pyarrow.csv as pcsv  # type: ignore[import-not-found,import-untyped,unused-ignore]

        # the C library's allocator: Arrow's default (mimalloc) keeps freed blocks' pages,
        # 20 MB or more of resident memory over a large file, and it is no faster here
        self.pool = pa.system_memory_pool()
        self.schema: Any = None
        texts = {name: pa.string() for name in text_columns}  # the columns known as text now
        self.chunk_rows = chunk_rows
        # the next blocks parsed on a thread while the rows before are profiled (Arrow's
        # own threads parse a stream's blocks one at a time, when asked for)
        batches = self._parse(pa, pcsv, path, delimiter, texts)
        size: Callable[[Any], int] = _batch_bytes
        items: Iterator[Any] = batches
        if chunk_rows is not None:
            items = _chunks_of(batches, self, chunk_rows, set(texts), 0)
            size = _chunk_bytes
        self.batches = ReadAhead(items, limit=ahead, name="modelops-read-csv", size=size)

    def _parse(
        self, pa: Any, pcsv: Any, path: Path, delimiter: str, texts: Mapping[str, Any]
    ) -> Iterator[Any]:
        """The file's record batches (run on the reading thread)."""
        pool = self.pool
        read_options = pcsv.ReadOptions(block_size=ARROW_BLOCK_BYTES, use_threads=False)
        parse_options = pcsv.ParseOptions(delimiter=delimiter)

        def convert(types: Mapping[str, Any]) -> Any:
            return pcsv.ConvertOptions(
                column_types={**types, **texts},
                strings_can_be_null=True,
                auto_dict_encode=True,  # categories as codes: counted without Arrow's compute
                auto_dict_max_cardinality=DICTIONARY_CARDINALITY,
            )

        # Arrow's own file (not memory-mapped: a mapping would count every page read in the
        # RSS); a Python file object would make Arrow call back into Python, holding the
        # GIL, for every read
        stream = pa.OSFile(str(path), "r", memory_pool=pool)
        try:
            # The types are inferred once, from the first block (the whole lines of its
            # first bytes), and given to the reader of the file: Arrow's inference of
            # dictionaries on every block costs about 40 % of the parsing (and fails a block
            # with more distinct values than its limit after a first block with fewer).
            head = stream.read(ARROW_BLOCK_BYTES)
            if len(head) == ARROW_BLOCK_BYTES:  # more to come: the block ends at its last line
                head = head[: head.rfind(b"\n") + 1] or head
            first = pcsv.open_csv(
                pa.BufferReader(head), read_options, parse_options, convert({}), memory_pool=pool
            )
            types = _read_types(first.schema, list(first))
            stream.seek(0)
            reader = pcsv.open_csv(
                stream, read_options, parse_options, convert(types), memory_pool=pool
            )
            self.schema = reader.schema
            yield from reader
        finally:
            stream.close()

    def close(self) -> None:
        """Stop the thread; the file is closed on it."""
        self.batches.close()


def _arrow_csv_pass(
    blocks: _CsvBlocks, chunk_rows: int, text_columns: set[str], skip: int
) -> Iterator[Chunk]:
    """The chunks of one pass over ``blocks``: built on their reading thread when they were
    started with the same ``chunk_rows`` (a :class:`FileAhead`'s first pass), else here."""
    try:
        if blocks.chunk_rows is not None:
            assert blocks.chunk_rows == chunk_rows and not skip and not text_columns
            yield from blocks.batches
        else:
            yield from _chunks_of(blocks.batches, blocks, chunk_rows, text_columns, skip)
    finally:
        blocks.close()


def _chunks_of(
    batches: Iterable[Any], blocks: _CsvBlocks, chunk_rows: int, text_columns: set[str], skip: int
) -> Iterator[Chunk]:
    """``batches`` (of ``blocks``) regrouped into chunks of ``chunk_rows`` rows, the first
    ``skip`` rows left out."""
    import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]

    pending: list[Any] = []
    rows = 0
    pool = blocks.pool
    try:
        for batch in batches:
            if skip:  # rows an earlier pass already gave
                dropped = min(skip, batch.num_rows)
                batch, skip = batch.slice(dropped), skip - dropped
            pending.append(batch)
            rows += batch.num_rows
            while rows >= chunk_rows:
                # the schema was set on the reading thread before its first block
                table = pa.Table.from_batches(pending, blocks.schema)
                yield _arrow_columns(table.slice(0, chunk_rows), text_columns, pool)
                rest = table.slice(chunk_rows)
                pending, rows = rest.to_batches(), rest.num_rows
    finally:  # the file closed now, on the thread that reads it, when the chunks stop early
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    if rows:
        yield _arrow_columns(pa.Table.from_batches(pending, blocks.schema), text_columns, pool)


def _batch_bytes(batch: Any) -> int:
    """The bytes of an Arrow record batch's buffers."""
    size: int = batch.nbytes
    return size


def _chunk_bytes(chunk: Chunk) -> int:
    """The bytes of a chunk's arrays (numpy or Arrow)."""
    return sum(int(values.nbytes) for values in chunk.values())


def _read_types(schema: Any, batches: list[Any]) -> dict[str, Any]:
    """The types the columns are read as, from those inferred on the first block: text whose
    values repeat there (at most one distinct value per two rows) as dictionary-encoded
    strings, counted from their codes whatever their number in later blocks; other text (an
    identifier) as plain strings, counted with Arrow's hash kernel."""
    import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]

    rows = sum(batch.num_rows for batch in batches)
    types: dict[str, Any] = {}
    for index, field in enumerate(schema):
        kind = field.type
        if pa.types.is_dictionary(kind):
            distinct = max(len(batch.column(index).dictionary) for batch in batches)
            kind = kind if 2 * distinct <= rows else kind.value_type
        types[field.name] = kind
    return types


def _arrow_columns(table: Any, text_columns: set[str], pool: Any) -> Chunk:
    """Numbers as float arrays (nulls as NaN), strings as Arrow arrays (the profile counts
    their categories with Arrow's kernels); a column read as text is converted to floats
    where every value of the chunk is a number."""
    import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]

    chunk: Chunk = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        array = column.combine_chunks(memory_pool=pool)
        kind = array.type
        if name in text_columns:
            import pyarrow.compute as pc  # type: ignore[import-not-found,import-untyped,unused-ignore]

            try:
                array = pc.cast(array, pa.float64(), memory_pool=pool)
            except pa.ArrowInvalid:
                chunk[name] = array
                continue
        if kind == "int64" and not array.null_count:  # integers (as pandas reads them)
            chunk[name] = _int64s(array)
        elif kind in ("int64", "double"):
            chunk[name] = _floats(array)
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or name in text_columns:
            chunk[name] = _floats(array.cast(pa.float64(), memory_pool=pool))
        elif pa.types.is_null(kind):
            chunk[name] = np.full(len(array), np.nan)
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            chunk[name] = array
        elif pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type):
            chunk[name] = array  # the reader's dictionary encoding: counted from its codes
        else:  # booleans, dates, times: their text, as the other readers give categories
            chunk[name] = array.cast(pa.string(), memory_pool=pool)
    return chunk


def _valid(array: Any) -> npt.NDArray[np.bool_] | None:
    """The validity of an Arrow array's slots (None: no nulls), from its bitmap."""
    if not array.null_count:
        return None
    bits = np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), bitorder="little")
    valid: npt.NDArray[np.bool_] = bits[array.offset : array.offset + len(array)].astype(bool)
    return valid


def _floats(numbers: Any) -> FloatArray:
    """An Arrow int64 or float64 array as numpy floats, nulls as NaN, read from its buffers:
    Arrow's own conversion of nulls (and its compute module, 0.1 s to import) pull in pandas
    (0.3 s) on a command-line run."""
    count, offset = len(numbers), numbers.offset
    buffer, valid = numbers.buffers()[1], _valid(numbers)
    if numbers.type != "int64":
        floats: FloatArray = np.frombuffer(buffer, np.float64, count=count, offset=offset * 8)
        if valid is None:  # Arrow's buffer itself (read-only; the profile only reads it)
            return floats
        values = floats.copy()  # writable
    else:
        values = _int64s(numbers).astype(np.float64)
    if valid is not None:
        values[~valid] = math.nan
    return values


def _int64s(numbers: Any) -> npt.NDArray[np.int64]:
    """An Arrow int64 array's values buffer as numpy (Arrow's memory, read-only; null slots
    hold any value)."""
    values: npt.NDArray[np.int64] = np.frombuffer(
        numbers.buffers()[1], np.int64, count=len(numbers), offset=numbers.offset * 8
    )
    return values


def _codes(array: Any) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.bool_] | None]:
    """The index buffer of an Arrow dictionary array, and its validity (None: no nulls)."""
    indices = array.indices
    width = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64}
    dtype = width[str(indices.type)]
    size = np.dtype(dtype).itemsize
    codes = np.frombuffer(
        indices.buffers()[1], dtype=dtype, count=len(indices), offset=indices.offset * size
    )
    return codes, _valid(indices)


def dictionary_lengths(array: Any) -> FloatArray:
    """Lengths in characters of the values of an Arrow dictionary array (NaN: null)."""
    codes, valid = _codes(array)
    per_code = np.array([len(v) for v in array.dictionary.to_pylist()] or [0], dtype=np.float64)
    if valid is None:
        lengths: FloatArray = per_code[codes]
    else:  # a null's slot may hold any code
        lengths = per_code[np.where(valid, codes, 0)]
        lengths[~valid] = math.nan
    return lengths


def dictionary_counts(array: Any) -> dict[Any, int]:
    """Counts of the values of an Arrow dictionary array (None: its nulls), from its index
    buffer and dictionary."""
    codes, valid = _codes(array)
    nulls = 0
    if valid is not None:
        codes, nulls = codes[valid], int(len(codes) - np.count_nonzero(valid))
    counts = np.bincount(codes, minlength=len(array.dictionary))
    keys = array.dictionary.to_pylist()
    found: dict[Any, int] = {key: int(n) for key, n in zip(keys, counts.tolist(), strict=True) if n}
    if nulls:
        found[None] = found.get(None, 0) + nulls
    return found


def _plain_csv_chunks(path: Path, chunk_rows: int, delimiter: str) -> Iterator[Chunk]:
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
        source = parquet.ParquetFile(path)
        # text columns read as dictionaries (Parquet mostly stores them so): counted from codes
        text = [f.name for f in source.schema_arrow if str(f.type) in ("string", "large_string")]
        if text:
            source = parquet.ParquetFile(path, read_dictionary=text)
        for batch in source.iter_batches(batch_size=chunk_rows):
            yield _arrow_batch(batch)
    except (OSError, ValueError) as exc:
        raise ProfileError(f"{path}: cannot read the Parquet file ({exc})") from exc
