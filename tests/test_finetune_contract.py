"""The provider contract suite, run against the scripted provider the fine-tuning tests use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import finetune_support
from finetune_support import ScriptedProvider, chat_records, to_status

from modelops_core.finetune.provider_contract import JobStatus
from modelops_core.testing import ProviderContract


class TestScriptedProviderContract(ProviderContract):
    plugin = finetune_support
    component_name = "scripted"
    model = "gpt-4o-mini"
    training_records = chat_records()
    invalid_records = ({"prompt": "no messages here"},)
    status_examples = {
        "validating_files": JobStatus.VALIDATING,
        "queued": JobStatus.QUEUED,
        "running": JobStatus.RUNNING,
        "succeeded": JobStatus.SUCCEEDED,
        "failed": JobStatus.FAILED,
        "cancelled": JobStatus.CANCELLED,
    }
    credential_names = ("SCRIPTED_API_KEY",)

    def component_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"state_file": str(tmp_path / "scripted.json")}

    def to_status(self, raw_status: str) -> JobStatus:
        return to_status(raw_status)

    def options_without_credentials(self, tmp_path: Path) -> dict[str, Any] | None:
        return {**self.component_options(tmp_path), "api_key": ""}

    def test_the_scripted_provider_counts_uploads(self, component: ScriptedProvider) -> None:
        assert component.uploads() == []
