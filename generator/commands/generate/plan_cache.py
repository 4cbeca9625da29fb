"""Each spec's plan as the last run made it, so a run after an edit plans only the specs that changed.

Kept beside the repeat record (generator/commands/generate/repeat_record.py), in the user's cache
folder, never in the output tree. A spec's entry is found by its key, a SHA-256 of everything its
plan (planning.plan_spec) reads:

- the shared inputs: katib-gitops' own code and schemas, the Katib version, where the specs folder
  is (as named, resolved, and the current folder: headers and findings show these paths), the
  reader's limits, the bytes of the --katib-config file, and the path and bytes of the file that
  holds the Targets (profiles, GitOps settings, and the positions findings are reported at);
- the spec's own: the path and bytes of its file, its document's place in the file, its name and source.

A plan reads nothing else: not the other specs (the checks across specs, TS-NAME-UNIQUE, run on the
whole set every time, planning.load_checked), not the output folder. An entry holds the paths and
digests of the spec's files (not their text) and its findings; it is used only while the output's
manifest is the one the last run wrote, and a file of it is never written from the entry: one that
is not on disk as planned has its spec planned again (command.write_planned). Unreadable or foreign
data means a full run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from katib_gitops.commands.generate import output_tree
from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.core.files import cache_dir, store_cached_json
from katib_gitops.rules.generated import Placed

FORMAT = 1


def cache_name(out_dir: Path) -> str:
    return f"generate/{hashlib.sha256(os.fsencode(out_dir.resolve())).hexdigest()[:24]}.plans.json"


def spec_key(shared: str, relative: str, file_digest: str, index: int, name: str, source: str) -> str:
    text = json.dumps([shared, relative, file_digest, index, name, source], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class SpecPlan(NamedTuple):
    """One spec's files, self-checked, and the findings of its Experiments and GitOps objects."""

    files: list[output_tree.OutputFile]  # its base, overlays, ApplicationSet and Flux Kustomizations
    findings: list[Placed]  # of its Experiments, at the spec's nodes (merged with all specs' later)
    gitops_findings: list[Diagnostic]  # of its ApplicationSet and Flux Kustomizations


Entry = SpecPlan  # as the cache holds it: files with digests only (OutputFile.cached)


def load(out_dir: Path, shared: str, manifest_digest: str) -> dict[str, Entry]:
    """The entries of the last run, when it read the same shared inputs and wrote this manifest; else {}."""
    if not manifest_digest:
        return {}
    try:
        body = json.loads((cache_dir() / cache_name(out_dir)).read_text(encoding="utf-8"))
        if body.get("format") != FORMAT or body.get("shared") != shared or body.get("manifest") != manifest_digest:
            return {}
        return {str(key): _entry(value) for key, value in body["specs"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):  # a full run
        return {}


def store(out_dir: Path, shared: str, manifest_digest: str, entries: Mapping[str, Entry]) -> None:
    """Best effort, like the repeat record."""
    body = {
        "format": FORMAT,
        "shared": shared,
        "manifest": manifest_digest,
        "specs": {key: _entry_json(entry) for key, entry in entries.items()},
    }
    store_cached_json(cache_name(out_dir), body)


def _entry_json(entry: Entry) -> list[Any]:
    return [
        [[f.path, f.sha] for f in entry.files],
        [[_diagnostic_json(p.diagnostic), p.field, p.elsewhere, list(p.targets)] for p in entry.findings],
        [_diagnostic_json(d) for d in entry.gitops_findings],
    ]


def _entry(data: Sequence[Any]) -> Entry:
    files, findings, gitops_findings = data
    return Entry(
        [output_tree.OutputFile(str(path), "", str(digest), cached=True) for path, digest in files],
        [
            Placed(_diagnostic(d), str(field), str(elsewhere), tuple(targets))
            for d, field, elsewhere, targets in findings
        ],
        [_diagnostic(d) for d in gitops_findings],
    )


def _diagnostic_json(d: Diagnostic) -> list[Any]:
    return [
        d.file,
        d.line,
        d.column,
        d.rule_id,
        d.message,
        d.severity.value,
        d.path,
        d.hint,
        d.document,
        d.object,
        list(d.parts),
    ]


def _diagnostic(data: Sequence[Any]) -> Diagnostic:
    file, line, column, rule_id, message, severity, path, hint, document, obj, parts = data
    if not all(isinstance(part, (str, int)) for part in parts):
        raise TypeError("a path part is neither a key nor an index")
    return Diagnostic(
        str(file),
        int(line),
        int(column),
        str(rule_id),
        str(message),
        Severity(severity),
        str(path),
        str(hint),
        int(document),
        str(obj),
        tuple(parts),
    )
