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

import bisect
import importlib
import importlib.util
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from modelops_sanitizers.errors import SanitizerOptionError
from modelops_sanitizers.patterns import PII_TYPES, SPECIFICITY, Rule, build_rules

ENGINES: tuple[str, ...] = ("auto", "re", "hyperscan")
LOOKAHEAD_MARGIN = 3
"""Characters past a match the precise patterns may look at (``(?![.,]\\d)`` needs two)."""


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


Detector = Callable[[str], Iterable[tuple[int, int, str]]]
"""A third-party detector: ``text -> (start, end, type)`` spans of the PII it finds."""


def load_detector(detector: Any) -> Detector:
    """A third-party detector as a ``text -> spans`` function.

    Accepted: a callable ``text -> iterable of (start, end, type)``; an object with such a
    ``find(text)`` method; or a ``"module:attr"`` string naming either (a class is
    instantiated without arguments), so ``modelops.toml`` can list detectors by name:
    ``[sanitizers.pii] detectors = ["acme_pii.detect:EmployeeIdDetector"]``. The type names
    the mask (``employee_id`` -> ``[EMPLOYEE_ID]``) and the report's counts.
    """
    if isinstance(detector, str):
        module_name, _, attribute = detector.partition(":")
        if not module_name or not attribute:
            raise SanitizerOptionError(
                f"pii detector {detector!r} is not valid: name it as 'module:attr', e.g. "
                "'acme_pii.detect:EmployeeIdDetector'."
            )
        try:
            detector = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise SanitizerOptionError(
                f"pii detector {detector!r} could not be loaded ({exc}); install the package "
                "that provides it or fix the name."
            ) from exc
        if isinstance(detector, type):
            detector = detector()
    find = getattr(detector, "find", None)
    if callable(find):
        return find  # type: ignore[no-any-return]
    if callable(detector):
        return detector  # type: ignore[no-any-return]
    raise SanitizerOptionError(
        f"pii detector {detector!r} is not usable: give a callable text -> [(start, end, type)], "
        "an object with find(text), or a 'module:attr' name of one."
    )


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
    :param detectors: third-party detectors (see :func:`load_detector`); their findings join
        the built-in ones, and overlaps are resolved the same way (longest first).
    """

    def __init__(
        self,
        types: Iterable[str] | None = None,
        *,
        engine: str = "auto",
        detectors: Iterable[Any] = (),
    ) -> None:
        self.types = check_types(types)
        self.extra = tuple(load_detector(detector) for detector in detectors)
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
        return self.find_many([text])[0]

    def find_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        """:meth:`find` for each of ``texts``; one prefilter scan covers the whole batch."""
        if self._scanner is not None:
            plans = self._scanner.plan(texts)
        else:
            plans = [[(rule, None) for rule in self._rules_for(text)] for text in texts]
        results: list[list[Finding]] = []
        for text, plan in zip(texts, plans, strict=True):
            candidates: list[Finding] = []
            for detector in self.extra:
                candidates.extend(
                    Finding(str(pii_type), "custom", int(start), int(end))
                    for start, end, pii_type in detector(text)
                )
            if not plan and not candidates:
                results.append([])
                continue
            for rule, hit_range in plan:
                candidates.extend(_search_rule(rule, text, hit_range))
            results.append(self._resolve(candidates) if len(candidates) > 1 else candidates)
        return results

    def _rules_for(self, text: str) -> Sequence[Rule]:
        """The rules whose type may occur in ``text``, by substring prefilters."""
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
            candidates,
            key=lambda found: (-found.length, rank.get(found.pii_type, len(rank)), found.start),
        )
        kept: list[Finding] = []
        for found in ordered:
            if all(found.end <= other.start or found.start >= other.end for other in kept):
                kept.append(found)
        kept.sort(key=lambda found: found.start)
        return kept


def _search_rule(rule: Rule, text: str, hit_range: tuple[int, int] | None) -> list[Finding]:
    """Every validated match of one rule; a refused candidate never hides the next one.

    A refused candidate is first retried shorter (``rule.shrink``), then the search resumes
    one character after its start instead of after its end.

    :param hit_range: the first and last end offsets of the rule's loose pattern in ``text``,
        when known. A valid match contains a loose match, so it starts at or after
        ``first - max_length`` (``first - max_before`` when set) and before ``last``; searching
        only there (with room for the pattern's lookahead) finds exactly what a full search
        finds.
    """
    found: list[Finding] = []
    search = rule.pattern.search
    validator = rule.validator
    position, last_start, end_position = 0, len(text), len(text)
    if hit_range is not None:
        first_end, last_end = hit_range
        before = rule.max_length if rule.max_before is None else rule.max_before
        if before is not None:
            position = max(0, first_end - before)
            last_start = last_end
        if rule.max_length is not None:
            end_position = min(len(text), last_end + rule.max_length + LOOKAHEAD_MARGIN)
        elif rule.run_after is not None:
            run_end = rule.run_after.match(text, last_end).end()
            end_position = min(len(text), run_end + LOOKAHEAD_MARGIN)
    while True:
        match = search(text, position, end_position)
        if match is None:
            return found
        start, end = match.span()
        if start > last_start:
            return found
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
    """One hyperscan block-mode database of every rule's loose pattern.

    A batch of texts is scanned as one buffer, each text preceded by a NUL byte (the "start of
    text" the loose patterns' leading boundary class needs); no loose pattern can continue
    across a NUL, so every match belongs to the text its end offset falls in.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        import hyperscan

        self._rules = tuple(rules)
        self._database: Any = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=[rule.loose_pattern.encode("ascii") for rule in self._rules],
            ids=list(range(len(self._rules))),
            elements=len(self._rules),
            flags=0,
        )

    def plan(self, texts: Sequence[str]) -> list[list[tuple[Rule, tuple[int, int] | None]]]:
        """For each text, the rules whose loose pattern occurs in it, with their hit range.

        The hit range is the first and last end offset (in characters) of the loose matches,
        or ``None`` when the batch is not ASCII (byte offsets are then not character offsets).
        """
        joined = "\0" + "\0".join(texts)
        ascii_offsets = joined.isascii()
        if ascii_offsets:
            buffer = joined.encode("ascii")
            lengths = [len(text) + 1 for text in texts]
        else:
            encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
            buffer = b"\0" + b"\0".join(encoded)
            lengths = [len(data) + 1 for data in encoded]
        hits: list[tuple[int, int]] = []
        self._database.scan(buffer, match_event_handler=_collect, context=hits)
        plans: list[list[tuple[Rule, tuple[int, int] | None]]] = [[] for _ in texts]
        if not hits:
            return plans
        text_starts = list(itertools.accumulate(lengths, initial=0))
        ranges: dict[tuple[int, int], list[int]] = {}
        for rule_id, end in hits:
            # The match ends inside the text whose span holds its last byte.
            index = bisect.bisect_right(text_starts, end - 1) - 1
            offset = end - text_starts[index] - 1  # the NUL before the text is not counted
            hit_range = ranges.get((index, rule_id))
            if hit_range is None:
                ranges[(index, rule_id)] = [offset, offset]
            elif offset < hit_range[0]:
                hit_range[0] = offset
            elif offset > hit_range[1]:
                hit_range[1] = offset
        for (index, rule_id), (first, last) in sorted(ranges.items()):
            plans[index].append((self._rules[rule_id], (first, last) if ascii_offsets else None))
        return plans


def _collect(rule_id: int, start: int, end: int, flags: int, hits: list[tuple[int, int]]) -> None:
    """Hyperscan match callback: remember which rule matched where it ended."""
    hits.append((rule_id, end))
