"""Sanitizing a large input in several processes gives the serial run's output and report.

Each test runs the same input once with ``workers=1`` and once split (``workers=2`` or ``3``,
small inputs so the tests are quick) and compares bytes, records and reports exactly; a spy on
``parallel.fork`` proves the split happened (a silent fall-back to one process would pass the
comparison for nothing).
"""

from __future__ import annotations

import json
import logging
import os
import signal
from pathlib import Path

import pytest

import modelops_core.datasets.sanitize as sanitize_module
from modelops_core import Dataset, DatasetSanitizer, Runtime
from modelops_core.config import ComponentChoice, parse_config
from modelops_core.datasets import parallel
from modelops_core.datasets.errors import DatasetEncodingError, DatasetReadError

pytest.importorskip("modelops_sanitizers")
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="splitting needs os.fork")

PII = [
    "mail jane.doe{i}@example.org today",
    "call (415) 555-{i:04d} now",
    "card 4111 1111 1111 1111 ok",
    "iban GB82 WEST 1234 5698 7654 32 ok",
    "from 10.0.{a}.{b} at noon",
    "ssn 123-45-6789 ok",
    "key AKIAIOSFODNN7EXAMPLE ok",
    "nothing to see in line {i}",
]


def runtime(toml: str = "") -> Runtime:
    import tomllib

    return Runtime(parse_config(tomllib.loads(toml), source="test.toml"))


def record(i: int) -> dict[str, object]:
    """Chat, flat and nested records in turn (each takes its own path through ``pii``)."""
    text = PII[i % len(PII)].format(i=i, a=i // 256 % 256, b=i % 256)
    if i % 3 == 0:
        return {
            "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]
        }
    if i % 3 == 1:
        return {"prompt": text, "completion": f"done {i}", "user_id": f"u{i}"}
    return {"meta": {"user_id": i, "note": text}, "tags": [text, i, None, 1.5]}


def chat(i: int) -> dict[str, object]:
    """A chat record (a shape a Dataset knows) with PII in its user turn."""
    text = PII[i % len(PII)].format(i=i, a=i // 256 % 256, b=i % 256)
    user = {"role": "user", "content": text, "name": f"user{i}"}
    return {"messages": [user, {"role": "assistant", "content": f"ok {i}"}]}


def write_records(path: Path, count: int, *, line_end: str = "\n", blank_every: int = 0) -> Path:
    lines = []
    for i in range(count):
        lines.append(json.dumps(record(i)) + line_end)
        if blank_every and i % blank_every == 0:
            lines.append("  " + line_end)
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The slots forked by the runs of the test (a spy on ``parallel.fork``)."""
    slots: list[int] = []
    real = parallel.fork

    def spy(slot: int, work):  # type: ignore[no-untyped-def]
        slots.append(slot)
        return real(slot, work)

    monkeypatch.setattr(parallel, "fork", spy)
    return slots


def choices(*items: str | tuple[str, dict[str, object]]) -> list[ComponentChoice]:
    return [
        ComponentChoice(item) if isinstance(item, str) else ComponentChoice(item[0], item[1])
        for item in items
    ]


def sanitize_file_both(
    tmp_path: Path, source: Path, pipeline: list[ComponentChoice], workers: int = 2, **options
) -> tuple[dict[str, object], ...]:
    """The file sanitized serially and split: (serial, split), each its output bytes, its
    rejected lines' bytes (or None) and its report as JSON text."""
    runs = []
    for count in (1, workers):
        output = tmp_path / f"out-{count}.jsonl"
        sanitizer = DatasetSanitizer(runtime(), pipeline=pipeline, workers=count)
        report = sanitizer.sanitize_file(source, output, **options)
        rejected = output.with_name(output.name + ".rejected.jsonl")
        runs.append(
            {
                "output": output.read_bytes(),
                "rejected": rejected.read_bytes() if rejected.exists() else None,
                "report": json.dumps(report),
            }
        )
    return tuple(runs)


def assert_same_file_run(tmp_path, source, pipeline, forks, workers=2, **options):
    serial, split = sanitize_file_both(tmp_path, source, pipeline, workers, **options)
    assert len(forks) == workers - 1
    assert split["output"] == serial["output"]
    assert split["rejected"] == serial["rejected"]
    assert split["report"] == serial["report"]
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert leftovers == []
    return json.loads(serial["report"])


# --- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["mask", "partial", "drop"])
def test_a_split_file_gives_the_serial_output_and_report(tmp_path, forks, strategy):
    source = write_records(tmp_path / "in.jsonl", 600)
    report = assert_same_file_run(
        tmp_path, source, choices(("pii", {"strategy": strategy, "samples": 3})), forks, workers=3
    )
    [pii] = report["sanitizers"]
    assert set(pii["by_type"]) == {"email", "phone", "card", "iban", "ip", "ssn", "secret"}
    assert len(pii["by_record"]) < pii["records_with_findings"]  # more records than samples
    assert pii["by_line"]


def test_hash_with_a_salt_gives_the_same_tokens_split(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 400)
    pipeline = choices(("pii", {"strategy": "hash", "salt": "pepper"}))
    assert_same_file_run(tmp_path, source, pipeline, forks)


def test_hash_without_a_salt_uses_one_random_salt_in_every_slice(tmp_path, forks):
    source = tmp_path / "in.jsonl"
    source.write_text('{"t": "mail jane@example.org"}\n' * 300, encoding="utf-8")
    output = tmp_path / "out.jsonl"
    DatasetSanitizer(
        runtime(), pipeline=choices(("pii", {"strategy": "hash"})), workers=2
    ).sanitize_file(source, output)
    assert forks == [1]
    tokens = {json.loads(line)["t"] for line in output.read_text().splitlines()}
    assert len(tokens) == 1 and tokens.pop().startswith("mail [EMAIL:")


def test_fields_blank_lines_and_crlf_split_like_serial(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 500, line_end="\r\n", blank_every=7)
    pipeline = choices(("pii", {"fields": ["content", "note"]}))
    report = assert_same_file_run(tmp_path, source, pipeline, forks, workers=3)
    [pii] = report["sanitizers"]
    # by_line counts the blank lines: record 0 is on line 1, record 1 on line 3 (after a blank)
    assert list(pii["by_line"])[:2] == [
        str(int(i) + 1 + (int(i) + 6) // 7) for i in list(pii["by_record"])[:2]
    ]


def test_strip_keys_then_pii_and_filter_by_length_split_like_serial(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 600)
    pipeline = choices(
        ("filter_by_length", {"key": "prompt", "max_len": 24}),
        ("strip_keys", {"keys": ["user_id"]}),
        ("pii", {"samples": 2}),
    )
    report = assert_same_file_run(tmp_path, source, pipeline, forks, workers=3)
    length, strip, pii = report["sanitizers"]
    assert length["records_dropped"] > 10 and len(length["dropped_records"]) == 10
    assert strip["top_level_keys_removed"] == {
        "user_id": strip["top_level_keys_removed"]["user_id"]
    }
    assert pii["records_in"] == length["records_out"]


def test_invalid_lines_set_aside_split_like_serial(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 400)
    lines = source.read_bytes().splitlines(keepends=True)
    lines[50] = b'{"prompt": "mail bad@example.org",\n'
    lines[350] = b"[1, 2]\n"
    lines.insert(300, b"\xff\xfe broken card 4111 1111 1111 1111\n")
    source.write_bytes(b"".join(lines))
    report = assert_same_file_run(tmp_path, source, choices("pii"), forks, skip_invalid=True)
    assert report["lines_rejected"] == 3


def test_the_first_invalid_line_raises_as_serial_even_in_a_later_slice(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 400)
    lines = source.read_text().splitlines(keepends=True)
    lines[300] = '{"prompt": 1,,}\n'
    lines[350] = "[]\n"
    source.write_text("".join(lines), encoding="utf-8")
    errors = []
    for workers in (1, 2):
        with pytest.raises(DatasetReadError) as caught:
            DatasetSanitizer(runtime(), workers=workers).sanitize_file(source, tmp_path / "o.jsonl")
        errors.append(
            (type(caught.value), str(caught.value), caught.value.line, caught.value.column)
        )
    assert forks == [1]
    assert errors[1] == errors[0] and errors[0][2] == 301
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_an_earlier_invalid_line_wins_over_a_later_slices(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 400)
    lines = source.read_bytes().splitlines(keepends=True)
    lines[20] = b"\xff\n"
    lines[350] = b"[]\n"
    source.write_bytes(b"".join(lines))
    with pytest.raises(DatasetEncodingError) as caught:
        DatasetSanitizer(runtime(), workers=2).sanitize_file(source, tmp_path / "o.jsonl")
    assert forks == [1] and caught.value.line == 21
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_dedupe_keeps_the_run_in_one_process(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 300)
    serial, split = sanitize_file_both(tmp_path, source, choices("dedupe", "pii"))
    assert forks == []
    assert split == serial


def test_by_field_at_its_cap_is_exact(tmp_path, forks, monkeypatch):
    import modelops_sanitizers.pii as pii_module

    monkeypatch.setattr(pii_module, "MAX_FIELD_PATHS", 5)
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(f'{{"k{i % 12}": "mail u{i}@example.org"}}\n' for i in range(300)), encoding="utf-8"
    )
    report = assert_same_file_run(tmp_path, source, choices("pii"), forks)
    [pii] = report["sanitizers"]
    assert len(pii["by_field"]) == 6 and "(other fields)" in pii["by_field"]


def test_by_field_below_its_cap_is_absorbed(tmp_path, forks, monkeypatch):
    import modelops_sanitizers.pii as pii_module

    runs_in_parent = []
    real = pii_module.PiiSanitizer._apply
    parent = os.getpid()

    def spy(self, records, *, copy):  # type: ignore[no-untyped-def]
        if os.getpid() == parent:
            runs_in_parent.append(1)
        return real(self, records, copy=copy)

    monkeypatch.setattr(pii_module.PiiSanitizer, "_apply", spy)
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(f'{{"k{i % 12}": "mail u{i}@example.org"}}\n' for i in range(300)), encoding="utf-8"
    )
    DatasetSanitizer(runtime(), workers=2).sanitize_file(source, tmp_path / "out.jsonl")
    assert forks == [1] and runs_in_parent == [1]  # the child's slice was not run again


def test_lines_after_too_many_gaps_split_like_serial(tmp_path, forks, monkeypatch):
    import modelops_core.datasets.sanitize as sanitize

    monkeypatch.setattr(sanitize, "MAX_LINE_GAPS", 3)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(f'{{"t": "10.0.0.{i}"}}\n\n' for i in range(60)), encoding="utf-8")
    report = assert_same_file_run(tmp_path, source, choices(("pii", {"samples": 100})), forks)
    assert len(report["sanitizers"][0]["by_line"]) == 4


def test_samples_and_lines_found_only_in_later_slices_split_like_serial(tmp_path, forks):
    source = tmp_path / "in.jsonl"
    plain = "".join(f'{{"t": "nothing in line {i}"}}\n' for i in range(300))
    found = "".join(f'{{"t": "mail u{i}@example.org"}}\n\r\n' for i in range(100))
    source.write_text(plain + found, encoding="utf-8")
    report = assert_same_file_run(tmp_path, source, choices(("pii", {"samples": 4})), forks)
    [pii] = report["sanitizers"]
    assert pii["by_record"] == {str(300 + i): {"email": 1} for i in range(4)}
    assert list(pii["by_line"]) == ["301", "303", "305", "307"]


def test_lines_after_too_many_gaps_in_a_later_slice_split_like_serial(tmp_path, forks, monkeypatch):
    import modelops_core.datasets.sanitize as sanitize

    monkeypatch.setattr(sanitize, "MAX_LINE_GAPS", 3)
    source = tmp_path / "in.jsonl"
    plain = "".join(f'{{"t": "nothing in line {i}"}}\n' for i in range(150))
    found = "".join(f'{{"t": "10.0.0.{i}"}}\n\n' for i in range(100))
    source.write_text(plain + found, encoding="utf-8")
    report = assert_same_file_run(tmp_path, source, choices(("pii", {"samples": 100})), forks)
    # records 150..153: the first on line 151 (no new offset), then three new offsets
    assert list(report["sanitizers"][0]["by_line"]) == ["151", "153", "155", "157"]


def test_dropped_record_indexes_continue_across_slices(tmp_path, forks):
    source = tmp_path / "in.jsonl"
    rows = ['{"prompt": "%s"}\n' % ("x" * (50 if i % 40 == 0 else 5)) for i in range(400)]
    source.write_text("".join(rows), encoding="utf-8")
    pipeline = choices(("filter_by_length", {"key": "prompt", "max_len": 10}))
    report = assert_same_file_run(tmp_path, source, pipeline, forks, workers=3)
    assert report["sanitizers"][0]["dropped_records"] == list(range(0, 400, 40))


def test_progress_reaches_the_file_size(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 500)
    seen: list[int] = []
    DatasetSanitizer(runtime(), workers=3).sanitize_file(
        source, tmp_path / "out.jsonl", progress=seen.append
    )
    assert forks == [1, 2]
    assert sum(seen) == source.stat().st_size


def test_a_killed_worker_slice_is_run_by_the_parent(tmp_path, forks, monkeypatch, caplog):
    import modelops_sanitizers.pii as pii_module

    parent = os.getpid()
    real = pii_module.PiiSanitizer._apply_batch

    def killed_in_child(self, batch, copy):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, batch, copy)

    source = write_records(tmp_path / "in.jsonl", 400)
    serial_out = tmp_path / "serial.jsonl"
    serial = DatasetSanitizer(runtime(), workers=1).sanitize_file(source, serial_out)
    monkeypatch.setattr(pii_module.PiiSanitizer, "_apply_batch", killed_in_child)
    with caplog.at_level(logging.WARNING, logger="modelops_core.datasets.parallel"):
        split = DatasetSanitizer(runtime(), workers=2).sanitize_file(source, tmp_path / "out.jsonl")
    assert forks == [1]
    assert "killed by signal 9" in caplog.text
    assert (tmp_path / "out.jsonl").read_bytes() == serial_out.read_bytes()
    assert json.dumps(split) == json.dumps(serial)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "serial.jsonl"]


def test_a_worker_that_cannot_start_leaves_its_slice_to_the_parent(
    tmp_path, forks, monkeypatch, caplog
):
    import errno

    def no_process() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    source = write_records(tmp_path / "in.jsonl", 400)
    serial = DatasetSanitizer(runtime(), workers=1).sanitize_file(source, tmp_path / "one.jsonl")
    monkeypatch.setattr(os, "fork", no_process)
    with caplog.at_level(logging.WARNING, logger="modelops_core.datasets.parallel"):
        split = DatasetSanitizer(runtime(), workers=3).sanitize_file(source, tmp_path / "out.jsonl")
    assert forks == [1, 2] and "could not start" in caplog.text
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()
    assert json.dumps(split) == json.dumps(serial)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "one.jsonl", "out.jsonl"]


def test_small_files_stay_in_one_process_by_default(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 300)
    DatasetSanitizer(runtime()).sanitize_file(source, tmp_path / "out.jsonl")
    assert forks == []


def test_large_files_are_split_by_default_when_there_are_cpus(tmp_path, forks, monkeypatch):
    monkeypatch.setattr(sanitize_module, "SPLIT_MIN_BYTES", 1000)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "idle_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "threads_running", lambda: 1)  # other tests' threads
    source = write_records(tmp_path / "in.jsonl", 300)
    DatasetSanitizer(runtime()).sanitize_file(source, tmp_path / "out.jsonl")
    assert forks == [1]


def test_large_files_stay_in_one_process_by_default_while_a_thread_runs(
    tmp_path, forks, monkeypatch
):
    import threading

    monkeypatch.setattr(sanitize_module, "SPLIT_MIN_BYTES", 1000)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "idle_cpus", lambda: 2)
    source = write_records(tmp_path / "in.jsonl", 300)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        DatasetSanitizer(runtime()).sanitize_file(source, tmp_path / "out.jsonl")
    finally:
        stop.set()
        thread.join()
    assert forks == []


def test_large_files_stay_in_one_process_by_default_on_a_busy_machine(tmp_path, forks, monkeypatch):
    monkeypatch.setattr(sanitize_module, "SPLIT_MIN_BYTES", 1000)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "idle_cpus", lambda: 1)  # another process runs on the other
    monkeypatch.setattr(parallel, "threads_running", lambda: 1)
    source = write_records(tmp_path / "in.jsonl", 300)
    DatasetSanitizer(runtime()).sanitize_file(source, tmp_path / "out.jsonl")
    assert forks == []


def test_workers_must_be_a_whole_number():
    with pytest.raises(Exception, match="workers=0 is not valid"):
        DatasetSanitizer(runtime(), workers=0)


def test_the_command_takes_workers(tmp_path, forks, monkeypatch):
    from modelops_core.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    write_records(tmp_path / "in.jsonl", 300)
    assert main(["dataset", "sanitize", "in.jsonl", "one.jsonl", "--workers", "1"]) == 0
    assert main(["dataset", "sanitize", "in.jsonl", "two.jsonl", "--workers", "2"]) == 0
    assert forks == [1]
    assert (tmp_path / "two.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()


# --- records in memory -------------------------------------------------------------------------


def sanitize_both(data, pipeline, workers=2):
    results = []
    for count in (1, workers):
        sanitizer = DatasetSanitizer(runtime(), pipeline=pipeline, workers=count)
        results.append((sanitizer.sanitize(data), json.dumps(sanitizer.report)))
    return results


def test_a_split_dataset_gives_the_serial_records_and_report(tmp_path, forks):
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps(chat(i)) + ("\n\n" if i % 5 == 0 else "\n") for i in range(600)),
        encoding="utf-8",
    )
    data = Dataset.from_jsonl(source)
    pipeline = choices(("strip_keys", {"keys": ["name"]}), ("pii", {"samples": 2}))
    (serial, serial_report), (split, split_report) = sanitize_both(data, pipeline, workers=3)
    assert forks == [1, 2]
    assert split.records == serial.records and split.format == serial.format
    assert split_report == serial_report
    serial.save(tmp_path / "a.jsonl")
    split.save(tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_split_records_with_values_msgpack_cannot_carry_are_run_by_the_parent(forks):
    import datetime

    records = [record(i) for i in range(300)]
    records[200]["when"] = datetime.date(2026, 12, 7)
    records[250]["pair"] = ("a", 1)
    (serial, serial_report), (split, split_report) = sanitize_both(records, choices("pii"))
    assert forks == [1]
    assert split == serial and split_report == serial_report
    assert split[200]["when"] == datetime.date(2026, 12, 7)


def test_records_in_memory_are_split_by_default_only_for_costly_work(forks, monkeypatch):
    monkeypatch.setattr(sanitize_module, "SPLIT_MIN_RECORDS", 100)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "idle_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "threads_running", lambda: 1)
    records = [record(i) for i in range(300)]
    DatasetSanitizer(runtime()).strip_keys(records, ["user_id"])  # cheap: not worth sending back
    assert forks == []
    pipeline = choices(("strip_keys", {"keys": ["user_id"]}), "pii")
    DatasetSanitizer(runtime(), pipeline=pipeline).sanitize(records)
    assert forks == [1]  # pii's detection is costly


def test_small_datasets_stay_in_one_process_by_default(forks):
    DatasetSanitizer(runtime()).sanitize([record(i) for i in range(100)])
    assert forks == []


def test_deciding_imports_nothing_more_than_the_module():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import modelops_core.datasets.sanitize\n"
        "before = set(sys.modules)\n"
        "from modelops_core.datasets import parallel\n"
        "parallel.worker_count(None, size=10, minimum=1, components=[])\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "['modelops_core.datasets.parallel']"


def test_the_configuration_sets_the_workers(tmp_path, forks):
    source = write_records(tmp_path / "in.jsonl", 300)
    configured = runtime("[sanitizers]\nworkers = 2\n")
    DatasetSanitizer(configured).sanitize_file(source, tmp_path / "a.jsonl")
    assert forks == [1]
    DatasetSanitizer(configured, workers=1).sanitize_file(source, tmp_path / "b.jsonl")
    assert forks == [1]  # the argument wins


def test_the_configured_workers_must_be_a_whole_number():
    from modelops_core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"sanitizers\.workers.*whole number >= 1"):
        runtime("[sanitizers]\nworkers = 0\n")


def test_a_small_input_does_not_import_the_splitting_module(tmp_path):
    from test_light_import import modules_after

    source = write_records(tmp_path / "in.jsonl", 50)
    modules = modules_after(
        "from modelops_core import DatasetSanitizer\n"
        f"DatasetSanitizer().sanitize_file({str(source)!r}, {str(tmp_path / 'out.jsonl')!r})\n"
        "DatasetSanitizer().sanitize([{'prompt': 'mail a@example.org'}])",
        cwd=tmp_path,
    )
    assert "modelops_core.datasets.parallel" not in modules


def test_the_command_s_progress_bar_runs_no_thread_so_it_can_split(tmp_path, monkeypatch):
    import modelops_core.cli.dataset as dataset_cli
    from modelops_core.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    monkeypatch.setattr(dataset_cli, "PROGRESS_MIN_BYTES", 0)  # a bar even for a small file
    seen: list[int] = []
    real = parallel.worker_count

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(parallel.threads_running())
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "worker_count", spy)
    write_records(tmp_path / "in.jsonl", 300)
    before = parallel.threads_running()
    assert main(["dataset", "sanitize", "in.jsonl", "out.jsonl", "--workers", "2"]) == 0
    assert seen == [before]  # the bar added no thread
