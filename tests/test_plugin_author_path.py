"""The plugin author's path, end to end: pip install a third-party metric plugin, see it in
``modelops plugins list``, use it from ``modelops eval run``, run its contract tests, and see
what a broken plugin looks like.

One fresh virtual environment is built for the module (a few tens of seconds). The tests run
in file order: the last group installs ``examples/broken-plugin`` into that environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).parents[1]
ACME_METRICS = REPO / "examples" / "acme-metrics"
BROKEN_PLUGIN = REPO / "examples" / "broken-plugin"

# latency_ms 120, 80, 200, 95 -> sorted 80, 95, 120, 200; linear interpolation between ranks.
RECORDS = [
    {"prediction": "yes", "reference": "yes", "latency_ms": 120},
    {"prediction": "no", "reference": "yes", "latency_ms": 80},
    {"prediction": "yes", "reference": "yes", "latency_ms": 200},
    {"prediction": "no", "reference": "no", "latency_ms": 95},
]
P95 = 120 + 0.85 * (200 - 120)  # rank 3 * 0.95 = 2.85
P50 = 95 + 0.5 * (120 - 95)  # rank 3 * 0.50 = 1.5


class Venv:
    """A virtual environment whose commands run with a clean ``MODELOPS_*``-free environment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bin = path / ("Scripts" if os.name == "nt" else "bin")

    def run(
        self, *command: str | Path, cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` (its first word looked up in the venv's bin) and capture output."""
        clean = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MODELOPS_", "PYTHON")) and key != "VIRTUAL_ENV"
        }
        clean.update(COLUMNS="200", PYTHONDONTWRITEBYTECODE="1", **(env or {}))
        executable = self.bin / str(command[0])
        return subprocess.run(
            [str(executable), *map(str, command[1:])],
            cwd=cwd,
            env=clean,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def pip_install(self, *requirements: str | Path, cwd: Path) -> None:
        done = self.run(
            "python", "-m", "pip", "install", "--disable-pip-version-check", "-q",
            *requirements, cwd=cwd,
        )  # fmt: skip
        assert done.returncode == 0, f"pip install {requirements} failed:\n{done.stderr}"


def modelops_json(venv: Venv, *args: str, cwd: Path, env: dict[str, str] | None = None) -> object:
    done = venv.run("modelops", *args, "--json", cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def plugins_by_name(listing: object) -> dict[str, dict[str, object]]:
    assert isinstance(listing, list)
    return {row["plugin"]: row for row in listing}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh venv with modelops-core (from this checkout), acme-metrics and pytest."""
    root = tmp_path_factory.mktemp("author-path")
    created = subprocess.run(
        [sys.executable, "-m", "venv", str(root / "venv")], capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    environment = Venv(root / "venv")
    environment.pip_install(REPO, ACME_METRICS, "pytest>=8", cwd=root)
    return environment


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory with a predictions file and no configuration yet."""
    lines = (json.dumps(record) for record in RECORDS)
    (tmp_path / "predictions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_plugins_list_shows_the_installed_metric(venv: Venv, project: Path) -> None:
    plugins = plugins_by_name(modelops_json(venv, "plugins", "list", cwd=project))

    assert plugins["acme-metrics"]["distribution"] == "acme-metrics"
    assert plugins["acme-metrics"]["version"] == "0.1.0"
    assert plugins["acme-metrics"]["components"] == {"metrics": ["acme.latency_p95"]}
    assert "modelops-core" in plugins


def test_eval_run_computes_the_metric_named_on_the_command_line(venv: Venv, project: Path) -> None:
    done = venv.run(
        "modelops", "eval", "run", "--predictions", "predictions.jsonl",
        "--metrics", "acme.latency_p95,exact_match", cwd=project,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "acme.latency_p95" in done.stdout
    assert f"{P95:.4f}" in done.stdout  # the table shows four decimals
    assert "exact_match" in done.stdout
    assert "0.7500" in done.stdout


def test_eval_run_uses_the_metric_and_options_chosen_in_modelops_toml(
    venv: Venv, project: Path
) -> None:
    (project / "modelops.toml").write_text(
        '[evaluation]\nmetrics = [{ name = "acme.latency_p95", percentile = 50.0 }]\n',
        encoding="utf-8",
    )

    result = modelops_json(venv, "eval", "run", "--predictions", "predictions.jsonl", cwd=project)

    assert isinstance(result, dict)
    assert result["values"] == {"acme.latency_p95": pytest.approx(P50)}


def test_a_misspelled_option_in_modelops_toml_is_named_with_a_fix(
    venv: Venv, project: Path
) -> None:
    (project / "modelops.toml").write_text(
        '[evaluation]\nmetrics = [{ name = "acme.latency_p95", percentil = 50.0 }]\n',
        encoding="utf-8",
    )

    done = venv.run("modelops", "eval", "run", "--predictions", "predictions.jsonl", cwd=project)

    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "Unknown option 'percentil' for metric 'acme.latency_p95'" in message
    assert "[evaluation.metrics][0]" in message
    assert "Did you mean 'percentile'?" in message
    assert "Traceback" not in done.stderr


def test_the_example_passes_its_own_contract_tests(venv: Venv) -> None:
    done = venv.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=ACME_METRICS
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout
    assert "failed" not in done.stdout


# --- a broken plugin in the same environment (keep these last: they install it) ---------------


@pytest.fixture(scope="module")
def venv_with_broken_plugin(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """The same venv with ``acme-broken``, whose module raises ImportError, installed too."""
    venv.pip_install(BROKEN_PLUGIN, cwd=tmp_path_factory.mktemp("broken"))
    return venv


def test_a_broken_plugin_stops_the_command_and_is_named(
    venv_with_broken_plugin: Venv, project: Path
) -> None:
    done = venv_with_broken_plugin.run("modelops", "plugins", "list", cwd=project)

    assert done.returncode != 0
    message = " ".join(done.stderr.split())  # undo terminal line wrapping
    assert "acme-broken" in message
    assert "0.0.1" in message
    assert "Don't hide me!" in message
    assert "Traceback" not in done.stderr


def test_lenient_mode_skips_the_broken_plugin_and_warns(
    venv_with_broken_plugin: Venv, project: Path
) -> None:
    done = venv_with_broken_plugin.run("modelops", "--lenient", "plugins", "list", "--json",
                                       cwd=project)  # fmt: skip

    assert done.returncode == 0, done.stderr
    plugins = plugins_by_name(json.loads(done.stdout))
    assert plugins["acme-metrics"]["components"] == {"metrics": ["acme.latency_p95"]}
    assert "acme-broken" not in plugins
    assert "acme-broken" in done.stderr
    assert "Don't hide me!" in done.stderr


def test_only_the_plugins_named_in_the_environment_are_imported(
    venv_with_broken_plugin: Venv, project: Path
) -> None:
    done = venv_with_broken_plugin.run(
        "modelops", "plugins", "list", "--json", cwd=project,
        env={"MODELOPS_LOAD_PLUGINS": "acme-metrics,modelops-core"},
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert set(plugins_by_name(json.loads(done.stdout))) == {"acme-metrics", "modelops-core"}
    assert "Don't hide me!" not in done.stderr


def test_a_plugin_disabled_in_modelops_toml_is_never_imported(
    venv_with_broken_plugin: Venv, project: Path
) -> None:
    (project / "modelops.toml").write_text(
        '[plugins]\ndisable = ["acme-broken"]\n', encoding="utf-8"
    )

    plugins = plugins_by_name(
        modelops_json(venv_with_broken_plugin, "plugins", "list", cwd=project)
    )

    assert set(plugins) == {"acme-metrics", "modelops-core"}
