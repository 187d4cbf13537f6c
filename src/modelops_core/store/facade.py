"""The lifecycle every facade shares: open on first use, close once, refuse use after close.

:class:`~modelops_core.registry.model_registry.ModelRegistry`,
:class:`~modelops_core.tracking.tracker.ExperimentTracker`,
:class:`~modelops_core.features.store.FeatureStore`, the fine-tuning
:class:`~modelops_core.finetune.job_tracking.JobStore` and the served optimized model
(:class:`~modelops_core.optimize.stack.ServedModel`) inherit it:

- a component the facade builds (a backend, an artifact store, a tracker …) is recorded by
  :meth:`Facade._open` and closed with the facade; one passed in by the caller is used as is
  and never closed here;
- :meth:`Facade.close` closes what it opened in reverse order of opening, tries every one even
  when one raises (then raises the first error, the others added as notes), and is idempotent;
- ``with facade:`` closes it at the end of the block;
- after :meth:`Facade.close`, opening anything raises :class:`FacadeClosedError` naming the
  facade and what to do, instead of quietly opening a new connection nobody closes.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from modelops_core.store.contract import StorageError

T = TypeVar("T")


class FacadeClosedError(StorageError):
    """A facade (registry, tracker, feature store …) was used after :meth:`Facade.close`."""


class Facade:
    """Open components lazily, close them once in reverse order, and work as a context manager.

    A subclass lists the attributes that hold its components in :attr:`_component_attributes`
    (they are set to None on close, so their fast path ``if self._x is None`` reaches
    :meth:`_open`, which refuses once closed) and builds each on first use with
    ``self._open("_x", build)``.
    """

    #: The attributes holding the facade's components (given or opened); None after close.
    _component_attributes: ClassVar[tuple[str, ...]] = ()
    #: The error raised on use after close (a subclass may add its own family to it).
    _closed_error: ClassVar[type[FacadeClosedError]] = FacadeClosedError
    #: How to get a working one again, said by that error (default: create a new one).
    _reopen_hint: ClassVar[str] = ""

    def __init__(self) -> None:
        self._opened: list[Any] = []  # components this facade built, in order of opening
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (the facade cannot be used again)."""
        return self._closed

    def _open(self, attribute: str, build: Callable[[], T]) -> T:
        """``build()`` stored in ``attribute`` and closed with the facade.

        :raises FacadeClosedError: the facade was closed.
        """
        self._check_open(f"open its {attribute.strip('_')}")
        component = build()
        self._opened.append(component)
        setattr(self, attribute, component)
        return component

    def _adopt(self, component: Any) -> None:
        """Close ``component`` (built by someone else for this facade) with the facade."""
        self._opened.append(component)

    def _check_open(self, action: str) -> None:
        """Raise :class:`FacadeClosedError` when the facade was closed; ``action`` is what
        the caller wanted (``"open its backend"``, ``"predict"`` …), named in the message."""
        if self._closed:
            name = type(self).__name__
            hint = self._reopen_hint or (
                f"Create a new {name} for more work, or do the work inside "
                f"`with {name}(...) as ...:`."
            )
            raise self._closed_error(
                f"This {name} was closed (by close() or the end of its `with` block), so it "
                f"cannot {action}. {hint}"
            )

    def close(self) -> None:
        """Close what this facade opened, newest first; idempotent.

        Every component is closed even when one's ``close()`` raises; the first error is then
        raised (with the others as notes), and the facade is closed all the same.
        """
        if self._closed:
            return
        self._closed = True
        for attribute in self._component_attributes:
            setattr(self, attribute, None)
        opened, self._opened = self._opened, []
        first: BaseException | None = None
        for component in reversed(opened):
            close = getattr(component, "close", None)
            if not callable(close):
                continue
            try:
                close()
            except BaseException as error:  # every component is closed before raising
                if first is None:
                    first = error
                else:
                    from modelops_core.config import mask_urls_in

                    first.add_note(
                        mask_urls_in(
                            f"Closing {component!r} of this {type(self).__name__} also "
                            f"failed: {type(error).__name__}: {error}"
                        )
                    )
        if first is not None:
            raise first

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
