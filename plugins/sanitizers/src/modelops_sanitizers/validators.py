"""Validators that turn pattern candidates into findings: Luhn, IBAN mod-97, SSN ranges, IPs.

Each takes the matched text (separators included) and returns whether it is a real value of
its type. They are pure functions on short strings and run only on candidates.
"""

from __future__ import annotations

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
_NOT_DIGIT_BYTES = bytes(code for code in range(256) if not 48 <= code <= 57)
"""The bytes ``bytes.translate`` deletes to keep an ASCII string's digits."""
_DOUBLED_BYTES = bytes.maketrans(b"0123456789", b"0246813579")
"""``_DOUBLED`` for bytes (a 256-byte table: faster than ``str.translate``'s mapping)."""


def digits_of(text: str) -> str:
    """The ASCII digits of ``text``, in order (separators dropped)."""
    if text.isascii():  # bytes.translate deletes in C, about twice as fast as str.translate
        return text.encode("ascii").translate(None, _NOT_DIGIT_BYTES).decode("ascii")
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
    count = len(digits)
    if not 13 <= count <= 19 or digits.count(digits[0]) == count:
        return False
    # _luhn_sum on bytes, inlined: card candidates are the most validated of all.
    encoded = digits.encode("ascii")
    kept = sum(encoded[-1::-2])
    doubled = sum(encoded[-2::-2].translate(_DOUBLED_BYTES))
    return (kept + doubled - 48 * count) % 10 == 0


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
    if not compact.isupper():  # the country code is upper case: True unless a letter is lower
        return False
    account = compact[4:]
    if account.isdigit():  # most countries: the letters are the country code's alone
        number = account + _COUNTRY_VALUES[compact[:2]] + compact[2:4]
    else:
        number = (account + compact[:4]).translate(_IBAN_VALUES)
    return int(number) % 97 == 1


_COUNTRY_VALUES = {
    country: _LETTER_VALUES[country[0]] + _LETTER_VALUES[country[1]] for country in IBAN_LENGTHS
}
"""Each IBAN country code's ISO 13616 value as text: "GB" -> "1611"."""


def ssn_valid(text: str) -> bool:
    """A US Social Security number in an issued range.

    Refused: area 000, 666 or 900-999; group 00; serial 0000.

    >>> ssn_valid("123-45-6789"), ssn_valid("666-45-6789"), ssn_valid("123-00-6789")
    (True, False, False)
    """
    if len(text) == 11 and text[3] == text[6] and text[3] in "- " and text.isascii():
        # The pattern's shape, ddd-dd-dddd (or spaces): the parts by position.
        area, group, serial = text[:3], text[4:6], text[7:]
        if not (area + group + serial).isdigit():
            return False
    else:
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
    count = len(digits)
    if text.startswith("+"):
        if not 8 <= count <= 15 or digits[0] == "0":
            return False
        if digits[0] != "1":
            return True
        if count != 11:
            return False
        digits = digits[1:]
    elif count == 11 and digits[0] == "1":
        digits = digits[1:]
    elif count != 10:
        return False
    # NANP: area code and exchange start with 2-9, and the area code is not N11 (e.g. 911)
    return digits[0] >= "2" and digits[3] >= "2" and digits[1:3] != "11"
