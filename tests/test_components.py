"""Component tables: lazy factories, option checking, helpful unknown-name errors."""

from __future__ import annotations

import sys
import types
from typing import Literal

import pytest

from modelops_core import Runtime, hookimpl
from modelops_core.config import ComponentChoice, Config
from modelops_core.errors import (
    ComponentImportError,
    ComponentOptionError,
    PluginRegistrationError,
    UnknownComponentError,
)
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.kinds import Kind


class Store:
    """A component factory with typed options."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 4,
        timeout: float = 1.5,
        mode: Literal["fast", "safe"] = "safe",
        tags: list[str] | None = None,
    ) -> None:
        self.url, self.pool_size, self.timeout, self.mode, self.tags = (
            url, pool_size, timeout, mode, tags,
        )  # fmt: skip


def plugin_registering(kind: Kind, **factories: object) -> types.SimpleNamespace:
    def register(registry: ComponentRegistrar) -> None:
        for name, factory in factories.items():
            registry.add(name.replace("__", "."), factory)  # type: ignore[arg-type]

    register.__name__ = kind.hook_name
    return types.SimpleNamespace(**{kind.hook_name: hookimpl(register)})


def runtime_with(*plugins: object) -> Runtime:
    return Runtime(Config(), plugins=[(f"p{i}", p) for i, p in enumerate(plugins)],
                   autoload=False, environ={})  # fmt: skip


def test_a_lazy_factory_is_imported_only_when_chosen(fake_site, unique):
    module = unique("acme_heavy")
    (fake_site.root / f"{module}.py").write_text("class Heavy:\n    name = 'heavy'\n")
    fake_site.modules.append(module)
    runtime = runtime_with(plugin_registering(Kind.ARTIFACT_STORE, heavy=f"{module}:Heavy"))
    assert module not in sys.modules
    built = runtime.create(Kind.ARTIFACT_STORE, "heavy")
    assert built.name == "heavy" and module in sys.modules


def test_options_are_passed_to_the_factory():
    runtime = runtime_with(plugin_registering(Kind.REGISTRY_BACKEND, db=Store))
    store = runtime.create("registry_backend", ComponentChoice("db", {"url": "x", "pool_size": 8}))
    assert (store.url, store.pool_size, store.timeout) == ("x", 8, 1.5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "x", "pool_sise": 2}, r"Unknown option 'pool_sise'.*Did you mean 'pool_size'"),
        ({}, r"Missing required option 'url'"),
        ({"url": "x", "pool_size": "8"}, r"'pool_size'.*must be int, got str '8'"),
        ({"url": "x", "pool_size": True}, r"'pool_size'.*must be int"),
        ({"url": "x", "mode": "reckless"}, r"'mode'.*must be Literal\['fast', 'safe'\]"),
        ({"url": "x", "tags": ["a", 2]}, r"'tags'.*must be list\[str\] \| None"),
    ],
)
def test_bad_options_are_refused_before_the_call(options, message):
    runtime = runtime_with(plugin_registering(Kind.REGISTRY_BACKEND, db=Store))
    choice = ComponentChoice("db", options, where="modelops.toml [registry]")
    with pytest.raises(ComponentOptionError, match=message) as caught:
        runtime.create(Kind.REGISTRY_BACKEND, choice)
    assert "modelops.toml [registry]" in str(caught.value)


def test_ints_are_accepted_where_floats_are_expected():
    runtime = runtime_with(plugin_registering(Kind.REGISTRY_BACKEND, db=Store))
    assert runtime.create(Kind.REGISTRY_BACKEND, "db", url="x", timeout=3).timeout == 3


def test_a_misspelled_reserved_key_is_suggested():
    runtime = runtime_with(plugin_registering(Kind.REGISTRY_BACKEND, db=Store))
    choice = ComponentChoice("db", {"url": "x", "backnd": "sql"}, reserved=("backend",))
    with pytest.raises(ComponentOptionError, match="Did you mean 'backend'"):
        runtime.create(Kind.REGISTRY_BACKEND, choice)


def test_an_unknown_name_lists_what_is_available():
    runtime = runtime_with(plugin_registering(Kind.METRIC, accuracy="statistics:mean"))
    with pytest.raises(UnknownComponentError) as caught:
        runtime.create(Kind.METRIC, "acuracy")
    message = str(caught.value)
    assert "Did you mean 'accuracy'?" in message
    assert "Available metrics: accuracy, exact_match" not in message  # autoload is off
    assert "Available metrics: accuracy." in message
    assert "modelops plugins list" in message


def test_an_unknown_name_with_a_known_provider_says_what_to_install():
    table = runtime_with().components[Kind.PROVIDER]
    with pytest.raises(UnknownComponentError, match="pip install modelops-provider-openai"):
        table.get("openai", hints={"openai": "modelops-provider-openai"})


def test_a_factory_that_cannot_be_imported_says_what_to_install():
    runtime = runtime_with(plugin_registering(Kind.PROVIDER, ghost="no_such_module_xyz:Client"))
    with pytest.raises(ComponentImportError, match="no_such_module_xyz.*pip install"):
        runtime.create(Kind.PROVIDER, "ghost")


def test_a_factory_attribute_that_does_not_exist_is_named():
    runtime = runtime_with(plugin_registering(Kind.PROVIDER, ghost="statistics:NoSuchThing"))
    with pytest.raises(ComponentImportError, match="'statistics:NoSuchThing'.*does not exist"):
        runtime.create(Kind.PROVIDER, "ghost")


@pytest.mark.parametrize(
    ("name", "factory", "message"),
    [
        ("Bad Name", "statistics:mean", "not valid"),
        (".hidden", "statistics:mean", "not valid"),
        ("ok", "statistics.mean", "must be written 'package.module:attribute'"),
        ("ok", 42, "pass a callable"),
    ],
)
def test_invalid_registrations_are_refused(name, factory, message):
    registrar = ComponentRegistrar(Kind.METRIC, "acme", "acme-dist")
    with pytest.raises(PluginRegistrationError, match=message):
        registrar.add(name, factory)  # type: ignore[arg-type]


def test_namespaced_names_are_allowed():
    runtime = runtime_with(plugin_registering(Kind.METRIC, acme__latency_p95="statistics:mean"))
    assert "acme.latency_p95" in runtime.components[Kind.METRIC]


class Picky:
    def __init__(self, percentile: float = 95.0) -> None:
        if not 0 <= percentile <= 100:
            raise ValueError(f"percentile must be within [0, 100], got {percentile}")


def test_a_factory_refusing_its_options_is_a_typed_error_naming_where():
    runtime = runtime_with(plugin_registering(Kind.METRIC, picky=Picky))
    choice = ComponentChoice("picky", {"percentile": 150.0}, where="modelops.toml [evaluation]")
    with pytest.raises(ComponentOptionError, match=r"picky.*refused.*\[evaluation\].*within"):
        runtime.create(Kind.METRIC, choice)
