"""The one error boundary and the exit codes: findings exit 1, usage and I/O 2, a bug 3, never a traceback.

Three pieces, all here:

- `run` wraps every command's action (and, from the console script, click's parsing too);
- `standard_streams` makes the standard streams safe before anything is read or written:
  a closed one is opened on /dev/null, so no file opened later takes its number, and
  reading or writing it is then an I/O error (exit 2), as is a write to a full device;
- `script` is the console script's whole life: whatever ends it (an exit code, an
  exception, a Ctrl-C before, during or after parsing, an error while reporting an error),
  the result is one of the documented exit codes, with at most a one-line message.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from katib_gitops.core.diagnostics import FindingsError, UsageError

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader went away


class StreamError(Exception):
    """Standard output cannot be written: closed, a full device, an I/O error (exit 2)."""


# Set by the console script's SIGINT handler: once a Ctrl-C came, whatever exception ends the
# run is its consequence (a library may wrap the KeyboardInterrupt, as pyo3 does in a panic).
_INTERRUPTED: list[bool] = []


def say(message: str) -> None:
    """One line to standard error, best effort: when even that fails, the exit code still tells."""
    with contextlib.suppress(Exception):  # a closed or full stderr: nothing left to tell it with
        sys.stderr.write(f"{message}\n")
        sys.stderr.flush()


def fail(message: str, code: int) -> NoReturn:
    say(f"katib-gitops: {message}")
    sys.exit(code)


def run(action: Callable[[], object]) -> NoReturn:
    """The one error boundary: findings exit 1, usage and I/O exit 2, never a traceback."""
    sys.exit(outcome(action))


def outcome(action: Callable[[], object]) -> int:
    """Run `action` and return its exit code; every exception is reported here and becomes a code.

    `action` returns a code (None: 0) or exits with one. An error while reporting an error
    (stderr closed, a second Ctrl-C) still gives the code the first error called for.
    """
    try:
        code = exit_code(action())
        sys.stdout.flush()  # here, so that a full device or a closed stdout is reported like any error
    except SystemExit as exc:
        return exit_code(exc.code)
    except BaseException as exc:  # the boundary: each kind gets its code in `report`
        try:
            return report(exc)
        except BaseException:  # a failure, or a Ctrl-C, while reporting: keep the first code
            return code_for(exc)
    return code


def exit_code(value: object) -> int:
    """What `sys.exit(value)` exits with: None is 0, a number is itself, a message is said and exits 1."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    say(str(value))
    return 1


def code_for(exc: BaseException) -> int:
    """The exit code an exception calls for, without saying anything."""
    if isinstance(exc, SystemExit):
        return exit_code(exc.code) if isinstance(exc.code, int | None) else 1
    if _INTERRUPTED and not isinstance(exc, FindingsError | UsageError):
        return EXIT_INTERRUPTED
    if isinstance(exc, FindingsError):
        return EXIT_FINDINGS
    if isinstance(exc, UsageError | StreamError) or _is_click_error(exc):
        return EXIT_USAGE
    if _is_interrupt(exc):
        return EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        return EXIT_BROKEN_PIPE
    return EXIT_INTERNAL


def report(exc: BaseException) -> int:
    """Say what went wrong, in one line per problem, and return the exit code."""
    if isinstance(exc, FindingsError):
        for diagnostic in exc.diagnostics:
            say(diagnostic.format())
        say(f"katib-gitops: {len(exc.diagnostics)} problem(s) found")
    elif isinstance(exc, UsageError | StreamError):
        say(f"katib-gitops: error: {exc}")
    elif code_for(exc) == EXIT_INTERRUPTED:
        say("katib-gitops: interrupted")
    elif isinstance(exc, BrokenPipeError):
        # The reader went away (e.g. `| head`): stop quietly, as a SIGPIPE would, and let
        # the last flush write into nothing.
        _discard_stdout()
    elif _is_click_error(exc):
        exc.show()  # type: ignore[attr-defined]  # click's usage message, with the command's usage line
    elif "--traceback" in sys.argv or os.environ.get("KATIB_GITOPS_TRACEBACK"):
        import traceback

        traceback.print_exception(exc)
    else:
        say(
            f"katib-gitops: internal error: {type(exc).__name__}: {exc}\n"
            "(please report it; set KATIB_GITOPS_TRACEBACK=1 for details)"
        )
    return code_for(exc)


def _is_click_error(exc: BaseException) -> bool:
    """click's own usage errors (a bad option, a missing argument), when click is loaded at all."""
    click = sys.modules.get("click")
    return click is not None and isinstance(exc, click.ClickException)


def _is_interrupt(exc: BaseException) -> bool:
    """A Ctrl-C: KeyboardInterrupt, or click's Abort, which is what click makes of one during its parsing."""
    click = sys.modules.get("click")
    return isinstance(exc, KeyboardInterrupt) or (click is not None and isinstance(exc, click.exceptions.Abort))


def _on_interrupt(_signum: int, _frame: object) -> None:
    _INTERRUPTED.append(True)
    raise KeyboardInterrupt


RESEND_DELAY = 0.02  # seconds: the callback and this hook are over by then (if not, the hook sends it again)


def _on_unraisable(unraisable: Any) -> None:
    """A Ctrl-C that landed where Python cannot raise it (a weakref callback during garbage collection, such
    as importlib's module-lock cleanup, or a finalizer) would be printed as "Exception ignored in", with a
    traceback, and then lost. It is sent again instead, shortly after from a helper thread, so that the handler
    runs once the callback is over and interrupts the run where it can."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)
        return
    import signal
    import threading

    again = threading.Timer(RESEND_DELAY, os.kill, (os.getpid(), signal.SIGINT))
    again.daemon = True  # never holds up an exit
    again.start()


def _discard_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):  # a test's stream has no descriptor
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# ------------------------------------------------------------------ the standard streams


class _Output(io.RawIOBase):
    """File descriptor 1 or 2 as raw output whose failures say which stream failed.

    Standard output raises StreamError (exit 2) when a write fails, and when it was closed
    when the program started; once only: what follows is dropped, the error is said once.
    A broken pipe stays BrokenPipeError (exit 141, quietly). Standard error never raises:
    what cannot be said is dropped, and the exit code tells.
    """

    def __init__(self, fd: int, name: str, *, closed: bool, quiet: bool) -> None:
        super().__init__()
        self._fd = fd
        self._name = name
        self._was_closed = closed
        self._quiet = quiet  # standard error: drop what cannot be written
        self._failed = False  # standard output after its first error: drop the rest

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return not self._was_closed and os.isatty(self._fd)

    def write(self, data: Any) -> int:  # bytes-like, from BufferedWriter
        view = memoryview(data)
        if self._quiet or self._failed:
            if self._was_closed or self._failed:
                return len(view)
            try:
                return os.write(self._fd, view)
            except OSError:
                return len(view)
        if self._was_closed:
            self._failed = True
            raise StreamError(f"cannot write to {self._name}: it is closed")
        try:
            return os.write(self._fd, view)
        except BrokenPipeError:
            self._failed = True
            raise
        except OSError as exc:
            self._failed = True
            raise StreamError(f"cannot write to {self._name}: {exc.strerror or exc}") from None


class _ClosedInput(io.RawIOBase):
    """Standard input that was closed when the program started: reading it is an I/O error."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError(errno.EBADF, "standard input is closed")


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def standard_streams() -> None:
    """Put guarded standard streams in place; the console script calls it before anything else.

    A closed descriptor 0, 1 or 2 is opened on /dev/null first: otherwise the next file
    opened would get its number, and output meant for the terminal could land in it.
    """
    closed = {fd: not _is_open(fd) for fd in (0, 1, 2)}
    for fd, was_closed in closed.items():
        if was_closed:
            opened = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
    if closed[0]:
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_ClosedInput()), encoding="utf-8")
    for fd, name, quiet in ((1, "standard output", False), (2, "standard error", True)):
        old = sys.stdout if fd == 1 else sys.stderr
        raw = _Output(fd, name, closed=closed[fd], quiet=quiet)
        stream = io.TextIOWrapper(
            io.BufferedWriter(raw),
            encoding=getattr(old, "encoding", None) or "utf-8",
            errors=getattr(old, "errors", None) or "strict",
            line_buffering=bool(getattr(old, "line_buffering", False)) or fd == 2,
        )
        if fd == 1:
            sys.stdout = stream
        else:
            sys.stderr = stream


def finish(code: int) -> int:
    """Flush standard output and error; output that cannot be written turns a success or findings into 2."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        if code == 0:
            code = EXIT_BROKEN_PIPE
    except Exception as exc:  # StreamError, or any failure of a replaced stream
        say(f"katib-gitops: error: {exc}")
        if code in (0, EXIT_FINDINGS):
            code = EXIT_USAGE
    with contextlib.suppress(Exception):  # nothing left to tell it with
        sys.stderr.flush()
    return code


def script(main: Callable[[], object]) -> int:
    """The console script's exit code: `main` inside the boundary, then the last flush.

    A Ctrl-C at any moment of it is "interrupted", exit 130; the caller exits with the code.
    """
    try:
        import signal

        signal.signal(signal.SIGINT, _on_interrupt)
        sys.unraisablehook = _on_unraisable
        with contextlib.suppress(OSError):  # no /dev/null (a bare chroot): keep the streams Python made
            standard_streams()
        return finish(outcome(main))
    except KeyboardInterrupt:  # after `outcome` had settled: during the last flush
        say("katib-gitops: interrupted")
        return EXIT_INTERRUPTED
