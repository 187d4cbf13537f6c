"""Readers: JSONL (any supported shape, auto-detected), JSON, CSV with a column mapping, and
the markdown conversation convention. Each returns canonical records with their source lines.
"""

from __future__ import annotations

import itertools
import operator
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from modelops_core.datasets.errors import (
    DatasetEncodingError,
    DatasetFormatError,
    DatasetReadError,
)
from modelops_core.datasets.formats import (
    ROLES,
    Note,
    Record,
    convert_record,
    normalize,
    normalize_line,
)
from modelops_core.datasets.jsonl.reader import (
    Line,
    LineProblem,
    ProgressCallback,
    Run,
    encoding_problem,
    iter_lines,
    iter_runs,
    read_error,
)


@attrs.frozen
class Loaded:
    """Canonical records of one format, their source lines, the lines set aside, and what
    normalizing dropped (``(line, note)``: message keys no message takes)."""

    format: str
    records: tuple[Record, ...]
    lines: tuple[int, ...]
    rejected: tuple[LineProblem, ...] = ()
    notes: tuple[tuple[int, Note], ...] = ()


def iter_jsonl_records(
    path: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
    fast: bool = True,
    notes: list[tuple[int, Note]] | None = None,
) -> Iterator[tuple[int, str, Record] | LineProblem]:
    """``(line, format, canonical record)`` or a :class:`LineProblem` per non-blank line.

    :param fast: plain chat lines are decoded by msgspec into structs (the records are the
        same; ``False`` decodes every line as JSON and then recognises its shape).
    :param notes: gets ``(line, note)`` for what normalizing dropped (unknown message keys).
    """
    parts: Iterable[Run | Line]
    if fast:
        from modelops_core.datasets.jsonl.structs import CHAT_DECODER

        parts = iter_runs(path, CHAT_DECODER, progress=progress)
    else:
        parts = iter_lines(path, progress=progress)
    for part in parts:
        if isinstance(part, Run):
            yield from zip(part.lines, itertools.repeat("chat"), _builtins(part.values))
            continue
        number, _, value = part
        found: list[Note] = []
        parsed = value if isinstance(value, LineProblem) else normalize_line(value, number, found)
        if isinstance(parsed, LineProblem):
            yield parsed
        else:
            if notes is not None:
                notes += [(number, note) for note in found]
            yield number, parsed[0], parsed[1]


def _builtins(structs: list[Any]) -> list[Record]:
    """Chat structs as canonical chat dicts."""
    import msgspec

    records: list[Record] = msgspec.to_builtins(structs)
    return records


def assemble(
    items: Iterable[tuple[int, str, Record]],
    source: str,
    rejected: Iterable[LineProblem] = (),
    notes: Iterable[tuple[int, Note]] = (),
) -> Loaded:
    """One dataset from records of possibly mixed formats: prompt/completion records join chat
    records as two-turn chats; preference records mix with nothing."""
    lines: list[int] = []
    formats: list[str] = []
    records: list[Record] = []
    for line, format, record in items:
        lines.append(line)
        formats.append(format)
        records.append(record)
    return _assembled(lines, formats, records, source, rejected, notes)


def _assembled(
    lines: list[int],
    formats: list[str],
    records: list[Record],
    source: str,
    rejected: Iterable[LineProblem] = (),
    notes: Iterable[tuple[int, Note]] = (),
) -> Loaded:
    """:func:`assemble` of records given as three parallel lists."""
    found = set(formats)
    if len(found) > 1:
        if "preference" in found:
            other = next(i for i, f in enumerate(formats) if f != formats[0])
            raise DatasetFormatError(
                f"{source}: line {lines[other]} is {formats[other]} but line {lines[0]} is "
                f"{formats[0]}; preference records cannot be mixed with other formats."
            )
        records = [
            convert_record(record, format, "chat", f"{source}:{line}")
            for record, format, line in zip(records, formats, lines, strict=True)
        ]
        found = {"chat"}
    return Loaded(
        format=found.pop() if found else "chat",
        records=tuple(records),
        lines=tuple(lines),
        rejected=tuple(rejected),
        notes=tuple(notes),
    )


def read_jsonl(
    path: str | os.PathLike[str],
    *,
    skip_invalid: bool = False,
    progress: ProgressCallback | None = None,
) -> Loaded:
    """Every record of a JSONL file (format auto-detected); invalid lines raise with
    ``file:line:column`` or, with ``skip_invalid``, are kept aside in ``rejected``."""
    from modelops_core.gc_pause import GcPaused

    name = str(path)
    lines: list[int] = []
    formats: list[str] = []
    records: list[Record] = []
    rejected: list[LineProblem] = []
    notes: list[tuple[int, Note]] = []
    # Millions of small containers: the collector would walk them for nothing, while reading
    # and (promote) in the next young collections after it.
    with GcPaused(promote=True):
        from modelops_core.datasets.jsonl.structs import CHAT_DECODER  # msgspec: imported here

        # What iter_jsonl_records gives, gathered a run of plain chat lines at a time.
        for part in iter_runs(path, CHAT_DECODER, progress=progress):
            if isinstance(part, Run):
                lines += part.lines
                records += _builtins(part.values)
                formats += itertools.repeat("chat", len(part.values))
                continue
            number, _, value = part
            found: list[Note] = []
            parsed = (
                value if isinstance(value, LineProblem) else normalize_line(value, number, found)
            )
            if isinstance(parsed, LineProblem):
                if not skip_invalid:
                    raise read_error(name, parsed)
                rejected.append(parsed)
                continue
            notes += [(number, note) for note in found]
            lines.append(number)
            formats.append(parsed[0])
            records.append(parsed[1])
    return _assembled(lines, formats, records, name, rejected, notes)


def read_records(records: Iterable[Any], source: str = "records") -> Loaded:
    """Records given in code (dicts in any supported shape); lines are 1-based indexes."""
    records = list(records)
    plain = _plain_chat(records)
    if plain is not None:
        return Loaded(format="chat", records=plain, lines=tuple(range(1, len(records) + 1)))
    items = []
    notes: list[tuple[int, Note]] = []
    for index, record in enumerate(records, start=1):
        found: list[Note] = []
        format, canonical = normalize(record, f"{source}[{index - 1}]", found)
        items.append((index, format, canonical))
        notes += [(index, note) for note in found]
    return assemble(items, source, notes=notes)


def _plain_chat(records: list[Any]) -> tuple[Record, ...] | None:
    """The canonical records of plain chat records (``{"messages": [...]}``, messages with a
    string content and no keys but role, content, weight, name and tool_call_id), checked and
    copied in one C pass by msgspec; ``None`` when any record is of another shape or could be
    reported: :func:`normalize` then reads them one by one (and says what is wrong). The
    result equals what :func:`normalize` gives, key order included."""
    if not records:
        return None
    import msgspec

    from modelops_core.datasets.jsonl.structs import PlainChat
    from modelops_core.gc_pause import GcPaused

    # many small containers, no cycles: the collector would walk them for nothing
    with GcPaused(promote=True):
        try:
            structs = msgspec.convert(records, list[PlainChat])
            # msgspec takes a tuple of messages, which normalize refuses: those go one by one
            if {type(value) for value in map(operator.itemgetter("messages"), records)} != {list}:
                return None
            return tuple(_builtins(structs))
        except (msgspec.ValidationError, ValueError, TypeError):
            return None


def read_json(path: str | os.PathLike[str]) -> Loaded:
    """A JSON file holding a list of records, or an object with one such list under
    ``data``, ``records`` or ``examples``."""
    import json

    file = Path(path)
    text = _read_text(file)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetReadError(
            f"{file}:{exc.lineno}: invalid JSON at column {exc.colno}: {exc.msg}.",
            path=str(file),
            line=exc.lineno,
            column=exc.colno,
        ) from exc
    if isinstance(value, Mapping):
        for key in ("data", "records", "examples"):
            if isinstance(value.get(key), list):
                value = value[key]
                break
    if not isinstance(value, list):
        raise DatasetFormatError(
            f"{file}: expected a JSON list of records (or an object with a 'data', 'records' "
            "or 'examples' list). For one record per line use Dataset.from_jsonl."
        )
    if not value:
        raise DatasetReadError(f"{file} holds no records.", path=str(file))
    return read_records(value, source=str(file))


def _read_text(file: Path) -> str:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise DatasetReadError(
            f"Cannot open {str(file)!r}: {exc.strerror or exc}.", path=str(file)
        ) from exc
    if not data.strip():
        raise DatasetReadError(f"{file} is empty.", path=str(file))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = bytes(exc.object)  # without the byte-order mark: it is not part of line 1
        start = text.rfind(b"\n", 0, exc.start) + 1
        end = text.find(b"\n", exc.start)
        line = text.count(b"\n", 0, exc.start) + 1
        problem = encoding_problem(line, text[start : end if end >= 0 else None], exc.start - start)
        raise DatasetEncodingError(
            f"{file}:{line}: {problem.reason} {file} > fixed",
            path=str(file),
            line=line,
            column=problem.column,
        ) from exc


DEFAULT_CSV_MAPPING: Mapping[str, str] = {"prompt": "prompt", "completion": "completion"}


def read_csv(path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None) -> Loaded:
    """A CSV with a header; ``mapping`` names the column of each field (``prompt``,
    ``completion`` and optionally ``system``)."""
    file = Path(path)
    chosen = dict(mapping or DEFAULT_CSV_MAPPING)
    unknown = set(chosen) - {"prompt", "completion", "system"}
    if unknown or not {"prompt", "completion"} <= set(chosen):
        raise DatasetFormatError(
            f"CSV mapping {chosen!r} is not valid: map 'prompt' and 'completion' (and optionally "
            "'system') to column names, e.g. {'prompt': 'question', 'completion': 'answer'}."
        )
    import csv
    import io

    reader = csv.DictReader(io.StringIO(_read_text(file), newline=""))
    columns = list(reader.fieldnames or [])
    for field, column in chosen.items():
        if column not in columns:
            raise DatasetFormatError(
                f"{file}: no column {column!r} (mapped to {field}). The columns are: "
                f"{', '.join(columns) or 'none'}. Pass mapping={{'{field}': '<column>'}}."
            )
    items: list[tuple[int, str, Record]] = []
    for row in reader:
        line = reader.line_num
        prompt, completion = row[chosen["prompt"]] or "", row[chosen["completion"]] or ""
        system = row[chosen["system"]] if "system" in chosen else ""
        if system:
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": completion},
            ]
            items.append((line, "chat", {"messages": messages}))
        else:
            items.append((line, "prompt_completion", {"prompt": prompt, "completion": completion}))
    if not items:
        raise DatasetReadError(f"{file} has a header but no rows.", path=str(file))
    return assemble(items, str(file))


# Patterns of the markdown convention, compiled (and cached) by re when a markdown file is read.
_HEADING = r"(?i)^##\s+(\w+)\s*$"
_QA = r"^(Q|A):\s?(.*)$"
_SEPARATOR = r"^-{3,}\s*$"


def read_markdown(path: str | os.PathLike[str]) -> Loaded:
    """The markdown convention (see docs/datasets.md): ``## system|user|assistant|tool``
    sections make one conversation; ``---`` lines separate conversations; ``Q:``/``A:`` lines
    make prompt/completion pairs; ``# `` titles are ignored."""
    file = Path(path)
    lines = _read_text(file).splitlines()
    items: list[tuple[int, str, Record]] = []
    block: list[tuple[int, str]] = []
    for number, text in enumerate([*lines, "---"], start=1):
        if re.match(_SEPARATOR, text):
            items.extend(_markdown_block(block, str(file)))
            block = []
        else:
            block.append((number, text))
    if not items:
        raise DatasetReadError(
            f"{file}: no conversation found; use '## user' / '## assistant' sections or "
            "'Q:' / 'A:' lines (see docs/datasets.md).",
            path=str(file),
        )
    return assemble(items, str(file))


def _markdown_block(block: list[tuple[int, str]], source: str) -> list[tuple[int, str, Record]]:
    messages: list[dict[str, Any]] = []
    pairs: list[tuple[int, str, Record]] = []
    current: list[str] | None = None
    qa: dict[str, Any] | None = None
    start = next((number for number, text in block if text.strip()), 0)
    for number, text in block:
        heading = re.match(_HEADING, text)
        qa_match = re.match(_QA, text)
        if heading:
            role = heading.group(1).lower()
            if role not in ROLES:
                raise DatasetFormatError(
                    f"{source}:{number}: unknown section '## {heading.group(1)}'; use one of "
                    + ", ".join(f"## {r}" for r in ROLES)
                    + "."
                )
            current = []
            messages.append({"role": role, "content": current})
        elif qa_match and current is None:
            letter, rest = qa_match.groups()
            if letter == "Q":
                if qa is not None and qa["completion"] is None:
                    raise DatasetFormatError(f"{source}:{qa['line']}: 'Q:' without an 'A:' answer.")
                qa = {"line": number, "prompt": [rest], "completion": None}
            elif qa is None:
                raise DatasetFormatError(f"{source}:{number}: 'A:' without a 'Q:' before it.")
            else:
                qa["completion"] = [rest]
                pairs.append((qa["line"], "prompt_completion", qa))  # filled below
        elif current is not None:
            current.append(text)
        elif qa is not None and text.strip():
            (qa["completion"] if qa["completion"] is not None else qa["prompt"]).append(text)
        elif text.strip() and not text.startswith("# "):
            raise DatasetFormatError(
                f"{source}:{number}: text outside a '## role' section or a 'Q:'/'A:' pair."
            )
    if messages and pairs:
        raise DatasetFormatError(
            f"{source}:{start}: a block mixes '## role' sections and 'Q:'/'A:' pairs; "
            "separate them with a '---' line."
        )
    if messages:
        turns = [{"role": m["role"], "content": "\n".join(m["content"]).strip()} for m in messages]
        return [(start, "chat", {"messages": turns})]
    result: list[tuple[int, str, Record]] = []
    for line, _, qa_record in pairs:
        result.append(
            (
                line,
                "prompt_completion",
                {
                    "prompt": "\n".join(qa_record["prompt"]).strip(),
                    "completion": "\n".join(qa_record["completion"]).strip(),
                },
            )
        )
    if qa is not None and qa["completion"] is None:
        raise DatasetFormatError(f"{source}:{qa['line']}: 'Q:' without an 'A:' answer.")
    return result
