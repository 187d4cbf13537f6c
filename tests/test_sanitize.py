"""DatasetSanitizer: the configured pipeline (default pii) over datasets, records and files."""

from __future__ import annotations

import json

import pytest

from modelops_core import Dataset, DatasetSanitizer, Runtime
from modelops_core.cli.main import main
from modelops_core.config import parse_config
from modelops_core.datasets.sanitize import SanitizerUnavailableError

pytest.importorskip("modelops_sanitizers")


def runtime(toml: str = "") -> Runtime:
    import tomllib

    return Runtime(parse_config(tomllib.loads(toml), source="test.toml"))


def test_default_pipeline_redacts_pii_in_every_text_field():
    ds = Dataset.from_records([{"messages": [
        {"role": "user", "content": "I am jane@example.org"},
        {"role": "assistant", "content": "Noted, card 4111 1111 1111 1111."},
    ]}])  # fmt: skip
    sanitizer = DatasetSanitizer(runtime())
    clean = sanitizer.sanitize(ds)
    contents = [m["content"] for m in clean.records[0]["messages"]]
    assert contents == ["I am [EMAIL]", "Noted, card [CARD]."]
    report = sanitizer.report
    assert report["pipeline"] == ["pii"] and report["records_out"] == 1
    assert report["sanitizers"][0]["by_type"] == {"card": 1, "email": 1}
    assert report["sanitizers"][0]["by_line"] == {"1": {"card": 1, "email": 1}}
    assert "jane@example.org" not in json.dumps(report)


def test_configured_pipeline_runs_in_order():
    rt = runtime(
        '[sanitizers]\npipeline = [{ name = "dedupe" }, '
        '{ name = "filter_by_length", key = "completion", max_len = 5 }]\n'
    )
    records = [{"prompt": "a", "completion": "ok"}, {"prompt": "a", "completion": "ok"},
               {"prompt": "b", "completion": "far too long"}]  # fmt: skip
    sanitizer = DatasetSanitizer(rt)
    assert sanitizer.sanitize(records) == [{"prompt": "a", "completion": "ok"}]
    assert sanitizer.report["pipeline"] == ["dedupe", "filter_by_length"]


def test_strip_keys_and_filter_by_length_keep_the_reference_api():
    sanitizer = DatasetSanitizer(runtime())
    assert sanitizer.strip_keys([{"prompt": "p", "user_id": 7}], ["user_id"]) == [{"prompt": "p"}]
    data = [{"text": "short"}, {"text": "much too long"}]
    assert sanitizer.filter_by_length(data, "text", 5) == [{"text": "short"}]


def test_filter_by_length_in_tokens():
    sanitizer = DatasetSanitizer(runtime())
    data = [{"text": "one two three"}, {"text": "one two three four five six"}]
    assert sanitizer.filter_by_length(data, "text", 4, unit="tokens") == [data[0]]


def test_sanitize_file_streams_keeps_shapes_and_writes_a_report(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"contents": [{"role": "user", "parts": [{"text": "call 415-555-2671"}]}]}\n'
        "not json\n"
        '{"prompt": "ip 10.0.0.1", "completion": "ok"}\n'
    )
    report_path = tmp_path / "r.json"
    sanitizer = DatasetSanitizer(runtime())
    report = sanitizer.sanitize_file(
        source, tmp_path / "out.jsonl", report=report_path, skip_invalid=True
    )
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert lines[0]["contents"][0]["parts"][0]["text"] == "call [PHONE]"
    assert lines[1]["prompt"] == "ip [IP]"
    assert report["lines_rejected"] == 1 and json.loads(report_path.read_text()) == report
    assert (tmp_path / "out.jsonl.rejected.jsonl").exists()


def test_missing_plugin_says_how_to_install_it():
    rt = Runtime(parse_config({}, source="test.toml"), autoload=False)
    with pytest.raises(SanitizerUnavailableError, match="pip install modelops-sanitizers"):
        DatasetSanitizer(rt).sanitize([{"prompt": "a", "completion": "b"}])


def test_cli_sanitize_in_place(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "mail a.b@example.com", "completion": "ok"}\n')
    assert main(["dataset", "sanitize", str(path), str(path), "--report", "r.json"]) == 0
    assert json.loads(path.read_text())["prompt"] == "mail [EMAIL]"
    assert json.loads((tmp_path / "r.json").read_text())["sanitizers"][0]["findings"] == 1
