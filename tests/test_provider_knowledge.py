"""Provider knowledge lives in the provider plugins: a throwaway ``acme`` provider claims its
model names, brings its dataset limits and its export shape, and the core uses them with no
change; the core's code names no provider (docstrings and comments aside)."""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
import textwrap
import tokenize
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelops_core import hookimpl
from modelops_core.cli.main import main
from modelops_core.config import parse_config
from modelops_core.datasets.errors import UnknownProviderError
from modelops_core.datasets.validate import record_tokens
from modelops_core.errors import DuplicateComponentError, PluginRegistrationError
from modelops_core.finetune.errors import UnknownProviderForModelError
from modelops_core.finetune.job import FineTuningJob
from modelops_core.finetune.provider_contract import (
    ConflictingProviderClaimError,
    JobStatus,
    ProviderCatalogue,
)
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.kinds import Kind
from modelops_core.plugins.protocols import ExportShape, ProviderProfile
from modelops_core.runtime import Runtime

store_plugin = pytest.importorskip("modelops_store_sql.plugin", reason="needs modelops-store-sql")
artifacts_plugin = pytest.importorskip(
    "modelops_artifacts_local.plugin", reason="needs modelops-artifacts-local"
)
dataset_module = pytest.importorskip(
    "modelops_core.datasets.dataset", reason="needs the Dataset module"
)

CORE = Path(__file__).resolve().parents[1] / "src" / "modelops_core"
#: the issue's grep: `grep -rE "gpt-|gemini|amazon\.nova|bedrock" src/modelops_core`.
PROVIDER_NAMES = re.compile(r"gpt-|gemini|amazon\.nova|bedrock")

# A provider plugin as a third party would write it: one module, its profile on the component,
# its converter named "module:attr" (imported when the shape is used), a provider that keeps its
# jobs in a JSON file next to the training file it was given.
ACME_SOURCE = """
import json
from pathlib import Path

from modelops_core import hookimpl
from modelops_core.finetune.provider_contract import JobStatus, ProviderJob
from modelops_core.plugins.protocols import DatasetLimits, ExportShape, ProviderProfile

LIMITS = DatasetLimits(min_examples=3, max_tokens=40, max_file_bytes=400, source="acme docs")


def to_acme(record, where):
    return {"ask": record["prompt"], "answer": record["completion"], "v": "acme-1"}


class AcmeProvider:
    name = "acme"
    export_format = "acme"

    def validate(self, path, method, model):
        # the core checked the limits before exporting; the file is in acme's own shape
        lines = Path(path).read_text().splitlines()
        return [
            f"line {number}: not an acme example"
            for number, line in enumerate(lines, 1)
            if set(json.loads(line)) != {"ask", "answer", "v"}
        ]

    def start(self, request):
        lines = Path(request.training_file).read_text().splitlines()
        Path(request.training_file + ".uploaded").write_text("\\n".join(lines))
        return ProviderJob(
            id="acme-job-1", provider="acme", status=JobStatus.SUCCEEDED,
            raw_status="DONE", model=request.model, fine_tuned_model="acme-small:tuned",
        )

    def get(self, job_id):
        raise AssertionError("the job finished in start()")

    cancel = get

    def list_jobs(self, limit=20):
        return []

    def events(self, job_id):
        return []

    def predict(self, model_id, inputs):
        return [f"acme {text}" for text in inputs]


@hookimpl
def modelops_register_providers(registry):
    registry.add(
        "acme",
        f"{__name__}:AcmeProvider",
        profile=ProviderProfile(
            models=("acme-*",),
            limits=LIMITS,
            exports=(
                ExportShape("acme", base="prompt_completion", converter=f"{__name__}:to_acme"),
            ),
        ),
    )
"""


@pytest.fixture
def acme(fake_site: Any, unique: Callable[[str], str]) -> Any:
    """The acme plugin installed in a temporary site (a real distribution), imported."""
    module = unique("modelops_acme")
    fake_site.add("modelops-provider-acme", module, ACME_SOURCE)
    __import__(module)
    return sys.modules[module]


def installed_providers() -> None:
    """Skip unless the repository's provider plugins are installed (the core-only run)."""
    for name in ("openai", "vertex", "bedrock", "local"):
        pytest.importorskip(f"modelops_provider_{name}.plugin", reason="needs the provider plugins")


def pairs(count: int, answer: str = "four") -> list[dict[str, str]]:
    return [
        {"prompt": f"what is {i} plus {i}?", "completion": f"{answer} {i}"} for i in range(count)
    ]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def acme_runtime(tmp_path: Path, acme: Any, *more: object) -> Runtime:
    """A fresh runtime with only the stores, the acme plugin and ``more`` registered."""
    config = parse_config({}, source="test.toml", base=tmp_path)
    return Runtime(
        config,
        plugins=[store_plugin, artifacts_plugin, ("acme", acme), *more],
        autoload=False,
        environ={},
    )


# --- the throwaway provider, used with no core change -----------------------------------------


def test_a_job_on_an_acme_model_runs_on_the_acme_provider(tmp_path: Path, acme: Any) -> None:
    runtime = acme_runtime(tmp_path, acme)
    data = dataset_module.Dataset.from_records(pairs(3))
    job = FineTuningJob(model="acme-small", dataset=data, runtime=runtime)
    assert job.provider == "acme"
    report = job.preflight()
    assert (report.ok, report.examples) == (True, 3)
    exported = [json.loads(line) for line in Path(report.training_file).read_text().splitlines()]
    assert exported == [
        {"ask": f"what is {i} plus {i}?", "answer": f"four {i}", "v": "acme-1"} for i in range(3)
    ]
    job.start(report)
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, "acme-small:tuned")
    uploaded = Path(report.training_file + ".uploaded").read_text().splitlines()
    assert [json.loads(line)["v"] for line in uploaded] == ["acme-1"] * 3
    job.close()


def test_the_acme_limits_refuse_a_job_before_anything_is_uploaded(
    tmp_path: Path, acme: Any
) -> None:
    runtime = acme_runtime(tmp_path, acme)
    records = [*pairs(1), {"prompt": "long " * 40, "completion": "x"}]
    job = FineTuningJob(
        model="acme-small", dataset=dataset_module.Dataset.from_records(records), runtime=runtime
    )
    report = job.preflight()
    tokens = record_tokens(records[1], "prompt_completion")
    assert tokens > 40
    assert report.dataset_problems == (
        f"line 2: {tokens} tokens, over the 40 per example of acme acme-small",
        "dataset: 2 examples; acme needs at least 3",
    )
    assert not Path(report.training_file + ".uploaded").exists()
    job.close()


def test_an_exported_file_over_the_acme_size_limit_is_a_preflight_problem(
    tmp_path: Path, acme: Any
) -> None:
    runtime = acme_runtime(tmp_path, acme)
    job = FineTuningJob(
        model="acme-small", dataset=dataset_module.Dataset.from_records(pairs(8)), runtime=runtime
    )
    report = job.preflight()
    size = Path(report.training_file).stat().st_size
    assert size > 400
    assert report.provider_problems == (
        f"the exported train file is {size:,} bytes, over the 400 of acme (acme docs); "
        "split the data or sample fewer examples",
    )
    job.close()


def test_cli_validate_checks_the_acme_rules(
    tmp_path: Path, acme: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    good = write_jsonl(tmp_path / "good.jsonl", pairs(3))
    assert main(["dataset", "validate", str(good), "--provider", "acme"]) == 0
    assert f"{good}: 3 examples, valid for acme." in capsys.readouterr().out
    small = write_jsonl(tmp_path / "small.jsonl", pairs(2))
    assert main(["dataset", "validate", str(small), "--provider", "acme", "--json"]) == 2
    reasons = [p["reason"] for p in json.loads(capsys.readouterr().out)["problems"]]
    assert reasons == ["2 examples; acme needs at least 3"]
    large = write_jsonl(tmp_path / "large.jsonl", pairs(12))
    size = large.stat().st_size
    assert main(["dataset", "validate", str(large), "--provider", "acme", "--json"]) == 2
    reasons = [p["reason"] for p in json.loads(capsys.readouterr().out)["problems"]]
    assert reasons == [
        f"the file is {size:,} bytes, over the 400 of acme; split it or sample fewer examples"
    ]


def test_cli_convert_writes_the_acme_shape(
    tmp_path: Path, acme: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    chats = [
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
        for i in range(2)
    ]
    source = write_jsonl(tmp_path / "chats.jsonl", chats)
    output = tmp_path / "acme.jsonl"
    assert main(["dataset", "convert", str(source), str(output), "--to", "acme"]) == 0
    assert f"wrote 2 examples to {output} (acme)." in capsys.readouterr().out
    assert [json.loads(line) for line in output.read_text().splitlines()] == [
        {"ask": "q0", "answer": "a0", "v": "acme-1"},
        {"ask": "q1", "answer": "a1", "v": "acme-1"},
    ]


# --- resolution: conflicts, no claim, the installed providers ----------------------------------


class Rival:
    """A second plugin that claims model names or declares export names."""

    def __init__(self, models: tuple[str, ...], exports: tuple[ExportShape, ...] = ()) -> None:
        self.profile = ProviderProfile(models=models, exports=exports)

    @hookimpl
    def modelops_register_providers(self, registry: ComponentRegistrar) -> None:
        registry.add("rival", "modelops_acme_rival:Provider", profile=self.profile)


def rival(models: tuple[str, ...], exports: tuple[ExportShape, ...] = ()) -> Any:
    return ("rival-plugin", Rival(models, exports))


def test_two_providers_claiming_a_model_name_is_an_error_naming_both(
    tmp_path: Path, acme: Any
) -> None:
    runtime = acme_runtime(tmp_path, acme, rival(("acme-s*",)))
    with pytest.raises(ConflictingProviderClaimError) as caught:
        FineTuningJob(model="acme-small", runtime=runtime)
    assert isinstance(caught.value, DuplicateComponentError)
    assert str(caught.value) == (
        "The model 'acme-small' is claimed by two providers: 'acme' of plugin 'acme' (not "
        "installed) with the pattern 'acme-*' and 'rival' of plugin 'rival-plugin' (not "
        "installed) with 'acme-s*'. Pass provider='acme' (or 'rival'), set [providers] default "
        "in modelops.toml, or disable one plugin with [plugins] disable = ['rival-plugin']."
    )
    assert FineTuningJob(model="acme-small", runtime=runtime, provider="acme").provider == "acme"


def test_two_providers_declaring_one_export_name_is_an_error_naming_both(
    tmp_path: Path, acme: Any
) -> None:
    runtime = acme_runtime(tmp_path, acme, rival((), (ExportShape("acme", base="chat"),)))
    with pytest.raises(ConflictingProviderClaimError, match="'acme' of plugin 'acme'.*'rival'"):
        ProviderCatalogue.of(runtime).target("acme")


def test_a_model_nobody_claims_names_the_providers_and_their_patterns(
    tmp_path: Path, acme: Any
) -> None:
    installed_providers()
    runtime = acme_runtime(tmp_path, acme)
    with pytest.raises(UnknownProviderForModelError) as caught:
        FineTuningJob(model="zeta-1", runtime=runtime)
    message = str(caught.value)
    assert "Cannot tell which provider fine-tunes 'zeta-1': pass provider='local'" in message
    assert "acme, bedrock, local, openai, optimized, vertex" in message
    assert "acme: acme-*; " in message and "vertex: gemini-*" in message


def test_the_runtime_first_then_the_installed_providers(tmp_path: Path, acme: Any) -> None:
    installed_providers()
    # the runtime holds acme only; names it does not know come from the installed plugins
    catalogue = ProviderCatalogue.of(acme_runtime(tmp_path, acme))
    assert catalogue.provider_for("acme-small") == "acme"
    assert catalogue.provider_for("gemini-2.5-flash") == "vertex"
    assert catalogue.target("vertex-preference").plugin == "modelops-provider-vertex"
    assert catalogue.target("acme").limits.max_file_bytes == 400
    with pytest.raises(UnknownProviderError, match=r"Known: acme, bedrock, bedrock-conv"):
        catalogue.target("acme-dpo")


@pytest.mark.parametrize(
    ("kind", "profile", "problem"),
    [
        (Kind.METRIC, ProviderProfile(), "a profile; only providers declare one"),
        (Kind.PROVIDER, {"models": ["acme-*"]}, "a profile of type dict"),
        (Kind.PROVIDER, ProviderProfile(models=("*",)), "the model pattern '*', which claims"),
        (
            Kind.PROVIDER,
            ProviderProfile(exports=(ExportShape("acme", base="dialogue"),)),
            "the export shape 'acme' built from 'dialogue'; choose one of",
        ),
        (
            Kind.PROVIDER,
            ProviderProfile(exports=(ExportShape("acme", "chat", converter="acme.to_acme"),)),
            "converter 'acme.to_acme'; write it 'package.module:function'",
        ),
        (
            Kind.PROVIDER,
            ProviderProfile(exports=(ExportShape("acme", "chat"), ExportShape("acme", "chat"))),
            "the export shape name 'acme', which is declared twice",
        ),
    ],
)
def test_a_bad_profile_is_refused_at_registration_naming_the_plugin(
    kind: Kind, profile: Any, problem: str
) -> None:
    registry = ComponentRegistrar(kind, "acme-plugin", "modelops-provider-acme 1.0")
    with pytest.raises(PluginRegistrationError, match=re.escape(problem)) as caught:
        registry.add("acme", "acme.provider:Acme", profile=profile)
    assert str(caught.value).startswith(
        f"plugin 'acme-plugin' (modelops-provider-acme 1.0) registered the {kind.value} 'acme'"
    )


def test_plugin_modules_stay_cheap_and_converters_load_when_a_shape_is_used() -> None:
    installed_providers()
    code = textwrap.dedent(
        """
        import sys
        from modelops_core.finetune.provider_contract import ProviderCatalogue
        target = ProviderCatalogue.of().target("vertex")
        heavy = {"openai", "boto3", "botocore", "google", "numpy", "scipy"}
        assert not heavy & {name.split(".")[0] for name in sys.modules}, "a plugin module is heavy"
        assert "modelops_provider_bedrock.plugin" in sys.modules
        print("modelops_provider_vertex.export" in sys.modules)
        from modelops_core.datasets.dataset import Dataset
        Dataset.from_records([{"prompt": "p", "completion": "c"}]).export(sys.argv[1], target)
        print("modelops_provider_vertex.export" in sys.modules, "google" in sys.modules)
        """
    )
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [sys.executable, "-c", code, str(Path(folder) / "v.jsonl")],
            capture_output=True, text=True, check=True, cwd=folder,
        ).stdout.split()  # fmt: skip
    assert out == ["False", "True", "False"]


# --- the core names no provider ---------------------------------------------------------------


def provider_names_in_code(root: Path) -> list[str]:
    """``file:line: text`` of every match of :data:`PROVIDER_NAMES` in the Python code under
    ``root``, docstrings and comments left out."""
    found = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        docstrings = set()
        for node in ast.walk(ast.parse(source)):
            body = getattr(node, "body", None)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                assert isinstance(body, list)
                first = body[0] if body else None
                if (
                    isinstance(first, ast.Expr)
                    and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)
                ):
                    docstrings.add((first.lineno, first.col_offset))
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                continue
            if token.type == tokenize.STRING and token.start in docstrings:
                continue
            for offset, text in enumerate(token.string.splitlines()):
                if PROVIDER_NAMES.search(text):
                    line = token.start[0] + offset
                    found.append(f"{path.relative_to(root)}:{line}: {text.strip()}")
    return found


def test_the_core_names_no_provider_outside_docstrings_and_comments() -> None:
    assert provider_names_in_code(CORE) == []


def test_the_check_finds_a_provider_name_in_code_but_not_in_docs(tmp_path: Path) -> None:
    (tmp_path / "rules.py").write_text(
        '"""Maps gpt- models (a docstring)."""\n'
        "# gemini models too (a comment)\n"
        'RULES = (("gpt-", "openai"),)\n'
        "def f():\n"
        '    """bedrock"""\n'
        '    return "amazon.nova-lite"\n',
        encoding="utf-8",
    )
    assert provider_names_in_code(tmp_path) == [
        'rules.py:3: "gpt-"',
        'rules.py:6: "amazon.nova-lite"',
    ]
