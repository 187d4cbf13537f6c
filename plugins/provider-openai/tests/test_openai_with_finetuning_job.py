"""End to end: the core's FineTuningJob drives the openai provider against the fake API."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from modelops_provider_openai.testing import ExchangeLog, FakeOpenAI, chat_records

from modelops_core import hookimpl
from modelops_core.plugins.components import ComponentRegistrar
from modelops_core.testing.fixtures import make_runtime

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("modelops_core.datasets.dataset") is None
    or importlib.util.find_spec("modelops_core.finetune.job") is None,
    reason="needs modelops_core.datasets.dataset and modelops_core.finetune.job",
)


class FakeWiredOpenAI:
    """Registers ``openai`` as the real OpenAIProvider, its HTTP transport on ``fake``."""

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake

    @hookimpl
    def modelops_register_providers(self, registry: ComponentRegistrar) -> None:
        registry.add("openai", self.build)

    def build(self, **options: Any) -> Any:
        return self.fake.provider(**options)


def test_a_fine_tuning_job_on_openai_runs_to_a_model_that_predicts(
    tmp_path: Path, exchange_log: ExchangeLog
) -> None:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.finetune.job import FineTuningJob

    store_sql = pytest.importorskip("modelops_store_sql.plugin", reason="jobs are tracked in sql")
    fake = FakeOpenAI(log=exchange_log)
    plugins = [("modelops-store-sql", store_sql), ("openai-on-fake", FakeWiredOpenAI(fake))]
    runtime = make_runtime(tmp_path / ".modelops", plugins)
    dataset = Dataset.from_records(chat_records(12))
    job = FineTuningJob(
        model="gpt-4o-mini-2024-07-18", dataset=dataset, epochs=2, learning_rate=1e-5,
        provider="openai", runtime=runtime,
    )  # fmt: skip
    job.start()
    assert job.status == "validating"
    assert job.wait(timeout=30, poll_interval=0.001) == "succeeded"
    assert job.progress == 1.0
    (create,) = fake.requests_to("POST", "/fine_tuning/jobs")
    assert create.json["method"]["supervised"]["hyperparameters"] == {"n_epochs": 2}
    assert create.json["metadata"]["dataset_fingerprint"] == dataset.fingerprint()
    model = job.result
    assert model.startswith("ft:gpt-4o-mini-2024-07-18:org-fake")
    provider = job.provider_component
    assert provider.predict(model, ["capital of country 7?"]) == ["city 7"]
    assert [e.message for e in job.events()][-1] == "The job has successfully completed"


def test_the_tracking_run_gets_the_loss_per_step_from_events_and_checkpoints(
    tmp_path: Path, exchange_log: ExchangeLog
) -> None:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.finetune.job import FineTuningJob

    store_sql = pytest.importorskip("modelops_store_sql.plugin", reason="jobs are tracked in sql")
    fake = FakeOpenAI(log=exchange_log)
    plugins = [("modelops-store-sql", store_sql), ("openai-on-fake", FakeWiredOpenAI(fake))]
    runtime = make_runtime(tmp_path / ".modelops", plugins)
    job = FineTuningJob(
        model="gpt-4o-mini-2024-07-18", dataset=Dataset.from_records(chat_records(12)),
        epochs=2, provider="openai", runtime=runtime,
    )  # fmt: skip
    job.start()
    counts = []
    while not job.refresh().status.finished:  # one poll at a time, as `finetune watch` does
        details = job.snapshot.details if job.snapshot else {}
        counts.append((details.get("step"), details.get("total_steps")))
    assert job.status == "succeeded"
    assert job.run_id is not None
    points = job.store.tracker.backend.get_metrics(job.run_id)
    losses = {p.step: p.value for p in points if p.key == "train_loss"}
    # the fake reports training loss 2 / (1 + step) at every step it reaches: 24 in all
    # (2 epochs of 12 examples, batch 1), and its checkpoints at steps 12 and 24
    assert max(losses) == 24 and 12 in losses
    assert losses == {step: round(2.0 / (1 + step), 4) for step in losses}
    accuracy = {p.step: p.value for p in points if p.key == "train_accuracy"}
    assert set(accuracy) == set(losses)
    assert job.learning_warning is None
    assert (12, 24) in counts, counts  # `finetune watch` shows "step 12/24"
