"""The entry points of one group, read from the ``.dist-info`` folders on ``sys.path`` directly.

``importlib.metadata.entry_points()`` imports the email package and parses the metadata of
every installed distribution with it; a runtime needs the ``[modelops]`` lines of the few
distributions that have them (docs/decisions/0002-discovery-reads-dist-info.md). The scan keeps
importlib.metadata's rules: ``sys.path`` in order, each directory's ``*.dist-info`` and
``*.egg-info`` folders, and the first distribution of a normalized name wins (a later copy is
ignored, entry points and all).

:func:`scan` handles directories only. When ``sys.path`` holds something else (a zip or egg
file, an ``.egg`` directory, a non-string entry) or a finder on ``sys.meta_path`` other than
the standard ``PathFinder`` can find distributions, it returns None and the caller asks
importlib.metadata for everything, so no distribution is ever missed.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from modelops_core.errors import PluginLoadError
from modelops_core.gc_pause import import_module
from modelops_core.plugins.frozen import FrozenValue

#: ``module``, ``module:attr.path`` and either followed by ``[extras]``, as EntryPoint.pattern.
_VALUE = r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$"
#: The METADATA headers a plugin's description needs (lower case: header names ignore case).
_WANTED_HEADERS = ("name", "version", "requires-dist")


class InstalledEntryPoint(FrozenValue):
    """An entry point with what its distribution's metadata says, found without importing it.

    Offers what the loader uses of :class:`importlib.metadata.EntryPoint` (``name``,
    ``value``, ``group``, ``module``, ``attr``, ``extras``, ``load()``) plus the distribution's
    ``Name``, ``Version`` and ``Requires-Dist`` and the folder they were read from. A frozen
    value (:class:`~modelops_core.plugins.frozen.FrozenValue`: built by every runtime).
    """

    __slots__ = ("name", "value", "group", "distribution", "version", "requires", "location")  # noqa: RUF023 (the fields, in order)
    __match_args__ = ("name", "value", "group", "distribution", "version", "requires", "location")

    name: str
    value: str
    group: str
    distribution: str
    version: str
    requires: tuple[str, ...]
    location: str

    def __init__(
        self,
        name: str,
        value: str,
        group: str,
        distribution: str,
        version: str,
        requires: tuple[str, ...] = (),
        location: str = "",
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "distribution", distribution)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "requires", requires)
        object.__setattr__(self, "location", location)

    @property
    def module(self) -> str:
        """The module the value names (``pkg.mod`` of ``pkg.mod:attr``)."""
        return self._parts()[0]

    @property
    def attr(self) -> str | None:
        """The attribute path after the colon, or None when the value names a module."""
        return self._parts()[1]

    @property
    def extras(self) -> list[str]:
        """The extras in brackets after the value (``[cli]`` -> ``['cli']``)."""
        return re.findall(r"\w+", self._parts()[2] or "")

    def load(self) -> Any:
        """Import the module, then get the attribute path from it, as EntryPoint.load does."""
        module_name, attr, _ = self._parts()
        module = import_module(module_name)
        return functools.reduce(getattr, filter(None, (attr or "").split(".")), module)

    def _parts(self) -> tuple[str, str | None, str | None]:
        match = re.match(_VALUE, self.value)
        if match is None:
            raise ValueError(
                f"The entry point {self.name} = {self.value!r} in {self.location} is not "
                "'module' or 'module:attribute'; fix it in the distribution's pyproject.toml."
            )
        return match["module"], match["attr"], match["extras"]


def scan(group: str, path: Sequence[object] | None = None) -> list[InstalledEntryPoint] | None:
    """The entry points of ``group`` on ``path`` (default ``sys.path``), in path order.

    None when ``path`` or ``sys.meta_path`` holds something only importlib.metadata reads
    (see the module docstring); nothing is imported either way.
    """
    if not _only_the_standard_path_finder():
        return None
    seen: set[str] = set()
    found: list[InstalledEntryPoint] = []
    for entry in sys.path if path is None else path:
        if not isinstance(entry, str) or os.path.basename(entry).lower().endswith(".egg"):
            return None
        try:
            children = os.scandir(entry or ".")
        except NotADirectoryError:
            return None  # a zip or egg file (or a path inside one)
        except OSError:
            continue  # missing or unreadable: importlib.metadata finds nothing there either
        with children:
            for child in children:
                lowered = child.name.lower()
                if not lowered.endswith((".dist-info", ".egg-info")):
                    continue
                stem = child.name.rpartition(".")[0]
                normalized = _normalize(stem.partition("-")[0])
                if normalized in seen:
                    continue
                seen.add(normalized)
                found += _folder_entry_points(child.path, group, stem)
    return found


def _only_the_standard_path_finder() -> bool:
    """True unless a finder besides PathFinder would add distributions to importlib.metadata's."""
    from importlib.machinery import PathFinder

    return all(
        finder is PathFinder
        or getattr(finder, "find_distributions", None) is None
        or _reads_the_path_alike(finder)
        for finder in sys.meta_path
    )


def _reads_the_path_alike(finder: object) -> bool:
    """The ``importlib_metadata`` backport's finder (installed by importing it, as MLflow
    does): it reads the same ``.dist-info`` folders on ``sys.path`` as PathFinder."""
    kind = type(finder) if not isinstance(finder, type) else finder
    return kind.__module__ == "importlib_metadata" and kind.__qualname__ == "MetadataPathFinder"


def _normalize(name: str) -> str:
    """``Foo.Bar-baz`` -> ``foo_bar_baz``: how importlib.metadata tells distributions apart."""
    normalized = name.lower().replace("-", "_").replace(".", "_")
    while "__" in normalized:  # runs of separators count as one, as in re.sub(r"[-_.]+", "_")
        normalized = normalized.replace("__", "_")
    return normalized


def _folder_entry_points(folder: str, group: str, stem: str) -> list[InstalledEntryPoint]:
    """The ``group`` entry points of one ``.dist-info``/``.egg-info`` folder (most have none)."""
    where = os.path.join(folder, "entry_points.txt")
    try:
        with open(where, "rb") as file:
            text = file.read().decode(errors="replace")
    except OSError:
        return []
    if f"[{group}]" not in text:  # every section header of the group contains it
        return []
    pairs = _section_pairs(text, group, where, stem)
    if not pairs:
        return []
    headers = _headers(folder)
    # A METADATA without Name or Version still names the distribution in its folder name.
    folder_name, _, folder_version = stem.partition("-")
    requires = headers.get("requires-dist") or list(_requires_txt(folder))
    return [
        InstalledEntryPoint(
            name=name,
            value=value,
            group=group,
            distribution=next(iter(headers.get("name", ())), folder_name),
            version=next(iter(headers.get("version", ())), folder_version),
            requires=tuple(requires),
            location=folder,
        )
        for name, value in pairs
    ]


def _section_pairs(text: str, group: str, where: str, stem: str) -> list[tuple[str, str]]:
    """The ``name = value`` lines of the ``[group]`` section, as importlib.metadata reads them.

    Blank lines and ``#`` comments are skipped; other sections are not looked at.
    """
    pairs: list[tuple[str, str]] = []
    section: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section != group:
            continue
        name, equals, value = line.partition("=")
        if not equals:
            distribution = stem.partition("-")[0]
            raise PluginLoadError(
                f"{where}, line {number}: {line!r} is not 'name = module:attribute'. "
                f"Reinstall {distribution} (pip install --force-reinstall {distribution}) "
                "or uninstall it.",
                plugin=line,
                distribution=distribution,
            )
        pairs.append((name.strip(), value.strip()))
    return pairs


def _headers(folder: str) -> dict[str, list[str]]:
    """The wanted headers of METADATA (or PKG-INFO), read up to the first blank line.

    No email parser: the headers are ``Key: value`` lines, a line starting with a space or a
    tab continues the previous one, and the first line that is neither ends them (as the email
    parser treats it, the rest being the body).
    """
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, filename), encoding="utf-8", errors="replace") as file:
                headers = _header_lines(file)
        except OSError:
            continue
        if headers:
            return headers
    return {}


def _header_lines(lines: Iterable[str]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        if line == "\n":
            break
        if line[0] in " \t":
            if current:  # a folded value continues the last header kept
                current[-1] = f"{current[-1]} {line.strip()}"
            continue
        key, colon, value = line.partition(":")
        if not colon or not key or key != key.strip():
            break
        key = key.lower()
        current = headers.setdefault(key, []) if key in _WANTED_HEADERS else None
        if current is not None:
            current.append(value.strip())
    return headers


def _requires_txt(folder: str) -> Iterator[str]:
    """``requires.txt`` of an egg-info folder as ``Requires-Dist`` lines (sections as markers).

    ``[extra:marker]`` sections become ``; (marker) and extra == "extra"``, exactly as
    importlib.metadata converts them.
    """
    try:
        with open(os.path.join(folder, "requires.txt"), encoding="utf-8") as file:
            text = file.read()
    except OSError:
        return
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        extra, _, markers = section.partition(":")
        if extra and markers:
            markers = f"({markers})"
        conditions = [part for part in (markers, extra and f'extra == "{extra}"') if part]
        space = " " * ("@" in line)  # PEP 508 wants a space between a URL and its marker
        yield line + space + ("; " + " and ".join(conditions) if conditions else "")
