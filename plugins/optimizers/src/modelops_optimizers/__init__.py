"""modelops-optimizers: inference optimizers and the ``optimized`` provider for modelops-core.

Importing this package imports nothing heavy; numpy, redis and the local provider load when a
technique that needs them is built.
"""

from __future__ import annotations

__all__: list[str] = []
