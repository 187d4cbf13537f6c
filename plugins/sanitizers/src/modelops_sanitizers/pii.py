"""The ``pii`` sanitizer: find validated PII in every string of a record and redact it.

Strategies:

- ``mask``: the finding becomes its type label, ``[EMAIL]``, ``[CARD]`` …;
- ``hash``: ``[EMAIL:3f2a…]``, an HMAC-SHA256 of the value keyed by ``salt``, so the same value
  gets the same token everywhere in a dataset (and a different one under another salt);
- ``partial``: letters and digits are replaced by ``*`` except the last four (``**** 1111``);
- ``drop``: a record holding any finding is left out of the output.
"""

from __future__ import annotations

import collections
import itertools
import operator
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

from modelops_sanitizers.detect import BatchSpans, Finding, PiiDetector, Span
from modelops_sanitizers.errors import SanitizerOptionError
from modelops_sanitizers.patterns import PII_TYPES
from modelops_sanitizers.records import (
    check_fields,
    check_record,
    collect_strings,
    copy_record,
    transform_record,
)

STRATEGIES: tuple[str, ...] = ("mask", "hash", "partial", "drop")
HASH_HEX_DIGITS = 16
BATCH_RECORDS = 2048
SAMPLES_PER_TYPE = 10
"""Records kept in the report's ``by_record`` for each PII type: the first ones it was found in."""
MAX_FIELD_PATHS = 100
"""Field paths counted one by one in ``by_field``; findings in further paths go to
:data:`OTHER_FIELDS`, so a file whose keys differ on every line keeps a small report."""
OTHER_FIELDS = "(other fields)"
_FLAT_VALUE_TYPES = frozenset({str, int, float, bool, type(None)})
"""Value types of a record that holds no container: its strings are its top-level values."""
_NOTHING_TO_FIND = frozenset({"", "system", "user", "assistant", "tool", "developer"})
"""Strings in which no built-in rule can find anything (the chat roles): not scanned."""
_SCANNED = dict.fromkeys(_NOTHING_TO_FIND, False)
"""``_SCANNED.get(text, True)``: whether a string of a plain chat batch is scanned."""
_MESSAGES_KEY = ("messages",)
_MESSAGES = operator.itemgetter("messages")


def mask_label(pii_type: str) -> str:
    """The mask of a type: ``email`` -> ``[EMAIL]``."""
    return f"[{pii_type.upper()}]"


def keep_last_four(value: str) -> str:
    """``value`` with every letter and digit but the last four replaced by ``*``.

    Separators stay, so the shape remains readable: ``4111 1111 1111 1234`` ->
    ``**** **** **** 1234``.
    """
    to_hide = sum(character.isalnum() for character in value) - 4
    if to_hide <= 0:
        return "*" * len(value)
    masked: list[str] = []
    for character in value:
        if to_hide > 0 and character.isalnum():
            masked.append("*")
            to_hide -= 1
        else:
            masked.append(character)
    return "".join(masked)


class PiiRedactor:
    """Redacts PII in single strings with one strategy; the ``pii`` sanitizer uses one per run.

    :param types: PII types to find (all by default): email, phone, card, iban, ip, ssn, secret.
    :param strategy: ``"mask"``, ``"hash"``, ``"partial"`` or ``"drop"`` (drop only marks).
    :param salt: the HMAC key of the ``hash`` strategy; a random one per redactor by default.
    :param engine: ``"auto"``, ``"re"`` or ``"hyperscan"``; every engine finds the same PII.
    :param detectors: third-party detectors (see :func:`~modelops_sanitizers.detect.load_detector`).
    """

    def __init__(
        self,
        types: Iterable[str] | None = None,
        *,
        strategy: str = "mask",
        salt: str | bytes | None = None,
        engine: str = "auto",
        detectors: Iterable[Any] = (),
    ) -> None:
        if strategy not in STRATEGIES:
            raise SanitizerOptionError(
                f"pii strategy={strategy!r} is not valid. Choose one of {list(STRATEGIES)}."
            )
        if salt is not None and not isinstance(salt, str | bytes):
            raise SanitizerOptionError(
                f"pii salt must be a string or bytes, not {type(salt).__name__}; give a secret "
                'such as { env = "MODELOPS_PII_SALT" } in modelops.toml.'
            )
        self.detector = PiiDetector(types, engine=engine, detectors=detectors)
        self.strategy = strategy
        key = salt.encode("utf-8") if isinstance(salt, str) else salt
        self._salt = key if key else os.urandom(32)  # what secrets.token_bytes(32) returns
        # Masks do not depend on the value: computed once per type.
        self._labels: dict[str, str] | None = (
            {pii_type: mask_label(pii_type) for pii_type in PII_TYPES}
            if strategy in ("mask", "drop")
            else None
        )

    def __repr__(self) -> str:
        # The salt may be a secret: it never appears in a repr, a report or an error.
        return (
            f"PiiRedactor(types={list(self.detector.types)!r}, strategy={self.strategy!r}, "
            f"engine={self.detector.engine!r})"
        )

    def redact(self, text: str) -> tuple[str, list[Finding]]:
        """``text`` with its findings replaced, and the findings (spans into the original)."""
        return self.redact_many([text])[0]

    def redact_many(self, texts: Sequence[str]) -> list[tuple[str, list[Finding]]]:
        """:meth:`redact` for each of ``texts``, detected in one batch."""
        return [
            (
                self._redact_spans(text, spans) if spans and self.strategy != "drop" else text,
                [Finding(pii_type, kind, start, end) for start, end, pii_type, kind in spans],
            )
            for text, spans in zip(texts, self.detector.spans_many(texts), strict=True)
        ]

    def _redact_spans(self, text: str, spans: Sequence[Span]) -> str:
        """``text`` with each of its (ordered, non-overlapping) ``spans`` replaced."""
        labels = self._labels
        pieces: list[str] = []
        position = 0
        for start, end, pii_type, _ in spans:
            pieces.append(text[position:start])
            label = labels.get(pii_type) if labels is not None else None
            pieces.append(label or self.replacement(pii_type, text[start:end]))
            position = end
        pieces.append(text[position:])
        return "".join(pieces)

    def replacement(self, pii_type: str, value: str) -> str:
        """What replaces ``value`` (a finding of ``pii_type``) under this strategy."""
        if self.strategy == "hash":
            import hashlib  # here, not at import: most runs mask, and the import costs ms
            import hmac

            digest = hmac.new(self._salt, value.encode("utf-8"), hashlib.sha256).hexdigest()
            return f"[{pii_type.upper()}:{digest[:HASH_HEX_DIGITS]}]"
        if self.strategy == "partial":
            return keep_last_four(value)
        return mask_label(pii_type)


class PiiSanitizer:
    """The ``pii`` component: redacts PII in every string of each record (or drops the record).

    :param types: PII types to find; every type by default.
    :param strategy: ``"mask"`` (default), ``"hash"``, ``"partial"`` or ``"drop"``.
    :param salt: the key of ``hash``; set it (as a secret) to get the same tokens across runs.
    :param fields: only keys with these names (at any depth, with everything under them) are
        scanned; every string value by default.
    :param engine: ``"auto"`` (hyperscan prefilter when installed), ``"re"`` or ``"hyperscan"``.
    :param detectors: third-party detectors added to the built-in ones: callables or objects
        with ``find(text)`` returning ``(start, end, type)`` spans, or their ``"module:attr"``
        names (usable from ``modelops.toml``).
    :param samples: records kept in the report's ``by_record`` per PII type (the first ones
        holding it); the report's size does not grow with the number of records.
    """

    name = "pii"

    def __init__(
        self,
        types: list[str] | None = None,
        strategy: str = "mask",
        salt: str | None = None,
        fields: list[str] | None = None,
        engine: str = "auto",
        detectors: list[Any] | None = None,
        samples: int = SAMPLES_PER_TYPE,
    ) -> None:
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 0:
            raise SanitizerOptionError(
                f"pii samples={samples!r} is not valid: give a whole number >= 0 (records kept "
                f"in the report per PII type; default {SAMPLES_PER_TYPE})."
            )
        self.redactor = PiiRedactor(
            types, strategy=strategy, salt=salt, engine=engine, detectors=detectors or ()
        )
        self.fields = check_fields(fields, sanitizer="pii")
        self.samples = samples
        self._records_in = 0
        self._records_out = 0
        self._records_with_findings = 0
        self._by_type: Counter[str] = Counter()
        self._by_field: dict[str, Counter[str]] = {}
        self._by_record: dict[int, dict[str, int]] = {}
        self._sampled: Counter[str] = Counter()  # records kept in _by_record, per type

    def __repr__(self) -> str:
        return f"PiiSanitizer({self.redactor!r}, fields={sorted(self.fields or [])!r})"

    keeps_format = True
    """Records come out in the shape they went in (only strings change, or records are left
    out): a reader of the output need not check its shape again."""

    record_local = True
    """What happens to a record depends on the record alone: a large input can be split
    between processes, each with a copy of this component, and their reports absorbed."""

    costly = True
    """Its work per record (detection) outweighs sending a record from one process to
    another: records in memory are worth splitting between processes."""

    def apply(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        """Stream the sanitized records; under ``drop`` a record with any finding is left out.

        Records are read in batches of :data:`BATCH_RECORDS` so one prefilter scan covers
        many strings; memory stays bounded by the batch. The input is never modified: the
        records given out are new ones.
        """
        return self._apply(records, copy=True)

    def apply_owned(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """:meth:`apply` for records nobody else holds (e.g. freshly parsed from a file): plain
        chat records are redacted in place instead of copied first. Same output and report."""
        return self._apply(records, copy=False)

    def _apply(
        self, records: Iterable[Mapping[str, Any]], *, copy: bool
    ) -> Iterator[dict[str, Any]]:
        iterator = iter(records)
        while batch := list(itertools.islice(iterator, BATCH_RECORDS)):
            yield from self._apply_batch(batch, copy)

    def _apply_batch(self, batch: list[Mapping[str, Any]], copy: bool) -> Iterator[dict[str, Any]]:
        plain = self._apply_plain_chat_batch(batch, copy)
        if plain is not None:
            return iter(plain)
        texts = self._flat_texts(batch)
        if texts is not None:
            return self._apply_flat_batch(batch, texts)
        chat = self._chat_texts(batch)
        if chat is not None:
            return self._apply_chat_batch(batch, *chat)
        return self._apply_nested_batch(batch)

    def _apply_plain_chat_batch(
        self, batch: list[Mapping[str, Any]], copy: bool
    ) -> list[dict[str, Any]] | None:
        """A batch of plain chat records (``{"messages": [{...}, ...]}``, each message a dict
        of scalars, no ``fields``), done with C-level maps over the whole batch: no Python
        step per string or per message. ``None`` for any other batch.

        The same output and report as :meth:`_apply_chat_batch`: the texts are the same, in
        the same order, except the role names and empty strings, in which nothing is ever
        found (they are scanned when third-party detectors are configured). With ``copy``
        the records given out are new (new lists and message dicts); without it the batch's
        own message dicts are redacted in place and the records handed on.
        """
        if self.fields is not None or not batch:
            return None
        if set(map(type, batch)) != {dict} or set(map(len, batch)) != {1}:
            return None
        try:
            conversations = list(map(_MESSAGES, batch))
        except KeyError:
            return None
        if set(map(type, conversations)) != {list}:
            return None
        messages = list(itertools.chain.from_iterable(conversations))
        if messages and set(map(type, messages)) != {dict}:
            return None
        values = list(itertools.chain.from_iterable(map(dict.values, messages)))
        value_types = set(map(type, values))
        if not value_types <= _FLAT_VALUE_TYPES:
            return None
        keys = list(itertools.chain.from_iterable(map(dict.keys, messages)))
        value_message = list(
            itertools.chain.from_iterable(
                map(itertools.repeat, range(len(messages)), map(len, messages))
            )
        )
        if self.redactor.detector.extra:  # third-party detectors see every string
            scanned: list[bool] = list(map(operator.is_, map(type, values), itertools.repeat(str)))
        elif value_types == {str}:  # the usual batch: one lookup per value
            scanned = list(map(_SCANNED.get, values, itertools.repeat(True)))
        else:
            scanned = list(
                map(
                    operator.and_,
                    map(operator.is_, map(type, values), itertools.repeat(str)),
                    map(operator.not_, map(_NOTHING_TO_FIND.__contains__, values)),
                )
            )
        text_value = list(itertools.compress(range(len(values)), scanned))
        texts: list[str] = list(itertools.compress(values, scanned))
        found = self.redactor.detector.find_batch(texts)
        first_index, count = self._records_in, len(batch)
        self._records_in += count
        span_records: list[int] = []
        if found:
            message_record = list(
                itertools.chain.from_iterable(
                    map(itertools.repeat, range(count), map(len, conversations))
                )
            )
            span_values = list(map(text_value.__getitem__, found.text_index))
            span_records = list(
                map(message_record.__getitem__, map(value_message.__getitem__, span_values))
            )
            paths = {key: f"messages[].{key}" for key in set(keys)}
            span_fields = map(paths.__getitem__, map(keys.__getitem__, span_values))
            self._count_findings(first_index, span_records, span_fields, found.pii_type)
        dropping = self.redactor.strategy == "drop"
        if copy:
            messages = list(map(dict, messages))
        if found and not dropping:
            changed, redacted = self._redact_batch(texts, found)
            places = list(map(text_value.__getitem__, changed))
            targets = map(messages.__getitem__, map(value_message.__getitem__, places))
            collections.deque(
                map(dict.__setitem__, targets, map(keys.__getitem__, places), redacted), maxlen=0
            )
        if copy:
            bounds = list(itertools.accumulate(map(len, conversations), initial=0))
            conversations = list(map(messages.__getitem__, map(slice, bounds, bounds[1:])))
            outputs = list(map(dict.fromkeys, itertools.repeat(_MESSAGES_KEY), conversations))
        else:
            outputs = cast("list[dict[str, Any]]", batch)
        if dropping and span_records:
            dropped = set(span_records)
            outputs = [record for index, record in enumerate(outputs) if index not in dropped]
        self._records_out += len(outputs)
        return outputs

    def _chat_texts(
        self, batch: list[Mapping[str, Any]]
    ) -> tuple[list[str], list[tuple[int, str, int, str | None]]] | None:
        """Every string of a batch of chat-like records, and where each one sits.

        Chat-like: each record is a dict whose values are scalars or lists of scalars and of
        dicts of scalars (``{"messages": [{"role": ..., "content": ...}], "id": 3}``), and no
        ``fields``. A string's place is ``(record, key, item, inner key)``; ``item`` is ``-1``
        for a top-level string, ``inner key`` ``None`` for a string item of a list. ``None``
        for any other batch (it goes record by record).
        """
        if self.fields is not None:
            return None
        texts: list[str] = []
        places: list[tuple[int, str, int, str | None]] = []
        add_text, add_place = texts.append, places.append
        scalars = _FLAT_VALUE_TYPES
        for index, record in enumerate(batch):
            if type(record) is not dict:
                return None
            for key, value in record.items():
                kind = type(value)
                if kind is str:
                    add_text(value)
                    add_place((index, key, -1, None))
                elif kind is list:
                    for position, item in enumerate(value):
                        item_kind = type(item)
                        if item_kind is dict:
                            for inner, text in item.items():
                                if type(text) is str:
                                    add_text(text)
                                    add_place((index, key, position, inner))
                                elif type(text) not in scalars:
                                    return None
                        elif item_kind is str:
                            add_text(item)
                            add_place((index, key, position, None))
                        elif item_kind not in scalars:
                            return None
                elif kind not in scalars:
                    return None
        return texts, places

    def _apply_chat_batch(
        self,
        batch: list[Mapping[str, Any]],
        texts: list[str],
        places: list[tuple[int, str, int, str | None]],
    ) -> Iterator[dict[str, Any]]:
        """A batch of chat-like records (see :meth:`_chat_texts`): detected, counted and
        redacted in whole-batch passes, like a flat batch; the same output and report as the
        record-by-record walk."""
        found = self.redactor.detector.find_batch(texts)
        first_index, count = self._records_in, len(batch)
        self._records_in += count
        if self.redactor.strategy == "drop":
            dropped = {places[index][0] for index in found.text_index}
        else:
            dropped = set()
        if found:
            span_places = list(map(places.__getitem__, found.text_index))
            self._count_findings(
                first_index,
                [place[0] for place in span_places],
                map(_field_path, span_places),
                found.pii_type,
            )
        outputs = [
            _copy_chat_record(record) for index, record in enumerate(batch) if index not in dropped
        ]
        self._records_out += len(outputs)
        if found and not dropped:
            for index, text in zip(*self._redact_batch(texts, found), strict=True):
                record, key, item, inner = places[index]
                if item < 0:
                    outputs[record][key] = text
                elif inner is None:
                    outputs[record][key][item] = text
                else:
                    outputs[record][key][item][inner] = text
        return iter(outputs)

    def _flat_texts(self, batch: list[Mapping[str, Any]]) -> list[str] | None:
        """Every value of the batch, when every record is a dict of strings and no ``fields``.

        ``None`` otherwise: nested records, other value types and ``fields`` go record by record.
        """
        if self.fields is not None:
            return None
        try:  # dict.values refuses anything but a dict: no separate type check of the records
            texts: list[str] = list(itertools.chain.from_iterable(map(dict.values, batch)))  # type: ignore[arg-type]
        except TypeError:
            return None
        return texts if set(map(type, texts)) <= {str} else None

    def _apply_flat_batch(
        self, batch: list[Mapping[str, Any]], texts: list[str]
    ) -> Iterator[dict[str, Any]]:
        """A batch of flat string records: counted, redacted and copied in whole-batch passes."""
        found = self.redactor.detector.find_batch(texts)
        first_index, count = self._records_in, len(batch)
        self._records_in += count
        if not found:
            self._records_out += count
            return map(dict, batch)
        record_of_text: Sequence[int]
        if len(texts) == count:  # one string per record: text i is record i's
            record_of_text, span_records = range(count), found.text_index
        else:
            record_of_text = list(
                itertools.chain.from_iterable(map(itertools.repeat, range(count), map(len, batch)))
            )
            span_records = list(map(record_of_text.__getitem__, found.text_index))
        keys: list[str] = list(itertools.chain.from_iterable(map(dict.keys, batch)))  # type: ignore[arg-type]
        self._count_findings(
            first_index, span_records, map(keys.__getitem__, found.text_index), found.pii_type
        )
        if self.redactor.strategy == "drop":
            dropped = set(span_records)
            kept = [dict(record) for index, record in enumerate(batch) if index not in dropped]
            self._records_out += len(kept)
            return iter(kept)
        outputs = list(map(dict, batch))
        for index, text in zip(*self._redact_batch(texts, found), strict=True):
            outputs[record_of_text[index]][keys[index]] = text
        self._records_out += count
        return iter(outputs)

    def _count_findings(
        self,
        first_index: int,
        span_records: Sequence[int],
        span_fields: Iterable[str],
        span_types: list[str],
    ) -> None:
        """Add a batch's findings to the per type and per field counts, and sample the records."""
        span_fields = list(span_fields)
        by_type = Counter(span_types)
        self._by_type.update(by_type)
        fields = set(span_fields)
        if len(fields) == 1:  # the usual batch: every finding in one field, counted by type
            self._field_counts(str(fields.pop())).update(by_type)
        else:
            for (field, pii_type), number in Counter(
                zip(span_fields, span_types, strict=True)
            ).items():
                self._field_counts(str(field))[pii_type] += number
        sampled, limit = self._sampled, self.samples
        if all(sampled[pii_type] >= limit for pii_type in set(span_types)):
            # Every type found here has its samples: no record of the batch is kept, only
            # counted (what _sample would do record by record).
            self._records_with_findings += len(set(span_records))
            return
        per_record: dict[int, dict[str, int]] = {}
        for (record, pii_type), number in Counter(
            zip(span_records, span_types, strict=True)
        ).items():
            counts = per_record.get(record)
            if counts is None:
                per_record[record] = {pii_type: number}
            else:
                counts[pii_type] = number
        for record in sorted(per_record):
            self._sample(first_index + record, per_record[record])

    def _field_counts(self, path: str) -> Counter[str]:
        """The counter of ``path``, or of :data:`OTHER_FIELDS` once there are enough paths."""
        counts = self._by_field.get(path)
        if counts is None:
            if len(self._by_field) >= MAX_FIELD_PATHS:
                path = OTHER_FIELDS
                counts = self._by_field.get(path)
            if counts is None:
                counts = self._by_field[path] = Counter()
        return counts

    def _sample(self, index: int, counts: dict[str, int]) -> None:
        """Count a record with findings; keep its counts when it is among the first
        ``samples`` records of one of its types (bounded: ``samples`` per type)."""
        self._records_with_findings += 1
        if self._takes_sample(counts):
            self._by_record[index] = counts

    def _takes_sample(self, counts: Mapping[str, int]) -> bool:
        """Whether a record with these counts is among the first ``samples`` records of one
        of its types (counting it for each type still short of ``samples``)."""
        sampled = self._sampled
        limit = self.samples
        kept = False
        for pii_type in counts:
            if sampled[pii_type] < limit:
                sampled[pii_type] += 1
                kept = True
        return kept

    def _redact_batch(self, texts: list[str], found: BatchSpans) -> tuple[list[int], list[str]]:
        """The indexes of the texts with findings, and those texts redacted.

        The texts are joined with NULs, redacted with one join and split again, so no text
        pays for a loop of its own; a text that holds a NUL itself makes the batch go text by
        text.
        """
        changed = list(dict.fromkeys(found.text_index))
        source = "\0".join(map(texts.__getitem__, changed))
        # Each text and its NUL; accumulate() gives one offset more than there are texts.
        spans_of_texts = map((1).__add__, map(len, map(texts.__getitem__, changed)))
        offsets_of_texts = itertools.accumulate(spans_of_texts, initial=0)
        offset_of = dict(zip(changed, offsets_of_texts, strict=False))
        offsets = list(map(offset_of.__getitem__, found.text_index))
        starts = list(map(operator.add, offsets, found.start))
        ends = list(map(operator.add, offsets, found.end))
        kept = map(
            source.__getitem__,
            map(slice, itertools.chain((0,), ends), itertools.chain(starts, (len(source),))),
        )
        pieces: list[str] = [""] * (2 * len(starts) + 1)
        pieces[0::2] = kept
        pieces[1::2] = self._replacements(found.pii_type, source, starts, ends)
        redacted = "".join(pieces).split("\0")
        if len(redacted) != len(changed):  # a text held a NUL itself: one text at a time
            per_text = found.per_text(len(texts))
            redacted = [
                self.redactor._redact_spans(texts[index], per_text[index]) for index in changed
            ]
        return changed, redacted

    def _replacements(
        self, types: list[str], source: str, starts: list[int], ends: list[int]
    ) -> list[str]:
        """What replaces each finding (of ``types``, at ``[starts, ends)`` of ``source``)."""
        labels = self.redactor._labels
        if labels is not None:
            missing = set(types).difference(labels)  # third-party detectors' types
            if missing:
                labels = {**labels, **{name: mask_label(name) for name in missing}}
            return list(map(labels.__getitem__, types))
        values = map(source.__getitem__, map(slice, starts, ends))
        return list(map(self.redactor.replacement, types, values))

    def _apply_nested_batch(self, batch: list[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        first_index = self._records_in
        fields = self.fields
        # One read-only walk gathers every string of the batch; a record without findings is
        # yielded as a plain copy, the others are rebuilt with their strings redacted.
        texts: list[str] = []
        bounds: list[int] = [0]
        for offset, record in enumerate(batch):
            if type(record) is not dict:
                check_record(record, first_index + offset, sanitizer="pii")
            collect_strings(record, fields, texts)
            bounds.append(len(texts))
        spans_of = self.redactor.detector.spans_many(texts)
        dropping = self.redactor.strategy == "drop"
        for offset, record in enumerate(batch):
            # Indexes continue across batches and apply() calls: one report per dataset.
            first_text, end_text = bounds[offset], bounds[offset + 1]
            self._records_in += 1
            if not (
                spans_of[first_text]
                if end_text - first_text == 1
                else any(spans_of[first_text:end_text])
            ):
                self._records_out += 1
                yield copy_record(record)
                continue
            counts: dict[str, int] = {}
            if all(type(value) in _FLAT_VALUE_TYPES for value in record.values()):
                # The usual record, {"prompt": "...", "completion": "..."}: no walk needed.
                sanitized = dict(record)
                position = first_text
                for key, value in record.items():
                    if type(value) is str and (fields is None or key in fields):
                        spans = spans_of[position]
                        position += 1
                        if spans:
                            sanitized[key] = self._redact_and_count(value, str(key), spans, counts)
            else:
                pending = iter(spans_of[first_text:end_text])

                def replace(
                    text: str,
                    path: str,
                    counts: dict[str, int] = counts,
                    pending: Iterator[Sequence[Span]] = pending,
                ) -> str:
                    spans = next(pending)
                    return self._redact_and_count(text, path, spans, counts) if spans else text

                sanitized = transform_record(record, replace, fields)
            by_type = self._by_type
            for pii_type, count in counts.items():
                by_type[pii_type] += count
            self._sample(first_index + offset, counts)
            if dropping:
                continue
            self._records_out += 1
            yield sanitized

    def _redact_and_count(
        self, text: str, path: str, spans: Sequence[Span], counts: dict[str, int]
    ) -> str:
        """``text`` redacted (as is under ``drop``), its findings counted per type and field."""
        field_counts = self._field_counts(path)
        for span in spans:
            pii_type = span[2]
            counts[pii_type] = counts.get(pii_type, 0) + 1
            field_counts[pii_type] += 1
        if self.redactor.strategy == "drop":
            return text
        return self.redactor._redact_spans(text, spans)

    def redact_text(self, text: str) -> str:
        """``text`` redacted like a record's strings, without counting it in the report (for
        text that is not a record, e.g. a line set aside as invalid JSON). Under ``drop`` the
        findings are masked: a string cannot be dropped."""
        spans = self.redactor.detector.spans_many([text])[0]
        return self.redactor._redact_spans(text, spans) if spans else text

    def can_absorb(self, report: Mapping[str, Any]) -> bool:
        """Whether :meth:`absorb` gives exactly the serial report: not when ``by_field`` would
        reach :data:`MAX_FIELD_PATHS` (which paths get their own counts depends on the order
        they first appear in, which a report does not keep)."""
        paths = set(report["by_field"])
        return OTHER_FIELDS not in paths and len(paths | set(self._by_field)) <= MAX_FIELD_PATHS

    def absorb(self, report: Mapping[str, Any], records_before: int) -> None:
        """Fold in the report (as JSON gives it back) of a copy of this component, made before
        it ran, that sanitized the records following the ``records_before`` this one saw: the
        report becomes what one component running over all of them gives."""
        self._records_in += report["records_in"]
        self._records_out += report["records_out"]
        self._records_with_findings += report["records_with_findings"]
        self._by_type.update(report["by_type"])
        for path, counts in report["by_field"].items():
            self._field_counts(path).update(counts)
        # A record the serial run keeps as a sample is also kept by the slice's copy (whose
        # counts per type are lower): replaying the slice's samples in order is exact.
        for index, counts in sorted(
            (int(index), counts) for index, counts in report["by_record"].items()
        ):
            if self._takes_sample(counts):
                self._by_record[records_before + index] = dict(counts)

    def report(self) -> dict[str, Any]:
        """Counts only, never values: findings per type and per field path, the number of
        records with findings, and ``by_record`` (record index -> counts per type) for the
        first ``samples`` records of each type. Its size does not grow with the records."""
        return {
            "sanitizer": self.name,
            "strategy": self.redactor.strategy,
            "records_in": self._records_in,
            "records_out": self._records_out,
            "records_dropped": self._records_in - self._records_out,
            "records_with_findings": self._records_with_findings,
            "findings": sum(self._by_type.values()),
            "by_type": dict(sorted(self._by_type.items())),
            "by_field": {
                path: dict(sorted(counts.items()))
                for path, counts in sorted(self._by_field.items())
            },
            "samples_per_type": self.samples,
            "by_record": {index: dict(sorted(c.items())) for index, c in self._by_record.items()},
        }


def _field_path(place: tuple[int, str, int, str | None]) -> str:
    """The report's field path of a string's place in a chat-like record."""
    _, key, item, inner = place
    if item < 0:
        return str(key)
    return f"{key}[]" if inner is None else f"{key}[].{inner}"


def _copy_chat_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a chat-like record with new lists and new dicts inside them."""
    copied = dict(record)
    for key, value in copied.items():
        if type(value) is list:
            copied[key] = [dict(item) if type(item) is dict else item for item in value]
    return copied


def redact_pii(
    text: str,
    types: Iterable[str] | None = None,
    strategy: str = "mask",
    salt: str | bytes | None = None,
) -> str:
    """``text`` with its PII redacted, without a runtime (builds a redactor per call).

    >>> redact_pii("mail jane@example.org or call (415) 555-2671")
    'mail [EMAIL] or call [PHONE]'
    """
    if strategy == "drop":
        raise SanitizerOptionError(
            "redact_pii cannot drop a string; use strategy='mask', 'hash' or 'partial', or the "
            "pii sanitizer with strategy='drop' on records."
        )
    return PiiRedactor(types, strategy=strategy, salt=salt).redact(text)[0]
