"""The PII types: a precise ``re`` pattern, a cheap prefilter and a validator per type.

Each type is searched in its own pass (not as one branch of a big alternation) so that a
candidate of one type that fails its validator can never hide a candidate of another type at
the same place. A pass only runs when its prefilter says the text may hold that type; the
prefilters are plain substring tests or one optional multi-pattern scan (see ``engines``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import attrs

from modelops_sanitizers import validators

PII_TYPES: tuple[str, ...] = ("email", "phone", "card", "iban", "ip", "ssn", "secret")
"""Every type the ``pii`` sanitizer knows, in the order of their mask labels."""

# Specificity when two findings of equal length overlap: the earlier type wins.
SPECIFICITY: tuple[str, ...] = ("secret", "email", "iban", "card", "ssn", "ip", "phone")


@attrs.frozen
class Rule:
    """One detector: a type, a precise pattern, the literals one of which must be present.

    :param pii_type: the public type name (``"card"``, ``"secret"`` …).
    :param kind: a finer name used for the pattern (``"aws_access_key"``), for tests and docs.
    :param pattern: the precise pattern, compiled with ``re.ASCII``.
    :param validator: called on each candidate's text; a candidate it refuses is not a finding.
    :param required_literals: the text must contain one of these (case-sensitive) for the rule
        to run; empty means "contains a digit" for numeric rules or always run.
    :param loose_pattern: a lookaround-free pattern for a multi-pattern engine that matches
        wherever ``pattern`` has a valid match, scanned over texts each preceded by a NUL byte
        (and followed by one, or the end of the buffer); the loose match covering a valid
        match ends after that match starts. A leading boundary class (the complement of the
        lookbehind) keeps it to one or two matches per occurrence; a trailing one (the
        complement of the lookahead, or ``$``) keeps longer runs from matching at all.
    :param needs_digit: the rule cannot match text without an ASCII digit.
    :param shrink: for a refused candidate, shorter spans (at separator boundaries) to try.
    :param max_length: the longest text ``pattern`` can match (``None``: unbounded); with it, a
        multi-pattern engine's hit offsets bound where the precise pass has to search.
    :param max_before: how far before the end of a loose match a valid match can start, when
        that is tighter than ``max_length`` (an email starts at most 66 characters before the
        end of its loose match ``x@y``, but may run on for hundreds after it). For a loose
        pattern that opens with the complement of the lookbehind, a valid match starts one
        character after some loose match does, so this is the loose pattern's longest match
        minus one (an IBAN's ``[^0-9A-Za-z_][A-Z]{2}[0-9]{2}``: 4).
    :param run_after: for unbounded patterns, the characters a match can continue with after
        its loose match (matched at the last loose end); the precise pass stops where they end.
    :param start_run: ``(characters, back)``: a valid match starts exactly where the run of
        ``characters`` ending ``back`` characters before a loose match's end starts (an email's
        local part, which ends at the ``@`` of ``x@y``), so the precise pass starts there.
    """

    pii_type: str
    kind: str
    pattern: re.Pattern[str]
    validator: Callable[[str], bool]
    loose_pattern: str
    required_literals: tuple[str, ...] = ()
    needs_digit: bool = True
    shrink: Callable[[str], list[int]] | None = None
    max_length: int | None = None
    max_before: int | None = None
    run_after: re.Pattern[str] | None = None
    start_run: tuple[str, int] | None = None


def _separator_prefix_ends(candidate: str, minimum_digits: int, maximum_digits: int) -> list[int]:
    """Ends of the prefixes of ``candidate`` that stop before a separator, longest first."""
    ends: list[int] = []
    digit_count = 0
    for run in _DIGIT_RUN(candidate):
        digit_count += run.end() - run.start()
        if minimum_digits <= digit_count <= maximum_digits:
            ends.append(run.end())
    ends.reverse()
    return ends


_DIGIT_RUN = re.compile(r"\d+").finditer


def _card_prefix_ends(candidate: str) -> list[int]:
    """Card candidates are retried on whole digit groups, 13 to 19 digits, longest first."""
    if candidate.isascii() and candidate.isdigit():  # one group: no shorter prefix
        return [len(candidate)] if 13 <= len(candidate) <= 19 else []
    # The pattern's grouped shapes: digit groups split by one separator after the first four.
    separator = candidate[4:5]
    groups = candidate.split(separator) if separator in (" ", "-") else [""]
    digits = "".join(groups)
    if "" in groups or not (digits.isascii() and digits.isdigit()):
        return _separator_prefix_ends(candidate, 13, 19)
    if len(digits) - len(groups[-1]) < 13:  # only the whole candidate can hold 13 digits
        return [len(candidate)] if 13 <= len(digits) <= 19 else []
    ends: list[int] = []
    digit_count, end = 0, -1
    for group in groups:
        digit_count += len(group)
        end += len(group) + 1
        if 13 <= digit_count <= 19:
            ends.append(end)
    ends.reverse()
    return ends


def _iban_prefix_ends(candidate: str) -> list[int]:
    """An IBAN candidate is cut to its country's length when that falls on a group boundary."""
    expected = validators.IBAN_LENGTHS.get(candidate[:2])
    if expected is None:
        return []
    count = 0
    for index, character in enumerate(candidate):
        if character != " ":
            count += 1
        if count == expected:
            end = index + 1
            return [end] if end == len(candidate) or candidate[end] == " " else []
    return []


def _jwt_valid(token: str) -> bool:
    """A JWT: its header and claims segments decode (base64url) to JSON objects."""
    header, claims, _ = token.split(".", 2)
    return _header_is_json_object(header) and _is_json_object(claims)


@functools.lru_cache(maxsize=256)
def _header_is_json_object(segment: str) -> bool:
    """:func:`_is_json_object` for a JWT header: a few headers recur in every token."""
    return _is_json_object(segment)


def _is_json_object(segment: str) -> bool:
    import binascii  # here: only JWT candidates need them
    import json

    try:
        # base64.urlsafe_b64decode without importing base64 (and struct): the segment is
        # ASCII (the pattern is), its "-_" read as "+/", non-alphabet bytes skipped.
        padded = (segment + "=" * (-len(segment) % 4)).encode("ascii")
        decoded = binascii.a2b_base64(padded.translate(_URLSAFE_TO_STANDARD))
        return isinstance(json.loads(decoded), dict)
    except (binascii.Error, ValueError):
        return False


_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
"""``string.ascii_letters + string.digits``, without importing :mod:`string` (and its regex)."""


def _always(_: str) -> bool:
    return True


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


# leading_class_first: a pattern of the form (?<!B)C... is written C(?<!BC)... (the same
# matches: C is one character, so the lookbehind still looks at the character before it).
# A pattern that opens with a character class lets re's search skip, in C, every position
# that cannot start a match; one that opens with a lookbehind tries the whole pattern at
# each position, several times slower across the text between candidates. A test checks
# each rewritten pattern against its textbook form at every position of generated texts.


def build_rules() -> tuple[Rule, ...]:
    """All rules, freshly compiled (callers cache the result per detector)."""
    ip_octet = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    return (
        Rule(
            "email",
            "email",
            _compile(
                r"(?<![\w.%+-])[A-Za-z0-9_%+-](?:[A-Za-z0-9_.%+-]{0,62}[A-Za-z0-9_%+-])?"
                r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
            ),
            lambda text: ".." not in text,
            r"[A-Za-z0-9_%+\-]@[A-Za-z0-9]",
            required_literals=("@",),
            needs_digit=False,
            # local part <= 64 characters, then "@" and one domain character end the loose match
            max_before=66,
            run_after=_compile(r"[A-Za-z0-9.-]*"),
            # the lookbehind's class: a match starts where the run of local-part characters does
            start_run=(_ALNUM + "_.%+-", 2),
        ),
        Rule(
            "card",
            "payment_card",
            # Contiguous, or groups 4-4-4-1..4(-1..3) or 4-6-4..5 with one consistent separator.
            # Written leading_class_first: (?<![\w.,-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1
            # \d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?!\w|[.,]\d).
            _compile(
                r"\d(?<![\w.,-]\d)(?:\d{12,18}|\d{3}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"
                r"|\d{3}([ -])\d{6}\2\d{4,5})(?!\w|[.,]\d)"
            ),
            validators.card_valid,
            # Every shape's opening (13 digits, 4-4-4-1 or 4-6-4) after the lookbehind's
            # complement, so order numbers, phone numbers and decimals do not trigger a pass.
            r"[^0-9A-Za-z_.,\-](?:\d{13}|\d{4}[ \-]\d{4}[ \-]\d{4}[ \-]\d"
            r"|\d{4}[ \-]\d{6}[ \-]\d{4})",
            shrink=_card_prefix_ends,
            max_length=23,
            max_before=16,  # the loose match starts one character before: at most 17 long
        ),
        Rule(
            "ssn",
            "us_ssn",
            # (?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-]), leading_class_first
            _compile(r"\d(?<![\d-]\d)\d{2}([- ])\d{2}\1\d{4}(?![\d-])"),
            validators.ssn_valid,
            r"[^0-9\-]\d{3}[\- ]\d{2}[\- ]\d{4}",
            max_length=11,
            max_before=11,
        ),
        Rule(
            "ip",
            "ipv4",
            # (?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d), leading_class_first
            _compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w]|\.\d)"),
            validators.ipv4_valid,
            r"[^0-9A-Za-z_.]\d{1,3}\.\d{1,3}\.\d{1,3}\.\d",
            max_length=15,
            max_before=13,
        ),
        Rule(
            "ip",
            "ipv6",
            _compile(
                r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)[0-9A-Fa-f:]{1,38}"
                rf"(?:(?<=:){ip_octet}(?:\.{ip_octet}){{3}})?(?![\w:]|\.\w)"
            ),
            validators.ipv6_valid,
            # A valid address's first two colons have at most four hex digits between them.
            # No leading class: a colon to start from keeps the scan several times faster.
            r":[0-9A-Fa-f]{0,4}:",
            required_literals=(":",),
            needs_digit=False,
            max_length=57,
            max_before=10,  # every valid address opens with hex{0,4}:hex{0,4}:
        ),
        Rule(
            "phone",
            "nanp_phone",
            # (?<![\w+()-])(?:1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?![\w-]),
            # leading_class_first: the first character, then the branch it opens (a leading
            # "1", the area code's parenthesis or its first digit), in the textbook's order.
            _compile(
                r"[\d(](?<![\w+()-][\d(])"
                r"(?:(?<=1)[ .-]?(?:\(\d{3}\)|\d{3})|(?<=\()\d{3}\)|(?<=\d)\d{2})"
                r"[ .-]?\d{3}[ .-]?\d{4}(?![\w-])"
            ),
            validators.phone_valid,
            # The lookahead's complement (or the end) closes it: long digit runs do not match.
            r"[^0-9A-Za-z_+()\-](?:1[ .\-]?)?\(?\d{3}\)?[ .\-]?\d{3}[ .\-]?\d{4}"
            r"(?:[^0-9A-Za-z_\-]|$)",
            max_length=16,
            max_before=17,  # the loose match starts one character before: at most 18 long
        ),
        Rule(
            "phone",
            "international_phone",
            _compile(r"(?<![\w+])\+[1-9]\d{0,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){1,6}(?![\w-])"),
            validators.phone_valid,
            r"[^0-9A-Za-z_+]\+[1-9]",
            required_literals=("+",),
            max_length=47,
            max_before=2,
        ),
        Rule(
            "iban",
            "iban",
            # (?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?!\w), leading_class_first
            _compile(r"[A-Z](?<!\w[A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}(?!\w)"),
            validators.iban_valid,
            # From the country code's second letter, without a leading class: the scan is
            # about a third faster than with "[^0-9A-Za-z_][A-Z]{2}\d{2}", for a few more hits.
            r"[A-Z]\d{2} ?[A-Z0-9]",
            shrink=_iban_prefix_ends,
            max_length=64,
            max_before=6,  # the loose match starts one character in: at most 5 long
        ),
        Rule(
            "secret",
            "aws_access_key",
            _compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
            _always,
            r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
            required_literals=("AKIA", "ASIA", "ABIA", "ACCA"),
            needs_digit=False,
            max_before=20,  # the loose match starts where the match does: at most 20 long
        ),
        Rule(
            "secret",
            "openai_key",
            _compile(r"(?<![\w-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}(?![\w-])"),
            lambda token: (
                any(character.isdigit() for character in token)
                and any(character.isalpha() for character in token[3:])
            ),
            r"sk-[A-Za-z0-9_\-]{20}",
            required_literals=("sk-",),
            needs_digit=False,
            max_before=23,
        ),
        Rule(
            "secret",
            "github_token",
            _compile(r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,255})(?!\w)"),
            _always,
            r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22}",
            required_literals=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
            needs_digit=False,
            max_before=40,
        ),
        Rule(
            "secret",
            "google_api_key",
            _compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])"),
            _always,
            r"AIza[0-9A-Za-z_\-]{35}",
            required_literals=("AIza",),
            needs_digit=False,
            max_before=39,
        ),
        Rule(
            "secret",
            "slack_token",
            _compile(r"(?<![\w-])xox[bpars]-(?:[0-9A-Za-z]+-)*[0-9A-Za-z]{10,}(?![\w-])"),
            _always,
            r"xox[bpars]-[0-9A-Za-z]",
            required_literals=("xox",),
            needs_digit=False,
            max_before=6,
        ),
        Rule(
            "secret",
            "private_key",
            _compile(
                r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?"
                r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----"
            ),
            _always,
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----",
            required_literals=("-----BEGIN",),
            needs_digit=False,
        ),
        Rule(
            "secret",
            "jwt",
            _compile(
                r"(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?![\w-]|\.\w)"
            ),
            _jwt_valid,
            r"eyJ[A-Za-z0-9_\-]{5}",
            required_literals=("eyJ",),
            needs_digit=False,
            max_before=8,  # a token starts where its first loose match "eyJ" + 5 does
            run_after=_compile(r"[A-Za-z0-9_.-]*"),
        ),
    )
