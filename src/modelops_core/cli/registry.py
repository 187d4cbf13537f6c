"""``modelops registry …``: list, versions, show, register, alias, rollback, lineage, audit,
import-mlflow, export-mlflow.

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
from modelops_core.cli.lazy import HintingGroup

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


def _table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    prose: Sequence[str] = (),
) -> None:
    from modelops_core.cli.render import print_table

    cells = [["" if cell is None else cell for cell in row] for row in rows]
    print_table(title, columns, cells, prose=prose)


def _json(value: Any) -> None:
    from modelops_core.cli.render import print_json

    print_json(value)


_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        from modelops_core.cli.render import significant

        return significant(value)
    return json.dumps(value, sort_keys=True, default=str)


def _fail(exc: Exception) -> NoReturn:
    from modelops_core.cli.main import fail

    fail(exc)


#: lists longer than this are summarized by ``registry show`` (``[1000 values, 0.01 .. 0.99]``).
_LIST_SHOWN = 8


def summarize(value: Any, key: str = "") -> list[tuple[str, str]]:
    """``(dotted key, text)`` rows of a nested value: tables flattened, floats to 4 significant
    digits, lists of more than 8 items (curves, per-example arrays) as their length and range."""
    from modelops_core.cli.render import significant

    if isinstance(value, dict) and value:
        rows: list[tuple[str, str]] = []
        for name, item in value.items():
            rows += summarize(item, f"{key}.{name}" if key else str(name))
        return rows
    if isinstance(value, list | tuple) and len(value) > _LIST_SHOWN:
        numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) == len(value):
            low, high = significant(min(numbers)), significant(max(numbers))
            return [(key, f"[{len(value)} values, {low} .. {high}] (--full shows them)")]
        return [(key, f"[{len(value)} items] (--full shows them)")]
    if isinstance(value, list | tuple):
        return [(key, "[" + ", ".join(_short(item) for item in value) + "]")]
    return [(key, _short(value))]


def _short(value: Any) -> str:
    from modelops_core.cli.render import significant

    if isinstance(value, float):
        return significant(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _read_as(name: str, typed: str, found: str) -> None:
    """Say when the version typed is read as another text (``v1`` is version ``1``)."""
    if typed != found:
        click.secho(
            f"note: version {typed!r} of {name} is read as {found!r} (versions are dotted "
            "numbers; a leading 'v' and trailing '.0' parts are ignored). An alias is "
            "given with --alias.",
            fg="yellow",
            err=True,
        )


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
    raw = text
    if not text.lstrip().startswith("{"):  # a path (a long inline object is no file name)
        try:
            raw = Path(text).read_text(encoding="utf-8")
        except OSError:  # not a readable file: parsed as JSON below, which names the problem
            raw = text
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise click.BadParameter(
            f"not a JSON object or a JSON file: {exc}", param_hint=option
        ) from None
    if not isinstance(value, dict):
        raise click.BadParameter("expected a JSON object", param_hint=option)
    return value


@click.group("registry", cls=HintingGroup)
def registry() -> None:
    """Model registry: versions, aliases, rollback, lineage and the audit log."""


@registry.command("list")
@_JSON
def list_models(as_json: bool) -> None:
    """List registered models with their latest version and aliases."""
    with _registry() as opened:
        models: list[dict[str, Any]] = []
        for name in opened.list_models():
            versions = opened.list_versions(name)
            models.append(
                {
                    "name": name,
                    "versions": len(versions),
                    "latest": versions[-1] if versions else None,
                    "aliases": dict(sorted(opened.aliases(name).items())),
                }
            )
    if as_json:
        _json(models)
        return
    rows = [
        [
            m["name"],
            m["versions"],
            m["latest"],
            ", ".join(f"{a}={v}" for a, v in m["aliases"].items()),
        ]
        for m in models
    ]
    _table("models", ["name", "versions", "latest", "aliases"], rows, prose=["aliases"])


@registry.command("versions")
@click.argument("name")
@_JSON
def versions(name: str, as_json: bool) -> None:
    """List the versions of NAME in version order."""
    with _registry() as opened:
        aliases = opened.aliases(name)
        records = [opened.get_version(name, v) for v in opened.list_versions(name)]
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(version, []).append(alias)
    if as_json:
        _json(
            [
                {
                    "version": r.version,
                    "status": r.status,
                    "aliases": sorted(by_version.get(r.version, [])),
                    "artifact": r.artifact.digest if r.artifact else None,
                    "created_at": _when(r.created_at),
                    "created_by": r.created_by,
                }
                for r in records
            ]
        )
        return
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
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (every value, unrounded) instead of a table.")  # fmt: skip
@click.option("--full", is_flag=True, help="Show curves and arrays in full, floats unrounded.")
def show(name: str, version: str | None, alias_name: str | None, as_json: bool, full: bool) -> None:
    """Show one version (default: the latest): artifact, metadata, tags, lineage.

    Curves and arrays are summarized as their length and range, floats shown to 4 significant
    digits; --full shows every value.
    """
    import attrs

    with _registry() as opened:
        record = opened.get_version(name, version, alias=alias_name)
        if version is not None:
            _read_as(name, version, record.version)
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
        _json(document)
        return
    shown = {key: value for key, value in document.items() if value not in (None, {}, [])}
    if full:
        rows = [[key, _cell(value)] for key, value in shown.items()]
    else:
        rows = [list(row) for key, value in shown.items() for row in summarize(value, key)]
    _table(f"{record.name} {record.version}", ["field", "value"], rows, prose=["value"])


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
        _read_as(name, version, opened.get_version(name, version).version)
        previous = opened.set_alias(name, alias_name, version)
    moved = f" (was {previous})" if previous else ""
    click.echo(f"{name}@{alias_name} -> {version}{moved}")


@alias.command("get")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@_JSON
def alias_get(name: str, alias_name: str, as_json: bool) -> None:
    """Print the version ALIAS of NAME points to."""
    with _registry() as opened:
        version = opened.get_by_alias(name, alias_name).version
    if as_json:
        _json({"name": name, "alias": alias_name, "version": version})
    else:
        click.echo(version)


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
@_JSON
def alias_history(name: str, alias_name: str, as_json: bool) -> None:
    """Show every move of ALIAS of NAME, oldest first."""
    import attrs

    with _registry() as opened:
        events = opened.alias_history(name, alias_name)
    if as_json:
        _json([{**attrs.asdict(e), "at": _when(e.at)} for e in events])
        return
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
@_JSON
def lineage(name: str, version: str, as_json: bool) -> None:
    """Where VERSION of NAME came from: dataset, job, base model, provider, evaluation."""
    import attrs

    with _registry() as opened:
        found = opened.lineage(name, version)
    _read_as(name, version, found.version)
    if as_json:
        _json(attrs.asdict(found))
        return
    rows: list[list[Any]] = [
        ["dataset fingerprint", found.dataset_fingerprint],
        ["training job", found.training_job],
        ["base model", found.base_model],
        ["provider", found.provider],
        ["parent version", found.parent_version],
        ["run", found.run_id],
    ]
    for metric, value in sorted((found.evaluation or {}).items()):
        rows += [[f"evaluation: {key}", text] for key, text in summarize(value, metric)]
    rows += [[key, _cell(value)] for key, value in sorted(found.extra.items())]
    _table(f"lineage of {found.name} {found.version}", ["", "value"], rows, prose=["value"])


@registry.command("audit")
@click.argument("name", required=False)
@click.option("--limit", default=50, show_default=True, help="newest entries to show")
@_JSON
def audit(name: str | None, limit: int, as_json: bool) -> None:
    """Show who changed what and when (of model NAME, or of every model)."""
    import attrs

    with _registry() as opened:
        entries = opened.audit(name, limit)
    if as_json:
        _json([{**attrs.asdict(e), "at": _when(e.at)} for e in entries])
        return
    rows = [
        [_when(e.at), e.actor, e.action, e.name, e.version, json.dumps(dict(e.details))]
        for e in entries
    ]
    columns = ["when", "who", "action", "model", "version", "details"]
    _table("audit log", columns, rows, prose=["details"])


# --- MLflow in and out ---------------------------------------------------------------------------


@registry.command("import-mlflow")
@click.option(
    "--tracking-uri", required=True,
    help="the MLflow store: sqlite:///mlflow.db, postgresql://…, http://host:5000, ./mlruns",
)  # fmt: skip
@click.option("--model", "model_name", help="import only this registered model")
@click.option("--registry-uri", help="MLflow's registry URI when it is not the tracking URI")
@_JSON
def import_mlflow(
    tracking_uri: str, model_name: str | None, registry_uri: str | None, as_json: bool
) -> None:
    """Import MLflow's registered models: versions, aliases, tags, the source run's params and
    metrics, artifacts, lineage to the run. A version whose artifacts are missing is imported
    without them (a warning each)."""
    import warnings

    from modelops_core.registry.mlflow_bridge import import_mlflow as run_import

    with _registry() as opened, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report carries them; printed once below
        report = run_import(opened, tracking_uri, model=model_name, registry_uri=registry_uri)
    for message in report.warnings:
        click.secho(f"warning: {message}", fg="yellow", err=True)
    if as_json:
        _json(report.to_json())
        return
    rows = [
        [v.name, v.version, v.mlflow_name, v.run_id, "copied" if v.artifacts else "missing",
         v.status]
        for v in report.versions
    ]  # fmt: skip
    _table(f"imported from {report.tracking_uri}",
           ["name", "version", "mlflow model", "run", "artifacts", "status"], rows)  # fmt: skip
    for name, alias_name, version in report.aliases:
        click.echo(f"{name}@{alias_name} -> {version}")


@registry.command("export-mlflow")
@click.argument("name")
@click.argument("version")
@click.argument("directory", type=click.Path(path_type=Path))
@_JSON
def export_mlflow(name: str, version: str, directory: Path, as_json: bool) -> None:
    """Write VERSION of NAME (a scikit-learn or ONNX model) as an MLflow model folder DIRECTORY
    that mlflow.pyfunc.load_model loads."""
    from modelops_core.registry.mlflow_bridge import export_mlflow as run_export

    with _registry() as opened:
        found = opened.get_version(name, version).version
        _read_as(name, version, found)
        written = run_export(opened, name, found, directory)
    if as_json:
        _json({"name": name, "version": found, "directory": str(written.resolve())})
    else:
        click.echo(f"exported {name} {found} to {written} (MLmodel)")
