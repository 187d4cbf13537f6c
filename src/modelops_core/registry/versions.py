"""Model version strings: parsing, numeric ordering and the next auto-incremented version.

Accepted: dotted numbers of one to six parts (``1``, ``1.0``, ``2.1.0``) with an optional
semver pre-release (``-rc.1``) and build (``+build.7``). Numeric parts compare as numbers
(``1.10`` > ``1.9``), trailing zeros do not matter (``1.0`` == ``1.0.0``), a pre-release sorts
before its release, and build metadata is ignored when ordering (as in semver 2.0).
"""

from __future__ import annotations

import functools
import re
from functools import total_ordering

import attrs

from modelops_core.errors import ModelOpsError

# ASCII digits only: ``\d`` also matches the digits of other scripts (U+0661, ARABIC-INDIC
# DIGIT ONE, is int 1), which would be stored as written beside the "1" they equal. Both are
# used with fullmatch (``$`` would let a trailing newline through).
_VERSION = re.compile(
    r"v?(?P<release>[0-9]{1,9}(?:\.[0-9]{1,9}){0,5})"
    r"(?:-(?P<pre>[0-9A-Za-z-]{1,40}(?:\.[0-9A-Za-z-]{1,40}){0,9}))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]{1,40}(?:\.[0-9A-Za-z-]{1,40}){0,9}))?"
)
_PLAIN_RELEASE = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9}){0,5}")


_Order = tuple[tuple[int, ...], int, tuple[tuple[int, int, str], ...]]


class InvalidVersionError(ModelOpsError, ValueError):
    """A version string is not dotted numbers with an optional semver pre-release/build."""


@total_ordering
@attrs.frozen(eq=False)
class Version:
    """A parsed version; compare and sort them, ``str()`` gives back the text as written."""

    text: str
    release: tuple[int, ...]
    prerelease: tuple[int | str, ...] = ()
    build: str = ""
    # computed once: versions are compared often (sorting, the next auto-increment) and a
    # registration needs both keys of the same version
    _order: _Order = attrs.field(init=False, repr=False)
    _key: str = attrs.field(init=False, repr=False)
    _sort_key: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        normal = self.release
        while len(normal) > 1 and normal[-1] == 0:
            normal = normal[:-1]
        prerelease = self.prerelease
        setattr_ = object.__setattr__
        if prerelease:  # a pre-release sorts before its release
            pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in prerelease)
            setattr_(self, "_order", (normal, 0, pre))
            suffix = "-" + ".".join(map(str, prerelease))
        else:
            setattr_(self, "_order", (normal, 1, ()))
            suffix = ""
        setattr_(self, "_key", ".".join(map(str, normal)) + suffix)
        setattr_(self, "_sort_key", "".join([f"{part:09d}" for part in normal]) + suffix)

    def _precedence(self) -> _Order:
        return self._order

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._order == other._order

    def __hash__(self) -> int:
        return hash(self._order)

    def __lt__(self, other: Version) -> bool:
        return self._order < other._order

    def __str__(self) -> str:
        return self.text

    @property
    def key(self) -> str:
        """A canonical text equal for equal versions (``1.0`` and ``1.0.0`` give ``1``).

        Backends keep it under a unique constraint, so equal versions cannot both be stored.
        """
        return self._key

    @property
    def sort_key(self) -> str:
        """A text equal for equal versions whose text order is the version order of releases.

        Each number of the release (trailing zeros dropped) as nine digits, so ``1.9`` gives
        ``000000001000000009`` and ``1.10`` the greater ``000000001000000010``; a pre-release
        appends ``-`` and its parts, which tells pre-releases apart (their order among the
        keys is not the version order). Lets a database find the highest release through an
        index: the highest key without a ``-``.
        """
        return self._sort_key

    def next(self) -> Version:
        """The version after this release: its last number plus one (``1.2`` -> ``1.3``)."""
        release = (*self.release[:-1], self.release[-1] + 1)
        return parse_version(".".join(str(part) for part in release))


def parse_version(text: str) -> Version:
    """Parse ``text``; raise :class:`InvalidVersionError` saying what a valid version looks like."""
    if isinstance(text, str):
        return _parse_text(text)
    raise InvalidVersionError(
        f"A version must be a string such as '1.0' or '2.1.0', got {type(text).__name__} {text!r}."
    )


@functools.lru_cache(maxsize=4096)  # Version is immutable: sharing parsed values is safe
def _parse_text(text: str) -> Version:
    stripped = text.strip()
    if _PLAIN_RELEASE.fullmatch(stripped):  # "1", "2.1.0": most versions, parsed in one step
        return Version(stripped, tuple(map(int, stripped.split("."))))
    match = _VERSION.fullmatch(stripped)
    if match is None:
        raise InvalidVersionError(
            f"Invalid version {text!r}: use dotted numbers (digits 0-9) such as '1', '1.0' or "
            "'2.1.0', optionally with a pre-release ('1.0.0-rc.1') or build ('1.0.0+build.7'); "
            "or leave the version out to auto-increment."
        )
    release = tuple(int(part) for part in match["release"].split("."))
    prerelease: tuple[int | str, ...] = ()
    if match["pre"]:
        prerelease = tuple(
            int(part) if part.isdigit() else part for part in match["pre"].split(".")
        )
    return Version(stripped, release, prerelease, match["build"] or "")


def sort_versions(texts: list[str]) -> list[str]:
    """``texts`` in ascending version order."""
    return sorted(texts, key=parse_version)


def next_version(existing: list[str]) -> str:
    """The auto-incremented version after ``existing``: ``"1"`` first, then highest release + 1."""
    releases = [v for v in (parse_version(t) for t in existing) if not v.prerelease]
    if not releases:
        prereleases = [parse_version(t) for t in existing]
        if not prereleases:
            return "1"
        highest = max(prereleases)
        return ".".join(str(part) for part in highest.release)
    # releases have no pre-release part: their number tuples order them (and fast)
    return str(max(releases, key=_release_of).next())


def _release_of(version: Version) -> tuple[int, ...]:
    return version.release
