"""The user's path of sanitizing: ``DatasetSanitizer().sanitize(Dataset.from_jsonl(p))`` and
``modelops dataset sanitize``. Its shortcuts (no second read of the pii output, the garbage
collector paused, records just parsed redacted in place) give what the long way gave."""

from __future__ import annotations

import gc
import json
import random

import pytest

from modelops_core import Dataset, DatasetSanitizer, Runtime
from modelops_core.config import parse_config

pytest.importorskip("modelops_sanitizers")

VALUES = [
    "mail jane@example.org now", "card 4111 1111 1111 1111 or 4111 1111 1111 1112",
    "host 10.0.0.1, ssn 123-45-6789, call (415) 555-2671", "iban GB82 WEST 1234 5698 7654 32",
    "nothing here", "unicode café ☕ jane@example.org", "key AKIAIOSFODNN7EXAMPLE",
]  # fmt: skip


def runtime(toml: str = "") -> Runtime:
    import tomllib

    return Runtime(parse_config(tomllib.loads(toml), source="test.toml"))


def chat_file(tmp_path, count: int = 700):
    rng = random.Random(5)
    path = tmp_path / "chat.jsonl"
    lines = []
    for _ in range(count):
        messages = [{"role": "system", "content": "You are helpful."}]
        messages += [
            {"role": role, "content": rng.choice(VALUES)} for role in ("user", "assistant")
        ]
        if rng.random() < 0.2:
            messages[-1]["weight"] = 1
        lines.append(json.dumps({"messages": messages}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("strategy", ["mask", "partial", "drop"])
def test_a_sanitized_dataset_equals_its_records_read_again(tmp_path, strategy):
    source = Dataset.from_jsonl(chat_file(tmp_path))
    before = [json.dumps(record) for record in source.records]
    toml = f'[sanitizers]\npipeline = [{{ name = "pii", strategy = "{strategy}" }}]\n'
    clean = DatasetSanitizer(runtime(toml)).sanitize(source)
    again = Dataset.from_records(clean.records)  # what the sanitizer returned before
    assert clean.records == again.records and len(clean) > (0 if strategy == "drop" else 100)
    assert (clean.format, clean.lines, clean.source) == ("chat", again.lines, source.source)
    assert clean.rejected == again.rejected == () and clean.notes == again.notes == ()
    assert [json.dumps(record) for record in source.records] == before  # input untouched
    shared = {id(message) for record in source.records for message in record["messages"]}
    assert not any(id(m) in shared for record in clean.records for m in record["messages"])
    assert gc.isenabled()


def test_a_pipeline_that_may_change_shapes_is_read_again(tmp_path):
    source = Dataset.from_jsonl(chat_file(tmp_path, 50))
    toml = '[sanitizers]\npipeline = ["pii", { name = "strip_keys", keys = ["weight"] }]\n'
    clean = DatasetSanitizer(runtime(toml)).sanitize(source)
    assert clean.records == Dataset.from_records(clean.records).records
    assert not any("weight" in m for record in clean.records for m in record["messages"])


def test_the_file_path_gives_what_the_dataset_path_gives(tmp_path):
    path = chat_file(tmp_path)
    sanitizer = DatasetSanitizer(runtime())
    report = sanitizer.sanitize_file(path, tmp_path / "out.jsonl")
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    clean = DatasetSanitizer(runtime()).sanitize(Dataset.from_jsonl(path))
    assert written == list(clean.records)
    assert report["sanitizers"][0]["findings"] > 500
    assert gc.isenabled()


def test_the_file_path_reads_every_kind_of_line_as_the_line_reader_does(tmp_path):
    """Blocks of clean lines are decoded in one call; blank, CRLF, invalid, NaN and non-object
    lines around them come out (or are set aside) as the line-by-line reader has them."""
    import msgspec
    from modelops_sanitizers.pii import PiiSanitizer

    from modelops_core.datasets.jsonl.reader import LineProblem, iter_lines

    rng = random.Random(9)
    chat = json.loads(chat_file(tmp_path, 1).read_text())
    odd = [b"", b"   ", b'{"prompt": "ip 10.0.0.1", "completion": "x"}\r', b'{"a": NaN}',
           b"[1, 2]", b'{"broken": ', b'{"n": 123456789012345678901234567890, "t": "a@b.io"}',
           b'  {"spaced": "jane@example.org"}  ']  # fmt: skip
    lines = []
    for index in range(7000):  # about 800 KB: several blocks
        if 2500 < index < 2700 and rng.random() < 0.15:  # clean blocks before and after
            lines.append(rng.choice(odd))
        else:
            chat["messages"][1]["content"] = rng.choice(VALUES)
            lines.append(json.dumps(chat).encode())
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    every = '[sanitizers]\npipeline = [{ name = "pii", samples = 100000 }]\n'  # all sampled
    report = DatasetSanitizer(runtime(every)).sanitize_file(
        path, tmp_path / "out.jsonl", skip_invalid=True
    )
    parsed = list(iter_lines(path))
    good = [value for _, _, value in parsed if not isinstance(value, LineProblem)]
    reference = PiiSanitizer(samples=100000)
    encoder = msgspec.json.Encoder()
    expected = b"".join(encoder.encode(record) + b"\n" for record in reference.apply(good))
    assert (tmp_path / "out.jsonl").read_bytes() == expected
    bad = [value.line for _, _, value in parsed if isinstance(value, LineProblem)]
    rejected = (tmp_path / "out.jsonl.rejected.jsonl").read_text().splitlines()
    assert [json.loads(line)["line"] for line in rejected] == bad and len(bad) >= 3
    stage, expected_stage = report["sanitizers"][0], json.loads(json.dumps(reference.report()))
    for key in ("findings", "by_type", "by_field", "by_record", "records_in"):
        assert stage[key] == expected_stage[key]
    numbers = [number for number, _, value in parsed if not isinstance(value, LineProblem)]
    assert stage["by_line"] == {
        str(numbers[int(index)]): counts for index, counts in stage["by_record"].items()
    }
