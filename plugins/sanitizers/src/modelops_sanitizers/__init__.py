"""modelops-sanitizers: dataset sanitizers for modelops-core.

The components (``pii``, ``strip_keys``, ``filter_by_length``, ``dedupe``) are registered by
:mod:`modelops_sanitizers.plugin`; the plain functions mirror the reference API for use without
a runtime. Importing the package imports nothing heavy.
"""

from __future__ import annotations

__version__ = "0.1.0"
