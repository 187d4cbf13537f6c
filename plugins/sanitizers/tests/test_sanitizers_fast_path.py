"""The hyperscan batch path finds exactly what the pure-``re`` path finds, text by text.

The batch path joins many texts into one buffer, scans non-ASCII characters as ``?`` and
searches the precise patterns only near the multi-pattern hits; these tests check that none of
that changes a finding: non-ASCII text around PII, adjacent and refused candidates, NULs,
empty texts, digit and hex soups and a private key split across two texts of one batch. The
whole-batch redaction of flat records is checked against its one-at-a-time counterpart.
"""

from __future__ import annotations

import ipaddress
import random
import string

import pytest
from modelops_sanitizers.detect import PiiDetector, hyperscan_available
from modelops_sanitizers.patterns import _card_prefix_ends, _separator_prefix_ends
from modelops_sanitizers.pii import PiiSanitizer
from modelops_sanitizers.validators import (
    iban_valid,
    ipv4_valid,
    ipv6_valid,
    luhn_valid,
)

needs_hyperscan = pytest.mark.skipif(
    not hyperscan_available(), reason="the hyperscan wheel is not installed"
)

VALUES = [
    "jane.doe+ml@mail.example.co.uk", "a@b.io", "(415) 555-2671", "415.555.2671",
    "+1 415 555 2671", "+44 20 7946 0958", "4111 1111 1111 1111", "4111111111111111",
    "3782 822463 10005", "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "10.0.0.1",
    "2001:db8::8a2e:370:7334", "::ffff:192.0.2.1", "::1", "123-45-6789",
    "AKIAIOSFODNN7EXAMPLE", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t", "ghp_" + "aB3" * 12,
    "AIzaSyA-1234567890abcdefghijklmnopqrstu", "xoxb-123456789012-abcdefghijklmnop",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
]  # fmt: skip
LOOKALIKES = [
    "4111 1111 1111 1112", "0000 0000 0000 0000", "1.2.3.4.5", "256.1.1.1", "666-12-3456",
    "123-00-4567", "GB82 WEST 1234 5698 7654 33", "00:1A:2B:3C:4D:5E", "12:30:45",
    "123-456-7890", "user@localhost", "sk-learn", "AKIA1234", "eyJhbGciOiJIUzI1NiJ9.payload",
    "3.14159265358979323", "std::vector", "2023-10-05",
]  # fmt: skip
GLUE = [" ", "", ", ", ". ", "\n", "é", "ü ", " 名前 ", "😀", "\x00", "-", ".", ":", "_", "+"]
WORDS = ["plain", "words", "42 items", "naïve café", "Ελληνικά", "данные", "東京"]


def generated_texts(seed: int, count: int) -> list[str]:
    """Texts of PII, look-alikes and words, glued by ASCII and non-ASCII separators."""
    rng = random.Random(seed)
    pieces = VALUES + LOOKALIKES + WORDS
    texts = []
    for _ in range(count):
        parts = rng.choices(pieces, k=rng.randint(1, 7))
        texts.append("".join(part + rng.choice(GLUE) for part in parts))
    return [*texts, "", "\x00", "é", *VALUES, *LOOKALIKES]


@needs_hyperscan
@pytest.mark.parametrize("seed", [1, 2])
def test_the_batch_path_finds_what_re_finds_on_generated_non_ascii_texts(seed: int) -> None:
    texts = generated_texts(seed, 600)
    fast, slow = PiiDetector(engine="hyperscan"), PiiDetector(engine="re")
    expected = [slow.find(text) for text in texts]
    assert fast.find_many(texts) == expected
    assert sum(map(len, expected)) > 800  # many findings were compared
    assert (
        sum(1 for text, found in zip(texts, expected, strict=True) if found and not text.isascii())
        > 100
    )


@needs_hyperscan
def test_adjacent_candidates_are_each_judged_on_their_own() -> None:
    texts = [
        "4111 1111 1111 1112 4111 1111 1111 1111",  # a refused card, then a valid one
        "4111111111111111 4111111111111112 5500000000000004",
        "10.0.0.1 10.0.0.2,10.0.0.3",
        "666-12-3456 123-45-6789 (415) 555-2671",
        "GB82 WEST 1234 5698 7654 33 GB82 WEST 1234 5698 7654 32",
        "é10.0.0.1é2001:db8::1é",
        "a@b.io,c@d.io jane@example.org",
    ]
    fast, slow = PiiDetector(engine="hyperscan"), PiiDetector(engine="re")
    found = fast.find_many(texts)
    assert found == [slow.find(text) for text in texts]
    assert [len(spans) for spans in found] == [1, 2, 3, 2, 1, 2, 3]


@needs_hyperscan
@pytest.mark.parametrize("value", VALUES)
def test_a_value_that_ends_the_batch_is_found(value: str) -> None:
    # The end of the joined buffer has no NUL after it: the loose patterns' trailing classes
    # must accept the end of the buffer too.
    fast, slow = PiiDetector(engine="hyperscan"), PiiDetector(engine="re")
    assert fast.find_many(["lead", value]) == [[], slow.find(value)] != [[], []]
    assert fast.find_many([value]) == [slow.find(value)]


@needs_hyperscan
def test_a_private_key_split_across_two_texts_is_not_joined() -> None:
    texts = ["-----BEGIN RSA PRIVATE KEY-----\nMIIEow", "qwerty\n-----END RSA PRIVATE KEY-----"]
    assert PiiDetector(engine="hyperscan").find_many(texts) == [[], []]


@needs_hyperscan
def test_both_engines_sanitize_records_and_report_the_same() -> None:
    texts = generated_texts(3, 300)
    records = [
        {"prompt": texts[index], "n": index, "messages": [{"content": texts[-index - 1]}]}
        if index % 3 == 0
        else {"prompt": texts[index], "completion": texts[-index - 1]}
        for index in range(len(texts) // 2)
    ]
    outputs, reports = [], []
    for engine in ("hyperscan", "re"):
        sanitizer = PiiSanitizer(engine=engine, strategy="hash", salt="s")
        outputs.append(list(sanitizer.apply(records)))
        reports.append(sanitizer.report())
    assert outputs[0] == outputs[1]
    assert reports[0] == reports[1] and reports[0]["findings"] > 300


def test_ipv6_valid_agrees_with_ipaddress_on_random_candidates() -> None:
    rng = random.Random(5)
    pieces = ["0", "1", "a", "F", "ff", "ffff", "12345", "g", ":", "::", ".", "1.2.3.4",
              "256.1.1.1", "01.2.3.4", "1.2.3"]  # fmt: skip

    def reference(text: str) -> bool:
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            return False
        return text.count(":") >= 2

    candidates = ["".join(rng.choices(pieces, k=rng.randint(1, 12))) for _ in range(20000)]
    candidates += [str(ipaddress.IPv6Address(rng.getrandbits(128) >> rng.randrange(128)))
                   for _ in range(2000)]  # fmt: skip
    assert [ipv6_valid(text) for text in candidates] == [reference(text) for text in candidates]
    assert sum(map(ipv6_valid, candidates)) > 2000


def test_ipv4_valid_agrees_with_ipaddress_on_random_candidates() -> None:
    rng = random.Random(9)

    def reference(text: str) -> bool:
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            return False
        return True

    candidates = ["".join(rng.choices("0123456789.٣ ", [5] * 10 + [3, 1, 1], k=rng.randint(0, 16)))
                  for _ in range(20000)]  # fmt: skip
    candidates += [".".join(str(rng.randint(0, 300)).zfill(rng.choice([1, 1, 2, 3]))
                            for _ in range(4)) for _ in range(5000)]  # fmt: skip
    assert [ipv4_valid(text) for text in candidates] == [reference(text) for text in candidates]
    assert sum(map(ipv4_valid, candidates)) > 1000


def test_luhn_and_iban_agree_with_their_textbook_definitions() -> None:
    rng = random.Random(6)

    def luhn_reference(digits: str) -> bool:
        total = 0
        for position, character in enumerate(reversed(digits)):
            value = int(character) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        return total % 10 == 0

    numbers = ["".join(rng.choices(string.digits, k=rng.randint(1, 19))) for _ in range(5000)]
    assert [luhn_valid(n) for n in numbers] == [luhn_reference(n) for n in numbers]

    def iban_reference(text: str) -> bool:
        rearranged = text[4:] + text[:4]
        return int("".join(str(int(character, 36)) for character in rearranged)) % 97 == 1

    ibans = ["GB" + "".join(rng.choices(string.digits, k=2)) + "WEST"
             + "".join(rng.choices(string.digits, k=14)) for _ in range(5000)]  # fmt: skip
    assert [iban_valid(i) for i in ibans] == [iban_reference(i) for i in ibans]
    assert any(map(iban_valid, ibans))


def random_numbers(seed: int, count: int) -> list[str]:
    """Card-, SSN- and phone-shaped strings, most of them invalid, some not ASCII."""
    rng = random.Random(seed)
    shapes = [
        lambda: "".join(rng.choices(string.digits, k=rng.randint(0, 20))),
        lambda: rng.choice(" -").join(
            "".join(rng.choices(string.digits, k=rng.randint(1, 6))) for _ in range(5)
        ),
        lambda: "".join(rng.choices("0123456789 -+().", k=rng.randint(0, 22))),
        lambda: f"{rng.randint(0, 999):03d}-{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}",
        lambda: f"+{rng.randint(0, 99)} {rng.randint(0, 9999)} {rng.randint(0, 9999999)}",
        lambda: f"({rng.randint(0, 999):03d}) {rng.randint(0, 999):03d}-{rng.randint(0, 9999):04d}",
        lambda: rng.choice(string.digits) * rng.randint(12, 20),
        lambda: "".join(rng.choices("0123456789 -+é٣²", k=rng.randint(0, 20))),
    ]
    return [rng.choice(shapes)() for _ in range(count)]


def test_card_prefixes_are_the_digit_group_ends() -> None:
    for number in random_numbers(8, 20000):
        assert _card_prefix_ends(number) == _separator_prefix_ends(number, 13, 19)


SOUP_ALPHABETS = [
    "0123456789 -", "0123456789 -.()+", "0123456789 -.,_a", "0123456789abcdefABCDEF:. ",
    "0123456789 -.+()xé\x00", "ABGDEW0123456789 ", "0123456789@a.-_ ",
]  # fmt: skip


@needs_hyperscan
@pytest.mark.parametrize("seed", [4, 5])
def test_the_batch_path_finds_what_re_finds_in_digit_and_hex_soups(seed: int) -> None:
    # Random runs of digits, separators, hex and capitals: where the loose patterns' shapes
    # (card openings, trailing classes, IPv6 colons, IBAN letters) could miss a valid match.
    rng = random.Random(seed)
    pieces = VALUES + LOOKALIKES
    texts = []
    for _ in range(1500):
        alphabet = rng.choice(SOUP_ALPHABETS)
        weights = [8 if character.isdigit() else 1 for character in alphabet]
        soup = "".join(rng.choices(alphabet, weights, k=rng.randint(0, 60)))
        if rng.random() < 0.5:
            glue = rng.choice([" ", "", "-", ".", "\x00"])
            soup = glue.join([soup, rng.choice(pieces), soup[::-1]])
        texts.append(soup)
    fast, slow = PiiDetector(engine="hyperscan"), PiiDetector(engine="re")
    expected = [slow.find(text) for text in texts]
    assert fast.find_many(texts) == expected
    assert sum(map(len, expected)) > 300


@pytest.mark.parametrize("strategy", ["mask", "hash", "partial", "drop"])
def test_flat_records_are_sanitized_and_counted_as_record_by_record(strategy: str) -> None:
    # Flat string records take the whole-batch path; a non-string value sends a record down the
    # record-by-record one. Both must give the same records and the same report.
    texts = generated_texts(9, 300)
    texts[5] = "a NUL \x00 inside, jane@example.org"  # the batch falls back to per string
    flat = [{"prompt": text, "completion": texts[-index - 1]} for index, text in enumerate(texts)]
    nested = [{**record, "n": None} for record in flat]
    outputs, reports = [], []
    for records in (flat, nested):
        sanitizer = PiiSanitizer(strategy=strategy, salt="s")
        outputs.append([{k: v for k, v in r.items() if k != "n"} for r in sanitizer.apply(records)])
        reports.append(sanitizer.report())
    assert outputs[0] == outputs[1]
    assert reports[0] == reports[1] and reports[0]["findings"] > 300
    assert list(reports[0]["by_record"]) == list(reports[1]["by_record"])


def test_the_user_path_does_not_import_numpy_ma(tmp_path):
    """``DatasetSanitizer().sanitize(Dataset.from_jsonl(p)).save(q)`` on texts whose findings
    overlap (they take the clash resolution) does not import numpy.ma (5 ms of every run)."""
    import json
    import subprocess
    import sys

    texts = [
        "call +1 212 555 0147 or write to jane.2125550147@example.com today",
        "card 4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00, ip 10.0.0.1",
        "ssn 123-45-6789, token sk-proj-" + "a1B2c3D4" * 5 + "7 then 4111111111111111",
    ]
    source = tmp_path / "chat.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {"messages": [{"role": "user", "content": t}, {"role": "assistant", "content": t}]}
            )
            + "\n"
            for t in texts
        )
    )
    script = (
        "import sys\n"
        "from modelops_core import Dataset, DatasetSanitizer\n"
        "DatasetSanitizer().sanitize(Dataset.from_jsonl(sys.argv[1])).save(sys.argv[2])\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(source), str(tmp_path / "out.jsonl")],
        capture_output=True, text=True, check=True,
        env={**__import__("os").environ, "MODELOPS_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.stdout.split() == ["False"]
    assert "4111" not in (tmp_path / "out.jsonl").read_text()


@needs_hyperscan
def test_hits_reported_in_any_order_give_the_same_findings(monkeypatch) -> None:
    # Each rule's hits are sorted before grouping: the order hyperscan reports them in (by
    # end offset, interleaved across rules) must not matter. Here they arrive reversed.
    detector = PiiDetector(engine="hyperscan")
    texts = generated_texts(3, 400)
    expected = detector.find_batch(texts)
    assert len(expected) > 400
    scanner = detector._scanner
    assert scanner is not None
    database = scanner._database

    class ReversedDatabase:
        def scan(self, data, match_event_handler, context):
            events = []
            database.scan(data, match_event_handler=lambda *event: events.append(event))
            for rule_id, start, end, flags, _ in reversed(events):
                match_event_handler(rule_id, start, end, flags, context)

    monkeypatch.setattr(scanner, "_database", ReversedDatabase())
    assert detector.find_batch(texts) == expected
    assert detector.find_batch(texts) == PiiDetector(engine="re").find_batch(texts)
