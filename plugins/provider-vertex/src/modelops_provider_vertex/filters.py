"""The list ``filter`` of ``tuningJobs.list``: the AIP-160 grammar (``AND``, ``OR``, ``NOT`` /
``-``, parentheses, whitespace as ``AND``; comparators ``= != < <= > >= :``) over the fields the
rules allow (``state``, ``create_time``, ``update_time``, ``base_model``,
``tuned_model_display_name``, ``labels.<key>``).

:func:`parse_filter` returns a predicate on a REST ``TuningJob`` (camelCase JSON) or raises
:class:`FilterError` with the message the fake answers with (HTTP 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|=|<|>|:)"""
    r"""|(?P<paren>[()])|(?P<word>[^\s()<>=!:"']+))"""
)
_COMPARATORS = ("=", "!=", "<", "<=", ">", ">=", ":")
_CAMEL = {
    "state": "state",
    "create_time": "createTime",
    "update_time": "updateTime",
    "base_model": "baseModel",
    "tuned_model_display_name": "tunedModelDisplayName",
    "labels": "labels",
}


class FilterError(ValueError):
    """A filter the service refuses; the message says why and what is allowed."""


def _tokens(text: str) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(
                f'Invalid filter "{text}": unexpected character at position {position}.'
            )
        kind = str(match.lastgroup)
        found.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return found


def _timestamp(text: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"Invalid filter: {where} takes an RFC 3339 timestamp such as "
            f'"2026-01-01T00:00:00Z", got "{text}".'
        ) from None


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, str], states: Sequence[str]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.fields = fields
        self.states = list(states)

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _fail(self, expected: str) -> FilterError:
        token = self._peek()
        where = f'"{token[1]}" at position {token[2]}' if token else "the end"
        return FilterError(f'Invalid filter "{self.text}": expected {expected}, found {where}.')

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda job: True
        predicate = self._expression()
        if self._peek() is not None:
            raise self._fail("AND, OR or the end of the filter")
        return predicate

    def _expression(self) -> Predicate:
        parts = [self._sequence()]
        while (token := self._peek()) is not None and token[:2] == ("word", "AND"):
            self.index += 1
            parts.append(self._sequence())
        return lambda job: all(part(job) for part in parts)

    def _sequence(self) -> Predicate:
        parts = [self._factor()]
        while (token := self._peek()) is not None and not (
            token[:2] in (("word", "AND"), ("word", "OR")) or token[:2] == ("paren", ")")
        ):
            parts.append(self._factor())
        return lambda job: all(part(job) for part in parts)

    def _factor(self) -> Predicate:
        parts = [self._term()]
        while (token := self._peek()) is not None and token[:2] == ("word", "OR"):
            self.index += 1
            parts.append(self._term())
        return lambda job: any(part(job) for part in parts)

    def _term(self) -> Predicate:
        token = self._peek()
        if token is not None and (token[:2] == ("word", "NOT") or token[1].startswith("-")):
            if token[1] == "NOT":
                self.index += 1
            else:  # "-state=..." : the minus is glued to the member
                self.tokens[self.index] = (token[0], token[1][1:], token[2] + 1)
            inner = self._simple()
            return lambda job: not inner(job)
        return self._simple()

    def _simple(self) -> Predicate:
        token = self._peek()
        if token is None:
            raise self._fail('a restriction such as state="JOB_STATE_SUCCEEDED"')
        if token[:2] == ("paren", "("):
            self.index += 1
            inner = self._expression()
            if self._peek() is None or self._peek()[:2] != ("paren", ")"):  # type: ignore[index]
                raise self._fail('")"')
            self.index += 1
            return inner
        if token[0] != "word":
            raise self._fail("a field name")
        self.index += 1
        member = token[1]
        operator = self._peek()
        if operator is None or operator[0] != "op":
            raise self._fail(f"a comparator ({' '.join(_COMPARATORS)}) after {member}")
        self.index += 1
        value_token = self._peek()
        if value_token is None or value_token[0] not in ("string", "word"):
            raise self._fail(f"a value after {member}{operator[1]}")
        self.index += 1
        value = value_token[1]
        if value_token[0] == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        return self._restriction(member, operator[1], value)

    def _restriction(self, member: str, operator: str, value: str) -> Predicate:
        head, _, key = member.partition(".")
        if head not in self.fields or (head == "labels") != bool(key or operator == ":"):
            allowed = ", ".join(f if f != "labels" else "labels.<key>" for f in self.fields)
            raise FilterError(
                f'Unsupported field "{member}" in filter "{self.text}"; tuning jobs can be '
                f"filtered on {allowed}."
            )
        kind = self.fields[head]
        camel = _CAMEL.get(head, head)
        if kind == "map":
            if not key:  # labels:key  (has key)
                return lambda job: value in (job.get("labels") or {})
            if operator == ":" and value == "*":
                return lambda job: key in (job.get("labels") or {})
            return _compare(lambda job: (job.get("labels") or {}).get(key), operator, value)
        if kind == "enum" and value not in self.states:
            raise FilterError(
                f'Invalid filter: {head} takes one of {", ".join(self.states)}; got "{value}".'
            )
        if kind == "timestamp":
            moment = _timestamp(value, head)

            def read(job: Mapping[str, Any]) -> Any:
                stamp = job.get(camel)
                return _timestamp(stamp, head) if stamp else None

            return _compare(read, operator, moment)
        return _compare(lambda job: job.get(camel), operator, value)


def _compare(read: Callable[[Mapping[str, Any]], Any], operator: str, value: Any) -> Predicate:
    def check(job: Mapping[str, Any]) -> bool:
        found = read(job)
        if operator in ("=", ":"):
            if isinstance(value, str) and value.endswith("*") and isinstance(found, str):
                return found.startswith(value[:-1])
            return bool(found == value)
        if operator == "!=":
            return bool(found != value)
        if found is None:
            return False
        try:
            return bool(
                {
                    "<": found < value,
                    "<=": found <= value,
                    ">": found > value,
                    ">=": found >= value,
                }[operator]
            )
        except TypeError:
            return False

    return check


def parse_filter(text: str, fields: Mapping[str, str], states: Sequence[str]) -> Predicate:
    """A predicate on REST ``TuningJob`` dicts for an AIP-160 ``filter``.

    :param fields: filterable field -> kind (``enum``, ``timestamp``, ``string``, ``map``).
    :param states: the values an ``enum`` field (the job state) takes.
    :raises FilterError: bad syntax, an unknown field, a bad state or timestamp.
    """
    return _Parser(text, fields, states).parse()
