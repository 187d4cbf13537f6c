"""Pausing the cyclic garbage collector while records stream or modules load.

Reading or sanitizing a file allocates millions of small dicts, lists and strings that never
form cycles; each allocation counts towards the collector's next pass, which then walks every
live container. Paused, that walk is skipped; the collector runs as before once the block ends
(and it is left alone when it was already off). Importing modules is the same story on a
smaller scale: the classes, functions and compiled patterns an import makes live as long as the
process, and the young collections that walk them while they load (two dozen in
``DatasetSanitizer().sanitize(Dataset.from_jsonl(path))``) find nothing to free.

Records a block keeps (a dataset read into memory) would still be walked after it: they are the
youngest objects then, so the next young collection walks them all, and the one after it again
(about 7 ms each for 30 MB of chat records). ``GcPaused(promote=True)`` moves them, with every
other object the collector tracks, to its oldest generation as the block ends: only a full
collection walks them, as it walks every long-lived object.
"""

from __future__ import annotations

import gc
import importlib
import sys
from types import ModuleType


class GcPaused:
    """The garbage collector paused (if it was running) for the duration of a block.

    :param promote: when the block ends, move every tracked object to the collector's oldest
        generation (``gc.freeze()`` then ``gc.unfreeze()``: two list splices, no walk), so the
        records the block made are not walked by the next two young collections. Skipped when
        objects are frozen already (``gc.get_freeze_count()``): unfreezing would release the
        caller's frozen objects, e.g. a server's before it forks.
    """

    def __init__(self, *, promote: bool = False) -> None:
        self.promote = promote
        self.enabled = False

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            if self.promote and gc.get_freeze_count() == 0:
                promote_tracked_objects()
            gc.enable()


def promote_tracked_objects() -> None:
    """Move every object the collector tracks to its oldest generation (no walk: the frozen
    list is spliced back onto the oldest one). The caller checks that nothing was frozen."""
    gc.freeze()
    gc.unfreeze()


def import_module(name: str) -> ModuleType:
    """:func:`importlib.import_module`, with the collector paused (:class:`GcPaused`, promote)
    while a module not loaded yet loads: what an import makes lives as long as the process."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    with GcPaused(promote=True):
        return importlib.import_module(name)
