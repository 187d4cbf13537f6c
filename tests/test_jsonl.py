"""One JSONL reader: ``read_jsonl`` (what `modelops eval run` reads), ``Dataset.from_jsonl``,
``validate_file`` (both paths), ``convert_file`` and ``sanitize_file`` read a file the same way
and name a problem the same way (1-based line, 1-based character column, ``file:line: reason``).

Where those readers disagreed before they shared the reader, each disagreement is a case below,
checked against every one of them."""

from __future__ import annotations

import json

import attrs
import pytest

from modelops_core import Dataset, DatasetSanitizer
from modelops_core.cli.main import main
from modelops_core.datasets.errors import DatasetEncodingError, DatasetReadError
from modelops_core.datasets.jsonl.reader import SKIP_HINT, JsonlError, LineProblem, read_jsonl
from modelops_core.datasets.stream import convert_file, validate_file

TRUNCATED = '{"prompt": "a", "completion": "b"}\n{"prompt": "a", "completion": \n'
GOOD = b'{"prompt": "q", "completion": "a"}'


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_truncated_line_gets_the_column_the_dataset_reader_gives(tmp_path, newline):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(TRUNCATED.replace("\n", newline).encode())
    with pytest.raises(DatasetReadError) as from_dataset:
        Dataset.from_jsonl(path)
    with pytest.raises(JsonlError, match=r"bad.jsonl:2: invalid JSON at column (\d+)") as ours:
        read_jsonl(path)
    assert f"column {from_dataset.value.column}:" in str(ours.value)
    assert (ours.value.line, ours.value.column) == (2, 31) == (2, from_dataset.value.column)


def test_a_byte_order_mark_is_not_part_of_the_first_record(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"prediction": 1}\r\n\r\n{"prediction": 0}\r\n')
    assert read_jsonl(path) == [{"prediction": 1}, {"prediction": 0}]


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"prediction": "café"}\n'.encode("latin-1"))
    with pytest.raises(
        DatasetEncodingError, match=r"latin1.jsonl:1: not UTF-8 \(byte 0xe9 at column 20\)"
    ) as error:
        read_jsonl(path)
    assert (error.value.line, error.value.column) == (1, 20)


def test_a_line_that_is_not_an_object_is_named(tmp_path):
    path = tmp_path / "list.jsonl"
    path.write_text('{"prediction": 1}\n[1, 2]\n')
    with pytest.raises(JsonlError, match=r"list.jsonl:2: expected a JSON object, got an array"):
        read_jsonl(path)


def test_the_read_error_keeps_its_old_names(tmp_path):
    """``JsonlError`` (what eval's reader raised) still catches the one read error."""
    path = tmp_path / "bad.jsonl"
    path.write_text("{oops\n")
    with pytest.raises(JsonlError) as error:
        read_jsonl(path)
    assert type(error.value) is DatasetReadError
    assert (error.value.path, error.value.line, error.value.column) == (str(path), 1, 2)


# --- the disagreements, each checked against every reader --------------------------------------


@attrs.frozen
class LineCase:
    """A file whose line ``line`` is refused by every reader with ``reason`` at ``column``
    (``text``: that line as a rejected-lines file keeps it)."""

    data: bytes
    line: int
    reason: str
    column: int
    text: str
    error: type[DatasetReadError] = DatasetReadError


LINE_CASES = {
    # eval: "not UTF-8 after line 0", no line, no column; datasets: the byte of the line (14),
    # not the character (13: "é" is two bytes)
    "not-utf8": LineCase(
        GOOD + b'\n{"text": "\xc3\xa9t\xe9"}\n',
        2,
        "not UTF-8 (byte 0xe9 at column 13); re-encode the file as UTF-8, e.g. iconv -f latin1 "
        "-t utf-8",
        13,
        '{"text": "ét\ufffd"}',
        DatasetEncodingError,
    ),
    # eval: a lone \r ended a line, so line 1 was two (the first invalid); datasets: \n only
    "lone-cr": LineCase(
        b'{"prompt": "q",\r"completion": "a"}\n{"prompt": oops}\n',
        2,
        "invalid JSON at column 12: Expecting value",
        12,
        '{"prompt": oops}',
    ),
    # eval: a line of Unicode whitespace (no-break space) was blank and skipped
    "no-break-space": LineCase(
        GOOD + b"\n\xc2\xa0\n", 2, "invalid JSON at column 1: Expecting value", 1, "\u00a0"
    ),
    # eval: "got list"; datasets: "got a list."; sanitize: "expected a JSON object"
    "not-an-object": LineCase(
        GOOD + b"\n[1, 2]\n", 2, "expected a JSON object, got an array", 0, "[1, 2]"
    ),
    # eval: the line without its ending; datasets: the rejected text kept the \r of CRLF
    "crlf-text": LineCase(
        GOOD + b'\r\n{"prompt": oops}\r\n',
        2,
        "invalid JSON at column 12: Expecting value",
        12,
        '{"prompt": oops}',
    ),
}


def raised(read, *args, **kwargs) -> DatasetReadError:
    with pytest.raises(DatasetReadError) as error:
        read(*args, **kwargs)
    return error.value


def rejected_rows(path) -> list[tuple[int, str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(row["line"], row["reason"], row["text"]) for row in rows]


@pytest.mark.parametrize("case", LINE_CASES.values(), ids=LINE_CASES.keys())
def test_every_reader_names_a_bad_line_alike(tmp_path, capsys, case):
    path = tmp_path / "in.jsonl"
    path.write_bytes(case.data)
    out = tmp_path / "out.jsonl"
    where = f"{path}:{case.line}: {case.reason}. Each line must hold one JSON object"
    sanitizer = DatasetSanitizer(pipeline=[])

    errors = {
        "eval": raised(read_jsonl, path),
        "dataset": raised(Dataset.from_jsonl, path),
        "convert": raised(convert_file, path, out, "chat"),
        "sanitize": raised(sanitizer.sanitize_file, path, out),
    }
    for reader, error in errors.items():
        assert type(error) is case.error, reader
        assert (error.path, error.line, error.column) == (str(path), case.line, case.column)
        hint = "" if reader == "eval" else f" ({SKIP_HINT})"
        assert str(error) == f"{where}{hint}.", reader
    assert main(["eval", "run", "--predictions", str(path), "--metrics", "accuracy"]) == 2
    assert capsys.readouterr().err == f"Error: {where}.\n"

    for fast in (True, False):
        report = validate_file(path, fast=fast)
        assert [(p.line, p.code, p.reason) for p in report.problems] == [
            (case.line, "invalid", case.reason)
        ]
    kept = Dataset.from_jsonl(path, skip_invalid=True)
    assert kept.rejected == (LineProblem(case.line, case.reason, column=case.column),)
    assert convert_file(path, out, "chat", skip_invalid=True).rejected == 1
    assert rejected_rows(tmp_path / "out.jsonl.rejected.jsonl") == [
        (case.line, case.reason, case.text)
    ]
    sanitizer.sanitize_file(path, out, skip_invalid=True, raw_rejected=True)
    assert rejected_rows(tmp_path / "out.jsonl.rejected.jsonl") == [
        (case.line, case.reason, case.text)
    ]


def test_a_lone_carriage_return_does_not_end_a_line(tmp_path):
    path = tmp_path / "cr.jsonl"
    path.write_bytes(b'{"prompt": "q",\r"completion": "a"}\n')
    assert read_jsonl(path) == [{"prompt": "q", "completion": "a"}]
    assert Dataset.from_jsonl(path).records == ({"prompt": "q", "completion": "a"},)


#: whole files every reader refuses: (bytes or None for a directory, error, message after path)
FILE_CASES = {
    # eval: "not UTF-8 after line 0 (invalid start byte)"
    "utf-16": (
        '{"prompt": "q", "completion": "a"}\n'.encode("utf-16"),
        DatasetEncodingError,
        ": the file is UTF-16 (it starts with a byte-order mark); JSONL must be UTF-8. Convert "
        "it: iconv -f UTF-16 -t UTF-8 {path} > fixed.jsonl",
    ),
    # eval: no records, no error (the metrics then said "predictions is empty")
    "empty": (
        b"\xef\xbb\xbf\n \t\r\n",
        DatasetReadError,
        " is empty: a JSONL file needs one JSON object per line.",
    ),
    # eval: "Cannot open '…': Is a directory."
    "directory": (None, DatasetReadError, " is a directory; give a JSONL file."),
}


@pytest.mark.parametrize("case", FILE_CASES.values(), ids=FILE_CASES.keys())
def test_every_reader_refuses_a_file_alike(tmp_path, capsys, case):
    data, kind, message = case
    path = tmp_path / "in.jsonl"
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    out = tmp_path / "out.jsonl"
    expected = f"{path}{message.format(path=path)}"
    readers = {
        "eval": lambda: read_jsonl(path),
        "dataset": lambda: Dataset.from_jsonl(path),
        "validate": lambda: validate_file(path),
        "validate line by line": lambda: validate_file(path, fast=False),
        "convert": lambda: convert_file(path, out, "chat"),
        "sanitize": lambda: DatasetSanitizer(pipeline=[]).sanitize_file(path, out),
    }
    for reader, read in readers.items():
        error = raised(read)
        assert (type(error), str(error), error.path) == (kind, expected, str(path)), reader
    if data is not None:  # the command line refuses a directory itself
        assert main(["eval", "run", "--predictions", str(path), "--metrics", "accuracy"]) == 2
        assert capsys.readouterr().err == f"Error: {expected}\n"
    assert not out.exists()


def test_json_and_csv_name_a_byte_that_is_not_utf8_by_line_and_column(tmp_path):
    """The whole-file readers use the same naming (they said "at offset 41", the byte of the
    file, 0-based)."""
    path = tmp_path / "d.json"
    path.write_bytes(b'\xef\xbb\xbf[\n  {"prompt": "\xc3\xa9t\xe9", "completion": "b"}\n]\n')
    with pytest.raises(DatasetEncodingError) as error:
        Dataset.from_json(path)
    assert (error.value.line, error.value.column) == (2, 17)
    assert str(error.value).startswith(f"{path}:2: not UTF-8 (byte 0xe9 at column 17); ")
    table = tmp_path / "d.csv"
    table.write_bytes(b"prompt,completion\n\xc3\xa9t\xe9,b\n")
    with pytest.raises(DatasetEncodingError) as error:
        Dataset.from_csv(table)
    assert (error.value.line, error.value.column) == (2, 3)
