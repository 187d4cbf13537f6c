"""The ``modelops`` command: ``modelops --help`` imports no plugin and no heavy library."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from modelops_core._version import __version__
from modelops_core.cli.context import CliState
from modelops_core.cli.lazy import LazyGroup
from modelops_core.errors import ModelOpsError

EXIT_USAGE_OR_INPUT = 2

#: command name -> (``module:attr`` of the click command, one-line help shown by ``--help``).
#: A command's module is imported only when that command runs, so ``modelops --help`` stays light.
COMMANDS = {
    "config": (
        "modelops_core.cli.config:config_group",
        "Show or create the configuration.",
    ),
    "dataset": (
        "modelops_core.cli.dataset:dataset_group",
        "Validate, convert, sanitize datasets.",
    ),
    "demo": ("modelops_core.cli.demo:demo_command", "Run the end-to-end demo, offline."),
    "eval": (
        "modelops_core.cli.eval:eval_group",
        "Evaluate predictions; compare results.",
    ),
    "finetune": (
        "modelops_core.cli.finetune:finetune_group",
        "Fine-tune: start, watch, status, cancel, list, events.",
    ),
    "features": ("modelops_core.cli.features:features_group", "Features, embeddings."),
    "monitor": (
        "modelops_core.cli.monitor:monitor_group",
        "Profiles and drift: profile, drift (JSON, HTML report).",
    ),
    "plugins": ("modelops_core.cli.plugins:plugins_group", "List and check plugins."),
    "optimize": (
        "modelops_core.cli.optimize:optimize_group",
        "Optimize a model (cache, batching, int8); benchmark.",
    ),
    "run": (
        "modelops_core.cli.run:run_command",
        "Run a pipeline, reusing unchanged steps.",
    ),
    "registry": (
        "modelops_core.cli.registry:registry",
        "Model versions, aliases, lineage.",
    ),
    "runs": ("modelops_core.cli.runs:runs", "Experiment runs: list, show, compare."),
}


@click.group(
    cls=LazyGroup,
    commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", "-V", prog_name="modelops")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file (default: modelops.toml found from here, or the embedded default).",
)
@click.option("--lenient", is_flag=True, help="Warn about and skip broken plugins.")
@click.pass_context
def cli(context: click.Context, config_path: Path | None, lenient: bool) -> None:
    """modelops: the model lifecycle, one plugin at a time."""
    context.obj = CliState(config_path=config_path, lenient=lenient)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a :class:`ModelOpsError` is shown as one readable message, exit code 2."""
    try:
        result = cli.main(args=argv, prog_name="modelops", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ModelOpsError as exc:
        click.secho(f"Error: {exc}", fg="red", err=True)
        return EXIT_USAGE_OR_INPUT
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
