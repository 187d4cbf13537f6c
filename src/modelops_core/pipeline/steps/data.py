"""The ``dataset`` step: read a data file, split it, and write train/test JSONL files."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelops_core.datasets.dataset import Dataset
    from modelops_core.pipeline.runner import StepContext


class DatasetStep:
    """Read ``path`` (JSONL, JSON, CSV or Markdown), optionally convert, then split.

    :param path: the data file, relative to the pipeline file.
    :param mapping: for CSV files, canonical field -> column (``{ prompt = "text" }``).
    :param convert: a format to convert to (``"chat"``, ``"prompt_completion"`` …).
    :param test_size: the share held out for evaluation (0 keeps everything for training).
    :param seed: the split's seed.
    :param stratify: keep the completion (label) proportions in both parts.
    """

    def __init__(
        self,
        path: str,
        mapping: Mapping[str, str] | None = None,
        convert: str | None = None,
        test_size: float = 0.2,
        seed: int = 0,
        stratify: bool = True,
    ) -> None:
        if not 0.0 <= test_size < 1.0:
            raise ValueError(f"test_size must be in [0, 1), got {test_size}.")
        self.path = path
        self.mapping = dict(mapping) if mapping else None
        self.convert = convert
        self.test_size = test_size
        self.seed = seed
        self.stratify = stratify

    def cache_inputs(self, context: StepContext) -> Mapping[str, Any]:
        source = context.path(self.path)
        return {"sha256": _file_digest(source) if source.is_file() else "missing"}

    def plan(self, context: StepContext) -> str:
        """For ``--dry-run``: the data file must exist."""
        from modelops_core.pipeline.runner import PipelineError

        source = context.path(self.path)
        if not source.is_file():
            raise PipelineError(
                f"{context.step.where}: the data file {str(source)!r} does not exist. Write it "
                f"there, or change path = {self.path!r} (relative to {context.pipeline.base_dir})."
            )
        return f"reads {source.name}"

    def run(self, context: StepContext) -> Mapping[str, Any]:
        dataset = self._read(context.path(self.path))
        if self.convert:
            dataset = dataset.convert(to=self.convert)
        fingerprint = dataset.fingerprint()
        context.say(f"{len(dataset)} examples, {fingerprint[:19]}")
        outputs: dict[str, Any] = {"dataset_fingerprint": fingerprint, "examples": len(dataset)}
        if self.test_size > 0:
            train, test = dataset.split(
                test_size=self.test_size, seed=self.seed, stratify=self.stratify
            )
            outputs["test"] = _save(test, context.workdir / "test.jsonl")
            outputs["test_examples"] = len(test)
        else:
            train = dataset
        outputs["train"] = _save(train, context.workdir / "train.jsonl")
        outputs["train_examples"] = len(train)
        return outputs

    def _read(self, source: Path) -> Dataset:
        from modelops_core.datasets.dataset import Dataset

        suffix = source.suffix.lower()
        if suffix == ".csv":
            return Dataset.from_csv(source, mapping=self.mapping)
        if suffix in (".md", ".markdown"):
            return Dataset.from_markdown(source)
        if suffix == ".json":
            return Dataset.from_json(source)
        return Dataset.from_jsonl(source)


def _save(dataset: Dataset, path: Path) -> str:
    dataset.save(path)
    return str(path.resolve())


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
