"""`modelops dataset sanitize` on big files, killed runs and set-aside lines (issue 14, part 7).

Memory is measured on a real `modelops` process (its own peak RSS, VmHWM read by the process as it
exits: wait4's ru_maxrss would count the forking test process too); kills are real
SIGKILLs of such a process at points seen from outside (its temporary files appearing and
growing).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from modelops_core import DatasetSanitizer, Runtime
from modelops_core.cli.main import main
from modelops_core.config import parse_config

pytest.importorskip("modelops_sanitizers")
pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and /proc")

CLI = "import sys; from modelops_core.cli.main import main; sys.exit(main(sys.argv[1:]))"
# The same, writing the process's own peak resident memory (kB) to $PEAK_FILE as it ends. VmHWM
# belongs to the address space exec made; ru_maxrss also keeps the parent's at the fork.
MEASURED_CLI = (
    "import os, sys\n"
    "from modelops_core.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "with open('/proc/self/status') as status:\n"
    "    peak = next(line.split()[1] for line in status if line.startswith('VmHWM:'))\n"
    "with open(os.environ['PEAK_FILE'], 'w') as out:\n"
    "    out.write(peak)\n"
    "sys.exit(code)\n"
)
MB = 1024 * 1024


def runtime(toml: str = "") -> Runtime:
    import tomllib

    return Runtime(parse_config(tomllib.loads(toml), source="test.toml"))


def pii_file(path: Path, records: int, *, extra: str = "") -> Path:
    """``records`` short chat-less records, each with an email and a phone number."""
    row = '{"prompt": "mail user%d@example.org or call 415-555-%04d", "completion": "ok %d"}\n'
    path.write_text(
        "".join(row % (i, i % 10000, i) for i in range(records)) + extra, encoding="utf-8"
    )
    return path


def modelops(
    *args: str, cwd: Path, script: str = CLI, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``modelops *args`` started in ``cwd`` (no configuration: the default pipeline)."""
    env = {k: v for k, v in os.environ.items() if k != "MODELOPS_CONFIG"} | (env or {})
    with tempfile.TemporaryFile() as errors:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )


def peak_rss_mb(*args: str, cwd: Path) -> float:
    """Run ``modelops *args`` to the end; its own peak resident memory in MB."""
    peak_file = cwd / "peak-kb.txt"
    process = modelops(*args, cwd=cwd, script=MEASURED_CLI, env={"PEAK_FILE": str(peak_file)})
    assert process.wait() == 0
    return int(peak_file.read_text()) / 1024


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- memory and report size ------------------------------------------------------------------


def test_memory_stays_bounded_and_does_not_grow_with_the_records(tmp_path):
    small = pii_file(tmp_path / "small.jsonl", 50_000)
    big = pii_file(tmp_path / "big.jsonl", 200_000)
    small_peak = peak_rss_mb(
        "dataset", "sanitize", str(small), "s.jsonl", "--report", "s.json", cwd=tmp_path
    )
    big_peak = peak_rss_mb(
        "dataset", "sanitize", str(big), "b.jsonl", "--report", "b.json", cwd=tmp_path
    )
    # Before: 200k records took 507 MB (about 2.3 KB per record), with a 29 MB report.
    assert big_peak < 300, f"{big_peak:.0f} MB for 200,000 records"
    assert big_peak - small_peak < 40, f"{small_peak:.0f} MB -> {big_peak:.0f} MB"
    sizes = [(tmp_path / name).stat().st_size for name in ("s.json", "b.json")]
    assert sizes[1] - sizes[0] < 64  # only the counts have more digits
    assert json.loads((tmp_path / "b.json").read_text())["sanitizers"][0]["findings"] == 400_000


def test_the_report_holds_counts_and_a_few_sample_lines_per_type(tmp_path):
    rows = [f'{{"prompt": "mail user{i}@example.org", "completion": "ok"}}' for i in range(20_000)]
    rows[15_000] = '{"prompt": "card 4111 1111 1111 1111 of user@example.org", "completion": "x"}'
    # Blank and invalid lines shift the records' lines: line numbers stay right.
    text = "\n".join(rows[:5]) + "\n\n\nnot json\n" + "\n".join(rows[5:]) + "\n"
    source = tmp_path / "in.jsonl"
    source.write_text(text, encoding="utf-8")
    sanitizer = DatasetSanitizer(runtime())
    report = sanitizer.sanitize_file(source, tmp_path / "out.jsonl", skip_invalid=True)
    [pii] = report["sanitizers"]
    assert (pii["records_in"], pii["records_with_findings"], pii["findings"]) == (
        20_000,
        20_000,
        20_001,
    )
    assert pii["by_type"] == {"card": 1, "email": 20_000}
    assert pii["samples_per_type"] == 10
    # The first 10 records of each type: emails in 0..9, the only card in record 15000.
    assert list(pii["by_record"]) == [*map(str, range(10)), "15000"]
    assert pii["by_record"]["15000"] == {"card": 1, "email": 1}
    assert list(pii["by_line"]) == ["1", "2", "3", "4", "5", "9", "10", "11", "12", "13", "15004"]
    lines = source.read_text().splitlines()
    assert "4111" in lines[15004 - 1]
    assert report["lines_rejected"] == 1 and report["rejected_text"] == "redacted"
    assert len(json.dumps(report)) < 3000


def test_lines_after_too_many_gaps_are_left_out_of_by_line(tmp_path, monkeypatch):
    import modelops_core.datasets.sanitize as sanitize

    monkeypatch.setattr(sanitize, "MAX_LINE_GAPS", 2, raising=False)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(f'{{"t": "10.0.0.{i}"}}\n\n' for i in range(5)), encoding="utf-8")
    report = DatasetSanitizer(runtime()).sanitize_file(source, tmp_path / "out.jsonl")
    [pii] = report["sanitizers"]
    assert list(pii["by_record"]) == ["0", "1", "2", "3", "4"]
    # Records 1 and 2 start a new offset each (kept); record 3's would be the third.
    assert list(pii["by_line"]) == ["1", "3", "5"]


# --- killed runs -----------------------------------------------------------------------------


def kill_when(process: subprocess.Popen[bytes], ready, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the run ended before the kill point"
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def settled_listing(folder: Path, timeout: float = 5) -> list[str]:
    """The folder's names once no temporary file is left (or after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while temporaries(folder) and time.monotonic() < deadline:
        time.sleep(0.01)
    return sorted(p.name for p in folder.iterdir())


def temporary_size(folder: Path, prefix: str) -> int:
    sizes = [
        entry.stat().st_size
        for entry in folder.iterdir()
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp")
    ]
    return max(sizes, default=-1)


@pytest.mark.parametrize("point", ["output opened", "half written"])
def test_a_killed_run_leaves_no_temporary_file(tmp_path, point):
    source = pii_file(tmp_path / "in.jsonl", 200_000, extra="not json: jane@example.org\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    process = modelops(
        "dataset", "sanitize", str(source), "out/clean.jsonl", "--report", "out/r.json",
        "--skip-invalid", cwd=tmp_path,
    )  # fmt: skip
    least = 0 if point == "output opened" else 6 * MB  # the output is about 13 MB
    kill_when(process, lambda: temporary_size(out, ".clean.jsonl.") >= least)
    assert settled_listing(out) == ["keep.txt"]


def test_a_killed_in_place_run_keeps_the_source_and_leaves_no_temporary_file(tmp_path):
    source = pii_file(tmp_path / "data.jsonl", 200_000)
    before = source.read_bytes()
    process = modelops("dataset", "sanitize", "data.jsonl", "data.jsonl", cwd=tmp_path)
    kill_when(process, lambda: temporary_size(tmp_path, ".data.jsonl.") >= 3 * MB)
    assert settled_listing(tmp_path) == ["data.jsonl"]
    assert source.read_bytes() == before


def test_the_next_run_removes_what_a_killed_run_and_its_watcher_left(tmp_path):
    source = pii_file(tmp_path / "in.jsonl", 200_000)
    process = modelops("dataset", "sanitize", "in.jsonl", "clean.jsonl", cwd=tmp_path)

    deadline = time.monotonic() + 20
    while temporary_size(tmp_path, ".clean.jsonl.") <= 0:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    for child in children:  # the watchers (and workers): all die at once, nobody cleans up
        os.kill(int(child), signal.SIGKILL)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    left = temporaries(tmp_path)  # the output's, and its workers' parts if the run was split
    assert left
    # An older version's leftover (no process id), two hours old; a running writer's file; and
    # files of the user's that only look alike.
    legacy = tmp_path / ".clean.jsonl.k2j4_9xq.tmp"
    legacy.write_text("old")
    os.utime(legacy, (time.time() - 7200, time.time() - 7200))
    with subprocess.Popen(["sleep", "30"]) as running:
        live = tmp_path / f".clean.jsonl.{running.pid}-0123abcd.tmp"
        live.write_text("being written")
        mine = [".clean.jsonl.notes.tmp", ".clean.jsonl.99999999999-0123abcd.tmp"]
        for name in mine:
            (tmp_path / name).write_text("mine")
        DatasetSanitizer(runtime()).sanitize_file(source, tmp_path / "clean.jsonl")
        running.kill()
    assert not set(left) & set(temporaries(tmp_path))
    assert temporaries(tmp_path) == sorted([*mine, live.name])
    assert (tmp_path / "clean.jsonl").read_text().count("[EMAIL]") == 200_000


# --- set-aside lines -------------------------------------------------------------------------

BAD_LINE = '{"prompt": "I am jane@example.org, card 4111 1111 1111 1111"'


def test_rejected_lines_are_redacted_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    (tmp_path / "in.jsonl").write_text('{"prompt": "ok"}\n' + BAD_LINE + "\n")
    assert main(["dataset", "sanitize", "in.jsonl", "out.jsonl", "--skip-invalid"]) == 2
    [rejected] = map(json.loads, (tmp_path / "out.jsonl.rejected.jsonl").read_text().splitlines())
    assert rejected["line"] == 2
    assert rejected["text"] == '{"prompt": "I am [EMAIL], card [CARD]"'
    printed = capsys.readouterr().out
    assert "set aside 1 invalid line(s) in out.jsonl.rejected.jsonl, their text redacted" in printed


def test_raw_rejected_lines_are_opt_in_and_the_cli_warns(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    (tmp_path / "in.jsonl").write_text('{"prompt": "ok"}\n' + BAD_LINE + "\n")
    args = ["dataset", "sanitize", "in.jsonl", "out.jsonl", "--raw-rejected"]
    assert main(args) == 2  # without --skip-invalid it means nothing: refused
    assert "--raw-rejected only applies with --skip-invalid" in capsys.readouterr().err
    assert main([*args, "--skip-invalid"]) == 2
    [rejected] = map(json.loads, (tmp_path / "out.jsonl.rejected.jsonl").read_text().splitlines())
    assert rejected["text"] == BAD_LINE
    err = capsys.readouterr().err
    assert "WARNING: out.jsonl.rejected.jsonl holds 1 raw line(s)" in err
    assert "PII INCLUDED" in err


def test_rejected_lines_use_the_pipelines_own_pii_settings(tmp_path):
    rt = runtime('[sanitizers]\npipeline = [{ name = "pii", strategy = "hash", salt = "s" }]\n')
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "jane@example.org"}\n{"prompt": "jane@example.org\n')
    DatasetSanitizer(rt).sanitize_file(source, tmp_path / "out.jsonl", skip_invalid=True)
    token = json.loads((tmp_path / "out.jsonl").read_text())["prompt"]
    assert token.startswith("[EMAIL:") and len(token) == len("[EMAIL:]") + 16
    rejected = json.loads((tmp_path / "out.jsonl.rejected.jsonl").read_text())
    assert rejected["text"] == '{"prompt": "' + token


def test_rejected_lines_are_redacted_when_the_pipeline_has_no_pii_sanitizer(tmp_path):
    rt = runtime('[sanitizers]\npipeline = [{ name = "dedupe" }]\n')
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "a"}\n{"prompt": "a"}\n' + BAD_LINE + "\n")
    report = DatasetSanitizer(rt).sanitize_file(source, tmp_path / "out.jsonl", skip_invalid=True)
    assert report["records_out"] == 1 and report["lines_rejected"] == 1
    rejected = json.loads((tmp_path / "out.jsonl.rejected.jsonl").read_text())
    assert rejected["text"] == '{"prompt": "I am [EMAIL], card [CARD]"'


def alive(pid: str) -> bool:
    """Whether process ``pid`` runs (a zombie nobody reaped yet does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_split_run_leaves_no_temporary_file_and_no_worker(tmp_path):
    pii_file(tmp_path / "in.jsonl", 200_000, extra="not json: jane@example.org\n")
    process = modelops(
        "dataset", "sanitize", "in.jsonl", "clean.jsonl", "--skip-invalid", "--workers", "2",
        cwd=tmp_path,
    )  # fmt: skip
    children: list[str] = []

    def split_and_writing() -> bool:
        # the output's temporary file and the worker's two parts, one of them being written
        if len(temporaries(tmp_path)) < 3 or temporary_size(tmp_path, ".clean") < MB:
            return False
        listed = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        children[:] = listed  # the watchers and the worker
        return True

    kill_when(process, split_and_writing)
    deadline = time.monotonic() + 0.5  # the worker's slice would take it longer to finish
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [pid for pid in children if alive(pid)]  # none runs on
    assert settled_listing(tmp_path) == ["in.jsonl"]
