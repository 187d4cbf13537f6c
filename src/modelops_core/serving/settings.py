"""The ``[serving]`` table of the configuration, read into :class:`ServingSettings`.

.. code-block:: toml

    [serving]
    request_log = "sql"        # "sql" (default), "parquet" or "none"
    database = "postgresql://…" # traffic table and SQL request log; default: the registry's
                               # PostgreSQL URL, else <home>/serving.db (SQLite)
    parquet_dir = "requests"   # request_log = "parquet": a folder (relative to the home)
    sample = 1.0               # share of requests whose input and output are logged
    sanitize = false           # run [sanitizers] pipeline over logged inputs and outputs
    unit_field = "customer_id" # a request field holding the unit id (after X-Modelops-Unit
                               # and the OpenAI `user` field)
    provider_timeout = 30.0    # seconds a provider call may take (then 504)
    flush_interval = 0.2       # seconds between request-log writes (at most 1)
    poll_interval = 0.5        # seconds between reads of the traffic table (at most 1)
    token = { "$env" = "MODELOPS_SERVE_TOKEN" }  # required when bound off 127.0.0.1
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.serving.errors import ServingConfigError

if TYPE_CHECKING:
    from modelops_core.config import Config

__all__ = ["REQUEST_LOGS", "ServingSettings", "serving_settings"]

REQUEST_LOGS = ("sql", "parquet", "none")
_KEYS = (
    "request_log", "database", "parquet_dir", "sample", "sanitize", "unit_field",
    "provider_timeout", "flush_interval", "poll_interval", "token",
)  # fmt: skip


@attrs.frozen
class ServingSettings:
    """What ``modelops serve`` and the traffic table use (see the module docstring)."""

    home: Path
    database: str
    request_log: str = "sql"
    parquet_dir: Path | None = None
    sample: float = 1.0
    sanitize: bool = False
    unit_field: str | None = None
    provider_timeout: float = 30.0
    flush_interval: float = 0.2
    poll_interval: float = 0.5
    token: str | None = attrs.field(default=None, repr=False)
    schema: str | None = None


def serving_settings(config: Config) -> ServingSettings:
    """The ``[serving]`` table of ``config``, checked; errors name the file and the key."""
    table = config.section("serving")
    where = f"{config.source} [serving]"
    for key in table:
        if key not in _KEYS:
            from modelops_core.errors import did_you_mean

            raise ServingConfigError(
                f"Unknown key {key!r} in {where}.{did_you_mean(key, _KEYS)} "
                f"Valid keys: {', '.join(_KEYS)}."
            )
    request_log = _text(table, "request_log", where, "sql")
    if request_log not in REQUEST_LOGS:
        raise ServingConfigError(
            f"{where} request_log = {request_log!r}: use one of {', '.join(REQUEST_LOGS)}."
        )
    home = Path(config.home)
    database, schema = _database(config, _text(table, "database", where, None), home)
    parquet = _text(table, "parquet_dir", where, "requests")
    return ServingSettings(
        home=home,
        database=database,
        schema=schema,
        request_log=request_log,
        parquet_dir=home / parquet,
        sample=_number(table, "sample", where, 1.0, 0.0, 1.0),
        sanitize=_flag(table, "sanitize", where),
        unit_field=_text(table, "unit_field", where, None),
        provider_timeout=_number(table, "provider_timeout", where, 30.0, 0.001, math.inf),
        flush_interval=_number(table, "flush_interval", where, 0.2, 0.001, 1.0),
        poll_interval=_number(table, "poll_interval", where, 0.5, 0.01, 1.0),
        token=_text(table, "token", where, None),
    )


def _database(config: Config, given: str | None, home: Path) -> tuple[str, str | None]:
    """The serving database: the one given, the registry's PostgreSQL, or SQLite in the home."""
    options: Mapping[str, Any] = config.registry.options
    schema = options.get("schema") if isinstance(options.get("schema"), str) else None
    if given:
        return given, schema
    url = options.get("url")
    if isinstance(url, str) and url.startswith(("postgresql://", "postgres://")):
        return url, schema
    return str(home / "serving.db"), None


def _text(table: Mapping[str, Any], key: str, where: str, default: str | None) -> Any:
    value = table.get(key, default)
    if value is not None and (not isinstance(value, str) or not value):
        raise ServingConfigError(f"{where} {key} must be a non-empty string, got {value!r}.")
    return value


def _flag(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ServingConfigError(f"{where} {key} must be true or false, got {value!r}.")
    return value


def _number(
    table: Mapping[str, Any], key: str, where: str, default: float, low: float, high: float
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        upper = "" if high == math.inf else f" and at most {high:g}"
        raise ServingConfigError(
            f"{where} {key} must be a number at least {low:g}{upper}, got {value!r}."
        )
    return float(value)
