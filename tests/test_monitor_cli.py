"""``modelops monitor profile`` and ``modelops monitor drift`` as written in issue 20: the JSON
shape, exit codes, profiles as either side, the HTML report; bounded memory on a large file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from project_env import enter_project
from scipy import stats

from modelops_core.cli.main import main


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path: Path, shift: float, n: int = 400, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift, 10, n).round(2)
    plan = rng.choice(
        ["free", "pro", "team"], n, p=[0.6, 0.3, 0.1] if not shift else [0.2, 0.3, 0.5]
    )
    path.write_text("age,plan\n" + "".join(f"{a},{p}\n" for a, p in zip(age, plan, strict=True)))
    return path


def test_drift_json_has_the_documented_shape_and_scipys_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 8, seed=1)
    code, out, err = run(capsys, "monitor", "drift", str(reference), str(current), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) >= {"columns", "share_drifted", "drifted"}
    keys = {"column", "kind", "method", "value", "threshold", "drifted"}
    assert all(keys <= set(column) for column in result["columns"])
    age = result["columns"][0]
    ref_age = np.loadtxt(reference, delimiter=",", skiprows=1, usecols=0)
    cur_age = np.loadtxt(current, delimiter=",", skiprows=1, usecols=0)
    assert (age["column"], age["kind"], age["method"], age["threshold"]) == (
        "age", "numeric", "ks", 0.05,
    )  # fmt: skip
    assert age["value"] == stats.ks_2samp(ref_age, cur_age).pvalue and age["drifted"] is True
    assert result["columns"][1]["method"] == "chisquare" and result["columns"][1]["drifted"]
    assert (result["share_drifted"], result["drifted"]) == (1.0, True)


def test_the_runtime_loaded_beside_the_reading_reports_its_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The runtime loads while both files are read on threads; a configuration it cannot
    load (given with --config) fails the command as it did before, named, without a traceback,
    and leaves no reading thread behind."""
    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 8, seed=1)
    broken = tmp_path / "elsewhere.toml"
    broken.write_text("[registry\n")
    argv = ("monitor", "drift", str(reference), str(current), "--json")
    code, out, err = run(capsys, "--config", str(broken), *argv)
    assert code == 2 and out == ""
    assert "elsewhere.toml" in err and "line 1, column" in err and "Traceback" not in err
    assert not [t for t in threading.enumerate() if t.name.startswith("modelops-read")]
    assert run(capsys, *argv)[0] == 0  # without it: the project's (default) configuration


BLAS_THREADS = """
import os, sys
from modelops_core.cli.monitor import one_blas_thread
with one_blas_thread():
    inside = os.environ.get("OPENBLAS_NUM_THREADS")
    import numpy
threads = len(os.listdir("/proc/self/task"))
print(inside, os.environ.get("OPENBLAS_NUM_THREADS"), threads)
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_numpy_loads_with_one_blas_thread_unless_the_user_chose() -> None:
    """OpenBLAS starts a spinning thread per core when numpy loads (about 70 ms of CPU time of
    a command); the monitor commands load it with one, the variable removed afterwards; a
    number the user set is kept."""
    import os

    def child(**variables: str) -> list[str]:
        env = {k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}
        result = subprocess.run(
            [sys.executable, "-c", BLAS_THREADS], env={**env, **variables},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return result.stdout.split()

    assert child() == ["1", "None", "1"]
    inside, after, threads = child(OPENBLAS_NUM_THREADS="2")
    assert (inside, after) == ("2", "2")
    if (os.cpu_count() or 1) > 1:
        assert int(threads) == 2
    assert child(OMP_NUM_THREADS="1")[:2] == ["None", "None"]


def test_exit_code_is_one_only_with_fail_on_drift_and_drift(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = write_csv(tmp_path / "ref.csv", 0)
    drifted = write_csv(tmp_path / "cur.csv", 8, seed=1)
    same = write_csv(tmp_path / "same.csv", 0, seed=2)
    assert run(capsys, "monitor", "drift", str(reference), str(drifted))[0] == 0
    assert run(capsys, "monitor", "drift", str(reference), str(drifted), "--fail-on-drift")[0] == 1
    code, out, _ = run(capsys, "monitor", "drift", str(reference), str(same), "--fail-on-drift")
    assert code == 0 and "the data set is not drifted" in out


def test_saved_profiles_give_the_same_result_as_the_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 3, seed=1)
    code, out, err = run(
        capsys, "monitor", "profile", str(reference), "--output", "ref.profile.json"
    )
    assert code == 0, err and "profiled 400 rows, 2 columns -> ref.profile.json" in out
    run(capsys, "monitor", "profile", str(current), "--output", "cur.profile.json")
    from_files = run(capsys, "monitor", "drift", str(reference), str(current), "--json")[1]
    from_profiles = run(
        capsys, "monitor", "drift", "ref.profile.json", "cur.profile.json", "--json"
    )[1]
    assert json.loads(from_files) == json.loads(from_profiles)


def test_a_method_by_name_and_its_threshold(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 1, seed=1)
    args = ["monitor", "drift", str(reference), str(current), "--json", "--method", "psi"]
    result = json.loads(run(capsys, *args, "--threshold", "0.5")[1])
    assert [(c["method"], c["threshold"]) for c in result["columns"]] == [("psi", 0.5)] * 2
    code, _, err = run(capsys, *args[:-1], "nope")
    assert code == 2 and "unknown drift method 'nope'; use one of: auto, anderson" in err


def test_the_html_report_is_self_contained_with_the_summary_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = write_csv(tmp_path / "ref.csv", 0)
    current = write_csv(tmp_path / "cur.csv", 8, seed=1)
    code, _, err = run(
        capsys, "monitor", "drift", str(reference), str(current), "--report", "drift.html"
    )
    assert code == 0, err
    html = (tmp_path / "drift.html").read_text()
    assert html.index('<table class="summary">') < html.index('<section data-column="age">')
    assert re.findall(r'<tr data-column="(\w+)" data-drifted="(\w+)"', html) == [
        ("age", "true"),
        ("plan", "true"),
    ]
    assert html.count('data-chart="distribution"') == 2
    assert html.count('data-series="reference"') == 2 and html.count('data-series="current"') == 2
    assert "method ks · value" in html and "threshold 0.0500" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_an_unreadable_file_is_a_named_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = write_csv(tmp_path / "ref.csv", 0)
    (tmp_path / "broken.jsonl").write_text('{"age": 1}\nnot json\n')
    code, _, err = run(capsys, "monitor", "drift", str(reference), "broken.jsonl")
    assert code == 2 and "broken.jsonl, line 2: not valid JSON" in err
    assert "Traceback" not in err


def _write_rows(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    columns = [rng.normal(0, 1, n).round(4) for _ in range(4)]
    ids = np.arange(n)
    with path.open("w") as handle:
        handle.write("a,b,c,d,user,plan\n")
        for start in range(0, n, 50_000):
            stop = start + 50_000
            rows = zip(*(c[start:stop] for c in columns), ids[start:stop], strict=True)
            handle.write("".join(f"{a},{b},{c},{d},u{u},p{u % 7}\n" for a, b, c, d, u in rows))
    return path


def _peak_growth_mb(data: Path, warm_up: Path, rows: int) -> float:
    """How much the child's peak (VmHWM) grows over its RSS while profiling ``data``, after
    the reader's libraries (pyarrow when present) were loaded on a small file."""
    script = textwrap.dedent(
        f"""
        import re
        from modelops_core.monitoring.profile import Profile

        def status(key):
            text = open("/proc/self/status").read()
            return int(re.search(key + r":\\s+(\\d+) kB", text).group(1))

        Profile.build({str(warm_up)!r}, chunk_rows=20_000, cap=1000)
        baseline = status("VmRSS")
        profile = Profile.build({str(data)!r}, chunk_rows=20_000, cap=1000)
        assert profile.rows == {rows}, profile.rows
        assert profile.columns["user"].frequent.overflowed
        print(baseline, status("VmHWM"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    baseline, peak = (int(v) for v in result.stdout.split())
    return (peak - baseline) / 1024


def test_profiling_a_large_file_stays_in_bounded_memory(tmp_path: Path) -> None:
    """150,000 and 600,000 rows x 6 columns (the larger about 23 MB of CSV), profiled by
    chunks of 20,000 rows: the child's peak grows by the same few MB for both (a chunk and
    the reader's buffers), not with the file."""
    small = _write_rows(tmp_path / "small.csv", 1_000)
    quarter = _write_rows(tmp_path / "quarter.csv", 150_000)
    large = _write_rows(tmp_path / "large.csv", 600_000)
    assert large.stat().st_size / 2**20 > 20
    growth = [_peak_growth_mb(quarter, small, 150_000), _peak_growth_mb(large, small, 600_000)]
    print(f"peak grew by {growth[0]:.1f} MB (150,000 rows), {growth[1]:.1f} MB (600,000 rows)")
    assert growth[1] < 48, f"peak grew by {growth[1]:.0f} MB for a 23 MB file"
    assert growth[1] - growth[0] < 12, f"peak grew with the file: {growth}"
