"""Configuration: ``modelops.toml`` (or ``[tool.modelops]`` in pyproject.toml) -> frozen Config.

Where the configuration comes from, in order:

1. the file named by ``MODELOPS_CONFIG`` (an error if it does not exist);
2. the nearest ``modelops.toml`` in the working directory or one of its parents;
3. the nearest ``pyproject.toml`` with a ``[tool.modelops]`` table;
4. the embedded default: everything under ``.modelops/`` in the working directory.

Relative paths (``home``) are taken relative to the configuration file's directory.
A value written ``{ env = "NAME" }`` is read from the environment variable ``NAME``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from modelops_core.errors import (
    ConfigFileError,
    ConfigTypeError,
    MissingSecretError,
    UnknownConfigKeyError,
    did_you_mean,
)

EMBEDDED_DEFAULT = "<embedded default>"
CONFIG_ENV = "MODELOPS_CONFIG"


def frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of ``value`` (the converter of every mapping field)."""
    return MappingProxyType(dict(value))


class Secret(str):
    """A string read from the environment; its ``repr`` never shows the value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"


@attrs.frozen
class ComponentChoice:
    """A component chosen by the configuration: its name, options and where it was chosen.

    :param reserved: keys of the same table the core reads itself (for typo hints).
    """

    name: str
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    where: str = EMBEDDED_DEFAULT
    reserved: tuple[str, ...] = ()


@attrs.frozen
class PluginSettings:
    """The ``[plugins]`` table.

    :param disable: plugins never imported.
    :param load: when set, only these plugins are imported.
    :param strict: False turns plugin errors into warnings (the plugin is skipped).
    """

    disable: tuple[str, ...] = ()
    load: tuple[str, ...] | None = None
    strict: bool = True


@attrs.frozen
class Config:
    """The resolved configuration of one runtime. Build it with :func:`load_config`."""

    source: str = EMBEDDED_DEFAULT
    home: Path = attrs.field(factory=lambda: Path(".modelops"), converter=Path)
    plugins: PluginSettings = PluginSettings()
    registry: ComponentChoice = ComponentChoice("sql", reserved=("backend",))
    require_evaluation: bool = False
    tracking: ComponentChoice = ComponentChoice("sql", reserved=("backend",))
    artifacts: ComponentChoice = ComponentChoice("local", reserved=("store",))
    features: ComponentChoice = ComponentChoice("local", reserved=("store",))
    engine: ComponentChoice = ComponentChoice("local", reserved=("name",))
    default_provider: str = "local"
    providers: Mapping[str, ComponentChoice] = attrs.field(factory=dict, converter=frozen_mapping)
    metrics: tuple[ComponentChoice, ...] = ()
    sanitize: tuple[ComponentChoice, ...] = ()
    #: ``[sanitizers] workers``: processes sharing a large input (None: chosen by its size).
    sanitize_workers: int | None = None
    optimizers: tuple[ComponentChoice, ...] = ()
    drift_tests: tuple[ComponentChoice, ...] = ()
    #: ``[alerts] sinks``: where ``modelops_on_alert`` calls go (log file, webhook, Slack …).
    alert_sinks: tuple[ComponentChoice, ...] = ()
    #: ``[alerts] window``: seconds in which a repeated alert (same name and subject) is
    #: suppressed.
    alert_window: float = 3600.0
    prices: Mapping[str, Mapping[str, float]] = attrs.field(factory=dict, converter=frozen_mapping)
    secret_keys: frozenset[str] = frozenset()
    raw: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping, repr=False)

    def section(self, name: str) -> Mapping[str, Any]:
        """The raw table ``[name]`` of a section another module owns (``finetune``,
        ``pipeline`` …), empty when the file does not set it."""
        if name not in OWNED_SECTIONS:
            raise KeyError(f"{name!r} is not an owned section; known: {', '.join(OWNED_SECTIONS)}")
        value = self.raw.get(name, {})
        return frozen_mapping(value) if isinstance(value, Mapping) else frozen_mapping({})

    def provider(self, name: str | None = None) -> ComponentChoice:
        """The provider ``name`` (default: ``[providers] default``) with its options."""
        chosen = name or self.default_provider
        found = self.providers.get(chosen)
        return found or ComponentChoice(chosen, where=f"{self.source} [providers.{chosen}]")


# --- finding and reading the file -------------------------------------------------------------


def find_config_file(start: Path | None = None) -> tuple[Path, bool] | None:
    """The configuration file to use and whether it is a pyproject.toml, or None."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigFileError(
                f"{CONFIG_ENV}={named!r} names a file that does not exist. "
                f"Create it (`modelops config init {named}`) or unset {CONFIG_ENV}."
            )
        return path, path.name == "pyproject.toml"
    directory = (start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / "modelops.toml"
        if candidate.is_file():
            return candidate, False
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and b"[tool.modelops" in pyproject.read_bytes():
            return pyproject, True
    return None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path``; unreadable or invalid files raise :class:`ConfigFileError` with the cause."""
    import tomllib  # only a configuration file needs the parser

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigFileError(
            f"Cannot read the configuration file {str(path)!r}: {exc.strerror or exc}. "
            "Check that it exists and is readable, or set MODELOPS_CONFIG to another file."
        ) from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f"The configuration file {str(path)!r} is not UTF-8 text ({exc.reason} at byte "
            f"{exc.start}). Save it as UTF-8."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(
            f"The configuration file {str(path)!r} is not valid TOML: {exc}. "
            "Fix the file at that line and column (see https://toml.io for the syntax)."
        ) from exc


def load_config(path: str | os.PathLike[str] | None = None, *, start: Path | None = None) -> Config:
    """Find, read and validate the configuration; with no file, the embedded default.

    :param path: an explicit file (``modelops.toml`` or a pyproject.toml).
    :param start: the directory to search from (default: the working directory).
    """
    if path is not None:
        file_path = Path(path)
        is_pyproject = file_path.name == "pyproject.toml"
    else:
        found = find_config_file(start)
        if found is None:
            return Config(home=(start or Path.cwd()) / ".modelops")
        file_path, is_pyproject = found
    document = read_toml(file_path)
    if is_pyproject:
        table = document.get("tool", {}).get("modelops")
        if table is None:
            raise ConfigFileError(
                f"{str(file_path)!r} has no [tool.modelops] table. Add one, or put the "
                "configuration in modelops.toml."
            )
        prefix = "tool.modelops."
    else:
        table, prefix = document, ""
    return parse_config(table, source=str(file_path), base=file_path.parent, key_prefix=prefix)


# --- validation --------------------------------------------------------------------------------


class _Reader:
    """Reads one configuration table with errors that name the file and the key.

    A plain class, not attrs: it lives for one :func:`parse_config` call, and creating an attrs
    class costs start-up time on every import of this module.
    """

    __slots__ = ("key_prefix", "secret_keys", "source")

    def __init__(self, source: str, key_prefix: str, secret_keys: set[str]) -> None:
        self.source = source
        self.key_prefix = key_prefix
        self.secret_keys = secret_keys

    def where(self, key: str) -> str:
        return f"{self.source} [{self.key_prefix}{key}]" if key else self.source

    def check_keys(self, table: Mapping[str, Any], allowed: Sequence[str], key: str) -> None:
        for name in table:
            if name not in allowed:
                dotted = f"{self.key_prefix}{key}.{name}" if key else f"{self.key_prefix}{name}"
                raise UnknownConfigKeyError(
                    f"Unknown configuration key {dotted!r} in {self.source}."
                    f"{did_you_mean(name, allowed)} Valid keys here: {', '.join(allowed)}."
                )

    def table(self, parent: Mapping[str, Any], name: str, key: str = "") -> Mapping[str, Any]:
        value = parent.get(name, {})
        dotted = f"{key}.{name}" if key else name
        if not isinstance(value, Mapping):
            raise self.type_error(dotted, "a table", value)
        return value

    def value(self, table: Mapping[str, Any], name: str, kind: type, key: str, default: Any) -> Any:
        value = table.get(name, default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if value is not default and not ok:
            raise self.type_error(f"{key}.{name}" if key else name, kind.__name__, value)
        return value

    def names(self, table: Mapping[str, Any], name: str, key: str) -> tuple[str, ...]:
        value = table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.type_error(f"{key}.{name}", "a list of strings", value)
        return tuple(value)

    def type_error(self, dotted: str, expected: str, value: Any) -> ConfigTypeError:
        shown = "***" if dotted in self.secret_keys else repr(value)
        return ConfigTypeError(
            f"Configuration key {self.key_prefix}{dotted!r} in {self.source} must be "
            f"{expected}, got {type(value).__name__} {shown}."
        )

    def choice(
        self, table: Mapping[str, Any], selector: str, default: str, key: str
    ) -> ComponentChoice:
        name = self.value(table, selector, str, key, default)
        options = {k: v for k, v in table.items() if k != selector}
        return ComponentChoice(name, options, self.where(key), reserved=(selector,))

    def choice_list(
        self, table: Mapping[str, Any], name: str, key: str
    ) -> tuple[ComponentChoice, ...]:
        """A list whose items are names or tables ``{ name = "...", option = ... }``."""
        items = table.get(name, [])
        if not isinstance(items, list):
            raise self.type_error(f"{key}.{name}", "a list", items)
        chosen = []
        for index, item in enumerate(items):
            where = f"{self.source} [{self.key_prefix}{key}.{name}][{index}]"
            if isinstance(item, str):
                chosen.append(ComponentChoice(item, {}, where, reserved=("name",)))
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                options = {k: v for k, v in item.items() if k != "name"}
                chosen.append(ComponentChoice(item["name"], options, where, reserved=("name",)))
            else:
                raise self.type_error(
                    f"{key}.{name}[{index}]", 'a name or a table with name = "..."', item
                )
        return tuple(chosen)


#: Top-level tables read (and checked key by key) by the module that owns them, not here:
#: ``Config.section(name)`` hands them over as read-only mappings.
OWNED_SECTIONS = ("finetune", "pipeline", "deploy", "serving")

_TOP_KEYS = (
    "home", "plugins", "registry", "tracking", "artifacts", "features", "engine",
    "providers", "evaluation", "sanitizers", "sanitize", "optimize", "monitoring", "prices",
    "alerts",
    *OWNED_SECTIONS,
)  # fmt: skip


def parse_config(
    table: Mapping[str, Any],
    *,
    source: str = EMBEDDED_DEFAULT,
    base: Path | None = None,
    key_prefix: str = "",
) -> Config:
    """Validate a parsed TOML table and build the frozen :class:`Config`.

    :param source: the file name used in error messages.
    :param base: the directory relative paths are taken from (default: working directory).
    :param key_prefix: ``"tool.modelops."`` when the table came from pyproject.toml.
    """
    secret_keys: set[str] = set()
    resolved = _resolve_secrets(table, source, "", secret_keys, key_prefix)
    reader = _Reader(source, key_prefix, secret_keys)
    reader.check_keys(resolved, _TOP_KEYS, "")

    plugins = reader.table(resolved, "plugins")
    reader.check_keys(plugins, ("disable", "load", "strict"), "plugins")
    load = reader.names(plugins, "load", "plugins") if "load" in plugins else None

    registry = dict(reader.table(resolved, "registry"))
    require_evaluation = reader.value(registry, "require_evaluation", bool, "registry", False)
    registry.pop("require_evaluation", None)
    registry_choice = reader.choice(registry, "backend", "sql", "registry")
    registry_choice = attrs.evolve(registry_choice, reserved=("backend", "require_evaluation"))

    providers = reader.table(resolved, "providers")
    default_provider = reader.value(providers, "default", str, "providers", "local")
    provider_choices = {}
    for name, options in providers.items():
        if name == "default":
            continue
        if not isinstance(options, Mapping):
            raise reader.type_error(f"providers.{name}", "a table of provider options", options)
        provider_choices[name] = ComponentChoice(name, options, reader.where(f"providers.{name}"))

    evaluation = reader.table(resolved, "evaluation")
    reader.check_keys(evaluation, ("metrics",), "evaluation")
    sanitize_key = "sanitize" if "sanitize" in resolved else "sanitizers"
    if "sanitize" in resolved and "sanitizers" in resolved:
        raise ConfigTypeError(
            f"{source}: both [sanitizers] and [sanitize] are set; keep one ([sanitizers])."
        )
    sanitize = reader.table(resolved, sanitize_key)
    reader.check_keys(sanitize, ("pipeline", "workers"), sanitize_key)
    sanitize_workers = sanitize.get("workers")
    if sanitize_workers is not None and (
        not isinstance(sanitize_workers, int)
        or isinstance(sanitize_workers, bool)
        or sanitize_workers < 1
    ):
        raise reader.type_error(
            f"{sanitize_key}.workers", "a whole number >= 1 (1: one process)", sanitize_workers
        )
    optimize = reader.table(resolved, "optimize")
    reader.check_keys(optimize, ("optimizers",), "optimize")
    monitoring = reader.table(resolved, "monitoring")
    reader.check_keys(monitoring, ("drift_tests",), "monitoring")
    alerts = reader.table(resolved, "alerts")
    reader.check_keys(alerts, ("sinks", "window"), "alerts")
    alert_window = alerts.get("window", 3600.0)
    if (
        not isinstance(alert_window, int | float)
        or isinstance(alert_window, bool)
        or not (0 < alert_window < float("inf"))
    ):
        raise reader.type_error("alerts.window", "a positive number of seconds", alert_window)

    home = Path(reader.value(resolved, "home", str, "", ".modelops"))
    if not home.is_absolute():
        home = (base or Path.cwd()) / home

    return Config(
        source=source,
        home=home,
        plugins=PluginSettings(
            disable=reader.names(plugins, "disable", "plugins"),
            load=load,
            strict=reader.value(plugins, "strict", bool, "plugins", True),
        ),
        registry=registry_choice,
        require_evaluation=require_evaluation,
        tracking=reader.choice(reader.table(resolved, "tracking"), "backend", "sql", "tracking"),
        artifacts=reader.choice(reader.table(resolved, "artifacts"), "store", "local", "artifacts"),
        features=reader.choice(reader.table(resolved, "features"), "store", "local", "features"),
        engine=reader.choice(reader.table(resolved, "engine"), "name", "local", "engine"),
        default_provider=default_provider,
        providers=provider_choices,
        metrics=reader.choice_list(evaluation, "metrics", "evaluation"),
        sanitize=reader.choice_list(sanitize, "pipeline", sanitize_key),
        sanitize_workers=sanitize_workers,
        optimizers=reader.choice_list(optimize, "optimizers", "optimize"),
        drift_tests=reader.choice_list(monitoring, "drift_tests", "monitoring"),
        alert_sinks=reader.choice_list(alerts, "sinks", "alerts"),
        alert_window=float(alert_window),
        prices=_prices(reader, reader.table(resolved, "prices")),
        secret_keys=frozenset(secret_keys),
        raw=resolved,
    )


#: the keys of a ``[prices."<model>"]`` table: dollars per 1M training tokens (fine-tuning's
#: cost estimate), per 1M input and output tokens and per request (``optimize benchmark``).
PRICE_KEYS = ("training", "input", "output", "request")


def _prices(reader: _Reader, table: Mapping[str, Any]) -> dict[str, Mapping[str, float]]:
    prices: dict[str, Mapping[str, float]] = {}
    for model, rates in table.items():
        if not isinstance(rates, Mapping):
            raise reader.type_error(f"prices.{model}", "a table of prices", rates)
        reader.check_keys(rates, PRICE_KEYS, f'prices."{model}"')
        for unit, price in rates.items():
            if not isinstance(price, int | float) or isinstance(price, bool):
                raise reader.type_error(f"prices.{model}.{unit}", "a number", price)
        prices[model] = MappingProxyType(dict(rates))
    return prices


def _resolve_secrets(value: Any, source: str, key: str, found: set[str], prefix: str) -> Any:
    """Replace every ``{ env = "NAME" }`` table by the variable's value (a :class:`Secret`).

    ``found`` collects the dotted keys that hold secrets (without ``prefix``).
    """
    if isinstance(value, Mapping):
        if set(value) in ({"env"}, {"env", "default"}) and isinstance(value.get("env"), str):
            name = value["env"]
            dotted = key.rstrip(".")
            found.add(dotted)
            if name in os.environ:
                return Secret(os.environ[name])
            if "default" in value:
                return value["default"]
            raise MissingSecretError(
                f"The environment variable {name!r} is not set; the configuration key "
                f"{prefix + dotted!r} in {source} reads it. Set it (export {name}=...) or give the "
                'key a default: { env = "' + name + '", default = "..." }.'
            )
        return {
            k: _resolve_secrets(v, source, f"{key}{k}.", found, prefix) for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _resolve_secrets(v, source, f"{key}{i}.", found, prefix) for i, v in enumerate(value)
        ]
    return value


def masked(value: Any, key: str, secret_keys: frozenset[str]) -> Any:
    """``value`` with every secret replaced by ``"***"`` (for ``modelops config show``).

    Values read from the environment are masked whole; a password written inline in a URL
    (``postgresql://bob:pw@host/db``, ``?password=``) is masked by :func:`mask_urls_in`.
    """
    if key.rstrip(".") in secret_keys:
        return "***"
    if isinstance(value, str):
        return mask_urls_in(value)
    if isinstance(value, Mapping):
        return {k: masked(v, f"{key}{k}.", secret_keys) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, f"{key}{i}.", secret_keys) for i, v in enumerate(value)]
    return value


_SECRET_QUERY_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "sslpassword",
        "secret",
        "token",
        "api_key",
        "apikey",
        "access_key",
        "secret_key",
        "aws_secret_access_key",
        "aws_session_token",
        "auth",
        "signature",
        "x-amz-signature",
        "x-amz-security-token",
    }
)
# Patterns, not compiled ones: re compiles them on first use (and caches them), so a process
# that masks nothing does not pay for them at start-up.
_URL_IN_TEXT = r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+"
_PASSWORD_PAIR = r"(?i)\b((?:ssl)?password\s*=\s*)('[^']*'|\"[^\"]*\"|[^\s'\"&]+)"


def mask_url(url: str) -> str:
    """``url`` with every secret in it replaced by ``***``; safe to print.

    One function for every URL form the project prints: the password of ``user:password@``
    (which may itself contain ``@`` or ``:``: everything between the first ``:`` of the userinfo
    and the last ``@`` before the host is masked), and the values of secret-named query
    parameters (``?password=``, ``sslpassword``, ``token``, ``secret``, ``api_key`` ...).
    A string without ``://`` is returned unchanged except for ``password=`` pairs (libpq's
    ``key=value`` form).

    >>> mask_url("postgresql://bob:p@ss:w0rd@db.example:5432/reg?sslmode=require&password=x")
    'postgresql://bob:***@db.example:5432/reg?sslmode=require&password=***'
    >>> mask_url("redis://:hunter2@127.0.0.1:6379/0")
    'redis://:***@127.0.0.1:6379/0'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return re.sub(_PASSWORD_PAIR, r"\1***", url)
    # The authority ends at the first '/', '?' or '#' (a password may hold those three only
    # percent-encoded), and its userinfo at the last '@' in it ('@' and ':' are often raw).
    end = _first_of(rest, "/?#", 0)
    authority, tail = rest[:end], rest[end:]
    userinfo, at, host = authority.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        authority = f"{user}:***@{host}" if colon else f"{user}@{host}"
    path, qmark, query = tail.partition("?")
    if qmark:
        query, hash_sign, fragment = query.partition("#")
        query = _mask_pairs(query, "&") + hash_sign + fragment
    return f"{scheme}://{authority}{path}{qmark}{query}"


def mask_urls_in(text: str) -> str:
    """``text`` (an error message, a log line) with every URL in it passed through :func:`mask_url`.

    Also masks libpq's ``password=...`` pairs outside URLs.
    """
    masked_text = re.sub(_URL_IN_TEXT, lambda match: mask_url(match.group(0)), text)
    return re.sub(_PASSWORD_PAIR, r"\1***", masked_text)


def _first_of(text: str, chars: str, start: int) -> int:
    positions = [p for p in (text.find(c, start) for c in chars) if p != -1]
    return min(positions) if positions else len(text)


def _mask_pairs(text: str, separator: str) -> str:
    parts = []
    for pair in text.split(separator):
        key, eq, value = pair.partition("=")
        if eq and key.strip().lower() in _SECRET_QUERY_KEYS and value:
            parts.append(f"{key}=***")
        else:
            parts.append(pair)
    return separator.join(parts)
