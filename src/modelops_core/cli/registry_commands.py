"""``modelops registry …``: list, versions, show, alias, rollback, audit (tables via rich).

The integrator adds :data:`registry` to the main group. Heavy imports stay inside commands.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from modelops_core.registry import ModelRegistry


def _registry() -> ModelRegistry:
    from modelops_core.registry import ModelRegistry

    return ModelRegistry()


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from exc


@click.group("registry")
def registry() -> None:
    """Model registry: versions, aliases, rollback and the audit log."""


@registry.command("list")
def list_models() -> None:
    """List registered models with their latest version and aliases."""
    from modelops_core.errors import ModelOpsError

    try:
        with _registry() as opened:
            rows = []
            for name in opened.list_models():
                versions = opened.list_versions(name)
                aliases = opened.aliases(name)
                shown = ", ".join(f"{a}={v}" for a, v in sorted(aliases.items()))
                rows.append([name, len(versions), versions[-1] if versions else "", shown])
    except ModelOpsError as exc:
        _fail(exc)
    _print_table("models", ["name", "versions", "latest", "aliases"], rows)


@registry.command("versions")
@click.argument("name")
def versions(name: str) -> None:
    """List the versions of NAME in version order."""
    from modelops_core.errors import ModelOpsError

    try:
        with _registry() as opened:
            aliases = opened.aliases(name)
            records = [opened.get_version(name, v) for v in opened.list_versions(name)]
    except ModelOpsError as exc:
        _fail(exc)
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(version, []).append(alias)
    rows = [
        [
            r.version,
            r.status,
            ", ".join(sorted(by_version.get(r.version, []))),
            r.artifact.digest[:19] if r.artifact else "",
            _when(r.created_at),
            r.created_by,
        ]
        for r in records
    ]
    _print_table(name, ["version", "status", "aliases", "artifact", "created", "by"], rows)


@registry.command("show")
@click.argument("name")
@click.argument("version")
def show(name: str, version: str) -> None:
    """Show one version: artifact, metadata, tags and lineage (as JSON)."""
    import attrs

    from modelops_core.errors import ModelOpsError

    try:
        with _registry() as opened:
            record = opened.get_version(name, version)
            lineage = opened.lineage(name, record.version)
    except ModelOpsError as exc:
        _fail(exc)
    document = {
        "name": record.name,
        "version": record.version,
        "status": record.status,
        "created_at": _when(record.created_at),
        "created_by": record.created_by,
        "artifact": attrs.asdict(record.artifact) if record.artifact else None,
        "serializer": record.serializer or None,
        "metadata": dict(record.metadata),
        "tags": dict(record.tags),
        "lineage": {k: v for k, v in attrs.asdict(lineage).items() if k not in ("name", "version")},
    }
    click.echo(json.dumps(document, indent=2, sort_keys=False, default=str))


@registry.group("alias")
def alias() -> None:
    """Set, get or delete an alias (production, staging …)."""


@alias.command("set")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version")
def alias_set(name: str, alias_name: str, version: str) -> None:
    """Point ALIAS of NAME at VERSION."""
    from modelops_core.errors import ModelOpsError

    try:
        with _registry() as opened:
            previous = opened.set_alias(name, alias_name, version)
    except ModelOpsError as exc:
        _fail(exc)
    moved = f" (was {previous})" if previous else ""
    click.echo(f"{name}@{alias_name} -> {version}{moved}")


@alias.command("get")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
def alias_get(name: str, alias_name: str) -> None:
    """Print the version ALIAS of NAME points to."""
    from modelops_core.errors import ModelOpsError

    try:
        with _registry() as opened:
            click.echo(opened.get_by_alias(name, alias_name).version)
    except ModelOpsError as exc:
        _fail(exc)


@alias.command("delete")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
def alias_delete(name: str, alias_name: str) -> None:
    """Remove ALIAS from NAME."""
    from modelops_core.errors import ModelOpsError

    try:
        with _registry() as opened:
            opened.delete_alias(name, alias_name)
    except ModelOpsError as exc:
        _fail(exc)
    click.echo(f"deleted {name}@{alias_name}")


@registry.command("rollback")
@click.argument("name")
@click.option("--alias", "alias_name", default="production", show_default=True)
def rollback(name: str, alias_name: str) -> None:
    """Move ALIAS of NAME back to the version that held it before."""
    from modelops_core.errors import ModelOpsError

    try:
        with _registry() as opened:
            version = opened.rollback(name, alias_name)
    except ModelOpsError as exc:
        _fail(exc)
    click.echo(f"{name}@{alias_name} -> {version}")


@registry.command("audit")
@click.argument("name", required=False)
@click.option("--limit", default=50, show_default=True, help="newest entries to show")
def audit(name: str | None, limit: int) -> None:
    """Show who changed what and when (of model NAME, or of every model)."""
    from modelops_core.errors import ModelOpsError

    try:
        with _registry() as opened:
            entries = opened.audit(name, limit)
    except ModelOpsError as exc:
        _fail(exc)
    rows = [
        [_when(e.at), e.actor, e.action, e.name, e.version, json.dumps(dict(e.details))]
        for e in entries
    ]
    _print_table("audit log", ["when", "who", "action", "model", "version", "details"], rows)
