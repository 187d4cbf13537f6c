"""Validators that turn pattern candidates into findings: Luhn, IBAN mod-97, SSN ranges, IPs.

Each takes the matched text (separators included) and returns whether it is a real value of
its type. They are pure functions on short strings and run only on candidates.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

# ISO 13616 IBAN lengths per country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


_DOUBLED = str.maketrans("0123456789", "0246813579")
"""A ``str.translate`` table: Luhn's doubled digit, its digits summed ("7" -> 14 -> "5")."""
_LETTER_VALUES = {character: str(int(character, 36)) for character in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
"""ISO 13616 letter values as text: "A" -> "10" … "Z" -> "35"."""
_IBAN_VALUES = str.maketrans(_LETTER_VALUES)
"""``str.translate`` table of ISO 13616 character values: digits stay, "A" -> "10" … "Z" -> "35"."""
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_NOT_DIGITS = {code: None for code in range(128) if not chr(code).isdigit()}
"""A ``str.translate`` table deleting the ASCII characters that are not digits."""


def digits_of(text: str) -> str:
    """The ASCII digits of ``text``, in order (separators dropped)."""
    if text.isascii():
        return text.translate(_NOT_DIGITS)
    return "".join(filter("0123456789".__contains__, text))


def luhn_valid(number: str) -> bool:
    """Whether the digits of ``number`` pass the Luhn (mod 10) check used by payment cards.

    Separators are ignored; a string with no digits is not valid.

    >>> luhn_valid("4111 1111 1111 1111"), luhn_valid("4111 1111 1111 1112")
    (True, False)
    """
    digits = number if number.isascii() and number.isdigit() else digits_of(number)
    return bool(digits) and _luhn_sum(digits) % 10 == 0


def _luhn_sum(digits: str) -> int:
    """The Luhn sum of a non-empty string of ASCII digits."""
    # Summing the ASCII codes of the digits adds 48 per digit: subtracted once at the end.
    kept = sum(digits[-1::-2].encode("ascii"))
    doubled = sum(digits[-2::-2].translate(_DOUBLED).encode("ascii"))
    return kept + doubled - 48 * len(digits)


def card_valid(number: str) -> bool:
    """A payment card number: 13 to 19 digits passing Luhn, not all one repeated digit."""
    # Card candidates hold digits, spaces and dashes: two replaces are cheaper than a translate.
    digits = number.replace(" ", "").replace("-", "")
    if not (digits.isascii() and digits.isdigit()):
        digits = digits_of(number)
    return (
        13 <= len(digits) <= 19
        and digits.count(digits[0]) != len(digits)
        and _luhn_sum(digits) % 10 == 0
    )


def card_valid_many(numbers: Sequence[str]) -> list[bool]:
    """:func:`card_valid` of each of ``numbers``, computed for all of them at once (numpy).

    For the many candidates of a batch: the Luhn sums, digit counts and repeated-digit checks
    are a dozen array operations instead of a Python call per candidate. Small or non-ASCII
    lists go through :func:`card_valid` one by one (a test checks both agree).
    """
    table = _DigitTable.of(numbers)
    if table is None:
        return list(map(card_valid, numbers))
    numpy, digits, owner, counts, first = (
        table.numpy,
        table.digits,
        table.owner,
        table.counts,
        table.first,
    )
    # Luhn: from the right, every second digit is doubled (its digits summed).
    from_right = counts[owner] - 1 - (numpy.arange(len(digits)) - first[owner])
    doubled = numpy.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=numpy.int64)
    values = numpy.where(from_right & 1, doubled[digits], digits)
    luhn_sums = numpy.bincount(owner, weights=values, minlength=len(numbers))
    # Not a card: one digit repeated ("0000 0000 0000 0000" passes Luhn).
    varied = numpy.bincount(owner, weights=digits != digits[first[owner]], minlength=len(numbers))
    valid = (counts >= 13) & (counts <= 19) & (luhn_sums % 10 == 0) & (varied > 0)
    return valid.tolist()  # type: ignore[no-any-return]


def ssn_valid_many(texts: Sequence[str]) -> list[bool]:
    """:func:`ssn_valid` of each of ``texts``, computed for all of them at once (numpy)."""
    table = _DigitTable.of(texts)
    if table is None:
        return list(map(ssn_valid, texts))
    area = table.number(0, 3)
    valid = (
        (table.counts == 9)
        & (area != 0)
        & (area != 666)
        & (area < 900)
        & (table.number(3, 2) != 0)
        & (table.number(5, 4) != 0)
    )
    return valid.tolist()  # type: ignore[no-any-return]


def phone_valid_many(texts: Sequence[str]) -> list[bool]:
    """:func:`phone_valid` of each of ``texts``, computed for all of them at once (numpy)."""
    table = _DigitTable.of(texts)
    if table is None:
        return list(map(phone_valid, texts))
    numpy, counts = table.numpy, table.counts
    plus = numpy.fromiter(map(str.startswith, texts, itertools.repeat("+")), bool, len(texts))
    lead = table.number(0, 1)

    def nanp_from(offset: int) -> Any:
        # Area code and exchange start with 2-9; the area code is not N11.
        return (
            (table.number(offset, 1) >= 2)
            & (table.number(offset + 3, 1) >= 2)
            & (table.number(offset + 1, 2) != 11)
        )

    international = (
        plus
        & (counts >= 8)
        & (counts <= 15)
        & (lead != 0)
        & ((lead != 1) | ((counts == 11) & nanp_from(1)))
    )
    national = ~plus & (
        ((counts == 11) & (lead == 1) & nanp_from(1)) | ((counts == 10) & nanp_from(0))
    )
    return (international | national).tolist()  # type: ignore[no-any-return]


class _DigitTable:
    """The ASCII digits of many strings as arrays: the digits, their strings, counts per string.

    :func:`digits_of` for a whole list at once, for the batch validators.
    """

    def __init__(self, numpy: Any, digits: Any, owner: Any, counts: Any) -> None:
        self.numpy = numpy
        self.digits, self.owner, self.counts = digits, owner, counts
        self.first = numpy.cumsum(counts) - counts
        """Where each string's digits start in ``digits``."""

    @classmethod
    def of(cls, texts: Sequence[str]) -> _DigitTable | None:
        """The table of ``texts``; ``None`` for a short or non-ASCII list (scalar is cheaper)."""
        joined = "".join(texts)
        if len(texts) < _VECTOR_MINIMUM or not joined.isascii():
            return None
        import numpy

        data = numpy.frombuffer(joined.encode("ascii"), dtype=numpy.uint8)
        lengths = numpy.fromiter(map(len, texts), numpy.int64, len(texts))
        owner = numpy.repeat(numpy.arange(len(texts)), lengths)
        is_digit = (data >= _ZERO) & (data <= _ZERO + 9)
        digit_owner = owner[is_digit]
        counts = numpy.bincount(digit_owner, minlength=len(texts))
        return cls(numpy, data[is_digit].astype(numpy.int64) - _ZERO, digit_owner, counts)

    def number(self, offset: int, width: int) -> Any:
        """The ``width`` digits from each string's ``offset``-th digit, read as a number.

        Meaningless (but safe) for a string with fewer than ``offset + width`` digits; the
        callers check the counts.
        """
        numpy = self.numpy
        last = max(len(self.digits) - 1, 0)
        value = numpy.zeros(len(self.counts), dtype=numpy.int64)
        if not len(self.digits):
            return value
        for position in range(offset, offset + width):
            value = value * 10 + self.digits[numpy.minimum(self.first + position, last)]
        return value


_VECTOR_MINIMUM = 128
"""Below this many candidates a Python call each is cheaper than a dozen numpy operations."""
_ZERO = ord("0")


def iban_valid(text: str) -> bool:
    """An IBAN: a known country, that country's length, and the ISO 7064 mod-97 check equal to 1.

    Spaces are ignored; letters must be upper case.

    >>> iban_valid("GB82 WEST 1234 5698 7654 32"), iban_valid("GB82 WEST 1234 5698 7654 33")
    (True, False)
    """
    compact = text.replace(" ", "")
    if len(compact) < 15 or not compact.isascii() or not compact.isalnum():
        return False
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    if compact != compact.upper():
        return False
    account = compact[4:]
    if account.isdigit():  # most countries: the letters are the country code's alone
        number = account + _LETTER_VALUES[compact[0]] + _LETTER_VALUES[compact[1]] + compact[2:4]
    else:
        number = (account + compact[:4]).translate(_IBAN_VALUES)
    return int(number) % 97 == 1


def ssn_valid(text: str) -> bool:
    """A US Social Security number in an issued range.

    Refused: area 000, 666 or 900-999; group 00; serial 0000.

    >>> ssn_valid("123-45-6789"), ssn_valid("666-45-6789"), ssn_valid("123-00-6789")
    (True, False, False)
    """
    digits = digits_of(text)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area != "000" and area != "666" and area[0] != "9" and group != "00" and serial != "0000"


def ipv4_valid(text: str) -> bool:
    """Four dot-separated decimal octets, each at most 255, without leading zeros.

    >>> ipv4_valid("192.168.0.1"), ipv4_valid("256.1.1.1"), ipv4_valid("01.2.3.4")
    (True, False, False)
    """
    parts = text.split(".")
    return len(parts) == 4 and _OCTETS.issuperset(parts)


_OCTETS = frozenset(str(value) for value in range(256))
"""Every octet as written in a valid address: ASCII digits, at most 255, no leading zero."""


def ipv6_valid(text: str) -> bool:
    """An IPv6 address (``::`` compression and an embedded IPv4 tail allowed), no zone or prefix.

    >>> ipv6_valid("2001:db8::1"), ipv6_valid("2001:db8:::1"), ipv6_valid("12:34")
    (True, False, False)
    """
    # The rules of ``ipaddress.IPv6Address`` (a test compares both on random candidates),
    # without its cost: at most one "::", 1-4 hex digits per group, eight groups (an IPv4
    # tail counts as two) or at most seven around "::".
    if text.count(":") < 2 or not text.isascii():
        return False
    groups = 0
    if "." in text:
        head, _, tail = text.rpartition(":")
        if not ipv4_valid(tail):
            return False
        text, groups = head + ":0", 1
    if "::" in text:
        left, _, right = text.partition("::")
        if "::" in right:
            return False
        parts = (left.split(":") if left else []) + (right.split(":") if right else [])
        groups += len(parts)
        if groups > 7:
            return False
    else:
        parts = text.split(":")
        groups += len(parts)
        if groups != 8:
            return False
    return all(0 < len(part) <= 4 and _HEX_DIGITS.issuperset(part) for part in parts)


def phone_valid(text: str) -> bool:
    """A phone number: 10 digits for NANP (11 with the leading 1), 8 to 15 with a ``+`` prefix.

    A NANP number needs an area code and exchange starting with 2-9; E.164 allows at most
    15 digits and a country code not starting with 0.
    """
    digits = digits_of(text)
    if text.startswith("+"):
        if not 8 <= len(digits) <= 15 or digits[0] == "0":
            return False
        if digits[0] == "1":
            return len(digits) == 11 and _nanp_valid(digits[1:])
        return True
    if len(digits) == 11 and digits[0] == "1":
        return _nanp_valid(digits[1:])
    return len(digits) == 10 and _nanp_valid(digits)


def _nanp_valid(ten_digits: str) -> bool:
    """Area code and exchange both start with 2-9, and the area code is not N11 (e.g. 911)."""
    if len(ten_digits) != 10:
        return False
    area, exchange = ten_digits[:3], ten_digits[3:6]
    return area[0] >= "2" and exchange[0] >= "2" and area[1:] != "11"
