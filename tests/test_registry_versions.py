"""The sortable version key backends index: equal for equal versions, ordered like releases."""

from __future__ import annotations

import random

import pytest

from modelops_core.registry.versions import parse_version


def random_version(generator: random.Random, prerelease: bool) -> str:
    numbers = [generator.choice([0, 0, 1, 2, 9, 10, 99, 100, 999999999]) for _ in range(4)]
    text = ".".join(str(n) for n in numbers[: generator.randint(1, 4)])
    if prerelease and generator.random() < 0.3:
        text += generator.choice(["-rc.1", "-rc.01", "-alpha", "-1"])
    return text


def test_release_keys_order_as_the_versions_do() -> None:
    generator = random.Random(11)
    for _ in range(3000):
        first = parse_version(random_version(generator, prerelease=False))
        second = parse_version(random_version(generator, prerelease=False))
        assert (first.sort_key < second.sort_key) == (first < second), (first, second)
        assert "-" not in first.sort_key


def test_keys_are_equal_exactly_for_equal_versions() -> None:
    generator = random.Random(12)
    for _ in range(3000):
        first = parse_version(random_version(generator, prerelease=True))
        second = parse_version(random_version(generator, prerelease=True))
        assert (first.sort_key == second.sort_key) == (first == second), (first, second)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("1", "000000001"),
        ("1.0.0", "000000001"),
        ("1.10", "000000001000000010"),
        ("0", "000000000"),
        ("2.0.0-rc.01", "000000002-rc.1"),
        ("3.1+build.7", "000000003000000001"),
    ],
)
def test_a_key_reads_as_nine_digits_per_number(text: str, key: str) -> None:
    assert parse_version(text).sort_key == key
