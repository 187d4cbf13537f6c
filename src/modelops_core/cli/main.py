"""The ``modelops`` command: ``modelops --help`` imports no plugin and no heavy library.

Exit codes (one place: :func:`exit_code_for`):

* 0: it worked;
* 1: a check failed (an evaluation gate, ``plugins doctor``, a drift check);
* 2: bad usage or bad input (an unknown option, model, version or key; a malformed file);
* 3: a backend or provider failed (a store that cannot be reached or is damaged, a provider
  that refused or failed a call, a plugin that cannot load).
"""

from __future__ import annotations

from modelops_core.gc_pause import GcPaused

# the collector paused while click and the CLI's modules load (what they make lives as long as
# the process): about 30 young collections, 3 ms of every command
with GcPaused(promote=True):
    import re
    import sys
    from collections.abc import Callable, Sequence
    from typing import NoReturn

    import click

    from modelops_core._version import __version__
    from modelops_core.cli.context import CliState
    from modelops_core.cli.lazy import HintingGroup, LazyGroup
    from modelops_core.errors import ModelOpsError

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE_OR_INPUT = 2
EXIT_BACKEND_FAILED = 3

#: error classes (``module.QualName``, matched along the error's MRO, most specific first) whose
#: exit code is not :data:`EXIT_USAGE_OR_INPUT`, the code of every other ModelOpsError.
#: Names, not imports: mapping an error must not import the modules that could raise it.
EXIT_CODES: dict[str, int] = {
    # a check failed
    "modelops_core.pipeline.steps.gate.GateFailedError": EXIT_CHECK_FAILED,
    "modelops_core.optimize.values.QualityGateError": EXIT_CHECK_FAILED,
    # providers: a refusal (bad data, unknown model) and missing credentials are the input's
    "modelops_core.finetune.provider_contract.MissingCredentialsError": EXIT_USAGE_OR_INPUT,
    "modelops_core.finetune.provider_contract.ProviderRejectedError": EXIT_USAGE_OR_INPUT,
    "modelops_core.finetune.provider_contract.ProviderError": EXIT_BACKEND_FAILED,
    # stores: what was asked for does not exist or is invalid (input), else the store failed
    # (unreachable, locked, damaged, newer schema, corrupted or missing artifact)
    "modelops_core.store.contract.InvalidModelNameError": EXIT_USAGE_OR_INPUT,
    "modelops_core.store.contract.ModelNotFoundError": EXIT_USAGE_OR_INPUT,
    "modelops_core.store.contract.VersionNotFoundError": EXIT_USAGE_OR_INPUT,
    "modelops_core.store.contract.DuplicateVersionError": EXIT_USAGE_OR_INPUT,
    "modelops_core.store.contract.AliasNotFoundError": EXIT_USAGE_OR_INPUT,
    "modelops_core.store.contract.RunNotFoundError": EXIT_USAGE_OR_INPUT,
    "modelops_core.store.contract.UnsafeArtifactNameError": EXIT_USAGE_OR_INPUT,
    "modelops_core.store.contract.ArtifactNotFoundError": EXIT_USAGE_OR_INPUT,  # a path given
    "modelops_core.flavors.contract.UntrustedModelError": EXIT_USAGE_OR_INPUT,
    "modelops_core.flavors.schema.SchemaMismatchError": EXIT_USAGE_OR_INPUT,
    "modelops_core.store.contract.StorageError": EXIT_BACKEND_FAILED,
    # serving: an unknown model or alias and a bad split are the input's
    "modelops_core.serving.errors.UnknownModelError": EXIT_USAGE_OR_INPUT,
    "modelops_core.serving.errors.TrafficError": EXIT_USAGE_OR_INPUT,
    # plugins that cannot load, alert sinks that cannot deliver
    "modelops_core.errors.PluginError": EXIT_BACKEND_FAILED,
    "modelops_core.errors.ComponentImportError": EXIT_BACKEND_FAILED,
    "modelops_core.monitoring.alerts.AlertSinkError": EXIT_BACKEND_FAILED,
}


def exit_code_for(error: BaseException) -> int:
    """The documented exit code of ``error``; a pipeline step's failure takes its cause's."""
    if _qualified(type(error)) == "modelops_core.pipeline.runner.StepFailedError":
        cause = error.__cause__
        return exit_code_for(cause) if isinstance(cause, ModelOpsError) else EXIT_BACKEND_FAILED
    for kind in type(error).__mro__:
        code = EXIT_CODES.get(_qualified(kind))
        if code is not None:
            return code
    return EXIT_USAGE_OR_INPUT


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _push_embeddings_hint(match: re.Match[str]) -> str:
    index = match.group("index")
    return f"Push some with `modelops features push-embeddings FILE --index {index}`."


#: library messages that name a Python call, and the CLI command a terminal user runs instead.
#: The library keeps its messages (they are right for Python users); the CLI rewrites them.
#: Patterns, not compiled ones: they are needed only when a command fails, and ``re`` compiles
#: (and caches) them then; compiling the seven at import cost every command about 1 %.
CLI_HINTS: tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...] = (
    (
        r"(?s)index '(?P<index>[^']*)'(?P<between>.*?)Push some with "
        r"push_embeddings\(ids, matrix, index=\.\.\.\)\.",
        lambda m: f"index '{m.group('index')}'{m.group('between')}" + _push_embeddings_hint(m),
    ),
    (
        r"re-attach with FineTuningJob\.attach\((?P<job>'[^']*')\) or ",
        "re-attach with ",
    ),
    (r" or pass wait\(timeout=\.\.\.\)", " or pass --timeout SECONDS"),
    (
        r"load it with Dataset\.from_jsonl\(\.\.\.\)\.fingerprint\(\)",
        "convert it to one format first with `modelops dataset convert`",
    ),
    (
        r"For one record per line use Dataset\.from_jsonl\.",
        "For one record per line, name the file .jsonl.",
    ),
    (r" \(or Dataset\.from_jsonl for \.jsonl\)", " (or .jsonl)"),
    (
        r"Pass evaluation=<EvaluationResult or \{metric: value\}> to register\(\), or "
        r"metadata=\{'evaluation': \{\.\.\.\}\}\.",
        "Pass --evaluation '{\"accuracy\": 0.91}' (a JSON object, or a .json file such as "
        "the one `modelops eval run --output` writes).",
    ),
)


def cli_message(error: BaseException) -> str:
    """The message of ``error`` as the CLI shows it: Python calls replaced by the CLI command
    (or the error's own ``cli_hint``), passwords in URLs masked."""
    from modelops_core.config import mask_urls_in

    text = str(error)
    for pattern, replacement in CLI_HINTS:
        text = re.sub(pattern, replacement, text)
    hint = getattr(error, "cli_hint", None)
    if isinstance(hint, str) and hint:
        text = f"{text} {hint}"
    return mask_urls_in(text)


class CommandError(click.ClickException):
    """A ModelOpsError shown as one line: bad usage or input (exit code 2)."""

    exit_code = EXIT_USAGE_OR_INPUT


class CheckFailedError(CommandError):
    """A check failed (exit code 1)."""

    exit_code = EXIT_CHECK_FAILED


class BackendFailedError(CommandError):
    """A backend or provider failed (exit code 3)."""

    exit_code = EXIT_BACKEND_FAILED


_BY_CODE: dict[int, type[CommandError]] = {
    EXIT_CHECK_FAILED: CheckFailedError,
    EXIT_USAGE_OR_INPUT: CommandError,
    EXIT_BACKEND_FAILED: BackendFailedError,
}


def fail(error: BaseException) -> NoReturn:
    """Stop the command with ``error``'s CLI message and exit code."""
    raise _BY_CODE[exit_code_for(error)](cli_message(error)) from error


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
    "experiment": (
        "modelops_core.cli.experiment:experiment_group",
        "A/B experiments: start, status, stop, report, feedback.",
    ),
    "features": ("modelops_core.cli.features:features_group", "Features, embeddings."),
    "monitor": (
        "modelops_core.cli.monitor:monitor_group",
        "Profiles, drift, label-free performance (CBPE), service health.",
    ),
    "plugins": ("modelops_core.cli.plugins:plugins_group", "List and check plugins."),
    "predict": (
        "modelops_core.cli.predict:predict_command",
        "Predictions of a registered or tuned model over a JSONL/CSV file.",
    ),
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
    "serve": (
        "modelops_core.cli.serve:serve_command",
        "Serve registered models over HTTP (OIP v2, OpenAI chat).",
    ),
    "traffic": (
        "modelops_core.cli.traffic:traffic_group",
        "Split a model's traffic between aliases.",
    ),
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
    type=click.Path(dir_okay=False),
    help="Configuration file (default: modelops.toml found from here, or the embedded default).",
)
@click.option("--lenient", is_flag=True, help="Warn about and skip broken plugins.")
@click.pass_context
def cli(context: click.Context, config_path: str | None, lenient: bool) -> None:
    """modelops: the model lifecycle, one plugin at a time."""
    # pathlib here, not at import: ``modelops --help`` (which never gets here) does without it
    from pathlib import Path

    path = None if config_path is None else Path(config_path)
    context.obj = CliState(config_path=path, lenient=lenient)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; an error is shown as one readable message with its exit code
    (:func:`exit_code_for`). Without ``argv`` (the process's own command line: the
    ``modelops`` script, ``python -m modelops_core``) the process is to exit after the
    command: see :func:`freeze_at_exit`."""
    if argv is None:
        freeze_at_exit()
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        result = cli.main(args=arguments, prog_name="modelops", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.exceptions.NoSuchCommand as exc:
        _with_command_hint(exc, arguments).show()
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ModelOpsError as exc:
        click.secho(f"Error: {cli_message(exc)}", fg="red", err=True)
        return exit_code_for(exc)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return result if isinstance(result, int) else 0


def freeze_at_exit() -> None:
    """At the interpreter's exit (the last exit handler to run), move every object the cyclic
    collector tracks to its permanent generation (``gc.freeze()``): the interpreter's
    shutdown collections then skip them. With numpy and pyarrow loaded (``monitor drift``)
    those collections took 50 to 90 ms of the process, longer than the drift itself; they
    free nothing the exit does not free. Files and connections are closed by the code that
    opened them (``with`` blocks), and ``weakref.finalize`` callbacks and other exit handlers
    still run, as before."""
    import atexit
    import gc

    atexit.register(gc.freeze)


def _with_command_hint(
    error: click.exceptions.NoSuchCommand, argv: Sequence[str]
) -> click.exceptions.UsageError:
    """An unknown subcommand of a group that is not a :class:`HintingGroup` (a command group
    of a plugin or of another module) gets the same hint from the words typed after it."""
    group = error.ctx.command if error.ctx is not None else None
    if not isinstance(group, click.Group) or isinstance(group, HintingGroup):
        return error
    words = list(argv)
    start = words.index(error.command_name) if error.command_name in words else len(words)
    return HintingGroup.no_such_command(group, error.ctx, words[start:]) or error


if __name__ == "__main__":
    sys.exit(main())
