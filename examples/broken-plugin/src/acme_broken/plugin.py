"""Fails at import on purpose: modelops must name this plugin and show this message."""

from __future__ import annotations

raise ImportError("Don't hide me!")
