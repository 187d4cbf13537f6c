"""The msgspec fast path gives exactly what the line-by-line path gives: same records, same
problems in the same order, same fingerprint, on lines built to trip it."""

from __future__ import annotations

import json

import pytest

from modelops_core import Dataset
from modelops_core.datasets.errors import DatasetFormatError, DatasetReadError
from modelops_core.datasets.read import iter_jsonl_records
from modelops_core.datasets.stream import validate_file


def chat(user: str, answer: str, **extra: object) -> str:
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": messages, **extra}, ensure_ascii=False)


LONG = "word " * 20_000  # 20,000 estimated tokens: over gpt-3.5-turbo's 16,385

#: chat-only lines (one format, so the fingerprint is defined) that each trip something.
CHAT_LINES = [
    chat("hello", "hi"),
    '{"messages":[{"content":"hello","role":"user"},{"content":"hi","role":"assistant"}]}',
    "{oops",
    '{"messages": [{"role": 5, "content": "x"}, {"role": "assistant", "content": "y"}]}',
    '{"messages": [{"role": "user", "content": 123}, {"role": "assistant", "content": "y"}]}',
    '{"messages": [{"role": "user", "content": "a", "weight": 2}, '
    '{"role": "assistant", "content": "y"}]}',
    '{"messages": [{"role": "user", "content": "a", "weight": true}, '
    '{"role": "assistant", "content": "y"}]}',
    '{"messages": [{"role": "user", "content": "w", "weight": 1.0}, '
    '{"role": "assistant", "content": "y", "weight": 0}]}',
    '{"messages": [{"role": "user", "content": "n", "name": 7}, '
    '{"role": "assistant", "content": "y"}]}',
    chat("", "empty user"),
    chat("blank answer", "  \n\t"),
    chat("ideographic space", "\u3000"),
    '{"messages": [{"role": "user", "content": "call"}, '
    '{"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function"}]}, '
    '{"role": "tool", "content": "42", "tool_call_id": "c1"}, '
    '{"role": "assistant", "content": ""}]}',
    '{"messages": [{"role": "user", "content": "call"}, '
    '{"role": "assistant", "content": "", "tool_calls": [{"type": "function", "id": "c1"}]}, '
    '{"role": "tool", "content": "42", "tool_call_id": "c1"}, '
    '{"role": "assistant", "content": "done"}]}',
    '{"messages": [{"role": "user", "content": "call"}, '
    '{"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function"}]}, '
    '{"role": "tool", "content": "42", "tool_call_id": "c1"}, '
    '{"role": "assistant", "content": "done"}]}',
    '{"messages": [{"role": "user", "content": "only a question"}]}',
    '{"messages": []}',
    '{"messages": [{"role": "assistant", "content": "first"}, {"role": "user", "content": "q"}]}',
    chat("caf\u00e9 \U0001f600", "\u00e9t\u00e9"),
    '{"messages": [{"role": "user", "content": "caf\\u00e9 \\ud83d\\ude00"}, '
    '{"role": "assistant", "content": "\\u00e9t\\u00e9"}]}',
    '{"m\\u0065ssages": [{"role": "user", "content": "escaped key"}, '
    '{"role": "assistant", "content": "ok"}]}',
    '{"messages": [{"role": "user", "content": "first"}], "messages": '
    '[{"role": "user", "content": "last wins"}, {"role": "assistant", "content": "ok"}]}',
    chat("metadata", "kept out", id=17, source={"team": "support"}),
    '{"messages": [{"role": "user", "content": "x", "extra": 1}, '
    '{"role": "assistant", "content": "y"}], "system": null}',
    '{"system": "Be brief.", "messages": [{"role": "user", "content": "s"}, '
    '{"role": "assistant", "content": "t"}]}',
    '{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "S"}], "messages": '
    '[{"role": "user", "content": [{"text": "b"}]}, {"role": "assistant", "content": "c"}]}',
    '{"contents": [{"role": "user", "parts": [{"text": "v"}]}, '
    '{"role": "model", "parts": [{"text": "w"}]}]}',
    '{"messages": [{"role": "user", "content": "nan"}, {"role": "assistant", "content": "x"}], '
    '"score": NaN}',
    "[1, 2]",
    chat("long", LONG),
    chat("hello", "hi"),
]


def write(path, lines: list[str], *, newline: str = "\n", bom: bool = False) -> str:
    text = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


def variants(tmp_path) -> list[str]:
    """The same lines with LF, with CRLF and a BOM, and with blank lines between."""
    spaced = [item for line in CHAT_LINES for item in (line, "", "  ")]
    return [
        write(tmp_path / "lf.jsonl", CHAT_LINES),
        write(tmp_path / "crlf.jsonl", CHAT_LINES, newline="\r\n", bom=True),
        write(tmp_path / "blank.jsonl", spaced),
    ]


@pytest.fixture(params=[None, 64], ids=["one-chunk", "64-byte-chunks"])
def chunked(request, monkeypatch):
    """Run with the default block size, and with blocks that cut nearly every line (the block
    buffer grows for the longer lines)."""
    if request.param:
        import modelops_core.datasets.jsonl.reader as reader

        monkeypatch.setattr(reader, "BLOCK_BYTES", request.param)


@pytest.mark.usefixtures("provider_plugins")
def test_validate_file_fast_equals_slow_on_tricky_lines(tmp_path, chunked):
    for path in variants(tmp_path):
        for provider, model in ((None, None), ("openai", "gpt-3.5-turbo")):
            for fingerprint in (True, False):
                fast = validate_file(path, provider, model, fingerprint=fingerprint)
                slow = validate_file(path, provider, model, fingerprint=fingerprint, fast=False)
                assert fast == slow
    codes = {problem.code for problem in (*fast.problems, *fast.warnings)}
    assert codes >= {"invalid", "duplicate", "empty_content", "no_assistant", "no_messages"}
    assert "too_many_tokens" in codes


@pytest.mark.usefixtures("provider_plugins")
def test_the_tricky_file_reports_what_each_line_trips(tmp_path):
    report = validate_file(write(tmp_path / "c.jsonl", CHAT_LINES), "openai", "gpt-3.5-turbo")
    by_line = {(problem.line, problem.code) for problem in (*report.problems, *report.warnings)}
    assert {(2, "duplicate"), (3, "invalid"), (10, "empty_content")} <= by_line
    assert {(11, "empty_content"), (12, "empty_content"), (13, "empty_content")} <= by_line
    assert (16, "no_assistant") in by_line and (17, "no_messages") in by_line
    assert (20, "duplicate") in by_line  # escaped and raw unicode are the same text
    assert (15, "duplicate") in by_line  # tool-call keys in another order
    assert (29, "invalid") in by_line and (30, "too_many_tokens") in by_line
    assert (31, "duplicate") in by_line
    # a weight on a user turn, a message key no message takes: OpenAI's checks refuse both
    assert (8, "weight_not_on_assistant") in by_line
    assert (24, "message_unrecognized_key") in by_line
    assert not {line for line, _ in by_line} & {9, 18, 21, 22, 23, 25, 26, 27, 28}
    assert report.fingerprint is not None


def test_reading_fast_equals_slow_on_tricky_lines(tmp_path, chunked):
    for path in variants(tmp_path):
        fast = list(iter_jsonl_records(path))
        slow = list(iter_jsonl_records(path, fast=False))
        assert fast == slow
        assert [type(value) for value in fast] == [type(value) for value in slow]


def test_from_jsonl_gathers_what_the_line_by_line_reader_reads(tmp_path, chunked):
    """read_jsonl gathers whole runs of plain chat lines at once: the same records, lines,
    rejected lines and notes as assembling the line-by-line path's items."""
    from modelops_core.datasets.jsonl.reader import LineProblem
    from modelops_core.datasets.read import assemble, read_jsonl

    mixed = [*CHAT_LINES, json.dumps({"prompt": "q", "completion": "a"}), *CHAT_LINES[:5]]
    paths = [*variants(tmp_path), write(tmp_path / "mixed.jsonl", mixed)]
    for path in paths:
        notes: list = []
        items = list(iter_jsonl_records(path, fast=False, notes=notes))
        good = [item for item in items if not isinstance(item, LineProblem)]
        bad = [item for item in items if isinstance(item, LineProblem)]
        assert bad and notes  # both kinds were compared
        assert read_jsonl(path, skip_invalid=True) == assemble(good, str(path), bad, notes)
        with pytest.raises(DatasetReadError, match=f":{bad[0].line}:"):
            read_jsonl(path)


@pytest.mark.usefixtures("provider_plugins")
def test_dataset_fingerprint_and_validate_agree_with_the_streaming_report(tmp_path):
    path = write(tmp_path / "c.jsonl", CHAT_LINES)
    dataset = Dataset.from_jsonl(path, skip_invalid=True)
    streamed = validate_file(path, "openai", "gpt-3.5-turbo")
    in_memory = dataset.validate("openai", "gpt-3.5-turbo")
    assert in_memory.problems == streamed.problems
    assert in_memory.warnings == streamed.warnings
    assert dataset.fingerprint() == streamed.fingerprint


def test_mixed_formats_take_both_paths_with_the_same_report(tmp_path, chunked):
    lines = [
        chat("q", "a"),
        json.dumps({"prompt": "q", "completion": "a"}),
        chat("q", "a"),
        json.dumps({"prompt": "p", "completion": " "}),
        chat("r", "b"),
    ]
    path = write(tmp_path / "mixed.jsonl", lines)
    fast, slow = validate_file(path), validate_file(path, fast=False)
    assert fast == slow and fast.fingerprint is None
    assert [(p.line, p.code) for p in fast.problems] == [(4, "empty_content")]
    assert [(w.line, w.code) for w in fast.warnings] == [(3, "duplicate")]
    assert list(iter_jsonl_records(path)) == list(iter_jsonl_records(path, fast=False))


def test_a_bad_line_does_not_slow_its_neighbours_into_the_line_path(tmp_path):
    from modelops_core.datasets.jsonl.reader import Run, iter_runs
    from modelops_core.datasets.jsonl.structs import CHAT_DECODER

    lines = [""] * 9 + [chat("a", "b"), "{oops", chat("c", "d"), chat("e", "f")]
    parts = list(iter_runs(write(tmp_path / "c.jsonl", lines), CHAT_DECODER))
    assert [list(part.lines) if isinstance(part, Run) else part.number for part in parts] == [
        [10],
        11,
        [12, 13],
    ]


#: lines that decode as a whole block though no line is one record: two records on a line with a
#: blank line, and a record split over two lines with two records on a line.
MISLEADING_BLOCKS = [
    [chat("a", "b"), chat("c", "d") + " " + chat("e", "f"), "", chat("g", "h")],
    [
        '{"messages": [{"role": "user", "content": "a"},',
        '{"role": "assistant", "content": "b"}]}',
        chat("c", "d") + chat("e", "f"),
        chat("g", "h"),
    ],
]


@pytest.mark.parametrize("lines", MISLEADING_BLOCKS, ids=["two-and-blank", "split-and-two"])
def test_a_line_with_two_records_or_half_of_one_is_invalid_on_both_paths(tmp_path, lines):
    path = write(tmp_path / "m.jsonl", lines)
    fast = validate_file(path)
    assert fast == validate_file(path, fast=False)
    invalid = [problem.line for problem in fast.problems if problem.code == "invalid"]
    assert invalid == ([2] if len(invalid) == 1 else [1, 2, 3])
    assert list(iter_jsonl_records(path)) == list(iter_jsonl_records(path, fast=False))


def test_a_block_of_plain_chat_lines_decodes_as_one_run(tmp_path):
    from modelops_core.datasets.jsonl.reader import Run, iter_blocks, iter_runs
    from modelops_core.datasets.jsonl.structs import CHECK_DECODER

    for newline in ("\n", "\r\n"):
        path = write(tmp_path / "c.jsonl", [chat(f"q{i}", "a") for i in range(50)], newline=newline)
        assert len(list(iter_blocks(path))) == 1
        parts = list(iter_runs(path, CHECK_DECODER))
        assert len(parts) == 1 and isinstance(parts[0], Run)
        assert parts[0].lines == range(1, 51)


def test_duplicates_name_the_first_example_seen_and_are_warnings():
    record = {"messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "a"}]}
    other = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}]}
    dataset = Dataset([other, record, record], "chat", lines=[3, 9, 2])
    report = dataset.validate()
    assert [(p.line, p.code, p.reason) for p in report.problems] == [
        (2, "empty_content", "empty content"),
        (9, "empty_content", "empty content"),
    ]
    assert [(w.line, w.code, w.reason) for w in report.warnings] == [
        (2, "duplicate", "duplicate of line 9")
    ]


def test_duplicates_are_errors_for_a_provider_that_refuses_them():
    from modelops_core.finetune.provider_contract import ExportTarget
    from modelops_core.plugins.protocols import DatasetLimits, ExportShape

    chats = [chat(q, "a") for q in ("q", "r", "q")]
    cases = ((True, [(3, "duplicate")], []), (False, [], [(3, "duplicate")]))
    for refuses, problems, warnings in cases:
        target = ExportTarget(
            name="strict",
            provider="strict",
            plugin="test",
            limits=DatasetLimits(refuses_duplicates=refuses),
            shape=ExportShape("strict", base="chat"),
        )
        report = Dataset.from_records([json.loads(line) for line in chats]).validate(target)
        assert [(p.line, p.code) for p in report.problems] == problems
        assert [(w.line, w.code) for w in report.warnings] == warnings


def slow_read(records: list[object]) -> tuple[str, list[dict], list[tuple[int, object]]]:
    """What reading records one by one with :func:`normalize` gives (the line-by-line path)."""
    from modelops_core.datasets.formats import normalize
    from modelops_core.datasets.read import assemble

    items, notes = [], []
    for index, record in enumerate(records, start=1):
        found: list = []
        format, canonical = normalize(record, f"records[{index - 1}]", found)
        items.append((index, format, canonical))
        notes += [(index, note) for note in found]
    loaded = assemble(items, "records", notes=notes)
    return loaded.format, list(loaded.records), list(loaded.notes)


def readable(value: object) -> bool:
    try:
        return slow_read([value])[0] == "chat"
    except Exception:
        return False


def test_records_in_code_read_as_the_line_by_line_path_reads_them():
    """Dataset.from_records checks plain chat records in one msgspec pass: the same records
    (key order included), notes and errors as normalizing each, on records built to trip it."""
    values = [json.loads(line) for line in CHAT_LINES if not line.startswith("{oops")]
    for value in values:
        try:
            expected = slow_read([value])
        except Exception as exc:
            with pytest.raises(type(exc)) as raised:
                Dataset.from_records([value])
            assert str(raised.value) == str(exc)
            continue
        dataset = Dataset.from_records([value])
        got = (dataset.format, list(dataset.records), list(dataset.notes))
        assert got == expected
        assert json.dumps(got[1]) == json.dumps(expected[1])
    plain = [value for value in values if isinstance(value, dict) and readable(value)]
    mixed = [*plain[:3], {"prompt": "p", "completion": "c"}]
    for records in (plain, mixed):
        dataset = Dataset.from_records(records)
        assert (dataset.format, list(dataset.records), list(dataset.notes)) == slow_read(records)
        assert dataset.lines == tuple(range(1, len(records) + 1))
    tupled = [*plain[:2], {"messages": ({"role": "user", "content": "a tuple"},)}]
    with pytest.raises(DatasetFormatError, match=r"records\[2\]\.messages: expected a list"):
        Dataset.from_records(tupled)
    calls = ({"id": "c1", "type": "function"},)  # kept as given, a tuple, as normalize keeps it
    called = {"role": "assistant", "content": "", "tool_calls": calls}
    records = [*plain[:2], {"messages": [{"role": "user", "content": "q"}, called]}]
    assert Dataset.from_records(records).records[2]["messages"][1]["tool_calls"] is calls
    assert list(Dataset.from_records(records).records) == slow_read(records)[1]


def test_plain_chat_records_are_checked_in_one_pass_not_one_by_one(monkeypatch):
    """Re-reading what a sanitizer gives back (DatasetSanitizer.sanitize keeps a Dataset a
    Dataset) checks plain chat records in one msgspec pass: normalize() is not called once."""
    import modelops_core.datasets.read as read

    records = [
        json.loads(chat(f"question {i} about shipping", f"answer {i}")) for i in range(2_000)
    ]
    expected = tuple(slow_read(records)[1])
    calls = []
    one_by_one = read.normalize
    monkeypatch.setattr(read, "normalize", lambda *args: calls.append(args[1]) or one_by_one(*args))
    assert Dataset.from_records(records).records == expected
    assert calls == []
