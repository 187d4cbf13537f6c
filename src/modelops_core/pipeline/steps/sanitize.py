"""The ``sanitize`` step: run the sanitizer pipeline over the train and test files."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelops_core.pipeline.steps import component_choice

if TYPE_CHECKING:
    from modelops_core.pipeline.runner import StepContext


class SanitizeStep:
    """Sanitize the latest ``train`` (and ``test``) files with ``[sanitizers] pipeline``.

    With no pipeline configured, PII is redacted in every text field (safe by default).
    The report (counts per type and field, never the values) is written beside the files.

    :param pipeline: sanitizer names, or tables with options (``{ name = "dedupe" }``), to use
        instead of the configuration's pipeline.
    """

    def __init__(self, pipeline: Sequence[str | Mapping[str, Any]] | None = None) -> None:
        self.pipeline = (
            None
            if pipeline is None
            else [
                component_choice(p, f"sanitize step pipeline[{i}]") for i, p in enumerate(pipeline)
            ]
        )

    def run(self, context: StepContext) -> Mapping[str, Any]:
        from modelops_core.datasets.dataset import Dataset
        from modelops_core.datasets.sanitize import DatasetSanitizer

        outputs: dict[str, Any] = {}
        reports: dict[str, Any] = {}
        for part in ("train", "test"):
            source = context.latest(part, None)
            if source is None:
                continue
            sanitizer = DatasetSanitizer(context.runtime, pipeline=self.pipeline)
            cleaned = sanitizer.sanitize(Dataset.from_jsonl(source))
            target = context.workdir / f"{part}.jsonl"
            cleaned.save(target)
            outputs[part] = str(target.resolve())
            outputs[f"{part}_examples"] = len(cleaned)
            reports[part] = sanitizer.report
        report_path = context.workdir / "sanitize-report.json"
        report_path.write_text(json.dumps(reports, indent=2, default=str), encoding="utf-8")
        outputs["sanitize_report"] = str(report_path.resolve())
        findings = sum(_count(report) for report in reports.values())
        outputs["findings"] = findings
        context.say(f"{findings} findings redacted")
        if context.run is not None:
            context.run.log_metrics({"sanitize.findings": findings})
        return outputs


def _count(report: Any) -> int:
    """Findings in a sanitizer report: its own count, or the sum over its sanitizers."""
    if not isinstance(report, Mapping):
        return 0
    parts = report.get("sanitizers")
    if isinstance(parts, list):
        return sum(_count(part) for part in parts)
    total = report.get("findings")
    return total if isinstance(total, int) else 0
