"""``modelops traffic set/show/clear``: the traffic split of a model's aliases."""

from __future__ import annotations

import click

from modelops_core.cli.context import state
from modelops_core.cli.lazy import HintingGroup


@click.group("traffic", cls=HintingGroup)
def traffic_group() -> None:
    """Split a model's requests between its aliases (a running server applies a change
    within a second)."""


@traffic_group.command("set")
@click.argument("name")
@click.argument("weights", nargs=-1, required=True, metavar="ALIAS=WEIGHT...")
@click.option("--shadow", "shadows", multiple=True, metavar="ALIAS",
              help="An alias that gets a mirrored copy of every request (logged, never "
              "returned); repeatable.")  # fmt: skip
@click.option("--salt", default=None,
              help="Mixed into each unit's hash (default: the model name); a new salt "
              "reshuffles the units.")  # fmt: skip
def set_command(
    name: str, weights: tuple[str, ...], shadows: tuple[str, ...], salt: str | None
) -> None:
    """Send WEIGHT percent of NAME's requests to each ALIAS (the weights sum to 100), e.g.

    \b
    modelops traffic set ticket-router production=80 candidate=20
    """
    from modelops_core.errors import ModelOpsError
    from modelops_core.serving.traffic import TrafficTable, parse_weights

    try:
        runtime = state().runtime()
        from modelops_core.registry.model_registry import _default_actor

        with TrafficTable(runtime) as table:
            split = table.set(name, parse_weights(weights), shadows=shadows, salt=salt,
                              actor=_default_actor(runtime.environ))  # fmt: skip
    except ModelOpsError as exc:
        from modelops_core.cli.main import fail

        fail(exc)
    shown = " ".join(f"{alias}={weight:g}" for alias, weight in split.weights)
    extra = f" shadow: {', '.join(split.shadows)}" if split.shadows else ""
    click.echo(f"{name}: {shown}{extra}")


@traffic_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_command(name: str, as_json: bool) -> None:
    """Show NAME's split, where each alias points, and the salt."""
    from modelops_core.errors import ModelOpsError
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.serving.traffic import TrafficTable

    try:
        runtime = state().runtime()
        with TrafficTable(runtime) as table:
            split = table.get(name)
        with ModelRegistry(runtime) as registry:
            aliases = registry.aliases(name)
    except ModelOpsError as exc:
        from modelops_core.cli.main import fail

        fail(exc)
    if as_json:
        from modelops_core.cli.render import print_json

        print_json({**split.to_dict(), "aliases": aliases})
        return
    from modelops_core.cli.render import print_table

    rows = [[alias, f"{weight:g}%", aliases.get(alias, "(no such alias)")]
            for alias, weight in split.weights]  # fmt: skip
    rows += [[alias, "shadow", aliases.get(alias, "(no such alias)")] for alias in split.shadows]
    print_table(f"traffic of {name} (salt {split.salt!r})", ["alias", "weight", "version"], rows)


@traffic_group.command("clear")
@click.argument("name")
def clear_command(name: str) -> None:
    """Remove NAME's split (back to 100% production)."""
    from modelops_core.errors import ModelOpsError
    from modelops_core.serving.traffic import TrafficTable

    try:
        with TrafficTable(state().runtime()) as table:
            table.clear(name)
    except ModelOpsError as exc:
        from modelops_core.cli.main import fail

        fail(exc)
    click.echo(f"{name}: 100% production")
