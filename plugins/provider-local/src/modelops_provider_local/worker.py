"""The background worker: ``python -m modelops_provider_local.worker JOB_DIRECTORY``.

Started detached (its own session) by :meth:`LocalProvider.start`, so the job carries on when
the process that started it ends. SIGTERM (sent by ``cancel``) asks it to stop at the next
check between epochs (or every 64 batches); the job then ends ``cancelled``.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m modelops_provider_local.worker JOB_DIRECTORY", file=sys.stderr)
        return 2
    directory = Path(arguments[0])
    stop_requested = False

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, on_terminate)
    from modelops_provider_local.jobstore import JobFiles
    from modelops_provider_local.training import run_job

    JobFiles(directory).update_status(worker_pid=os.getpid())
    run_job(directory, should_stop=lambda: stop_requested)
    return 0


if __name__ == "__main__":
    sys.exit(main())
