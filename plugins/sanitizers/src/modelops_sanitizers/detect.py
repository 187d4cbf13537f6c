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


Span = tuple[int, int, str, str]
"""A finding as a plain tuple: ``(start, end, pii_type, kind)``."""

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
        self._scanner: _HyperscanScanner | None = (
            _HyperscanScanner(self.rules) if engine == "hyperscan" else None
        )

    def __repr__(self) -> str:
        return f"PiiDetector(types={list(self.types)!r}, engine={self.engine!r})"

    def find(self, text: str) -> list[Finding]:
        """The validated findings of ``text``, non-overlapping, ordered by position."""
        return self.find_many([text])[0]

    def find_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        """:meth:`find` for each of ``texts``; one prefilter scan covers the whole batch."""
        return [
            [Finding(pii_type, kind, start, end) for start, end, pii_type, kind in spans]
            for spans in self.spans_many(texts)
        ]

    def spans_many(self, texts: Sequence[str]) -> list[Sequence[Span]]:
        """:meth:`find_many` as plain ``(start, end, type, kind)`` tuples, cheaper to build.

        A text without findings gets an empty tuple.
        """
        if self._scanner is not None:
            candidates = self._scanner.candidates(texts)
        else:
            candidates = {}
            for index, text in enumerate(texts):
                found: list[Span] = []
                for rule in self._rules_for(text):
                    found.extend(_search_rule(rule, text))
                if found:
                    candidates[index] = found
        if self.extra:
            for index, text in enumerate(texts):
                custom = [
                    (int(start), int(end), str(pii_type), "custom")
                    for detector in self.extra
                    for start, end, pii_type in detector(text)
                ]
                if custom:
                    candidates.setdefault(index, []).extend(custom)
        results: list[Sequence[Span]] = [()] * len(texts)
        rank = self._rank
        for index, found in candidates.items():
            results[index] = resolve(found, rank) if len(found) > 1 else found
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


def resolve(candidates: list[Span], rank: dict[str, int]) -> list[Span]:
    """Keep the longest span where two overlap; equal lengths go to the more specific type.

    The result is ordered by position.
    """
    unranked = len(rank)
    ordered = sorted(
        candidates,
        key=lambda span: (span[0] - span[1], rank.get(span[2], unranked), span[0]),
    )
    kept: list[Span] = []
    for span in ordered:
        start, end = span[0], span[1]
        if all(end <= other[0] or start >= other[1] for other in kept):
            kept.append(span)
    kept.sort(key=_start_of)
    return kept


def _start_of(span: Span) -> int:
    return span[0]


def _search_rule(
    rule: Rule,
    text: str,
    position: int = 0,
    end_position: int | None = None,
    last_start: int | None = None,
    offset: int = 0,
    match: re.Match[str] | None = None,
    valid: bool | None = None,
) -> list[Span]:
    """Every validated match of one rule; a refused candidate never hides the next one.

    A refused candidate is first retried shorter (``rule.shrink``), then the search resumes
    one character after its start instead of after its end. Only matches starting in
    ``[position, last_start]`` and ending by ``end_position`` count; spans are given relative
    to ``offset`` (where the text starts inside a larger buffer). ``match``: the first match
    from ``position``, when the caller already has it, and ``valid`` its validation.
    """
    found: list[Span] = []
    search = rule.pattern.search
    validator = rule.validator
    pii_type, kind = rule.pii_type, rule.kind
    if end_position is None:
        end_position = len(text)
    if last_start is None:
        last_start = end_position
    if match is None:
        match = search(text, position, end_position)
    while True:
        if match is None:
            return found
        start, end = match.span()
        if start > last_start:
            return found
        candidate = match.group()
        if valid is None:
            valid = validator(candidate)
        if valid:
            found.append((start - offset, end - offset, pii_type, kind))
            if end > last_start:  # the next match would start after last_start
                return found
            match, valid = search(text, end, end_position), None
            continue
        position = start + 1
        if rule.shrink is not None:
            for prefix_end in rule.shrink(candidate):
                if prefix_end < len(candidate) and validator(candidate[:prefix_end]):
                    found.append((start - offset, start + prefix_end - offset, pii_type, kind))
                    position = start + prefix_end
                    break
        match, valid = search(text, position, end_position), None


class _HyperscanScanner:
    """One hyperscan block-mode database of every rule's loose pattern, run on whole batches.

    A batch of texts is joined into one buffer, each text preceded by a NUL (the "start of
    text" the loose patterns' leading boundary class needs). No loose or precise pattern can
    match a NUL, and none of the precise patterns' lookarounds treat a NUL differently from the
    start or end of a string, so searching the joined buffer inside a text's bounds finds
    exactly what searching the text alone finds. Non-ASCII characters are scanned as ``?``
    (``encode("ascii", "replace")``): one byte per character, so hyperscan's byte offsets are
    character offsets, and no loose pattern needs a non-ASCII character where ``?`` would not
    match too (the precise patterns are ``re.ASCII``).
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        import hyperscan
        import numpy

        if len(rules) > _RULE_SLOTS:
            raise SanitizerOptionError(f"at most {_RULE_SLOTS} pii rules fit one scan")
        self._numpy = numpy
        self._rules = tuple(rules)
        self._database: Any = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=[rule.loose_pattern.encode("ascii") for rule in self._rules],
            ids=list(range(len(self._rules))),
            elements=len(self._rules),
            flags=0,
        )
        self._plans = tuple(
            (
                rule,
                rule.pattern.search,
                rule.validator,
                None if rule.run_after is None else rule.run_after.match,
                rule.start_run,
                rule.pii_type,
                rule.kind,
            )
            for rule in self._rules
        )
        self._before = numpy.array(
            [
                -1 if before is None else before
                for before in (
                    rule.max_length if rule.max_before is None else rule.max_before
                    for rule in self._rules
                )
            ],
            dtype=numpy.int64,
        )
        self._max_length = numpy.array(
            [-1 if rule.max_length is None else rule.max_length for rule in self._rules],
            dtype=numpy.int64,
        )

    def candidates(self, texts: Sequence[str]) -> dict[int, list[Span]]:
        """The validated (not yet resolved) spans of each text that has any, by text index."""
        joined = "\0" + "\0".join(texts)
        hits: list[int] = []
        self._database.scan(
            joined.encode("ascii", "replace"), match_event_handler=_collect, context=hits
        )
        found: dict[int, list[Span]] = {}
        if not hits:
            return found
        numpy = self._numpy
        lengths = [len(text) + 1 for text in texts]
        text_starts = list(itertools.accumulate(lengths, initial=1))
        packed = numpy.array(hits, dtype=numpy.int64)
        ends = packed >> _RULE_BITS
        # The hit's last character lies in the text whose span holds it.
        text_index = numpy.searchsorted(numpy.array(text_starts), ends - 1, side="right") - 1
        group = text_index * _RULE_SLOTS + (packed & _RULE_MASK)
        order = numpy.lexsort((ends, group))
        group, ends = group[order], ends[order]
        new_group = numpy.flatnonzero(group[1:] != group[:-1]) + 1
        firsts = numpy.concatenate(([0], new_group))
        lasts = numpy.concatenate((new_group - 1, [len(group) - 1]))
        # Each (text, rule) group's search window, computed for all groups at once. A valid
        # match contains a loose match (which ends after the match starts), so it starts at or
        # after first_end - max_length (max_before when set), before last_end, and ends by
        # last_end + max_length (plus room for the lookahead) or where run_after stops.
        keys, first_ends, last_ends = group[firsts], ends[firsts], ends[lasts]
        rule_ids, text_index = keys & _RULE_MASK, keys >> _RULE_BITS
        text_start = numpy.array(text_starts)[text_index]
        text_end = text_start + numpy.array(lengths)[text_index] - 1
        before, max_length = self._before[rule_ids], self._max_length[rule_ids]
        bounded_start = before >= 0
        positions = numpy.where(
            bounded_start, numpy.maximum(text_start, first_ends - before), text_start
        )
        last_starts = numpy.where(bounded_start, last_ends - 1, text_end)
        end_positions = numpy.where(
            max_length >= 0,
            numpy.minimum(text_end, last_ends + max_length + LOOKAHEAD_MARGIN),
            text_end,
        )
        plans = self._plans
        for index, rule_id, position, last_start, end_position, first_end, last_end in zip(
            text_index.tolist(),
            rule_ids.tolist(),
            positions.tolist(),
            last_starts.tolist(),
            end_positions.tolist(),
            first_ends.tolist(),
            last_ends.tolist(),
            strict=True,
        ):
            rule, search, validator, run_after, start_run, pii_type, kind = plans[rule_id]
            text_start = text_starts[index]
            if run_after is not None:
                text_end = text_start + lengths[index] - 1
                run_end = run_after(joined, last_end, text_end).end()
                end_position = min(text_end, run_end + LOOKAHEAD_MARGIN)
            if start_run is not None:
                # The match starts where the run of these characters before the anchor does.
                characters, back = start_run
                anchor = first_end - back
                before_anchor = joined[position:anchor]
                position = anchor - (len(before_anchor) - len(before_anchor.rstrip(characters)))
            # The usual case inline: one match, valid, and no loose hit left after it.
            match = search(joined, position, end_position)
            if match is None:
                continue
            start, end = match.span()
            if start > last_start:
                continue
            valid = validator(match.group())
            if valid and end > last_start:
                spans: list[Span] = [(start - text_start, end - text_start, pii_type, kind)]
            else:
                spans = _search_rule(
                    rule, joined, start, end_position, last_start, text_start, match, valid
                )
            if spans:
                known = found.get(index)
                if known is None:
                    found[index] = spans
                else:
                    known.extend(spans)
        return found


_RULE_BITS = 5
_RULE_SLOTS = 1 << _RULE_BITS
_RULE_MASK = _RULE_SLOTS - 1


def _collect(rule_id: int, start: int, end: int, flags: int, hits: list[int]) -> None:
    """Hyperscan match callback: remember which rule matched where it ended (packed)."""
    hits.append(end << _RULE_BITS | rule_id)
