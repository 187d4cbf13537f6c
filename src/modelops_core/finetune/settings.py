"""The ``[finetune]`` configuration table: polling, timeout, retries, registration.

[finetune]
poll_interval = 10        # seconds before the first re-poll; grows up to max_poll_interval
max_poll_interval = 300   # the cap of the exponential backoff
timeout = 86400           # overall seconds ``wait()`` waits before JobTimeoutError
max_retries = 5           # transient provider errors in a row before giving up
register = "support-bot"  # register every succeeded job under this model name
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from modelops_core.errors import ConfigTypeError, UnknownConfigKeyError, did_you_mean

KEYS = ("poll_interval", "max_poll_interval", "timeout", "max_retries", "register")


@attrs.frozen
class FineTuneSettings:
    """How :class:`~modelops_core.finetune.job.FineTuningJob` polls, waits and registers."""

    poll_interval: float = 10.0
    max_poll_interval: float = 300.0
    timeout: float = 86_400.0
    max_retries: int = 5
    register: str | None = None

    @classmethod
    def from_table(
        cls, table: Mapping[str, Any], source: str = "modelops.toml"
    ) -> FineTuneSettings:
        """Validate the raw ``[finetune]`` table; unknown keys and wrong types are errors."""
        for key in table:
            if key not in KEYS:
                raise UnknownConfigKeyError(
                    f"Unknown configuration key 'finetune.{key}' in {source}."
                    f"{did_you_mean(key, KEYS)} Valid keys here: {', '.join(KEYS)}."
                )
        values: dict[str, Any] = {}
        for key in ("poll_interval", "max_poll_interval", "timeout"):
            if key in table:
                values[key] = _positive_number(table[key], key, source)
        if "max_retries" in table:
            retries = table["max_retries"]
            if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
                raise ConfigTypeError(
                    f"finetune.max_retries in {source} must be a whole number >= 0, "
                    f"got {retries!r}."
                )
            values["max_retries"] = retries
        if "register" in table:
            name = table["register"]
            if not isinstance(name, str) or not name:
                raise ConfigTypeError(
                    f"finetune.register in {source} must be a model name (a non-empty string), "
                    f"got {name!r}."
                )
            values["register"] = name
        settings = cls(**values)
        if settings.max_poll_interval < settings.poll_interval:
            raise ConfigTypeError(
                f"finetune.max_poll_interval ({settings.max_poll_interval}) in {source} is "
                f"below finetune.poll_interval ({settings.poll_interval}); raise it."
            )
        return settings


def _positive_number(value: Any, key: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigTypeError(
            f"finetune.{key} in {source} must be a number of seconds above 0, got {value!r}."
        )
    return float(value)
