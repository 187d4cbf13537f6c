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

    The work after the scan is done per rule over the whole batch, in C-level passes (numpy
    for the search windows, ``map`` for the precise searches and the validators); Python-level
    work per candidate is left for the rare text where a candidate is refused or a rule matches
    more than once.
    """

    def __init__(self, rules: Sequence[Rule], rank: dict[str, int]) -> None:
        import numpy

        from modelops_sanitizers.dbcache import load_or_compile

        if len(rules) > _RULE_SLOTS:
            raise SanitizerOptionError(f"at most {_RULE_SLOTS} pii rules fit one scan")
        self._numpy = numpy
        self._rules = tuple(rules)
        self._rank = rank
        # Compiled once per machine: later processes load it from the user cache directory.
        self.loaded = load_or_compile(
            [rule.loose_pattern.encode("ascii") for rule in self._rules],
            list(range(len(self._rules))),
        )
        self._database: Any = self.loaded.database
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
        self._types = [rule.pii_type for rule in self._rules]
        self._kinds = [rule.kind for rule in self._rules]

    def find(self, texts: Sequence[str]) -> BatchSpans:
        """The resolved findings of ``texts``: overlaps settled as :func:`resolve` does."""
        found = self.candidates(texts)
        if found is None:
            return BatchSpans([], [], [], [], [])
        numpy = self._numpy
        text_index, start, end, rule_id = found
        order = numpy.lexsort((start, text_index))
        text_index, start, end, rule_id = (
            text_index[order],
            start[order],
            end[order],
            rule_id[order],
        )
        same_text = text_index[1:] == text_index[:-1]
        # Sorted by start, two findings of a text overlap only if some neighbours do; equal
        # starts go to resolve() too, which settles every tie.
        clash = same_text & ((start[1:] < end[:-1]) | (start[1:] == start[:-1]))
        if clash.any():
            # the texts with a clash, once each (text_index is sorted; numpy.unique would
            # import numpy.ma, 5 ms of every run)
            clashing = text_index[1:][clash]
            first = numpy.concatenate(([True], clashing[1:] != clashing[:-1]))
            text_index, start, end, rule_id = self._resolve_clashes(
                text_index, start, end, rule_id, clashing[first]
            )
        rules = rule_id.tolist()
        return BatchSpans(
            text_index.tolist(),
            start.tolist(),
            end.tolist(),
            list(map(self._types.__getitem__, rules)),
            list(map(self._kinds.__getitem__, rules)),
        )

    def _resolve_clashes(
        self, text_index: Any, start: Any, end: Any, rule_id: Any, clashing: Any
    ) -> tuple[Any, Any, Any, Any]:
        """The findings, those of the ``clashing`` texts resolved one text at a time."""
        numpy = self._numpy
        involved = numpy.isin(text_index, clashing)
        chosen = numpy.flatnonzero(involved)
        # resolve() sees each text's candidates in the order the per-text path gives them:
        # by rule, then by position (it keeps that order among exact ties).
        chosen = chosen[numpy.lexsort((start[chosen], rule_id[chosen], text_index[chosen]))]
        rules = rule_id[chosen].tolist()
        candidates: list[Span] = list(
            zip(
                start[chosen].tolist(),
                end[chosen].tolist(),
                map(self._types.__getitem__, rules),
                map(self._kinds.__getitem__, rules),
                strict=True,
            )
        )
        rule_of_kind = {kind: index for index, kind in enumerate(self._kinds)}
        kept: list[tuple[int, int, int, int]] = []
        position = 0
        for index, run in itertools.groupby(text_index[chosen].tolist()):
            size = sum(1 for _ in run)
            for span in resolve(candidates[position : position + size], self._rank):
                kept.append((index, span[0], span[1], rule_of_kind[span[3]]))
            position += size
        others = numpy.flatnonzero(~involved)
        resolved = numpy.array(kept, dtype=numpy.int64).reshape(-1, 4)
        text_index = numpy.concatenate((text_index[others], resolved[:, 0]))
        start = numpy.concatenate((start[others], resolved[:, 1]))
        end = numpy.concatenate((end[others], resolved[:, 2]))
        rule_id = numpy.concatenate((rule_id[others], resolved[:, 3]))
        order = numpy.lexsort((start, text_index))
        return text_index[order], start[order], end[order], rule_id[order]

    def candidates_per_text(self, texts: Sequence[str]) -> dict[int, list[Span]]:
        """The validated (not yet resolved) spans of each text that has any, by text index.

        Each text's spans come by rule, then by position (the order of the ``re`` path).
        """
        found = self.candidates(texts)
        per_text: dict[int, list[Span]] = {}
        if found is None:
            return per_text
        numpy = self._numpy
        text_index, start, end, rule_id = found
        order = numpy.lexsort((start, rule_id, text_index))
        types, kinds = self._types, self._kinds
        for index, span_start, span_end, rule in zip(
            text_index[order].tolist(),
            start[order].tolist(),
            end[order].tolist(),
            rule_id[order].tolist(),
            strict=True,
        ):
            per_text.setdefault(index, []).append((span_start, span_end, types[rule], kinds[rule]))
        return per_text

    def candidates(self, texts: Sequence[str]) -> tuple[Any, Any, Any, Any] | None:
        """The validated, not yet resolved spans of ``texts`` (``None`` if there are none).

        As four int64 arrays, unordered: text index, start and end (offsets into the text),
        rule index.
        """
        numpy = self._numpy
        joined = "\0" + "\0".join(texts)
        hits: list[int] = []
        self._database.scan(
            joined.encode("ascii", "replace"), match_event_handler=_collect, context=hits
        )
        if not hits:
            return None
        count = len(texts)
        # Text i occupies [text_starts[i], text_starts[i + 1] - 1) of the joined buffer.
        text_starts = numpy.empty(count + 1, dtype=numpy.int64)
        text_starts[0] = 0
        numpy.cumsum(numpy.fromiter(map(len, texts), numpy.int64, count) + 1, out=text_starts[1:])
        text_starts += 1
        packed = numpy.array(hits, dtype=numpy.int64)
        ends = packed >> _RULE_BITS
        # The hit's last character lies in the text whose span holds it. Groups of hits per
        # (rule, text), rule first, so each rule's groups are one slice.
        text_of_hit = numpy.searchsorted(text_starts, ends - 1, side="right") - 1
        key = (packed & _RULE_MASK) * count + text_of_hit
        order = numpy.lexsort((ends, key))
        key, ends = key[order], ends[order]
        new_group = numpy.flatnonzero(key[1:] != key[:-1]) + 1
        firsts = numpy.concatenate(([0], new_group))
        lasts = numpy.concatenate((new_group - 1, [len(key) - 1]))
        # Each group's search window. A valid match is covered by a loose match that ends
        # after the match starts, so it starts at or after first_end - max_length (max_before
        # when set), before last_end, and ends by last_end + max_length (plus room for the
        # lookahead) or where run_after stops.
        first_ends, last_ends = ends[firsts], ends[lasts]
        rule_ids, text_index = numpy.divmod(key[firsts], count)
        text_start = text_starts[text_index]
        text_end = text_starts[text_index + 1] - 1
        before, max_length = self._before[rule_ids], self._max_length[rule_ids]
        positions = numpy.where(
            before >= 0, numpy.maximum(text_start, first_ends - before), text_start
        )
        last_starts = last_ends - 1
        end_positions = numpy.where(
            max_length >= 0,
            numpy.minimum(text_end, last_ends + max_length + LOOKAHEAD_MARGIN),
            text_end,
        )
        matches = self._first_matches(
            joined, self._rule_bounds(rule_ids), positions, end_positions, first_ends, last_ends,
            text_end,
        )  # fmt: skip
        return self._validated(
            joined, matches, rule_ids, text_index, text_start, last_starts, end_positions
        )

    def _first_matches(
        self,
        joined: str,
        rule_bounds: list[int],
        positions: Any,
        end_positions: Any,
        first_ends: Any,
        last_ends: Any,
        text_end: Any,
    ) -> list[re.Match[str] | None]:
        """Each group's first precise match in its window (one ``map`` per rule).

        ``end_positions`` is updated in place where a rule's ``run_after`` narrows it.
        """
        matches: list[re.Match[str] | None] = []
        numpy = self._numpy
        for rule_id, rule in enumerate(self._rules):
            low, high = rule_bounds[rule_id], rule_bounds[rule_id + 1]
            if low == high:
                continue
            starts = positions[low:high].tolist()
            if rule.run_after is not None:
                # The match cannot run past the run of its continuation characters (a run
                # pattern matches everywhere, if only the empty string).
                runs = cast(
                    "Iterator[re.Match[str]]",
                    map(
                        rule.run_after.match,
                        itertools.repeat(joined),
                        last_ends[low:high].tolist(),
                        text_end[low:high].tolist(),
                    ),
                )
                run_ends = map(re.Match.end, runs)
                end_positions[low:high] = numpy.minimum(
                    text_end[low:high],
                    numpy.fromiter(run_ends, numpy.int64, high - low) + LOOKAHEAD_MARGIN,
                )
            if rule.start_run is not None:
                # The match starts where the run of these characters before the anchor does.
                characters, back = rule.start_run
                anchors = (first_ends[low:high] - back).tolist()
                before_anchor = map(joined.__getitem__, map(slice, starts, anchors))
                starts = list(
                    map(
                        operator.add,
                        starts,
                        map(len, map(str.rstrip, before_anchor, itertools.repeat(characters))),
                    )
                )
            matches += map(
                rule.pattern.search,
                itertools.repeat(joined),
                starts,
                end_positions[low:high].tolist(),
            )
        return matches

    def _validated(
        self,
        joined: str,
        matches: list[re.Match[str] | None],
        rule_ids: Any,
        text_index: Any,
        text_start: Any,
        last_starts: Any,
        end_positions: Any,
    ) -> tuple[Any, Any, Any, Any] | None:
        """The validated spans of every group, found in rounds over all groups at once.

        Each round does for every group still searching what :func:`_search_rule` does in one
        turn of its loop: a match that starts after the group's last hit ends the group; a
        valid one is a finding and the search goes on after it while hits are left; a refused
        one is retried shorter, and the search goes on one character after its start. Most
        groups end in the first round; the last few go on one by one.
        """
        numpy = self._numpy
        parts: list[tuple[Any, Any, Any, Any]] = []
        # Spans found one at a time: shortened candidates and the groups finished one by one.
        single: list[tuple[int, int, int, int]] = []
        groups = numpy.arange(len(matches))
        while True:
            found = list(filter(None, matches))
            if len(found) < len(matches):
                present = itertools.compress(range(len(matches)), matches)
                groups = groups[numpy.fromiter(present, numpy.int64, len(found))]
            bounds = numpy.fromiter(
                itertools.chain.from_iterable(map(re.Match.span, found)),
                numpy.int64,
                2 * len(found),
            ).reshape(-1, 2)
            starts, ends = bounds[:, 0], bounds[:, 1]
            group_last_starts = last_starts[groups]
            in_window = starts <= group_last_starts
            if not in_window.all():
                found = list(itertools.compress(found, in_window.tolist()))
                groups, starts, ends = groups[in_window], starts[in_window], ends[in_window]
                group_last_starts = group_last_starts[in_window]
            if not found:
                break
            group_rules = rule_ids[groups]
            candidates = list(map(re.Match.group, found))
            valid = self._validate(candidates, group_rules)
            found_groups, offsets = groups[valid], text_start[groups[valid]]
            parts.append(
                (
                    text_index[found_groups],
                    starts[valid] - offsets,
                    ends[valid] - offsets,
                    group_rules[valid],
                )
            )
            next_positions = numpy.where(valid, ends, starts + 1)
            refused = numpy.flatnonzero(~valid)
            if len(refused):
                self._shrink_refused(
                    candidates, refused, starts, group_rules, text_index[groups],
                    text_start[groups], next_positions, single,
                )  # fmt: skip
            going_on = ~valid | (ends <= group_last_starts)
            left = int(going_on.sum())
            if not left:
                break
            groups, group_rules = groups[going_on], group_rules[going_on]
            positions = next_positions[going_on].tolist()
            stops = end_positions[groups].tolist()
            if left < _FEW_GROUPS:
                # A round's array work costs more than finishing a few groups one by one.
                self._search_one_by_one(
                    joined, groups, group_rules, positions, stops, text_index, text_start,
                    last_starts, single,
                )  # fmt: skip
                break
            matches = self._search_groups(joined, group_rules, positions, stops)
        if single:
            rows = numpy.array(single, dtype=numpy.int64)
            parts.append((rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]))
        if not parts:
            return None
        return (
            numpy.concatenate([part[0] for part in parts]),
            numpy.concatenate([part[1] for part in parts]),
            numpy.concatenate([part[2] for part in parts]),
            numpy.concatenate([part[3] for part in parts]),
        )

    def _validate(self, candidates: list[str], group_rules: Any) -> Any:
        """Each candidate's validation by its rule (``group_rules`` is sorted), as a bool array."""
        rule_bounds = self._rule_bounds(group_rules)
        valid: list[bool] = []
        for rule_id, rule in enumerate(self._rules):
            low, high = rule_bounds[rule_id], rule_bounds[rule_id + 1]
            if low == high:
                continue
            if rule.validate_many is not None:
                valid += rule.validate_many(candidates[low:high])
            else:
                valid += map(rule.validator, candidates[low:high])
        return self._numpy.array(valid, dtype=bool)

    def _rule_bounds(self, group_rules: Any) -> list[int]:
        """Where each rule's slice of the sorted ``group_rules`` starts (and the last ends)."""
        numpy = self._numpy
        bounds: list[int] = numpy.searchsorted(
            group_rules, numpy.arange(len(self._rules) + 1)
        ).tolist()
        return bounds

    def _search_groups(
        self, joined: str, group_rules: Any, positions: list[int], stops: list[int]
    ) -> list[re.Match[str] | None]:
        """Each group's next precise match in ``[position, stop)`` (one ``map`` per rule)."""
        rule_bounds = self._rule_bounds(group_rules)
        matches: list[re.Match[str] | None] = []
        for rule_id, rule in enumerate(self._rules):
            low, high = rule_bounds[rule_id], rule_bounds[rule_id + 1]
            if low < high:
                matches += map(
                    rule.pattern.search,
                    itertools.repeat(joined),
                    positions[low:high],
                    stops[low:high],
                )
        return matches

    def _search_one_by_one(
        self,
        joined: str,
        groups: Any,
        group_rules: Any,
        positions: list[int],
        stops: list[int],
        text_index: Any,
        text_start: Any,
        last_starts: Any,
        single: list[tuple[int, int, int, int]],
    ) -> None:
        """Finish the groups with :func:`_search_rule`; their spans go to ``single``."""
        for group, rule_id, position, stop in zip(
            groups.tolist(), group_rules.tolist(), positions, stops, strict=True
        ):
            index, offset = int(text_index[group]), int(text_start[group])
            spans = _search_rule(
                self._rules[rule_id], joined, position, stop, int(last_starts[group]), offset
            )
            single.extend((index, span[0], span[1], rule_id) for span in spans)

    def _shrink_refused(
        self,
        candidates: list[str],
        refused: Any,
        starts: Any,
        group_rules: Any,
        text_of_candidate: Any,
        start_of_text: Any,
        next_positions: Any,
        single: list[tuple[int, int, int, int]],
    ) -> None:
        """Retry refused candidates shorter, as :func:`_search_rule` does (rules with shrink).

        The first valid prefix (in the order ``shrink`` gives them) is a finding, added to
        ``single`` as ``(text, start, end, rule)``, and the group's search goes on after it
        (``next_positions`` is updated in place). All prefixes of a rule are checked at once.
        """
        refused_rules = group_rules[refused]
        for rule_id, rule in enumerate(self._rules):
            if rule.shrink is None:
                continue
            mine = refused[refused_rules == rule_id].tolist()
            if not mine:
                continue
            owners: list[int] = []
            prefix_ends: list[int] = []
            for owner in mine:
                candidate = candidates[owner]
                for prefix_end in rule.shrink(candidate):
                    if prefix_end < len(candidate):
                        owners.append(owner)
                        prefix_ends.append(prefix_end)
            if not owners:
                continue
            prefixes = [
                candidates[owner][:prefix_end]
                for owner, prefix_end in zip(owners, prefix_ends, strict=True)
            ]
            if rule.validate_many is not None:
                valid = rule.validate_many(prefixes)
            else:
                valid = list(map(rule.validator, prefixes))
            accepted: dict[int, int] = {}
            for owner, prefix_end, is_valid in zip(owners, prefix_ends, valid, strict=True):
                if is_valid and owner not in accepted:
                    accepted[owner] = prefix_end
            for owner, prefix_end in accepted.items():
                start, offset = int(starts[owner]), int(start_of_text[owner])
                single.append(
                    (int(text_of_candidate[owner]), start - offset, start + prefix_end - offset,
                     rule_id)
                )  # fmt: skip
                next_positions[owner] = start + prefix_end


_FEW_GROUPS = 48
"""Groups still searching below which the rounds go on one group at a time."""
_RULE_BITS = 5
_RULE_SLOTS = 1 << _RULE_BITS
_RULE_MASK = _RULE_SLOTS - 1


def _collect(rule_id: int, start: int, end: int, flags: int, hits: list[int]) -> None:
    """Hyperscan match callback: remember which rule matched where it ended (packed)."""
    hits.append(end << _RULE_BITS | rule_id)
