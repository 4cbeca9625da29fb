"""The I/O edge of the import: read the Experiments, plan the files to write, write them, and say what happened."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from katib_gitops.commands.importer.experiment import (
    EXPERIMENT,
    V1ALPHA3,
    ImportResult,
    import_document,
)
from katib_gitops.commands.importer.optimizationjob import KEY as OPTIMIZATION_JOB
from katib_gitops.commands.importer.optimizationjob import import_optimization_job
from katib_gitops.commands.importer.targets import TARGETS_FILE, merge_imports, update_targets_text
from katib_gitops.core.diagnostics import FindingsError, UsageError
from katib_gitops.core.kinds import SPEC_KIND, TARGETS_KIND
from katib_gitops.spec.model import find_spec_files
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import read_text
from katib_gitops.yamlio.writer import dump

_TARGETS_HEADER = (
    "Where imported specs run: namespaces and profiles (katib-gitops import).\n"
    "Add a `gitops:` section to get Argo CD and Flux objects."
)


@dataclasses.dataclass(frozen=True)
class PlannedFile:
    path: Path
    content: str  # for a "conflict", the message instead
    status: str  # "new" | "replaced" | "updated" | "unchanged" | "conflict"


@dataclasses.dataclass(frozen=True)
class ImportPlan:
    files: tuple[PlannedFile, ...]
    results: tuple[ImportResult, ...]
    skipped: tuple[str, ...]  # documents that are not Experiments
    targets_path: Path


def plan_import(
    paths: Sequence[str], out_dir: Path, stdin: TextIO, force: bool = False, trial_templates: Sequence[str] = ()
) -> ImportPlan:
    """Import every Experiment in `paths` and plan the spec files and the Targets file in `out_dir`; nothing written."""
    from katib_gitops.rules.validator import load_trial_templates

    documents, skipped = _read_experiments(paths, stdin)
    results = _import_all(documents, load_trial_templates(trial_templates))
    existing = _existing_documents(out_dir)
    targets = [(p, d) for p, d in existing if isinstance(d.data, dict) and d.data.get("kind") == TARGETS_KIND]
    if len(targets) > 1:
        raise UsageError(f"{out_dir}: more than one Targets document ({', '.join(str(p) for p, _ in targets)})")
    merged, final = merge_imports(results, targets[0][1].data if targets else None)
    files = [_spec_file(out_dir, result, existing, force) for result in final]
    files.append(_targets_file(out_dir, merged, targets[0] if targets else None))
    conflicts = [f.content for f in files if f.status == "conflict"]
    if conflicts:
        raise UsageError("\n".join(conflicts))
    return ImportPlan(tuple(files), tuple(final), tuple(skipped), files[-1].path)


def write_plan(plan: ImportPlan) -> None:
    from katib_gitops.core.files import atomic_write

    try:
        for item in plan.files:
            if item.status != "unchanged":
                atomic_write(item.path, item.content)
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename}: {exc.strerror or exc}") from exc


def dry_run_text(plan: ImportPlan) -> str:
    parts = [f"# {item.path}\n{item.content}" for item in plan.files if item.status != "unchanged"]
    return "---\n".join(parts)


def summary(plan: ImportPlan) -> Iterator[str]:
    yield from plan.skipped
    by_name = {r.name: r for r in plan.results}
    for item in plan.files:
        result = by_name.get(item.path.stem) if item.path != plan.targets_path else None
        if result is None:
            yield f"{item.path}: {item.status}"
            continue
        namespaces = result.spec["spec"]["targets"]["namespaces"]
        where = f"namespace{'s' if len(namespaces) > 1 else ''} {', '.join(namespaces)}"
        yield (
            f"{item.path}: {item.status} ({result.form} form, {where}, profile {result.profile}) "
            f"from {result.experiment}"
        )
        yield from (f"  note: {note}" for note in result.notes)


def spec_text(result: ImportResult) -> str:
    """The spec file's text: the spec, under a comment saying where it came from and the import's notes."""
    kind = "OptimizationJob" if result.spec["spec"].get("backend") == "optimizationjob" else "Experiment"
    header = [
        f"Imported by katib-gitops from {result.source} ({kind} {result.experiment}).",
        f"Generating from this spec gives that {kind} back (see docs/migration.md).",
        "",
    ]
    return dump(result.spec, "\n".join(header + [f"note: {n}" for n in result.notes]).rstrip("\n"))


def _read_experiments(paths: Sequence[str], stdin: TextIO) -> tuple[list[Document], list[str]]:
    """The v1beta1 and v1alpha3 Experiments in the named files and folders (kustomizations rendered); what is not."""
    from katib_gitops.kustomize import inputs

    collected = inputs.collect(paths, render_kustomizations=True, stdin=stdin)
    if collected.problems:
        raise FindingsError(list(collected.problems))
    experiments: list[Document] = []
    skipped: dict[str, list[str]] = {}
    for source in collected.sources:
        for document in source.documents:
            data = document.data
            key = (data.get("apiVersion"), data.get("kind")) if isinstance(data, dict) else None
            if key in (EXPERIMENT, V1ALPHA3, OPTIMIZATION_JOB):
                experiments.append(document)
            else:
                skipped.setdefault(document.file, []).append(str(key[1]) if key else "not an object")
    if not experiments:
        raise UsageError(f"no Experiments found in {', '.join(paths)}")
    return experiments, [
        f"{file}: skipped {', '.join(sorted(set(kinds)))} (not an Experiment)" for file, kinds in skipped.items()
    ]


def _import_all(
    documents: Sequence[Document], trial_templates: Mapping[tuple[str, str, str], str]
) -> list[ImportResult]:
    """Import every document; FindingsError lists every refusal of every document."""
    results, problems = [], []
    for document in documents:
        try:
            data = document.data
            if isinstance(data, dict) and (data.get("apiVersion"), data.get("kind")) == OPTIMIZATION_JOB:
                results.append(import_optimization_job(document))
            else:
                results.append(import_document(document, trial_templates))
        except FindingsError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise FindingsError(problems)
    return results


def _existing_documents(out_dir: Path) -> list[tuple[Path, Document]]:
    """Every YAML document already in the specs folder, with its file."""
    if not out_dir.exists():
        return []
    if not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a directory")
    return [
        (path, doc)
        for path in find_spec_files(out_dir)
        for doc in load_documents(read_text(path, str(path)), str(path))
    ]


def _spec_file(out_dir: Path, result: ImportResult, existing: list[tuple[Path, Document]], force: bool) -> PlannedFile:
    path = out_dir / f"{result.name}.yaml"
    content = spec_text(result)
    same_name = [
        p
        for p, d in existing
        if isinstance(d.data, dict)
        and d.data.get("kind") == SPEC_KIND
        and (d.data.get("metadata") or {}).get("name") == result.name
    ]
    elsewhere = [p for p in same_name if p.resolve() != path.resolve()]
    if elsewhere:
        return PlannedFile(
            path,
            f"{elsewhere[0]}: already declares spec '{result.name}'; remove or rename it to import {result.experiment}",
            "conflict",
        )
    if not path.exists():
        return PlannedFile(path, content, "new")
    on_disk = [d.data for p, d in existing if p.resolve() == path.resolve()]
    if on_disk == [result.spec]:
        return PlannedFile(path, content, "unchanged")
    if not force:
        return PlannedFile(
            path,
            f"{path}: exists and differs from the import of {result.experiment}; pass --force to replace it",
            "conflict",
        )
    return PlannedFile(path, content, "replaced")


def _targets_file(out_dir: Path, merged: dict[str, Any], existing: tuple[Path, Document] | None) -> PlannedFile:
    if existing is None:
        return PlannedFile(out_dir / TARGETS_FILE, dump(merged, _TARGETS_HEADER), "new")
    path, document = existing
    if merged == document.data:
        return PlannedFile(path, "", "unchanged")
    return PlannedFile(path, update_targets_text(path, document.index, merged), "updated")
