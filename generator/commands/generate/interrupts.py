"""Ctrl-C during generate's write phase: it stops the run until the swap, and is only noted after it.

Until the new tree is swapped in, an interrupt (SIGINT) aborts the run as usual: the
staging tree is removed and the output folder is unchanged. From the swap on, the new
output is in place and what is left (removing the old tree, the repeat-run record,
releasing the lock) takes milliseconds: an interrupt there would only leave the old tree
beside the output and report a failure for a run that succeeded. So after `commit` the
interrupt is noted, the run finishes, and it reports what is in place.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class AfterCommit:
    """A context manager: SIGINT as before until `commit()`, then only recorded in `interrupted`.

    Only in the main thread, where Python runs signal handlers; elsewhere it does nothing.
    """

    def __init__(self) -> None:
        self.committed = False
        self.interrupted = False
        self._saved: Any = None
        self._installed = False

    def __enter__(self) -> AfterCommit:
        if threading.current_thread() is threading.main_thread():
            saved = signal.getsignal(signal.SIGINT)
            if saved is not None:  # None: a handler installed from C, which we could not put back
                self._saved = saved
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def commit(self) -> None:
        """From now on the run completes: an interrupt is only noted."""
        self.committed = True

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.committed:
            self.interrupted = True
        elif callable(self._saved):
            self._saved(signum, frame)
        elif self._saved == signal.SIG_DFL:
            raise KeyboardInterrupt
        # SIG_IGN: ignored, as before

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._saved)
            self._installed = False
