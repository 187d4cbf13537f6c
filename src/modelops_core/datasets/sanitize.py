"""DatasetSanitizer: run the configured sanitizer pipeline over a dataset or a file.

The pipeline is ``[sanitizers] pipeline = [...]`` in ``modelops.toml``, in that order; with
none configured it is ``pii`` (redaction of every text field): safe by default. The
components come from plugins (``modelops-sanitizers`` ships ``pii``, ``strip_keys``,
``filter_by_length`` and ``dedupe``); each streams (``apply(records)``) and counts
(``report()``), never keeping the values it found.
"""

from __future__ import annotations

import array
import bisect
import contextlib
import gc
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from modelops_core.datasets.dataset import Dataset
from modelops_core.datasets.errors import DatasetError
from modelops_core.errors import UnknownComponentError
from modelops_core.gc_pause import GcPaused, import_module

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice
    from modelops_core.datasets.jsonl.reader import ProgressCallback
    from modelops_core.runtime import Runtime

INSTALL_HINT = "pip install modelops-sanitizers (from a checkout: pip install ./plugins/sanitizers)"
LENGTH_UNITS = ("chars", "tokens")
GC_EVERY_RECORDS = 1 << 16
"""While a file streams through the pipeline the garbage collector is paused (it would scan the
batches' containers again and again, ~60 ms of a 30 MB file); it runs once every this many
records, so garbage with cycles that a component leaves behind stays bounded."""
WRITE_RECORDS = 1024
"""Records encoded per ``encode_lines`` call when writing (about 1 MB of chat records)."""
SPLIT_MIN_BYTES = 4 * 1024 * 1024
"""Files smaller than this are sanitized in one process by default (``workers=None``): below
it, forking and joining cost about what a second core gives."""
SPLIT_MIN_RECORDS = 4000
"""Records in memory fewer than this are sanitized in one process by default (about 4 MB of
chat records)."""
MAX_LINE_GAPS = 1 << 16
"""Changes of the record-to-line offset (blank or rejected lines) a file report can map."""
Data = TypeVar("Data", bound="Dataset | Sequence[Mapping[str, Any]]")


class SanitizerUnavailableError(DatasetError):
    """A sanitizer named by the pipeline is not registered by any installed plugin."""


class DatasetSanitizer:
    """Sanitizes datasets with the components the configuration names.

    :param runtime: the runtime whose configuration and plugins to use; by default one is
        built from ``modelops.toml`` (found from the working directory) on first use.
    :param pipeline: sanitizer names or choices to use instead of ``[sanitizers] pipeline``.
    :param workers: processes that share a large input (see
        :mod:`~modelops_core.datasets.parallel`): None (default: ``[sanitizers] workers``, else
        by size) splits an input of at least 4 MB (4,000 records in memory) between the idle
        CPUs on Linux, when every sanitizer of the pipeline allows it; 1 never splits; N
        splits into N slices. Output and report are the same whatever the number.
    """

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        pipeline: Iterable[str | ComponentChoice] | None = None,
        workers: int | None = None,
    ) -> None:
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
        ):
            raise DatasetError(
                f"DatasetSanitizer workers={workers!r} is not valid: give a whole number >= 1 "
                "(1: one process), or None to choose by the input's size."
            )
        self._runtime = runtime
        self._pipeline = None if pipeline is None else tuple(pipeline)
        self._workers = workers
        self.report: dict[str, Any] = {}

    @property
    def workers(self) -> int | None:
        """The ``workers`` given, else ``[sanitizers] workers``, else None (by size)."""
        if self._workers is not None:
            return self._workers
        return self.runtime.config.sanitize_workers

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            # the collector paused while the runtime's modules load (the first time)
            self._runtime = import_module("modelops_core.runtime").Runtime()
        return self._runtime

    def pipeline(self) -> tuple[ComponentChoice, ...]:
        """The pipeline given, else the configured one, else ``pii`` alone."""
        from modelops_core.config import ComponentChoice

        if self._pipeline is not None:
            return tuple(
                ComponentChoice(c, where="DatasetSanitizer(pipeline=...)")
                if isinstance(c, str)
                else c
                for c in self._pipeline
            )
        configured = self.runtime.config.sanitize
        return configured or (ComponentChoice("pii", where="default pipeline"),)

    def _create(self, choice: ComponentChoice | str, **options: Any) -> Any:
        from modelops_core.plugins.kinds import Kind

        try:
            return self.runtime.create(Kind.SANITIZER, choice, **options)
        except UnknownComponentError as exc:
            name = choice if isinstance(choice, str) else choice.name
            raise SanitizerUnavailableError(
                f"No sanitizer named {name!r} is installed ({exc}). The first-party sanitizers "
                f"(pii, strip_keys, filter_by_length, dedupe) come with: {INSTALL_HINT}"
            ) from exc

    # --- the reference API -----------------------------------------------------------------

    def strip_keys(self, data: Data, keys: Iterable[str]) -> Data:
        """``data`` without ``keys`` (at any depth); a Dataset gives a Dataset, records a list."""
        component = self._create("strip_keys", keys=list(keys))
        return self._run(data, [component])

    def filter_by_length(
        self, data: Data, key: str, max_len: int, unit: str = "chars", tokenizer: Any = None
    ) -> Data:
        """The records whose ``key`` is at most ``max_len`` long (characters or tokens; for a
        list such as chat ``messages``, of all the text inside). Records without ``key`` stay.
        """
        if unit not in LENGTH_UNITS:
            raise DatasetError(
                f"filter_by_length unit={unit!r} is not valid; choose one of {list(LENGTH_UNITS)}."
            )
        if unit == "chars":
            return self._run(data, [self._create("filter_by_length", key=key, max_len=max_len)])
        from modelops_core.datasets.tokens import token_counter

        count = token_counter(tokenizer)
        records = _records_of(data)
        kept = [
            record
            for record in records
            if key not in record or sum(map(count, _texts(record[key]))) <= max_len
        ]
        self.report = {
            "pipeline": ["filter_by_length"],
            "records_in": len(records),
            "records_out": len(kept),
            "sanitizers": [
                {
                    "sanitizer": "filter_by_length",
                    "unit": "tokens",
                    "records_dropped": len(records) - len(kept),
                }
            ],
        }
        result: Data = _like(data, kept)
        return result

    def sanitize(self, dataset: Data) -> Data:
        """Run the configured pipeline (default: ``pii``) over the dataset or records; counts
        per sanitizer (per type, field and record; never values) are in ``self.report``."""
        return self._run(dataset, [self._create(choice) for choice in self.pipeline()])

    # --- streaming -------------------------------------------------------------------------

    def sanitize_file(
        self,
        source: str | os.PathLike[str],
        output: str | os.PathLike[str],
        *,
        report: str | os.PathLike[str] | None = None,
        skip_invalid: bool = False,
        raw_rejected: bool = False,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Sanitize a JSONL file of any size into ``output`` (atomically; it may equal
        ``source``), keeping each line's shape. Returns the report, also written as JSON to
        ``report`` when given.

        Memory stays bounded whatever the size of the file: records stream through the
        pipeline and the report holds counts and a bounded number of sample records per
        type. A run that is killed leaves no temporary file (see
        :func:`~modelops_core.datasets.write.atomic_writer`).

        Invalid lines raise, or with ``skip_invalid`` go to ``<output>.rejected.jsonl`` as
        ``{"line", "reason", "text"}``. Their text is redacted by the pipeline's PII
        sanitizers (``redact_text``; a default ``pii`` when the pipeline has none); with
        ``raw_rejected=True`` it is kept as it was, PII included.

        A large file may be shared between processes (see ``workers``): the same output,
        rejected lines and report, byte for byte.
        """
        from modelops_core.datasets.write import atomic_writer, rejected_path

        components = [self._create(choice) for choice in self.pipeline()]
        redactors = [] if raw_rejected else self._text_redactors(components, skip_invalid)
        side = rejected_path(output)
        files = contextlib.ExitStack()
        # opened at the first rejected line: no empty file to clean up
        rejects = _LazyFile(lambda: files.enter_context(atomic_writer(side, watch=True)))
        run = _FileRun(components, source, redactors, skip_invalid, rejects)
        workers = self._workers_for(_file_size(source), SPLIT_MIN_BYTES, components)
        with files, GcPaused():  # the rejected lines (entered last) are kept first
            handle = files.enter_context(atomic_writer(output, watch=True))
            if workers > 1:
                _split_file(run, handle, output, workers, progress)
            else:
                run.run_range(handle, progress=progress)
        counts, lines = run.counts, run.lines
        if skip_invalid and not counts["rejected"]:  # an older run's rejected lines
            side.unlink(missing_ok=True)
        self.report = _report(components, counts["in"], counts["out"], lines.line_of)
        self.report["lines_rejected"] = counts["rejected"]
        if skip_invalid:
            self.report["rejected_text"] = "raw" if raw_rejected else "redacted"
        if report is not None:
            import json

            with atomic_writer(report, watch=True) as handle:
                handle.write(json.dumps(self.report, indent=2, default=str).encode() + b"\n")
        return self.report

    def _text_redactors(
        self, components: Sequence[Any], skip_invalid: bool
    ) -> list[Callable[[str], str]]:
        """What redacts a rejected line's text: the pipeline's components that can redact
        plain text, else a default ``pii``; none without ``skip_invalid``."""
        if not skip_invalid:
            return []
        redactors = [
            component.redact_text
            for component in components
            if callable(getattr(component, "redact_text", None))
        ]
        if redactors:
            return redactors
        fallback = getattr(self._create("pii"), "redact_text", None)
        if not callable(fallback):
            raise DatasetError(
                "skip_invalid would write the rejected lines with their PII: the installed "
                "'pii' sanitizer cannot redact plain text (it has no redact_text()). Fix the "
                "lines first, or keep them raw on purpose with raw_rejected=True "
                "(modelops dataset sanitize --skip-invalid --raw-rejected)."
            )
        return [fallback]

    # --- internals -------------------------------------------------------------------------

    def _workers_for(self, size: int, minimum: int, components: Sequence[Any]) -> int:
        """The processes sharing an input of ``size`` (bytes or records); a small input is
        decided here, without importing the splitting module."""
        requested = self.workers
        if requested == 1 or (requested is None and size < minimum):
            return 1
        from modelops_core.datasets import parallel

        return parallel.worker_count(requested, size=size, minimum=minimum, components=components)

    def _run(self, data: Data, components: Sequence[Any]) -> Data:
        records = _records_of(data)
        # Records in memory are sent back from a child (~10 ms per MB each way): by default
        # only a pipeline with costly work per record (pii's detection) gains from a split.
        costly = any(getattr(component, "costly", False) is True for component in components)
        size = len(records) if costly or self.workers is not None else 0
        workers = self._workers_for(size, SPLIT_MIN_RECORDS, components)
        # Many short-lived containers beside the long-lived input records: the collector would
        # scan them again and again for nothing (they hold no cycles); the result's records are
        # promoted with them (see GcPaused), not walked by the next young collections.
        with GcPaused(promote=True):
            if workers > 1:
                result = _split_records(records, components, workers)
            else:
                result = list(_chain(components, records))
            lines = data.lines if isinstance(data, Dataset) else range(1, len(records) + 1)
            self.report = _report(components, len(records), len(result), lines.__getitem__)
            # Components that keep each record's shape (only strings change, records are left
            # out) give records of the input's format: no need to read them again.
            reread = not all(getattr(c, "keeps_format", False) for c in components)
            converted: Data = _like(data, result, reread=reread)
        return converted


def _chain(
    components: Sequence[Any],
    records: Iterable[Any],
    *,
    owned: bool = False,
    counts: list[int] | None = None,
) -> Iterable[Any]:
    """The records through the components in order. With ``owned`` the first component gets
    them by ``apply_owned`` when it has one (records nobody else holds); with ``counts`` (one
    per component) the records each component is given are counted (a split run needs them)."""
    stream: Iterable[Any] = records
    for stage, component in enumerate(components):
        method = getattr(component, "apply_owned", None) if owned and stage == 0 else None
        apply = method if callable(method) else component.apply
        stream = apply(stream if counts is None else _counting(stream, counts, stage))
    return stream


def _counting(records: Iterable[Any], counts: list[int], stage: int) -> Iterator[Any]:
    for record in records:
        counts[stage] += 1
        yield record


def _write(handle: Any, stream: Iterable[Any], encoder: Any) -> int:
    """Write the records as JSON lines, encoded :data:`WRITE_RECORDS` at a time in one call."""
    written = 0
    records = iter(stream)
    while chunk := list(itertools.islice(records, WRITE_RECORDS)):
        handle.write(encoder.encode_lines(chunk))
        written += len(chunk)
    return written


class _LazyFile:
    """A binary file opened (by ``opener``) at the first write: no empty file to clean up."""

    def __init__(self, opener: Callable[[], Any]) -> None:
        self.opener = opener
        self.handle: Any = None

    def write(self, data: bytes) -> None:
        self.file().write(data)

    def file(self) -> Any:
        if self.handle is None:
            self.handle = self.opener()
        return self.handle


class _FileRun:
    """One process's share of :meth:`DatasetSanitizer.sanitize_file`: byte ranges of the
    source through the components into an output, counting records and keeping their lines."""

    def __init__(
        self,
        components: Sequence[Any],
        source: str | os.PathLike[str],
        redactors: Sequence[Callable[[str], str]],
        skip_invalid: bool,
        rejects: _LazyFile,
    ) -> None:
        import msgspec

        self.components = components
        self.source = source
        self.name = str(source)
        self.redactors = redactors
        self.skip_invalid = skip_invalid
        self.rejects = rejects
        self.objects = msgspec.json.Decoder(dict[str, Any])
        self.encoder = msgspec.json.Encoder()
        self.counts = {"in": 0, "out": 0, "rejected": 0}
        self.lines = _LineMap()
        """Where the records are; :meth:`fold` joins the map of a later range to it."""
        self.stages = [0] * len(components)
        """Records each component was given (counted when the run is split)."""

    def records(
        self, start: int, stop: int | None, progress: ProgressCallback | None
    ) -> Iterator[Any]:
        """The records of the range, in order; invalid lines raise or are set aside."""
        from modelops_core.datasets.jsonl.reader import LineProblem, Run, iter_runs, read_error

        counts, lines, redactors = self.counts, self.lines, self.redactors
        # Blocks of lines that each hold one object are decoded in one call (a Run);
        # any other line comes alone, with its object or its problem.
        for part in iter_runs(self.source, self.objects, progress=progress, start=start, stop=stop):
            if isinstance(part, Run):
                first = counts["in"]
                if type(part.lines) is range:  # consecutive lines: one offset for all
                    lines.add(first, part.lines[0])
                else:
                    for index, number in enumerate(part.lines, first):
                        lines.add(index, number)
                counts["in"] = first + len(part.values)
                if first // GC_EVERY_RECORDS != counts["in"] // GC_EVERY_RECORDS:
                    gc.collect()  # the collector is paused: what components left
                yield from part.values
                continue
            number, line, value = part
            if not isinstance(value, LineProblem):
                lines.add(counts["in"], number)
                counts["in"] += 1
                yield value
            elif not self.skip_invalid:
                raise read_error(self.name, value)
            else:
                counts["rejected"] += 1
                text = line.decode("utf-8", "replace")
                for redact in redactors:
                    text = redact(text)
                self.rejects.write(
                    self.encoder.encode({"line": number, "reason": value.reason, "text": text})
                    + b"\n"
                )

    def run_range(
        self,
        handle: Any,
        *,
        start: int = 0,
        stop: int | None = None,
        progress: ProgressCallback | None = None,
        counted: bool = False,
    ) -> None:
        """Sanitize bytes ``start:stop`` of the source into ``handle``; with ``counted``, also
        count the records each component is given (a split run needs them)."""
        # The first component gets records just parsed, which nobody else holds: one that can,
        # changes them in place instead of copying them.
        stream = _chain(
            self.components,
            self.records(start, stop, progress),
            owned=True,
            counts=self.stages if counted else None,
        )
        self.counts["out"] += _write(handle, stream, self.encoder)

    def answer(self) -> dict[str, Any]:
        """What a child sends back: its components' reports, counts and line map."""
        return {
            "reports": [dict(component.report()) for component in self.components],
            "stages": self.stages,
            "counts": self.counts,
            "indexes": self.lines.indexes.tolist(),
            "offsets": self.lines.offsets.tolist(),
            "mapped_below": self.lines.mapped_below,
        }

    def fold(self, answer: Mapping[str, Any]) -> None:
        """Add a later range's answer (see :meth:`answer`) to this run's counts and lines; the
        components' reports are absorbed by the caller."""
        records_before = self.counts["in"]
        for key in self.counts:
            self.counts[key] += answer["counts"][key]
        self.lines.extend(
            records_before, answer["indexes"], answer["offsets"], answer["mapped_below"]
        )


def _file_size(source: str | os.PathLike[str]) -> int:
    try:
        return os.path.getsize(source)
    except OSError:
        return 0  # the reader says what is wrong with it


def _split_file(
    run: _FileRun,
    handle: Any,
    output: str | os.PathLike[str],
    workers: int,
    progress: ProgressCallback | None,
) -> None:
    """:meth:`_FileRun.run_range` of the whole file, its ranges shared between ``workers``
    processes; the same output, rejected lines, counts and reports as one process gives."""
    import json

    from modelops_core.datasets import parallel
    from modelops_core.datasets.errors import DatasetEncodingError, DatasetReadError

    cuts = parallel.line_cuts(run.source, workers)
    ranges = list(itertools.pairwise(cuts))
    slots = parallel.ProgressSlots(len(ranges), progress)
    from modelops_core.datasets.write import _stop_watcher

    parts: list[tuple[str, str]] = []
    watchers: list[Any] = []
    children: list[parallel.Child] = []
    try:
        for slot, (start, stop) in enumerate(ranges[1:], 1):
            part = (_part_path(output, watchers), _part_path(output, watchers))
            parts.append(part)

            def work(slot: int = slot, start: int = start, stop: int = stop) -> bytes:
                out_path, rejected_path = parts[slot - 1]
                with open(out_path, "wb") as part_handle:
                    child_rejects = _LazyFile(lambda: open(rejected_path, "wb"))  # noqa: SIM115
                    child = _FileRun(
                        run.components, run.source, run.redactors, run.skip_invalid, child_rejects
                    )
                    child.lines = _LineMap(spare=1)
                    try:
                        child.run_range(
                            part_handle,
                            start=start,
                            stop=stop,
                            progress=slots.adder(slot),
                            counted=True,
                        )
                    except DatasetReadError as exc:
                        error = {
                            "encoding": isinstance(exc, DatasetEncodingError),
                            "message": str(exc),
                            "line": exc.line,
                            "column": exc.column,
                        }
                        return json.dumps({"error": error}).encode()
                    finally:
                        if child_rejects.handle is not None:
                            child_rejects.handle.close()
                return json.dumps(child.answer(), default=str).encode()

            children.append(parallel.fork(slot, work))
        own_progress = None
        if progress is not None:

            def own_progress(read: int, progress: ProgressCallback = progress) -> None:
                progress(read)
                slots.poll()  # the children's too, as they go

        run.run_range(handle, start=0, stop=cuts[1], progress=own_progress, counted=True)
        for child, (start, stop), (out_path, rejected_path) in zip(
            children, ranges[1:], parts, strict=True
        ):
            raw = child.collect(slots)
            answer = json.loads(raw) if raw else None
            if answer is not None and "error" in answer:
                error = answer["error"]
                kind = DatasetEncodingError if error["encoding"] else DatasetReadError
                raise kind(
                    error["message"], path=run.name, line=error["line"], column=error["column"]
                )
            if answer is None or not parallel.absorbable(run.components, answer["reports"]):
                run.run_range(handle, start=start, stop=stop, counted=True)
                continue
            _append_file(handle, out_path)
            if answer["counts"]["rejected"]:
                _append_file(run.rejects.file(), rejected_path)
            parallel.absorb(run.components, answer["reports"], run.stages, answer["stages"])
            run.fold(answer)
        slots.finish(cuts[-1] - cuts[1])
        if not run.counts["in"] and not run.counts["rejected"]:
            raise DatasetReadError(
                f"{run.name} is empty: a JSONL file needs one JSON object per line.", path=run.name
            )
    finally:
        for child in children:
            child.stop()
        for paths in parts:
            for path in paths:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        for watcher in watchers:
            if watcher is not None:
                _stop_watcher(watcher)
        slots.close()


def _part_path(target: str | os.PathLike[str], watchers: list[Any]) -> str:
    """A new empty file beside ``target`` for a child's part (of the output or of the rejected
    lines), named like the atomic writer's temporary files of ``target``. Its watcher (added to
    ``watchers``) is started first: if this process dies, even before the file exists, the
    file is removed (the children die with this process)."""
    from pathlib import Path

    from modelops_core.datasets.write import TEMPORARY_SUFFIX, _start_watcher, _stop_watcher

    path = Path(target)
    while True:
        name = path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}{TEMPORARY_SUFFIX}")
        watcher = _start_watcher(name)
        try:
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # another file's name: its watcher must not remove it
            if watcher is not None:
                import signal

                os.kill(watcher[0], signal.SIGKILL)  # before the pipe closes
                _stop_watcher(watcher)
            continue
        watchers.append(watcher)
        return str(name)


def _append_file(handle: Any, path: str) -> None:
    """Append the file at ``path`` to the open binary file ``handle``."""
    import shutil

    with open(path, "rb") as part:
        shutil.copyfileobj(part, handle, 1 << 20)


def _split_records(records: list[Any], components: Sequence[Any], workers: int) -> list[Any]:
    """The components' output for ``records``, the records shared between ``workers``
    processes; the same output and reports as one process gives. A child's records come back
    as msgpack (exact for JSON values); a slice with other values is run by this process."""
    import msgspec

    from modelops_core.datasets import parallel

    cuts = parallel.even_cuts(len(records), workers)
    ranges = list(itertools.pairwise(cuts))
    children: list[parallel.Child] = []
    try:
        for slot, (start, stop) in enumerate(ranges[1:], 1):

            def work(start: int = start, stop: int = stop) -> bytes:
                stages = [0] * len(components)
                output = list(_chain(components, records[start:stop], counts=stages))
                reports = [_plain(component.report()) for component in components]
                native = parallel.json_native(output)
                return msgspec.msgpack.encode(
                    {"reports": reports, "stages": stages, "records": output if native else None}
                )

            children.append(parallel.fork(slot, work))
        stage_totals = [0] * len(components)
        result = list(_chain(components, records[: cuts[1]], counts=stage_totals))
        for child, (start, stop) in zip(children, ranges[1:], strict=True):
            raw = child.collect()
            answer = msgspec.msgpack.decode(raw) if raw else None
            if (
                answer is None
                or answer["records"] is None
                or not parallel.absorbable(components, answer["reports"])
            ):
                result.extend(_chain(components, records[start:stop], counts=stage_totals))
                continue
            parallel.absorb(components, answer["reports"], stage_totals, answer["stages"])
            result.extend(answer["records"])
        return result
    finally:
        for child in children:
            child.stop()


def _plain(report: Mapping[str, Any]) -> Any:
    """A report as JSON gives it back (keys as strings, other values as their ``str``)."""
    import json

    return json.loads(json.dumps(dict(report), default=str))


class _LineMap:
    """Record index -> source line, streaming, in memory that does not grow per record.

    Record ``i`` is on line ``i + offset``; the offset changes only after a blank or rejected
    line, and only those changes are kept (16 bytes each, at most :data:`MAX_LINE_GAPS`;
    records after the last one kept get no line).

    :param spare: changes kept beyond :data:`MAX_LINE_GAPS`: the map of a later range of a
        split file keeps one more, as its first change may be none once the maps are joined.
    """

    def __init__(self, spare: int = 0) -> None:
        self.spare = spare
        self.indexes = array.array("q")  # the first record index of each new offset
        self.offsets = array.array("q")
        self.offset = 1
        self.mapped_below: int | None = None  # records from here on have no known line

    def add(self, index: int, line: int) -> None:
        if line - index != self.offset:
            self.offset = line - index
            if len(self.indexes) >= MAX_LINE_GAPS + self.spare:
                if self.mapped_below is None:
                    self.mapped_below = index
                return
            self.indexes.append(index)
            self.offsets.append(self.offset)

    def extend(
        self,
        records_before: int,
        indexes: Sequence[int],
        offsets: Sequence[int],
        mapped_below: int | None,
    ) -> None:
        """Add the map of a later range whose first record is record ``records_before``."""
        for index, offset in zip(indexes, offsets, strict=True):
            self.add(records_before + index, index + offset)
        if mapped_below is not None and self.mapped_below is None:
            self.mapped_below = records_before + mapped_below

    def line_of(self, index: int) -> int | None:
        if self.mapped_below is not None and index >= self.mapped_below:
            return None
        position = bisect.bisect_right(self.indexes, index)
        return index + (self.offsets[position - 1] if position else 1)


def _report(
    components: Sequence[Any],
    records_in: int,
    records_out: int,
    line_of: Callable[[int], int | None],
) -> dict[str, Any]:
    """The pipeline's counts as plain JSON values. The first sanitizer's sampled per-record
    counts are also given per source line (``by_line``); later ones see records after the
    earlier sanitizers, so their ``by_record`` indexes count those."""
    import json

    stages = [dict(component.report()) for component in components]
    if stages and isinstance(stages[0].get("by_record"), Mapping):
        by_line = {}
        for index, counts in stages[0]["by_record"].items():
            line = line_of(int(index))
            if line is not None:
                by_line[line] = counts
        stages[0]["by_line"] = by_line
    report = {
        "pipeline": [component.name for component in components],
        "records_in": records_in,
        "records_out": records_out,
        "sanitizers": stages,
    }
    normalized: dict[str, Any] = json.loads(json.dumps(report, default=str))
    return normalized


def _records_of(data: Any) -> list[Mapping[str, Any]]:
    from modelops_core.datasets.dataset import Dataset

    return list(data.records) if isinstance(data, Dataset) else list(data)


def _like(data: Any, records: list[Any], *, reread: bool = True) -> Any:
    """``records`` as a Dataset when ``data`` was one: re-read, so the shape is checked,
    unless ``reread`` is false (records known to be in ``data``'s format)."""
    from modelops_core.datasets.dataset import Dataset

    if not isinstance(data, Dataset):
        return records
    if not records:
        return Dataset((), data.format, source=data.source)
    if not reread:
        return Dataset(records, data.format, source=data.source)
    result = Dataset.from_records(records)
    result.source = data.source
    return result


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


__all__ = ["DatasetSanitizer", "SanitizerUnavailableError"]
