"""Dataset statistics: counts, length and token distributions, role counts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from modelops_core.datasets.formats import Record, content_text
from modelops_core.datasets.tokens import token_counter
from modelops_core.datasets.validate import record_tokens


@attrs.frozen
class Distribution:
    """min / mean / p50 / p95 / max of a list of numbers (linear-interpolated percentiles)."""

    min: float
    mean: float
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        if not values:
            return cls(0, 0, 0, 0, 0)
        ordered = sorted(values)
        return cls(
            min=ordered[0],
            mean=sum(ordered) / len(ordered),
            p50=_percentile(ordered, 50),
            p95=_percentile(ordered, 95),
            max=ordered[-1],
        )


def _percentile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@attrs.frozen
class DatasetStats:
    """What a dataset holds: examples, characters and tokens per example, turns, roles."""

    format: str
    examples: int
    characters: Distribution
    tokens: Distribution
    turns: Distribution
    total_tokens: int
    role_counts: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def rows(self) -> list[tuple[str, str]]:
        """``(name, value)`` rows for a table."""
        rows = [("format", self.format), ("examples", f"{self.examples:,}")]
        for name, dist in (("characters", self.characters), ("tokens", self.tokens),
                           ("turns", self.turns)):  # fmt: skip
            rows.append(
                (
                    name,
                    f"min {dist.min:,.0f}  mean {dist.mean:,.1f}  p50 {dist.p50:,.0f}  "
                    f"p95 {dist.p95:,.0f}  max {dist.max:,.0f}",
                )
            )
        rows.append(("total tokens", f"{self.total_tokens:,}"))
        rows += [(f"role {role}", f"{count:,}") for role, count in self.role_counts.items()]
        return rows


def _messages(record: Record, format: str) -> list[Any]:
    if format == "prompt_completion":
        return [
            {"role": "user", "content": record["prompt"]},
            {"role": "assistant", "content": record["completion"]},
        ]
    if format == "chat":
        return list(record["messages"])
    return [*record["input"]["messages"], *record["preferred_output"],
            *record["non_preferred_output"]]  # fmt: skip


def compute_stats(records: Iterable[Record], format: str, tokenizer: Any = None) -> DatasetStats:
    """Statistics of canonical records of one format."""
    count = token_counter(tokenizer)
    characters: list[int] = []
    tokens: list[int] = []
    turns: list[int] = []
    roles: Counter[str] = Counter()
    for record in records:
        messages = _messages(record, format)
        characters.append(sum(len(content_text(m["content"])) for m in messages))
        tokens.append(record_tokens(record, format, count))
        turns.append(len(messages))
        roles.update(m["role"] for m in messages)
    return DatasetStats(
        format=format,
        examples=len(tokens),
        characters=Distribution.of(characters),
        tokens=Distribution.of(tokens),
        turns=Distribution.of(turns),
        total_tokens=sum(tokens),
        role_counts=dict(sorted(roles.items())),
    )
