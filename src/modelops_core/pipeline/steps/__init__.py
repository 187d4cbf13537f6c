"""The built-in pipeline steps, registered by the core's own plugin (``modelops_core.builtin``).

Each module holds one step; a step reads earlier outputs with ``context.latest(key)`` and
returns its own outputs. The keys they exchange:

- ``train`` / ``test``: absolute paths of JSONL files (``dataset``, rewritten by ``sanitize``);
- ``dataset_fingerprint``: the content hash of the data as read;
- ``model_id``, ``provider``, ``base_model``, ``job_id``, ``artifact_path``: from ``finetune``;
- ``metrics``, ``evaluation``, ``report``: from ``evaluate``;
- ``model_name``, ``model_version``: from ``register``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelops_core.config import ComponentChoice


def component_choice(value: str | Mapping[str, Any], where: str) -> str | ComponentChoice:
    """A component named in a step option: a name, or a table ``{ name = "f1", average = … }``."""
    if isinstance(value, str):
        return value
    from modelops_core.config import ComponentChoice

    options = dict(value)
    name = options.pop("name", None)
    if not isinstance(name, str):
        raise ValueError(
            f"{where} is a table without name = '<component>' (keys: {', '.join(sorted(value))})."
        )
    return ComponentChoice(name, options, where=where)
