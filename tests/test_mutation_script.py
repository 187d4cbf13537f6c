"""scripts/mutation.py (issue 18) samples the same mutants for the same seed, and every mutant
it makes is valid Python that differs from the original; the campaign itself is not run here
(see CONTRIBUTING.md, "Mutation testing")."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts/mutation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_script"] = module
    spec.loader.exec_module(module)
    return module


def test_the_sample_depends_on_the_seed_only():
    mutation = load_script()
    module = mutation.MODULES["bootstrap"]
    first = [m.fingerprint for m in mutation.sample(module, 30, seed=18)]
    assert first == [m.fingerprint for m in mutation.sample(module, 30, seed=18)]
    assert len(set(first)) == 30
    assert first != [m.fingerprint for m in mutation.sample(module, 30, seed=19)]


def test_every_mutant_is_valid_python_and_changes_the_module():
    mutation = load_script()
    path, dotted = mutation.MODULES["bootstrap"].files[0]
    original = ast.dump(ast.parse((ROOT / path).read_text(encoding="utf-8")))
    mutants = mutation.mutants_of(path, dotted)
    operators = {m.operator.split(" #")[0] for m in mutants}
    assert {"raise -> pass", "Lt -> LtE", "Add -> Sub", "return x -> return None"} <= operators
    for mutant in mutants:
        mutated = mutation.mutated_source(mutant)
        compile(mutated, path, "exec")
        assert ast.dump(ast.parse(mutated)) != original, mutant
    assert all(Path(ROOT / test).exists() for m in mutation.MODULES.values() for test in m.tests)
