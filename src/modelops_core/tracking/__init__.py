"""Experiment tracking: ExperimentTracker and its runs."""
