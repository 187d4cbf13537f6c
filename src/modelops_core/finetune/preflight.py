"""Preflight of a fine-tuning job: the dataset checked against the provider's rules and the
cost estimated, before anything is uploaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs


@attrs.frozen
class CostEstimate:
    """``tokens x epochs x price per 1M training tokens`` (price from ``[prices]``).

    :param price_per_million: dollars per 1M training tokens, None when ``[prices]`` has none
        for the model (then ``total`` is None too).
    :param price_key: the ``[prices]`` entry that matched (the model, or its longest prefix).
    """

    model: str
    tokens: int
    epochs: int
    price_per_million: float | None = None
    price_key: str | None = None

    @property
    def trained_tokens(self) -> int:
        """Tokens billed: the dataset's tokens once per epoch."""
        return self.tokens * self.epochs

    @property
    def total(self) -> float | None:
        """Estimated dollars, or None without a price."""
        if self.price_per_million is None:
            return None
        return self.trained_tokens * self.price_per_million / 1_000_000

    def to_text(self) -> str:
        """One line: tokens, epochs and dollars (or how to add a price)."""
        head = f"{self.tokens:,} tokens x {self.epochs} epochs = {self.trained_tokens:,} tokens"
        if self.total is None:
            return (
                f"{head}; no training price for {self.model!r}: add "
                f'[prices."{self.model}"] training = <dollars per 1M tokens> to modelops.toml '
                "for a cost estimate."
            )
        return (
            f"{head} x ${self.price_per_million:g}/1M ({self.price_key}) "
            f"= ${self.total:,.2f} (estimate)"
        )


def estimate_cost(
    model: str, tokens: int, epochs: int, prices: Mapping[str, Mapping[str, float]]
) -> CostEstimate:
    """The cost estimate from the ``[prices]`` table: the exact model first, else the longest
    key the model name starts with (``gpt-4o-mini`` prices ``gpt-4o-mini-2024-07-18``)."""
    key = model if model in prices else None
    if key is None:
        matches = [k for k in prices if model.startswith(k)]
        key = max(matches, key=len) if matches else None
    price = prices[key].get("training") if key is not None else None
    return CostEstimate(
        model,
        tokens,
        epochs,
        float(price) if price is not None else None,
        key if price is not None else None,
    )


@attrs.frozen
class PreflightReport:
    """Everything checked before a job starts; ``ok`` is False when anything blocks it.

    :param dataset_problems: from ``Dataset.validate(provider=..., model=...)``.
    :param provider_problems: from the provider's ``validate`` of the exported file.
    :param training_file: the exported file that would be uploaded.
    :param warnings: worth knowing, not blocking (duplicate examples: the providers accept
        them, and they weigh those examples more).
    """

    provider: str
    model: str
    method: str
    examples: int
    training_file: str
    cost: CostEstimate
    dataset_problems: tuple[str, ...] = ()
    provider_problems: tuple[str, ...] = ()
    validation_file: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when neither the dataset nor the provider found a problem."""
        return not self.dataset_problems and not self.provider_problems

    @property
    def problems(self) -> list[str]:
        """Every problem found, dataset checks first."""
        return [*self.dataset_problems, *self.provider_problems]

    def to_text(self, shown: int | None = None) -> str:
        """A readable summary: what would be trained, where, for how much, and what is wrong.

        :param shown: at most this many warnings of each kind are listed (duplicates as one
            line: their count and first line numbers); None lists every warning.
        """
        lines = [
            f"provider: {self.provider}   model: {self.model}   method: {self.method}",
            f"examples: {self.examples}   training file: {self.training_file}",
            f"cost: {self.cost.to_text()}",
        ]
        if self.warnings:
            lines.append(f"warnings ({len(self.warnings)}):")
            lines += [f"  - dataset: {w}" for w in summarize_warnings(self.warnings, shown)]
        if self.ok:
            lines.append("checks: passed")
        else:
            lines.append(f"problems ({len(self.problems)}):")
            lines += [f"  - dataset: {p}" for p in self.dataset_problems]
            lines += [f"  - {self.provider}: {p}" for p in self.provider_problems]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Every field, every warning and problem in full (``finetune start --report``)."""
        return {
            "provider": self.provider,
            "model": self.model,
            "method": self.method,
            "examples": self.examples,
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "cost": {
                "tokens": self.cost.tokens,
                "epochs": self.cost.epochs,
                "trained_tokens": self.cost.trained_tokens,
                "price_per_million": self.cost.price_per_million,
                "total": self.cost.total,
            },
            "ok": self.ok,
            "dataset_problems": list(self.dataset_problems),
            "provider_problems": list(self.provider_problems),
            "warnings": list(self.warnings),
        }


_DUPLICATE = re.compile(r"^(?:validation set: )?line (\d+): duplicate of line \d+")


def summarize_warnings(warnings: tuple[str, ...], shown: int | None) -> list[str]:
    """``warnings`` for a terminal: duplicates as one line (count, the first ``shown`` line
    numbers), the other warnings up to ``shown`` and a count of the rest."""
    if shown is None:
        return list(warnings)
    duplicates = [int(m.group(1)) for w in warnings if (m := _DUPLICATE.match(w))]
    others = [w for w in warnings if not _DUPLICATE.match(w)]
    lines: list[str] = []
    if duplicates:
        first = ", ".join(str(number) for number in duplicates[:shown])
        rest = len(duplicates) - shown
        lines.append(
            f"{len(duplicates)} duplicate example(s) at line(s) {first}"
            + (f" and {rest} more" if rest > 0 else "")
            + " (accepted; each repeat weighs that example more)"
        )
    lines += others[:shown]
    if len(others) > shown:
        lines.append(f"... and {len(others) - shown} more warnings")
    return lines


def total_tokens(dataset: Any, exported: Path) -> int:
    """The dataset's token count: ``dataset.stats()`` total tokens when it reports them, else
    the offline estimate over the exported file's text."""
    stats_method = getattr(dataset, "stats", None)
    if callable(stats_method):
        stats = stats_method()
        for name in ("total_tokens", "tokens"):
            value = stats.get(name) if isinstance(stats, Mapping) else getattr(stats, name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    from modelops_core.datasets.tokens import count_tokens

    return count_tokens(exported.read_text(encoding="utf-8"))


def _problem_text(problem: Any) -> str:
    to_text = getattr(problem, "to_text", None)
    return str(to_text() if callable(to_text) else problem)


def without_repeats(found: tuple[str, ...], already: tuple[str, ...]) -> tuple[str, ...]:
    """``found`` minus what ``already`` says (a provider that checks the exported file with
    the same dataset rules reports the same problems again), compared without field tags."""

    def plain(text: str) -> str:
        return re.sub(r" \[[^\]]*\]:", ":", text).replace("dataset:", "").strip()

    seen = {plain(text) for text in already}
    return tuple(text for text in found if plain(text) not in seen)


#: ``Dataset.validate`` problem codes that are reported but do not block a job.
WARNING_CODES = frozenset({"duplicate"})


def report_warnings(report: Any) -> tuple[str, ...]:
    """What a ``Dataset.validate`` report says that does not block a job, as text: its
    ``warnings`` and the problems a job accepts (duplicates), in line order."""
    problems = getattr(report, "problems", None) or []
    found = [p for p in problems if getattr(p, "code", "") in WARNING_CODES]
    found += list(getattr(report, "warnings", None) or ())
    found.sort(key=lambda p: getattr(p, "line", 0) or 0)
    return tuple(_problem_text(p) for p in found)


def report_problems(report: Any) -> tuple[str, ...]:
    """The blocking problems of a ``Dataset.validate`` report as text (empty when it is ok)."""
    if report is None or getattr(report, "ok", True):
        return ()
    problems = getattr(report, "problems", None) or []
    blocking = [p for p in problems if getattr(p, "code", "") not in WARNING_CODES]
    if problems and not blocking:
        return ()
    found = tuple(_problem_text(p) for p in blocking)
    if not found:
        to_text = getattr(report, "to_text", None)
        found = (str(to_text() if callable(to_text) else report),)
    return found
