"""All-or-nothing replacement of the output folder, and recovery from a run killed half way.

The guarantee: once any katib-gitops generate has started (and so run `recover`),
the output folder holds exactly the tree of the last run that completed, or of the
one before it, never a mix, whatever moment a run was killed at (SIGKILL included).

How: the new tree is built in `.<out>.katib-gitops-new` beside the output (same
filesystem), flushed to disk, and swapped in. On Linux the swap is one
renameat2(RENAME_EXCHANGE): the output path names the old tree, then the new one,
with no moment in between. Elsewhere (or where the filesystem refuses the exchange)
two renames are used, out -> `.<out>.katib-gitops-old` and new -> out, and a run
killed between them leaves no folder at the output path for a moment; `recover`,
run under the lock at the start of every generate, puts the old tree back.
Leftover staging or old trees are removed by the next run. Symbolic links are
copied as links, never followed; nothing is ever written through one.

A change to a few files (output_tree.IN_PLACE_SHARE) is made in place instead
(`update_files`), with the same guarantee: the new files are written into the
staging folder and flushed, then a journal naming every rename and removal is
committed there with one rename (`JOURNAL`), and only then are the files renamed
into the output, stale ones removed, and the journal and staging folder removed.
A run killed before the journal is committed leaves the old tree (the staging
folder is a leftover); one killed after it is rolled forward by `recover`, which
redoes what the journal says (each step can be done twice), so the next run, or a
`--check` that refuses to read the folder meanwhile, sees the new tree.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import struct
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path

from katib_gitops.core.diagnostics import UsageError

SWAP_ENV = "KATIB_GITOPS_SWAP"  # "rename": use the portable two-rename swap (tests exercise both)


def paths(out_dir: Path) -> tuple[Path, Path]:
    """(staging, old) folders of an output folder."""
    out = out_dir.absolute()
    return out.parent / f".{out.name}.katib-gitops-new", out.parent / f".{out.name}.katib-gitops-old"


def interrupted(out_dir: Path) -> bool:
    """True when a killed run left the output folder missing with the old tree beside it."""
    _, old = paths(out_dir)
    return not os.path.lexists(out_dir) and os.path.isdir(old) and not os.path.islink(old)


JOURNAL = "journal.json"  # in the staging folder, once an in-place update is committed
_PENDING_JOURNAL = "journal.json.new"


def committed(out_dir: Path) -> bool:
    """True when a killed run committed an in-place update it did not finish: `recover` completes it."""
    new, _ = paths(out_dir)
    return os.path.isdir(new) and not os.path.islink(new) and os.path.isfile(new / JOURNAL)


def recover(out_dir: Path) -> str:
    """Bring the output folder back to a whole tree after a run that did not finish; what was done, or ''.

    Call with the lock held. UsageError (exit 2) when a leftover cannot be put back or removed.
    """
    new, old = paths(out_dir)
    done = []
    if committed(out_dir):
        try:
            _roll_forward(out_dir.absolute(), new)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            why = exc.strerror or exc if isinstance(exc, OSError) else f"its journal cannot be read: {exc}"
            raise UsageError(
                f"{out_dir}: an interrupted generate committed an update of the output folder ({new / JOURNAL}) "
                f"that cannot be completed: {why}; fix that and run generate again"
            ) from exc
        done.append(f"{out_dir}: completed the update an interrupted generate had committed")
    if interrupted(out_dir):
        try:
            os.rename(old, out_dir)
        except OSError as exc:
            raise UsageError(
                f"{out_dir}: an interrupted generate left the output folder aside as {old}, and it cannot be "
                f"renamed back: {exc.strerror or exc}; rename it back by hand"
            ) from exc
        _fsync_dir(out_dir.absolute().parent)
        done.append(f"{out_dir}: restored the previous output, which an interrupted generate had left aside")
    for leftover in (new, old):
        if not os.path.lexists(leftover):
            continue
        try:
            _remove(leftover)
        except OSError as exc:
            raise UsageError(
                f"{leftover}: left beside the output folder by an earlier generate that did not finish, and it "
                f"cannot be removed: {exc.strerror or exc}{_which(exc)}; remove it by hand"
            ) from exc
        done.append(
            f"{out_dir}: removed {leftover.name}, left beside it by an earlier generate that did not finish "
            "(the output folder is whole)"
        )
    return "\n".join(done)


def replace_tree(
    out_dir: Path,
    content: Mapping[str, str],
    carried: Iterable[str],
    keep_empty: Collection[str],
    unchanged: Collection[str],
    *,
    on_commit: Callable[[], None] = lambda: None,
) -> None:
    """Make `out_dir` hold exactly: `content` (generated files), plus `carried` entries of the old folder.

    Unchanged generated files and carried files are hard links to the old ones (copies
    where links are refused). On any error the staging folder is removed and the output
    folder is left as it was; the error is a UsageError (exit 2). `on_commit` is called
    when the new tree is on disk, just before the swap: the point of no return.
    """
    out = out_dir.absolute()
    new, old = paths(out_dir)
    refuse_pinned(out_dir)
    with _staging(out_dir, new):
        if os.path.lexists(new):
            _remove(new)
        _build(out, new, content, carried, keep_empty, unchanged)
        _flush(new)
        on_commit()
    _swap(out_dir, out, new, old)


def update_files(
    out_dir: Path,
    written: Mapping[str, str],
    removed: Iterable[str],
    emptied: Iterable[str],
    *,
    on_commit: Callable[[], None] = lambda: None,
) -> None:
    """Make `out_dir` hold `written` (generated files by path) instead of what is there, without `removed` files
    and `emptied` folders (innermost first), all or nothing: see the module's docstring.

    Before the commit, any error leaves the output folder as it was (UsageError, exit 2); `on_commit` is
    called when the new files are on disk, just before it.
    """
    out = out_dir.absolute()
    new, _ = paths(out_dir)
    removed, emptied = list(removed), list(emptied)
    _refuse_pinned_entries(out_dir, [*written, *removed], emptied)
    staged: list[list[str]] = []
    journal = {"write": staged, "remove": list(removed), "emptied": list(emptied)}
    with _staging(out_dir, new):
        if os.path.lexists(new):
            _remove(new)
        os.mkdir(new)
        os.chmod(new, 0o700)
        manifest = [p for p in written if p == _MANIFEST]
        for index, path in enumerate([*sorted(p for p in written if p not in manifest), *manifest]):
            _write(new / str(index), written[path].encode("utf-8"))
            staged.append([str(index), path])
        _write(new / _PENDING_JOURNAL, json.dumps(journal).encode("utf-8"))
        _flush(new)
        on_commit()
    try:
        os.rename(new / _PENDING_JOURNAL, new / JOURNAL)  # the commit
        _fsync_dir(new)
        _roll_forward(out, new)
    except OSError as exc:
        raise UsageError(
            f"{out_dir}: the update is committed but could not be completed: {exc.strerror or exc}{_which(exc)}; "
            "run generate again to complete it"
        ) from exc
    try:
        _remove(new)
    except OSError as exc:
        raise UsageError(
            f"{out_dir}: the new output is in place, but the staging folder beside it ({new}) cannot be "
            f"removed: {exc.strerror or exc}{_which(exc)}; remove it by hand"
        ) from exc


_MANIFEST = ".katib-gitops-manifest.json"  # output_tree.MANIFEST: renamed into place last


def _roll_forward(out: Path, new: Path) -> None:
    """Do what the committed journal in `new` says; every step may already have been done by a killed run."""
    journal = json.loads((new / JOURNAL).read_text(encoding="utf-8"))
    for staged, path in journal["write"]:
        _check_relative(path)
        if os.path.lexists(new / staged):
            target = out / path
            parent = target.parent
            if not parent.is_dir():
                os.makedirs(parent, exist_ok=True)
            os.rename(new / staged, target)
    for path in journal["remove"]:
        _check_relative(path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(out / path)
    for folder in journal["emptied"]:
        _check_relative(folder)
        with contextlib.suppress(FileNotFoundError, OSError):
            if not os.listdir(out / folder):
                os.rmdir(out / folder)
    _flush(out)
    os.unlink(new / JOURNAL)  # done: what is left in the staging folder is a plain leftover
    _fsync_dir(new)


def _check_relative(path: str) -> None:
    if not isinstance(path, str) or path.startswith("/") or any(p in ("", ".", "..") for p in path.split("/")):
        raise ValueError(f"not a path inside the output folder: {path!r}")


# Inode flags that stop even root from removing or renaming an entry: Linux's FS_IMMUTABLE_FL and FS_APPEND_FL
# (chattr +i, +a; FS_IOC_GETFLAGS = _IOR('f', 1, long)), and BSD's and macOS's chflags (st_flags).
_LINUX_FLAGS = {0x10: "immutable (chattr +i)", 0x20: "append-only (chattr +a)"}
_FS_IOC_GETFLAGS = (2 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 1
_BSD_FLAGS = {
    getattr(stat, "UF_IMMUTABLE", 0) | getattr(stat, "SF_IMMUTABLE", 0): "immutable (chflags uchg or schg)",
    getattr(stat, "UF_APPEND", 0) | getattr(stat, "SF_APPEND", 0): "append-only (chflags uappnd or sappnd)",
}


def refuse_pinned(out_dir: Path) -> None:
    """UsageError (exit 2) naming the first file or folder of the output (or the folder itself) that cannot be
    removed or renamed whatever its permissions: swapping a new tree in, then removing the old one, would fail
    half way. Checked before anything is written."""
    found = _first_pinned(out_dir)
    if found:
        path, what = found
        raise UsageError(
            f"{path}: {what}: generate replaces the output folder as a whole, so it must be able to remove or "
            f"rename every entry in it; clear the flag or move it out of {out_dir}. The output folder is unchanged"
        )


def _refuse_pinned_entries(out_dir: Path, files: Iterable[str], emptied: Iterable[str]) -> None:
    """refuse_pinned for an update in place: only what it renames over or removes, and the folders it does
    that in (the output folder itself among them), can stop it."""
    entries: dict[str, bool] = {"": True}  # relative path -> is a folder
    for path in files:
        entries[path] = False
        parent = path.rpartition("/")[0]
        while parent and not os.path.isdir(out_dir / parent):  # made by the update, in its nearest existing folder
            parent = parent.rpartition("/")[0]
        entries[parent] = True
    for folder in emptied:
        entries[folder] = True
        entries[folder.rpartition("/")[0]] = True
    for path, is_folder in sorted(entries.items()):
        target = out_dir / path if path else out_dir
        if os.path.lexists(target) and (what := _pinned(target, folder=is_folder)):
            raise UsageError(
                f"{target}: {what}: generate must be able to replace or remove it, or change the folder it is in; "
                f"clear the flag or move it out of {out_dir}. The output folder is unchanged"
            )


def _first_pinned(root: Path) -> tuple[Path, str] | None:
    """The first entry under `root` (itself included; links never followed) with an immutable or append-only flag."""
    pending = [root]
    while pending:
        folder = pending.pop()
        if what := _pinned(folder, folder=True):
            return folder, what
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError:
            continue  # a folder that cannot be read has no flags we can see
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False) and (what := _pinned(Path(entry.path), folder=False)):
                return Path(entry.path), what
    return None


def _pinned(path: Path, *, folder: bool) -> str:
    """What stops `path` from being removed or renamed (its immutable or append-only flag), or ''."""
    if hasattr(os.stat_result, "st_flags"):
        try:
            flags: int = getattr(os.lstat(path), "st_flags", 0)
        except OSError:
            return ""
        return next((what for bits, what in _BSD_FLAGS.items() if bits and flags & bits), "")
    if not sys.platform.startswith("linux"):
        return ""
    import fcntl

    try:
        fd = os.open(
            path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_DIRECTORY if folder else 0)
        )
    except OSError:
        return ""  # unreadable: its flags are unknown, and a failure later says what it is
    try:
        flags = int.from_bytes(fcntl.ioctl(fd, _FS_IOC_GETFLAGS, bytes(8))[:4], sys.byteorder)
    except OSError:
        return ""  # a filesystem without such flags
    finally:
        os.close(fd)
    return next((what for bits, what in _LINUX_FLAGS.items() if flags & bits), "")


@contextlib.contextmanager
def _staging(out_dir: Path, new: Path) -> Iterator[None]:
    """Before the commit: on any error the staging folder `new` goes and the output folder stays as it was;
    an OSError becomes a UsageError (exit 2) that says so."""
    try:
        yield
    except OSError as exc:
        with contextlib.suppress(OSError):
            _remove(new)
        raise UsageError(
            f"{out_dir}: cannot write the output: {exc.strerror or exc}{_which(exc)}; the output folder is unchanged"
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            _remove(new)
        raise


def _which(exc: OSError) -> str:
    return f" ({exc.filename})" if exc.filename else ""


def _build(
    out: Path,
    new: Path,
    content: Mapping[str, str],
    carried: Iterable[str],
    keep_empty: Collection[str],
    unchanged: Collection[str],
) -> None:
    # Folders are made writable for their owner while they are filled, and get their own modes at the end, innermost
    # first: a read-only folder (hand-made, or the output folder itself) is carried over like any other.
    modes = [(new, stat.S_IMODE(os.stat(out).st_mode) if out.is_dir() else 0o755)]
    new.parent.mkdir(parents=True, exist_ok=True)
    os.mkdir(new)
    os.chmod(new, 0o700)
    folders: set[str] = set()
    for path in carried:  # sorted: a folder comes before what is in it
        source, target = out / path, new / path
        info = os.lstat(source)
        _parent(new, path, folders)
        if stat.S_ISDIR(info.st_mode):
            os.mkdir(target)
            os.chmod(target, 0o700)
            modes.append((target, stat.S_IMODE(info.st_mode)))
            folders.add(path)
        elif stat.S_ISLNK(info.st_mode):
            os.symlink(os.readlink(source), target)
        elif stat.S_ISREG(info.st_mode):
            _link_or_copy(source, target)
        else:
            raise UsageError(f"{source}: a FIFO, socket or device in the output folder; move it away")
    for path in sorted(content):
        _parent(new, path, folders)
        if path in unchanged:
            _link_or_copy(out / path, new / path)
        else:
            _write(new / path, content[path].encode("utf-8"))
    for folder in sorted(folders, key=lambda p: p.count("/"), reverse=True):
        if folder not in keep_empty and not os.listdir(new / folder):
            os.rmdir(new / folder)  # emptied by removing stale generated files
    for target, mode in reversed(modes):
        if os.path.isdir(target):
            os.chmod(target, mode)


def _parent(new: Path, path: str, folders: set[str]) -> None:
    parent = path.rpartition("/")[0]
    if parent and parent not in folders:
        os.makedirs(new / parent, exist_ok=True)
        while parent and parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        os.fchmod(fd, 0o644)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _flush(folder: Path) -> None:
    """Everything written so far reaches the disk before the swap: syncfs(2) on Linux, sync(2) elsewhere."""
    syncfs = getattr(_libc(), "syncfs", None) if sys.platform.startswith("linux") else None
    if syncfs is not None:
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()


def _swap(out_dir: Path, out: Path, new: Path, old: Path) -> None:
    try:
        if not os.path.lexists(out):
            os.rename(new, out)
            _fsync_dir(out.parent)
            return
        if _exchange(new, out):
            _fsync_dir(out.parent)
            previous = new  # the staging path now names the old tree
        else:
            os.rename(out, old)
            try:
                os.rename(new, out)
            except OSError:
                os.rename(old, out)
                raise
            _fsync_dir(out.parent)
            previous = old
    except OSError as exc:
        with contextlib.suppress(OSError):
            _remove(new)
        raise UsageError(
            f"{out_dir}: cannot replace the output folder: {exc.strerror or exc}{_which(exc)}; it is unchanged"
        ) from exc
    try:
        _remove(previous)
    except OSError as exc:
        raise UsageError(
            f"{out_dir}: the new output is in place, but the previous tree beside it ({previous}) cannot be "
            f"removed: {exc.strerror or exc}{_which(exc)}; remove it by hand"
        ) from exc


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False where it is not available."""
    if os.environ.get(SWAP_ENV) == "rename" or not sys.platform.startswith("linux"):
        return False
    function = getattr(_libc(), "renameat2", None)
    if function is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if function(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP), errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


_LIBC: list[object] = []


def _libc() -> object:
    """The C library, for renameat2; ctypes (~10 ms to import) only when a whole tree is swapped."""
    import ctypes

    if not _LIBC:
        try:
            _LIBC.append(ctypes.CDLL(None, use_errno=True))
        except OSError:
            _LIBC.append(object())
    return _LIBC[0]


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(path: Path) -> None:
    """Remove a staging or old tree; links inside are removed, never followed. Read-only folders in it (hand-made
    ones carried over) are made writable first."""
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return
    try:
        shutil.rmtree(path)
    except OSError:
        _make_writable(path)
        try:
            shutil.rmtree(path)
        except OSError as exc:
            found = _first_pinned(path)
            if found is None:
                raise
            raise OSError(exc.errno, f"{exc.strerror}: {found[1]}", str(found[0])) from exc


def _make_writable(root: Path) -> None:
    """Give every folder under `root` (itself included) read, write and search permission for its owner."""
    pending = [str(root)]
    while pending:
        folder = pending.pop()
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.lstat(folder).st_mode)
            if mode & stat.S_IRWXU != stat.S_IRWXU:
                os.chmod(folder, mode | stat.S_IRWXU)
            pending.extend(e.path for e in os.scandir(folder) if e.is_dir(follow_symlinks=False))
