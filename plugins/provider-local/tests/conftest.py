"""Shared data for the local provider's tests: generated support tickets, split once."""

from __future__ import annotations

import pytest
from modelops_provider_local.synthetic import support_tickets


@pytest.fixture(scope="session")
def tickets() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """2,000 training and 500 held-out support tickets (6 queues, typos, 3% wrong labels)."""
    records = support_tickets(2500, seed=7)
    return records[:2000], records[2000:]
