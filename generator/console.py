"""The process boundary: the console script, exit codes, and the one place errors become messages.

No click here. `katib-gitops validate PATH...` with no option, which is how the pre-commit
hook calls it on every commit, runs straight from `entry` and never imports click (about
25 ms of start-up, docs/performance.md). Every other command line, including any
option, goes through generator.cli, so its parsing, help and errors are click's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from generator.diagnostics import FindingsError, UsageError

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
        fail(f"internal error: {type(exc).__name__}: {exc}\n(please report it; set KATIB_GITOPS_TRACEBACK=1 for details)", EXIT_INTERNAL)
    sys.exit(code)


def plain_validate(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """The paths of `validate PATH...` with nothing for click to parse, else None.

    Plain means: at least one path, and no argument that click would read as an option
    ('-' alone is stdin, a path); `--` or any flag, and the options' environment variable,
    leave the call to click.
    """
    if len(argv) < 2 or argv[0] != "validate" or MAX_FILE_SIZE_ENV in environ:
        return None
    paths = tuple(argv[1:])
    if any(path.startswith("-") and path != "-" for path in paths):
        return None
    return paths


def main(argv: Sequence[str]) -> None:
    """The whole command line: the plain validate call directly, everything else through click."""
    paths = plain_validate(argv, os.environ)
    if paths is None:
        from generator.cli import main as click_main

        click_main(args=list(argv), prog_name="katib-gitops")
        return
    from generator.validate.command import validate_command

    run(lambda: validate_command(paths))


def entry() -> NoReturn:
    """The console script: `main`, then an exit that skips the interpreter's teardown.

    Freeing every module and object at exit costs ~25 ms per run, and the
    pre-commit hook pays it on every commit. Nothing is lost by skipping it: files are
    written and closed inside `with` blocks and locks are released before `main` returns;
    only the standard streams need a flush.
    """
    try:
        main(sys.argv[1:])
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # sys.exit("message"): Python prints it and exits 1
        say(code)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to say
            code = code or 141
    os._exit(code if isinstance(code, int) else 0)
