"""Third-party detectors join the built-in ones; the windowed precise passes stay exact."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from modelops_sanitizers import plugin
from modelops_sanitizers.detect import PiiDetector, hyperscan_available
from modelops_sanitizers.errors import SanitizerOptionError
from modelops_sanitizers.pii import PiiSanitizer

from modelops_core.plugins.kinds import Kind
from modelops_core.testing import make_runtime

EMPLOYEE_ID = re.compile(r"\bEMP-\d{6}\b")


class EmployeeIdDetector:
    """What a third-party package ships: ``find(text)`` -> (start, end, type) spans."""

    def find(self, text: str) -> list[tuple[int, int, str]]:
        return [(m.start(), m.end(), "employee_id") for m in EMPLOYEE_ID.finditer(text)]


@pytest.fixture
def detector_module(monkeypatch: pytest.MonkeyPatch) -> str:
    module = types.ModuleType("acme_pii_detect")
    module.EmployeeIdDetector = EmployeeIdDetector  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "acme_pii_detect", module)
    return "acme_pii_detect:EmployeeIdDetector"


def test_a_detector_object_adds_its_type_to_masks_and_report() -> None:
    sanitizer = PiiSanitizer(detectors=[EmployeeIdDetector()])
    out = list(sanitizer.apply([{"text": "EMP-123456 wrote to jane@example.org"}]))
    assert out == [{"text": "[EMPLOYEE_ID] wrote to [EMAIL]"}]
    report = sanitizer.report()
    assert report["by_type"] == {"email": 1, "employee_id": 1}
    assert "EMP-123456" not in repr(report)


def test_a_detector_is_named_by_module_and_attribute_as_in_the_config(
    detector_module: str, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path, [plugin])
    sanitizer = runtime.create(Kind.SANITIZER, "pii", detectors=[detector_module])
    assert list(sanitizer.apply([{"id": "EMP-000042"}])) == [{"id": "[EMPLOYEE_ID]"}]


def test_a_plain_function_is_a_detector_and_overlaps_go_to_the_longest() -> None:
    def whole_word_secret(text: str) -> list[tuple[int, int, str]]:
        start = text.find("jane@example.org")
        return [] if start < 0 else [(start, start + 4, "name")]

    sanitizer = PiiSanitizer(detectors=[whole_word_secret])
    assert list(sanitizer.apply([{"t": "mail jane@example.org"}])) == [{"t": "mail [EMAIL]"}]


def test_a_bad_detector_name_says_how_to_name_it() -> None:
    with pytest.raises(SanitizerOptionError, match="module:attr"):
        PiiSanitizer(detectors=["no_colon_here"])
    with pytest.raises(SanitizerOptionError, match="could not be loaded"):
        PiiSanitizer(detectors=["surely_not_installed_module:Thing"])
    with pytest.raises(SanitizerOptionError, match="not usable"):
        PiiSanitizer(detectors=[42])


WINDOW_TEXTS = [
    # an email whose local part is 64 characters, far from the next one
    "x " * 50 + "a" * 63 + "b@mail.example.com then " + "words " * 40 + "z@q.io end",
    # a long domain after the loose match, and a JWT among dots
    "send to ops@" + "sub." * 30 + "example.org now",
    "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl. and more eyJhbGciOi text",
    "two: a@b.co, c@d.co; not a@b..co",
]


@pytest.mark.skipif(not hyperscan_available(), reason="hyperscan wheel not installed")
@pytest.mark.parametrize("text", WINDOW_TEXTS)
def test_windowed_precise_passes_find_what_a_full_search_finds(text: str) -> None:
    assert PiiDetector(engine="hyperscan").find(text) == PiiDetector(engine="re").find(text)
    assert PiiDetector(engine="re").find(text)
