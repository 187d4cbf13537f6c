"""The validators that separate real PII from look-alikes."""

from __future__ import annotations

import re

import pytest
from modelops_sanitizers.validators import (
    IBAN_LENGTHS,
    card_valid,
    digits_of,
    iban_valid,
    ipv4_valid,
    ipv6_valid,
    luhn_valid,
    phone_valid,
    ssn_valid,
)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("4111 1111 1111 1111", True),
        ("5500-0000-0000-0004", True),
        ("378282246310005", True),  # Amex test number, 15 digits
        ("4111111111111112", False),
        ("79927398713", True),  # the textbook Luhn example
        ("79927398710", False),
        ("", False),
    ],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_a_card_needs_13_to_19_digits_and_not_one_repeated_digit() -> None:
    assert card_valid("4222222222222")  # 13 digits, Luhn-valid
    assert not card_valid("79927398713")  # Luhn-valid but only 11 digits
    assert not card_valid("0000 0000 0000 0000")  # passes Luhn, not a card


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82 WEST 1234 5698 7654 32", True),
        ("GB82WEST12345698765432", True),
        ("DE89370400440532013000", True),
        ("NO9386011117947", True),  # the shortest country length, 15
        ("GB82 WEST 1234 5698 7654 33", False),  # checksum
        ("GB82WEST1234569876543", False),  # one character short for GB
        ("XX82WEST12345698765432", False),  # unknown country
        ("gb82west12345698765432", False),  # lower case
    ],
)
def test_iban_mod_97_and_country_length(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(
    ("ssn", "valid"),
    [
        ("123-45-6789", True),
        ("899-99-9999", True),
        ("000-12-3456", False),
        ("666-12-3456", False),
        ("900-12-3456", False),
        ("999-12-3456", False),
        ("123-00-4567", False),
        ("123-45-0000", False),
        ("123-45-678", False),
    ],
)
def test_ssn_ranges(ssn: str, valid: bool) -> None:
    assert ssn_valid(ssn) is valid


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("192.168.0.1", True),
        ("255.255.255.255", True),
        ("0.0.0.0", True),
        ("256.1.1.1", False),
        ("1.2.3.4.5", False),
        ("1.2.3", False),
        ("01.2.3.4", False),
        ("1..2.3", False),
    ],
)
def test_ipv4(address: str, valid: bool) -> None:
    assert ipv4_valid(address) is valid


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("2001:db8::1", True),
        ("::1", True),
        ("::ffff:192.0.2.1", True),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", True),
        ("2001:db8:::1", False),
        ("12:30:45", False),
        ("00:1A:2B:3C:4D:5E", False),  # a MAC address
        ("12345::1", False),
    ],
)
def test_ipv6(address: str, valid: bool) -> None:
    assert ipv6_valid(address) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("(415) 555-2671", True),
        ("415-555-2671", True),
        ("+1 415 555 2671", True),
        ("+44 20 7946 0958", True),
        ("123-456-7890", False),  # NANP area codes never start with 0 or 1
        ("415-155-2671", False),  # nor exchanges
        ("911-555-2671", False),  # N11 is not an area code
        ("+0 12 3456 7890", False),
        ("+1234567", False),  # too short for E.164
    ],
)
def test_phone(number: str, valid: bool) -> None:
    assert phone_valid(number) is valid


# The "IBAN length" column of the SWIFT IBAN registry (release 98, 2024), typed from the
# registry, not copied from the module: every country's length is accepted and one more or
# one fewer character is refused even with a correct checksum.
SWIFT_IBAN_REGISTRY = """
AD 24 AE 23 AL 28 AT 20 AZ 28 BA 20 BE 16 BG 22 BH 22 BI 27 BR 29 BY 28 CH 21 CR 22 CY 28
CZ 24 DE 22 DJ 27 DK 18 DO 28 EE 20 EG 29 ES 24 FI 18 FK 18 FO 18 FR 27 GB 22 GE 22 GI 23
GL 18 GR 27 GT 28 HR 21 HU 28 IE 22 IL 23 IQ 23 IS 26 IT 27 JO 30 KW 30 KZ 20 LB 28 LC 32
LI 21 LT 20 LU 20 LV 21 LY 25 MC 27 MD 24 ME 22 MK 19 MN 20 MR 27 MT 31 MU 30 NI 28 NL 18
NO 15 OM 23 PK 24 PL 28 PS 29 PT 25 QA 29 RO 24 RS 22 RU 33 SA 24 SC 31 SD 18 SE 24 SI 19
SK 24 SM 27 SO 23 ST 25 SV 28 TL 23 TN 24 TR 26 UA 29 VA 22 VG 24 XK 20 YE 30
"""
SWIFT_IBAN_LENGTHS = [
    (country, int(length))
    for country, length in re.findall(r"([A-Z]{2}) (\d+)", SWIFT_IBAN_REGISTRY)
]


def iban_with_checksum(country: str, account: str) -> str:
    """``country`` + the two ISO 7064 check digits + ``account`` (all digits), as banks issue."""
    remainder = int(account + str(int(country[0], 36)) + str(int(country[1], 36)) + "00") % 97
    return f"{country}{98 - remainder:02d}{account}"


@pytest.mark.parametrize(
    ("country", "length"),
    SWIFT_IBAN_LENGTHS,
)
def test_an_iban_with_a_valid_checksum_needs_its_countrys_length(country: str, length: int):
    digits = "1234567890" * 4
    right = iban_with_checksum(country, digits[: length - 4])
    assert len(right) == length
    assert iban_valid(right) is True
    assert iban_valid(iban_with_checksum(country, digits[: length - 3])) is False  # one more
    assert iban_valid(iban_with_checksum(country, digits[: length - 5])) is False  # one fewer


def with_luhn_digit(body: str) -> str:
    """``body`` and the check digit that makes it pass Luhn (the textbook construction)."""
    total = 0
    for position, digit in enumerate(reversed(body)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str(-total % 10)


CARDS = [
    ("4111111111111111", True),
    ("5500 0000 0000 0004", True),
    ("378282246310005", True),  # Amex, 15 digits
    ("6011111111111117", True),  # Discover
    ("3530111333300000", True),  # JCB
    ("4012888888881881", True),
    ("5105-1051-0510-5100", True),
    ("4222222222222", True),  # 13 digits
    (with_luhn_digit("12345678901"), False),  # 12 digits, Luhn-valid: too short
    (with_luhn_digit("1234567890123456789"), False),  # 20 digits: too long
    (with_luhn_digit("123456789012345678"), True),  # 19 digits
    (with_luhn_digit("4" * 15), True),  # one digit differs from the others
    ("4111111111111112", False),
    ("5500 0000 0000 0005", False),
    ("0000 0000 0000 0000", False),  # passes Luhn, one repeated digit
]


def test_the_card_check_digit_helper_agrees_with_textbook_numbers() -> None:
    assert with_luhn_digit("411111111111111") == "4111111111111111"
    assert with_luhn_digit("7992739871") == "79927398713"


@pytest.mark.parametrize(("number", "valid"), CARDS)
def test_cards(number: str, valid: bool) -> None:
    assert card_valid(number) is valid


def test_a_card_written_with_other_separators_is_read_by_its_digits() -> None:
    assert card_valid("4111.1111.1111.1111") is True
    assert card_valid("4111/1111/1111/1112") is False


SSNS = [
    ("123-45-6789", True),
    ("899-99-9999", True),
    ("001-01-0001", True),
    ("000-12-3456", False),
    ("666-12-3456", False),
    ("900-12-3456", False),
    ("123-00-4567", False),
    ("123-40-4567", True),
    ("123-45-0000", False),
    ("123-45-0001", True),
    ("123-45-678", False),
    ("123-45-67890", False),
]


@pytest.mark.parametrize(("ssn", "valid"), SSNS)
def test_ssn_area_group_and_serial(ssn: str, valid: bool) -> None:
    assert ssn_valid(ssn) is valid


PHONES = [
    ("(415) 555-2671", True),
    ("1 415 555 2671", True),
    ("+1 415 555 2671", True),
    ("+1 911 555 2671", False),  # N11 area code
    ("+1 415 155 2671", False),  # exchange starting with 1
    ("+1 123 555 2671", False),
    ("+1 415 555 267", False),  # a NANP number needs 11 digits with the 1
    ("+44 20 7946 0958", True),
    ("+44 1234 5678 90123", True),  # 15 digits: the E.164 maximum
    ("+44 1234 5678 901234", False),  # 16 digits
    ("+44 123456", True),  # 8 digits
    ("+44 12345", False),  # 7 digits
    ("+0 12 3456 7890", False),
    ("911-555-2671", False),
    ("415-555-2671", True),
    ("2 415 555 2671", False),  # 11 digits must start with 1
    ("415-555-267", False),
]


@pytest.mark.parametrize(("number", "valid"), PHONES)
def test_phone_numbers(number: str, valid: bool) -> None:
    assert phone_valid(number) is valid


def _random_numbers(count: int) -> list[str]:
    """Seeded look-alikes of cards and SSNs: digits with separators, some non-ASCII digits."""
    import random

    generator = random.Random(20261207)
    shapes = ["ddd-dd-dddd", "ddd dd dddd", "ddd-dd dddd", "dddd-dd-ddd", "ddd-ddd-ddd"]
    alphabet = "0123456789" * 6 + " -.x/" + "\u0663\u00b2"
    numbers = ["000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000"]
    for _ in range(count):
        if generator.random() < 0.5:  # the SSN pattern's shapes and near misses
            shape = generator.choice(shapes)
            numbers.append(
                "".join(generator.choice("0123456789") if c == "d" else c for c in shape)
            )
        else:
            size = generator.randint(9, 24)
            numbers.append("".join(generator.choice(alphabet) for _ in range(size)))
    return numbers


def _reference_digits(text: str) -> str:
    return "".join(character for character in text if character in "0123456789")


def _reference_luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_the_fast_validators_agree_with_textbook_ones_on_random_look_alikes() -> None:
    # card_valid's bytes Luhn and ssn_valid's by-position parts against plain definitions.
    for number in _random_numbers(6000):
        digits = _reference_digits(number)
        card = 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _reference_luhn(digits)
        area, group, serial = digits[:3], digits[3:5], digits[5:]
        ssn = len(digits) == 9 and area not in ("000", "666") and area[0] != "9"
        ssn = ssn and group != "00" and serial != "0000"
        assert card_valid(number) is card, number
        assert ssn_valid(number) is ssn, number
        assert digits_of(number) == digits, number


def _reference_phone(text: str) -> bool:
    digits = _reference_digits(text)

    def nanp(ten: str) -> bool:
        return len(ten) == 10 and int(ten[0]) >= 2 and int(ten[3]) >= 2 and ten[1:3] != "11"

    if text.startswith("+"):
        if not 8 <= len(digits) <= 15 or digits[0] == "0":
            return False
        return nanp(digits[1:]) if digits[0] == "1" else True
    return nanp(digits[1:]) if len(digits) == 11 and digits[0] == "1" else nanp(digits)


def _reference_iban(text: str) -> bool:
    compact = text.replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", compact):
        return False
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(character, 36)) for character in rearranged)) % 97 == 1


def test_the_phone_and_iban_validators_agree_with_textbook_ones_on_random_look_alikes() -> None:
    import random

    generator = random.Random(7)
    phones = ["+1 415 555 2671", "+1 911 555 2671", "1 415 155 2671", "+0 12 3456 7890"]
    for _ in range(4000):
        size = generator.randint(6, 18)
        body = "".join(generator.choice("0123456789" * 4 + " -.()") for _ in range(size))
        phones.append(generator.choice(["", "+", "+1 ", "1-", "1"]) + body)
    for number in phones:
        assert phone_valid(number) is _reference_phone(number), number
    ibans = ["GB82 WEST 1234 5698 7654 32", "gb82 WEST 1234 5698 7654 32", "GB82 west 1234"]
    countries = [*sorted(IBAN_LENGTHS), "XX", "Gb", "G1"]
    for _ in range(4000):
        country = generator.choice(countries)
        length = IBAN_LENGTHS.get(country, 20) + generator.choice([0, 0, 0, -1, 1])
        letters = generator.random() < 0.3
        alphabet = "0123456789" + ("ABCDEFGHIJKLMNOPQRSTUVWXYZb" if letters else "")
        body = "".join(generator.choice(alphabet) for _ in range(max(length - 4, 0)))
        check = f"{generator.randint(0, 99):02d}"
        # one in two with the check digits that make mod 97 equal 1, when the rest is valid
        if generator.random() < 0.5 and body.isalnum() and body == body.upper():
            value = int("".join(str(int(c, 36)) for c in body + country + "00"))
            check = f"{98 - value % 97:02d}"
        compact = country + check + body
        ibans.append(" ".join(compact[i : i + 4] for i in range(0, len(compact), 4)))
        ibans.append(compact)
    assert sum(map(iban_valid, ibans)) > 1000  # the valid ones are well represented
    for iban in ibans:
        assert iban_valid(iban) is _reference_iban(iban), iban


def test_the_jwt_segment_check_decodes_as_base64_urlsafe_b64decode_does() -> None:
    """The JWT check decodes with binascii (no base64 import): same verdict as
    ``base64.urlsafe_b64decode`` + ``json.loads`` on valid, corrupt and random segments."""
    import base64
    import binascii
    import json
    import random
    import string

    from modelops_sanitizers.patterns import _header_is_json_object, _is_json_object

    def reference(segment: str) -> bool:
        try:
            decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
            return isinstance(json.loads(decoded), dict)
        except (binascii.Error, ValueError):
            return False

    rng = random.Random(5)
    alphabet = string.ascii_letters + string.digits + "-_"
    segments = ["", "e", "e30", "W10", "eyJhIjoxfQ", "eyJhIjoxfQ=", "é", "eyJ-_"]
    for _ in range(3000):
        value = {"k": "".join(rng.choices(string.printable + "é€", k=rng.randint(0, 12)))}
        encoded = base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
        segments += [encoded, encoded[:-1], "".join(rng.choices(alphabet, k=rng.randint(0, 30)))]
    verdicts = [reference(segment) for segment in segments]
    assert [_is_json_object(segment) for segment in segments] == verdicts
    assert [_header_is_json_object(segment) for segment in segments] == verdicts
    assert 3000 <= sum(verdicts) < len(segments)  # both verdicts were compared
