"""The `modelops` command as a user types it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from project_env import enter_project

from modelops_core import __version__
from modelops_core.cli.main import main


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return enter_project(tmp_path, monkeypatch)


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
    assert code == 0 and json.loads(out)["values"] == {"exact_match": 0.5}


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


# --- what a person sees in the terminal ---------------------------------------------------------

#: commands that print no data (they act, write a file, or follow a job) and so need no --json.
PRINT_NO_DATA = {
    "config init",  # writes modelops.toml
    "dataset convert",  # writes a file
    "dataset sanitize",  # writes a file, then its per-sanitizer counts
    "demo",  # runs the demo, writes its folder
    "features push",
    "features push-embeddings",
    "finetune cancel",
    "finetune start",
    "finetune watch",  # a live progress display
    "monitor profile",  # writes the profile file
    "predict",  # writes --output
    "registry alias delete",
    "registry alias set",
    "registry register",
    "registry rollback",
    "run",  # runs a pipeline, then its step summary
    "serve",  # runs the server
    "traffic clear",
    "traffic set",
}


def command_paths() -> dict[str, Any]:
    """Every leaf command of the `modelops` tree by its path (``registry alias set``)."""
    import click

    from modelops_core.cli.main import cli

    found: dict[str, Any] = {}

    def walk(command: click.Command, context: click.Context, path: list[str]) -> None:
        if not isinstance(command, click.Group):
            found[" ".join(path)] = command
            return
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None, name
            walk(sub, click.Context(sub, parent=context, info_name=name), [*path, name])

    walk(cli, click.Context(cli, info_name="modelops"), [])
    return found


def test_every_command_that_prints_data_has_json():
    commands = command_paths()
    assert set(commands) >= PRINT_NO_DATA, PRINT_NO_DATA - set(commands)
    missing = sorted(
        path
        for path, command in commands.items()
        if path not in PRINT_NO_DATA
        and not any("--json" in getattr(param, "opts", ()) for param in command.params)
    )
    assert missing == []
    for path in ("runs list", "runs show", "registry list", "registry versions", "registry show",
                 "registry lineage", "registry audit", "plugins list", "features nearest",
                 "features list", "eval run"):  # fmt: skip
        assert path in commands and path not in PRINT_NO_DATA


def test_a_piped_table_is_one_row_per_line_that_grep_finds(capsys):
    code, out, _ = run(capsys, "plugins", "list", "--json")
    plugins = json.loads(out)
    code, out, _ = run(capsys, "plugins", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["# Plugins", "plugin\tdistribution\tversion\tcomponents"]
    assert len(lines) == 2 + len(plugins)  # nothing wrapped
    for plugin in plugins:
        (row,) = [line for line in lines if line.startswith(plugin["plugin"] + "\t")]
        components = "; ".join(f"{k}: {', '.join(v)}" for k, v in plugin["components"].items())
        assert row.split("\t")[3] == " ".join(components.split("; ")) or components in row


def test_a_narrow_terminal_never_breaks_an_identifier(monkeypatch):
    import re

    from click.testing import CliRunner

    from modelops_core.cli.render import print_table

    ident = "ticket-router-experiment-0123456789abcdef0123456789abcdef"

    @__import__("click").command()
    def show() -> None:
        print_table("runs", ["run", "tags"], [[ident, "team=risk owner=ana"]], prose=["tags"])
        print_table("short", ["id", "note"], [["a1", "a note that can wrap " * 3]], prose=["note"])

    result = CliRunner().invoke(show, env={"COLUMNS": "60", "FORCE_COLOR": "1", "NO_COLOR": "1"})
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    assert result.exit_code == 0, text
    assert ident in text  # the identifier is whole, on one line
    assert "\t" not in text  # a terminal gets a table, not the piped layout
    assert f"run   {ident}" in text  # too wide for a table: one "column  value" line each
    table = [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and all(len(line) <= 60 for line in table), text  # the short one fits
    assert "┃ id ┃ note" in text and "│ a1 │ a note that can wrap" in text


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("modelops_core.pipeline.steps.gate:GateFailedError", 1),
        ("modelops_core.optimize.values:QualityGateError", 1),
        ("modelops_core.errors:ConfigTypeError", 2),
        ("modelops_core.store.contract:VersionNotFoundError", 2),
        ("modelops_core.finetune.provider_contract:ProviderRejectedError", 2),
        ("modelops_core.finetune.provider_contract:MissingCredentialsError", 2),
        ("modelops_core.finetune.provider_contract:ProviderUnavailableError", 3),
        ("modelops_core.store.contract:StoreConnectionError", 3),
        ("modelops_core.store.contract:ArtifactCorruptedError", 3),
    ],
)
def test_each_error_class_has_its_documented_exit_code(error, code):
    import importlib

    from modelops_core.cli.main import exit_code_for

    module, _, name = error.partition(":")
    kind = getattr(importlib.import_module(module), name)
    instance = kind.__new__(kind)  # some take keyword-only details the code does not need
    Exception.__init__(instance, "x")
    assert exit_code_for(instance) == code


def test_a_failed_step_exits_with_its_cause_code():
    from modelops_core.cli.main import exit_code_for
    from modelops_core.pipeline.runner import StepFailedError
    from modelops_core.pipeline.steps.gate import GateFailedError

    for cause, code in ((GateFailedError("accuracy 0.7 < 0.8"), 1), (OSError("disk"), 3)):
        try:
            raise StepFailedError("step gate failed", step="gate", result=None) from cause  # type: ignore[arg-type]
        except StepFailedError as failed:
            assert exit_code_for(failed) == code


def test_exit_codes_end_to_end(capsys, in_project):
    assert run(capsys, "plugins", "list")[0] == 0
    code, _, err = run(capsys, "plugins", "list", "--jsn")
    assert code == 2 and "No such option" in err
    (in_project / "modelops.toml").write_text('[evaluation]\nmetrics = ["exact_mach"]\n')
    assert run(capsys, "plugins", "doctor")[0] == 1  # a check failed
    pytest.importorskip("modelops_store_sql", reason="the sql backend is a plugin")
    (in_project / "modelops.toml").write_text(
        '[registry]\nbackend = "sql"\nurl = "postgresql://ana:s3cret@127.0.0.1:1/reg"\n'
    )
    code, out, err = run(capsys, "registry", "list")
    assert code == 3, err  # the backend failed
    assert "127.0.0.1:1" in err and "s3cret" not in err + out


def test_an_unknown_subcommand_gets_the_command_it_meant(capsys):
    code, _, err = run(capsys, "registry", "alias", "churn", "production", "1.0")
    assert code == 2
    assert "did you mean `modelops registry alias set churn production 1.0`?" in err
    code, _, err = run(capsys, "registry", "lsit")
    assert code == 2 and "Did you mean `modelops registry list`?" in err
    code, _, err = run(capsys, "dataset", "valdate", "x.jsonl")  # a group of another module
    assert code == 2 and "Did you mean `modelops dataset validate`?" in err
    code, _, err = run(capsys, "registy")
    assert code == 2 and "Did you mean `modelops registry`?" in err


def test_python_calls_in_library_errors_become_cli_commands():
    from modelops_core.cli.main import cli_message
    from modelops_core.features.values import IndexNotFoundError
    from modelops_core.finetune.errors import JobTimeoutError

    missing = IndexNotFoundError(
        "No embeddings were pushed to index 'docs' (known indexes: none). "
        "Push some with push_embeddings(ids, matrix, index=...)."
    )
    assert cli_message(missing) == (
        "No embeddings were pushed to index 'docs' (known indexes: none). "
        "Push some with `modelops features push-embeddings FILE --index docs`."
    )
    timeout = JobTimeoutError(
        "Job ft-1 did not finish within 60s (x). It keeps running at the provider and stays "
        "tracked: re-attach with FineTuningJob.attach('ft-1') or `modelops finetune watch ft-1`; "
        "raise [finetune] timeout or pass wait(timeout=...) to wait longer.",
        job_id="ft-1",
    )
    shown = cli_message(timeout)
    assert "FineTuningJob" not in shown and "wait(" not in shown
    assert "re-attach with `modelops finetune watch ft-1`" in shown and "--timeout" in shown


def test_config_init_writes_only_keys_that_are_read(capsys, in_project, monkeypatch):
    from modelops_core.cli.config import DEFAULT_CONFIG_TEMPLATE
    from modelops_core.config import load_config
    from modelops_core.finetune.preflight import estimate_cost

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    lines = DEFAULT_CONFIG_TEMPLATE.splitlines()
    setting = re.compile(r'# [A-Za-z_"][\w."-]* = ')
    commented = [i for i, line in enumerate(lines) if setting.match(line)]
    assert len(commented) >= 10
    for index in commented:  # every commented-out setting, switched on alone, is accepted
        (in_project / "modelops.toml").write_text(switch_on(lines, index))
        load_config(in_project / "modelops.toml")
    start = lines.index('# [prices."<base model name>"]')
    prices = "\n".join(line[2:] for line in lines[start:]).replace("<base model name>", "m-1")
    (in_project / "modelops.toml").write_text(prices + "\n")
    config = load_config(in_project / "modelops.toml")
    assert dict(config.prices["m-1"]) == {
        "training": 3.0, "input": 0.15, "output": 0.6, "request": 0.0
    }  # fmt: skip
    assert estimate_cost("m-1-2025", 1_000_000, 2, config.prices).total == 6.0


def switch_on(lines: list[str], index: int) -> str:
    """The template with the commented setting at ``index`` on (its ``# [table]`` header too)
    and the live setting of the same key in that table off."""
    key = lines[index][2:].split(" = ")[0]
    start = next(i for i in range(index, -1, -1) if lines[i].startswith(("[", "# [")))
    end = next((i for i in range(index + 1, len(lines)) if lines[i].startswith(("[", "# ["))),
               len(lines))  # fmt: skip
    chosen = []
    for i, line in enumerate(lines):
        if i in (index, start) and line.startswith("# "):
            chosen.append(line[2:])
        elif start < i < end and line.startswith(f"{key} = "):
            continue
        else:
            chosen.append(line)
    return "\n".join(chosen) + "\n"


def test_an_unknown_price_key_is_refused_naming_the_valid_ones(capsys, in_project):
    (in_project / "modelops.toml").write_text(
        '[prices."local:logreg"]\ntraining_per_million_tokens = 3.0\n'
    )
    code, _, err = run(capsys, "config", "show")
    assert code == 2
    assert "'prices.\"local:logreg\".training_per_million_tokens'" in err
    assert "Valid keys here: training, input, output, request." in err


def test_eval_run_json_has_intervals_and_per_group_values(capsys, in_project):
    rows = [{"prediction": p, "reference": r, "group": g}
            for p, r, g in [("x", "x", "a"), ("y", "x", "a"), ("x", "x", "b"),
                            ("y", "y", "b")] * 5]  # fmt: skip
    (in_project / "p.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    options = ["--metrics", "exact_match", "--groups", "group", "--bootstrap", "50", "--json"]
    code, out, err = run(capsys, "eval", "run", "--predictions", "p.jsonl", *options)
    assert code == 0, err
    document = json.loads(out)
    assert document["values"] == {"exact_match": 0.75}
    assert set(document["intervals"]["exact_match"]) >= {"low", "high"}
    assert document["per_group"] == {"exact_match": {"a": 0.5, "b": 1.0}}
    assert document["group_sizes"] == {"a": 10, "b": 10}
    assert "per_example" not in document


def test_a_csv_given_to_eval_run_under_another_name_is_explained(capsys, in_project):
    (in_project / "p.jsonl").write_text("prediction,reference\nParis,Paris\n4,5\n")
    code, _, err = run(capsys, "eval", "run", "--predictions", "p.jsonl", "--metrics",
                       "exact_match")  # fmt: skip
    assert code == 2
    assert "p.jsonl:1: this file holds CSV (','-separated columns prediction, reference)" in err
    assert "rename it (p.csv)" in err and "invalid JSON" not in err
    (in_project / "p.csv").write_text((in_project / "p.jsonl").read_text())
    code, out, _ = run(capsys, "eval", "run", "--predictions", "p.csv", "--metrics",
                       "exact_match", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["values"] == {"exact_match": 0.5}


def test_a_piped_table_is_printed_without_importing_rich():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from modelops_core.cli.render import print_table\n"
        "print_table('runs', ['run', 'status'], [['r1', 'ok']])\n"
        "assert 'rich' not in sys.modules, 'rich imported for a piped table'\n"
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["# runs", "run\tstatus", "r1\tok"]
