"""``modelops config show`` and ``modelops config init``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelops_core.cli.context import state
from modelops_core.cli.lazy import HintingGroup

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice, Config

DEFAULT_CONFIG_TEMPLATE = """\
# modelops.toml: which backends modelops uses. Every table is optional; what is left out
# takes the embedded default shown here (SQLite + files under .modelops/, no server needed).
# A secret is written { env = "NAME" } and read from the environment variable NAME.

# Where the embedded stores live, relative to this file.
home = ".modelops"

[plugins]
# Plugins (entry-point names, see `modelops plugins list`) that are never imported.
disable = []
# Set to a list to import only those plugins (MODELOPS_LOAD_PLUGINS overrides it).
# load = ["modelops-metrics"]
# false: a broken plugin is reported and skipped instead of stopping the program.
strict = true

[registry]
# Model registry backend; other keys are the backend's options.
backend = "sql"
# url = "postgresql://user@127.0.0.1:5432/modelops"
# Refuse to register a model version without evaluation results.
require_evaluation = false

[tracking]
backend = "sql"

[artifacts]
store = "local"
# store = "s3"
# bucket = "models"
# endpoint_url = "http://127.0.0.1:9000"

[features]
store = "local"
# store = "redis"
# url = "redis://127.0.0.1:6379/0"

[engine]
name = "local"

[providers]
default = "local"
# [providers.openai]
# api_key = { env = "OPENAI_API_KEY" }

[evaluation]
# Metric names; a table gives options: { name = "f1", average = "macro" }.
metrics = []

[sanitize]
# Sanitizers applied in order, e.g. { name = "pii", strategy = "mask" }.
pipeline = []

[optimize]
optimizers = []

[monitoring]
drift_tests = []

[alerts]
# Where alerts go (modelops-alerts: "log", "webhook", "slack", "prometheus"), e.g.
# { name = "slack", url = { env = "SLACK_WEBHOOK_URL" } }.
sinks = []
# Seconds in which a repeated alert (same name and subject) is suppressed.
window = 3600

# Dollars per 1M tokens, for cost estimates; a key matches its model or every model whose name
# starts with it. training: fine-tuning (`finetune start`); input, output (per 1M tokens) and
# request (per call): `optimize benchmark`.
# [prices."<base model name>"]
# training = 3.0
# input = 0.15
# output = 0.6
# request = 0.0
"""


@click.group("config", cls=HintingGroup)
def config_group() -> None:
    """Show or create the configuration."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML.")
def show_command(as_json: bool) -> None:
    """Print the resolved configuration, secrets masked."""
    from modelops_core.cli.render import print_json

    config = state().config()
    document = config_document(config)
    if as_json:
        print_json(document)
        return
    click.echo(f"# resolved from {config.source}")
    click.echo(to_toml(document))


@config_group.command("init")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), default="modelops.toml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(path: Path, force: bool) -> None:
    """Write a commented default configuration file (modelops.toml)."""
    if path.exists() and not force:
        raise click.UsageError(f"{path} already exists; pass --force to overwrite it.")
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(DEFAULT_CONFIG_TEMPLATE, encoding="utf-8")
    temporary.replace(path)
    click.echo(f"Wrote {path}")


def config_document(config: Config) -> dict[str, Any]:
    """The resolved configuration as plain data, every secret replaced by ``"***"``."""
    from modelops_core.config import masked

    def choice(selector: str, chosen: ComponentChoice, key: str) -> dict[str, Any]:
        options = masked(dict(chosen.options), f"{key}.", config.secret_keys)
        return {selector: chosen.name, **options}

    def listed(items: tuple[ComponentChoice, ...], key: str) -> list[Any]:
        return [
            masked({"name": c.name, **c.options}, f"{key}.{i}.", config.secret_keys)
            if c.options
            else c.name
            for i, c in enumerate(items)
        ]

    providers: dict[str, Any] = {"default": config.default_provider}
    for name, provider in config.providers.items():
        providers[name] = masked(dict(provider.options), f"providers.{name}.", config.secret_keys)
    return {
        "home": str(config.home),
        "plugins": {
            "disable": list(config.plugins.disable),
            **({"load": list(config.plugins.load)} if config.plugins.load is not None else {}),
            "strict": config.plugins.strict,
        },
        "registry": {
            **choice("backend", config.registry, "registry"),
            "require_evaluation": config.require_evaluation,
        },
        "tracking": choice("backend", config.tracking, "tracking"),
        "artifacts": choice("store", config.artifacts, "artifacts"),
        "features": choice("store", config.features, "features"),
        "engine": choice("name", config.engine, "engine"),
        "providers": providers,
        "evaluation": {"metrics": listed(config.metrics, "evaluation.metrics")},
        "sanitize": {"pipeline": listed(config.sanitize, "sanitize.pipeline")},
        "optimize": {"optimizers": listed(config.optimizers, "optimize.optimizers")},
        "monitoring": {"drift_tests": listed(config.drift_tests, "monitoring.drift_tests")},
        "alerts": {
            "sinks": listed(config.alert_sinks, "alerts.sinks"),
            "window": config.alert_window,
        },
        "prices": {model: dict(rates) for model, rates in config.prices.items()},
    }


def to_toml(document: dict[str, Any]) -> str:
    """A small TOML writer for plain configuration data (tables, lists, scalars)."""
    lines: list[str] = []
    _write_table(document, [], lines)
    return "\n".join(lines).strip() + "\n"


def _write_table(table: dict[str, Any], path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if path and (scalars or not tables):
        lines.append("")
        lines.append(f"[{'.'.join(_key(p) for p in path)}]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables.items():
        _write_table(value, [*path, key], lines)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum()
    return key if bare else _value(key)


def _value(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))
