"""Streaming validate / convert of files, and the `modelops dataset` commands."""

from __future__ import annotations

import json

import pytest

from modelops_core import Dataset
from modelops_core.cli.main import main
from modelops_core.datasets.errors import DatasetReadError
from modelops_core.datasets.stream import convert_file, fingerprint_file, validate_file


def chat(user: str, answer: str) -> dict:
    return {
        "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    }


def write(path, rows) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


PROBLEM_ROWS = [
    chat("a", "b"),
    chat("a", "b"),
    {"messages": [{"role": "user", "content": "no answer"}]},
    {"messages": [{"role": "user", "content": "\n"}, {"role": "assistant", "content": "x"}]},
    *[chat(f"q{i}", f"a{i}") for i in range(8)],
]


@pytest.mark.usefixtures("provider_plugins")
def test_validate_file_equals_dataset_validate_on_the_fast_path(tmp_path):
    path = write(tmp_path / "c.jsonl", PROBLEM_ROWS)
    streamed = validate_file(path, "openai")
    in_memory = Dataset.from_jsonl(path).validate("openai")
    assert streamed.problems == in_memory.problems
    assert streamed.warnings == in_memory.warnings
    assert {p.code for p in streamed.problems} == {"no_assistant", "empty_content"}
    assert {w.code for w in streamed.warnings} == {"duplicate"}
    assert streamed.fingerprint == Dataset.from_jsonl(path).fingerprint()


def test_validate_file_equals_dataset_validate_on_the_line_path(tmp_path):
    rows = [{"prompt": r["messages"][0]["content"], "completion": "x"} for r in PROBLEM_ROWS]
    path = write(tmp_path / "p.jsonl", rows)
    assert validate_file(path).problems == Dataset.from_jsonl(path).validate().problems
    assert fingerprint_file(path) == Dataset.from_jsonl(path).fingerprint()


def test_validate_file_reports_bad_lines_and_continues(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(chat("a", "b")) + "\n{oops\n\n" + json.dumps(chat("c", "d")) + "\n")
    report = validate_file(path)
    assert report.examples == 2
    assert [(p.line, p.code) for p in report.problems] == [(2, "invalid")]
    assert "column 2" in report.problems[0].reason


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_validate_file_gives_the_column_within_the_line(tmp_path, newline):
    path = tmp_path / "t.jsonl"
    lines = ['{"messages": x}', json.dumps(chat("q", "a")), '{"messages": ']
    path.write_bytes(b"\xef\xbb\xbf" + newline.join(lines).encode() + newline.encode())
    found = [(p.line, p.reason) for p in validate_file(path).problems]
    assert found == [
        (1, "invalid JSON at column 14: Expecting value"),
        (3, "invalid JSON at column 14: Expecting value"),
    ]


@pytest.mark.parametrize("size", [100, 40])
def test_validate_file_counts_lines_across_chunks(tmp_path, monkeypatch, size):
    import modelops_core.datasets.jsonl.reader as reader

    monkeypatch.setattr(reader, "BLOCK_BYTES", size)  # 40: every line is longer than a block
    rows = [chat(f"q{i}", f"a{i}") for i in range(30)] + [{"messages": []}, chat("q0", "a0")]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows).rstrip("\n"))
    report = validate_file(path)
    assert report.examples == 32
    assert [(p.line, p.code) for p in report.problems] == [(31, "no_messages")]
    assert [(w.line, w.code) for w in report.warnings] == [(32, "duplicate")]
    assert report == validate_file(path, fast=False)


def test_validate_file_refuses_empty_and_utf16_files(tmp_path):
    from modelops_core.datasets.errors import DatasetEncodingError

    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\xef\xbb\xbf\n  \n\r\n")
    with pytest.raises(DatasetReadError, match="is empty"):
        validate_file(blank)
    wide = tmp_path / "wide.jsonl"
    wide.write_text(json.dumps(chat("q", "a")) + "\n", encoding="utf-16")
    with pytest.raises(DatasetEncodingError, match="UTF-16"):
        validate_file(wide)


@pytest.mark.usefixtures("provider_plugins")
def test_convert_file_streams_to_a_provider_format(tmp_path):
    source = write(tmp_path / "c.jsonl", [chat(f"q{i}", f"a{i}") for i in range(5)])
    result = convert_file(source, tmp_path / "v.jsonl", "vertex")
    assert result.examples == 5 and result.rejected_path is None
    assert Dataset.from_jsonl(result.output).pairs() == Dataset.from_jsonl(source).pairs()


@pytest.mark.usefixtures("provider_plugins")
def test_convert_file_in_place_is_atomic(tmp_path):
    source = write(tmp_path / "c.jsonl", [chat("q", "a")])
    convert_file(source, source, "bedrock")
    assert json.loads((tmp_path / "c.jsonl").read_text()) == {"prompt": "q", "completion": "a"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]


@pytest.mark.usefixtures("provider_plugins")
def test_convert_file_stops_at_a_bad_line_and_writes_nothing(tmp_path):
    source = tmp_path / "c.jsonl"
    source.write_text(json.dumps(chat("q", "a")) + "\nnot json\n")
    with pytest.raises(DatasetReadError, match=r"c.jsonl:2: invalid JSON"):
        convert_file(source, tmp_path / "out.jsonl", "openai")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.usefixtures("provider_plugins")
def test_convert_file_skip_invalid_writes_the_rejected_side_file(tmp_path):
    source = tmp_path / "c.jsonl"
    source.write_text(
        json.dumps(chat("q", "a"))
        + "\nnot json\n"
        + json.dumps({"messages": [{"role": "user", "content": "x"}]})
        + "\n"
    )
    result = convert_file(source, tmp_path / "out.jsonl", "bedrock", skip_invalid=True)
    assert (result.examples, result.rejected) == (1, 2)
    rejected = [json.loads(line) for line in result.rejected_path.read_text().splitlines()]
    assert [r["line"] for r in rejected] == [2, 3]
    assert "no assistant turn" in rejected[1]["reason"] and rejected[0]["text"] == "not json"
    assert result.rejected_path.name == "out.jsonl.rejected.jsonl"


@pytest.mark.usefixtures("provider_plugins")
def test_cli_validate_prints_problems_and_exits_2(tmp_path, capsys):
    path = write(tmp_path / "c.jsonl", PROBLEM_ROWS)
    assert main(["dataset", "validate", path, "--provider", "openai"]) == 2
    out = capsys.readouterr().out
    assert "duplicate of line 1" in out and "no assistant turn" in out and "12 examples" in out


@pytest.mark.usefixtures("provider_plugins")
def test_cli_validate_ok_exits_0_and_prints_the_fingerprint(tmp_path, capsys):
    path = write(tmp_path / "c.jsonl", [chat(f"q{i}", f"a{i}") for i in range(10)])
    assert main(["dataset", "validate", path, "--provider", "openai"]) == 0
    assert "valid for openai" in capsys.readouterr().out


def test_cli_validate_warns_of_duplicates_and_exits_0(tmp_path, capsys):
    rows = [chat(f"q{i}", f"a{i}") for i in range(10)] + [chat("q3", "a3")]
    path = write(tmp_path / "c.jsonl", rows)
    assert main(["dataset", "validate", path]) == 0  # a repeated example does not fail the file
    out = capsys.readouterr().out
    assert "11 examples, valid, 1 warning(s)" in out and "duplicate of line 4" in out


@pytest.mark.usefixtures("provider_plugins")
def test_cli_validate_unknown_provider(tmp_path, capsys):
    path = write(tmp_path / "c.jsonl", [chat("q", "a")])
    assert main(["dataset", "validate", path, "--provider", "azure"]) == 2
    assert "Known: bedrock, bedrock-conversation, local, openai" in capsys.readouterr().err


@pytest.mark.usefixtures("provider_plugins")
def test_cli_convert_and_stats(tmp_path, capsys):
    source = write(tmp_path / "c.jsonl", [chat(f"q{i}", f"a{i}") for i in range(3)])
    out = tmp_path / "b.jsonl"
    assert main(["dataset", "convert", source, str(out), "--to", "bedrock-conversation"]) == 0
    assert main(["dataset", "stats", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrote 3 examples" in printed and "role assistant" in printed


@pytest.mark.usefixtures("provider_plugins")
def test_cli_convert_skip_invalid_exits_2_with_the_side_file(tmp_path, capsys):
    source = tmp_path / "c.jsonl"
    source.write_text(json.dumps(chat("q", "a")) + "\n{bad\n")
    out = tmp_path / "o.jsonl"
    assert (
        main(["dataset", "convert", str(source), str(out), "--to", "openai", "--skip-invalid"]) == 2
    )
    assert (tmp_path / "o.jsonl.rejected.jsonl").exists()
