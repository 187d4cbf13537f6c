"""``modelops registry …``: list, versions, show, register, alias, rollback, lineage, audit.

Tables are printed with rich (imported only when one is printed); heavy imports stay inside
the commands so ``modelops --help`` stays light.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from modelops_core.cli.context import state

if TYPE_CHECKING:
    from modelops_core.registry.model_registry import ModelRegistry


@contextmanager
def _registry() -> Iterator[ModelRegistry]:
    """The registry of the chosen configuration; a ModelOpsError becomes a one-line error."""
    from modelops_core.errors import ModelOpsError
    from modelops_core.registry.model_registry import ModelRegistry

    try:
        with ModelRegistry(state().runtime()) as opened:
            yield opened
    except ModelOpsError as exc:
        _fail(exc)


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    return datetime.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from modelops_core.cli.render import print_table

    print_table(title, columns, [["" if cell is None else cell for cell in row] for row in rows])


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _fail(exc: Exception) -> NoReturn:
    raise click.ClickException(str(exc)) from exc


def _pairs(items: Sequence[str], option: str) -> dict[str, Any]:
    """``key=value`` options; a value that parses as JSON (``0.9``, ``true``) is kept typed."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=option)
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


def _json_option(text: str | None, option: str) -> dict[str, Any] | None:
    """A JSON object given inline or as the path of a ``.json`` file."""
    if text is None:
        return None
    source = Path(text)
    raw = source.read_text(encoding="utf-8") if source.is_file() else text
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise click.BadParameter(
            f"not a JSON object or a JSON file: {exc}", param_hint=option
        ) from None
    if not isinstance(value, dict):
        raise click.BadParameter("expected a JSON object", param_hint=option)
    return value


@click.group("registry")
def registry() -> None:
    """Model registry: versions, aliases, rollback, lineage and the audit log."""


@registry.command("list")
def list_models() -> None:
    """List registered models with their latest version and aliases."""
    with _registry() as opened:
        rows = []
        for name in opened.list_models():
            versions = opened.list_versions(name)
            aliases = opened.aliases(name)
            shown = ", ".join(f"{a}={v}" for a, v in sorted(aliases.items()))
            rows.append([name, len(versions), versions[-1] if versions else "", shown])
    _table("models", ["name", "versions", "latest", "aliases"], rows)


@registry.command("versions")
@click.argument("name")
def versions(name: str) -> None:
    """List the versions of NAME in version order."""
    with _registry() as opened:
        aliases = opened.aliases(name)
        records = [opened.get_version(name, v) for v in opened.list_versions(name)]
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
    _table(name, ["version", "status", "aliases", "artifact", "created", "by"], rows)


@registry.command("show")
@click.argument("name")
@click.argument("version", required=False)
@click.option("--alias", "alias_name", help="show the version this alias points to")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def show(name: str, version: str | None, alias_name: str | None, as_json: bool) -> None:
    """Show one version (default: the latest): artifact, metadata, tags, lineage."""
    import attrs

    with _registry() as opened:
        record = opened.get_version(name, version, alias=alias_name)
        lineage = opened.lineage(name, record.version)
        aliases = sorted(a for a, v in opened.aliases(name).items() if v == record.version)
    document: dict[str, Any] = {
        "name": record.name,
        "version": record.version,
        "status": record.status,
        "aliases": aliases,
        "created_at": _when(record.created_at),
        "created_by": record.created_by,
        "artifact": attrs.asdict(record.artifact) if record.artifact else None,
        "serializer": record.serializer or None,
        "metadata": dict(record.metadata),
        "tags": dict(record.tags),
        "lineage": {k: v for k, v in attrs.asdict(lineage).items() if k not in ("name", "version")},
    }
    if as_json:
        click.echo(json.dumps(document, indent=2, default=str))
        return
    rows = [[key, _cell(value)] for key, value in document.items() if value not in (None, {}, [])]
    _table(f"{record.name} {record.version}", ["field", "value"], rows)


@registry.command("register")
@click.argument("name")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--version", "version", help="explicit version (default: auto-increment)")
@click.option("--metadata", help="JSON object, inline or a .json file")
@click.option("--evaluation", help="evaluation results: JSON object, inline or a .json file")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="repeatable")
@click.option(
    "--lineage",
    "lineage",
    multiple=True,
    metavar="KEY=VALUE",
    help="dataset_fingerprint, training_job, base_model, provider, parent_version, run_id",
)
@click.option("--alias", "alias_name", help="point this alias at the new version")
def register(
    name: str,
    path: Path,
    version: str | None,
    metadata: str | None,
    evaluation: str | None,
    tags: tuple[str, ...],
    lineage: tuple[str, ...],
    alias_name: str | None,
) -> None:
    """Register the file or folder PATH as a new version of NAME."""
    with _registry() as opened:
        stored = opened.register(
            name,
            version,
            model_path=path,
            metadata=_json_option(metadata, "--metadata"),
            evaluation=_json_option(evaluation, "--evaluation"),
            tags=_pairs(tags, "--tag"),
            lineage=_pairs(lineage, "--lineage"),
        )
        if alias_name:
            opened.set_alias(name, alias_name, stored.version)
    digest = stored.artifact.digest if stored.artifact else ""
    moved = f", {name}@{alias_name} -> {stored.version}" if alias_name else ""
    click.echo(f"registered {name} {stored.version} ({digest}){moved}")


@registry.group("alias")
def alias() -> None:
    """Set, get or delete an alias (production, staging …)."""


@alias.command("set")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version")
def alias_set(name: str, alias_name: str, version: str) -> None:
    """Point ALIAS of NAME at VERSION."""
    with _registry() as opened:
        previous = opened.set_alias(name, alias_name, version)
    moved = f" (was {previous})" if previous else ""
    click.echo(f"{name}@{alias_name} -> {version}{moved}")


@alias.command("get")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
def alias_get(name: str, alias_name: str) -> None:
    """Print the version ALIAS of NAME points to."""
    with _registry() as opened:
        click.echo(opened.get_by_alias(name, alias_name).version)


@alias.command("delete")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
def alias_delete(name: str, alias_name: str) -> None:
    """Remove ALIAS from NAME."""
    with _registry() as opened:
        opened.delete_alias(name, alias_name)
    click.echo(f"deleted {name}@{alias_name}")


@alias.command("history")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
def alias_history(name: str, alias_name: str) -> None:
    """Show every move of ALIAS of NAME, oldest first."""
    with _registry() as opened:
        events = opened.alias_history(name, alias_name)
    rows = [[_when(e.at), e.by, e.action, e.previous, e.version] for e in events]
    _table(f"{name}@{alias_name}", ["when", "who", "action", "from", "to"], rows)


@registry.command("rollback")
@click.argument("name")
@click.option("--alias", "alias_name", default="production", show_default=True)
def rollback(name: str, alias_name: str) -> None:
    """Move ALIAS of NAME back to the version that held it before."""
    with _registry() as opened:
        version = opened.rollback(name, alias_name)
    click.echo(f"{name}@{alias_name} -> {version}")


@registry.command("lineage")
@click.argument("name")
@click.argument("version")
def lineage(name: str, version: str) -> None:
    """Where VERSION of NAME came from: dataset, job, base model, provider, evaluation."""
    with _registry() as opened:
        found = opened.lineage(name, version)
    rows: list[list[Any]] = [
        ["dataset fingerprint", found.dataset_fingerprint],
        ["training job", found.training_job],
        ["base model", found.base_model],
        ["provider", found.provider],
        ["parent version", found.parent_version],
        ["run", found.run_id],
    ]
    for metric, value in sorted((found.evaluation or {}).items()):
        rows.append([f"evaluation: {metric}", _cell(value)])
    rows += [[key, _cell(value)] for key, value in sorted(found.extra.items())]
    _table(f"lineage of {found.name} {found.version}", ["", "value"], rows)


@registry.command("audit")
@click.argument("name", required=False)
@click.option("--limit", default=50, show_default=True, help="newest entries to show")
def audit(name: str | None, limit: int) -> None:
    """Show who changed what and when (of model NAME, or of every model)."""
    with _registry() as opened:
        entries = opened.audit(name, limit)
    rows = [
        [_when(e.at), e.actor, e.action, e.name, e.version, json.dumps(dict(e.details))]
        for e in entries
    ]
    _table("audit log", ["when", "who", "action", "model", "version", "details"], rows)
