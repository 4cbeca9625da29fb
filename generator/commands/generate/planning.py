"""Planning: every spec loaded and checked, then expanded into its files, self-checked and judged.

What generate writes comes from here (command.py runs it under the output's lock and writes it). Kept apart
from command.py, which imports this only once it knows something is to be planned: a run that finds nothing
changed never loads the expansion, the renderer or the rules (docs/performance.md, "Generating").
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from katib_gitops.commands.generate import output_tree, plan_cache, repeat_record
from katib_gitops.core import workers
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, Severity
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.expand import gitops, overlays
from katib_gitops.rules import generated, spec_checks, validator
from katib_gitops.spec.model import SpecSet, TuningSpec, load_spec_set, parse_file
from katib_gitops.yamlio.documents import Document


def load_checked(
    specs_dir: Path,
    katib_config: Path | None = None,
    katib_version: tuple[int, int] = KATIB_VERSION,
    files: Sequence[Path] | None = None,
    parse: Callable[[Path, str], list[Document]] = parse_file,
) -> tuple[SpecSet, list[Diagnostic]]:
    """Read and check every spec: FindingsError lists every error of every file; warnings are returned.

    `files` and `parse`: as for spec.model.load_spec_set."""
    spec_set = dataclasses.replace(load_spec_set(specs_dir, files=files, parse=parse), katib_version=katib_version)
    if katib_config is not None:
        from katib_gitops.spec import katib_config as configs

        spec_set = dataclasses.replace(spec_set, katib_config=configs.load(katib_config))
    found = spec_checks.run_checks(spec_set)
    if any(d.severity is Severity.ERROR for d in found):
        raise FindingsError(generated.check_spec_set(spec_set))  # with the findings of every spec they accept
    return spec_set, found


def load(specs_dir: Path) -> SpecSet:
    return load_checked(specs_dir)[0]


def planned_files(spec_set: SpecSet, warnings: list[Diagnostic] | None = None) -> list[output_tree.OutputFile]:
    """Every output file, each overlay proven to render to the Experiment built for it, and every Experiment
    and GitOps object judged as `validate` judges it: FindingsError on any error (rules/generated.py).

    The findings that are warnings are added to `warnings`."""
    return assemble(spec_set, plan_specs(spec_set), warnings)


def assemble(
    spec_set: SpecSet, planned: Sequence[SpecPlan], warnings: list[Diagnostic] | None = None
) -> list[output_tree.OutputFile]:
    """The output files of every spec's plan and the shared ones, sorted; FindingsError on any error finding."""
    files = [f for plan in planned for f in plan.files]
    found = generated.merged(placed for plan in planned for placed in plan.findings)
    found.extend(sorted({d for plan in planned for d in plan.gitops_findings}))
    found.extend(generated.check_gitops(spec_set, [], generated.environment(spec_set)))  # the GitRepository
    if any(d.severity is Severity.ERROR for d in found):
        raise FindingsError(found + (warnings or []))
    if warnings is not None:
        warnings.extend(sorted(found))
    return output_tree.finish(files + output_tree.git_repository_files(spec_set))


SpecPlan = plan_cache.SpecPlan


def plan_spec(spec: TuningSpec, spec_set: SpecSet, env: validator.Env | None = None) -> SpecPlan:
    """One spec's files, self-checked, and the findings of its distinct Experiments and GitOps objects.

    `env`: generated.environment(spec_set), when the caller has it (it is the same for every spec)."""
    expansion = overlays.expand_spec(spec, spec_set)
    files = output_tree.spec_files(expansion)
    output_tree.self_check(files, [expansion])
    env = generated.environment(spec_set) if env is None else env
    found = generated.place_built(generated.from_expansion(expansion, spec_set), spec_set, env)
    settings = spec_set.targets.gitops
    items = gitops.spec_files(settings, expansion) if settings is not None else []
    files += output_tree.spec_gitops_files(spec_set, expansion, items)  # the judging below only reads them
    gitops_found = generated.check_gitops_objects(spec_set, [obj for item in items for obj in item.objects], env)
    return SpecPlan(files, found, gitops_found)


# Specs per run worth forked workers: fewer finish before a second process would start.
PARALLEL_SPECS = 100


def plan_specs(spec_set: SpecSet, cached: Mapping[int, SpecPlan] | None = None) -> list[SpecPlan]:
    """Every spec's plan, in order: those in `cached` (by index) as they are, the others made (in forked
    workers when there are many)."""
    cached = cached or {}
    specs = spec_set.specs
    todo = [index for index in range(len(specs)) if index not in cached]
    env = generated.environment(spec_set) if todo else None
    if len(todo) >= PARALLEL_SPECS and workers.can_fork(os.cpu_count() or 1):
        made = workers.forked_map(
            lambda at: plan_spec(specs[todo[at]], spec_set, env), len(todo), os.cpu_count() or 1, 25
        )
    else:
        made = [plan_spec(specs[index], spec_set, env) for index in todo]
    fresh = dict(zip(todo, made, strict=True))
    return [cached[index] if index in cached else fresh[index] for index in range(len(specs))]


def spec_keys(inputs: repeat_record.Inputs, spec_set: SpecSet) -> list[str] | None:
    """Each spec's plan_cache key; None when a file cannot be told (a plan is then made for every spec)."""
    targets = spec_set.targets
    targets_digest = inputs.files.get(_relative(targets.source))
    if targets_digest is None:
        return None
    shared = plan_cache.spec_key(
        inputs.shared, _relative(targets.source), targets_digest, targets.document.index, "", targets.document.file
    )
    keys = []
    for spec in spec_set.specs:
        digest = inputs.files.get(_relative(spec.source))
        if digest is None:
            return None
        keys.append(
            plan_cache.spec_key(
                shared,
                _relative(spec.source),
                digest,
                spec.document.index,
                spec.name,
                f"{spec.source}\0{spec.document.file}",
            )
        )
    return [shared, *keys]


def _relative(source: str) -> str:
    """A spec's path under the specs folder, from its source (`<specs folder name>/<path>`)."""
    return source.partition("/")[2]
