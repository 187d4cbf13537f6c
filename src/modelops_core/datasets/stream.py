"""Files larger than memory: validate, convert and fingerprint JSONL line by line.

Both read the file with :mod:`modelops_core.datasets.jsonl.reader`: blocks of whole lines
(256 KB) in one reused buffer. Validation also holds, for duplicate detection, 16 bytes per
example (a 64-bit key and the line; see
:class:`~modelops_core.datasets.duplicates.DuplicateLog`). The garbage collector is paused
while the file is read: the records are short-lived containers it would otherwise scan again
and again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.datasets.errors import DatasetFormatError
from modelops_core.datasets.formats import Note, normalize_line
from modelops_core.datasets.jsonl.reader import (
    Line,
    LineProblem,
    ProgressCallback,
    Run,
    iter_lines,
    iter_runs,
    read_error,
)
from modelops_core.datasets.validate import Checker, Problem, ValidationReport
from modelops_core.gc_pause import GcPaused

if TYPE_CHECKING:
    from modelops_core.finetune.provider_contract import ExportTarget


def validate_file(
    path: str | os.PathLike[str],
    provider: str | ExportTarget | None = None,
    model: str | None = None,
    *,
    tokenizer: Any = None,
    progress: ProgressCallback | None = None,
    fingerprint: bool = True,
    fast: bool = True,
) -> ValidationReport:
    """Validate a JSONL file of any size: every problem with its line, plus (unless
    ``fingerprint=False``) the fingerprint of the canonical records (None when the file
    mixes formats).

    :param fast: decode plain chat lines as msgspec structs and check them in blocks (the
        report is the same; ``False`` takes the line-by-line path for every line).
    :param tokenizer: what counts tokens against the provider's limit (see
        :class:`~modelops_core.datasets.validate.Checker`); the report's ``tokenizer`` says
        which counter counted.
    """
    name = str(path)
    checker = Checker(
        None,
        provider,
        model,
        tokenizer,
        fingerprint=fingerprint,
        struct_keys=fast,
        file_bytes=os.path.getsize(path),
    )
    formats: set[str] = set()
    parts: Iterator[Run | Line]
    if fast:
        from modelops_core.datasets.jsonl.structs import CHECK_DECODER

        parts = iter_runs(path, CHECK_DECODER, progress=progress)
    else:
        parts = iter_lines(path, progress=progress)
    with GcPaused():
        for part in parts:
            if isinstance(part, Run):
                if "chat" not in formats:
                    formats.add("chat")
                    checker.check_format("chat")
                checker.add_fast_run(part.lines, part.values, part.sizes)
                continue
            number, _, value = part
            notes: list[Note] = []
            parsed = (
                value if isinstance(value, LineProblem) else normalize_line(value, number, notes)
            )
            if isinstance(parsed, LineProblem):
                checker.add_problem(Problem(parsed.line, parsed.reason, parsed.field, "invalid"))
                continue
            format, record = parsed
            if format not in formats:
                formats.add(format)
                checker.check_format(format)
            checker.add(number, record, format, notes=notes)
    report = checker.report(name)
    if len(formats) > 1:
        report = attrs.evolve(report, fingerprint=None)
        if "preference" in formats:
            problem = Problem(0, "preference records mixed with other formats", "", "format")
            report = attrs.evolve(report, problems=(*report.problems, problem))
    return report


def fingerprint_file(path: str | os.PathLike[str]) -> str:
    """The fingerprint :meth:`Dataset.fingerprint` would give for the file, streaming."""
    report = validate_file(path)
    if report.fingerprint is None:
        raise DatasetFormatError(
            f"{path}: mixes formats, so its fingerprint depends on the conversion; load it "
            "with Dataset.from_jsonl(...).fingerprint()."
        )
    return report.fingerprint


@attrs.frozen
class ConvertResult:
    """What a streaming conversion wrote: examples, lines set aside and where they went."""

    output: Path
    examples: int
    rejected: int = 0
    rejected_path: Path | None = None


def convert_file(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    to: str | ExportTarget,
    *,
    skip_invalid: bool = False,
    progress: ProgressCallback | None = None,
) -> ConvertResult:
    """Convert a JSONL file of any size to a provider format (an export name such as
    ``openai`` or ``vertex``, its :class:`~modelops_core.finetune.provider_contract.ExportTarget`,
    or a canonical format name), line by line.

    The output is written atomically, so ``output`` may equal ``source``. Without
    ``skip_invalid`` the first bad line raises and nothing is written; with it, bad lines
    go to ``<output>.rejected.jsonl`` as ``{"line", "reason", "text"}``.
    """
    import msgspec

    from modelops_core.datasets.exports import check_export_name, export_record
    from modelops_core.datasets.formats import FORMATS, convert_record
    from modelops_core.datasets.write import atomic_writer, rejected_path

    canonical = to if isinstance(to, str) and to in FORMATS else None
    target = None if canonical is not None else check_export_name(to)
    name = str(source)
    encoder = msgspec.json.Encoder()
    side = rejected_path(output)
    counts = {"written": 0, "rejected": 0}

    def converted(record: dict[str, Any], format: str, where: str) -> Any:
        if target is None:
            return convert_record(record, format, str(canonical), where)
        return export_record(record, format, target, where)

    def rows(reject: Any) -> Iterator[bytes]:
        for number, line, value in iter_lines(source, progress=progress):
            parsed = value if isinstance(value, LineProblem) else normalize_line(value, number)
            try:
                if isinstance(parsed, LineProblem):
                    raise read_error(name, parsed)
                yield encoder.encode(converted(parsed[1], parsed[0], f"{name}:{number}"))
            except (DatasetFormatError, ValueError) as exc:
                if not skip_invalid:
                    raise
                reason = parsed.reason if isinstance(parsed, LineProblem) else _short(str(exc))
                reject(number, reason, line)

    with atomic_writer(output) as handle:
        buffer = bytearray()
        if skip_invalid:
            with atomic_writer(side) as rejects:

                def reject(number: int, reason: str, line: bytes) -> None:
                    counts["rejected"] += 1
                    text = line.decode("utf-8", "replace")
                    rejects.write(
                        encoder.encode({"line": number, "reason": reason, "text": text}) + b"\n"
                    )

                _write_rows(handle, buffer, rows(reject), counts)
        else:
            _write_rows(handle, buffer, rows(None), counts)
    if skip_invalid and not counts["rejected"]:
        side.unlink(missing_ok=True)
    return ConvertResult(
        output=Path(output),
        examples=counts["written"],
        rejected=counts["rejected"],
        rejected_path=side if counts["rejected"] else None,
    )


def _short(message: str) -> str:
    """A conversion error without its ``file:line:`` prefix."""
    head, _, rest = message.partition(": ")
    return rest if rest and ":" in head else message


def _write_rows(
    handle: Any, buffer: bytearray, rows: Iterator[bytes], counts: dict[str, int]
) -> None:
    for row in rows:
        buffer += row
        buffer += b"\n"
        counts["written"] += 1
        if len(buffer) > 1 << 20:
            handle.write(buffer)
            buffer.clear()
    handle.write(buffer)
