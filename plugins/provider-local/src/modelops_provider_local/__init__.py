"""modelops-provider-local: the offline default fine-tuning provider of modelops-core.

Importing this package imports nothing heavy; numpy and scipy load when a job runs.
"""

from __future__ import annotations

__all__: list[str] = []
