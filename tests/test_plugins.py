"""Discovery and loading: strict by default, lenient on request, nothing half-registered."""

from __future__ import annotations

import sys
import types

import pytest

from modelops_core import Runtime, hookimpl
from modelops_core.config import Config, PluginSettings
from modelops_core.errors import (
    DuplicateComponentError,
    IncompatiblePluginError,
    PluginHookError,
    PluginLoadError,
    PluginRegistrationError,
)
from modelops_core.plugins.discovery import PluginWarning

GOOD_PLUGIN = """
from modelops_core import hookimpl

@hookimpl
def modelops_register_metrics(registry):
    registry.add("{metric}", "statistics:mean")
"""


def runtime(fake_site, *, strict=True, environ=None, strict_setting=True, **settings) -> Runtime:
    plugins = PluginSettings(strict=strict_setting, **settings)
    config = Config(home=fake_site.root / ".modelops", plugins=plugins)
    return Runtime(config, strict=strict, environ=environ or {})


def test_an_installed_plugin_is_listed_with_its_distribution_and_version(fake_site, unique):
    fake_site.add("acme-good", unique("acme_good"), GOOD_PLUGIN.format(metric="acme.mean"),
                  version="2.3.4")  # fmt: skip
    loaded = runtime(fake_site)
    info = next(p for p in loaded.plugins if p.name == "acme-good")
    assert (info.distribution, info.version) == ("acme-good", "2.3.4")
    assert loaded.components.by_plugin("acme-good") == {"metric": ["acme.mean"]}


def test_an_import_error_propagates_with_the_plugin_named(fake_site, unique):
    fake_site.add("acme-broken", unique("acme_broken"), 'raise ImportError("Don\'t hide me!")',
                  version="0.9")  # fmt: skip
    with pytest.raises(PluginLoadError) as caught:
        runtime(fake_site)
    message = str(caught.value)
    assert "'acme-broken' (acme-broken 0.9)" in message
    assert "Don't hide me!" in message
    assert "[plugins] disable" in message
    assert isinstance(caught.value.__cause__, ImportError)
    assert caught.value.plugin == "acme-broken"


def test_lenient_mode_warns_skips_and_keeps_the_problem(fake_site, unique):
    fake_site.add("acme-broken", unique("acme_broken"), "raise RuntimeError('boom')")
    fake_site.add("acme-good", unique("acme_good"), GOOD_PLUGIN.format(metric="acme.mean"))
    with pytest.warns(PluginWarning, match="acme-broken.*boom"):
        loaded = runtime(fake_site, strict=False)
    assert "acme.mean" in loaded.components["metric"]
    assert [problem.plugin for problem in loaded.problems] == ["acme-broken"]


def test_lenient_mode_can_be_chosen_in_the_config(fake_site, unique):
    fake_site.add("acme-broken", unique("acme_broken"), "raise RuntimeError('boom')")
    with pytest.warns(PluginWarning):
        loaded = runtime(fake_site, strict=None, strict_setting=False)
    assert loaded.problems


def test_a_misspelled_hook_is_an_error_with_a_suggestion(fake_site, unique):
    source = """
    from modelops_core import hookimpl

    @hookimpl
    def modelops_register_metric(registry):
        pass
    """
    fake_site.add("acme-typo", unique("acme_typo"), source)
    with pytest.raises(
        PluginHookError, match="'modelops_register_metric'.*modelops_register_metrics"
    ):
        runtime(fake_site)


def test_a_hook_argument_the_spec_lacks_is_an_error(fake_site, unique):
    source = """
    from modelops_core import hookimpl

    @hookimpl
    def modelops_register_metrics(registry, extra):
        pass
    """
    fake_site.add("acme-args", unique("acme_args"), source)
    with pytest.raises(PluginHookError, match="acme-args.*extra"):
        runtime(fake_site)


def test_a_duplicate_component_name_names_both_plugins(fake_site, unique):
    fake_site.add("acme-one", unique("acme_one"), GOOD_PLUGIN.format(metric="shared"))
    fake_site.add("acme-two", unique("acme_two"), GOOD_PLUGIN.format(metric="shared"))
    with pytest.raises(DuplicateComponentError) as caught:
        runtime(fake_site)
    assert "'acme-one' (acme-one)" in str(caught.value)
    assert "'acme-two' (acme-two)" in str(caught.value)


def test_a_disabled_plugin_is_never_imported(fake_site, unique):
    module = unique("acme_disabled")
    fake_site.add("acme-disabled", module, "raise SystemExit('imported!')")
    loaded = runtime(fake_site, disable=("acme-disabled",))
    assert module not in sys.modules
    assert "acme-disabled" not in [p.name for p in loaded.plugins]


def test_an_unknown_name_points_at_installed_plugins_that_were_left_out(fake_site, unique):
    from modelops_core.errors import UnknownComponentError

    fake_site.add("acme-off", unique("acme_off"), GOOD_PLUGIN.format(metric="acme.off"))
    fake_site.add("acme-other", unique("acme_other"), GOOD_PLUGIN.format(metric="acme.other"))
    loaded = runtime(
        fake_site, disable=("acme-off",), environ={"MODELOPS_LOAD_PLUGINS": "acme-off"}
    )
    with pytest.raises(UnknownComponentError) as caught:
        loaded.create("metric", "acme.off")
    message = str(caught.value)
    assert "disabled by [plugins] disable: 'acme-off'" in message
    assert "left out of MODELOPS_LOAD_PLUGINS or [plugins] load: 'acme-other'" in message
    assert "pip install" not in message


def test_load_plugins_env_imports_only_the_named_plugins(fake_site, unique):
    skipped = unique("acme_skipped")
    fake_site.add("acme-skipped", skipped, "raise SystemExit('imported!')")
    fake_site.add("acme-good", unique("acme_good"), GOOD_PLUGIN.format(metric="acme.mean"))
    loaded = runtime(fake_site, environ={"MODELOPS_LOAD_PLUGINS": "acme-good"})
    assert [p.name for p in loaded.plugins] == ["acme-good"]
    assert skipped not in sys.modules
    assert runtime(fake_site, environ={"MODELOPS_LOAD_PLUGINS": ""}).plugins == []


def test_disable_autoload_env_loads_no_installed_plugin(fake_site, unique):
    fake_site.add("acme-good", unique("acme_good"), GOOD_PLUGIN.format(metric="acme.mean"))
    loaded = runtime(fake_site, environ={"MODELOPS_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert loaded.plugins == []


def test_a_plugin_needing_another_core_version_is_refused_before_import(fake_site, unique):
    module = unique("acme_future")
    fake_site.add("acme-future", module, GOOD_PLUGIN.format(metric="x"), version="5.0",
                  requires=("numpy", "modelops-core>=2.0,<3"))  # fmt: skip
    with pytest.raises(IncompatiblePluginError) as caught:
        runtime(fake_site)
    assert "needs modelops-core>=2.0,<3" in str(caught.value)
    assert "0.1.0 is installed" in str(caught.value)
    assert module not in sys.modules


def test_the_entry_point_name_must_equal_the_distribution_name(fake_site, unique):
    fake_site.add("acme-renamed", unique("acme_renamed"), GOOD_PLUGIN.format(metric="x"),
                  entry_point_name="acme")  # fmt: skip
    with pytest.raises(PluginLoadError, match="must equal the distribution name"):
        runtime(fake_site)


def test_a_plugin_failing_half_way_is_rolled_back():
    plugin = types.SimpleNamespace()

    @hookimpl
    def modelops_register_metrics(registry):
        registry.add("half.metric", "statistics:mean")

    @hookimpl
    def modelops_register_providers(registry):
        raise RuntimeError("provider table exploded")

    plugin.modelops_register_metrics = modelops_register_metrics
    plugin.modelops_register_providers = modelops_register_providers
    loaded = Runtime(Config(), autoload=False, strict=False, environ={})
    with pytest.warns(PluginWarning, match="provider table exploded"):
        loaded.register_plugin(plugin, "half")
    assert "half.metric" not in loaded.components["metric"]
    assert not loaded.manager.has_plugin("half")
    with pytest.raises(PluginRegistrationError, match="None of its components were registered"):
        Runtime(Config(), plugins=[("half", plugin)], autoload=False, environ={})


def test_two_runtimes_are_independent():
    plugin = types.SimpleNamespace()

    @hookimpl
    def modelops_register_metrics(registry):
        registry.add("only.here", "statistics:mean")

    plugin.modelops_register_metrics = modelops_register_metrics
    first = Runtime(Config(), plugins=[("p", plugin)], autoload=False, environ={})
    second = Runtime(Config(), autoload=False, environ={})
    assert "only.here" in first.components["metric"]
    assert "only.here" not in second.components["metric"]
    assert first.manager is not second.manager


def test_trace_env_traces_hook_calls(capsys):
    Runtime(Config(), autoload=False, environ={"MODELOPS_TRACE_PLUGINS": "1"})
    assert "modelops_configure" in capsys.readouterr().err


def test_building_a_runtime_prints_nothing(capsys):
    Runtime(Config(), environ={})
    assert capsys.readouterr() == ("", "")


def test_the_core_builtins_are_an_ordinary_blockable_plugin():
    names = [p.name for p in Runtime(Config(), environ={}).plugins]
    assert "modelops-core" in names
    blocked = Runtime(Config(plugins=PluginSettings(disable=("modelops-core",))), environ={})
    assert "exact_match" not in blocked.components["metric"]


def test_plain_version_ranges_are_checked_like_packaging_does():
    import random

    from packaging.specifiers import SpecifierSet

    from modelops_core.plugins.discovery import _fits_plain_release

    rng = random.Random(5)

    def release() -> str:
        return ".".join(str(rng.randrange(3)) for _ in range(rng.randrange(1, 4)))

    for _ in range(2000):
        clauses = [f"{rng.choice(['>=', '<=', '<', '>', '==', '!='])}{release()}" for _ in "ab"]
        specifier, version = ",".join(clauses[: rng.randrange(1, 3)]), release()
        expected = SpecifierSet(specifier).contains(version)
        assert _fits_plain_release(specifier, version) is expected, (specifier, version)
    assert _fits_plain_release("~=1.0", "1.0") is None  # left to packaging
    assert _fits_plain_release(">=1.0", "1.0rc1") is None


def test_each_plugin_registers_only_its_own_components():
    def metrics_plugin(*names):
        plugin = types.SimpleNamespace()

        @hookimpl
        def modelops_register_metrics(registry):
            for name in names:
                registry.add(name, "statistics:mean")

        plugin.modelops_register_metrics = modelops_register_metrics
        return plugin

    loaded = Runtime(Config(), autoload=False, environ={}, plugins=[
        ("a", metrics_plugin("a.one", "a.two")), ("b", metrics_plugin("b.one"))])  # fmt: skip
    loaded.register_plugin(metrics_plugin("c.one"), "c")
    assert [loaded.components.by_plugin(name) for name in "abc"] == [
        {"metric": ["a.one", "a.two"]}, {"metric": ["b.one"]}, {"metric": ["c.one"]}]  # fmt: skip


def test_a_registration_hook_written_as_a_wrapper_is_refused():
    class Wrapping:
        @hookimpl(wrapper=True)
        def modelops_register_metrics(self, registry):
            return (yield)

    with pytest.raises(PluginHookError) as caught:
        Runtime(Config(), plugins=[("wrapping", Wrapping())], autoload=False, environ={})
    assert str(caught.value) == (
        "plugin 'wrapping' (registered in code, no distribution) implements "
        "modelops_register_metrics as a wrapper; registration hooks must be plain functions "
        "that call registry.add(...)."
    )


def test_registration_hooks_are_called_through_pluggy(capsys):
    plugin = types.SimpleNamespace()

    @hookimpl
    def modelops_register_metrics(registry):
        registry.add("traced.metric", "statistics:mean")

    plugin.modelops_register_metrics = modelops_register_metrics
    Runtime(Config(), plugins=[("traced", plugin)], autoload=False,
            environ={"MODELOPS_TRACE_PLUGINS": "1"})  # fmt: skip
    assert "modelops_register_metrics [hook]" in capsys.readouterr().err


def test_the_core_never_reaches_into_pluggy_hook_implementations():
    """``impl.function`` / ``impl.argnames`` are pluggy internals: call hooks through pluggy
    (a ``firstresult`` spec, a subset hook caller), never the implementing function itself."""
    import re
    from pathlib import Path

    import modelops_core

    internals = re.compile(r"\.(function|argnames|kwargnames)\b|\._(hookimpls|hookexec)\b")
    root = Path(modelops_core.__file__).parent
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if internals.search(line)
    ]
    assert found == []


def test_a_load_name_that_is_not_installed_is_an_error_naming_the_installed_ones(fake_site, unique):
    from modelops_core.errors import UnknownPluginError

    fake_site.add("acme-good", unique("acme_good"), GOOD_PLUGIN.format(metric="acme.mean"))
    with pytest.raises(UnknownPluginError) as caught:
        runtime(fake_site, environ={"MODELOPS_LOAD_PLUGINS": "acme-god"})
    message = str(caught.value)
    assert "asks for 'acme-god', which no installed plugin is called" in message
    assert "Did you mean 'acme-good'?" in message
    assert caught.value.plugin == "acme-god"


def test_a_load_name_that_is_not_installed_is_reported_in_lenient_mode(fake_site, unique):
    from modelops_core.errors import UnknownPluginError

    fake_site.add("acme-good", unique("acme_good"), GOOD_PLUGIN.format(metric="acme.mean"))
    with pytest.warns(PluginWarning, match="acme-missing"):
        loaded = runtime(
            fake_site, strict=False, environ={"MODELOPS_LOAD_PLUGINS": "acme-good,acme-missing"}
        )
    assert [p.name for p in loaded.plugins] == ["acme-good"]
    assert [type(problem) for problem in loaded.problems] == [UnknownPluginError]


def test_the_core_requirement_is_read_like_packaging_reads_it():
    import random

    from packaging.requirements import Requirement

    from modelops_core.plugins.discovery import _core_requirement

    rng = random.Random(11)
    names = ["modelops-core", "modelops_core", "Modelops.Core", "MODELOPS-CORE", "modelops-corex",
             "modelops-core-extras", "modelops", "other-core"]  # fmt: skip
    for _ in range(3000):
        name = rng.choice(names)
        extras = rng.choice(["", "[test]", "[a,b]", " [test]"])
        operators = [">=", "<", "==", "!=", "~="]
        clauses = [f"{rng.choice(operators)}{rng.randrange(3)}.{rng.randrange(9)}"
                   for _ in range(rng.randrange(0, 3))]  # fmt: skip
        specifier = ",".join(clauses)
        if specifier and rng.random() < 0.3:
            specifier = f" ({specifier})"
        marker = rng.choice(["", '; python_version >= "3.11"', '; extra == "test"'])
        line = f"{name}{extras}{specifier}{marker}"
        requirement = Requirement(line)
        is_core = requirement.name.lower().replace("_", "-").replace(".", "-") == "modelops-core"
        applies = "extra" not in str(requirement.marker or "")
        expected = str(requirement.specifier) if is_core and applies else ""
        found = _core_requirement([line])
        if expected:
            from packaging.specifiers import SpecifierSet

            assert SpecifierSet(found) == requirement.specifier, line
        else:
            assert found == "", line
