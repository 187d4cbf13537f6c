"""Pausing the cyclic garbage collector while records stream.

Reading or sanitizing a file allocates millions of small dicts, lists and strings that never
form cycles; each allocation counts towards the collector's next pass, which then walks every
live container. Paused, that walk is skipped; the collector runs as before once the block ends
(and it is left alone when it was already off).
"""

from __future__ import annotations

import gc


class GcPaused:
    """The garbage collector paused (if it was running) for the duration of a block."""

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            gc.enable()
