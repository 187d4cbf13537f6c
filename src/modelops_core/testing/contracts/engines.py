"""The contract suite of engines (``modelops_register_engines``)."""

from __future__ import annotations

from modelops_core.plugins.kinds import Kind
from modelops_core.testing.contracts.base import ComponentContract


class EngineContract(ComponentContract):
    """The engine suite (map/merge checks arrive with the engines issue)."""

    kind = Kind.ENGINE
