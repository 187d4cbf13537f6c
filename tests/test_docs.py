"""The docs cannot drift: hooks.md equals the specs, and every ```python block runs."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from modelops_core.plugins.hookdocs import hook_specs, render_hooks_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: ``<!-- needs: modelops_metrics, modelops_store_sql -->``: the plugins a page's examples use;
#: the page is skipped (with that reason) where they are not installed (the core-only run).
NEEDS = re.compile(r"<!--\s*needs:\s*([\w, ]+?)\s*-->")


def test_docs_hooks_md_is_generated_from_the_specs():
    assert (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8") == render_hooks_markdown(), (
        "docs/hooks.md is stale: python -m modelops_core.plugins.hookdocs > docs/hooks.md"
    )


@pytest.mark.parametrize(
    ("name", "spec"), list(hook_specs()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_hook_is_fully_documented(name, spec):
    doc = inspect.getdoc(spec) or ""
    assert doc.splitlines()[0].endswith("."), f"{name}: a one-line summary first"
    for parameter in inspect.signature(spec).parameters:
        assert f":param {parameter}:" in doc, f"{name}: document {parameter}"
    combine = ("results are ignored", "Stops at first", "stops at the first", "non-None")
    assert any(phrase in doc for phrase in combine), f"{name}: say how results combine"


WITH_EXAMPLES = [p for p in DOCS if p.exists() and PYTHON_BLOCK.search(p.read_text("utf-8"))]


@pytest.mark.parametrize("path", WITH_EXAMPLES, ids=lambda p: p.name)
def test_python_examples_in_the_docs_run(path, tmp_path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    needs = NEEDS.search(text)
    for module in needs.group(1).replace(",", " ").split() if needs else ():
        pytest.importorskip(module, reason=f"{path.name} needs {module}, which is not installed")
    blocks = PYTHON_BLOCK.findall(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELOPS_CONFIG", raising=False)
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for index, block in enumerate(blocks, start=1):
        try:
            exec(compile(block, f"{path.name}[block {index}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{path.name} python block {index} failed: {exc!r}") from exc
