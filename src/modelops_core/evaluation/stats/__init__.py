"""Statistics for evaluation: bootstrap intervals, threshold sweeps, A/B tests, corrections.

Each module imports numpy (and scipy where needed) at import time; the package is only
imported when an evaluation asks for statistics, never by ``import modelops_core``.
"""
