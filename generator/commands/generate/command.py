"""The generate pipeline: load spec -> build Experiment -> expand overlays -> render -> check -> write."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from katib_gitops.commands.generate import interrupts, lock, output_tree, plan_cache, repeat_record, swap
from katib_gitops.core import workers
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, Severity, UsageError
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.expand import gitops, overlays
from katib_gitops.rules import generated, spec_checks, validator
from katib_gitops.spec.model import (
    DEFAULT_GITOPS_PATH,
    SpecSet,
    TuningSpec,
    find_spec_files,
    load_spec_set,
    repository_root,
    targets_gitops_path,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GenerateOptions:
    specs_dir: Path
    out_dir: Path
    check_only: bool = False
    force: bool = False
    katib_config: Path | None = None  # the cluster's KatibConfig (or its ConfigMap) for the spec checks
    katib_version: tuple[int, int] = KATIB_VERSION  # the Katib release the output is for (the Istio opt-out)


@dataclasses.dataclass(frozen=True)
class GenerateResult:
    changes: output_tree.Changes
    files: int  # in the output, the manifest included
    written: bool
    warnings: tuple[Diagnostic, ...] = ()
    notes: tuple[str, ...] = ()  # what else was done: leftovers of an earlier run removed, an interrupt held off


def load_checked(
    specs_dir: Path, katib_config: Path | None = None, katib_version: tuple[int, int] = KATIB_VERSION
) -> tuple[SpecSet, list[Diagnostic]]:
    """Read and check every spec: FindingsError lists every error of every file; warnings are returned."""
    spec_set = dataclasses.replace(load_spec_set(specs_dir), katib_version=katib_version)
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


def _spec_keys(inputs: repeat_record.Inputs, spec_set: SpecSet) -> list[str] | None:
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


def generate(options: GenerateOptions) -> GenerateResult:
    """Check every spec, then replace the output folder with the new tree, all or nothing.

    Runs under the output's lock (generator/commands/generate/lock.py); a run killed earlier is recovered
    first (generator/commands/generate/swap.py). Writes nothing when nothing changed. A Ctrl-C after the
    swap is held off until the run has finished (generator/commands/generate/interrupts.py).
    """
    options = _safe_output(options)
    _same_as_gitops_path(options)
    out = options.out_dir
    if os.path.lexists(out) and not os.path.islink(out) and not out.is_dir():
        raise UsageError(f"{out}: output path exists and is not a directory")
    inputs = repeat_record.read_inputs(
        options.specs_dir, find_spec_files(options.specs_dir), options.katib_config, options.katib_version
    )
    fingerprint = inputs.fingerprint if inputs is not None else None
    if fingerprint and not options.force and (unchanged := _unchanged(options, fingerprint)) is not None:
        return unchanged
    spec_set, warnings = load_checked(options.specs_dir, options.katib_config, options.katib_version)
    keys = _spec_keys(inputs, spec_set) if inputs is not None else None
    cached: dict[int, SpecPlan] = {}
    if keys is not None:
        entries = plan_cache.load(out, keys[0], _manifest_digest(out))
        cached = {index: entries[key] for index, key in enumerate(keys[1:]) if key in entries}
    planned = plan_specs(spec_set, cached)
    notes: list[str] = []
    with interrupts.AfterCommit() as gate:
        while True:
            found = list(warnings)
            files = assemble(spec_set, planned, found)
            try:
                changes, written = write_planned(files, options, notes, gate.commit)
            except StalePlans as stale:  # files of an earlier plan not on disk as planned: plan their specs
                again = {i: p for i, p in enumerate(planned) if not any(f.path in stale.paths for f in p.files)}
                planned = plan_specs(spec_set, again)
                continue
            break
        warnings = found
        if fingerprint and (written or changes.empty):  # the output now is what these inputs generate
            manifest_digest = output_tree.sha256(output_tree.manifest_file(files).content)
            repeat_record.record(out, fingerprint, manifest_digest, warnings)
            if keys is not None:
                plan_cache.store(out, keys[0], manifest_digest, dict(zip(keys[1:], planned, strict=True)))
    if gate.interrupted:
        notes.append(f"{out}: interrupted after the new output was in place; it is complete")
    count = len(files) + 1  # the manifest too
    return GenerateResult(changes, count, written=written, warnings=tuple(warnings), notes=tuple(notes))


class StalePlans(Exception):
    """Files planned by an earlier run (plan_cache.py) that are not on disk as planned: their content is not known."""

    def __init__(self, paths: set[str]) -> None:
        super().__init__(f"{len(paths)} cached files differ on disk")
        self.paths = paths


def _manifest_digest(out: Path) -> str:
    """sha256 of the output's manifest, '' when there is none to trust (a plan_cache entry then is not used)."""
    path = out / output_tree.MANIFEST
    try:
        if (
            out.is_symlink()
            or path.is_symlink()
            or not path.is_file()
            or path.stat().st_size > output_tree.MANIFEST_LIMIT
        ):
            return ""
        return output_tree.file_digest(path)
    except (OSError, UsageError):
        return ""


def default_out(specs_dir: Path) -> Path:
    """generate's output folder when --out is not given: where the Targets file's `gitops.path` points the
    ApplicationSet and Flux objects (from the repository root, `repository_root`), else `overlays`."""
    gitops_path = targets_gitops_path(specs_dir) if specs_dir.is_dir() else None
    if gitops_path is None:
        return Path(DEFAULT_GITOPS_PATH)
    root = repository_root(specs_dir)
    out = root / _fs_path(gitops_path)
    here = Path(_working_folder())
    return Path(os.path.relpath(out, here)) if out == here or here in out.parents else out


def _fs_path(text: str) -> str:
    """`gitops.path` as the file system names it: Git keeps a path's UTF-8 bytes, whatever the locale."""
    return os.fsdecode(text.encode("utf-8", "surrogateescape"))


def _same_as_gitops_path(options: GenerateOptions) -> None:
    """UsageError (exit 2) when the output folder is not where the GitOps objects look for the overlays."""
    if not options.specs_dir.is_dir() or (gitops_path := targets_gitops_path(options.specs_dir)) is None:
        return
    expected = Path(os.path.realpath(repository_root(options.specs_dir) / _fs_path(gitops_path)))
    given = options.out_dir
    out = Path(os.path.realpath(given))
    if out != expected:
        raise UsageError(
            f"--out {given} ({out}) and the Targets file's gitops.path {gitops_path!r} ({expected}, from the "
            f"repository root {repository_root(options.specs_dir)}) differ: the ApplicationSet and Flux objects "
            "would point at overlays that are written elsewhere; leave out --out, or change gitops.path"
        )


def _safe_output(options: GenerateOptions) -> GenerateOptions:
    """Refuse (UsageError, exit 2) an output folder that generate's swap would take from under something else.

    generate replaces its output folder as a whole, so the folder must not be, or hold, the working
    folder, the specs folder or a repository's root, nor lie inside the specs folder (the next run
    would read its files as specs). Checked before anything is written. An output spelled `.`, `..`
    or `x/..` is named by its absolute path from here on.
    """
    here = Path(_working_folder())
    given = options.out_dir
    if given.name in ("", ".", ".."):
        out = Path(os.path.realpath(given))
        options = dataclasses.replace(options, out_dir=out)
    else:
        out = Path(os.path.realpath(given.parent)) / given.name  # the folder itself may be a link: scan refuses it
    specs = Path(os.path.realpath(options.specs_dir))
    why = ""
    for label, folder in (("the working folder", here), ("the specs folder", specs)):
        if out == folder:
            why = f"it is {label}, {folder}"
        elif out in folder.parents:
            why = f"it holds {label}, {folder}"
        if why:
            break
    if not why and specs in out.parents:
        why = f"it is inside the specs folder {specs}, whose files generate reads as specs"
    if not why and os.path.lexists(out / ".git"):
        why = f"it is the root of a repository ({out / '.git'})"
    if why:
        raise UsageError(
            f"{given}: refusing to write the output there: {why}. generate replaces its output folder "
            "as a whole; give it a folder of its own (--out, default overlays)"
        )
    return options


def _working_folder() -> str:
    try:
        return os.getcwd()
    except OSError as exc:
        named = os.environ.get("PWD", "")
        where = f"{named}: the working folder" if named else "the working folder"
        raise UsageError(
            f"{where} cannot be found ({exc.strerror or exc}): it was deleted or moved away; "
            "change to a folder that exists and run again"
        ) from None


def _unchanged(options: GenerateOptions, fingerprint: str) -> GenerateResult | None:
    """The last run's result, when it read the same inputs and its output is intact.

    See generator/commands/generate/repeat_record.py.
    """
    out = options.out_dir
    found = repeat_record.recorded(out, fingerprint) if out.is_dir() and not out.is_symlink() else None
    if found is None:
        return None
    manifest_digest, warnings = found
    notes: list[str] = []
    with _output_held(options, notes) as tree:
        entry = tree.get(output_tree.MANIFEST)
        if entry is None or entry.kind != "file" or entry.size > output_tree.MANIFEST_LIMIT:
            return None
        if output_tree.file_digest(out / output_tree.MANIFEST) != manifest_digest:
            return None
        manifest = output_tree.read_manifest(out, tree)
        tree = output_tree.with_digests(out, tree, manifest)
        if any(tree.get(path) is None or tree[path].digest != digest for path, digest in manifest.items()):
            return None
    return GenerateResult(
        output_tree.Changes(), len(manifest) + 1, written=False, warnings=tuple(warnings), notes=tuple(notes)
    )


def write_planned(
    files: list[output_tree.OutputFile],
    options: GenerateOptions,
    notes: list[str] | None = None,
    on_commit: Callable[[], None] = lambda: None,
) -> tuple[output_tree.Changes, bool]:
    """The write phase of generate: lock, recover, compare, refuse foreign edits, swap the new tree in.

    What recovery did goes to `notes`; `on_commit` is called just before the swap (see output_tree.apply).
    """
    out = options.out_dir
    with _output_held(options, [] if notes is None else notes) as tree:
        manifest = output_tree.read_manifest(out, tree)
        tree = output_tree.with_digests(out, tree, manifest)
        stale = {
            f.path
            for f in files
            if f.cached and ((entry := tree.get(f.path)) is None or entry.kind != "file" or entry.digest != f.digest)
        }
        if stale:
            raise StalePlans(stale)
        changes = output_tree.compare(out, files, manifest, tree)
        if options.check_only or changes.empty:
            return changes, False
        _refuse_foreign_edits(changes, options, files)
        output_tree.apply(out, files, changes, manifest, tree, on_commit=on_commit)
    return changes, True


@contextlib.contextmanager
def _output_held(options: GenerateOptions, notes: list[str]) -> Iterator[dict[str, output_tree.Entry]]:
    """The output folder's tree (without digests: output_tree.with_digests), under the lock: shared for
    a check (refused after an interrupted write), exclusive for a write (an interrupted write recovered
    first, what was done added to `notes`)."""
    out = options.out_dir
    with lock.hold(out, exclusive=not options.check_only):
        if options.check_only:
            if swap.committed(out):
                raise UsageError(
                    f"{out}: an interrupted generate left an update of the output folder half done; "
                    "run `katib-gitops generate` to complete it"
                )
            if swap.interrupted(out):
                raise UsageError(
                    f"{out}: an interrupted generate left the output folder aside; "
                    "run `katib-gitops generate` to restore it"
                )
        elif done := swap.recover(out):
            notes.extend(done.splitlines())
        yield output_tree.scan(out)


DIFF_LINES = 12  # per file, in the refusal message
DIFF_FILES = 5
DIFF_BYTES = 1 << 20  # a larger file edited by hand is named without a diff


def _refuse_foreign_edits(
    changes: output_tree.Changes, options: GenerateOptions, files: list[output_tree.OutputFile]
) -> None:
    out = options.out_dir
    if changes.in_the_way:
        listed = "\n".join(
            f"{out / p}: a folder, FIFO, socket or device where katib-gitops writes, or inside the output"
            for p in changes.in_the_way
        )
        raise UsageError(
            f"{listed}\nmove it away: "
            "katib-gitops does not remove folders, FIFOs, sockets or devices, even with --force"
        )
    if options.force:
        return
    planned = {f.path: f.content for f in files}
    problems = []
    for index, path in enumerate(changes.edited_by_hand):
        if path not in planned:
            problems.append(
                f"{out / path}: edited by hand since katib-gitops wrote it (the spec no longer generates it)"
            )
        elif index < DIFF_FILES:
            problems.append(
                f"{out / path}: edited by hand since katib-gitops wrote it:\n{_short_diff(out, path, planned[path])}"
            )
        else:
            problems.append(f"{out / path}: edited by hand since katib-gitops wrote it")
    problems += [f"{out / p}: not written by katib-gitops, refusing to overwrite it" for p in changes.not_ours]
    if problems:
        raise UsageError("\n".join(problems) + "\nchange the spec instead, or pass --force to overwrite")


def _short_diff(out: Path, path: str, planned: str) -> str:
    """The hand edit as a unified diff against what generate would write, at most DIFF_LINES lines."""
    import difflib

    try:
        on_disk = output_tree.read_bounded(out / path, DIFF_BYTES).decode("utf-8", "replace")
    except UsageError as exc:
        return f"  ({exc}: no diff shown)"
    lines = list(
        difflib.unified_diff(
            on_disk.splitlines(),
            planned.splitlines(),
            f"{out / path} (on disk)",
            f"{out / path} (katib-gitops would write)",
            n=1,
            lineterm="",
        )
    )
    shown = lines[:DIFF_LINES] + ([f"... {len(lines) - DIFF_LINES} more lines"] if len(lines) > DIFF_LINES else [])
    return "\n".join(f"  {line}" for line in shown)
