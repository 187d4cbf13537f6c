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
        self.manager.subset_hook_caller(
            "modelops_configure",
            remove_plugins=[p for p in self.manager.get_plugins() if p is not plugin],
        )(config=self.config, runtime=self)

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
        """Ask each implementation of a ``modelops_before_*`` hook in turn; raise on refusal."""
        caller = getattr(self.hook, hook_name)
        kwargs.setdefault("runtime", self)
        for impl in reversed(caller.get_hookimpls()):  # pluggy's call order
            if impl.hookwrapper or impl.wrapper:
                continue
            reason = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            if reason is not None:
                plugin = self.manager.get_name(impl.plugin) or repr(impl.plugin)
                raise VetoError(
                    f"Refused by plugin {plugin!r} ({hook_name}): {reason}",
                    reason=str(reason),
                    plugin=plugin,
                )
