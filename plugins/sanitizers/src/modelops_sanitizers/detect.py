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
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from modelops_sanitizers.errors import SanitizerOptionError

if TYPE_CHECKING:
    from modelops_sanitizers.dbcache import LoadedDatabase
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
    try:  # the engine imports it anyway; cheaper than importlib.util.find_spec
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


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


@attrs.frozen
class BatchSpans:
    """The findings of a batch of texts as parallel lists, ordered by text, then by position.

    Finding ``i`` is ``pii_type[i]`` (found by the rule ``kind[i]``) at
    ``[start[i], end[i])`` of ``texts[text_index[i]]``; the findings of one text never overlap.
    Lists rather than objects, so a caller can count, slice and redact a whole batch with a
    few C-level passes.
    """

    text_index: list[int]
    start: list[int]
    end: list[int]
    pii_type: list[str]
    kind: list[str]

    def __len__(self) -> int:
        return len(self.text_index)

    def per_text(self, count: int) -> list[Sequence[Span]]:
        """The findings of each of the ``count`` texts as ``Span`` tuples (``()`` for none)."""
        results: list[Sequence[Span]] = [()] * count
        spans = list(zip(self.start, self.end, self.pii_type, self.kind, strict=True))
        position = 0
        for index, run in itertools.groupby(self.text_index):
            size = sum(1 for _ in run)
            results[index] = spans[position : position + size]
            position += size
        return results

    @classmethod
    def from_per_text(cls, per_text: Sequence[Sequence[Span]]) -> BatchSpans:
        """The batch form of per-text ``Span`` lists (each ordered and non-overlapping)."""
        text_index = [index for index, spans in enumerate(per_text) for _ in spans]
        flat = [span for spans in per_text for span in spans]
        return cls(
            text_index,
            [span[0] for span in flat],
            [span[1] for span in flat],
            [span[2] for span in flat],
            [span[3] for span in flat],
        )


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
            _HyperscanScanner(self.rules, self._rank) if engine == "hyperscan" else None
        )

    def __repr__(self) -> str:
        return f"PiiDetector(types={list(self.types)!r}, engine={self.engine!r})"

    @property
    def database(self) -> LoadedDatabase | None:
        """The hyperscan engine's compiled patterns and where they came from (``source``:
        ``"cache"`` or ``"compiled"``); ``None`` for the ``re`` engine."""
        return None if self._scanner is None else self._scanner.loaded

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
        if self._scanner is not None and not self.extra:
            return self._scanner.find(texts).per_text(len(texts))
        return self._spans_per_text(texts)

    def find_batch(self, texts: Sequence[str]) -> BatchSpans:
        """:meth:`find_many` for a whole batch as one :class:`BatchSpans` (the fastest form)."""
        if self._scanner is not None and not self.extra:
            return self._scanner.find(texts)
        return BatchSpans.from_per_text(self._spans_per_text(texts))

    def _spans_per_text(self, texts: Sequence[str]) -> list[Sequence[Span]]:
        """Candidates per text (pattern passes, then third-party detectors), then resolved."""
        if self._scanner is not None:
            candidates = self._scanner.candidates_per_text(texts)
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

    The work after the scan is plain Python, per rule over the whole batch: each rule's hits
    (where its loose matches end, collected in a list per rule) are sorted, grouped by text
    with C-level maps and dicts, each group's first precise match is searched with one
    ``map`` per rule, and only a group whose first candidate is refused or that may hold a
    second finding goes on one by one (:func:`_search_rule`). No numpy: importing it would
    cost more than a whole 1 MB file takes to sanitize.
    """

    def __init__(self, rules: Sequence[Rule], rank: dict[str, int]) -> None:
        from modelops_sanitizers.dbcache import load_or_compile

        self._rules = tuple(rules)
        self._rank = rank
        # Compiled once per machine: later processes load it from the user cache directory.
        self.loaded = load_or_compile(
            [rule.loose_pattern.encode("ascii") for rule in self._rules],
            list(range(len(self._rules))),
        )
        self._database: Any = self.loaded.database
        self._before = [
            -1 if before is None else before
            for before in (
                rule.max_length if rule.max_before is None else rule.max_before
                for rule in self._rules
            )
        ]
        self._max_length = [-1 if rule.max_length is None else rule.max_length for rule in rules]
        self._types = [rule.pii_type for rule in self._rules]
        self._kinds = [rule.kind for rule in self._rules]

    def find(self, texts: Sequence[str]) -> BatchSpans:
        """The resolved findings of ``texts``: overlaps settled as :func:`resolve` does."""
        found = self.candidates(texts)
        if not found:
            return BatchSpans([], [], [], [], [])
        found.sort()  # by text, then start (a text's findings tie only where they clash)
        text_index, start, end, rule_id = map(list, zip(*found, strict=True))
        # Sorted by start, two findings of a text overlap only if some neighbours do; equal
        # starts go to resolve() too, which settles every tie.
        same_text = map(operator.eq, text_index[1:], text_index[:-1])
        touching = map(
            operator.or_,
            map(operator.lt, start[1:], end[:-1]),
            map(operator.eq, start[1:], start[:-1]),
        )
        clash = list(map(operator.and_, same_text, touching))
        if any(clash):
            clashing = set(itertools.compress(text_index[1:], clash))
            found = self._resolve_clashes(found, clashing)
            text_index, start, end, rule_id = map(list, zip(*found, strict=True))
        return BatchSpans(
            text_index,
            start,
            end,
            list(map(self._types.__getitem__, rule_id)),
            list(map(self._kinds.__getitem__, rule_id)),
        )

    def _resolve_clashes(
        self, found: list[tuple[int, int, int, int]], clashing: set[int]
    ) -> list[tuple[int, int, int, int]]:
        """``found`` (sorted), the findings of the ``clashing`` texts resolved text by text."""
        kept = [row for row in found if row[0] not in clashing]
        # resolve() sees each text's candidates in the order the per-text path gives them:
        # by rule, then by position (it keeps that order among exact ties).
        involved = sorted((row for row in found if row[0] in clashing), key=_TEXT_RULE_START)
        types, kinds = self._types, self._kinds
        rule_of_kind = {kind: index for index, kind in enumerate(kinds)}
        for index, rows in itertools.groupby(involved, key=_TEXT):
            candidates: list[Span] = [
                (start, end, types[rule], kinds[rule]) for _, start, end, rule in rows
            ]
            kept.extend(
                (index, span[0], span[1], rule_of_kind[span[3]])
                for span in resolve(candidates, self._rank)
            )
        kept.sort()
        return kept

    def candidates_per_text(self, texts: Sequence[str]) -> dict[int, list[Span]]:
        """The validated (not yet resolved) spans of each text that has any, by text index.

        Each text's spans come by rule, then by position (the order of the ``re`` path).
        """
        per_text: dict[int, list[Span]] = {}
        types, kinds = self._types, self._kinds
        for index, start, end, rule in sorted(self.candidates(texts), key=_TEXT_RULE_START):
            per_text.setdefault(index, []).append((start, end, types[rule], kinds[rule]))
        return per_text

    def candidates(self, texts: Sequence[str]) -> list[tuple[int, int, int, int]]:
        """The validated, not yet resolved spans of ``texts``, unordered, as
        ``(text index, start, end, rule index)`` with offsets into the text."""
        joined = "\0" + "\0".join(texts)
        # Where each rule's loose matches end, one list per rule (no packing, no sort of
        # every hit together: each list comes in nearly sorted, and sorting it costs little).
        hits: list[list[int]] = [[] for _ in self._rules]
        self._database.scan(
            joined.encode("ascii", "replace"), match_event_handler=_collect, context=hits
        )
        if not any(hits):
            return []
        # Text i occupies [starts[i], starts[i + 1] - 1) of the joined buffer.
        starts = list(itertools.accumulate(map((1).__add__, map(len, texts)), initial=1))
        # By owner o (see _rule_candidates): where text o - 1 starts and ends, looked up
        # once per group instead of computed again for each rule.
        bounds = (starts, [0, *starts], list(map(_MINUS_ONE, starts)))
        found: list[tuple[int, int, int, int]] = []
        for rule_id, rule in enumerate(self._rules):
            ends = hits[rule_id]
            if ends:
                ends.sort()
                self._rule_candidates(joined, bounds, rule_id, rule, ends, found)
        return found

    def _rule_candidates(
        self,
        joined: str,
        bounds: tuple[list[int], list[int], list[int]],
        rule_id: int,
        rule: Rule,
        ends: list[int],
        found: list[tuple[int, int, int, int]],
    ) -> None:
        """The validated spans of one rule, from where its loose matches end (sorted),
        appended to ``found``. ``bounds``: the texts' starts in ``joined`` (text i is
        ``[starts[i], starts[i + 1] - 1)``), and by owner o (text o - 1) its start and end.

        The hits of one text make one group. A valid match is covered by a loose match that
        ends after the match starts, so it starts at or after first_end - max_length
        (max_before when set), before last_end, and ends by last_end + max_length (plus room
        for the lookahead) or where run_after stops: the group's search window.
        """
        # The hit's last character lies in the text whose span holds it; the "owner" o is
        # that text's index plus one (the text is [starts[o - 1], starts[o] - 1)): the number
        # of text starts before the hit's end.
        starts, start_of_owner, end_of_owner = bounds
        owners = list(map(bisect.bisect_left, itertools.repeat(starts), ends))
        last_end = dict(zip(owners, ends, strict=True))  # owners ascend: keys in text order
        first_end = dict(zip(reversed(owners), reversed(ends), strict=True))
        groups = list(last_end)
        last_ends = list(last_end.values())
        first_ends = list(map(first_end.__getitem__, groups))
        text_starts = list(map(start_of_owner.__getitem__, groups))
        text_ends = list(map(end_of_owner.__getitem__, groups))
        before, max_length = self._before[rule_id], self._max_length[rule_id]
        if before >= 0:
            positions = list(map(max, text_starts, map((-before).__add__, first_ends)))
        else:
            positions = text_starts
        if rule.run_after is not None:
            # The match cannot run past the run of its continuation characters (a run
            # pattern matches everywhere, if only the empty string).
            runs = cast(
                "Iterator[re.Match[str]]",
                map(rule.run_after.match, itertools.repeat(joined), last_ends, text_ends),
            )
            stops = list(map(min, text_ends, map(_PLUS_MARGIN, map(re.Match.end, runs))))
        elif max_length >= 0:
            stops = list(map(min, text_ends, map((max_length + LOOKAHEAD_MARGIN).__add__,
                                                 last_ends)))  # fmt: skip
        else:
            stops = text_ends
        if rule.start_run is not None:
            # The match starts where the run of these characters before the anchor does.
            characters, back = rule.start_run
            anchors = map((-back).__add__, first_ends)
            before_anchor = map(joined.__getitem__, map(slice, positions, anchors))
            positions = list(
                map(
                    operator.add,
                    positions,
                    map(len, map(str.rstrip, before_anchor, itertools.repeat(characters))),
                )
            )
        search = rule.pattern.search
        matches = map(search, itertools.repeat(joined), positions, stops)
        validator, shrink = rule.validator, rule.shrink
        add = found.append
        for match, group, position, stop, offset, last in zip(
            matches, groups, positions, stops, text_starts, last_ends, strict=True
        ):
            if match is None:
                continue
            start, end = match.span()
            last_start = last - 1
            if start > last_start:
                continue
            if validator(match.group()):
                # The usual group: one finding, and nothing after it in the window.
                add((group - 1, start - offset, end - offset, rule_id))
                if end > last_start:
                    continue
                match = search(joined, end, stop)
                if match is None or match.start() > last_start:
                    continue
                spans = _search_rule(rule, joined, end, stop, last_start, offset, match)
            elif shrink is None:  # refused: the search goes on one character after its start
                match = search(joined, start + 1, stop)
                if match is None or match.start() > last_start:
                    continue
                spans = _search_rule(rule, joined, start + 1, stop, last_start, offset, match)
            else:  # refused: retried shorter, then searched again one character on
                spans = _search_rule(rule, joined, position, stop, last_start, offset, match, False)
            for span in spans:
                add((group - 1, span[0], span[1], rule_id))


_MINUS_ONE = (-1).__add__
_PLUS_MARGIN = LOOKAHEAD_MARGIN.__add__
_TEXT = operator.itemgetter(0)
_TEXT_RULE_START = operator.itemgetter(0, 3, 1)


def _collect(rule_id: int, start: int, end: int, flags: int, hits: list[list[int]]) -> None:
    """Hyperscan match callback: remember where a rule's loose match ended."""
    hits[rule_id].append(end)
