"""``packages_imported_by`` lists what a fresh interpreter loads for some code."""

from __future__ import annotations

from modelops_core.testing import packages_imported_by


def test_the_imported_package_is_listed_by_its_top_level_name() -> None:
    imported = packages_imported_by("import xml.dom.minidom")
    assert "xml" in imported and "xml.dom" not in imported


def test_a_package_the_code_does_not_import_is_not_listed() -> None:
    assert "tkinter" not in packages_imported_by("import json")


def test_what_the_code_prints_does_not_confuse_it() -> None:
    assert "json" in packages_imported_by("import json; print('not json')")
