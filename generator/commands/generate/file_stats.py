"""The output's files as `lstat` saw them when the last run left them, so the next run need not read them all.

generate knows a generated file is as it wrote it (not edited by hand) by its hash, which the
manifest records. Reading and hashing every listed file on every run is most of what a run that
changes little costs (12,000 files of 1,000 specs). So, as Git's index does for a work tree, each
run that leaves the output as its manifest says records every listed file's lstat: size, mtime
and ctime in nanoseconds, inode and device, against the manifest that lists its digest. The next
run takes a file whose lstat is exactly the recorded one to hold those bytes, and reads every other
one. The folders that hold folders are recorded too (on_disk.parent_folders).

Why a hand edit cannot keep the recorded lstat: a file's ctime cannot be set by its owner. Any
write, truncation, rename, link, chmod or `touch` sets it to the file system's current time;
an editor that writes a new file and renames it over the old one changes the inode as well.

What is never recorded, because an edit could leave its lstat as it was:

- a file changed in the same tick of the file system's clock as the moment its lstat is taken
  (the clock is coarse, a few milliseconds, on some file systems a second or two): a file is
  recorded only when its ctime and mtime are older than the file system's own time taken just
  before (lock.clock: the pid file written anew, stamped by the same clock). A file written in
  the last tick is read again by the next run, and recorded then;
- a file that was not rewritten but changed during the run: one whose digest is the one this run
  found is recorded only when its size, mtime, inode and device are still those seen before it was
  read (its ctime may change: the whole-tree swap hard-links it into the new tree);
- a file on another device than the pid file (another file system, another clock).

The record lives beside the repeat record in the user's cache folder, never in the output, and
is only a shortcut: a missing, foreign or unreadable one means every file is read, as before.
Edits made while generate runs are not guarded (they were not before either: a run compares,
then writes).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from katib_gitops.commands.generate import lock
from katib_gitops.commands.generate.on_disk import Entry, Recorded, StatKey, parent_folders, stat_key
from katib_gitops.core.files import cache_dir, store_cached_json

FORMAT = 3
NOT_RECORDED = [-1, -1, -1, -1]  # no file has these: the next run reads it


def cache_name(out_dir: Path) -> str:
    return f"generate/{hashlib.sha256(os.fsencode(out_dir.resolve())).hexdigest()[:24]}.stats.json"


def load(out_dir: Path) -> Recorded | None:
    """The last run's record of `out_dir`'s files, for on_disk.with_digests and on_disk.intact; None when there
    is none to use."""
    try:
        body = json.loads((cache_dir() / cache_name(out_dir)).read_bytes())
        if body.get("format") != FORMAT:
            return None
        found = Recorded(body["manifest"], body["device"], body["stats"], body["folders"])
        if not (
            isinstance(found.manifest, str)
            and isinstance(found.device, int)
            and isinstance(found.stats, list)
            and isinstance(found.folders, list)
        ):
            return None
        return found
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):  # not ours: read every file
        return None


def store(
    out_dir: Path,
    manifest: Mapping[str, str],
    manifest_digest: str,
    before: Mapping[str, Entry],
    known: Recorded | None,
    since: lock.Clock | None,
    *,
    relinked: bool = False,
) -> None:
    """Record the files of `manifest` (whose file has `manifest_digest`), which the output now holds: the run
    wrote them, or found them so.

    `before`: the output's entries as this run read them (on_disk.with_digests, on_disk.intact), each with the
    lstat taken before its digest was known; `since`: the file system's time when the run took the lock,
    before any of those lstats; `relinked`: the run swapped in a whole new tree, whose every file was linked
    anew; `known`: the record the run started from, kept when nothing differs. A file the run did not rewrite
    keeps the lstat it was read with when that is older than `since`; any other is looked at now, after a
    fresh reading of the clock. Best effort: without a clock or a writable cache, the next run reads every file.
    """
    if not relinked and _all_as_recorded(known, manifest, manifest_digest, before):
        return  # every file was found as recorded: the record holds
    now: lock.Clock | None = None
    device = since.device if since is not None else None
    root = os.fspath(out_dir)
    stats: list[int] = []
    for path, digest in manifest.items():
        entry = before.get(path)
        kept = entry is not None and entry.digest == digest  # not rewritten by this run
        read_as = entry.stat if kept and entry is not None else None
        if read_as is not None and not relinked and since is not None and _older(read_as, since):
            stats += read_as[:4]
            continue
        if kept and read_as is None:
            stats += NOT_RECORDED
            continue
        now = now or lock.clock(out_dir)
        if now is None:
            return
        device = now.device if device is None else device
        try:
            st = os.lstat(os.path.join(root, path))
        except OSError:
            stats += NOT_RECORDED
            continue
        seen = stat_key(st)
        changed = read_as is not None and _content_key(read_as) != _content_key(seen)  # during the run
        stats += seen[:4] if stat.S_ISREG(st.st_mode) and _older(seen, now) and not changed else NOT_RECORDED
    now = now or lock.clock(out_dir)
    if now is None:
        return
    device = now.device if device is None else device
    folders = _folders(root, parent_folders(manifest), now)
    body = {"format": FORMAT, "manifest": manifest_digest, "device": device, "stats": stats, "folders": folders}
    store_cached_json(cache_name(out_dir), body)


def _folders(root: str, parents: list[str], now: lock.Clock) -> list[int]:
    """mtime, ctime and inode of each folder of `parents` (on_disk.parent_folders), when every one is a folder
    older than `now`; else [] (the next run then looks at every folder). Every folder of the manifest is a real
    folder here: the run found them so (scan, on_disk.intact) or made them."""
    prefix = os.path.join(root, "")
    folders: list[int] = []  # the output folder itself is looked at by its name, without a '/' (never through a link)
    for folder in parents:
        try:
            st = os.lstat(prefix + folder if folder else root)
        except OSError:
            return []
        if not stat.S_ISDIR(st.st_mode) or not _older(stat_key(st), now):
            return []  # one folder not recorded: none is (the next run looks at every folder, and records them)
        folders += [st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    return folders


def store_folders(out_dir: Path, known: Recorded, manifest: Mapping[str, str]) -> None:
    """Record the folders of a record that has none (a folder was written in the last tick of the run that made
    it): its files' record, which a run that found every file as recorded keeps, with the folders looked at now."""
    now = lock.clock(out_dir)
    if now is None:
        return
    folders = _folders(os.fspath(out_dir), parent_folders(manifest), now)
    if folders:
        store_cached_json(cache_name(out_dir), {**known._asdict(), "format": FORMAT, "folders": folders})


def _all_as_recorded(
    known: Recorded | None, manifest: Mapping[str, str], manifest_digest: str, before: Mapping[str, Entry]
) -> bool:
    if known is None or not known.folders or not known.holds(manifest_digest, len(manifest)):
        return False
    for index, path in enumerate(manifest):
        entry = before.get(path)
        if entry is None or entry.stat is None or not known.matches(index, entry.stat):
            return False
    return True


def _older(key: StatKey, clock: lock.Clock) -> bool:
    """Whether a file's ctime and mtime are both before `clock`, on the same file system: a change after the
    lstat that gave `key` cannot leave either as it was."""
    _size, mtime, ctime, _inode, device = key
    return device == clock.device and ctime < clock.ns and mtime < clock.ns


def _content_key(key: StatKey) -> tuple[int, int, int, int]:
    """What changes when a file's bytes do, but not when it is only linked or renamed: size, mtime, inode, device."""
    size, mtime, _ctime, inode, device = key
    return size, mtime, inode, device
