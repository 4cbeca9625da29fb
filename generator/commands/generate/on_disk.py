"""The output folder as it is: its entries (never following a link), its manifest, and the digests of its files.

Kept apart from the planning side (output_tree.py) so that a run that finds nothing changed
(command._unchanged) reads the folder without importing what plans and renders overlays.
A file's digest is read from its bytes, or taken from the record of the last run when `lstat`
sees it exactly as that run left it (file_stats.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from katib_gitops.core.diagnostics import UsageError

MANIFEST = ".katib-gitops-manifest.json"
MANIFEST_LIMIT = 64 << 20  # bytes; a manifest of 100 000 files is about 12 MiB

UNKNOWN_SIZE = -1

# What `lstat` says of a regular file, compared whole: size, mtime and ctime (ns), inode, device.
StatKey = tuple[int, int, int, int, int]


class Entry(NamedTuple):
    """One thing in the output folder, as lstat sees it: symbolic links are never followed."""

    kind: str  # "dir" | "file" | "link" | "other" (FIFO, socket, device)
    digest: str = ""  # sha256 of a file's bytes: only for the manifest and the files it lists (with_digests)
    size: int = 0  # of a file, in bytes; UNKNOWN_SIZE until asked for (file_size): only the manifest's is read by scan
    stat: StatKey | None = None  # a regular file's lstat just before its digest was known (with_digests)


@dataclasses.dataclass(frozen=True)
class Changes:
    """How the output folder differs from what a run plans (output_tree.compare), and what is in the way."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    edited_by_hand: tuple[str, ...] = ()  # generated files whose content no longer matches the manifest
    not_ours: tuple[str, ...] = ()  # files (or links) we would overwrite that we did not generate
    in_the_way: tuple[str, ...] = ()  # folders, FIFOs, sockets or devices where we write, or inside the output

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def summary(self) -> list[str]:
        return [
            f"{label}: {p}"
            for label, paths in (("missing", self.added), ("differs", self.changed), ("stale", self.removed))
            for p in paths
        ]


# The entries scan makes for everything but the manifest: immutable, so one of each serves every path.
_DIR, _LINK, _OTHER, _FILE = Entry("dir"), Entry("link"), Entry("other"), Entry("file", size=UNKNOWN_SIZE)


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def file_size(out_dir: Path, path: str, entry: Entry) -> int:
    if entry.size != UNKNOWN_SIZE:
        return entry.size
    try:
        return os.lstat(out_dir / path).st_size
    except OSError:
        return 0


def scan(out_dir: Path) -> dict[str, Entry]:
    """Everything under `out_dir` by '/'-separated relative path, in no particular order; {} when it does not exist.

    Nothing is read: files get their digests from `with_digests`, only those the manifest lists.
    """
    tree: dict[str, Entry] = {}
    if not os.path.lexists(out_dir):
        return tree
    if os.path.islink(out_dir):
        raise UsageError(
            f"{out_dir}: the output folder is a symbolic link; point --out at the real folder "
            "(katib-gitops replaces the folder as a whole and never writes through a link)"
        )
    if not out_dir.is_dir():
        raise UsageError(f"{out_dir}: output path exists and is not a directory")
    root = os.fspath(out_dir)
    pending = [""]
    while pending:
        relative = pending.pop()
        folder = os.path.join(root, relative) if relative else root
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            raise UsageError(f"{folder}: cannot read: {exc.strerror or exc}") from exc
        prefix = f"{relative}/" if relative else ""
        for entry in entries:  # in the folder's own order: nothing reads the tree in order
            path = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):  # neither is true of a link
                tree[path] = _DIR
                pending.append(path)
            elif entry.is_file(follow_symlinks=False):
                tree[path] = Entry("file", size=_size(entry)) if path == MANIFEST else _FILE
            elif entry.is_symlink():
                tree[path] = _LINK
            else:
                tree[path] = _OTHER
    return tree


def _size(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat(follow_symlinks=False).st_size
    except OSError:
        return 0


CHUNK = 1 << 20  # bytes read at a time: hashing a file of any size takes this much memory


def _chunks(path: Path | str, limit: int | None = None) -> Iterator[bytes]:
    """The bytes of a regular file, a chunk at a time, never following a link; UsageError when it cannot be read,
    or holds more than `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UsageError(f"{path}: not a regular file")
            total = 0
            while chunk := os.read(fd, CHUNK):
                total += len(chunk)
                if limit is not None and total > limit:
                    raise UsageError(f"{path}: larger than {limit} bytes")
                yield chunk
        finally:
            os.close(fd)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def read_regular(path: Path, limit: int | None = None) -> bytes:
    return b"".join(_chunks(path, limit))


def read_bounded(path: Path, limit: int) -> bytes:
    """A regular file of at most `limit` bytes; UsageError for a larger one (or one that cannot be read)."""
    return read_regular(path, limit)


def file_digest(path: Path | str) -> str:
    """sha256 of a regular file, read a chunk at a time: memory stays bounded whatever its size."""
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


class Recorded(NamedTuple):
    """What file_stats.py recorded of the files of one manifest: the manifest's digest, the device the files were
    on, for the file at each place of the manifest its size, mtime, ctime and inode (4 numbers each; -1 for a
    file not recorded), and the same of the folders that hold folders. Flat lists of numbers: they are read on
    every run, for 14,000 files in 17,000 folders of 1,000 specs."""

    manifest: str
    device: int
    stats: list[int]
    folders: list[int]  # mtime, ctime and inode of each of parent_folders(manifest), in that order; [] for none

    def holds(self, manifest_digest: str, count: int) -> bool:
        """Whether this is the record of that manifest, of `count` files."""
        return self.manifest == manifest_digest and len(self.stats) == 4 * count

    def matches(self, index: int, seen: StatKey) -> bool:
        """Whether the file at `index` of the manifest has the lstat recorded for it."""
        at, stats = 4 * index, self.stats
        return (
            stats[at] == seen[0]
            and stats[at + 1] == seen[1]
            and stats[at + 2] == seen[2]
            and stats[at + 3] == seen[3]
            and self.device == seen[4]
        )


def with_digests(
    out_dir: Path, tree: Mapping[str, Entry], manifest: Mapping[str, str], known: Recorded | None = None
) -> dict[str, Entry]:
    """`tree` with the digests of the manifest and of the regular files it lists; nothing else is read.

    When `known` (file_stats.load) is the record of this manifest, a file whose lstat is exactly the recorded
    one gets the digest the manifest lists without being read; every other one is read and hashed. Each file's
    entry keeps the lstat taken just before (`Entry.stat`), which file_stats.store compares with the file
    after the run.
    """
    hashed = dict(tree)
    prefix = os.path.join(os.fspath(out_dir), "")
    entry = tree.get(MANIFEST)
    record = None
    if entry is not None and entry.kind == "file" and not entry.digest:
        hashed[MANIFEST] = entry = entry._replace(digest=file_digest(prefix + MANIFEST))
        if known is not None and known.holds(entry.digest, len(manifest)):
            record = known
    for index, (path, listed) in enumerate(manifest.items()):
        entry = tree.get(path)
        if entry is None or entry.kind != "file" or entry.digest:
            continue
        full = prefix + path
        try:
            st = os.lstat(full)
        except OSError:
            hashed[path] = Entry("file", file_digest(full), entry.size, None)  # gone since the scan: it says so
            continue
        seen = stat_key(st) if stat.S_ISREG(st.st_mode) else None
        trusted = record is not None and seen is not None and record.matches(index, seen)
        hashed[path] = Entry("file", listed if trusted else file_digest(full), entry.size, seen)
    return hashed


def read_manifest(out_dir: Path, tree: Mapping[str, Entry] | None = None) -> dict[str, str]:
    tree = scan(out_dir) if tree is None else tree
    entry = tree.get(MANIFEST)
    path = out_dir / MANIFEST
    if entry is None:
        return {}
    if entry.kind != "file":
        raise UsageError(f"{path}: not a regular file; move it away to regenerate")
    if entry.size > MANIFEST_LIMIT:
        raise UsageError(f"{path}: not a katib-gitops manifest ({entry.size} bytes); move it away to regenerate")
    return _manifest_files(path, read_regular(path, MANIFEST_LIMIT))


def _manifest_files(path: Path, data: bytes) -> dict[str, str]:
    try:
        body = json.loads(data.decode("utf-8"))
        files = body["files"]
        if not isinstance(files, dict):
            raise TypeError("'files' is not a mapping")
        return {str(k): str(v) for k, v in files.items()}
    except RecursionError:  # json nests by recursion: 100,000 '[' exhaust the stack
        raise UsageError(
            f"{path}: not a katib-gitops manifest (nested too deeply); move it away to regenerate"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a katib-gitops manifest ({exc}); move it away to regenerate") from exc


def intact(
    out_dir: Path, manifest_digest: str, known: Recorded | None
) -> tuple[dict[str, str], dict[str, Entry] | None] | None:
    """The manifest and the entries of the files it lists, when the output holds exactly what it says: the manifest
    has `manifest_digest`, and every file it lists is a regular file with the digest it lists, in real folders
    (no symbolic link on the way). None otherwise, at the first difference. The entries are None when every
    file is as `known` records it (there is nothing new to record: file_stats.store).

    What `scan` and `with_digests` would tell of those files, without listing the rest of the folder: a run that
    finds nothing changed (command._unchanged) looks at nothing else.
    """
    path = out_dir / MANIFEST
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > MANIFEST_LIMIT:
        return None
    data = read_regular(path, MANIFEST_LIMIT)
    if hashlib.sha256(data).hexdigest() != manifest_digest:
        return None
    manifest = _manifest_files(path, data)
    prefix = os.path.join(os.fspath(out_dir), "")
    try:
        if not _folders_as_recorded(prefix, manifest, known) and not _in_real_folders(prefix, manifest):
            return None
        usable = known is not None and known.holds(manifest_digest, len(manifest))
        if usable and known is not None and _as_recorded(prefix, manifest, known):
            return manifest, None
        tree = {MANIFEST: Entry("file", manifest_digest, st.st_size, stat_key(st))}
        for index, (name, digest) in enumerate(manifest.items()):
            st = os.lstat(prefix + name)
            if not stat.S_ISREG(st.st_mode):
                return None
            seen = stat_key(st)
            trusted = usable and known is not None and known.matches(index, seen)
            if not trusted and file_digest(prefix + name) != digest:
                return None
            tree[name] = Entry("file", digest, UNKNOWN_SIZE, seen)
    except OSError:
        return None
    return manifest, tree


def _in_real_folders(prefix: str, manifest: Mapping[str, str]) -> bool:
    """Whether every folder the manifest's files are in is a folder, not a symbolic link to one (each looked at
    once; a link anywhere on a path is found when that component itself is looked at). OSError if one is gone."""
    lstat, is_dir = os.lstat, stat.S_ISDIR  # 17,000 folders for 1,000 specs: bound once
    checked: set[str] = set()
    last = ""
    for name in manifest:
        folder = name.rpartition("/")[0]
        if folder == last:
            continue  # the manifest is sorted: a folder's files come one after the other
        last = folder
        while folder and folder not in checked:
            if not is_dir(lstat(prefix + folder).st_mode):
                return False
            checked.add(folder)
            folder = folder.rpartition("/")[0]
    return True


def parent_folders(manifest: Mapping[str, str]) -> list[str]:
    """The folders that hold the folders the manifest's files are in ('' for the output folder itself), sorted.

    Each folder's entries cannot change (nothing added, removed, renamed or put in another's place) without
    its mtime and ctime changing; so while these are as recorded, every folder below them is the real folder
    it was, and only these need a look (6,000 of the 17,000 folders of 1,000 specs)."""
    folders: set[str] = set()
    last = None
    for name in manifest:
        folder = name.rpartition("/")[0]
        if folder == last:
            continue
        last = folder
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return sorted({folder.rpartition("/")[0] for folder in folders})


def _folders_as_recorded(prefix: str, manifest: Mapping[str, str], known: Recorded | None) -> bool:
    """Whether every one of parent_folders(manifest) is a folder with the mtime, ctime and inode `known` records.
    OSError if one is gone."""
    if known is None or not known.folders:
        return False
    parents = parent_folders(manifest)
    if len(known.folders) != 3 * len(parents):
        return False
    paths = (prefix + folder if folder else prefix[:-1] or prefix for folder in parents)  # the output folder: no '/'
    return _lstats_as_recorded(paths, stat.S_ISDIR, _FOLDER_FIELDS, known.folders, known.device)


def _as_recorded(prefix: str, manifest: Mapping[str, str], known: Recorded) -> bool:
    """Whether every file of the manifest is a regular file with exactly the lstat `known` records for it (the
    common case of a run that finds nothing changed). OSError if one is gone."""
    paths = (prefix + name for name in manifest)
    return _lstats_as_recorded(paths, stat.S_ISREG, _FILE_FIELDS, known.stats, known.device)


_FILE_FIELDS = operator.attrgetter("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino")  # Recorded.stats, per file
_FOLDER_FIELDS = operator.attrgetter("st_mtime_ns", "st_ctime_ns", "st_ino")  # Recorded.folders, per folder


def _lstats_as_recorded(
    paths: Iterable[str],
    kind: Callable[[int], bool],
    fields: Callable[[os.stat_result], tuple[int, ...]],
    recorded: list[int],
    device: int,
) -> bool:
    """Whether each path's lstat is of that `kind` and on `device`, its `fields` the next ones of `recorded`."""
    lstat, at = os.lstat, 0
    for path in paths:
        st = lstat(path)
        seen = fields(st)
        width = len(seen)
        if not (kind(st.st_mode) and st.st_dev == device and tuple(recorded[at : at + width]) == seen):
            return False
        at += width
    return True
