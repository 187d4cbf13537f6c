"""Reading a pipeline file: ``[pipeline]`` with ordered ``[[pipeline.steps]]``.

.. code-block:: toml

    [pipeline]
    name = "ticket-router"

    [[pipeline.steps]]
    uses = "dataset"          # a step component: built-in or from a plugin
    path = "tickets.jsonl"    # every other key is an option of that step

    [[pipeline.steps]]
    id = "quality"            # optional; default: the value of ``uses``
    uses = "gate"
    min = { accuracy = 0.8 }

The table may live in ``modelops.toml`` or in a file of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from modelops_core.config import frozen_mapping
from modelops_core.errors import ConfigError, did_you_mean

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_PIPELINE_KEYS = ("name", "steps")
_STEP_RESERVED = ("id", "uses")


class PipelineFileError(ConfigError):
    """A pipeline file that cannot be used; the message names the file, step and key."""


@attrs.frozen
class StepSpec:
    """One ``[[pipeline.steps]]`` entry.

    :param where: ``"pipeline.toml [[pipeline.steps]] #2 (train)"``, for error messages.
    """

    id: str
    uses: str
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    where: str = ""


@attrs.frozen
class PipelineSpec:
    """A pipeline: a name, ordered steps and the directory relative paths start from."""

    name: str
    steps: tuple[StepSpec, ...]
    source: str
    base_dir: Path

    def step(self, step_id: str) -> StepSpec:
        """The step called ``step_id``; an unknown id lists the known ones."""
        for step in self.steps:
            if step.id == step_id:
                return step
        ids = [s.id for s in self.steps]
        raise PipelineFileError(
            f"{self.source}: no step {step_id!r}{did_you_mean(step_id, ids)} "
            f"(steps: {', '.join(ids)})."
        )


def load_pipeline(path: Path) -> PipelineSpec:
    """Read the ``[pipeline]`` table of the TOML file at ``path``."""
    from modelops_core.config import read_toml

    if not path.is_file():
        raise PipelineFileError(
            f"Pipeline file {str(path)!r} does not exist. Pass a TOML file with a [pipeline] "
            "table, or run `modelops run` with the [pipeline] table in modelops.toml."
        )
    table = read_toml(path)
    pipeline = table.get("pipeline")
    if pipeline is None and "tool" in table:
        pipeline = table["tool"].get("modelops", {}).get("pipeline")
    if not isinstance(pipeline, Mapping):
        raise PipelineFileError(
            f"{path}: there is no [pipeline] table. Add one with ordered "
            "[[pipeline.steps]] entries (see docs/pipelines.md)."
        )
    return parse_pipeline(pipeline, source=str(path), base_dir=path.resolve().parent)


def parse_pipeline(table: Mapping[str, Any], *, source: str, base_dir: Path) -> PipelineSpec:
    """Validate a parsed ``[pipeline]`` table."""
    for key in table:
        if key not in _PIPELINE_KEYS:
            raise PipelineFileError(
                f"{source}: unknown key pipeline.{key}{did_you_mean(key, _PIPELINE_KEYS)} "
                f"(allowed: {', '.join(_PIPELINE_KEYS)})."
            )
    name = table.get("name", "pipeline")
    if not isinstance(name, str) or not _ID.match(name):
        raise PipelineFileError(
            f"{source}: pipeline.name must be a short lower-case name "
            f"(letters, digits, '_', '-', '.'), got {name!r}."
        )
    raw_steps = table.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PipelineFileError(
            f"{source}: the pipeline {name!r} has no steps. Add [[pipeline.steps]] tables, "
            'each with uses = "<step name>" (modelops plugins list shows the steps).'
        )
    steps: list[StepSpec] = []
    for number, raw in enumerate(raw_steps, start=1):
        steps.append(_step(raw, number, source, [s.id for s in steps]))
    return PipelineSpec(name=name, steps=tuple(steps), source=source, base_dir=base_dir)


def _step(raw: Any, number: int, source: str, taken: list[str]) -> StepSpec:
    where = f"{source} [[pipeline.steps]] #{number}"
    if not isinstance(raw, Mapping):
        raise PipelineFileError(f"{where}: a step must be a table, got {type(raw).__name__}.")
    uses = raw.get("uses")
    if not isinstance(uses, str) or not uses:
        raise PipelineFileError(
            f'{where}: a step needs uses = "<step name>" (for example "dataset", "evaluate").'
        )
    step_id = raw.get("id", uses)
    if not isinstance(step_id, str) or not _ID.match(step_id):
        raise PipelineFileError(f"{where}: id must be a short lower-case name, got {step_id!r}.")
    if step_id in taken:
        raise PipelineFileError(
            f"{where}: the id {step_id!r} is used by an earlier step; give this one "
            f'id = "{step_id}-2" or another unique name.'
        )
    options = {k: v for k, v in raw.items() if k not in _STEP_RESERVED}
    return StepSpec(id=step_id, uses=uses, options=options, where=f"{where} ({step_id})")
