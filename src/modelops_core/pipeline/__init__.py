"""Pipelines: the pipeline file, the runner with its step cache, the built-in steps."""
