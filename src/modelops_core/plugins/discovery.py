"""Plugin discovery and loading: entry points in the ``modelops`` group, strict by default.

Rules (see docs/plugins.md):

- the entry-point name equals the distribution name
  (``modelops-metrics = "modelops_metrics.plugin"``);
- a disabled plugin is never imported, and neither is one left out by ``MODELOPS_LOAD_PLUGINS``;
- a plugin that fails to import, implements a hook that does not exist, registers a component
  name another plugin has, or needs another ``modelops-core`` version raises a
  :class:`~modelops_core.errors.PluginError` naming it, its distribution and what to do;
- lenient mode (``[plugins] strict = false``) warns, skips the plugin and keeps the problem;
- a plugin that fails half-way through registering is unregistered and none of its components
  are kept.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from modelops_core._version import __version__ as CORE_VERSION
from modelops_core.errors import (
    IncompatiblePluginError,
    PluginError,
    PluginHookError,
    PluginLoadError,
    PluginRegistrationError,
    UnknownPluginError,
    did_you_mean,
)
from modelops_core.plugins import hookspecs
from modelops_core.plugins.components import ComponentRegistrar, ComponentTables, duplicate_error
from modelops_core.plugins.entry_points import InstalledEntryPoint, scan
from modelops_core.plugins.frozen import FrozenValue
from modelops_core.plugins.kinds import Kind
from modelops_core.plugins.markers import PROJECT_NAME

if TYPE_CHECKING:
    # Imported only where discovery falls back to it: importlib.metadata (and the email
    # package it pulls in) costs more than the rest of an embedded runtime's start-up.
    from importlib import metadata
    from typing import TypeAlias

    #: What discovery returns: our scan's records, or importlib.metadata's on the fallback
    #: (and from tests and hosts that build their own).
    AnyEntryPoint: TypeAlias = InstalledEntryPoint | metadata.EntryPoint

ENTRY_POINT_GROUP = "modelops"
CORE_DISTRIBUTION = "modelops-core"
DISABLE_AUTOLOAD_ENV = "MODELOPS_DISABLE_PLUGIN_AUTOLOAD"
LOAD_PLUGINS_ENV = "MODELOPS_LOAD_PLUGINS"
TRACE_PLUGINS_ENV = "MODELOPS_TRACE_PLUGINS"


class PluginWarning(UserWarning):
    """A plugin problem reported in lenient mode; the plugin was skipped."""


@attrs.frozen
class PluginInfo:
    """A plugin as the runtime knows it: name, distribution, version and where it lives."""

    name: str
    distribution: str = ""
    version: str = ""
    module: str = ""
    requires_core: str = ""

    @property
    def label(self) -> str:
        """``'name' (distribution version)`` for messages."""
        if self.distribution:
            return f"plugin {self.name!r} ({self.distribution} {self.version})".rstrip()
        return f"plugin {self.name!r} (registered in code, no distribution)"


class Selection(FrozenValue):
    """Which entry-point plugins to import, from the config and the environment. A frozen
    value (:class:`~modelops_core.plugins.frozen.FrozenValue`: built by every runtime)."""

    __slots__ = ("autoload", "only", "disabled")  # noqa: RUF023 (the fields, in order)
    __match_args__ = ("autoload", "only", "disabled")

    autoload: bool
    only: frozenset[str] | None
    disabled: frozenset[str]

    def __init__(
        self,
        autoload: bool = True,
        only: frozenset[str] | None = None,
        disabled: frozenset[str] = frozenset(),
    ) -> None:
        object.__setattr__(self, "autoload", autoload)
        object.__setattr__(self, "only", only)
        object.__setattr__(self, "disabled", disabled)

    @classmethod
    def from_settings(
        cls, disable: Sequence[str], load: Sequence[str] | None, environ: Mapping[str, str]
    ) -> Selection:
        """Combine ``[plugins] disable/load`` with the ``MODELOPS_*`` environment variables.

        ``MODELOPS_LOAD_PLUGINS`` (comma-separated; empty loads none) overrides ``load``.
        """
        autoload = environ.get(DISABLE_AUTOLOAD_ENV, "") in ("", "0", "false", "no")
        only: frozenset[str] | None = frozenset(load) if load is not None else None
        if LOAD_PLUGINS_ENV in environ:
            names = environ[LOAD_PLUGINS_ENV].split(",")
            only = frozenset(name.strip() for name in names if name.strip())
        return cls(autoload=autoload, only=only, disabled=frozenset(disable))

    def wants(self, name: str) -> bool:
        """True when the entry point ``name`` should be imported."""
        return self.why_left_out(name) is None

    def why_left_out(self, name: str) -> str | None:
        """Why the entry point ``name`` is not imported (the setting to change), or None."""
        if not self.autoload:
            return f"{DISABLE_AUTOLOAD_ENV} is set"
        if name in self.disabled:
            return "disabled by [plugins] disable"
        if self.only is not None and name not in self.only:
            return f"left out of {LOAD_PLUGINS_ENV} or [plugins] load"
        return None


def new_plugin_manager(environ: Mapping[str, str]) -> pluggy.PluginManager:
    """A fresh plugin manager with the modelops hook specs; tracing when asked for."""
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    if environ.get(TRACE_PLUGINS_ENV, "") not in ("", "0", "false", "no"):
        manager.trace.root.setwriter(_masked_stderr_write)
        manager.enable_tracing()
    return manager


def one_plugin_caller(
    manager: pluggy.PluginManager,
    hook_name: str,
    plugin: object,
    environ: Mapping[str, str] | None = None,
) -> pluggy.HookCaller:
    """A caller of ``hook_name`` that reaches the implementations of ``plugin`` only.

    Through pluggy's public API, never by calling an implementation's function: the hook's own
    caller when no other plugin implements it, else
    :meth:`pluggy.PluginManager.subset_hook_caller` without the others. That one keeps plugins
    in a set, so when a plugin on the hook cannot be hashed (a ``SimpleNamespace``, a class that
    compares by value) ``plugin`` is registered alone on a private plugin manager instead
    (slower, traced like ``manager`` when ``environ`` asks for tracing).
    """
    caller: pluggy.HookCaller = getattr(manager.hook, hook_name)
    others = [impl.plugin for impl in caller.get_hookimpls() if impl.plugin is not plugin]
    if not others:
        return caller
    if _hashable(plugin) and all(_hashable(other) for other in others):
        return manager.subset_hook_caller(hook_name, remove_plugins=others)
    alone = new_plugin_manager(environ or {})
    alone.register(plugin, name=manager.get_name(plugin))
    hook: pluggy.HookCaller = getattr(alone.hook, hook_name)
    return hook


def _hashable(plugin: object) -> bool:
    try:
        hash(plugin)
    except TypeError:
        return False
    return True


def _masked_stderr_write(text: str) -> None:
    """Write a trace line to stderr, URL passwords masked (hook arguments hold the config)."""
    from modelops_core.config import mask_urls_in

    sys.stderr.write(mask_urls_in(text))


def discover(group: str = ENTRY_POINT_GROUP) -> list[AnyEntryPoint]:
    """The installed entry points of ``group``, sorted by name. Nothing is imported.

    Read from the ``.dist-info`` folders on ``sys.path``
    (:mod:`modelops_core.plugins.entry_points`); when ``sys.path`` holds a zip or egg file or
    another distribution finder is installed,
    from :func:`importlib.metadata.entry_points` instead (the same entry points, slower).
    """
    found: Iterable[AnyEntryPoint] | None = scan(group)
    if found is None:
        from importlib import metadata

        found = metadata.entry_points(group=group)
    return sorted(found, key=lambda entry_point: entry_point.name)


def describe(entry_point: AnyEntryPoint) -> PluginInfo:
    """What the distribution metadata says about ``entry_point``, without importing it.

    Takes the records of :func:`discover` and :class:`importlib.metadata.EntryPoint` alike.
    """
    if isinstance(entry_point, InstalledEntryPoint):
        return PluginInfo(
            name=entry_point.name,
            distribution=entry_point.distribution,
            version=entry_point.version,
            module=entry_point.value,
            requires_core=_core_requirement(entry_point.requires),
        )
    dist = entry_point.dist
    if dist is None:
        return PluginInfo(entry_point.name, module=entry_point.value)
    return PluginInfo(
        name=entry_point.name,
        distribution=dist.metadata["Name"] or "",
        version=dist.version,
        module=entry_point.value,
        requires_core=_core_requirement(dist.requires or ()),
    )


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


_CORE_NAME = "modelops-core"
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def _core_requirement(requires: Iterable[str]) -> str:
    """The ``modelops-core`` specifier among a distribution's requirements ("" if none).

    Parsed with string operations instead of packaging.requirements, whose import alone costs
    more than the rest of plugin discovery (and instead of a regular expression, whose
    compilation every process would pay); requirements behind an extra are ignored.
    """
    for line in requires:
        text, _, marker = line.partition(";")
        text = text.strip()
        if _canonical(text[: len(_CORE_NAME)]) != _CORE_NAME:
            continue  # a name that canonicalizes to modelops-core starts with 13 such characters
        name_end = 0
        while name_end < len(text) and text[name_end].lower() in _NAME_CHARACTERS:
            name_end += 1
        if _canonical(text[:name_end]) != _CORE_NAME or "extra" in marker:
            continue
        rest = text[name_end:].lstrip()
        if rest.startswith("["):  # modelops-core[extras]
            rest = rest.partition("]")[2].lstrip()
        if rest.startswith("(") and rest.endswith(")"):  # modelops-core (>=0.1)
            rest = rest[1:-1]
        return rest.strip()
    return ""


def check_compatible(info: PluginInfo, core_version: str = CORE_VERSION) -> None:
    """Refuse a plugin whose ``modelops-core`` range excludes ``core_version``."""
    if not info.requires_core:
        return
    fits = _fits_plain_release(info.requires_core, core_version)
    if fits is None:
        from packaging.specifiers import SpecifierSet

        fits = SpecifierSet(info.requires_core).contains(core_version, prereleases=True)
    if not fits:
        raise IncompatiblePluginError(
            f"{info.label} needs modelops-core{info.requires_core}, but modelops-core "
            f"{core_version} is installed. Install a matching core "
            f"(pip install 'modelops-core{info.requires_core}') or a version of "
            f"{info.distribution} that supports {core_version}; or disable the plugin with "
            f"[plugins] disable = [{info.name!r}].",
            plugin=info.name,
            distribution=info.distribution,
        )


_OPERATORS = (">=", "<=", "==", "!=", "<", ">")


def _plain_release(text: str) -> bool:
    """``1``, ``0.1``, ``2.10.3``: dot-separated ASCII digits and nothing else."""
    return all(part.isascii() and part.isdigit() for part in text.split("."))


def _release(text: str) -> tuple[int, ...]:
    """``1.0`` -> ``(1,)``: trailing zeros dropped, so equal releases compare equal."""
    parts = [int(part) for part in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _fits_plain_release(specifier: str, version: str) -> bool | None:
    """Whether ``version`` satisfies ``specifier`` when both use plain release numbers only
    (``>=0.1,<0.2`` and ``0.1.0``, as every first-party plugin declares); None otherwise.

    For such specifiers PEP 440 reduces to comparing number tuples, which spares importing
    packaging (more than a tenth of a runtime's start-up); anything else (``~=``, wildcards,
    pre-releases, local versions) is left to packaging.
    """
    if not _plain_release(version):
        return None
    clauses = []
    for clause in specifier.split(","):
        clause = clause.strip()
        operator = next((op for op in _OPERATORS if clause.startswith(op)), None)
        if operator is None or not _plain_release(clause[len(operator) :].strip()):
            return None
        clauses.append((operator, clause[len(operator) :].strip()))
    have = _release(version)
    for operator, text in clauses:
        wanted = _release(text)
        fits = {
            ">=": have >= wanted,
            "<=": have <= wanted,
            ">": have > wanted,
            "<": have < wanted,
            "==": have == wanted,
            "!=": have != wanted,
        }[operator]
        if not fits:
            return False
    return True


def _fix_hint(info: PluginInfo) -> str:
    if not info.distribution:
        return "Fix the plugin object before registering it."
    return (
        f"Upgrade or reinstall it (pip install --upgrade {info.distribution}), uninstall it "
        f"(pip uninstall {info.distribution}), or skip it with [plugins] disable = "
        f"[{info.name!r}] in modelops.toml or {LOAD_PLUGINS_ENV}=<the plugins you want>."
    )


def import_plugin(entry_point: AnyEntryPoint, info: PluginInfo) -> object:
    """Import the plugin module of ``entry_point``; failures name the plugin and distribution."""
    if info.distribution and _canonical(info.name) != _canonical(info.distribution):
        raise PluginLoadError(
            f"{info.label}: the entry-point name must equal the distribution name. "
            f"Rename it in the plugin's pyproject.toml: [project.entry-points.modelops] "
            f'{info.distribution} = "{info.module}".',
            plugin=info.name,
            distribution=info.distribution,
        )
    try:
        return entry_point.load()
    except Exception as exc:
        cause = f"{type(exc).__name__}: {exc}".rstrip()
        cause += "" if cause.endswith((".", "!", "?")) else "."
        raise PluginLoadError(
            f"Error importing {info.label} from {info.module!r}: {cause} {_fix_hint(info)}",
            plugin=info.name,
            distribution=info.distribution,
        ) from exc


class PluginLoader:
    """Registers plugins on one plugin manager and fills one set of component tables."""

    def __init__(
        self,
        manager: pluggy.PluginManager,
        tables: ComponentTables,
        *,
        strict: bool = True,
        report: Callable[[PluginError], None] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.manager = manager
        self.tables = tables
        self.strict = strict
        self.environ: Mapping[str, str] = environ or {}
        self.loaded: dict[str, PluginInfo] = {}
        self.problems: list[PluginError] = []
        self._report = report

    def load_entry_points(
        self, selection: Selection, entry_points: Sequence[AnyEntryPoint] | None = None
    ) -> None:
        """Import and register every selected entry point (see :class:`Selection`).

        A name that ``[plugins] load`` or ``MODELOPS_LOAD_PLUGINS`` asks for and no installed
        entry point has is an :class:`~modelops_core.errors.UnknownPluginError` (reported, not
        raised, in lenient mode): a typo there would otherwise load nothing, silently.
        """
        entry_points = discover() if entry_points is None else entry_points
        self._check_requested(selection, [entry_point.name for entry_point in entry_points])
        for entry_point in entry_points:
            left_out = selection.why_left_out(entry_point.name)
            if left_out is not None:
                self.tables.left_out[entry_point.name] = left_out
                continue
            if entry_point.name in self.loaded:
                continue
            self._guarded(functools.partial(self._load_one, entry_point, describe(entry_point)))

    def _check_requested(self, selection: Selection, installed: Sequence[str]) -> None:
        if not selection.autoload or selection.only is None:
            return
        missing = sorted(selection.only - set(installed))
        if not missing:
            return
        names = ", ".join(repr(name) for name in missing)
        available = ", ".join(repr(name) for name in sorted(installed)) or "none"
        problem = UnknownPluginError(
            f"[plugins] load or {LOAD_PLUGINS_ENV} asks for {names}, which no installed "
            f"plugin is called;{did_you_mean(missing[0], installed)} installed plugins: "
            f"{available}. Fix the name (modelops "
            "plugins list shows them) or install the plugin (pip install ...).",
            plugin=missing[0],
        )
        self._problem(problem)

    def register(
        self, plugin: object, name: str | None = None, info: PluginInfo | None = None
    ) -> None:
        """Register a plugin object (a module or an instance) directly, as tests and hosts do."""
        plugin_name = name or (info.name if info else None) or _object_name(plugin)
        details = info or PluginInfo(plugin_name, module=getattr(plugin, "__name__", ""))
        self._guarded(lambda: self._register(plugin, details))

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except PluginError as problem:
            self._problem(problem)

    def _problem(self, problem: PluginError) -> None:
        """Raise ``problem`` in strict mode; else keep and report it (a warning by default)."""
        if self.strict:
            raise problem
        self.problems.append(problem)
        if self._report is not None:
            self._report(problem)
        else:
            warnings.warn(str(problem), PluginWarning, stacklevel=5)

    def _load_one(self, entry_point: AnyEntryPoint, info: PluginInfo) -> None:
        check_compatible(info)
        plugin = import_plugin(entry_point, info)
        self._register(plugin, info)

    def _register(self, plugin: object, info: PluginInfo) -> None:
        if info.name in self.loaded or self.manager.has_plugin(info.name):
            raise PluginRegistrationError(
                f"{info.label} is already registered; register each plugin once.",
                plugin=info.name,
                distribution=info.distribution,
            )
        try:
            self.manager.register(plugin, name=info.name)
        except pluggy.PluginValidationError as exc:
            raise PluginHookError(
                f"{info.label} implements a hook with arguments the hook does not have: "
                f"{' '.join(str(exc).split())} "
                "Use only the arguments the spec documents (see docs/hooks.md).",
                plugin=info.name,
                distribution=info.distribution,
            ) from exc
        try:
            callers = self.manager.get_hookcallers(plugin) or []
            self._check_hook_names(plugin, info, callers)
            staged = self._collect_components(plugin, info, callers)
            for spec in staged:
                existing = self.tables[spec.kind].conflict(spec)
                if existing is not None:
                    raise duplicate_error(existing, spec)
        except BaseException:
            self.manager.unregister(plugin)
            raise
        for spec in staged:
            self.tables[spec.kind].add(spec)
        self.loaded[info.name] = info

    def _check_hook_names(
        self, plugin: object, info: PluginInfo, callers: Sequence[pluggy.HookCaller]
    ) -> None:
        """Refuse an implementation of a hook without a spec (unless marked optional);
        ``callers``: the hook callers ``plugin`` is on."""
        for caller in callers:
            if caller.has_spec():
                continue
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin is plugin]
            if any(impl.optionalhook for impl in impls):
                continue
            hooks = self.manager.hook
            known = [
                name
                for name in dir(hooks)
                if name.startswith("modelops_") and getattr(hooks, name).has_spec()
            ]
            raise PluginHookError(
                f"{info.label} implements {caller.name!r}, which is not a modelops hook."
                f"{did_you_mean(caller.name, known)} The hooks are listed in docs/hooks.md.",
                plugin=info.name,
                distribution=info.distribution,
            )

    def _collect_components(
        self, plugin: object, info: PluginInfo, callers: Sequence[pluggy.HookCaller]
    ) -> list[Any]:
        """The components ``plugin`` declares: its registration hooks (among ``callers``, the
        hook callers it is on), in the order of :class:`Kind`, called through pluggy with no
        other plugin taking part, each with a registrar of its own."""
        implemented = {caller.name: caller for caller in callers}
        staged = []
        for kind in Kind:
            caller = implemented.get(kind.hook_name)
            if caller is None:
                continue
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin is plugin]
            if not impls:
                continue
            if any(impl.hookwrapper or impl.wrapper for impl in impls):
                raise PluginHookError(
                    f"{info.label} implements {kind.hook_name} as a wrapper; registration "
                    "hooks must be plain functions that call registry.add(...).",
                    plugin=info.name,
                    distribution=info.distribution,
                )
            registrar = ComponentRegistrar(kind, info.name, info.distribution)
            only_this_plugin = one_plugin_caller(self.manager, kind.hook_name, plugin, self.environ)
            try:
                only_this_plugin(registry=registrar)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginRegistrationError(
                    f"{info.label} failed in {kind.hook_name}: {type(exc).__name__}: {exc}. "
                    f"None of its components were registered. {_fix_hint(info)}",
                    plugin=info.name,
                    distribution=info.distribution,
                ) from exc
            staged.extend(registrar.staged)
        return staged


def _object_name(plugin: object) -> str:
    name = getattr(plugin, "__name__", None) or type(plugin).__name__
    return str(name)
