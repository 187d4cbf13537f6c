"""The local provider passes the provider contract, with background workers and inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from modelops_provider_local import plugin
from modelops_provider_local.jobstore import to_status
from modelops_provider_local.synthetic import support_tickets

from modelops_core.finetune.provider_contract import JobStatus
from modelops_core.testing import ProviderContract


class LocalProviderSettings(ProviderContract):
    """What both suites share."""

    plugin = plugin
    component_name = "local"
    distribution = "modelops-provider-local"
    model = "local:logreg"
    training_records = support_tickets(60, seed=1)
    invalid_records = ({"no_known_field": 1}, {"prompt": "no completion"})
    hyperparameters = {"epochs": 2, "learning_rate": 0.05, "seed": 3}
    predict_inputs = ("I was charged twice for my plan", "my order has not arrived")
    status_examples = {
        "pending": JobStatus.PENDING,
        "validating": JobStatus.VALIDATING,
        "running": JobStatus.RUNNING,
        "cancelling": JobStatus.RUNNING,
        "succeeded": JobStatus.SUCCEEDED,
        "failed": JobStatus.FAILED,
        "cancelled": JobStatus.CANCELLED,
    }
    finish_timeout = 120.0
    poll_interval = 0.05

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"home": str(tmp_path / ".modelops")}

    def to_status(self, raw_status: str) -> Any:
        return to_status(raw_status)


class TestLocalProviderInBackground(LocalProviderSettings):
    """Jobs run in a detached worker process, as they do by default."""

    pytestmark = pytest.mark.slow  # each job starts a Python process (numpy + scipy import)


class TestLocalProviderInline(LocalProviderSettings):
    """``inline = true``: ``start()`` trains before it returns."""

    cancel_while_running = False

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"home": str(tmp_path / ".modelops"), "inline": True}
