"""Errors of the sanitizers: each says which option was wrong, what it was, and what is allowed."""

from __future__ import annotations

from modelops_core.errors import ModelOpsError


class SanitizerOptionError(ModelOpsError, ValueError):
    """A sanitizer was configured with an option value it cannot use."""


class SanitizerInputError(ModelOpsError, ValueError):
    """A record given to a sanitizer is not a JSON-like mapping."""
