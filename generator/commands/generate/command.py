"""The generate pipeline: load spec -> build Experiment -> expand overlays -> render -> check -> write.

This module runs it (the fast path when nothing changed, the lock, the write); planning.py plans the files."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from katib_gitops.commands.generate import file_stats, lock, on_disk, repeat_record, swap
from katib_gitops.core.diagnostics import Diagnostic, UsageError
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.spec.model import DEFAULT_GITOPS_PATH, find_spec_files, repository_root, targets_gitops_path
from katib_gitops.yamlio.reader import read_bytes

if TYPE_CHECKING:
    from katib_gitops.commands.generate import output_tree
    from katib_gitops.commands.generate.plan_cache import SpecPlan

# Planning (planning.py, and through it the expansion, the renderer and the rules) is imported by `generate`
# only when something is to be planned, and output_tree by the functions that write: a run that finds
# nothing changed loads neither (docs/performance.md, "Generating").


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
    changes: on_disk.Changes
    files: int  # in the output, the manifest included
    written: bool
    warnings: tuple[Diagnostic, ...] = ()
    notes: tuple[str, ...] = ()  # what else was done: leftovers of an earlier run removed, an interrupt held off


def generate(options: GenerateOptions) -> GenerateResult:
    """Check every spec, then replace the output folder with the new tree, all or nothing.

    Runs under the output's lock (generator/commands/generate/lock.py); a run killed earlier is recovered
    first (generator/commands/generate/swap.py). Writes nothing when nothing changed. A Ctrl-C after the
    swap is held off until the run has finished (generator/commands/generate/interrupts.py).
    """
    options = _safe_output(options)
    spec_files = find_spec_files(options.specs_dir) if options.specs_dir.is_dir() else None
    read = _read_once()
    out = options.out_dir
    inputs = None
    if spec_files is not None:
        inputs = repeat_record.read_inputs(
            options.specs_dir,
            spec_files,
            options.katib_config,
            options.katib_version,
            read,
            repository_root(options.specs_dir),
        )
    fingerprint = inputs.fingerprint if inputs is not None else None
    # A run with these very inputs (the Targets file's gitops.path and the repository root among them) passed
    # the checks below for this output folder, and left it as it is: nothing to check or write.
    if fingerprint and not options.force and (unchanged := _unchanged(options, fingerprint)) is not None:
        return unchanged
    _same_as_gitops_path(options, spec_files, read)
    if os.path.lexists(out) and not os.path.islink(out) and not out.is_dir():
        raise UsageError(f"{out}: output path exists and is not a directory")
    from katib_gitops.commands.generate import interrupts, output_tree, parse_cache, plan_cache, planning

    documents = parse_cache.Documents(out, inputs.shared if inputs is not None else None, read)
    spec_set, warnings = planning.load_checked(
        options.specs_dir, options.katib_config, options.katib_version, spec_files, documents.parse
    )
    keys = planning.spec_keys(inputs, spec_set) if inputs is not None else None
    cached: dict[int, SpecPlan] = {}
    if keys is not None:
        entries = plan_cache.load(out, keys[0], _manifest_digest(out))
        cached = {index: entries[key] for index, key in enumerate(keys[1:]) if key in entries}
    planned = planning.plan_specs(spec_set, cached)
    notes: list[str] = []
    with interrupts.AfterCommit() as gate:
        while True:
            found = list(warnings)
            files = planning.assemble(spec_set, planned, found)
            try:
                changes, written = write_planned(files, options, notes, gate.commit)
            except StalePlans as stale:  # files of an earlier plan not on disk as planned: plan their specs
                again = {i: p for i, p in enumerate(planned) if not any(f.path in stale.paths for f in p.files)}
                planned = planning.plan_specs(spec_set, again)
                continue
            break
        warnings = found
        if fingerprint and (written or changes.empty):  # the output now is what these inputs generate
            manifest_digest = output_tree.sha256(output_tree.manifest_file(files).content)
            repeat_record.record(out, fingerprint, manifest_digest, warnings)
            if keys is not None:
                plan_cache.store(out, keys[0], manifest_digest, dict(zip(keys[1:], planned, strict=True)))
            documents.store()
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
    path = out / on_disk.MANIFEST
    try:
        if out.is_symlink() or path.is_symlink() or not path.is_file() or path.stat().st_size > on_disk.MANIFEST_LIMIT:
            return ""
        return on_disk.file_digest(path)
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


def _read_once() -> Callable[[Path, str], bytes]:
    """yamlio's read_bytes, keeping what it read: generate needs each spec file's bytes up to three times in
    one run (the inputs' digests, the Targets file's gitops.path, the load), and reads them once."""
    kept: dict[Path, bytes] = {}

    def read(path: Path, display: str) -> bytes:
        data = kept.get(path)
        if data is None:
            data = kept[path] = read_bytes(path, display)
        return data

    return read


def _same_as_gitops_path(
    options: GenerateOptions,
    spec_files: Sequence[Path] | None = None,
    read: Callable[[Path, str], bytes] = read_bytes,
) -> None:
    """UsageError (exit 2) when the output folder is not where the GitOps objects look for the overlays."""
    if not options.specs_dir.is_dir():
        return
    if (gitops_path := targets_gitops_path(options.specs_dir, spec_files, read)) is None:
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
    with _held(options, notes) as since:
        known = file_stats.load(out)
        intact = on_disk.intact(out, manifest_digest, known)
        if intact is None:
            return None
        manifest, tree = intact
        if not options.check_only and tree is not None:  # some files were read: record them as they are
            file_stats.store(out, manifest, manifest_digest, tree, known, since)
        elif not options.check_only and known is not None and not known.folders:
            file_stats.store_folders(out, known, manifest)
    return GenerateResult(
        on_disk.Changes(), len(manifest) + 1, written=False, warnings=tuple(warnings), notes=tuple(notes)
    )


def write_planned(
    files: list[output_tree.OutputFile],
    options: GenerateOptions,
    notes: list[str] | None = None,
    on_commit: Callable[[], None] = lambda: None,
) -> tuple[on_disk.Changes, bool]:
    """The write phase of generate: lock, recover, compare, refuse foreign edits, swap the new tree in.

    What recovery did goes to `notes`; `on_commit` is called just before the swap (see output_tree.apply).
    """
    from katib_gitops.commands.generate import output_tree

    out = options.out_dir
    with _held(options, [] if notes is None else notes) as since:
        tree = on_disk.scan(out)
        manifest = on_disk.read_manifest(out, tree)
        known = file_stats.load(out)
        tree = on_disk.with_digests(out, tree, manifest, known)
        stale = {
            f.path
            for f in files
            if f.cached and ((entry := tree.get(f.path)) is None or entry.kind != "file" or entry.digest != f.digest)
        }
        if stale:
            raise StalePlans(stale)
        changes = output_tree.compare(out, files, manifest, tree)
        if options.check_only:
            return changes, False
        if changes.empty:
            file_stats.store(out, manifest, tree[on_disk.MANIFEST].digest, tree, known, since)
            return changes, False
        _refuse_foreign_edits(changes, options, files)
        in_place = output_tree.apply(out, files, changes, manifest, tree, on_commit=on_commit)
        new_manifest = output_tree.manifest_file(files)
        listed = {f.path: f.sha for f in files}  # in the order of the manifest file
        file_stats.store(out, listed, new_manifest.sha, tree, known, since, relinked=not in_place)
    return changes, True


@contextlib.contextmanager
def _held(options: GenerateOptions, notes: list[str]) -> Iterator[lock.Clock | None]:
    """The output folder under the lock: shared for a check (refused after an interrupted write), exclusive for a
    write (an interrupted write recovered first, what was done added to `notes`). Yields the file system's time
    when the lock was taken, for file_stats.store (None for a check, or when it cannot be told)."""
    out = options.out_dir
    with lock.hold(out, exclusive=not options.check_only) as since:
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
        yield since


DIFF_LINES = 12  # per file, in the refusal message
DIFF_FILES = 5
DIFF_BYTES = 1 << 20  # a larger file edited by hand is named without a diff


def _refuse_foreign_edits(
    changes: on_disk.Changes, options: GenerateOptions, files: list[output_tree.OutputFile]
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
        found = on_disk.read_bounded(out / path, DIFF_BYTES).decode("utf-8", "replace")
    except UsageError as exc:
        return f"  ({exc}: no diff shown)"
    lines = list(
        difflib.unified_diff(
            found.splitlines(),
            planned.splitlines(),
            f"{out / path} (on disk)",
            f"{out / path} (katib-gitops would write)",
            n=1,
            lineterm="",
        )
    )
    shown = lines[:DIFF_LINES] + ([f"... {len(lines) - DIFF_LINES} more lines"] if len(lines) > DIFF_LINES else [])
    return "\n".join(f"  {line}" for line in shown)
