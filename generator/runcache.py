"""Remembers what the last successful generate read and wrote, so a repeat run can stop early.

The record lives in the user's cache folder, never in the output tree (a committed
fingerprint would change with every katib-gitops release). A repeat run is "up to
date" only when all of these hold:

- the inputs fingerprint is the same: katib-gitops' own code and schemas, the
  path and bytes of every spec file, and of the --katib-config file if one is given;
- the manifest in the output folder is the one that run wrote;
- every file the manifest lists is on disk with the recorded hash.

Anything else (no record, another machine, a hand edit, a deleted file, --force)
means a full run. A CI job on a fresh clone therefore always does the full check.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, FindingsError, Severity, UsageError

PACKAGE = Path(__file__).resolve().parent


def cache_file(out_dir: Path) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:24]
    return base / "katib-gitops" / "generate" / f"{key}.json"


def _tool_fingerprint() -> str:
    from generator.schema import schema_dir

    digest = hashlib.sha256()
    for path in sorted([*PACKAGE.rglob("*.py"), *schema_dir().glob("*.json")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def inputs_fingerprint(specs_dir: Path, files: Sequence[Path], katib_config: Path | None = None) -> str | None:
    """None when an input cannot be read as the loader would (a FIFO, too large, ...): the full run reports it."""
    from generator.yamlio import read_bytes

    digest = hashlib.sha256(_tool_fingerprint().encode())
    named = [(path.relative_to(specs_dir).as_posix(), path) for path in files]
    if katib_config is not None:  # the spec checks depend on it
        named.append((f"\0katib-config\0{katib_config}", katib_config))
    for name, path in named:
        try:
            content = read_bytes(path, name)
        except (UsageError, FindingsError):
            return None
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def record(out_dir: Path, fingerprint: str, manifest_digest: str, warnings: Sequence[Diagnostic]) -> None:
    """Best effort: without a writable cache folder the next run is simply a full one."""
    body = {"inputs": fingerprint, "manifest": manifest_digest, "warnings": [_to_json(w) for w in warnings]}
    path = cache_file(out_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(body), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def recorded(out_dir: Path, fingerprint: str) -> tuple[str, list[Diagnostic]] | None:
    """(manifest digest, warnings) of the last run with this fingerprint, or None."""
    try:
        body = json.loads(cache_file(out_dir).read_text(encoding="utf-8"))
        if body.get("inputs") != fingerprint:
            return None
        return str(body["manifest"]), [_from_json(w) for w in body.get("warnings", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _to_json(diagnostic: Diagnostic) -> dict[str, Any]:
    return {"file": diagnostic.file, "line": diagnostic.line, "column": diagnostic.column, "rule_id": diagnostic.rule_id,
            "message": diagnostic.message, "severity": diagnostic.severity.value, "path": diagnostic.path, "hint": diagnostic.hint}


def _from_json(data: Mapping[str, Any]) -> Diagnostic:
    return Diagnostic(data["file"], data["line"], data["column"], data["rule_id"], data["message"], Severity(data["severity"]),
                      data.get("path", ""), data.get("hint", ""))
