"""A/B experiments from start to decision: the split is set through the traffic table, feedback
arrives over HTTP or from a file, and the analysis decides (ship, roll back, invalid) from the
request log the server writes; bad input is refused with errors that name it.

Most tests write the request log with the log's own writer (``ServingDatabase.insert_requests``,
the rows a server writes) so thousands of units cost milliseconds; one test drives a real server.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from modelops_core.config import parse_config
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.runtime import Runtime
from modelops_core.serving.database import ServingDatabase
from modelops_core.serving.errors import TrafficError, UnknownModelError
from modelops_core.serving.experiments.definition import Experiment
from modelops_core.serving.experiments.errors import (
    ExperimentDefinitionError,
    ExperimentStateError,
    FeedbackError,
    UnknownExperimentError,
    UnknownMetricError,
    UnknownUnitError,
)
from modelops_core.serving.experiments.feedback import ingest, ingest_file, records_of
from modelops_core.serving.experiments.store import ExperimentStore
from modelops_core.serving.settings import serving_settings
from modelops_core.serving.traffic import TrafficTable, unit_hash

# versions are registered through the default backends, which are plugins
pytest.importorskip("modelops_store_sql", reason="the sql registry backend is a plugin")
pytest.importorskip("modelops_artifacts_local", reason="the local artifact store is a plugin")


def runtime_for(home: Path, **serving: Any) -> Runtime:
    settings = {"flush_interval": 0.05, "poll_interval": 0.1, **serving}
    return Runtime(parse_config({"home": str(home), "serving": settings}))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """``router`` with versions 1 (production) and 2 (candidate)."""
    with ModelRegistry(runtime_for(tmp_path)) as registry:
        registry.register("router", "1", model={"weights": [1.0]})
        registry.register("router", "2", model={"weights": [2.0]})
        registry.set_alias("router", "production", "1")
        registry.set_alias("router", "candidate", "2")
    return tmp_path


@pytest.fixture
def store(home: Path) -> Iterator[ExperimentStore]:
    with ExperimentStore(runtime_for(home)) as opened:
        yield opened


def start(store: ExperimentStore, name: str = "router-v2", **options: Any) -> Experiment:
    given = {
        "model": "router",
        "control": "production",
        "treatment": "candidate",
        "split": 50,
        "metrics": ["resolved:proportion"],
        **options,
    }
    return store.start(name, **given)


def serve_units(
    store: ExperimentStore,
    experiment: Experiment,
    units: int,
    *,
    rates: tuple[float, float] = (0.30, 0.30),
    latency: tuple[float, float] = (20.0, 20.0),
    drop_treatment: float = 0.0,
    seed: int = 0,
    exact: bool = False,
) -> list[dict[str, Any]]:
    """Log one request per unit on the arm the experiment's split assigns (as the server
    does), and return feedback records with ``resolved`` drawn at the arm's rate; ``exact``:
    each arm resolved at exactly its rate, spread evenly over its units, whichever units the
    experiment's random salt puts in it (a drawn effect is below its mean in some runs)."""
    split = TrafficTable(store.runtime, database=store.database).get(experiment.model)
    rng = np.random.default_rng(seed)
    rows, feedback = [], []
    seen = [0, 0]  # units of each arm so far (exact)
    for index in range(units):
        unit = f"customer-{index}"
        arm = split.assign(unit)
        treated = arm == experiment.treatment
        if treated and rng.random() < drop_treatment:
            continue  # a logging bug on the treatment: its requests go missing
        version = "2" if treated else "1"
        rows.append(
            (
                f"req-{seed}-{index}",
                experiment.started_at + 0.001 * (index + 1),
                experiment.model,
                version,
                arm,
                0,
                unit_hash(experiment.salt, unit),
                float(rng.gamma(4.0, latency[treated] / 4.0)),
                200,
                "chat",
                None,
                None,
                None,
            )
        )
        drawn = rng.random() < rates[treated]
        if exact:  # the arm's k-th unit resolved when floor(k * rate) steps up
            k = seen[treated] = seen[treated] + 1
            drawn = math.floor(k * rates[treated]) > math.floor((k - 1) * rates[treated])
        feedback.append({"unit": unit, "value": int(drawn)})
    with ServingDatabase(store.settings.database, store.settings.schema) as database:
        database.insert_requests(rows)
    return feedback


# --- starting and stopping ---------------------------------------------------------------------


def test_start_splits_the_traffic_between_the_arms_with_the_experiments_salt(
    store: ExperimentStore,
) -> None:
    experiment = start(store, split=20)

    split = TrafficTable(store.runtime, database=store.database).get("router")
    assert dict(split.weights) == {"candidate": 20.0, "production": 80.0}
    assert split.salt == experiment.salt and experiment.salt.startswith("router-v2:")
    assert store.get("router-v2") == experiment
    assert [e.name for e in store.all()] == ["router-v2"]


def test_stop_restores_the_split_from_before_the_start(store: ExperimentStore) -> None:
    table = TrafficTable(store.runtime, database=store.database)
    table.set("router", {"production": 90, "candidate": 10}, salt="before")
    start(store)

    stopped = store.stop("router-v2")

    assert stopped.status == "stopped" and stopped.stopped_at is not None
    restored = table.get("router")
    assert (dict(restored.weights), restored.salt) == (
        {"candidate": 10.0, "production": 90.0},
        "before",
    )
    with pytest.raises(ExperimentStateError, match="'router-v2' is stopped already"):
        store.stop("router-v2")


def test_a_model_runs_one_experiment_at_a_time(store: ExperimentStore) -> None:
    start(store)
    with pytest.raises(ExperimentStateError, match="router already runs experiment 'router-v2'"):
        start(store, "other")
    with pytest.raises(ExperimentStateError, match="named 'router-v2' exists already"):
        start(store)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (
            {"model": "nope"},
            UnknownModelError,
            "No registered model 'nope' \\(registered: router\\)",
        ),
        ({"treatment": "shadowy"}, TrafficError, "router has no alias 'shadowy'"),
        ({"split": 0}, ExperimentDefinitionError, "--split 0 is not a percent between 0 and 100"),
        ({"split": 100}, ExperimentDefinitionError, "--split 100 is not a percent"),
        ({"split": 150}, ExperimentDefinitionError, "--split 150 is not a percent"),
        ({"metrics": ["resolved:ratio"]}, UnknownMetricError, "Unknown metric kind 'ratio'"),
        ({"metrics": ["latency_p99"]}, UnknownMetricError, "watch it with --guardrail"),
        (
            {"guardrails": ["latency_p98<+10%"]},
            UnknownMetricError,
            "Unknown guardrail metric 'latency_p98'",
        ),
        ({"guardrails": ["latency_p99>10"]}, ExperimentDefinitionError, "is not METRIC<\\+LIMIT"),
        ({"control": "candidate"}, ExperimentDefinitionError, "both 'candidate'"),
    ],
)
def test_bad_definitions_are_refused_by_name_and_leave_nothing_behind(
    store: ExperimentStore, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        start(store, **options)

    assert store.all() == []
    assert TrafficTable(store.runtime, database=store.database).all() == {}


def test_an_unknown_experiment_names_the_stored_ones(store: ExperimentStore) -> None:
    start(store)
    with pytest.raises(
        UnknownExperimentError, match="No experiment 'nope' \\(experiments: router-v2\\)"
    ):
        store.analyze("nope")


# --- feedback ----------------------------------------------------------------------------------


def test_feedback_for_a_unit_the_experiment_never_answered_is_refused(
    store: ExperimentStore,
) -> None:
    experiment = start(store)
    serve_units(store, experiment, 10)

    with pytest.raises(
        UnknownUnitError,
        match="\\[1\\]: unit 'stranger' was not answered by "
        "router@production or @candidate during experiment 'router-v2'",
    ):
        ingest(
            store,
            records_of([{"unit": "customer-1", "value": 1}, {"unit": "stranger", "value": 1}]),
            source="test",
        )
    with pytest.raises(
        UnknownMetricError, match="has no metric 'revenue' \\(its metrics: resolved\\)"
    ):
        ingest(
            store,
            records_of([{"unit": "customer-1", "metric": "revenue", "value": 3}]),
            source="test",
        )
    with pytest.raises(FeedbackError, match="resolved is a proportion, so its value is 0 or 1"):
        ingest(store, records_of([{"unit": "customer-1", "value": 3}]), source="test")
    assert store.feedback(experiment) == []  # nothing of a refused batch is kept


def test_a_feedback_file_is_stored_whole_or_not_at_all_and_counts_once(
    store: ExperimentStore, tmp_path: Path
) -> None:
    experiment = start(store)
    records = serve_units(store, experiment, 40)
    good = tmp_path / "outcomes.jsonl"
    good.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(records[0]) + "\n" + '{"unit": "customer-2", "valu": 1}\n')
    table = tmp_path / "outcomes.csv"
    table.write_text("request_id,value\nreq-0-0,1\nreq-0-1,0\n", encoding="utf-8")

    with pytest.raises(FeedbackError, match=f"{bad}:2: unknown key 'valu'. Did you mean 'value'"):
        ingest_file(store, bad)
    assert store.feedback(experiment) == []
    assert ingest_file(store, good) == {"router-v2": {"added": 40, "duplicates": 0}}
    assert ingest_file(store, good) == {"router-v2": {"added": 0, "duplicates": 40}}
    assert ingest_file(store, table) == {"router-v2": {"added": 2, "duplicates": 0}}
    stored = store.feedback(experiment)
    assert len(stored) == 42
    assert {row.unit for row in stored[-2:]} == {
        unit_hash(experiment.salt, "customer-0"),
        unit_hash(experiment.salt, "customer-1"),
    }


# --- the analysis and the decision -------------------------------------------------------------


def test_a_better_treatment_ships_with_its_effect_interval_and_guardrails(
    store: ExperimentStore,
) -> None:
    experiment = start(store, guardrails=["latency_p99<+10%"], min_sample=1000)
    served = serve_units(store, experiment, 4000, rates=(0.30, 0.38), latency=(20.0, 16.0))
    ingest(store, records_of(served), source="test")

    analysis = store.analyze("router-v2")

    primary = analysis.primary
    assert primary is not None
    units = (analysis.sample_ratio.control, analysis.sample_ratio.treatment)
    assert units == (primary.control_units, primary.treatment_units) and sum(units) == 4000
    assert analysis.sample_ratio.mismatch is False
    assert primary.sequential.low > 0 and primary.fixed.low > primary.sequential.low
    assert analysis.guardrails[0].state == "pass"
    assert analysis.decision == "ship", analysis.reason
    assert analysis.reason.startswith("candidate is significantly better on resolved")
    assert len(analysis.timeline) == 12 and analysis.timeline[-1].effect == primary.fixed.effect


def test_missing_treatment_logs_are_a_sample_ratio_mismatch_and_invalidate_the_result(
    store: ExperimentStore,
) -> None:
    experiment = start(store)
    records = serve_units(store, experiment, 2000, rates=(0.30, 0.40), drop_treatment=0.25)
    ingest(store, records_of(records), source="test")

    analysis = store.analyze("router-v2")

    assert analysis.sample_ratio.mismatch is True and analysis.sample_ratio.p_value < 0.001
    assert analysis.decision == "invalid"
    assert analysis.reason.startswith("Sample ratio mismatch:")


def test_a_slower_treatment_fails_its_latency_guardrail_and_is_rolled_back(
    store: ExperimentStore,
) -> None:
    experiment = start(store, guardrails=["latency_p99<+10%"])
    serve_units(store, experiment, 3000, latency=(20.0, 30.0))

    analysis = store.analyze("router-v2")

    guardrail = analysis.guardrails[0]
    assert guardrail.state == "fail" and guardrail.change is not None
    assert guardrail.change.lower > 0.10
    assert analysis.decision == "rollback"
    assert analysis.reason.startswith("Guardrail failed: latency_p99<+10%: latency_p99 +")


def test_metrics_share_holms_correction_as_statsmodels_multipletests(
    store: ExperimentStore,
) -> None:
    from statsmodels.stats.multitest import multipletests

    experiment = start(store, metrics=["resolved:proportion", "reopened:proportion", "csat:mean"])
    rng = np.random.default_rng(11)
    records = serve_units(store, experiment, 1500, rates=(0.30, 0.36))
    extra = [
        {"unit": r["unit"], "metric": "reopened", "value": int(rng.random() < 0.1)} for r in records
    ]
    extra += [
        {"unit": r["unit"], "metric": "csat", "value": float(rng.normal(4, 1))}
        for r in records[::3]
    ]
    resolved = [{**r, "metric": "resolved"} for r in records]
    ingest(store, records_of(resolved + extra), source="test")

    analysis = store.analyze("router-v2")

    raw = [m.sequential.p_value for m in analysis.metrics]
    expected = multipletests(raw, alpha=0.05, method="holm")[1]
    assert [m.adjusted_p for m in analysis.metrics] == pytest.approx(list(expected), rel=1e-12)
    assert [m.control_units + m.treatment_units for m in analysis.metrics] == [1500, 1500, 500]


def test_a_pre_period_value_turns_on_cuped_and_narrows_the_interval(
    store: ExperimentStore,
) -> None:
    experiment = start(store, metrics=["minutes_saved:mean"])
    records = serve_units(store, experiment, 1200)
    rng = np.random.default_rng(2)
    pre = rng.normal(30, 8, len(records))
    outcome = pre + rng.normal(0, 3, len(records))
    plain = [{"unit": r["unit"], "value": float(v)} for r, v in zip(records, outcome, strict=True)]
    with_pre = [{**p, "pre": float(x)} for p, x in zip(plain, pre, strict=True)]

    ingest(store, records_of(plain), source="test")
    before = store.analyze("router-v2").metrics[0]
    store.stop("router-v2")
    # the same units and values in a second experiment, now with a pre-period covariate
    second = start(store, "with-pre", metrics=["minutes_saved:mean"])
    assert len(serve_units(store, second, 1200, seed=1)) == 1200
    ingest(store, records_of([{**r, "experiment": "with-pre"} for r in with_pre]), source="t")
    after = store.analyze("with-pre").metrics[0]

    assert before.theta is None and after.theta is not None
    correlation = float(np.corrcoef(outcome, pre)[0, 1])
    assert after.variance_reduction == pytest.approx(correlation**2, abs=0.02)
    assert after.fixed.standard_error < 0.5 * before.fixed.standard_error


def test_the_power_warning_names_the_units_needed_as_statsmodels_computes_them(
    store: ExperimentStore,
) -> None:
    from statsmodels.stats.power import NormalIndPower

    experiment = start(store, mde=0.05, min_sample=100)
    ingest(store, records_of(serve_units(store, experiment, 600)), source="test")

    analysis = store.analyze("router-v2")

    primary = analysis.primary
    assert primary is not None
    sd = primary.fixed.standard_error / np.sqrt(
        1 / primary.treatment_units + 1 / primary.control_units
    )
    effect_size = 0.05 * primary.control_mean / sd
    expected = NormalIndPower().solve_power(effect_size, alpha=0.05, power=0.8, ratio=1.0)
    assert analysis.units_needed == int(np.ceil(expected))
    assert any(
        w.startswith(
            f"Underpowered: {min(primary.control_units, primary.treatment_units)}"
            f" units in the smaller arm, {analysis.units_needed} wanted per arm"
        )
        for w in analysis.warnings
    )
    assert analysis.decision == "keep-running"


# --- hostile rows, PostgreSQL, two processes at once -------------------------------------------


def test_hostile_rows_written_with_plain_sql_are_named_not_analysed(
    store: ExperimentStore,
) -> None:
    experiment = start(store)
    ingest(store, records_of(serve_units(store, experiment, 20)), source="test")
    path = store.settings.database
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE modelops_feedback SET value = 'lots' WHERE rowid = 3")
    with pytest.raises(
        ExperimentStateError,
        match="Feedback row 'router-v2:[0-9a-f]+' of "
        "experiment 'router-v2' in modelops_feedback is damaged",
    ):
        store.analyze("router-v2")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE modelops_experiments SET metrics = '[\"x:ratio\"]'")
    with pytest.raises(
        ExperimentStateError,
        match="The stored experiment 'router-v2' is damaged \\(Unknown metric kind 'ratio'",
    ):
        store.get("router-v2")


def _start_in_a_process(
    home: str, name: str, database: str, schema: str | None, gate: Any, results: Any
) -> None:
    runtime = runtime_for(Path(home))
    settings = attrs.evolve(serving_settings(runtime.config), database=database, schema=schema)
    with ExperimentStore(runtime, settings=settings) as opened:
        opened.all()  # connected, tables made: the race is the start itself
        gate.wait(timeout=30)
        try:
            start(opened, name)
            results.put((name, "started"))
        except ExperimentStateError as exc:
            results.put((name, str(exc)))


def race_two_starts(home: Path, database: str, schema: str | None) -> list[tuple[str, str]]:
    runtime = runtime_for(home)
    settings = attrs.evolve(serving_settings(runtime.config), database=database, schema=schema)
    with ExperimentStore(runtime, settings=settings) as opened:
        assert opened.all() == []  # the serving tables exist before two processes open them
    context = multiprocessing.get_context("spawn")
    gate, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(
            target=_start_in_a_process,
            args=(str(home), name, database, schema, gate, results),
            daemon=True,
        )
        for name in ("first", "second")
    ]
    for process in processes:
        process.start()
    found = sorted(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(30)
    return found


def test_two_processes_starting_on_one_model_at_once_get_one_experiment_sqlite(
    home: Path,
) -> None:
    database = str(home / "serving.db")
    outcomes = race_two_starts(home, database, None)

    started = [name for name, outcome in outcomes if outcome == "started"]
    refused = [outcome for _, outcome in outcomes if outcome != "started"]
    assert len(started) == 1 and len(refused) == 1
    assert "router already runs experiment" in refused[0]
    with ExperimentStore(runtime_for(home)) as opened:
        assert [e.name for e in opened.all()] == started
        assert TrafficTable(opened.runtime, database=opened.database).get("router").salt == (
            opened.get(started[0]).salt
        )


def test_postgresql_holds_experiments_and_feedback_and_refuses_a_second_start(
    home: Path,
) -> None:
    from modelops_core.testing.servers import fresh_postgres_schema, postgres_url_or_skip

    url = postgres_url_or_skip()
    with fresh_postgres_schema(url, prefix="modelops_experiments") as schema:
        outcomes = race_two_starts(home, url, schema)
        runtime = runtime_for(home)
        settings = attrs.evolve(serving_settings(runtime.config), database=url, schema=schema)
        with ExperimentStore(runtime, settings=settings) as opened:
            name = next(n for n, outcome in outcomes if outcome == "started")
            experiment = opened.get(name)
            # modelops_requests.timestamp is REAL, 4 bytes on PostgreSQL: rounded to 128 s, a
            # request a second after the start may land before it. Serve these 200 s later.
            later = attrs.evolve(experiment, started_at=experiment.started_at + 200)
            # outcomes at exactly 20 % and 50 % per arm: drawn ones fell short of "ship" in
            # about 2 % of runs, as the salt (random) decides which units are treated
            records = serve_units(opened, later, 400, rates=(0.2, 0.5), exact=True)
            added = ingest(opened, records_of(records), source="test")
            analysis = opened.analyze(name)
            import psycopg

            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(
                    f"UPDATE \"{schema}\".modelops_experiments SET previous = '{{broken'"
                )
            with pytest.raises(
                ExperimentStateError, match=f"stored experiment '{name}' is damaged"
            ):
                opened.get(name)

    assert sorted(outcome == "started" for _, outcome in outcomes) == [False, True]
    assert added == {name: {"added": 400, "duplicates": 0}}
    assert analysis.sample_ratio.control + analysis.sample_ratio.treatment == 400
    assert analysis.decision == "ship"
