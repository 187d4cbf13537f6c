"""InferenceOptimizer end to end on a real local model: techniques, the quality gate, the
optimized provider, benchmark, the CLI and the pipeline steps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("modelops_optimizers", reason="modelops-optimizers is not installed")
pytest.importorskip("modelops_provider_local", reason="modelops-provider-local is not installed")
pytest.importorskip("modelops_store_sql", reason="modelops-store-sql is not installed")
pytest.importorskip("modelops_metrics", reason="modelops-metrics is not installed")

from modelops_core import InferenceOptimizer, QualityGateError, hookimpl
from modelops_core.config import parse_config
from modelops_core.datasets.dataset import Dataset
from modelops_core.evaluation.evaluator import ModelEvaluator
from modelops_core.optimize.values import OptimizeError
from modelops_core.pipeline.runner import Pipeline, StepContext
from modelops_core.pipeline.spec import parse_pipeline
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.plugins.kinds import Kind
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime


@attrs.frozen
class Trained:
    model_id: str
    root: Path
    holdout: Path
    inputs: list[str]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """A real local classifier: 500 generated tickets, 3 epochs (about a second)."""
    from modelops_provider_local.provider import LocalProvider
    from modelops_provider_local.synthetic import support_tickets

    from modelops_core.finetune.provider_contract import TuningRequest

    directory = tmp_path_factory.mktemp("optimize")
    records = support_tickets(700, seed=7)
    for name, part in (("train", records[:500]), ("holdout", records[500:])):
        (directory / f"{name}.jsonl").write_text(
            "".join(json.dumps(record) + "\n" for record in part), encoding="utf-8"
        )
    root = directory / "local"
    job = LocalProvider(root=str(root), inline=True).start(
        TuningRequest(
            model="local:logreg",
            training_file=str(directory / "train.jsonl"),
            hyperparameters={"epochs": 3, "learning_rate": 0.05, "seed": 1},
        )
    )
    assert job.fine_tuned_model is not None, job.error
    inputs = [record["prompt"] for record in records[500:]]
    return Trained(job.fine_tuned_model, root, directory / "holdout.jsonl", inputs)


def make_runtime(trained: Trained, home: Path, **tables: Any) -> Runtime:
    table = {"home": str(home), "providers": {"local": {"root": str(trained.root)}}, **tables}
    return Runtime(parse_config(table, source="modelops.toml"), environ={})


@pytest.fixture
def runtime(trained: Trained, tmp_path: Path) -> Runtime:
    return make_runtime(trained, tmp_path / ".modelops")


@pytest.fixture
def optimizer(runtime: Runtime) -> InferenceOptimizer:
    return InferenceOptimizer(runtime)


def test_a_latency_optimization_is_registered_with_lineage(
    optimizer: InferenceOptimizer, trained: Trained, runtime: Runtime
) -> None:
    model_id = optimizer.optimize(trained.model_id, target="latency", holdout=trained.holdout)
    assert model_id.startswith("optimized:") and model_id != trained.model_id
    name, version = model_id.split(":")[1:]
    with ModelRegistry(runtime) as registry:
        lineage = registry.lineage(name, version)
        stored = registry.get_version(name, version)
    assert lineage.base_model == trained.model_id
    assert lineage.extra["parent_model_id"] == trained.model_id
    assert [t["name"] for t in lineage.extra["techniques"]] == ["micro_batch", "response_cache"]
    assert lineage.extra["techniques"][0]["settings"]["max_batch"] == 32
    gate = stored.metadata["quality_gate"]
    assert gate["original"] == gate["optimized"] and gate["drop"] == 0.0


def test_the_optimized_id_is_served_by_the_optimized_provider(
    trained: Trained, tmp_path: Path
) -> None:
    from modelops_core.config import load_config

    config = tmp_path / "modelops.toml"
    config.write_text(
        f'home = "{tmp_path / ".modelops"}"\n[providers.local]\nroot = "{trained.root}"\n'
        f'[providers.optimized]\nconfig = "{config}"\n',
        encoding="utf-8",
    )
    runtime = Runtime(load_config(config), environ={})
    model_id = InferenceOptimizer(runtime).optimize(
        trained.model_id, techniques=["micro_batch"], holdout=trained.holdout
    )
    holdout = Dataset.from_jsonl(trained.holdout)
    evaluator = ModelEvaluator(runtime)  # builds the providers from the configuration
    optimized = evaluator.evaluate(model_id, holdout, ["accuracy"], provider="optimized")
    original = evaluator.evaluate(trained.model_id, holdout, ["accuracy"], provider="local")
    assert optimized["accuracy"] == original["accuracy"] > 0.9
    provider = runtime.create(Kind.PROVIDER, "optimized", runtime=runtime)
    try:
        texts = trained.inputs[:20]
        direct = runtime.create(Kind.PROVIDER, runtime.config.provider("local"))
        assert provider.predict(model_id, texts) == direct.predict(trained.model_id, texts)
        assert provider.served(model_id).counter.calls == 1
    finally:
        provider.close()


def test_a_memory_optimization_quantizes_to_int8_and_reports_the_saving(
    optimizer: InferenceOptimizer, trained: Trained
) -> None:
    result = optimizer.optimize_result(trained.model_id, target="memory", holdout=trained.holdout)
    assert result.techniques == ("int8",)
    assert result.reports["int8"]["size_reduction"] > 7.5
    assert result.drop <= 0.01
    served = optimizer.serve(result.model_id)
    try:
        assert served.record.has_artifact
        assert len(served.predict(trained.inputs[:10])) == 10
        assert served.counter.calls == 0  # int8 never calls the float model
    finally:
        served.close()


def test_the_quality_gate_refuses_a_too_aggressive_quantization(
    optimizer: InferenceOptimizer, trained: Trained, runtime: Runtime
) -> None:
    with pytest.raises(QualityGateError) as refused:
        optimizer.optimize(
            trained.model_id,
            techniques=[("int8", {"bits": 2, "clip": 4.0})],  # every weight rounds to zero
            holdout=trained.holdout,
        )
    error = refused.value
    assert error.original > 0.9 and error.optimized < 0.5
    assert error.drop == pytest.approx(error.original - error.optimized)
    message = str(error)
    assert f"{error.original:.4f}" in message and f"{error.optimized:.4f}" in message
    assert f"{error.drop:.4f}" in message and "tolerance 0.01" in message
    with ModelRegistry(runtime) as registry:
        assert registry.list_models() == []


def test_a_gentle_quantization_passes_the_same_gate(
    optimizer: InferenceOptimizer, trained: Trained
) -> None:
    result = optimizer.optimize_result(
        trained.model_id, techniques={"int8": {"bits": 8}}, holdout=trained.holdout
    )
    assert result.drop <= 0.01 and result.model_id.endswith(":1")


def test_configured_options_are_used_and_code_options_win(trained: Trained, tmp_path: Path) -> None:
    runtime = make_runtime(
        trained,
        tmp_path / ".modelops",
        optimize={"optimizers": [{"name": "micro_batch", "max_batch": 7, "max_wait_ms": 1}]},
    )
    optimizer = InferenceOptimizer(runtime)
    result = optimizer.optimize_result(
        trained.model_id, techniques=[("micro_batch", {"max_wait_ms": 3})], holdout=trained.holdout
    )
    served = optimizer.serve(result.model_id)
    try:
        assert served.record.techniques[0].settings == {
            "max_batch": 7, "max_wait_ms": 3, "eager": True,
        }  # fmt: skip
    finally:
        served.close()


def test_a_redis_cache_serves_from_what_the_gate_stored(trained: Trained, tmp_path: Path) -> None:
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    table = {"name": "response_cache", "backend": "redis", "url": url, "prefix": f"{tmp_path}:"}
    runtime = make_runtime(trained, tmp_path / ".modelops", optimize={"optimizers": [table]})
    optimizer = InferenceOptimizer(runtime)
    model_id = optimizer.optimize(trained.model_id, target="cost", holdout=trained.holdout)
    served = optimizer.serve(model_id)
    try:
        assert served.predict(trained.inputs[:3]) == served.predict(trained.inputs[:3])
        assert served.counter.calls == 0  # the gate's evaluation filled the cache
    finally:
        served.close()


def test_masked_secrets_are_taken_from_the_configuration_when_serving(
    trained: Trained, tmp_path: Path
) -> None:
    from modelops_core.optimize.stack import serving_options
    from modelops_core.optimize.values import TechniqueSetting

    recorded = TechniqueSetting("response_cache", {"backend": "redis", "url": "redis://u:***@h/0"})
    real = "redis://u:hunter2@h/0"
    configured = make_runtime(
        trained,
        tmp_path / "a",
        optimize={"optimizers": [{"name": "response_cache", "backend": "redis", "url": real}]},
    )
    assert serving_options(configured, recorded, "optimized:m:1")["url"] == real
    with pytest.raises(OptimizeError, match=r"\[optimize\] optimizers"):
        serving_options(make_runtime(trained, tmp_path / "b"), recorded, "optimized:m:1")


def test_bad_requests_say_what_to_do(optimizer: InferenceOptimizer, trained: Trained) -> None:
    with pytest.raises(OptimizeError, match="holdout"):
        optimizer.optimize(trained.model_id, target="latency")
    with pytest.raises(OptimizeError, match="latency, cost, memory"):
        optimizer.optimize(trained.model_id, target="speed", holdout=trained.holdout)
    with pytest.raises(OptimizeError, match="already optimized"):
        optimizer.optimize("optimized:x:1", holdout=trained.holdout)
    with pytest.raises(OptimizeError, match="both replace"):
        optimizer.optimize(
            trained.model_id, techniques=["int8", ("int8", {"bits": 4})], holdout=trained.holdout
        )


def test_benchmark_shows_the_optimized_model_beside_its_original(
    optimizer: InferenceOptimizer, trained: Trained
) -> None:
    model_id = optimizer.optimize(trained.model_id, target="memory", holdout=trained.holdout)
    figures = optimizer.benchmark(model_id, trained.inputs[:30], repeats=1)
    assert figures["original_model_id"] == trained.model_id
    for side in ("model", "original"):
        numbers = figures[side]
        assert numbers["calls"] == 30
        assert 0 < numbers["p50_ms"] <= numbers["p95_ms"] <= numbers["p99_ms"]
        assert numbers["throughput_per_s"] > 0 and numbers["peak_memory_bytes"] > 0
    assert figures["model"]["parent_share"] == 0.0 and figures["original"]["parent_share"] == 1.0
    assert figures["speedup"]["memory"] > 1.5  # int8 weights load in an eighth of the bytes


def test_benchmark_prices_what_reaches_the_model(trained: Trained, tmp_path: Path) -> None:
    runtime = make_runtime(
        trained, tmp_path / ".modelops", prices={"local:logreg": {"input": 1.0, "request": 0.001}}
    )
    optimizer = InferenceOptimizer(runtime)
    model_id = optimizer.optimize(trained.model_id, target="cost", holdout=trained.holdout)
    figures = optimizer.benchmark(model_id, repeats=1)  # the holdout file by default
    assert figures["inputs"] == len(trained.inputs)
    assert figures["original"]["price_key"] == "local:logreg"
    assert figures["original"]["cost_per_1k_requests"] > 1.0  # $0.001 per call, plus tokens
    assert figures["model"]["cost_per_1k_requests"] == 0.0  # every answer was cached


@pytest.mark.slow  # three commands, one benchmark of 200 inputs on both models
def test_the_cli_optimizes_and_benchmarks(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelops_core.cli.main import main

    config = tmp_path / "modelops.toml"
    config.write_text(
        f'home = "{tmp_path / ".modelops"}"\n[providers.local]\nroot = "{trained.root}"\n',
        encoding="utf-8",
    )
    base = ["--config", str(config), "optimize"]
    code = main([*base, trained.model_id, "--target", "memory", "--holdout",
                 str(trained.holdout), "--json"])  # fmt: skip
    output = capsys.readouterr().out
    assert code == 0, output
    model_id = json.loads(output)["optimized_model_id"]
    assert main([*base, "benchmark", model_id, "--repeats", "1"]) == 0
    table = capsys.readouterr().out
    assert "p50 latency (ms)" in table and "original" in table and "peak memory" in table
    code = main([*base, trained.model_id, "--holdout", str(trained.holdout),
                 "--technique", "int8", "--tolerance", "0"])  # fmt: skip
    assert code == 0


def test_the_cli_reports_a_refusal_as_an_error(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelops_core.cli.main import main

    config = tmp_path / "modelops.toml"
    config.write_text(
        f'home = "{tmp_path / ".modelops"}"\n[providers.local]\nroot = "{trained.root}"\n'
        '[optimize]\noptimizers = [{ name = "int8", bits = 2, clip = 4.0 }]\n',
        encoding="utf-8",
    )
    code = main(["--config", str(config), "optimize", trained.model_id, "--target", "memory",
                 "--holdout", str(trained.holdout)])  # fmt: skip
    assert code == 1  # the quality gate refused: a check failed
    assert "refused" in capsys.readouterr().err


class _Given:
    """A step that hands over a trained model and its holdout, as finetune and dataset do."""

    def __init__(self, model_id: str, test: str) -> None:
        self.model_id = model_id
        self.test = test

    def run(self, context: StepContext) -> Mapping[str, Any]:
        return {"model_id": self.model_id, "test": self.test}


class _GivenPlugin:
    @hookimpl
    def modelops_register_steps(self, registry: ComponentRegistrar) -> None:
        registry.add("given", _Given)


def test_the_pipeline_steps_optimize_then_benchmark(
    runtime: Runtime, trained: Trained, tmp_path: Path
) -> None:
    runtime.register_plugin(_GivenPlugin(), "given-steps")
    spec = parse_pipeline(
        {
            "name": "optimize-it",
            "steps": [
                {"uses": "given", "model_id": trained.model_id, "test": str(trained.holdout)},
                {"uses": "optimize", "target": "memory", "tolerance": 0.02},
                {"uses": "benchmark", "repeats": 1, "limit": 20},
            ],
        },
        source="pipeline.toml",
        base_dir=tmp_path,
    )
    outputs = Pipeline(spec, runtime).run(track=False).outputs()
    assert outputs["optimized_model_id"].startswith("optimized:")
    assert outputs["original_value"] - outputs["optimized_value"] <= 0.02
    assert outputs["benchmark"]["model"]["calls"] == 20
    assert outputs["benchmark"]["original_model_id"] == trained.model_id


def test_a_fresh_process_benchmark_reports_the_memory_saving_of_int8(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`modelops optimize benchmark` as a user runs it: a new process, where the first model
    measured used to pay the one-time loading of shared code (0.06x "saving" for int8)."""
    import subprocess
    import sys

    from modelops_core.cli.main import main

    config = tmp_path / "modelops.toml"
    config.write_text(
        f'home = "{tmp_path / ".modelops"}"\n[providers.local]\nroot = "{trained.root}"\n',
        encoding="utf-8",
    )
    base = ["--config", str(config), "optimize"]
    assert main([*base, trained.model_id, "--target", "memory", "--holdout",
                 str(trained.holdout), "--json"]) == 0  # fmt: skip
    model_id = json.loads(capsys.readouterr().out)["optimized_model_id"]
    inputs = tmp_path / "inputs.jsonl"
    lines = [json.dumps({"prompt": text, "completion": "?"}) for text in trained.inputs[:20]]
    inputs.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "modelops_core", *base, "benchmark", model_id, "--inputs",
         str(inputs), "--repeats", "1", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    model = figures["model"]["peak_memory_bytes"]
    original = figures["original"]["peak_memory_bytes"]
    # int8 weights are an eighth of the float64 ones; the featurizer's work is the same for
    # both, so the peak while loading and serving 8 inputs is well under half
    assert figures["speedup"]["memory"] == pytest.approx(original / model)
    assert figures["speedup"]["memory"] > 2.0, (model, original)  # 0.06 before the warm-up
