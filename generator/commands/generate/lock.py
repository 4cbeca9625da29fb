"""One `generate` at a time per output folder: an flock on the folder that holds it.

The lock is `flock(2)` on the output folder's parent directory, so nothing is
created to hold it and nothing is left behind: the kernel releases it when the
process ends, however it ends, so a lock is never stale. `generate` takes it
exclusively; `generate --check` takes it shared (checks run side by side, never
during a write). The writer's pid goes to `.<out>.katib-gitops.pid` beside the
output while it holds the lock, only to name it in the message another run prints;
a pid file left by a killed run is overwritten by the next one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from katib_gitops.core.diagnostics import UsageError


def pid_file(out_dir: Path) -> Path:
    out = out_dir.absolute()
    return out.parent / f".{out.name}.katib-gitops.pid"


@contextlib.contextmanager
def hold(out_dir: Path, *, exclusive: bool = True) -> Iterator[Clock | None]:
    """Hold the lock of `out_dir` for the block; UsageError (exit 2) at once when another run holds it.

    Yields the output's file system's time when the lock was taken (see `clock`), or None: for a shared
    lock, or when the pid file cannot be written.
    """
    parent = out_dir.absolute().parent
    pid = pid_file(out_dir)  # absolute: removed below even if the working folder goes away meanwhile
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    except OSError as exc:
        if not exclusive:  # a read-only check of a folder we cannot open for locking: nothing can write there either
            yield None
            return
        raise UsageError(f"{parent}: cannot use the output's folder: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UsageError(f"{parent}: cannot lock: {exc.strerror or exc}") from exc
            raise UsageError(_busy_message(out_dir)) from None
        try:
            written = _write_pid(pid) if exclusive else None
            yield Clock(written.st_ctime_ns, written.st_dev) if written is not None else None
        finally:
            if exclusive:
                with contextlib.suppress(OSError):
                    pid.unlink()
    finally:
        os.close(fd)  # releases the lock


def _write_pid(path: Path) -> os.stat_result | None:
    """The pid file written, and its stat; None when it cannot be (it is only for the message: a read-only
    folder fails later, clearly)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            os.write(fd, f"{os.getpid()}\n".encode())
            return os.fstat(fd)
        finally:
            os.close(fd)
    except OSError:
        return None


class Clock(NamedTuple):
    """A moment on a file system's own clock, and which file system: a file's ctime is stamped by that clock,
    at its granularity (a coarse kernel clock, a network file system's server), so file_stats.py compares
    ctimes with this, never with the machine's clock."""

    ns: int
    device: int


def clock(out_dir: Path) -> Clock | None:
    """The time on the output's file system now: the ctime of the pid file written anew. Only while holding the
    lock exclusively (the pid file is the writer's); None when it cannot be written."""
    written = _write_pid(pid_file(out_dir))
    return Clock(written.st_ctime_ns, written.st_dev) if written is not None else None


def _busy_message(out_dir: Path) -> str:
    pid = ""
    with contextlib.suppress(OSError, ValueError):
        fd = os.open(pid_file(out_dir), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        try:
            number = int(os.read(fd, 32).decode().strip())
        finally:
            os.close(fd)
        os.kill(number, 0)  # a pid file left by a killed run names no live process
        pid = str(number)
    who = f"another katib-gitops generate is running (pid {pid})" if pid else "another katib-gitops run is using it"
    return f"{out_dir}: {who}; try again when it has finished"
