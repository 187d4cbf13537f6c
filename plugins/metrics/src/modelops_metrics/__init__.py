"""Evaluation metrics for modelops-core, registered through the ``modelops-metrics`` plugin.

Import the metric classes from their modules (``modelops_metrics.classification`` …);
importing this package imports no numpy.
"""

from __future__ import annotations
