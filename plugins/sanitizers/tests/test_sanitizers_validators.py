"""The validators that separate real PII from look-alikes."""

from __future__ import annotations

import pytest
from modelops_sanitizers.validators import (
    card_valid,
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
