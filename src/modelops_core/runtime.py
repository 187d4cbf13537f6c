"""Runtime: one plugin manager, one set of component tables, one configuration.

No module-level state: two runtimes in one process are independent, and building one never
prints, exits or touches anything but the entry-point metadata and the plugins it imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import pluggy

from modelops_core.config import ComponentChoice, Config, load_config
from modelops_core.errors import PluginError, VetoError
from modelops_core.plugins.components import ComponentTables
from modelops_core.plugins.discovery import (
    PluginInfo,
    PluginLoader,
    Selection,
    new_plugin_manager,
    one_plugin_caller,
)
from modelops_core.plugins.kinds import Kind


class Runtime:
    """The host of the plugins: ``Runtime(config)`` loads them and builds components.

    :param config: the configuration; default: :func:`~modelops_core.config.load_config`
        (``modelops.toml`` found from the working directory, else the embedded default).
    :param plugins: plugin objects (modules or instances) to register in addition to the
        installed ones, as ``obj`` or ``(name, obj)``; handy for tests and embedding hosts.
    :param autoload: False loads no installed plugin (like ``MODELOPS_DISABLE_PLUGIN_AUTOLOAD=1``).
    :param strict: overrides ``[plugins] strict``; False warns about and skips broken plugins.
    :param environ: the environment to read ``MODELOPS_*`` variables from (default os.environ).
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        plugins: Iterable[object | tuple[str, object]] = (),
        autoload: bool = True,
        strict: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config if config is not None else load_config()
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.manager: pluggy.PluginManager = new_plugin_manager(self.environ)
        self.components = ComponentTables()
        settings = self.config.plugins
        self._loader = PluginLoader(
            self.manager,
            self.components,
            strict=settings.strict if strict is None else strict,
            environ=self.environ,
        )
        selection = Selection.from_settings(settings.disable, settings.load, self.environ)
        if autoload:
            self._loader.load_entry_points(selection)
        for plugin in plugins:
            name, obj = plugin if isinstance(plugin, tuple) else (None, plugin)
            self._loader.register(obj, name)
        self.hook.modelops_configure(config=self.config, runtime=self)

    @property
    def hook(self) -> Any:
        """The hook relay: ``runtime.hook.modelops_after_register(...)``."""
        return self.manager.hook

    @property
    def plugins(self) -> list[PluginInfo]:
        """The loaded plugins, in load order."""
        return list(self._loader.loaded.values())

    @property
    def problems(self) -> list[PluginError]:
        """Plugin problems skipped in lenient mode (empty in strict mode)."""
        return list(self._loader.problems)

    def register_plugin(self, plugin: object, name: str | None = None) -> None:
        """Register one more plugin object; its components become available at once."""
        self._loader.register(plugin, name)
        if self.manager.is_registered(plugin):  # not when lenient mode skipped it
            configure = one_plugin_caller(self.manager, "modelops_configure", plugin, self.environ)
            configure(config=self.config, runtime=self)

    def create(self, kind: Kind | str, choice: ComponentChoice | str, **options: Any) -> Any:
        """Build a component of ``kind`` from a config choice or a name plus ``options``.

        A factory with a ``home`` parameter that the options leave unset gets the runtime's
        home directory (``[home]`` of the configuration), so components keep their files there;
        one with a ``runtime`` parameter gets this runtime (to build the components it wraps).
        """
        if isinstance(choice, str):
            choice = ComponentChoice(choice, options, where="code")
        elif options:
            choice = ComponentChoice(
                choice.name, {**choice.options, **options}, choice.where, choice.reserved
            )
        return self.components[kind].create(
            choice.name,
            choice.options,
            where=choice.where,
            reserved=choice.reserved,
            offered={"home": str(self.config.home), "runtime": self},
        )

    def veto(self, hook_name: str, **kwargs: Any) -> None:
        """Ask a ``modelops_before_*`` hook; raise :class:`VetoError` if a plugin refuses.

        The hook is declared ``firstresult=True``, so pluggy asks the implementations in its
        call order and stops at the first non-None result: the reason to refuse. The error
        names the plugin that gave it (``runtime`` is passed unless ``kwargs`` has one).
        """
        if not hook_name.startswith("modelops_before_"):
            raise ValueError(
                f"{hook_name!r} is not a modelops_before_* hook; only those can refuse an "
                "operation (see docs/hooks.md). Call other hooks with runtime.hook.<name>(...)."
            )
        caller = getattr(self.hook, hook_name)
        # get_hookimpls() is public HookCaller API (an implementation's function and argument
        # names are pluggy's internals, never used here); nobody gating is the common case,
        # and skipping the call keeps a registration as cheap as before.
        implementations = caller.get_hookimpls()
        if not implementations:
            return
        kwargs.setdefault("runtime", self)
        reason = caller(**kwargs)
        if reason is None:
            return
        names = [
            self.manager.get_name(plugin) or repr(plugin)
            for plugin in self._refusers(hook_name, implementations, kwargs)
        ]
        if len(names) == 1:
            message = f"Refused by plugin {names[0]!r} ({hook_name}): {reason}"
        else:
            candidates = ", ".join(repr(name) for name in names)
            message = f"Refused by one of the plugins {candidates} ({hook_name}): {reason}"
        raise VetoError(message, reason=str(reason), plugin=", ".join(names))

    def _refusers(
        self, hook_name: str, implementations: list[Any], kwargs: Mapping[str, Any]
    ) -> list[object]:
        """The plugin whose implementation refused (a one-item list), else every candidate.

        pluggy returns the first result but not whose it was. With one plugin on the hook it is
        that one; with several, each plain implementation is asked again on its own in pluggy's
        call order (a ``before_*`` hook must not change anything, so asking twice is safe) and
        the first to refuse is named. If none refuses again (an answer that changed, or a
        wrapper that replaced the result), every plugin on the hook is a candidate.
        """
        in_call_order = list(reversed(implementations))  # wrappers first, outermost first
        candidates: list[object] = []
        gates: list[object] = []
        for implementation in in_call_order:
            plugin = implementation.plugin
            if not any(plugin is seen for seen in candidates):
                candidates.append(plugin)
            is_gate = not (implementation.wrapper or implementation.hookwrapper)
            if is_gate and not any(plugin is seen for seen in gates):
                gates.append(plugin)
        if len(candidates) == 1:
            return candidates
        for gate in gates:
            alone = one_plugin_caller(self.manager, hook_name, gate, self.environ)
            if alone(**kwargs) is not None:
                return [gate]
        return candidates
