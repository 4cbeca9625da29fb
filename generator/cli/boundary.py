"""The one error boundary and the exit codes: findings exit 1, usage and I/O 2, a bug 3, never a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

from katib_gitops.core.diagnostics import FindingsError, UsageError

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
# click reads it for --max-file-size; a plain call with it set goes through click too.
MAX_FILE_SIZE_ENV = "KATIB_GITOPS_MAX_FILE_SIZE"


def say(message: str) -> None:
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()


def fail(message: str, code: int) -> NoReturn:
    say(f"katib-gitops: {message}")
    sys.exit(code)


def run(action: Callable[[], int]) -> NoReturn:
    """The one error boundary: findings exit 1, usage and I/O exit 2, never a traceback."""
    try:
        code = action()
    except FindingsError as exc:
        for diagnostic in exc.diagnostics:
            say(diagnostic.format())
        fail(f"{len(exc.diagnostics)} problem(s) found", EXIT_FINDINGS)
    except UsageError as exc:
        fail(f"error: {exc}", EXIT_USAGE)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as a SIGPIPE would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except Exception as exc:  # the last line of defence
        if "--traceback" in sys.argv or os.environ.get("KATIB_GITOPS_TRACEBACK"):
            raise
        fail(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "(please report it; set KATIB_GITOPS_TRACEBACK=1 for details)",
            EXIT_INTERNAL,
        )
    sys.exit(code)
