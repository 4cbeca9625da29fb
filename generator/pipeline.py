"""The generate pipeline: load spec -> build Experiment -> expand overlays -> render -> check -> write."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from generator import checks, overlays, write
from generator.diagnostics import Diagnostic, FindingsError, Severity, UsageError
from generator.spec import SpecSet, load_spec_set


@dataclasses.dataclass(frozen=True)
class GenerateOptions:
    specs_dir: Path
    out_dir: Path
    check_only: bool = False
    force: bool = False


@dataclasses.dataclass(frozen=True)
class GenerateResult:
    changes: write.Changes
    files: int
    written: bool
    warnings: tuple[Diagnostic, ...] = ()


def load_checked(specs_dir: Path) -> tuple[SpecSet, list[Diagnostic]]:
    """Read and check every spec: FindingsError lists every error of every file; warnings are returned."""
    spec_set = load_spec_set(specs_dir)
    found = checks.run_checks(spec_set)
    errors = [d for d in found if d.severity is Severity.ERROR]
    if errors:
        raise FindingsError(found)
    return spec_set, found


def load(specs_dir: Path) -> SpecSet:
    return load_checked(specs_dir)[0]


def planned_files(spec_set: SpecSet) -> list[write.OutputFile]:
    expansions = overlays.expand(spec_set)
    files = write.plan(spec_set, expansions)
    write.self_check(files, expansions)
    return files


def generate(options: GenerateOptions) -> GenerateResult:
    if options.out_dir.exists() and not options.out_dir.is_dir():
        raise UsageError(f"{options.out_dir}: output path exists and is not a directory")
    spec_set, warnings = load_checked(options.specs_dir)
    files = planned_files(spec_set)
    changes = write.compare(options.out_dir, files, write.read_manifest(options.out_dir))
    if options.check_only or changes.empty:
        return GenerateResult(changes, len(files), written=False, warnings=tuple(warnings))
    _refuse_foreign_edits(changes, options)
    write.apply(options.out_dir, files, changes)
    return GenerateResult(changes, len(files), written=True, warnings=tuple(warnings))


def _refuse_foreign_edits(changes: write.Changes, options: GenerateOptions) -> None:
    if options.force:
        return
    problems = [f"{options.out_dir / p}: edited by hand since katib-gitops wrote it" for p in changes.edited_by_hand]
    problems += [f"{options.out_dir / p}: not written by katib-gitops, refusing to overwrite it" for p in changes.not_ours]
    if problems:
        raise UsageError("\n".join(problems) + "\nchange the spec instead, or pass --force to overwrite")
