"""Remembers what the last successful generate read and wrote, so a repeat run can stop early.

The record lives in the user's cache folder, never in the output tree (a committed
fingerprint would change with every katib-gitops release). A repeat run is "up to
date" only when all of these hold:

- the inputs fingerprint is the same: katib-gitops' own code and schemas, where the
  specs folder is (as named, resolved, and the current folder: output headers and
  warnings show these paths), the repository root gitops.path starts from, the path
  inside it and bytes of every spec file, and the --katib-config file if one is given;
  so the run that recorded it passed the checks of where the output goes, and a repeat
  run need not make them again;
- the manifest in the output folder is the one that run wrote;
- every file the manifest lists is on disk with the recorded hash, read, or taken from
  file_stats.py's record when its lstat is the recorded one.

Anything else (no record, another machine, a hand edit, a deleted file, --force)
means a full run. A CI job on a fresh clone therefore always does the full check.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from katib_gitops.commands.report import diagnostic_from_json, diagnostic_to_json
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.files import cache_dir, store_cached_json

PACKAGE = Path(__file__).resolve().parents[2]  # katib_gitops: every module of the tool


def cache_name(out_dir: Path) -> str:
    """The record's file under core.files.cache_dir(), one per output folder."""
    return f"generate/{hashlib.sha256(os.fsencode(out_dir.resolve())).hexdigest()[:24]}.json"


def _tool_fingerprint() -> str:
    from katib_gitops.schema.ours import schema_dir

    digest = hashlib.sha256()
    for path in sorted([*PACKAGE.rglob("*.py"), *schema_dir().glob("*.json")]):
        digest.update(os.fsencode(path) + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Inputs(NamedTuple):
    """What generate read, hashed: the whole (`fingerprint`), and the parts a spec's plan depends on
    (plan_cache.py): the inputs every spec shares but the Targets file, and each file's digest."""

    fingerprint: str
    shared: str  # tool, Katib version, folder names, limits, --katib-config
    files: dict[str, str]  # sha256 of each spec file's bytes, by its path under the specs folder


def inputs_fingerprint(
    specs_dir: Path, files: Sequence[Path], katib_config: Path | None = None, katib_version: tuple[int, int] = (0, 0)
) -> str | None:
    """None when an input cannot be read as the loader would (a FIFO, too large, ...): the full run reports it."""
    found = read_inputs(specs_dir, files, katib_config, katib_version)
    return found.fingerprint if found is not None else None


def read_inputs(
    specs_dir: Path,
    files: Sequence[Path],
    katib_config: Path | None = None,
    katib_version: tuple[int, int] = (0, 0),
    read: Callable[[Path, str], bytes] | None = None,
    repository: Path | None = None,
) -> Inputs | None:
    """The inputs' digests; None when an input cannot be read as the loader would: the full run reports it.

    `read`: how a file's bytes are read, yamlio.reader.read_bytes unless given; `repository`: where the Targets
    file's gitops.path starts (spec.model.repository_root), which says where the output must be."""
    from katib_gitops.yamlio.reader import LIMITS, read_bytes

    read = read_bytes if read is None else read

    digest = hashlib.sha256(_tool_fingerprint().encode())
    digest.update(f"katib {katib_version[0]}.{katib_version[1]}\0".encode())  # the output depends on it
    for where in (specs_dir, specs_dir.resolve(), os.getcwd()):  # bytes: a name need not be valid UTF-8
        digest.update(os.fsencode(where) + b"\0")
    digest.update(b"repository\0" + (os.fsencode(repository) if repository is not None else b"") + b"\0")
    shared = digest.copy()
    shared.update(repr([getattr(LIMITS, name) for name in LIMITS.__slots__]).encode() + b"\0")
    named = [(path.relative_to(specs_dir).as_posix(), path) for path in files]
    if katib_config is not None:  # the spec checks depend on it
        named.append((f"\0katib-config\0{katib_config}", katib_config))
    digests: dict[str, str] = {}
    for name, path in named:
        try:
            content = read(path, name)
        except (UsageError, FindingsError):
            return None
        file_digest = hashlib.sha256(content).digest()
        digest.update(os.fsencode(name) + b"\0" + file_digest)
        if name.startswith("\0katib-config\0"):
            shared.update(os.fsencode(name) + b"\0" + file_digest)
        else:
            digests[name] = file_digest.hex()
    return Inputs(digest.hexdigest(), shared.hexdigest(), digests)


def record(out_dir: Path, fingerprint: str, manifest_digest: str, warnings: Sequence[Diagnostic]) -> None:
    """Best effort: without a writable cache folder the next run is simply a full one."""
    body = {"inputs": fingerprint, "manifest": manifest_digest, "warnings": [diagnostic_to_json(w) for w in warnings]}
    store_cached_json(cache_name(out_dir), body)


def recorded(out_dir: Path, fingerprint: str) -> tuple[str, list[Diagnostic]] | None:
    """(manifest digest, warnings) of the last run with this fingerprint, or None."""
    try:
        body = json.loads((cache_dir() / cache_name(out_dir)).read_text(encoding="utf-8"))
        if body.get("inputs") != fingerprint:
            return None
        return str(body["manifest"]), [diagnostic_from_json(w) for w in body.get("warnings", [])]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):  # unreadable or not ours: a full run
        return None
