"""Files the tool writes: one atomic replacement of a file, and the user cache folder.

Every command that replaces a user's file (migrate --write, import --out) or its own
(the cache, generate's record) writes a temporary file beside the target, flushes it to
disk and renames it over the target, so a reader sees the old file or the new one, never
half of either. generate replaces whole trees instead (katib_gitops.commands.generate.swap).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def stage(target: Path, content: str | bytes, *, mode: int = 0o644) -> Path:
    """A temporary file beside `target` holding `content` on disk, with `mode`; the caller renames it over `target`."""
    import tempfile  # only when something is written: not on validate's start-up path

    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temporary = Path(name)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def atomic_write(path: Path, content: str | bytes, *, mode: int = 0o644) -> None:
    """Replace `path` with `content` atomically; a symbolic link there is replaced, never followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = stage(path, content, mode=mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def cache_dir() -> Path:
    """katib-gitops' folder in the user's cache; OSError when there is no home to put it in.

    A relative XDG_CACHE_HOME is ignored, as the XDG Base Directory spec says (it would put the
    cache in whatever folder the tool runs in): ~/.cache is used instead.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError) as exc:  # no HOME and no passwd entry
            raise OSError(f"no cache folder: {exc}") from None
        if not os.path.isabs(base):  # a relative HOME: no cache rather than one in the working folder
            raise OSError(f"no cache folder: HOME is relative ({base})")
    return Path(base) / "katib-gitops"


def store_cached_json(name: str, data: Any) -> None:
    """Write `data` as JSON to `name` under cache_dir(), atomically. Best effort: without a
    writable cache folder the next run is only slower."""
    try:
        atomic_write(cache_dir() / name, json.dumps(data))
    except OSError:
        return
