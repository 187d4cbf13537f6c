"""The pii sanitizer: what it finds, what it leaves alone, strategies, reports, engines."""

from __future__ import annotations

import base64
import json
import random

import pytest
from modelops_sanitizers import redact_pii
from modelops_sanitizers.detect import PiiDetector, hyperscan_available
from modelops_sanitizers.errors import SanitizerOptionError
from modelops_sanitizers.pii import PiiSanitizer

from modelops_core.errors import ModelOpsError

ENGINES = ["re", pytest.param("hyperscan", marks=pytest.mark.skipif(
    not hyperscan_available(), reason="the hyperscan wheel is not installed"))]  # fmt: skip


def found(text: str, engine: str = "re", **options: object) -> list[tuple[str, str]]:
    """(type, matched text) of each finding."""
    detector = PiiDetector(engine=engine, **options)  # type: ignore[arg-type]
    return [(f.pii_type, text[f.start : f.end]) for f in detector.find(text)]


def jwt() -> str:
    def segment(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment({'sub': '42'})}.c2lnbmF0dXJl"


PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nqwerty==\n-----END RSA PRIVATE KEY-----"

POSITIVES = [
    ("write to jane.doe+ml@mail.example.co.uk today", "email", "jane.doe+ml@mail.example.co.uk"),
    ("call (415) 555-2671 now", "phone", "(415) 555-2671"),
    ("call 415.555.2671 now", "phone", "415.555.2671"),
    ("call +1 415 555 2671 now", "phone", "+1 415 555 2671"),
    ("call +44 20 7946 0958 now", "phone", "+44 20 7946 0958"),
    ("card 4111 1111 1111 1111 ok", "card", "4111 1111 1111 1111"),
    ("card 4111-1111-1111-1111 ok", "card", "4111-1111-1111-1111"),
    ("card 4111111111111111 ok", "card", "4111111111111111"),
    ("amex 3782 822463 10005 ok", "card", "3782 822463 10005"),
    ("iban GB82 WEST 1234 5698 7654 32 ok", "iban", "GB82 WEST 1234 5698 7654 32"),
    ("iban DE89370400440532013000.", "iban", "DE89370400440532013000"),
    ("host 10.0.0.1 up", "ip", "10.0.0.1"),
    ("host 2001:db8::8a2e:370:7334 up", "ip", "2001:db8::8a2e:370:7334"),
    ("host ::ffff:192.0.2.1 up", "ip", "::ffff:192.0.2.1"),
    ("ssn 123-45-6789 ok", "ssn", "123-45-6789"),
    ("key AKIAIOSFODNN7EXAMPLE ok", "secret", "AKIAIOSFODNN7EXAMPLE"),
    ("key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t ok", "secret", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t"),
    ("key ghp_" + "aB3" * 12 + " ok", "secret", "ghp_" + "aB3" * 12),
    ("key github_pat_11ABCDEFG0123456789_abcdefghij ok", "secret",
     "github_pat_11ABCDEFG0123456789_abcdefghij"),
    ("key AIzaSyA-1234567890abcdefghijklmnopqrstu ok", "secret",
     "AIzaSyA-1234567890abcdefghijklmnopqrstu"),
    ("key xoxb-123456789012-abcdefghijklmnop ok", "secret", "xoxb-123456789012-abcdefghijklmnop"),
    (f"token {jwt()} ok", "secret", jwt()),
    (f"key:\n{PEM}\nend", "secret", PEM),
]  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("text", "pii_type", "value"), POSITIVES)
def test_each_type_is_found_with_its_exact_span(
    engine: str, text: str, pii_type: str, value: str
) -> None:
    assert found(text, engine) == [(pii_type, value)]


LOOKALIKES = [
    "card 4111 1111 1111 1112 fails Luhn",
    "all zeros 0000 0000 0000 0000",
    "version 1.2.3.4.5 and v1.2.3.4",
    "octet 256.1.1.1 is too big",
    "ssn 000-12-3456, 666-12-3456, 900-12-3456, 123-00-4567, 123-45-0000",
    "iban GB82 WEST 1234 5698 7654 33 has a wrong checksum",
    "dates 2023-10-05 and times 12:30:45, mac 00:1A:2B:3C:4D:5E",
    "phone 123-456-7890 has no valid area code",
    "mail user@localhost or a@b",
    "library sk-learn and task-based",
    "prefix AKIA1234 only",
    "jwt-like eyJhbGciOiJIUzI1NiJ9.payload.",
    "pi 3.14159265358979323 and isbn 978-3-16-148410-0",
    "ratio 16:9, scripture John 3:16, namespace std::vector",
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("text", LOOKALIKES)
def test_look_alikes_are_not_reported(engine: str, text: str) -> None:
    assert found(text, engine) == []


def test_a_refused_candidate_does_not_hide_a_valid_one_beside_it() -> None:
    invalid, valid = "4111 1111 1111 1112", "4111 1111 1111 1111"
    assert found(f"{invalid} {valid}") == [("card", valid)]
    assert found(f"{valid} {invalid}") == [("card", valid)]
    assert found(f"{invalid}, {valid}") == [("card", valid)]
    # A longer refused run still gives up the valid card at its start.
    assert found(f"{valid} 123") == [("card", valid)]


def test_a_refused_ssn_does_not_hide_a_valid_phone_at_the_same_place() -> None:
    assert found("666-12-3456 and (415) 555-2671") == [("phone", "(415) 555-2671")]


def test_an_overlap_goes_to_the_longest_finding() -> None:
    # The international phone pattern and the NANP pattern both match; the longer span wins.
    assert found("+1 (415) 555-2671") == [("phone", "+1 (415) 555-2671")]
    # A valid IBAN contains digit groups that could look like other numbers.
    assert found("GB82 WEST 1234 5698 7654 32") == [("iban", "GB82 WEST 1234 5698 7654 32")]


def test_types_restricts_what_is_found() -> None:
    text = "jane@example.org 10.0.0.1"
    assert found(text, types=["ip"]) == [("ip", "10.0.0.1")]
    assert found(text, types=["email"]) == [("email", "jane@example.org")]


def test_unknown_types_strategy_and_engine_are_explained() -> None:
    with pytest.raises(SanitizerOptionError, match=r"unknown \['passport'\].*email"):
        PiiSanitizer(types=["passport"])
    with pytest.raises(SanitizerOptionError, match="strategy='blur'.*mask"):
        PiiSanitizer(strategy="blur")
    with pytest.raises(ValueError, match="engine='pcre'"):
        PiiSanitizer(engine="pcre")
    assert issubclass(SanitizerOptionError, ModelOpsError)


def test_mask_strategy_labels_each_type() -> None:
    text = "jane@example.org, 4111 1111 1111 1111, 10.0.0.1, 123-45-6789, AKIAIOSFODNN7EXAMPLE"
    assert redact_pii(text) == "[EMAIL], [CARD], [IP], [SSN], [SECRET]"


def test_hash_is_consistent_within_a_salt_and_differs_across_salts() -> None:
    records = [{"text": "from jane@example.org"}, {"text": "to jane@example.org, bob@example.org"}]
    first = list(PiiSanitizer(strategy="hash", salt="s1").apply(records))
    again = list(PiiSanitizer(strategy="hash", salt="s1").apply(records))
    other = list(PiiSanitizer(strategy="hash", salt="s2").apply(records))
    jane = first[0]["text"].removeprefix("from ")
    assert jane.startswith("[EMAIL:") and "jane" not in jane
    assert first[1]["text"].startswith(f"to {jane}, ")
    assert not first[1]["text"].endswith(f"{jane}")  # bob hashes differently
    assert again == first
    assert other[0]["text"] != first[0]["text"]


def test_hash_without_salt_is_consistent_within_one_sanitizer() -> None:
    sanitizer = PiiSanitizer(strategy="hash")
    out = list(sanitizer.apply([{"a": "x 10.0.0.1"}, {"b": "y 10.0.0.1"}]))
    assert out[0]["a"].removeprefix("x ") == out[1]["b"].removeprefix("y ")


def test_partial_keeps_the_last_four_characters() -> None:
    assert redact_pii("card 4111 1111 1111 1111", strategy="partial") == "card **** **** **** 1111"
    assert redact_pii("call (415) 555-2671", strategy="partial") == "call (***) ***-2671"


def test_drop_leaves_out_records_with_any_finding() -> None:
    sanitizer = PiiSanitizer(strategy="drop")
    records = [{"t": "clean"}, {"t": "mail jane@example.org"}, {"t": "also clean 42"}]
    assert list(sanitizer.apply(records)) == [{"t": "clean"}, {"t": "also clean 42"}]
    report = sanitizer.report()
    assert report["records_dropped"] == 1 and report["by_record"] == {1: {"email": 1}}


def test_nested_chat_records_are_redacted_in_every_turn() -> None:
    record = {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "I am jane@example.org, ssn 123-45-6789"},
            {"role": "assistant", "content": ["noted", {"text": "call 415-555-2671"}]},
        ],
        "weight": 1,
    }
    [out] = PiiSanitizer().apply([record])
    assert out == {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "I am [EMAIL], ssn [SSN]"},
            {"role": "assistant", "content": ["noted", {"text": "call [PHONE]"}]},
        ],
        "weight": 1,
    }


def test_fields_restricts_which_keys_are_scanned() -> None:
    record = {"prompt": "jane@example.org", "id": "bob@example.org",
              "messages": [{"content": "10.0.0.1", "name": "10.0.0.2"}]}  # fmt: skip
    [out] = PiiSanitizer(fields=["prompt", "content"]).apply([record])
    assert out == {"prompt": "[EMAIL]", "id": "bob@example.org",
                   "messages": [{"content": "[IP]", "name": "10.0.0.2"}]}  # fmt: skip


def test_report_counts_by_type_field_and_record_and_never_holds_values() -> None:
    secrets = ["jane@example.org", "4111 1111 1111 1111", "AKIAIOSFODNN7EXAMPLE", "s3cr3t-salt"]
    sanitizer = PiiSanitizer(strategy="partial", salt=secrets[3])
    records = [
        {"messages": [{"role": "user", "content": f"{secrets[0]} {secrets[1]}"}]},
        {"prompt": "nothing here"},
        {"prompt": f"key {secrets[2]} and {secrets[0]}"},
    ]
    list(sanitizer.apply(records))
    report = sanitizer.report()
    assert report["by_type"] == {"card": 1, "email": 2, "secret": 1}
    assert report["by_field"] == {
        "messages[].content": {"card": 1, "email": 1},
        "prompt": {"email": 1, "secret": 1},
    }
    assert report["by_record"] == {0: {"card": 1, "email": 1}, 2: {"email": 1, "secret": 1}}
    assert report["findings"] == 4 and report["records_out"] == 3
    text = json.dumps(report) + repr(sanitizer)
    for value in [*secrets, "1111", "EXAMPLE", "jane"]:
        assert value not in text


def test_a_non_mapping_record_is_named_by_index() -> None:
    with pytest.raises(ValueError, match="record 1 is a str"):
        list(PiiSanitizer().apply([{"a": "b"}, "not a record"]))  # type: ignore[list-item]


def test_record_indexes_continue_across_batches() -> None:
    records = [{"t": "plain"}] * 300 + [{"t": "10.0.0.1"}]
    sanitizer = PiiSanitizer()
    out = list(sanitizer.apply(iter(records)))
    assert len(out) == 301 and out[-1] == {"t": "[IP]"}
    assert sanitizer.report()["by_record"] == {300: {"ip": 1}}


@pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan wheel is not installed")
def test_hyperscan_and_re_engines_find_exactly_the_same() -> None:
    pieces = [value for _, _, value in POSITIVES] + LOOKALIKES + [
        "plain words", "42 items", "4111 1111 1111 1112 4111 1111 1111 1111", "é ünïcode 10.0.0.1",
        "+1 (415) 555-2671", "::1", "x@y.io", "\x00", "GB82 WEST 1234 5698 7654 32 AB",
    ]  # fmt: skip
    rng = random.Random(3)
    texts = [" ".join(rng.choices(pieces, k=rng.randint(1, 6))) for _ in range(400)]
    texts += ["", "no pii at all", *pieces]
    ascii_texts = [text for text in texts if text.isascii()]
    fast_detector, slow_detector = PiiDetector(engine="hyperscan"), PiiDetector(engine="re")
    slow = [slow_detector.find(text) for text in texts]
    # Non-ASCII batches are scanned with "?" for each non-ASCII character: same findings.
    assert fast_detector.find_many(texts) == slow
    assert fast_detector.find_many(ascii_texts) == [slow_detector.find(t) for t in ascii_texts]
    assert sum(map(len, slow)) > 400  # the comparison covered many findings


def test_a_refused_candidate_does_not_hide_a_valid_one_inside_it() -> None:
    # The pattern first takes "1234 4111 1111 1111", which fails Luhn; the card after it stays.
    assert found("ref 1234 4111 1111 1111 1111") == [("card", "4111 1111 1111 1111")]


@pytest.mark.parametrize("nested", [False, True])
def test_the_report_keeps_the_first_records_of_each_type_and_counts_the_rest(nested) -> None:
    # Flat records take the whole-batch path, nested ones the record-by-record one.
    records = [{"t": f"mail u{i}@example.org"} for i in range(5000)]
    records[4000] = {"t": "ip 10.0.0.1 of u@example.org"}
    if nested:
        records = [{"m": [record]} for record in records]
    sanitizer = PiiSanitizer()
    assert sum(1 for _ in sanitizer.apply(records)) == 5000
    report = sanitizer.report()
    assert report["records_with_findings"] == 5000 and report["findings"] == 5001
    assert report["samples_per_type"] == 10
    assert list(report["by_record"]) == [*range(10), 4000]
    assert report["by_record"][4000] == {"email": 1, "ip": 1}
    assert report["by_type"] == {"email": 5000, "ip": 1}


def test_samples_option_bounds_the_sampled_records() -> None:
    sanitizer = PiiSanitizer(samples=0)
    list(sanitizer.apply([{"t": "10.0.0.1"}] * 50))
    assert sanitizer.report()["by_record"] == {}
    assert sanitizer.report()["records_with_findings"] == 50
    with pytest.raises(SanitizerOptionError, match="pii samples=-1 is not valid"):
        PiiSanitizer(samples=-1)


def test_by_field_stays_small_when_every_record_has_new_keys() -> None:
    records = [{f"key{i}": "10.0.0.1"} for i in range(150)]
    sanitizer = PiiSanitizer()
    list(sanitizer.apply(records))
    by_field = sanitizer.report()["by_field"]
    assert len(by_field) == 101
    assert by_field["(other fields)"] == {"ip": 50}
    assert by_field["key0"] == {"ip": 1} and "key100" not in by_field


@pytest.mark.parametrize("strategy", ["mask", "hash", "partial", "drop"])
def test_redact_text_redacts_a_plain_string_without_counting_it(strategy: str) -> None:
    sanitizer = PiiSanitizer(strategy=strategy, salt="s")
    text = '{"broken": "jane@example.org'
    redacted = sanitizer.redact_text(text)
    [record] = PiiSanitizer(strategy="hash" if strategy == "drop" else strategy, salt="s").apply(
        [{"broken": "jane@example.org"}]
    )
    expected = "[EMAIL]" if strategy == "drop" else record["broken"]
    assert redacted == '{"broken": "' + expected
    assert sanitizer.report()["records_in"] == 0 and sanitizer.report()["findings"] == 0
