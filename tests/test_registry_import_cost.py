"""Registering a file stays light: what a fresh process imports for it.

Flavor resolution (schemas, frames), ``shutil`` and ``tempfile`` (with ``random``, ``bz2``,
``lzma``) serve in-memory models, folder checkouts and their clean-up; a script that registers a
file, moves an alias and reads it back imports none of them (about 5 ms of CPU per process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

store_plugin = pytest.importorskip(
    "modelops_store_sql.plugin", reason="modelops-store-sql is not installed (core-only run)"
)
artifacts_plugin = pytest.importorskip(
    "modelops_artifacts_local.plugin",
    reason="modelops-artifacts-local is not installed (core-only run)",
)

NOT_FOR_A_FILE = {"shutil", "tempfile", "random", "bz2", "lzma", "modelops_core.flavors.resolve",
                  "modelops_core.flavors.schema", "modelops_core.tabular.frames"}  # fmt: skip

REGISTER_A_FILE = """
import json, os, sys
from pathlib import Path
from modelops_core import ModelRegistry
from modelops_core.config import Config
from modelops_core.runtime import Runtime
from modelops_store_sql import plugin as s
from modelops_artifacts_local import plugin as a
home = Path(sys.argv[1])
plugins = [("modelops-store-sql", s), ("modelops-artifacts-local", a)]
with ModelRegistry(Runtime(Config(home=home), plugins=plugins, autoload=False, environ={})) as r:
    r.register_model("churn", sys.argv[2], "1")
    r.set_alias("churn", "production", "1")
    assert r.get_by_alias("churn", "production").version == "1"
print(json.dumps([sorted(sys.modules)]))
"""


def _modules(code: str, *args: str) -> list[list[str]]:
    output = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
        env={"PATH": "", "MODELOPS_DISABLE_PLUGIN_AUTOLOAD": "1"},
    ).stdout.splitlines()[-1]  # fmt: skip
    return list(json.loads(output))


def test_importing_the_registry_leaves_flavor_resolution_and_shutil_alone() -> None:
    (modules,) = _modules("import json, sys\nfrom modelops_core import ModelRegistry\n"
                          "print(json.dumps([sorted(sys.modules)]))")  # fmt: skip
    assert "modelops_core.registry.model_registry" in modules
    assert not NOT_FOR_A_FILE & set(modules)


def test_registering_a_file_imports_no_flavor_resolution_shutil_or_tempfile(
    tmp_path: Path,
) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x00weights" * 100)
    (after,) = _modules(REGISTER_A_FILE, str(tmp_path / ".modelops"), str(model))
    assert "modelops_artifacts_local.store" in after  # the file was stored by the local store
    assert not NOT_FOR_A_FILE & set(after), NOT_FOR_A_FILE & set(after)


def test_an_in_memory_model_still_finds_its_flavor_after_the_lazy_imports(
    tmp_path: Path,
) -> None:
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.testing import make_runtime

    plugins = [("modelops-store-sql", store_plugin), ("modelops-artifacts-local", artifacts_plugin)]
    with ModelRegistry(make_runtime(tmp_path, plugins), actor="t") as registry:
        stored = registry.register("m", "1", {"weights": [0.5, 1.5]})
        assert stored.serializer == "json"
        assert registry.load("m", "1") == {"weights": [0.5, 1.5]}
        assert "json" in registry.flavors.names()
        assert stored.metadata == {}  # json records no flavor entry without a sample


def test_a_given_object_without_a_name_is_still_refused_when_the_registry_is_made(
    tmp_path: Path,
) -> None:
    from modelops_core.registry.model_registry import ModelRegistry
    from modelops_core.testing import make_runtime

    with pytest.raises(TypeError, match="is not a model flavor: it has no name"):
        ModelRegistry(make_runtime(tmp_path), flavors=[object()])
