"""Vertex AI (Gemini) tuning and inference for modelops-core.

Importing this package imports nothing from ``google``; the provider does, when it is built.
"""

from __future__ import annotations

__all__: list[str] = []
