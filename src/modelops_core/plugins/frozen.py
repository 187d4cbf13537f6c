"""FrozenValue: the base of the few frozen value classes every command builds at start-up.

An ``@attrs.frozen`` class costs about 3.5 M instructions to build (attrs writes and compiles
its ``__init__``, ``__eq__``, ``__hash__`` and ``__repr__``), 1-2 ms of every process for
each one. A value class that every command imports (discovery's, the dataset formats') takes
this base instead: the same behaviour as attrs' (keyword or positional construction by the
subclass's own ``__init__``, equality and hashing by field values and class, the attrs-style
``repr``, :class:`attrs.exceptions.FrozenInstanceError` on assignment, pickling) with methods
written once here. Public classes keep attrs (callers may ``attrs.evolve`` them).
"""

from __future__ import annotations

from typing import Any


class FrozenValue:
    """A frozen value whose fields are its ``__slots__``, in order.

    A subclass declares ``__slots__`` and an ``__init__`` that sets each field with
    ``object.__setattr__``.
    """

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((self.__class__.__qualname__, *self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{self.__class__.__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        from attrs.exceptions import FrozenInstanceError  # only on a mistake: attrs is heavy

        raise FrozenInstanceError()

    def __delattr__(self, name: str) -> None:
        from attrs.exceptions import FrozenInstanceError

        raise FrozenInstanceError()

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self._values())
