"""The structural sanitizers: ``strip_keys``, ``filter_by_length`` and ``dedupe``.

Each is a component (``apply(records)`` streams, ``report()`` counts) and a plain function
mirroring the reference API for use without a runtime: ``strip_keys(data, keys)``,
``filter_by_length(data, key, max_len)`` and ``dedupe(data, keys=None)`` return lists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from modelops_sanitizers.errors import SanitizerOptionError
from modelops_sanitizers.records import check_record

LENGTH_UNITS: tuple[str, ...] = ("chars", "tokens")
SAMPLE_INDEXES = 10
"""Record indexes a report lists (the first ones dropped); the counts cover every record."""


def _key_list(keys: Iterable[str] | str | None, *, sanitizer: str, option: str) -> tuple[str, ...]:
    if isinstance(keys, str):
        keys = [keys]
    chosen = tuple(dict.fromkeys(keys or ()))
    if not chosen or not all(isinstance(key, str) and key for key in chosen):
        raise SanitizerOptionError(
            f"{sanitizer} {option}={list(chosen)!r} is not valid: give a non-empty list of key "
            "names, e.g. ['metadata', 'user_id']."
        )
    return chosen


def _without_keys(value: Any, keys: frozenset[str], recursive: bool) -> Any:
    if isinstance(value, Mapping):
        return {
            key: _without_keys(item, keys, recursive) if recursive else item
            for key, item in value.items()
            if key not in keys
        }
    if recursive and isinstance(value, list | tuple):
        return [_without_keys(item, keys, recursive) for item in value]
    return value


class StripKeys:
    """The ``strip_keys`` component: removes the given keys from every record.

    :param keys: key names to remove.
    :param recursive: also remove them from nested objects (chat turns, metadata); default True.
    """

    name = "strip_keys"

    def __init__(self, keys: list[str], recursive: bool = True) -> None:
        self.keys = frozenset(_key_list(keys, sanitizer="strip_keys", option="keys"))
        self.recursive = recursive
        self._records = 0
        self._removed: dict[str, int] = {}

    def apply(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        """Stream copies of the records without the keys."""
        return self._apply(records)

    def _apply(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        for record in records:
            checked = check_record(record, self._records, sanitizer="strip_keys")
            self._records += 1
            for key in self.keys.intersection(checked):
                self._removed[key] = self._removed.get(key, 0) + 1
            yield _without_keys(checked, self.keys, self.recursive)

    record_local = True
    """Each record is changed on its own: a large input can be split between processes."""

    def absorb(self, report: Mapping[str, Any], records_before: int) -> None:
        """Fold in the report of a copy that ran over the records that follow."""
        self._records += report["records_in"]
        for key, count in report["top_level_keys_removed"].items():
            self._removed[key] = self._removed.get(key, 0) + count

    def report(self) -> dict[str, Any]:
        """Records seen and, per key, how many records had it at the top level."""
        return {
            "sanitizer": self.name,
            "records_in": self._records,
            "records_out": self._records,
            "top_level_keys_removed": dict(sorted(self._removed.items())),
        }


def text_length(value: Any, measure: Callable[[str], int] = len) -> int:
    """Length of a value: ``measure`` of a string (its characters by default), or the total
    over the strings inside a list or object."""
    if isinstance(value, str):
        return measure(value)
    if isinstance(value, Mapping):
        return sum(text_length(item, measure) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(text_length(item, measure) for item in value)
    return 0


def _length_measure(unit: str, tokenizer: Any) -> Callable[[str], int]:
    """Characters (``len``) or tokens: the core's offline estimator, or ``tokenizer``."""
    if unit == "chars":
        return len
    from modelops_core.datasets.tokens import token_counter

    return token_counter(tokenizer)


class FilterByLength:
    """The ``filter_by_length`` component: drops records whose ``key`` is longer than ``max_len``.

    The length of a string is its number of characters; of a list or object (e.g. chat
    ``messages``), the characters of all strings inside it. A record without ``key`` is kept.

    :param key: the top-level key to measure.
    :param max_len: the largest length kept.
    :param unit: ``"chars"`` or ``"tokens"``: tokens are counted by ``tokenizer``, by default
        the core's offline estimator (:func:`modelops_core.datasets.tokens.count_tokens`).
    :param tokenizer: with ``unit="tokens"``, a callable ``text -> int`` or an object with
        ``count(text)`` or ``encode(text)`` (a tiktoken encoding works); None: the estimator.
    """

    name = "filter_by_length"

    def __init__(self, key: str, max_len: int, unit: str = "chars", tokenizer: Any = None) -> None:
        if not isinstance(key, str) or not key:
            raise SanitizerOptionError(
                f"filter_by_length key={key!r} is not valid: give the record key to measure."
            )
        if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 0:
            raise SanitizerOptionError(
                f"filter_by_length max_len={max_len!r} is not valid: give a whole number >= 0."
            )
        if unit not in LENGTH_UNITS:
            raise SanitizerOptionError(
                f"filter_by_length unit={unit!r} is not supported. Choose one of "
                f"{list(LENGTH_UNITS)}."
            )
        self.key, self.max_len, self.unit = key, max_len, unit
        self._measure = _length_measure(unit, tokenizer)
        self._records_in = self._records_out = self._missing = self._dropped = 0
        self._dropped_indexes: list[int] = []  # the first SAMPLE_INDEXES only

    def apply(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        """Stream copies of the records whose ``key`` is at most ``max_len`` long."""
        return self._apply(records)

    def _apply(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        for record in records:
            index = self._records_in
            checked = check_record(record, index, sanitizer="filter_by_length")
            self._records_in += 1
            if self.key not in checked:
                self._missing += 1
            elif text_length(checked[self.key], self._measure) > self.max_len:
                self._dropped += 1
                if len(self._dropped_indexes) < SAMPLE_INDEXES:
                    self._dropped_indexes.append(index)
                continue
            self._records_out += 1
            yield _without_keys(checked, frozenset(), recursive=True)

    @property
    def record_local(self) -> bool:
        """Lengths in characters depend on the record alone (a tokenizer is not known to be
        safe to fork): such a large input can be split between processes."""
        return self.unit == "chars"

    def absorb(self, report: Mapping[str, Any], records_before: int) -> None:
        """Fold in the report of a copy that ran over the records that follow."""
        self._records_in += report["records_in"]
        self._records_out += report["records_out"]
        self._dropped += report["records_dropped"]
        self._missing += report["records_without_key"]
        room = SAMPLE_INDEXES - len(self._dropped_indexes)
        self._dropped_indexes += [records_before + i for i in report["dropped_records"][:room]]

    def report(self) -> dict[str, Any]:
        """Records in/out, records without the key, and the indexes of the first
        :data:`SAMPLE_INDEXES` dropped records."""
        return {
            "sanitizer": self.name,
            "records_in": self._records_in,
            "records_out": self._records_out,
            "records_dropped": self._dropped,
            "records_without_key": self._missing,
            "dropped_records": list(self._dropped_indexes),
        }


def normalize_for_dedupe(value: Any, normalize: bool) -> Any:
    """Strings with runs of whitespace collapsed, trimmed and case-folded (when ``normalize``)."""
    if isinstance(value, str):
        return " ".join(value.split()).casefold() if normalize else value
    if isinstance(value, Mapping):
        return {str(key): normalize_for_dedupe(item, normalize) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalize_for_dedupe(item, normalize) for item in value]
    return value


class Dedupe:
    """The ``dedupe`` component: keeps the first of records that are duplicates.

    Two records are duplicates when the chosen keys (or whole records) are equal after
    normalising whitespace and case (``normalize=False``: exactly equal). Streaming: only a
    16-byte digest per distinct record is kept.

    :param keys: compare only these top-level keys; the whole record by default.
    :param normalize: collapse whitespace and case-fold strings before comparing.
    """

    name = "dedupe"

    def __init__(self, keys: list[str] | None = None, normalize: bool = True) -> None:
        self.keys = None if keys is None else _key_list(keys, sanitizer="dedupe", option="keys")
        self.normalize = normalize
        self._seen: set[bytes] = set()
        self._records_in = self._duplicates = 0
        self._duplicate_indexes: list[int] = []  # the first SAMPLE_INDEXES only

    def fingerprint(self, record: Mapping[str, Any]) -> bytes:
        """The digest two records share exactly when they count as duplicates."""
        compared = record if self.keys is None else {key: record.get(key) for key in self.keys}
        canonical = json.dumps(
            normalize_for_dedupe(compared, self.normalize),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=repr,
        )
        return hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).digest()

    def apply(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        """Stream copies of the first occurrence of each record."""
        return self._apply(records)

    def _apply(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        for record in records:
            index = self._records_in
            checked = check_record(record, index, sanitizer="dedupe")
            self._records_in += 1
            digest = self.fingerprint(checked)
            if digest in self._seen:
                self._duplicates += 1
                if len(self._duplicate_indexes) < SAMPLE_INDEXES:
                    self._duplicate_indexes.append(index)
                continue
            self._seen.add(digest)
            yield _without_keys(checked, frozenset(), recursive=True)

    def report(self) -> dict[str, Any]:
        """Records in/out and the indexes of the first :data:`SAMPLE_INDEXES` duplicates."""
        return {
            "sanitizer": self.name,
            "records_in": self._records_in,
            "records_out": self._records_in - self._duplicates,
            "duplicates_dropped": self._duplicates,
            "duplicate_records": list(self._duplicate_indexes),
        }


def strip_keys(
    data: Iterable[Mapping[str, Any]], keys: Iterable[str], recursive: bool = True
) -> list[dict[str, Any]]:
    """Copies of the records without ``keys``.

    >>> strip_keys([{"prompt": "hi", "user_id": 7}], ["user_id"])
    [{'prompt': 'hi'}]
    """
    return list(StripKeys(list(keys), recursive=recursive).apply(data))


def filter_by_length(
    data: Iterable[Mapping[str, Any]], key: str, max_len: int, unit: str = "chars"
) -> list[dict[str, Any]]:
    """The records whose ``key`` is at most ``max_len`` long (missing key: kept), in characters
    or, with ``unit="tokens"``, in tokens of the core's offline estimator.

    >>> filter_by_length([{"text": "short"}, {"text": "much too long"}], "text", 5)
    [{'text': 'short'}]
    """
    return list(FilterByLength(key, max_len, unit).apply(data))


def dedupe(
    data: Iterable[Mapping[str, Any]], keys: Iterable[str] | None = None, normalize: bool = True
) -> list[dict[str, Any]]:
    """The first of each group of duplicate records (whitespace and case ignored by default).

    >>> dedupe([{"q": "Hi  there"}, {"q": "hi there"}, {"q": "bye"}])
    [{'q': 'Hi  there'}, {'q': 'bye'}]
    """
    return list(Dedupe(None if keys is None else list(keys), normalize).apply(data))
