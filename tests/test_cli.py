"""The `modelops` command as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelops_core import __version__
from modelops_core.cli.main import main


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("MODELOPS_CONFIG", "MODELOPS_LOAD_PLUGINS", "MODELOPS_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out


def test_plugins_list_shows_the_core_plugin_and_its_components(capsys):
    code, out, _ = run(capsys, "plugins", "list", "--json")
    core = next(row for row in json.loads(out) if row["plugin"] == "modelops-core")
    assert code == 0
    assert core["components"]["metrics"] == ["exact_match", "length_ratio"]


def test_plugins_list_prints_a_table(capsys):
    code, out, _ = run(capsys, "plugins", "list")
    assert code == 0 and "modelops-core" in out and "exact_match" in out


def test_config_init_writes_a_file_and_refuses_to_overwrite_it(capsys, in_project):
    assert run(capsys, "config", "init")[0] == 0
    assert (in_project / "modelops.toml").read_text().startswith("# modelops.toml")
    code, _, err = run(capsys, "config", "init")
    assert code == 2 and "--force" in err


def test_config_show_masks_secrets(capsys, in_project, monkeypatch):
    monkeypatch.setenv("ACME_TOKEN", "tok-123456")
    (in_project / "modelops.toml").write_text(
        '[providers.openai]\napi_key = { env = "ACME_TOKEN" }\n'
    )
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and "tok-123456" not in out and '"***"' in out


def test_invalid_toml_is_one_clear_error_with_line_and_column(capsys, in_project):
    (in_project / "modelops.toml").write_text("[registry\n")
    code, out, err = run(capsys, "plugins", "list")
    assert code == 2 and out == ""
    assert "modelops.toml" in err and "line 1, column" in err and "Traceback" not in err


def test_doctor_reports_every_problem_of_the_config(capsys, in_project):
    (in_project / "modelops.toml").write_text(
        '[evaluation]\nmetrics = ["exact_mach", { name = "length_ratio", unit = "chars" }]\n'
    )
    code, out, _ = run(capsys, "plugins", "doctor")
    assert code == 1
    assert "No metric named 'exact_mach'" in out
    assert "Unknown option 'unit'" in out


def test_doctor_is_happy_with_a_good_config(capsys, in_project):
    (in_project / "modelops.toml").write_text('[evaluation]\nmetrics = ["exact_match"]\n')
    code, out, _ = run(capsys, "plugins", "doctor")
    assert code == 0 and "No problems found" in out


def test_doctor_notes_embedded_defaults_that_no_loaded_plugin_provides(
    capsys, in_project, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")
    (in_project / "modelops.toml").write_text('[plugins]\ndisable = ["modelops-store-sql"]\n')
    code, out, _ = run(capsys, "plugins", "doctor")
    assert code == 0 and "No problems found" in out
    assert "[registry] (embedded default 'sql')" in out
    assert "No registry_backend named 'sql'" in out


def write_predictions(path: Path) -> Path:
    rows = [{"prediction": "Paris", "reference": "Paris"}, {"prediction": "4", "reference": "5"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_eval_run_computes_the_chosen_metrics(capsys, in_project):
    predictions = write_predictions(in_project / "p.jsonl")
    code, out, _ = run(
        capsys, "eval", "run", "--predictions", str(predictions), "--metrics", "exact_match",
        "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out) == {"exact_match": 0.5}


def test_eval_run_with_an_unknown_metric_lists_the_available_ones(capsys, in_project):
    predictions = write_predictions(in_project / "p.jsonl")
    code, _, err = run(
        capsys, "eval", "run", "--predictions", str(predictions), "--metrics", "exact_mach"
    )
    assert code == 2
    assert "No metric named 'exact_mach'" in err and "Did you mean 'exact_match'" in err


def test_eval_run_names_the_line_of_a_malformed_file(capsys, in_project):
    predictions = in_project / "p.jsonl"
    predictions.write_text('{"prediction": "a", "reference": "a"}\n{"prediction": \n')
    code, _, err = run(
        capsys, "eval", "run", "--predictions", str(predictions), "--metrics", "exact_match"
    )
    assert code == 2 and "p.jsonl:2: invalid JSON at column" in err
