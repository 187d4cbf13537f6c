"""The base of every contract suite: the plugin registers the component, with options."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from modelops_core.errors import ComponentOptionError
from modelops_core.plugins.discovery import discover
from modelops_core.plugins.kinds import Kind
from modelops_core.runtime import Runtime
from modelops_core.testing.fixtures import make_runtime


class ComponentContract:
    """Checks every component kind shares: registration, options, installation.

    :cvar plugin: the plugin object (usually the module with the ``@hookimpl`` functions).
    :cvar component_name: the name the plugin registers.
    :cvar distribution: the distribution name; when set, the entry point must be installed.
    """

    kind: ClassVar[Kind]
    plugin: ClassVar[object]
    component_name: ClassVar[str]
    distribution: ClassVar[str | None] = None

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        """Options to build the component with (override for components that need some)."""
        return {}

    @pytest.fixture
    def runtime(self, tmp_path: Path) -> Runtime:
        """A runtime with only this plugin registered."""
        name = self.distribution or getattr(self.plugin, "__name__", "plugin-under-test")
        return make_runtime(tmp_path / ".modelops", [(name, self.plugin)])

    @pytest.fixture
    def component(self, runtime: Runtime, tmp_path: Path) -> Any:
        """The component built with :meth:`component_options`."""
        built = runtime.create(self.kind, self.component_name, **self.component_options(tmp_path))
        yield built
        close = getattr(built, "close", None)
        if callable(close):
            close()

    def test_plugin_registers_the_component(self, runtime: Runtime) -> None:
        assert self.component_name in runtime.components[self.kind].names()

    def test_an_unknown_option_is_refused(self, runtime: Runtime, tmp_path: Path) -> None:
        options = {**self.component_options(tmp_path), "no_such_option_xyz": 1}
        spec = runtime.components[self.kind].get(self.component_name)
        import inspect

        parameters = inspect.signature(spec.load()).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            pytest.skip("the factory accepts any keyword option")
        with pytest.raises(ComponentOptionError, match="no_such_option_xyz"):
            runtime.create(self.kind, self.component_name, **options)

    def test_plugin_is_installed(self) -> None:
        if self.distribution is None:
            pytest.skip("no distribution declared; set `distribution` to check the entry point")
        names = [entry_point.name for entry_point in discover()]
        assert self.distribution in names, (
            f"the entry point {self.distribution!r} is not installed; "
            f"pip install the plugin (found: {names})"
        )
