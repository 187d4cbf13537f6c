"""Component tables: name -> lazy factory, per kind. Plugins declare, the host owns the table.

A factory is a callable or a ``"module:attr"`` string imported only when the component is
chosen, so listing plugins never imports openai, boto3 or google libraries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from modelops_core.errors import (
    ComponentImportError,
    ComponentOptionError,
    DuplicateComponentError,
    PluginRegistrationError,
    UnknownComponentError,
    did_you_mean,
)
from modelops_core.gc_pause import import_module
from modelops_core.plugins.kinds import Kind
from modelops_core.plugins.options import check_options

if TYPE_CHECKING:
    from modelops_core.plugins.protocols import ProviderProfile

Factory = Callable[..., Any] | str

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")


@attrs.frozen
class ComponentSpec:
    """One registered component: its kind, name, factory and the plugin that declared it."""

    kind: Kind
    name: str
    factory: Factory
    plugin: str
    distribution: str = ""
    description: str = ""
    #: a provider's :class:`~modelops_core.plugins.protocols.ProviderProfile` (None: declares none).
    profile: ProviderProfile | None = None

    @property
    def factory_path(self) -> str:
        """The factory as ``module:attr`` text, without importing it."""
        if isinstance(self.factory, str):
            return self.factory
        return f"{self.factory.__module__}:{getattr(self.factory, '__qualname__', self.factory)}"

    def load(self) -> Callable[..., Any]:
        """Import (if needed) and return the factory callable."""
        if not isinstance(self.factory, str):
            return self.factory
        module_name, _, attr_path = self.factory.partition(":")
        where = f"{self.kind.value} {self.name!r} of plugin {self.plugin!r}"
        try:
            target: Any = import_module(module_name)
            for part in attr_path.split("."):
                target = getattr(target, part)
        except ImportError as exc:
            missing = getattr(exc, "name", None) or module_name
            raise ComponentImportError(
                f"Cannot import the factory {self.factory!r} of {where}: {exc}. "
                f"Install what it needs (pip install {self.distribution or self.plugin}, "
                f"which pulls {missing!r}) or choose another {self.kind.value}."
            ) from exc
        except AttributeError as exc:
            raise ComponentImportError(
                f"The factory {self.factory!r} of {where} does not exist: {exc}. "
                f"The plugin {self.plugin!r} declares a name its module lacks; "
                "upgrade or report the plugin."
            ) from exc
        if not callable(target):
            raise ComponentImportError(f"The factory {self.factory!r} of {where} is not callable.")
        return target  # type: ignore[no-any-return]


class ComponentRegistrar:
    """What a registration hook receives: ``registry.add(name, factory)`` stages a component.

    The runtime commits the staged components to its tables only when the whole plugin
    registered without error, so a failing plugin leaves nothing half-registered.
    """

    def __init__(self, kind: Kind, plugin: str, distribution: str = "") -> None:
        self.kind = kind
        self.plugin = plugin
        self.distribution = distribution
        self.staged: list[ComponentSpec] = []

    def add(
        self,
        name: str,
        factory: Factory,
        *,
        description: str = "",
        profile: ProviderProfile | None = None,
    ) -> None:
        """Declare the component ``name`` made by ``factory`` (a callable or ``"module:attr"``).

        :param name: lower-case letters, digits, ``_``, ``-`` and ``.`` (for namespaces such as
            ``acme.latency_p95``).
        :param factory: called with the component's options from the configuration.
        :param description: one line shown by ``modelops plugins list``.
        :param profile: providers only: the
            :class:`~modelops_core.plugins.protocols.ProviderProfile`
            (the model names it claims, its dataset limits, its export shapes) the core reads
            without building the provider.
        """
        where = f"plugin {self.plugin!r} ({self.distribution or 'not installed'})"
        if not _valid_name(name):
            raise PluginRegistrationError(
                f"{where} registered the {self.kind.value} name {name!r}, which is not valid: "
                "use lower-case letters, digits, '_', '-' and '.', starting with a letter or "
                "digit.",
                plugin=self.plugin,
                distribution=self.distribution,
            )
        if profile is not None:
            self._check_profile(name, profile, where)
        if isinstance(factory, str):
            module_name, sep, attr = factory.partition(":")
            if not sep or not module_name or not attr:
                raise PluginRegistrationError(
                    f"{where} registered the {self.kind.value} {name!r} with factory "
                    f"{factory!r}; a lazy factory must be written 'package.module:attribute'.",
                    plugin=self.plugin,
                    distribution=self.distribution,
                )
        elif not callable(factory):
            raise PluginRegistrationError(
                f"{where} registered the {self.kind.value} {name!r} with a factory of type "
                f"{type(factory).__name__}; pass a callable or a 'module:attr' string.",
                plugin=self.plugin,
                distribution=self.distribution,
            )
        if any(spec.name == name for spec in self.staged):
            raise DuplicateComponentError(
                f"{where} registered the {self.kind.value} {name!r} twice; register it once.",
                plugin=self.plugin,
                distribution=self.distribution,
            )
        self.staged.append(
            ComponentSpec(
                self.kind, name, factory, self.plugin, self.distribution, description, profile
            )
        )

    def _check_profile(self, name: str, profile: object, where: str) -> None:
        """A profile is a ProviderProfile of a provider, with valid patterns and shapes."""
        from modelops_core.datasets.formats import FORMATS
        from modelops_core.plugins.protocols import ProviderProfile

        def refuse(problem: str) -> PluginRegistrationError:
            return PluginRegistrationError(
                f"{where} registered the {self.kind.value} {name!r} with {problem}",
                plugin=self.plugin,
                distribution=self.distribution,
            )

        if self.kind is not Kind.PROVIDER:
            raise refuse("a profile; only providers declare one: leave profile out.")
        if not isinstance(profile, ProviderProfile):
            raise refuse(
                f"a profile of type {type(profile).__name__}; pass a "
                "modelops_core.plugins.protocols.ProviderProfile."
            )
        for pattern in profile.models:
            if not isinstance(pattern, str) or not pattern.strip("*?"):
                raise refuse(
                    f"the model pattern {pattern!r}, which claims every name; write a pattern "
                    "with a fixed part, such as 'acme-*'."
                )
        seen: set[str] = set()
        for shape in profile.exports:
            if not _valid_name(shape.name) or shape.name in seen:
                raise refuse(
                    f"the export shape name {shape.name!r}, which is "
                    + ("declared twice" if shape.name in seen else "not valid")
                    + "; use one lower-case name per shape ('acme', 'acme-preference')."
                )
            seen.add(shape.name)
            if shape.base not in FORMATS:
                raise refuse(
                    f"the export shape {shape.name!r} built from {shape.base!r}; choose one of "
                    f"{', '.join(FORMATS)}."
                )
            module_name, sep, attr = shape.converter.partition(":")
            if shape.converter and not (sep and module_name and attr):
                raise refuse(
                    f"the export shape {shape.name!r} converter {shape.converter!r}; write it "
                    "'package.module:function' (imported when the shape is used)."
                )


def _valid_name(name: object) -> bool:
    return isinstance(name, str) and bool(name) and set(name) <= _NAME_CHARS and name[0] not in ".-"


class ComponentTable:
    """The components of one kind, by name."""

    def __init__(self, kind: Kind, left_out: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self._specs: dict[str, ComponentSpec] = {}
        # installed plugins that were not loaded -> why (for the unknown-name error)
        self._left_out: Mapping[str, str] = {} if left_out is None else left_out

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ComponentSpec]:
        return iter(sorted(self._specs.values(), key=lambda spec: spec.name))

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._specs)

    def conflict(self, spec: ComponentSpec) -> ComponentSpec | None:
        """The spec already registered under ``spec.name``, if any."""
        return self._specs.get(spec.name)

    def add(self, spec: ComponentSpec) -> None:
        """Store ``spec``; a name another plugin has is an error naming both plugins."""
        existing = self._specs.get(spec.name)
        if existing is not None:
            raise duplicate_error(existing, spec)
        self._specs[spec.name] = spec

    def remove_plugin(self, plugin: str) -> None:
        """Forget every component ``plugin`` registered."""
        self._specs = {n: s for n, s in self._specs.items() if s.plugin != plugin}

    def get(self, name: str, *, hints: Mapping[str, str] | None = None) -> ComponentSpec:
        """The spec called ``name``; an unknown name lists what is available and what to install.

        :param hints: component name -> distribution known to provide it (for the error).
        """
        try:
            return self._specs[name]
        except KeyError:
            pass
        available = ", ".join(self.names()) or "none"
        message = f"No {self.kind.value} named {name!r}.{did_you_mean(name, self._specs)}"
        message += f" Available {self.kind.plural}: {available}."
        install = (hints or {}).get(name)
        if install:
            message += f" It is provided by {install!r}: pip install {install}."
        elif self._left_out:
            by_reason: dict[str, list[str]] = {}
            for plugin, why in self._left_out.items():
                by_reason.setdefault(why, []).append(repr(plugin))
            skipped = "; ".join(f"{why}: {', '.join(names)}" for why, names in by_reason.items())
            message += (
                f" Installed plugins not loaded ({skipped}). If one of them provides {name!r}, "
                "load it; `modelops plugins list` shows what the loaded ones register."
            )
        else:
            message += (
                " Install a plugin that provides it; `modelops plugins list` shows what each "
                "installed plugin registers."
            )
        raise UnknownComponentError(message) from None

    def create(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        where: str = "",
        reserved: Sequence[str] = (),
        offered: Mapping[str, Any] | None = None,
    ) -> Any:
        """Build the component ``name`` with ``options`` checked against its factory signature.

        :param where: where the options came from (``"modelops.toml [registry]"``), for errors.
        :param offered: values the host gives a factory that names them as parameters and
            whose options do not set them (the runtime offers ``home``).
        """
        spec = self.get(name)
        factory = spec.load()
        label = f"{self.kind.value} {name!r} (plugin {spec.plugin!r})"
        if offered:
            wanted = _named_parameters(factory)
            options = {
                **{k: v for k, v in offered.items() if k in wanted and k not in options},
                **options,
            }
        check_options(factory, options, label=label, where=where, reserved=reserved)
        try:
            return factory(**options)
        except (TypeError, ValueError) as exc:
            place = f" in {where}" if where else ""
            raise ComponentOptionError(
                f"The {label} refused its options{place}: {type(exc).__name__}: {exc}"
            ) from exc


def _named_parameters(factory: Any) -> frozenset[str]:
    import inspect

    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(p.name for p in parameters if p.kind in named)


def duplicate_error(existing: ComponentSpec, new: ComponentSpec) -> DuplicateComponentError:
    """The error for two plugins registering the same component name, naming both."""
    return DuplicateComponentError(
        f"The {new.kind.value} {new.name!r} is registered by two plugins: "
        f"{existing.plugin!r} ({existing.distribution or 'not installed'}) and "
        f"{new.plugin!r} ({new.distribution or 'not installed'}). "
        "Uninstall one of them, or disable one with [plugins] disable = "
        f"[{new.plugin!r}] in modelops.toml.",
        plugin=new.plugin,
        distribution=new.distribution,
    )


class ComponentTables:
    """All component tables of one runtime, one per :class:`Kind`."""

    def __init__(self) -> None:
        #: installed plugins left out by the selection -> why (disabled, not in the load list)
        self.left_out: dict[str, str] = {}
        self._tables = {kind: ComponentTable(kind, self.left_out) for kind in Kind}

    def __getitem__(self, kind: Kind | str) -> ComponentTable:
        return self._tables[Kind(kind)]

    def __iter__(self) -> Iterator[ComponentTable]:
        return iter(self._tables.values())

    def by_plugin(self, plugin: str) -> dict[Kind, list[str]]:
        """The component names ``plugin`` registered, per kind (kinds with none left out)."""
        found: dict[Kind, list[str]] = {}
        for table in self:
            names = [spec.name for spec in table if spec.plugin == plugin]
            if names:
                found[table.kind] = names
        return found

    def remove_plugin(self, plugin: str) -> None:
        """Forget every component of ``plugin`` in every table."""
        for table in self:
            table.remove_plugin(plugin)
