"""Chat-like batches go through whole-batch passes: the same records and the same report as the
record-by-record walk, for every strategy and engine, on hostile shapes."""

from __future__ import annotations

import random
import types
from collections.abc import Mapping
from typing import Any

import pytest
from modelops_sanitizers.detect import hyperscan_available
from modelops_sanitizers.pii import BATCH_RECORDS, PiiSanitizer

ENGINES = ["re", pytest.param("hyperscan", marks=pytest.mark.skipif(
    not hyperscan_available(), reason="the hyperscan wheel is not installed"))]  # fmt: skip
VALUES = [
    "mail jane@example.org now",
    "card 4111 1111 1111 1111 and 4111 1111 1111 1112",
    "host 10.0.0.1 or 2001:db8::8a2e:370:7334",
    "ssn 123-45-6789, call (415) 555-2671",
    "iban GB82 WEST 1234 5698 7654 32",
    "key AKIAIOSFODNN7EXAMPLE",
    "nothing to see here",
    "",
    "a NUL \0 then jane@example.org",
    "unicode café ☕ jane@example.org ünd 10.0.0.2",
]


def chat_record(rng: random.Random) -> dict[str, Any]:
    messages: list[Any] = [
        {"role": rng.choice(["system", "user", "assistant"]), "content": rng.choice(VALUES)}
        for _ in range(rng.randint(0, 4))
    ]
    if rng.random() < 0.2:
        messages.append({"role": "assistant", "content": rng.choice(VALUES), "weight": 1})
    if rng.random() < 0.1:
        messages.append(rng.choice(VALUES))  # a bare string item
    if rng.random() < 0.1:
        messages.append(None)
    record: dict[str, Any] = {"messages": messages}
    if rng.random() < 0.3:
        record["id"] = rng.choice([7, 7.5, True, None, rng.choice(VALUES)])
    if rng.random() < 0.2:
        record["tags"] = [rng.choice(VALUES), 3, None]
    return record


def walked(records: list[dict[str, Any]]) -> list[Mapping[str, Any]]:
    """The records as read-only mappings: not dicts, so they go record by record."""
    return [types.MappingProxyType(record) for record in records]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("strategy", ["mask", "hash", "partial", "drop"])
def test_chat_batches_give_the_records_and_report_of_the_record_by_record_walk(
    engine: str, strategy: str
) -> None:
    rng = random.Random(15)
    records = [chat_record(rng) for _ in range(BATCH_RECORDS + 300)]  # two batches
    before = repr(records)
    fast = PiiSanitizer(strategy=strategy, salt="pepper", engine=engine)
    slow = PiiSanitizer(strategy=strategy, salt="pepper", engine=engine)

    assert list(fast.apply(records)) == list(slow.apply(walked(records)))
    assert fast.report() == slow.report()
    assert repr(records) == before  # the input is never modified


def test_a_chat_record_is_redacted_in_every_turn_and_its_containers_are_new() -> None:
    record = {
        "messages": [
            {"role": "user", "content": "I am jane@example.org"},
            {"role": "assistant", "content": "noted", "weight": 0},
        ],
        "id": 3,
    }
    sanitizer = PiiSanitizer()
    [output] = sanitizer.apply([record])
    assert output == {
        "messages": [
            {"role": "user", "content": "I am [EMAIL]"},
            {"role": "assistant", "content": "noted", "weight": 0},
        ],
        "id": 3,
    }
    assert output["messages"] is not record["messages"]
    assert output["messages"][1] is not record["messages"][1]
    assert record["messages"][0]["content"] == "I am jane@example.org"
    report = sanitizer.report()
    assert report["by_field"] == {"messages[].content": {"email": 1}}
    assert report["by_record"] == {0: {"email": 1}}


def test_deeper_records_in_a_batch_still_go_record_by_record() -> None:
    records = [
        {"messages": [{"role": "user", "content": "mail jane@example.org"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "ip 10.0.0.1"}]}]},
    ]
    assert list(PiiSanitizer().apply(records)) == [
        {"messages": [{"role": "user", "content": "mail [EMAIL]"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "ip [IP]"}]}]},
    ]


def plain_chat_record(rng: random.Random) -> dict[str, Any]:
    """A record of the shape every Dataset of chat holds: {"messages": [message dicts]}."""
    messages = []
    for _ in range(rng.randint(0, 4)):
        message: dict[str, Any] = {
            "role": rng.choice(["system", "user", "assistant", "tool"]),
            "content": rng.choice(VALUES),
        }
        if rng.random() < 0.2:
            message["weight"] = rng.choice([0, 1])
        if rng.random() < 0.1:
            message["name"] = rng.choice(["jane@example.org", "bob", "10.0.0.9"])
        messages.append(message)
    return {"messages": messages}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("strategy", ["mask", "hash", "partial", "drop"])
def test_plain_chat_batches_copied_or_in_place_give_the_record_by_record_results(
    engine: str, strategy: str
) -> None:
    """The whole-batch path of plain chat records (which skips the role names) gives the
    records and the report of the walk, and apply_owned the same as apply."""
    import copy

    rng = random.Random(16)
    records = [plain_chat_record(rng) for _ in range(BATCH_RECORDS + 300)]  # two batches
    before = repr(records)
    fast = PiiSanitizer(strategy=strategy, salt="pepper", engine=engine)
    slow = PiiSanitizer(strategy=strategy, salt="pepper", engine=engine)
    owned = PiiSanitizer(strategy=strategy, salt="pepper", engine=engine)
    expected = list(slow.apply(walked(records)))
    outputs = list(fast.apply(records))
    assert outputs == expected
    assert fast.report() == slow.report() and slow.report()["findings"] > 1000
    assert repr(records) == before  # the input is never modified
    kept = {id(record) for record in records}
    kept |= {id(message) for record in records for message in record["messages"]}
    for record in outputs:  # new records, lists and message dicts
        assert id(record) not in kept
        assert all(id(message) not in kept for message in record["messages"])
    mine = copy.deepcopy(records)
    assert list(owned.apply_owned(mine)) == expected
    assert owned.report() == slow.report()


def test_role_names_are_scanned_when_a_detector_of_ones_own_is_configured() -> None:
    def roles(text: str) -> list[tuple[int, int, str]]:
        return [(0, len(text), "role")] if text == "user" else []

    record = {"messages": [{"role": "user", "content": "mail jane@example.org"}]}
    [output] = PiiSanitizer(detectors=[roles]).apply([record])
    assert output == {"messages": [{"role": "[ROLE]", "content": "mail [EMAIL]"}]}
    [output] = PiiSanitizer().apply([record])
    assert output == {"messages": [{"role": "user", "content": "mail [EMAIL]"}]}
