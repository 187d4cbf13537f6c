"""The value classes every command builds at start-up (discovery's ``InstalledEntryPoint`` and
``Selection``, the dataset formats' ``Note``) behave as the ``@attrs.frozen`` classes they
were, without attrs building them at import."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import attrs
import pytest

from modelops_core.datasets.formats import Note
from modelops_core.plugins.discovery import Selection
from modelops_core.plugins.entry_points import InstalledEntryPoint


@attrs.frozen
class AttrsNote:
    field: str
    reason: str
    code: str


@attrs.frozen
class AttrsSelection:
    autoload: bool = True
    only: frozenset[str] | None = None
    disabled: frozenset[str] = frozenset()


@attrs.frozen
class AttrsInstalledEntryPoint:
    name: str
    value: str
    group: str
    distribution: str
    version: str
    requires: tuple[str, ...] = ()
    location: str = ""


CASES = [
    (Note, AttrsNote, ("messages[1].x", "dropped", "message_unrecognized_key"), {}),
    (Selection, AttrsSelection, (), {}),
    (Selection, AttrsSelection, (False,), {"only": frozenset({"a"})}),
    (InstalledEntryPoint, AttrsInstalledEntryPoint, ("p", "m:f", "modelops", "p", "1.0"), {}),
    (
        InstalledEntryPoint,
        AttrsInstalledEntryPoint,
        ("p", "m", "modelops", "p", "1.0"),
        {"requires": ("modelops-core>=0.1",), "location": "/x"},
    ),
]


@pytest.mark.parametrize(("ours", "twin", "args", "kwargs"), CASES)
def test_a_value_reads_and_prints_as_its_attrs_twin(ours, twin, args, kwargs):
    value, expected = ours(*args, **kwargs), twin(*args, **kwargs)
    assert repr(value) == repr(expected).replace(twin.__name__, ours.__name__, 1)
    assert [getattr(value, f.name) for f in attrs.fields(twin)] == list(attrs.astuple(expected))
    assert ours.__match_args__ == twin.__match_args__


@pytest.mark.parametrize(("ours", "twin", "args", "kwargs"), CASES)
def test_a_value_compares_hashes_copies_and_pickles_by_its_fields(ours, twin, args, kwargs):
    value = ours(*args, **kwargs)
    same = ours(*args, **kwargs)
    assert value == same and (value != same) is False and hash(value) == hash(same)
    assert len({value, same}) == 1
    assert value != twin(*args, **kwargs)  # another class is never equal, as with attrs
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.copy(value) == value and copy.deepcopy(value) == value


def test_values_differing_in_one_field_differ():
    assert Note("a", "b", "c") != Note("a", "b", "d")
    assert Selection(disabled=frozenset({"x"})) != Selection()
    assert InstalledEntryPoint("p", "m", "g", "p", "1") != InstalledEntryPoint(
        "p", "m", "g", "p", "2"
    )


def test_a_value_is_frozen():
    note = Note("a", "b", "c")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        note.field = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del note.code
    with pytest.raises(AttributeError):
        note.other = 1  # type: ignore[attr-defined]
    assert note == Note("a", "b", "c")


def test_a_runtime_builds_only_the_public_attrs_classes_of_discovery():
    """Of the plugin machinery a runtime needs and the dataset formats, attrs builds only
    PluginInfo and ComponentSpec (public: callers may attrs.evolve them)."""
    probe = (
        "import attr._make as m\nbuilt = []\ninit = m._ClassBuilder.__init__\n"
        "def spy(self, cls, *a, **k):\n    built.append(cls.__module__ + '.' + cls.__qualname__)\n"
        "    return init(self, cls, *a, **k)\n"
        "m._ClassBuilder.__init__ = spy\n"
        "from modelops_core.runtime import Runtime\nimport modelops_core.datasets.formats\n"
        "Runtime()\nmine = ('discovery', 'entry_points', 'components', 'frozen')\n"
        "print(sorted(b for b in built if b.split('.')[2] in mine or 'formats' in b))"
    )
    out = (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    assert out == (
        "['modelops_core.plugins.components.ComponentSpec', "
        "'modelops_core.plugins.discovery.PluginInfo']"
    )
