"""Finding PII in a string: prefilter, one pattern pass per present type, validate, resolve.

``PiiDetector(types, engine=...).find(text)`` returns the validated, non-overlapping findings
of ``text`` in order. The engine only decides which pattern passes run:

- ``"re"``: substring prefilters (``'@' in text``, a digit, ``'AKIA' in text`` …);
- ``"hyperscan"``: one linear-time scan of every type's loose pattern, a superset of the
  precise one, so a precise pass runs only where its type can occur;
- ``"auto"``: hyperscan when its wheel is installed, ``re`` otherwise.

The precise patterns and validators are the same for every engine, so both give identical
findings (a test checks it).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from modelops_sanitizers.errors import SanitizerOptionError
from modelops_sanitizers.patterns import PII_TYPES, SPECIFICITY, Rule, build_rules

ENGINES: tuple[str, ...] = ("auto", "re", "hyperscan")


@attrs.frozen
class Finding:
    """One validated piece of PII: its type, the finer rule that found it, and its span."""

    pii_type: str
    kind: str
    start: int
    end: int

    @property
    def length(self) -> int:
        """Number of characters the finding covers."""
        return self.end - self.start


def hyperscan_available() -> bool:
    """Whether the optional ``hyperscan`` wheel is importable on this machine."""
    return importlib.util.find_spec("hyperscan") is not None


def check_types(types: Iterable[str] | None) -> tuple[str, ...]:
    """The requested PII types, checked; ``None`` means every type."""
    if types is None:
        return PII_TYPES
    if isinstance(types, str):
        types = [types]
    chosen = tuple(dict.fromkeys(types))
    unknown = [name for name in chosen if name not in PII_TYPES]
    if unknown or not chosen:
        raise SanitizerOptionError(
            f"pii types={list(chosen)!r} is not valid"
            + (f": unknown {unknown!r}" if unknown else ": it is empty")
            + f". Choose a non-empty subset of {list(PII_TYPES)}."
        )
    return chosen


class PiiDetector:
    """Finds validated PII of the chosen ``types`` in strings.

    :param types: a subset of :data:`~modelops_sanitizers.patterns.PII_TYPES`; all by default.
    :param engine: ``"auto"``, ``"re"`` or ``"hyperscan"`` (see the module docstring).
    """

    def __init__(self, types: Iterable[str] | None = None, *, engine: str = "auto") -> None:
        self.types = check_types(types)
        if engine not in ENGINES:
            raise SanitizerOptionError(
                f"pii engine={engine!r} is not valid. Choose one of {list(ENGINES)}."
            )
        if engine == "auto":
            engine = "hyperscan" if hyperscan_available() else "re"
        if engine == "hyperscan" and not hyperscan_available():
            raise SanitizerOptionError(
                "pii engine='hyperscan' needs the hyperscan wheel: pip install "
                "'modelops-sanitizers[fast]', or use engine='re' (same results, slower)."
            )
        self.engine = engine
        self.rules: tuple[Rule, ...] = tuple(
            rule for rule in build_rules() if rule.pii_type in self.types
        )
        self._has_digit = re.compile(r"\d", re.ASCII).search
        self._rank = {name: index for index, name in enumerate(SPECIFICITY)}
        self._scanner: _HyperscanPrefilter | None = (
            _HyperscanPrefilter(self.rules) if engine == "hyperscan" else None
        )

    def __repr__(self) -> str:
        return f"PiiDetector(types={list(self.types)!r}, engine={self.engine!r})"

    def find(self, text: str) -> list[Finding]:
        """The validated findings of ``text``, non-overlapping, ordered by position."""
        rules = self._rules_for(text)
        if not rules:
            return []
        candidates: list[Finding] = []
        for rule in rules:
            candidates.extend(_search_rule(rule, text))
        if len(candidates) < 2:
            return candidates
        return self._resolve(candidates)

    def _rules_for(self, text: str) -> Sequence[Rule]:
        """The rules whose type may occur in ``text``, by the engine's prefilter."""
        if self._scanner is not None:
            return self._scanner.rules_present(text)
        has_digit: bool | None = None
        chosen: list[Rule] = []
        for rule in self.rules:
            if rule.required_literals and not any(
                literal in text for literal in rule.required_literals
            ):
                continue
            if rule.needs_digit:
                if has_digit is None:
                    has_digit = self._has_digit(text) is not None
                if not has_digit:
                    continue
            chosen.append(rule)
        return chosen

    def _resolve(self, candidates: list[Finding]) -> list[Finding]:
        """Keep the longest finding where two overlap; equal lengths go to the more specific."""
        rank = self._rank
        ordered = sorted(
            candidates, key=lambda found: (-found.length, rank[found.pii_type], found.start)
        )
        kept: list[Finding] = []
        for found in ordered:
            if all(found.end <= other.start or found.start >= other.end for other in kept):
                kept.append(found)
        kept.sort(key=lambda found: found.start)
        return kept


def _search_rule(rule: Rule, text: str) -> list[Finding]:
    """Every validated match of one rule; a refused candidate never hides the next one.

    A refused candidate is first retried shorter (``rule.shrink``), then the search resumes
    one character after its start instead of after its end.
    """
    found: list[Finding] = []
    search = rule.pattern.search
    validator = rule.validator
    position = 0
    while True:
        match = search(text, position)
        if match is None:
            return found
        start, end = match.span()
        candidate = match.group()
        if validator(candidate):
            found.append(Finding(rule.pii_type, rule.kind, start, end))
            position = end
            continue
        position = start + 1
        if rule.shrink is not None:
            for prefix_end in rule.shrink(candidate):
                if prefix_end < len(candidate) and validator(candidate[:prefix_end]):
                    found.append(Finding(rule.pii_type, rule.kind, start, start + prefix_end))
                    position = start + prefix_end
                    break


class _HyperscanPrefilter:
    """One hyperscan block-mode database of every rule's loose pattern (single match each)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        import hyperscan

        self._rules = tuple(rules)
        self._database: Any = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=[rule.loose_pattern.encode("ascii") for rule in self._rules],
            ids=list(range(len(self._rules))),
            elements=len(self._rules),
            flags=hyperscan.HS_FLAG_SINGLEMATCH,
        )

    def rules_present(self, text: str) -> list[Rule]:
        """The rules whose loose pattern occurs in ``text``, in rule order."""
        hits: list[int] = []
        self._database.scan(
            text.encode("utf-8", "surrogatepass"), match_event_handler=_collect, context=hits
        )
        if not hits:
            return []
        hits.sort()
        return [self._rules[index] for index in hits]


def _collect(rule_id: int, start: int, end: int, flags: int, hits: list[int]) -> None:
    """Hyperscan match callback: remember which rule matched (once, by SINGLEMATCH)."""
    hits.append(rule_id)
