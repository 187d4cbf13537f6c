"""End to end: the core's FineTuningJob drives the vertex provider against the fake Vertex AI
API, with the training file staged in the Cloud Storage emulator."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_vertex.testing import FakeVertex, GcsEmulator

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.testing.fixtures import make_runtime

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("modelops_core.datasets.dataset") is None
    or importlib.util.find_spec("modelops_core.finetune.job") is None,
    reason="needs modelops_core.datasets.dataset and modelops_core.finetune.job",
)


class FakeWiredVertex:
    """Registers ``vertex`` as the real VertexProvider, its HTTP transport on ``fake``."""

    def __init__(self, fake: FakeVertex, **options: Any) -> None:
        self.fake = fake
        self.options = options

    @hookimpl
    def modelops_register_providers(self, registry: ComponentRegistrar) -> None:
        registry.add("vertex", self.build)

    def build(self, **options: Any) -> Any:
        return self.fake.provider(**{**self.options, **options})


def chats(count: int) -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": f"capital of country {i}?"},
                {"role": "assistant", "content": f"city {i}"},
            ]
        }
        for i in range(count)
    ]


def runtime_for(tmp_path: Path, fake: FakeVertex, bucket: str, emulator: GcsEmulator) -> Any:
    store_sql = pytest.importorskip("modelops_store_sql.plugin", reason="jobs are tracked in sql")
    wired = FakeWiredVertex(fake, bucket=bucket, storage_endpoint=emulator.endpoint)
    plugins = [("modelops-store-sql", store_sql), ("vertex-on-fake", wired)]
    return make_runtime(tmp_path / ".modelops", plugins)


def test_a_fine_tuning_job_on_vertex_runs_to_a_model_that_predicts(
    tmp_path: Path, fake: FakeVertex, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.finetune.job import FineTuningJob

    dataset = Dataset.from_records(chats(20))
    job = FineTuningJob(
        model="gemini-2.5-flash", dataset=dataset, epochs=2, learning_rate=1e-5,
        runtime=runtime_for(tmp_path, fake, bucket, gcs_emulator),
    )  # fmt: skip
    assert job.provider == "vertex"  # inferred from the gemini- model name
    job.start()
    assert job.status == "pending"
    assert job.wait(timeout=30, poll_interval=0.001) == "succeeded"
    assert job.progress == 1.0
    (create,) = fake.requests_to("POST", "/tuningJobs")
    spec = create.json["supervisedTuningSpec"]
    assert spec["hyperParameters"] == {"epochCount": 2}
    assert dataset.fingerprint() in create.json["description"]
    staged = gcs_emulator.read(spec["trainingDatasetUri"]).decode().splitlines()
    first = json.loads(staged[0])
    assert len(staged) == 20 and [c["role"] for c in first["contents"]] == ["user", "model"]
    assert first["systemInstruction"]["parts"] == [{"text": "Answer briefly."}]
    model = job.result
    assert model.startswith("projects/123456789012/locations/us-central1/endpoints/")
    provider = job.provider_component
    assert provider.predict(model, ["capital of country 7?"]) == ["city 7"]
    assert job.events()[-1].message == f"Tuning job succeeded: {model}"


def test_a_preference_job_exports_vertex_preference_records(
    tmp_path: Path, fake: FakeVertex, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.finetune.job import FineTuningJob

    records = [
        {
            "input": {"messages": [{"role": "user", "content": f"capital of country {i}?"}]},
            "preferred_output": [{"role": "assistant", "content": f"city {i}"}],
            "non_preferred_output": [{"role": "assistant", "content": "no idea"}],
        }
        for i in range(16)
    ]
    job = FineTuningJob(
        model="gemini-2.5-flash", dataset=Dataset.from_records(records), epochs=1,
        method="preference", hyperparameters={"beta": 0.3},
        runtime=runtime_for(tmp_path, fake, bucket, gcs_emulator),
    )  # fmt: skip
    job.start()
    assert job.wait(timeout=30, poll_interval=0.001) == "succeeded"
    (create,) = fake.requests_to("POST", "/tuningJobs")
    spec = create.json["preferenceOptimizationSpec"]
    assert spec["hyperParameters"] == {"epochCount": 1, "beta": 0.3}
    first = gcs_emulator.read(spec["trainingDatasetUri"]).decode().splitlines()[0]
    assert '"completions"' in first and '"score"' in first


def test_a_dataset_too_small_for_vertex_is_refused_before_any_upload(
    tmp_path: Path, fake: FakeVertex, bucket: str, gcs_emulator: GcsEmulator
) -> None:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.finetune.errors import PreflightError
    from modelops_core.finetune.job import FineTuningJob

    job = FineTuningJob(
        model="gemini-2.5-flash", dataset=Dataset.from_records(chats(5)), epochs=1,
        runtime=runtime_for(tmp_path, fake, bucket, gcs_emulator),
    )  # fmt: skip
    with pytest.raises(PreflightError, match="vertex needs at least 16"):
        job.start()
    assert gcs_emulator.objects(bucket) == [] and fake.requests == []
