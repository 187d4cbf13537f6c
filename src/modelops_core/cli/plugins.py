"""``modelops plugins list`` and ``modelops plugins doctor``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state
from modelops_core.cli.lazy import HintingGroup

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice, Config
    from modelops_core.plugins.kinds import Kind
    from modelops_core.runtime import Runtime


@click.group("plugins", cls=HintingGroup)
def plugins_group() -> None:
    """Inspect installed plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """List loaded plugins and the components each registers."""
    from modelops_core.cli.render import print_json, print_table

    runtime = state().runtime()
    rows: list[dict[str, Any]] = []
    for info in runtime.plugins:
        components = runtime.components.by_plugin(info.name)
        rows.append(
            {
                "plugin": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "components": {kind.plural: names for kind, names in components.items()},
            }
        )
    if as_json:
        print_json(rows)
        return
    print_table(
        "Plugins",
        ["plugin", "distribution", "version", "components"],
        [
            [
                row["plugin"],
                row["distribution"] or "-",
                row["version"] or "-",
                "\n".join(
                    f"{kind}: {', '.join(names)}" for kind, names in row["components"].items()
                )
                or "-",
            ]
            for row in rows
        ],
        prose=["components"],
    )


@plugins_group.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def doctor_command(as_json: bool) -> None:
    """Load every plugin, check every configured component, and report every problem
    (exit code 1 when there is one)."""
    from modelops_core.cli.render import print_json, print_table

    cli_state = state()
    config = cli_state.config()
    import warnings

    from modelops_core.plugins.discovery import PluginWarning
    from modelops_core.runtime import Runtime

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)  # listed in the problems table
        runtime = Runtime(config, strict=False)
    problems = [(problem.plugin, str(problem)) for problem in runtime.problems]
    for where, choice, kind in _configured_components(config):
        message = _check_choice(runtime, choice, kind)
        if message:
            problems.append((where, message))
    unavailable = [
        (where, message)
        for where, choice, kind in _default_components(config)
        if (message := _check_choice(runtime, choice, kind))
    ]
    if as_json:
        print_json(
            {
                "plugins": [
                    {"plugin": i.name, "distribution": i.distribution, "version": i.version}
                    for i in runtime.plugins
                ],
                "unavailable_defaults": [{"where": w, "problem": m} for w, m in unavailable],
                "problems": [{"where": w, "problem": m} for w, m in problems],
            }
        )
        if problems:
            raise click.exceptions.Exit(1)
        return
    print_table(
        "Plugins loaded",
        ["plugin", "distribution", "version"],
        [[i.name, i.distribution or "-", i.version or "-"] for i in runtime.plugins],
    )
    if unavailable:
        print_table(
            "Embedded defaults not available (a problem only for the commands that use them)",
            ["where", "problem"],
            unavailable,
            prose=["problem"],
        )
    if problems:
        print_table("Problems", ["where", "problem"], problems, prose=["problem"])
        raise click.exceptions.Exit(1)
    click.secho("No problems found.", fg="green")


def _store_sections(config: Config) -> list[tuple[str, ComponentChoice, Kind]]:
    from modelops_core.plugins.kinds import Kind

    return [
        ("registry", config.registry, Kind.REGISTRY_BACKEND),
        ("tracking", config.tracking, Kind.REGISTRY_BACKEND),
        ("artifacts", config.artifacts, Kind.ARTIFACT_STORE),
        ("features", config.features, Kind.FEATURE_STORE),
        ("engine", config.engine, Kind.ENGINE),
    ]


def _default_components(config: Config) -> list[tuple[str, ComponentChoice, Kind]]:
    """The embedded-default stores the file leaves unset (no engine plugin exists yet)."""
    return [
        (f"[{key}] (embedded default {choice.name!r})", choice, kind)
        for key, choice, kind in _store_sections(config)
        if key not in config.raw and key != "engine"
    ]


def _configured_components(config: Config) -> list[tuple[str, ComponentChoice, Kind]]:
    from modelops_core.plugins.kinds import Kind

    chosen: list[tuple[str, ComponentChoice, Kind]] = [
        (f"[{key}]", choice, kind)
        for key, choice, kind in _store_sections(config)
        if key in config.raw
    ]
    chosen += [(f"[providers.{n}]", c, Kind.PROVIDER) for n, c in config.providers.items()]
    chosen += [("[evaluation] metrics", c, Kind.METRIC) for c in config.metrics]
    chosen += [("[sanitize] pipeline", c, Kind.SANITIZER) for c in config.sanitize]
    chosen += [("[optimize] optimizers", c, Kind.OPTIMIZER) for c in config.optimizers]
    chosen += [("[monitoring] drift_tests", c, Kind.DRIFT_TEST) for c in config.drift_tests]
    chosen += [("[alerts] sinks", c, Kind.ALERT_SINK) for c in config.alert_sinks]
    return chosen


def _check_choice(runtime: Runtime, choice: ComponentChoice, kind: Kind) -> str:
    """An empty string when ``choice`` names a component whose factory accepts its options."""
    from modelops_core.errors import ModelOpsError
    from modelops_core.plugins.options import check_options

    table = runtime.components[kind]
    try:
        spec = table.get(choice.name)
        check_options(
            spec.load(),
            choice.options,
            label=f"{kind} {choice.name!r} (plugin {spec.plugin!r})",
            where=choice.where,
            reserved=choice.reserved,
        )
    except ModelOpsError as exc:
        return str(exc)
    return ""
