"""Mutation testing for the modules users trust most (issue 18).

A small AST mutator of our own: it lists every place where one of a fixed set of mutations
applies (flipped comparisons, off-by-one constants, ``and``/``or`` swaps, a deleted ``raise``,
negated conditions, ``+``/``-`` and ``*``/``/`` swaps, a dropped ``sorted()``, ``return None``),
samples ``--mutants`` of them with ``--seed`` (the same seed and source give the same sample),
and runs each mutant against that module's own tests in a fresh ``pytest`` process.

The source tree is never written to. Each mutant is compiled from a temporary file and served
in place of the real module by an import hook (``sitecustomize.py`` in a temporary folder put
first on ``PYTHONPATH``, so child processes a test starts get the mutant too); bytecode writing
is off in the test process. Ctrl-C kills the running test process group and removes the
temporary folder: nothing of a mutant is left behind.

    .venv/bin/python scripts/mutation.py --list                 # the modules and their tests
    .venv/bin/python scripts/mutation.py bootstrap --mutants 30  # one module
    .venv/bin/python scripts/mutation.py all --budget 3600       # every module, in turn

The report (``--report``, default ``mutation-report.md`` in the current directory) lists each
survivor as ``file:line``, the mutation and the source line, and the score. Mutants listed in
``scripts/mutation_equivalents.txt`` (fingerprint, then the reason) are counted as equivalent:
left out of the score and printed with their reason. See CONTRIBUTING.md, "Mutation testing".
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "scripts" / "mutation_equivalents.txt"


@dataclass(frozen=True)
class Module:
    """One module under test: its source files (dotted names) and its own tests."""

    name: str
    files: tuple[tuple[str, str], ...]  # (path from the root, dotted module name)
    tests: tuple[str, ...]


MODULES: dict[str, Module] = {
    module.name: module
    for module in (
        Module(
            "classification",
            (
                (
                    "plugins/metrics/src/modelops_metrics/classification.py",
                    "modelops_metrics.classification",
                ),
            ),
            (
                "plugins/metrics/tests/test_metrics_classification.py",
                "plugins/metrics/tests/test_metrics_against_sklearn.py",
                "plugins/metrics/tests/test_metrics_missing_labels.py",
                "plugins/metrics/tests/test_metrics_states_and_errors.py",
                "plugins/metrics/tests/test_metrics_calibration.py",
            ),
        ),
        Module(
            "ranking",
            (("plugins/metrics/src/modelops_metrics/ranking.py", "modelops_metrics.ranking"),),
            (
                "plugins/metrics/tests/test_metrics_ranking.py",
                "plugins/metrics/tests/test_metrics_auc_exact.py",
                "plugins/metrics/tests/test_metrics_against_sklearn.py",
                "plugins/metrics/tests/test_metrics_missing_labels.py",
            ),
        ),
        Module(
            "significance",
            (
                (
                    "src/modelops_core/evaluation/stats/significance.py",
                    "modelops_core.evaluation.stats.significance",
                ),
            ),
            ("tests/test_stats_significance.py",),
        ),
        Module(
            "bootstrap",
            (
                (
                    "src/modelops_core/evaluation/stats/bootstrap.py",
                    "modelops_core.evaluation.stats.bootstrap",
                ),
            ),
            ("tests/test_stats_bootstrap.py",),
        ),
        Module(
            "validators",
            (
                (
                    "plugins/sanitizers/src/modelops_sanitizers/validators.py",
                    "modelops_sanitizers.validators",
                ),
            ),
            ("plugins/sanitizers/tests/test_sanitizers_validators.py",),
        ),
        Module(
            "registry",
            (
                (
                    "src/modelops_core/registry/model_registry.py",
                    "modelops_core.registry.model_registry",
                ),
            ),
            (
                "tests/test_registry.py",
                "tests/test_registry_versions.py",
                "tests/test_model_registry.py",
            ),
        ),
        Module(
            "store-sql",
            (
                (
                    "plugins/store-sql/src/modelops_store_sql/registry.py",
                    "modelops_store_sql.registry",
                ),
                (
                    "plugins/store-sql/src/modelops_store_sql/tracking.py",
                    "modelops_store_sql.tracking",
                ),
                (
                    "plugins/store-sql/src/modelops_store_sql/database.py",
                    "modelops_store_sql.database",
                ),
            ),
            (
                "plugins/store-sql/tests/test_store_sql_contract.py",
                "plugins/store-sql/tests/test_store_sql_errors.py",
                "plugins/store-sql/tests/test_store_sql_versions.py",
                "plugins/store-sql/tests/test_store_sql_database.py",
            ),
        ),
        Module(
            "pipeline",
            (("src/modelops_core/pipeline/runner.py", "modelops_core.pipeline.runner"),),
            (
                "tests/test_pipeline.py",
                "tests/test_pipeline_integrity.py",
                "tests/test_pipeline_runner.py",
            ),
        ),
        Module(
            "artifacts-local",
            (
                (
                    "plugins/artifacts-local/src/modelops_artifacts_local/store.py",
                    "modelops_artifacts_local.store",
                ),
            ),
            (
                "plugins/artifacts-local/tests/test_artifacts_local_contract.py",
                "plugins/artifacts-local/tests/test_artifacts_local_safety.py",
                "plugins/artifacts-local/tests/test_artifacts_local_store.py",
            ),
        ),
        Module(
            "drift-methods",
            (("src/modelops_core/monitoring/methods.py", "modelops_core.monitoring.methods"),),
            (
                "tests/test_monitor_drift.py",
                "tests/test_monitor_methods_contract.py",
                "tests/test_monitor_multivariate.py",
                "tests/test_monitor_predictions.py",
            ),
        ),
        Module(
            "sketches",
            (("src/modelops_core/monitoring/sketches.py", "modelops_core.monitoring.sketches"),),
            ("tests/test_monitor_profile.py", "tests/test_monitor_drift.py"),
        ),
    )
}


# ---------------------------------------------------------------------------------------------
# The mutations


@dataclass(frozen=True)
class Mutant:
    path: str  # from the root
    dotted: str
    line: int
    col: int
    operator: str  # e.g. "Lt -> LtE"
    index: int  # which site of the file, in walk order (how the mutant is rebuilt)
    source_line: str
    occurrence: int = 0  # how many identical (source line, operator) pairs come before it
    # the file as it was when the sample was drawn: an edit during the run changes nothing
    source: str = field(default="", repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        """Stable across edits elsewhere in the file: the stripped line, the mutation, the rank."""
        text = f"{self.path}|{self.source_line.strip()}|{self.operator}|{self.occurrence}"
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


_COMPARE_SWAPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
}


def _skipped_lines(tree: ast.Module, source: str) -> set[int]:
    """Lines never mutated: docstrings, ``if TYPE_CHECKING:`` blocks, ``__all__``, annotations'
    lines are handled by not visiting annotations, and lines marked ``# pragma: no mutate``."""
    skipped = {
        number for number, text in enumerate(source.splitlines(), 1) if "pragma: no mutate" in text
    }
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                skipped.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return skipped


def _annotation_ids(tree: ast.Module) -> set[int]:
    """ids of every node inside an annotation (mutating a type hint changes nothing)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        annotations: list[ast.AST | None] = []
        if isinstance(node, ast.AnnAssign | ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        for annotation in annotations:
            if annotation is not None:
                ids.update(id(inner) for inner in ast.walk(annotation))
    return ids


def _sites(tree: ast.Module, source: str) -> Iterator[tuple[ast.AST, str, int, int]]:
    """(node, operator, line, col) for every mutation of the tree, in a fixed order."""
    skipped = _skipped_lines(tree, source)
    annotations = _annotation_ids(tree)
    for node in ast.walk(tree):
        if id(node) in annotations:
            continue
        line = getattr(node, "lineno", 0)
        if line in skipped:
            continue
        col = getattr(node, "col_offset", 0)
        if isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                for swap in _COMPARE_SWAPS.get(type(op), ()):
                    yield node, f"{type(op).__name__} -> {swap.__name__} #{position}", line, col
        elif isinstance(node, ast.BoolOp):
            other = "Or" if isinstance(node.op, ast.And) else "And"
            yield node, f"{type(node.op).__name__} -> {other}", line, col
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            swap = _BINOP_SWAPS[type(node.op)]
            yield node, f"{type(node.op).__name__} -> {swap.__name__}", line, col
        elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOP_SWAPS:
            swap = _BINOP_SWAPS[type(node.op)]
            yield node, f"{type(node.op).__name__}= -> {swap.__name__}=", line, col
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            yield node, f"{node.value!r} -> {node.value + 1!r}", line, col
            if node.value != 0:
                yield node, f"{node.value!r} -> {node.value - 1!r}", line, col
        elif isinstance(node, ast.Raise):
            yield node, "raise -> pass", line, col
        elif isinstance(node, ast.If | ast.While | ast.IfExp):
            yield node, "condition -> not condition", line, col
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not x -> x", line, col
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "sorted" and len(node.args) == 1:
                yield node, "sorted(x) -> x", line, col
        elif isinstance(node, ast.Return) and node.value is not None:
            returns_none = isinstance(node.value, ast.Constant) and node.value.value is None
            if not returns_none:
                yield node, "return x -> return None", line, col


class _Apply(ast.NodeTransformer):
    """Rebuilds the tree with the ``index``-th site (in ``_sites`` order) mutated."""

    def __init__(self, target: ast.AST, operator: str) -> None:
        self.target = target
        self.operator = operator

    def visit(self, node: ast.AST) -> ast.AST | None:
        if node is not self.target:
            return super().visit(node)
        op = self.operator
        if isinstance(node, ast.Compare):
            head, _, position = op.partition(" #")
            new = head.split(" -> ")[1]
            node.ops[int(position)] = getattr(ast, new)()
            return node
        if isinstance(node, ast.BoolOp):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            return node
        if isinstance(node, ast.BinOp):
            node.op = _BINOP_SWAPS[type(node.op)]()
            return node
        if isinstance(node, ast.AugAssign):
            node.op = _BINOP_SWAPS[type(node.op)]()
            return node
        if isinstance(node, ast.Constant):
            plus = op.endswith(repr(node.value + 1))
            node.value = node.value + 1 if plus else node.value - 1
            return node
        if isinstance(node, ast.Raise):
            return ast.Pass()
        if isinstance(node, ast.If | ast.While | ast.IfExp):
            node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
            return node
        if isinstance(node, ast.UnaryOp):
            return node.operand
        if isinstance(node, ast.Call):
            return node.args[0]
        if isinstance(node, ast.Return):
            node.value = None
            return node
        raise AssertionError(f"no mutation {op!r} for {type(node).__name__}")


def mutants_of(path: str, dotted: str) -> list[Mutant]:
    source = (ROOT / path).read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    seen: dict[tuple[str, str], int] = {}
    found = []
    for index, (_node, operator, line, col) in enumerate(_sites(tree, source)):
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        key = (text.strip(), operator)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        found.append(Mutant(path, dotted, line, col, operator, index, text, occurrence, source))
    return found


def mutated_source(mutant: Mutant) -> str:
    source = mutant.source or (ROOT / mutant.path).read_text(encoding="utf-8")
    tree = ast.parse(source)
    sites = list(_sites(tree, source))
    node, operator, _line, _col = sites[mutant.index]
    assert operator == mutant.operator, (operator, mutant.operator)
    mutated = _Apply(node, operator).visit(tree)
    ast.fix_missing_locations(mutated)
    return ast.unparse(mutated)


def sample(module: Module, count: int, seed: int) -> list[Mutant]:
    candidates = [m for path, dotted in module.files for m in mutants_of(path, dotted)]
    rng = random.Random(f"{seed}:{module.name}")
    chosen = rng.sample(candidates, min(count, len(candidates)))
    return sorted(chosen, key=lambda m: (m.path, m.line, m.col, m.operator))


# ---------------------------------------------------------------------------------------------
# Running one mutant

_SITECUSTOMIZE = """
import importlib.abc, importlib.util, os, sys

_NAME = os.environ["MODELOPS_MUTANT_MODULE"]
_ORIGIN = os.environ["MODELOPS_MUTANT_ORIGIN"]
_SOURCE = os.environ["MODELOPS_MUTANT_SOURCE"]
_LOADED = os.environ["MODELOPS_MUTANT_LOADED"]
sys.dont_write_bytecode = True


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return None

    def exec_module(self, module):
        with open(_SOURCE, encoding="utf-8") as handle:
            code = compile(handle.read(), _ORIGIN, "exec")
        with open(_LOADED, "a", encoding="utf-8") as handle:
            handle.write(str(os.getpid()) + "\\n")
        exec(code, module.__dict__)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != _NAME:
            return None
        spec = importlib.util.spec_from_file_location(name, _ORIGIN, loader=_Loader())
        return spec


_FINDER = _Finder()
sys.meta_path.insert(0, _FINDER)
"""

# ``pytest -p modelops_mutation_first``: pytest puts its assertion-rewriting import hook before
# ours, and it rewrites (so loads from the real file) every module of a distribution that has a
# pytest11 entry point (modelops-core has one); this plugin puts the mutant's finder first again.
_PYTEST_PLUGIN = """
import sys
import sitecustomize

sys.meta_path.remove(sitecustomize._FINDER)
sys.meta_path.insert(0, sitecustomize._FINDER)
"""


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, timeout, not-loaded
    seconds: float
    detail: str = ""


def _pytest_command(tests: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "-p",
        "modelops_mutation_first",
        *tests,
    ]


def _run(command: list[str], env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """Run in its own process group; on timeout or Ctrl-C the whole group is killed."""
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, ""
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise


def _run_source(
    path: str, dotted: str, text: str, tests: Sequence[str], timeout: float, workdir: Path
) -> tuple[int | None, str, bool, float]:
    """Run ``tests`` with ``text`` served as module ``dotted``: (exit code or None on timeout,
    output, whether the module was loaded from ``text``, seconds)."""
    source = workdir / "mutant.py"
    loaded = workdir / "loaded.txt"
    source.write_text(text, encoding="utf-8")
    loaded.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(workdir / "site"), env.get("PYTHONPATH")) if p),
        PYTHONDONTWRITEBYTECODE="1",
        MODELOPS_MUTANT_MODULE=dotted,
        MODELOPS_MUTANT_ORIGIN=str(ROOT / path),
        MODELOPS_MUTANT_SOURCE=str(source),
        MODELOPS_MUTANT_LOADED=str(loaded),
    )
    started = time.monotonic()
    code, output = _run(_pytest_command(tests), env, timeout)
    return code, output, loaded.exists(), time.monotonic() - started


def run_mutant(mutant: Mutant, tests: Sequence[str], timeout: float, workdir: Path) -> Outcome:
    text = mutated_source(mutant)
    code, output, loaded, seconds = _run_source(
        mutant.path, mutant.dotted, text, tests, timeout, workdir
    )
    if code is None:
        return Outcome(mutant, "timeout", seconds)
    if code == 0:
        return Outcome(mutant, "survived" if loaded else "not-loaded", seconds)
    failed = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return Outcome(mutant, "killed", seconds, failed[0] if failed else output.strip()[-200:])


def baseline(module: Module, tests: Sequence[str], workdir: Path) -> float:
    """Seconds the tests take on each unchanged file served through the import hook; stops
    when they fail or never import the file (every mutant would then survive or die for
    nothing)."""
    slowest = 0.0
    for path, dotted in module.files:
        text = (ROOT / path).read_text(encoding="utf-8")
        code, output, loaded, seconds = _run_source(path, dotted, text, tests, 3600, workdir)
        if code != 0:
            raise SystemExit(
                f"{module.name}: its tests fail without any mutant; fix them first:\n"
                f"{output[-3000:]}"
            )
        if not loaded:
            raise SystemExit(
                f"{module.name}: the tests {' '.join(tests)} never import {dotted}; add the "
                f"tests that do to MODULES in {Path(__file__).name}."
            )
        slowest = max(slowest, seconds)
    return slowest


def read_equivalents() -> dict[str, str]:
    """fingerprint -> reason, from scripts/mutation_equivalents.txt (``fingerprint  reason``)."""
    if not EQUIVALENTS.exists():
        return {}
    found = {}
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            fingerprint, _, reason = line.partition(" ")
            found[fingerprint] = reason.strip()
    return found


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class ModuleResult:
    module: Module
    outcomes: list[Outcome] = field(default_factory=list)
    not_run: int = 0
    baseline_seconds: float = 0.0


def _counts(result: ModuleResult, equivalents: dict[str, str]) -> tuple[int, int, int, int]:
    ran = len(result.outcomes)
    equivalent = sum(1 for o in result.outcomes if o.mutant.fingerprint in equivalents)
    killed = sum(1 for o in result.outcomes if o.status in ("killed", "timeout"))
    return ran, killed, equivalent, ran - killed - equivalent


def render(
    results: list[ModuleResult], equivalents: dict[str, str], command: str, seed: int
) -> str:
    today = datetime.date.today().isoformat()
    out = [
        f"# Mutation report, {today}",
        "",
        f"Command: `{command}` (seed {seed})",
        "",
        "| module | mutants | killed | equivalent | survived | score |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        ran, killed, equivalent, survived = _counts(result, equivalents)
        scored = ran - equivalent
        score = f"{100 * killed / scored:.0f}%" if scored else "-"
        extra = f" ({result.not_run} not run: time budget)" if result.not_run else ""
        name = result.module.name + extra
        out.append(f"| {name} | {ran} | {killed} | {equivalent} | {survived} | {score} |")
    for result in results:
        survivors = [o for o in result.outcomes if o.status in ("survived", "not-loaded")]
        if not survivors:
            continue
        out += ["", f"## {result.module.name}", ""]
        for outcome in survivors:
            mutant = outcome.mutant
            reason = equivalents.get(mutant.fingerprint)
            label = f"equivalent: {reason}" if reason else outcome.status.upper()
            if outcome.status == "not-loaded":
                label = "NOT LOADED: the tests never imported the module (check the test list)"
            out.append(
                f"- `{mutant.where}` {mutant.operator} [{mutant.fingerprint}] {label}\n"
                f"  `{mutant.source_line.strip()}`"
            )
    return "\n".join(out) + "\n"


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module names (see --list), or 'all'")
    parser.add_argument("--list", action="store_true", help="print the modules and their tests")
    parser.add_argument("--mutants", type=int, default=30, help="mutants per module (default 30)")
    parser.add_argument("--seed", type=int, default=18, help="sampling seed (default 18)")
    parser.add_argument(
        "--timeout", type=float, default=0.0, help="seconds per mutant (default: 3 x baseline + 10)"
    )
    parser.add_argument("--budget", type=float, default=1800.0, help="total seconds (default 1800)")
    parser.add_argument("--report", default="mutation-report.md", help="where the report goes")
    parser.add_argument(
        "--show", metavar="FINGERPRINT", help="print the diff of one mutant and stop"
    )
    parser.add_argument(
        "--only",
        metavar="FINGERPRINTS",
        help="run only these mutants of the sample (comma-separated), e.g. the survivors again",
    )
    args = parser.parse_args(argv)

    if args.list:
        for module in MODULES.values():
            print(module.name)
            for path, _ in module.files:
                print(f"  source {path}")
            for test in module.tests:
                print(f"  tests  {test}{'' if (ROOT / test).exists() else '  (missing)'}")
        return 0
    names = list(MODULES) if args.modules == ["all"] else args.modules
    unknown = [name for name in names if name not in MODULES]
    if unknown or not names:
        parser.error(f"unknown module(s) {unknown}; choose from: all, {', '.join(MODULES)}")

    if args.show:
        for name in names:
            for path, dotted in MODULES[name].files:
                for mutant in mutants_of(path, dotted):
                    if mutant.fingerprint == args.show:
                        print(f"{mutant.where} {mutant.operator}\n- {mutant.source_line.strip()}")
                        return 0
        print(f"no mutant {args.show} in {names}", file=sys.stderr)
        return 1

    # a kill (SIGTERM, SIGHUP) ends like Ctrl-C: the test process group is killed and the
    # temporary folder removed
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _interrupt)
    equivalents = read_equivalents()
    command = "python scripts/mutation.py " + " ".join(sys.argv[1:] if argv is None else argv)
    deadline = time.monotonic() + args.budget
    results: list[ModuleResult] = []
    report = Path(args.report)
    try:
        with tempfile.TemporaryDirectory(prefix="modelops-mutation-") as tmp:
            workdir = Path(tmp)
            (workdir / "site").mkdir()
            (workdir / "site" / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
            plugin = workdir / "site" / "modelops_mutation_first.py"
            plugin.write_text(_PYTEST_PLUGIN, encoding="utf-8")
            for name in names:
                module = MODULES[name]
                tests = [t for t in module.tests if (ROOT / t).exists()]
                result = ModuleResult(module)
                results.append(result)
                mutants = sample(module, args.mutants, args.seed)
                if args.only:
                    wanted = set(args.only.split(","))
                    mutants = [m for m in mutants if m.fingerprint in wanted]
                result.baseline_seconds = baseline(module, tests, workdir)
                timeout = args.timeout or 3 * result.baseline_seconds + 10
                print(
                    f"{name}: {len(mutants)} mutants, tests take {result.baseline_seconds:.1f} s",
                    flush=True,
                )
                for number, mutant in enumerate(mutants, 1):
                    if time.monotonic() + timeout > deadline:
                        result.not_run = len(mutants) - number + 1
                        break
                    outcome = run_mutant(mutant, tests, timeout, workdir)
                    result.outcomes.append(outcome)
                    mark = "equivalent" if mutant.fingerprint in equivalents else outcome.status
                    print(
                        f"  [{number:>3}/{len(mutants)}] {mark:<10} {outcome.seconds:5.1f} s "
                        f"{mutant.where} {mutant.operator} [{mutant.fingerprint}]",
                        flush=True,
                    )
    except KeyboardInterrupt:
        print("interrupted: the report covers the mutants run so far", file=sys.stderr)
    text = render(results, equivalents, command, args.seed)
    report.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
