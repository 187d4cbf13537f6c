"""The errors of fine-tuning: each says which job, what happened and what to do next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelops_core.errors import ConfigError, ModelOpsError

if TYPE_CHECKING:
    from modelops_core.finetune.preflight import PreflightReport


class FineTuningError(ModelOpsError):
    """A fine-tuning job could not be started, followed or finished."""


class UnknownProviderForModelError(ConfigError):
    """No provider was given and none could be inferred from the configuration or model name."""


class PreflightError(FineTuningError):
    """The dataset failed the provider's rules; nothing was uploaded. ``report`` has it all."""

    def __init__(self, report: PreflightReport) -> None:
        # the cause first: the first problem, with who found it, then the whole report
        if report.provider_problems and not report.dataset_problems:
            cause = f"{report.provider}: {report.provider_problems[0]}"
            fix = "Fix the request (model, method, hyperparameters) or the data as it says"
        else:
            cause = f"dataset: {report.problems[0]}" if report.problems else "no details"
            fix = "Fix the dataset"
        more = len(report.problems) - 1
        super().__init__(
            f"{cause}\n"
            f"Preflight failed{f' ({more} more problem(s) below)' if more > 0 else ''}; "
            f"nothing was uploaded. {fix} and start again.\n" + report.to_text(shown=5)
        )
        self.report = report


class JobTimeoutError(FineTuningError):
    """``wait()`` gave up; the job is still running, tracked, and can be re-attached."""

    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobNotFoundError(FineTuningError):
    """No tracked job has this id in the tracking store."""


class JobNotStartedError(FineTuningError):
    """The job has not been started yet, so it has no provider job to ask about."""


class JobNotSucceededError(FineTuningError):
    """``result`` was asked of a job that has not succeeded (the message says its status)."""
