"""Precise patterns written "leading class first" match exactly what their textbook form does.

``(?<!B)C...`` is written ``C(?<!BC)...`` so that ``re`` can skip, in C, the positions that
cannot start a match. The rewrite must not change a single match: both forms are searched
from every position (and two end positions) of generated texts full of near-misses.
"""

from __future__ import annotations

import random
import re

import pytest
from modelops_sanitizers.patterns import build_rules

TEXTBOOK = {
    "payment_card": r"(?<![\w.,-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"
    r"|\d{4}([ -])\d{6}\2\d{4,5})(?!\w|[.,]\d)",
    "us_ssn": r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])",
    "ipv4": r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)",
    "iban": r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?!\w)",
    "nanp_phone": r"(?<![\w+()-])(?:1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?![\w-])",
}
MINIMUM_MATCHES = {
    "payment_card": 5000,
    "us_ssn": 300,
    "ipv4": 50,
    "iban": 1000,
    "nanp_phone": 1000,
}


def near_misses(seed: int, count: int) -> list[str]:
    """Digit groups of many lengths joined by the separators the patterns care about, with
    letters, country codes, NULs and non-ASCII characters around them."""
    rng = random.Random(seed)

    def group() -> str:
        return "".join(rng.choices("0123456789", k=rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 6, 9, 16])))

    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 4)):
            separator = rng.choice([" ", " ", "-", ".", ",", ""])
            shape = separator.join(group() for _ in range(rng.randint(1, 6)))
            if rng.random() < 0.2:  # a phone-like shape: area code, exchange, line
                area = rng.choice(["415", "(415)", "(41)", "4155", "141"])
                shape = area + separator + group() + rng.choice(["", " ", "-", "."]) + group()
            if rng.random() < 0.25:
                shape = rng.choice(["GB", "DE", "AB", "x", "Q", "GB82 WEST "]) + shape
            elif rng.random() < 0.3:  # phone openings: a leading 1, an area code in parentheses
                shape = rng.choice(["1", "1 ", "1-", "(", "(415)", "(415) ", "+1 ", "(41)"]) + shape
            parts.append(shape)
            parts.append(
                rng.choice([" ", "-", ".", ",", "_", "a", "A", "é", "\x00", "+", ". ", ""])
            )
        texts.append("".join(parts))
    return texts


@pytest.mark.parametrize("kind", sorted(TEXTBOOK))
def test_a_leading_class_first_pattern_matches_like_its_textbook_form(kind: str) -> None:
    pattern = next(rule.pattern for rule in build_rules() if rule.kind == kind)
    textbook = re.compile(TEXTBOOK[kind], re.ASCII)
    assert pattern.pattern != textbook.pattern  # the rewritten form is the one in use
    matches = 0
    for text in near_misses(11, 1500):
        for position in range(len(text) + 1):
            for end in {len(text), max(position, len(text) - 3)}:
                expected = textbook.search(text, position, end)
                found = pattern.search(text, position, end)
                assert (found and found.span()) == (expected and expected.span()), (
                    text,
                    position,
                    end,
                )
                matches += expected is not None
    assert matches >= MINIMUM_MATCHES[kind]  # many matches were compared, not only misses
