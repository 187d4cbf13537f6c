"""The local provider's models as a model flavor: the flavor contract, and a fine-tuned model
registered, loaded in a fresh registry and evaluated through it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from local_provider_files import write_jsonl
from modelops_provider_local import plugin as local_plugin
from modelops_provider_local.artifact import load_model
from modelops_provider_local.provider import LocalProvider

from modelops_core.config import Config
from modelops_core.finetune.provider_contract import JobStatus, TuningRequest
from modelops_core.flavors.model import FlavorModel
from modelops_core.registry.model_registry import ModelRegistry
from modelops_core.testing import make_runtime
from modelops_core.testing.contracts.flavors import ModelFlavorContract

RECORDS = [
    {"prompt": f"{word} {n}", "completion": label}
    for n in range(12)
    for word, label in (("refund my invoice", "billing"), ("password reset fails", "account"))
]
TEXTS = ["invoice refund please", "cannot reset my password"]


def trained(tmp_path: Path) -> Any:
    provider = LocalProvider(home=str(tmp_path / ".modelops"), inline=True)
    train = write_jsonl(tmp_path / "train.jsonl", RECORDS)
    job = provider.start(TuningRequest(model="local:auto", training_file=str(train),
                                       hyperparameters={"epochs": 3}))  # fmt: skip
    assert job.status is JobStatus.SUCCEEDED, job.error
    return load_model(Path(job.details["artifact_path"]))


class TestLocalFlavor(ModelFlavorContract):
    plugin = local_plugin
    component_name = "local"
    distribution = "modelops-provider-local"

    @pytest.fixture(autouse=True)
    def _model(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._trained = trained(tmp_path_factory.mktemp("local"))

    def example(self) -> tuple[Any, Any]:
        return self._trained, TEXTS


def test_a_fine_tuned_model_is_registered_and_loaded_through_the_flavor(tmp_path: Path) -> None:
    model = trained(tmp_path)
    home = tmp_path / ".modelops"
    store = pytest.importorskip("modelops_store_sql.plugin")
    artifacts = pytest.importorskip("modelops_artifacts_local.plugin")
    plugins = [("modelops-store-sql", store), ("modelops-artifacts-local", artifacts),
               ("modelops-provider-local", local_plugin)]  # fmt: skip
    with ModelRegistry(make_runtime(home, plugins, config=Config(home=home))) as registry:
        record = registry.register("tickets", model=model)
        assert record.serializer == "local"
        assert record.metadata["model_flavor"]["details"]["kind"] == "classifier"
    with ModelRegistry(make_runtime(home, plugins, config=Config(home=home))) as fresh:
        loaded = fresh.load("tickets")
    assert isinstance(loaded, FlavorModel) and not hasattr(loaded, "predict_proba")
    assert loaded.predict(TEXTS) == model.predict(TEXTS) == ["billing", "account"]
