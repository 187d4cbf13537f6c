"""A real local-provider model, trained once per session on generated support tickets."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from modelops_provider_local.provider import LocalProvider
from modelops_provider_local.synthetic import support_tickets

from modelops_core.config import parse_config
from modelops_core.finetune.provider_contract import TuningRequest
from modelops_core.runtime import Runtime


@attrs.frozen
class TrainedModel:
    model_id: str
    root: Path
    holdout: Path
    inputs: list[str]


def write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture
def redis_url() -> str:
    """Database 15 of the Redis on 127.0.0.1:6379; the test is skipped when none answers."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return url


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """500 training tickets, 3 epochs (about a second); 200 held out."""
    directory = tmp_path_factory.mktemp("trained")
    records = support_tickets(700, seed=7)
    train = write_jsonl(directory / "train.jsonl", records[:500])
    holdout = write_jsonl(directory / "holdout.jsonl", records[500:])
    root = directory / "local"
    provider = LocalProvider(root=str(root), inline=True)
    job = provider.start(
        TuningRequest(
            model="local:logreg",
            training_file=str(train),
            hyperparameters={"epochs": 3, "learning_rate": 0.05, "seed": 1},
        )
    )
    assert job.fine_tuned_model is not None, job.error
    return TrainedModel(job.fine_tuned_model, root, holdout, [r["prompt"] for r in records[500:]])


def runtime_for(trained: TrainedModel, home: Path, **tables: object) -> Runtime:
    """A runtime with every installed plugin, its home ``home``, serving ``trained``; extra
    configuration tables (``optimize={...}``, ``prices={...}``) as keywords."""
    table = {"home": str(home), "providers": {"local": {"root": str(trained.root)}}, **tables}
    return Runtime(parse_config(table, source="test.toml"), environ={})
