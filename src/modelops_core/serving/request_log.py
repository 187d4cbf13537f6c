"""The request log: one row per request, written off the request path.

The server hands each finished request to :meth:`RequestLog.append` (a deque append: no I/O,
no lock held by the request); a background thread takes everything appended every
``[serving] flush_interval`` seconds (0.2 by default, at most 1), encodes inputs and outputs
as JSON (``sample`` of them; the rest get NULL), runs the ``[sanitizers]`` pipeline over them
when ``sanitize = true``, and writes the batch in one transaction. A process that dies loses
at most what was appended since the last write: less than a second.

Sinks: the ``modelops_requests`` table of the serving database (SQLite or PostgreSQL, see
:mod:`modelops_core.serving.database`), or Parquet files (one per write, named
``requests-<UTC time>-<pid>-<n>.parquet``, written to a temporary name and renamed), with the
columns of :data:`~modelops_core.serving.database.REQUEST_COLUMNS`. ``timestamp``,
``latency_ms``, ``status``, ``model`` and ``version`` are what ``modelops monitor health``
reads. :func:`read_requests` gives the rows back from either sink.
"""

from __future__ import annotations

import collections
import contextlib
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelops_core.config import mask_urls_in
from modelops_core.serving.database import REQUEST_COLUMNS, ServingDatabase

if TYPE_CHECKING:
    from modelops_core.runtime import Runtime
    from modelops_core.serving.settings import ServingSettings

__all__ = ["ParquetSink", "RequestLog", "SqlSink", "open_request_log", "read_requests"]

#: rows kept in memory while the sink fails (older ones are dropped, and counted)
_MAX_PENDING = 100_000
_INPUT = REQUEST_COLUMNS.index("input")
_OUTPUT = REQUEST_COLUMNS.index("output")


class SqlSink:
    """Writes batches to ``modelops_requests`` (its own connection, used by one thread)."""

    def __init__(self, database: ServingDatabase) -> None:
        self.database = database

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.database.insert_requests(rows)

    def close(self) -> None:
        self.database.close()


class ParquetSink:
    """Writes each batch as one Parquet file in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._count = 0

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.folder.mkdir(parents=True, exist_ok=True)
        columns = {name: [row[i] for row in rows] for i, name in enumerate(REQUEST_COLUMNS)}
        types = {"timestamp": pa.float64(), "latency_ms": pa.float64(), "status": pa.int32(),
                 "shadow": pa.int8()}  # fmt: skip
        table = pa.table(
            {name: pa.array(values, type=types.get(name, pa.string()))
             for name, values in columns.items()}
        )  # fmt: skip
        self._count += 1
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = self.folder / f"requests-{stamp}-{os.getpid()}-{self._count:06d}.parquet"
        temporary = target.with_name(f".{target.name}.tmp")
        pq.write_table(table, temporary)
        temporary.replace(target)

    def close(self) -> None:
        pass


class RequestLog:
    """Collects request rows and writes them from a background thread.

    :param sink: where batches go (:class:`SqlSink`, :class:`ParquetSink` or any object with
        ``write(rows)`` and ``close()``); built in the writer thread by ``open_sink``.
    :param flush_interval: seconds between writes.
    :param sample: the share of rows whose input and output are kept.
    :param sanitize: a function of a list of ``{"input", "output"}`` records returning them
        sanitized (the configured sanitizers), or None.
    """

    def __init__(
        self,
        open_sink: Callable[[], Any],
        *,
        flush_interval: float = 0.2,
        sample: float = 1.0,
        sanitize: Callable[[list[dict[str, Any]]], list[Any]] | None = None,
    ) -> None:
        self._open_sink = open_sink
        self.flush_interval = flush_interval
        self.sample = sample
        self._sanitize = sanitize
        self._rows: collections.deque[tuple[Any, ...]] = collections.deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.dropped = 0
        self.last_error: str | None = None

    def append(self, row: tuple[Any, ...]) -> None:
        """Queue one row (values in ``REQUEST_COLUMNS`` order; input/output as objects)."""
        self._rows.append(row)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="modelops-request-log", daemon=True
            )
            self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        import msgspec

        encoder = msgspec.json.Encoder(enc_hook=_plain)
        sink = None
        pending: list[tuple[Any, ...]] = []
        while True:
            stopping = self._stop.wait(self.flush_interval)
            while self._rows:
                pending.append(self._prepare(self._rows.popleft(), encoder))
            if len(pending) > _MAX_PENDING:
                self.dropped += len(pending) - _MAX_PENDING
                del pending[: len(pending) - _MAX_PENDING]
            if pending:
                try:
                    if sink is None:
                        sink = self._open_sink()
                    sink.write(self._sanitized(pending))
                    self.written += len(pending)
                    pending = []
                    self.last_error = None
                except Exception as exc:  # the log must never take the server down
                    message = mask_urls_in(f"{type(exc).__name__}: {exc}")
                    if message != self.last_error:
                        print(f"modelops serve: request log write failed ({len(pending)} rows "
                              f"kept, retried): {message}", file=sys.stderr)  # fmt: skip
                    self.last_error = message
                    if sink is not None:
                        with contextlib.suppress(Exception):
                            sink.close()
                        sink = None
            if stopping and not self._rows:
                break
        if sink is not None:
            sink.close()

    def _prepare(self, row: tuple[Any, ...], encoder: Any) -> tuple[Any, ...]:
        values = list(row)
        if self.sample < 1.0 and random.random() >= self.sample:
            values[_INPUT] = values[_OUTPUT] = None
        else:
            for index in (_INPUT, _OUTPUT):
                if values[index] is not None:
                    values[index] = encoder.encode(values[index]).decode()
        return tuple(values)

    def _sanitized(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if self._sanitize is None:
            return rows
        import json

        records = [
            {"input": row[_INPUT], "output": row[_OUTPUT]}
            for row in rows
            if row[_INPUT] is not None or row[_OUTPUT] is not None
        ]
        if not records:
            return rows
        cleaned = self._sanitize(records)
        if len(cleaned) != len(records):  # a filter in the pipeline: one record at a time
            cleaned = [next(iter(self._sanitize([r])), {"input": None, "output": None})
                       for r in records]  # fmt: skip
        answer = []
        taken = iter(cleaned)
        for row in rows:
            if row[_INPUT] is None and row[_OUTPUT] is None:
                answer.append(row)
                continue
            record = next(taken)
            values = list(row)
            for index, key in ((_INPUT, "input"), (_OUTPUT, "output")):
                value = record.get(key)
                values[index] = (
                    value if value is None or isinstance(value, str) else json.dumps(value)
                )
            answer.append(tuple(values))
        return answer


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def open_request_log(settings: ServingSettings, runtime: Runtime) -> RequestLog | None:
    """The request log ``[serving]`` asks for (None for ``request_log = "none"``)."""
    if settings.request_log == "none":
        return None
    if settings.request_log == "parquet":
        assert settings.parquet_dir is not None
        folder = settings.parquet_dir

        def open_sink() -> Any:
            return ParquetSink(folder)
    else:

        def open_sink() -> Any:
            return SqlSink(ServingDatabase(settings.database, settings.schema))

    sanitize = None
    if settings.sanitize:
        from modelops_core.datasets.sanitize import DatasetSanitizer

        sanitizer = DatasetSanitizer(runtime)
        components = [sanitizer._create(choice) for choice in sanitizer.pipeline()]

        def sanitize(records: list[dict[str, Any]]) -> list[Any]:
            stream: Any = records
            for component in components:
                stream = component.apply(stream)
            return list(stream)

    return RequestLog(
        open_sink, flush_interval=settings.flush_interval, sample=settings.sample,
        sanitize=sanitize,
    )  # fmt: skip


def read_requests(
    settings: ServingSettings, model: str | None = None, since: float | None = None
) -> list[dict[str, Any]]:
    """The logged rows (as dicts, oldest first) of ``model`` (all models by default)."""
    if settings.request_log == "parquet":
        assert settings.parquet_dir is not None
        import pyarrow.parquet as pq

        rows: list[dict[str, Any]] = []
        for path in sorted(Path(settings.parquet_dir).glob("requests-*.parquet")):
            rows += pq.read_table(path).to_pylist()
        for row in rows:
            row["shadow"] = bool(row["shadow"])
    else:
        with ServingDatabase(settings.database, settings.schema) as database:
            found = database.execute(
                f"SELECT {', '.join(REQUEST_COLUMNS)} FROM {database.requests_table} "
                "ORDER BY timestamp"
            )
        rows = [dict(zip(REQUEST_COLUMNS, row, strict=True)) for row in found]
        for row in rows:
            row["shadow"] = bool(row["shadow"])
    rows = [
        row
        for row in rows
        if (model is None or row["model"] == model) and (since is None or row["timestamp"] >= since)
    ]
    return sorted(rows, key=lambda row: row["timestamp"])
