"""One local fine-tuning job from start to finish: validate, featurize, train, save.

:func:`run_job` is what the background worker (``python -m modelops_provider_local.worker``)
and the ``inline = true`` mode both call, so the two paths are the same code.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from modelops_provider_local.examples import read_examples, summarize_problems
from modelops_provider_local.jobstore import JobFiles, read_json

# base model name (after "local:") -> what it trains; "auto" decides from the data
BASE_MODELS = {"auto": "auto", "logreg": "logreg", "retrieval": "retrieval"}
MAX_CLASSES = 50
MAX_DISTINCT_SHARE = 0.2
#: what ``tokens_seen`` counts: the word tokens of the inputs (as the featurizer splits words)
_WORD = re.compile(r"\w+")


class JobRejected(ValueError):
    """The request or its data cannot be trained; the message says why and what to do."""


@attrs.frozen
class Settings:
    """The job's hyperparameters, with their defaults (see the README for their meaning)."""

    epochs: int = 5
    learning_rate: float = 0.05
    batch_size: int | None = None  # None: auto
    l2: float = 1e-4
    seed: int = 0
    optimizer: str = "adam"
    n_features: int = 2**18

    def batch_for(self, n: int) -> int:
        """The batch size for ``n`` examples: as set, or about 100 steps per epoch."""
        if self.batch_size is not None:
            return self.batch_size
        return min(1024, max(32, n // 100))


_INTEGERS = ("epochs", "seed", "n_features")
_FLOATS = ("learning_rate", "l2")


def parse_settings(hyperparameters: Mapping[str, Any]) -> Settings:
    """:class:`Settings` from a request's hyperparameters; unknown names are refused."""
    known = [field.name for field in attrs.fields(Settings)]
    values: dict[str, Any] = {}
    for name, value in hyperparameters.items():
        if value is None or value == "auto":
            continue
        if name not in known:
            raise JobRejected(
                f"The local provider has no hyperparameter {name!r}. Use: {', '.join(known)}."
            )
        if name == "seed":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise JobRejected(f"Hyperparameter 'seed' must be an integer >= 0: {value!r}.")
        elif name in _INTEGERS or name == "batch_size":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise JobRejected(f"Hyperparameter {name!r} must be a positive integer: {value!r}.")
        elif name in _FLOATS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise JobRejected(f"Hyperparameter {name!r} must be a number >= 0: {value!r}.")
            value = float(value)
        elif name == "optimizer" and value not in ("adam", "lbfgs"):
            raise JobRejected(f"Hyperparameter 'optimizer' must be 'adam' or 'lbfgs': {value!r}.")
        values[name] = value
    settings = Settings(**values)
    if settings.learning_rate <= 0 and settings.optimizer == "adam":
        raise JobRejected("Hyperparameter 'learning_rate' must be above 0 for the adam optimizer.")
    return settings


def base_model(model: str) -> str:
    """``auto``, ``logreg`` or ``retrieval`` from a model name such as ``local:logreg``."""
    name = model.removeprefix("local:") if model != "local" else "auto"
    if name not in BASE_MODELS:
        raise JobRejected(
            f"The local provider has no base model {model!r}. Use local:auto (chosen from the "
            "data), local:logreg (labels) or local:retrieval (free text)."
        )
    return BASE_MODELS[name]


def choose_kind(base: str, targets: Sequence[str]) -> str:
    """``logreg`` when the targets look like labels, else ``retrieval`` (for ``auto``).

    Labels: at least two distinct targets, and at most 50 of them with at least two examples
    per target on average, or at most 20% of the examples distinct.
    """
    if base != "auto":
        return base
    distinct = len(set(targets))
    n = len(targets)
    labels = (distinct <= MAX_CLASSES and distinct * 2 <= n) or distinct <= MAX_DISTINCT_SHARE * n
    return "logreg" if labels and distinct >= 2 else "retrieval"


def data_problems(kind: str, targets: Sequence[str]) -> list[str]:
    """What makes these targets untrainable for ``kind`` (auto, logreg or retrieval)."""
    distinct = len(set(targets))
    if len(targets) < 2:
        return [f"Only {len(targets)} valid example(s); the local provider needs at least 2."]
    if distinct < 2 and kind in ("auto", "logreg"):
        return [
            f"Every completion is {targets[0]!r}: a classifier needs at least 2 different "
            "completions (classes)."
        ]
    return []


def run_job(directory: Path, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Run the job in ``directory`` to a finished status (never raises for a training error)."""
    files = JobFiles(directory)
    stopping = lambda: should_stop() or files.cancel_flag.exists()  # noqa: E731
    try:
        _run(files, stopping)
    except _Cancelled:
        files.add_event("job cancelled", "warning")
        files.update_status(status="cancelled")
    except JobRejected as exc:
        files.add_event(str(exc), "error")
        files.update_status(status="failed", error=str(exc))
    except Exception as exc:  # the job fails with the reason; the worker must not vanish
        message = f"training failed: {type(exc).__name__}: {exc}"
        files.add_event(message, "error")
        files.update_status(status="failed", error=message)


class _Cancelled(Exception):
    pass


def _run(files: JobFiles, should_stop: Callable[[], bool]) -> None:
    import numpy as np

    from modelops_provider_local.artifact import ClassifierModel, RetrievalModel, save_model
    from modelops_provider_local.classifier import TrainingStopped, train_logistic_regression
    from modelops_provider_local.features import HashedFeatures
    from modelops_provider_local.retrieval import RetrievalIndex

    request = read_json(files.request)
    if should_stop():
        raise _Cancelled
    files.update_status(status="validating")
    files.add_event("validating the training file")
    started = time.perf_counter()
    settings = parse_settings(request.get("hyperparameters") or {})
    base = base_model(request["model"])
    examples = read_examples(files.training_file)
    problems = examples.problems + data_problems(base, examples.targets)
    validation = None
    if files.validation_file.exists():
        validation = read_examples(files.validation_file)
        problems += validation.problems
    if problems:
        raise JobRejected(
            "The training data has problems:\n" + "\n".join(summarize_problems(problems))
        )
    kind = choose_kind(base, examples.targets)
    short_id = files.job_id.removeprefix("local-")
    model_id = f"local:{kind}:ft-{short_id}"
    featurizer = HashedFeatures(n_features=settings.n_features)
    features = featurizer.transform(examples.inputs)
    validation_features = featurizer.transform(validation.inputs) if validation else None
    n = len(examples.inputs)
    if should_stop():
        raise _Cancelled
    files.update_status(status="running", progress=0.0, epochs=settings.epochs, kind=kind)
    metrics: dict[str, float] = {}
    if kind == "logreg":
        classes = sorted(set(examples.targets))
        position = {label: index for index, label in enumerate(classes)}
        labels = np.array([position[target] for target in examples.targets], dtype=np.int64)
        batch = settings.batch_for(n)
        total_steps = (
            settings.epochs * -(-n // batch) if settings.optimizer == "adam" else settings.epochs
        )
        files.add_event(
            f"training a logistic regression: {n} examples, {len(classes)} classes, "
            f"{settings.optimizer}, {settings.epochs} epochs"
            + (
                f", batch {batch}, learning rate {settings.learning_rate:g}"
                if settings.optimizer == "adam"
                else ""
            ),
            data={"examples": n, "classes": len(classes), "batch_size": batch},
        )
        if settings.optimizer == "lbfgs":
            files.add_event(
                "learning_rate is not used by lbfgs: its line search chooses every step; "
                "one epoch is one full-data evaluation of loss and gradient",
                "warning",
            )
        elif settings.learning_rate < 1e-3:
            files.add_event(
                f"learning rate {settings.learning_rate:g} is Adam's step size here, not a "
                "multiplier: the weights will barely move (try 0.01 to 0.1)",
                "warning",
            )
        validation_pair = None
        if validation is not None and validation_features is not None:
            validation_labels = np.array(
                [position.get(target, -1) for target in validation.targets], dtype=np.int64
            )
            validation_pair = (validation_features, validation_labels)

        tokens_per_epoch = sum(len(_WORD.findall(text)) for text in examples.inputs)

        # step 0: the loss before training (weights start at zero: every class 1/K), so the
        # curve shows where it started
        start: dict[str, Any] = {"step": 0, "epoch": 0, "train_loss": math.log(len(classes))}
        if validation_pair is not None and (validation_pair[1] >= 0).any():
            start["validation_loss"] = math.log(len(classes))
        files.add_metrics({**start, "tokens_seen": 0})

        def on_epoch(report: Any) -> None:
            row: dict[str, Any] = {
                "step": report.steps,
                "epoch": report.epoch,
                "train_loss": report.loss,
                "train_accuracy": report.train_accuracy,
                "tokens_seen": tokens_per_epoch * report.epoch,
            }
            if settings.optimizer == "adam":
                row["learning_rate"] = settings.learning_rate
            if report.validation_loss is not None:
                row["validation_loss"] = report.validation_loss
            if report.validation_accuracy is not None:
                row["validation_accuracy"] = report.validation_accuracy
            files.add_metrics(row)
            data = {
                "epoch": report.epoch,
                "epochs": settings.epochs,
                "step": report.steps,
                "loss": report.loss,
                "train_accuracy": report.train_accuracy,
            }
            message = (
                f"epoch {report.epoch}/{settings.epochs}: loss {report.loss:.4f}, "
                f"train accuracy {report.train_accuracy:.3f}"
            )
            if report.validation_loss is not None:
                data["validation_loss"] = report.validation_loss
                message += f", validation loss {report.validation_loss:.4f}"
            if report.validation_accuracy is not None:
                data["validation_accuracy"] = report.validation_accuracy
                message += f", validation accuracy {report.validation_accuracy:.3f}"
            files.add_event(message, data=data)
            metrics.update(
                {key: float(data[key]) for key in data if key not in ("epoch", "epochs", "step")}
            )
            files.update_status(
                progress=report.epoch / settings.epochs,
                epoch=report.epoch,
                step=report.steps,
                total_steps=total_steps,
                metrics=metrics,
            )

        try:
            weights = train_logistic_regression(
                features,
                labels,
                len(classes),
                epochs=settings.epochs,
                learning_rate=settings.learning_rate,
                batch_size=batch,
                l2=settings.l2,
                seed=settings.seed,
                optimizer=settings.optimizer,
                validation=validation_pair,
                on_epoch=on_epoch,
                should_stop=should_stop,
            )
        except TrainingStopped:
            raise _Cancelled from None
        model: Any = ClassifierModel(featurizer, classes, weights)
    else:
        files.add_event(
            f"indexing {n} prompts for nearest-prompt retrieval "
            f"({len(set(examples.targets))} distinct completions); epochs and learning_rate "
            "do not apply to retrieval",
            data={"examples": n},
        )
        model = RetrievalModel(featurizer, RetrievalIndex.build(features, examples.targets))
        if validation is not None:
            predicted = model.predict(validation.inputs)
            matches = [p == t for p, t in zip(predicted, validation.targets, strict=True)]
            metrics["validation_exact_match"] = sum(matches) / len(matches)
            files.add_event(
                f"validation exact match {metrics['validation_exact_match']:.3f}",
                data=dict(metrics),
            )
    if should_stop():
        raise _Cancelled
    seconds = time.perf_counter() - started
    directory = Path(request["models_dir"]) / model_id.removeprefix("local:").replace(":", "-")
    save_model(
        model,
        directory,
        {
            "model_id": model_id,
            "base_model": request["model"],
            "job_id": files.job_id,
            "hyperparameters": attrs.asdict(settings),
            "metrics": metrics,
            "examples": n,
        },
    )
    files.add_event(
        f"succeeded in {seconds:.2f}s: {model_id}",
        data={"fine_tuned_model": model_id, "seconds": seconds, **metrics},
    )
    files.update_status(
        status="succeeded",
        progress=1.0,
        fine_tuned_model=model_id,
        artifact_path=str(directory),
        metrics=metrics,
        seconds=seconds,
    )
