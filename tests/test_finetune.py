"""FineTuningJob driven through a scripted provider plugin: start, follow, persist, re-attach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import finetune_support
import pytest
from finetune_support import FakeClock, ScriptedProvider, scripted_table, write_chat_jsonl

from modelops_core import hookimpl
from modelops_core.config import parse_config
from modelops_core.errors import ConfigError
from modelops_core.finetune.errors import (
    JobNotFoundError,
    JobNotSucceededError,
    JobTimeoutError,
    PreflightError,
    UnknownProviderForModelError,
)
from modelops_core.finetune.job import FineTuningJob, infer_provider
from modelops_core.finetune.provider_contract import (
    JobStatus,
    MissingCredentialsError,
    ProviderRejectedError,
    ProviderUnavailableError,
)
from modelops_core.runtime import Runtime

store_plugin = pytest.importorskip("modelops_store_sql.plugin", reason="needs modelops-store-sql")
artifacts_plugin = pytest.importorskip(
    "modelops_artifacts_local.plugin", reason="needs modelops-artifacts-local"
)
dataset_module = pytest.importorskip(
    "modelops_core.datasets.dataset", reason="needs the Dataset module"
)


class StatusLog:
    """A plugin recording every ``modelops_on_job_status`` call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str]] = []

    @hookimpl
    def modelops_on_job_status(
        self, job_id: str, status: str, previous_status: str | None, provider: str
    ) -> None:
        self.calls.append((job_id, previous_status, status))


def runtime_for(tmp_path: Path, **table: Any) -> Runtime:
    scripted = table.pop("scripted", {})
    config = parse_config(
        {**scripted_table(tmp_path, **scripted), **table}, source="test.toml", base=tmp_path
    )
    return Runtime(
        config,
        plugins=[store_plugin, artifacts_plugin, ("scripted-provider", finetune_support)],
        autoload=False,
        environ={},
    )


def dataset(tmp_path: Path, count: int = 12) -> Any:
    return dataset_module.Dataset.from_jsonl(write_chat_jsonl(tmp_path / "train.jsonl", count))


def new_job(tmp_path: Path, runtime: Runtime, clock: FakeClock, **options: Any) -> FineTuningJob:
    return FineTuningJob(
        model=options.pop("model", "gpt-4o-mini"),
        dataset=options.pop("data", None) or dataset(tmp_path),
        epochs=options.pop("epochs", 3),
        learning_rate=1e-5,
        provider="scripted",
        runtime=runtime,
        clock=clock,
        random_seed=7,
        **options,
    )


def provider_of(job: FineTuningJob) -> ScriptedProvider:
    component = job.provider_component
    assert isinstance(component, ScriptedProvider)
    return component


# --- choosing the provider -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-4o-mini", "openai"),
        ("ft:gpt-4o-mini:acme::abc", "openai"),
        ("gemini-2.5-flash", "vertex"),
        ("amazon.nova-micro-v1:0", "bedrock"),
        ("us.amazon.nova-lite-v1:0", "bedrock"),
        ("amazon.titan-text-express-v1", "bedrock"),
        ("meta.llama3-1-8b-instruct-v1:0", "bedrock"),
        ("cohere.command-light-text-v14", "bedrock"),
        ("local:logreg", "local"),
    ],
)
def test_the_provider_is_inferred_from_the_model_name(model: str, provider: str) -> None:
    assert infer_provider(model, parse_config({})) == provider


def test_a_configured_default_provider_wins(tmp_path: Path) -> None:
    config = parse_config({"providers": {"default": "scripted"}})
    assert infer_provider("gpt-4o-mini", config) == "scripted"


def test_an_unknown_model_name_lists_the_rules() -> None:
    with pytest.raises(UnknownProviderForModelError, match=r"provider='local'.*gemini-"):
        infer_provider("my-own-model", parse_config({}))


def test_the_users_example_builds_without_any_provider_installed(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path)
    job = FineTuningJob(
        model="gpt-4o-mini", dataset=dataset(tmp_path), epochs=3, learning_rate=1e-5,
        runtime=runtime,
    )  # fmt: skip
    assert (job.provider, job.status, job.id) == ("openai", JobStatus.PENDING, None)


# --- the state machine -------------------------------------------------------------------------


def test_a_job_runs_to_success_without_sleeping_for_real(tmp_path: Path) -> None:
    clock = FakeClock()
    job = new_job(tmp_path, runtime_for(tmp_path), clock).start()
    assert job.id == "job-1" and job.status is JobStatus.VALIDATING
    assert job.wait() is JobStatus.SUCCEEDED
    assert job.result == "ft:gpt-4o-mini:job-1"
    assert job.progress == 1.0 and f"{job.progress:.1%}" == "100.0%"
    assert clock.sleeps and all(s <= 300 for s in clock.sleeps)


def test_status_compares_with_plain_strings_and_progress_formats(tmp_path: Path) -> None:
    clock = FakeClock()
    job = new_job(tmp_path, runtime_for(tmp_path), clock).start()
    seen = []
    while job.status != "succeeded":
        seen.append((job.status.value, f"{job.progress:.1%}"))
        clock.sleep(1.0)
    assert seen == [
        ("validating", "0.0%"), ("queued", "25.0%"), ("running", "50.0%"), ("running", "75.0%"),
    ]  # fmt: skip
    assert job.status == "succeeded" and job.raw_status == "succeeded"


def test_status_is_refreshed_at_most_once_a_second(tmp_path: Path) -> None:
    clock = FakeClock()
    job = new_job(tmp_path, runtime_for(tmp_path), clock).start()
    first = [job.status for _ in range(5)]
    assert first == [JobStatus.VALIDATING] * 5  # no time passed: no call to the provider
    clock.sleep(1.0)
    assert job.status is JobStatus.QUEUED


def test_every_transition_fires_the_hook(tmp_path: Path) -> None:
    log = StatusLog()
    runtime = runtime_for(tmp_path)
    runtime.register_plugin(log, "status-log")
    job = new_job(tmp_path, runtime, FakeClock()).start()
    job.wait()
    assert log.calls == [
        ("job-1", None, "validating"),
        ("job-1", "validating", "queued"),
        ("job-1", "queued", "running"),
        ("job-1", "running", "succeeded"),
    ]


def test_an_unknown_raw_status_is_not_finished(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, scripted={"script": ["queued", "rebalancing", "succeeded"]})
    clock = FakeClock()
    job = new_job(tmp_path, runtime, clock).start()
    clock.sleep(1.0)
    assert (job.status, job.raw_status) == (JobStatus.RUNNING, "rebalancing")
    assert not job.status.finished
    assert job.wait() is JobStatus.SUCCEEDED


def test_a_failed_job_reports_the_providers_message(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, scripted={"script": ["queued", "running", "failed"]})
    job = new_job(tmp_path, runtime, FakeClock()).start()
    assert job.wait() is JobStatus.FAILED
    with pytest.raises(JobNotSucceededError, match="the scripted job failed"):
        _ = job.result
    assert job.error == "the scripted job failed"


def test_cancel(tmp_path: Path) -> None:
    job = new_job(tmp_path, runtime_for(tmp_path), FakeClock()).start()
    assert job.cancel() is JobStatus.CANCELLED
    assert job.wait() is JobStatus.CANCELLED
    with pytest.raises(JobNotSucceededError, match="cancelled"):
        _ = job.result
    assert job.store.get(job.run_id or "").status == "cancelled"  # runs list shows it


def test_events_come_from_the_provider(tmp_path: Path) -> None:
    job = new_job(tmp_path, runtime_for(tmp_path), FakeClock()).start()
    job.wait()
    messages = [event.message for event in job.events()]
    assert messages[0] == "created job for gpt-4o-mini" and messages[-1] == "status succeeded"


# --- preflight ---------------------------------------------------------------------------------


def test_a_failed_preflight_uploads_nothing(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, scripted={"min_examples": 50})
    job = new_job(tmp_path, runtime, FakeClock())
    with pytest.raises(PreflightError, match="at least 50 are needed") as caught:
        job.start()
    assert not caught.value.report.ok
    assert caught.value.report.provider_problems == ("12 examples; at least 50 are needed",)
    assert provider_of(job).uploads() == []
    assert job.store.recent() == []


def test_the_preflight_estimates_the_cost_from_the_price_table(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, prices={"gpt-4o-mini": {"training": 3.0}})
    report = new_job(tmp_path, runtime, FakeClock(), model="gpt-4o-mini-2024-07-18").preflight()
    assert report.ok and report.examples == 12
    cost = report.cost
    assert cost.tokens > 0 and cost.epochs == 3 and cost.price_key == "gpt-4o-mini"
    assert cost.total == pytest.approx(cost.tokens * 3 * 3.0 / 1_000_000)
    assert "$3/1M" in report.to_text()


def test_without_a_price_the_estimate_says_how_to_add_one(tmp_path: Path) -> None:
    report = new_job(tmp_path, runtime_for(tmp_path), FakeClock()).preflight()
    assert report.cost.total is None
    assert '[prices."gpt-4o-mini"] training' in report.cost.to_text()


# --- provider errors ---------------------------------------------------------------------------


def test_missing_credentials_surface_verbatim(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, scripted={"api_key": ""})
    job = new_job(tmp_path, runtime, FakeClock())
    with pytest.raises(MissingCredentialsError) as caught:
        job.start()
    assert str(caught.value) == (
        "scripted: no API key. Set SCRIPTED_API_KEY or [providers.scripted] api_key."
    )
    [run] = job.store.recent()
    assert run.status == "failed" and "SCRIPTED_API_KEY" in run.tags["job.error"]


def test_a_rejection_keeps_the_providers_message(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, scripted={"reject_with": "training file has 3 bad lines"})
    with pytest.raises(ProviderRejectedError, match="training file has 3 bad lines"):
        new_job(tmp_path, runtime, FakeClock()).start()


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, scripted={"unavailable_on": [2, 3], "retry_after": 7.5})
    clock = FakeClock()
    job = new_job(tmp_path, runtime, clock).start()
    assert job.wait(poll_interval=1.0) is JobStatus.SUCCEEDED
    assert clock.sleeps.count(7.5) == 2


def test_a_network_failure_mid_poll_leaves_the_job_tracked_and_attachable(tmp_path: Path) -> None:
    runtime = runtime_for(
        tmp_path, scripted={"unavailable_on": [2, 3, 4, 5]}, finetune={"max_retries": 2}
    )
    job = new_job(tmp_path, runtime, FakeClock()).start()
    with pytest.raises(ProviderUnavailableError, match=r"after 2 retries.*attach\('job-1'\)"):
        job.wait()
    again = FineTuningJob.attach("job-1", runtime_for(tmp_path), clock=FakeClock())
    assert again.wait() is JobStatus.SUCCEEDED and again.result == "ft:gpt-4o-mini:job-1"


def test_a_timeout_leaves_the_job_running_and_attachable(tmp_path: Path) -> None:
    runtime = runtime_for(
        tmp_path, scripted={"script": ["queued"] + ["running"] * 40 + ["succeeded"]}
    )
    clock = FakeClock()
    job = new_job(tmp_path, runtime, clock).start()
    start = clock.now
    with pytest.raises(JobTimeoutError, match="did not finish within 60s") as caught:
        job.wait(timeout=60, poll_interval=5)
    assert caught.value.job_id == "job-1" and clock.now - start == pytest.approx(60)
    assert job.store.get(job.run_id or "").status == "running"
    again = FineTuningJob.attach("job-1", runtime_for(tmp_path), clock=FakeClock())
    assert again.wait(poll_interval=0.1) is JobStatus.SUCCEEDED


# --- persistence -------------------------------------------------------------------------------


def test_a_new_runtime_over_the_same_home_attaches(tmp_path: Path) -> None:
    job = new_job(tmp_path, runtime_for(tmp_path), FakeClock(), suffix="bot").start()
    later = FineTuningJob.attach(job.id or "", runtime_for(tmp_path), clock=FakeClock())
    assert (later.model, later.provider, later.epochs, later.suffix) == (
        "gpt-4o-mini", "scripted", 3, "bot",
    )  # fmt: skip
    assert later.status is JobStatus.QUEUED  # the stored "validating", refreshed once
    assert later.wait() is JobStatus.SUCCEEDED


def test_every_change_is_written_to_the_tracking_run(tmp_path: Path) -> None:
    job = new_job(tmp_path, runtime_for(tmp_path), FakeClock()).start()
    job.wait()
    run = job.store.find("job-1")
    assert run.experiment == "fine-tuning" and run.status == "finished"
    assert {k: run.tags[k] for k in ("job.id", "job.provider", "job.status", "job.raw_status")} == {
        "job.id": "job-1", "job.provider": "scripted", "job.status": "succeeded",
        "job.raw_status": "succeeded",
    }  # fmt: skip
    assert run.tags["job.fine_tuned_model"] == "ft:gpt-4o-mini:job-1"
    assert run.params["model"] == "gpt-4o-mini" and run.params["hp.epochs"] == "3"
    assert run.params["dataset.fingerprint"] == job.dataset.fingerprint()  # type: ignore[union-attr]
    progress = [p.value for p in job.store.tracker.backend.get_metrics(job.run_id, "progress")]
    assert progress == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_an_unknown_job_id_says_where_to_look(tmp_path: Path) -> None:
    with pytest.raises(JobNotFoundError, match="modelops finetune list"):
        FineTuningJob.attach("job-404", runtime_for(tmp_path))


# --- registration ------------------------------------------------------------------------------


def test_success_registers_the_model_with_its_lineage(tmp_path: Path) -> None:
    from modelops_core.registry.model_registry import ModelRegistry

    runtime = runtime_for(tmp_path)
    job = new_job(tmp_path, runtime, FakeClock(), register_as="support-bot").start()
    job.wait()
    assert job.registered == "support-bot:1"
    with ModelRegistry(runtime) as registry:
        assert registry.load("support-bot")["model_id"] == "ft:gpt-4o-mini:job-1"
        lineage = registry.lineage("support-bot", "1")
    assert (lineage.training_job, lineage.provider, lineage.base_model) == (
        "job-1", "scripted", "gpt-4o-mini",
    )  # fmt: skip
    assert lineage.dataset_fingerprint == job.dataset.fingerprint()  # type: ignore[union-attr]
    assert lineage.extra["hyperparameters"] == {"epochs": 3, "learning_rate": 1e-05}


def test_the_config_can_register_every_job(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, finetune={"register": "from-config"})
    job = new_job(tmp_path, runtime, FakeClock()).start()
    job.wait()
    assert job.registered == "from-config:1"


def test_a_bad_finetune_table_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, finetune={"poll_intervall": 3})
    with pytest.raises(ConfigError, match="Did you mean 'poll_interval'"):
        new_job(tmp_path, runtime, FakeClock())


def test_preflight_lists_a_problem_once_when_the_provider_repeats_the_dataset_rules():
    from modelops_core.finetune.preflight import without_repeats

    dataset = ("line 3 [messages]: no assistant turn", "dataset: too few examples (4 < 10)")
    provider = ("line 3: no assistant turn", "too few examples (4 < 10)", "line 9: bad role")
    assert without_repeats(provider, dataset) == ("line 9: bad role",)
