"""Incremental generate: a run after edits writes exactly what a fresh run writes, and a change made in place
(swap.update_files) is all or nothing like the whole-tree swap.

A run reuses each unchanged spec's plan (generator/commands/generate/plan_cache.py) and, when few files change,
renames only those into the output under a committed journal (generator/commands/generate/swap.py). The
properties: byte-identical output and messages to a fresh run after any sequence of edits; a crash before the
journal is committed leaves the old tree, one after it is completed by the next run's recovery; hand edits are
refused as by a full run.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from katib_gitops.commands.generate import command, lock, on_disk, output_tree, parse_cache, planning, swap
from katib_gitops.commands.generate.command import GenerateOptions
from katib_gitops.core import files as core_files
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.yamlio.writer import dump
from tests.helpers import TARGETS, spec, write_specs
from tests.reliability.helpers import assert_clean_exit, cli, tree

SCALE = int(os.environ.get("KATIB_GITOPS_EXPLORE", "1"))
FIXED = "KATIB_GITOPS_EXPLORE" not in os.environ
SPECS = 24  # x 2 namespaces x 2 profiles: 168 files, so that one spec's edit is a change in place
PROPERTY_SPECS = 12  # 85 files: one spec's edit is still made in place, most of the time


def many_specs(root: Path, count: int = SPECS) -> Path:
    return write_specs(root, *[spec(name=f"exp-{i:02d}") for i in range(count)])


def in_place_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the changes made in place."""
    calls: list[int] = []
    real = swap.update_files

    def counting(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(swap, "update_files", counting)
    return calls


EDITS = ["budget", "algorithm", "profiles", "namespaces", "remove", "add", "targets", "nothing"]


def edit(specs: Path, kind: str, index: int, value: int) -> None:
    """One edit a user makes to a specs folder."""
    path = specs / f"exp-{index:02d}.yaml"
    body = spec(name=f"exp-{index:02d}")
    if kind == "budget":
        body["spec"]["budget"] = {"maxTrials": 4 + value, "parallelTrials": 1 + value % 2, "maxFailedTrials": 1}
    elif kind == "algorithm":
        body["spec"]["algorithm"] = {"name": ["random", "tpe"][value % 2]}
    elif kind == "profiles":
        body["spec"]["targets"]["profiles"] = [["gpu"], ["cpu"], ["gpu", "cpu"]][value % 3]
    elif kind == "namespaces":
        body["spec"]["targets"]["namespaces"] = [["team-a"], ["team-b"], ["team-a", "team-b"]][value % 3]
    elif kind == "remove":
        path.unlink(missing_ok=True)
        return
    elif kind == "targets":
        targets = {**TARGETS, "spec": {**TARGETS["spec"], "profiles": dict(TARGETS["spec"]["profiles"])}}
        targets["spec"]["profiles"]["cpu"] = {"resources": {"requests": {"cpu": str(2 + value % 3)}}}
        (specs / "targets.yaml").write_text(dump(targets))
        return
    elif kind == "nothing":
        return
    path.write_text(dump(body))


def fresh_run(specs: Path, where: Path) -> tuple[dict[str, Any], str]:
    """A run with no cache and no earlier output: the reference."""
    out = where / "overlays"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(core_files.cache_dir() / "generate", ignore_errors=True)
    copy = where / "specs"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(specs, copy)
    output = assert_clean_exit(cli(where, "generate"), 0)
    return tree(out), output.split("overlays:")[0]


@settings(
    max_examples=6 * SCALE,
    deadline=None,
    derandomize=FIXED,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(EDITS), st.integers(0, PROPERTY_SPECS + 1), st.integers(0, 5)), min_size=1, max_size=5
    )
)
def test_a_run_after_any_edits_writes_what_a_fresh_run_writes(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, int, int]]
) -> None:
    """Every input of a spec's plan is in its key (plan_cache.py): after each edit the incremental output,
    and its warnings, equal a fresh run's on the same specs, byte for byte."""
    root = tmp_path_factory.mktemp("incremental")
    specs = many_specs(root / "repo", PROPERTY_SPECS)
    assert_clean_exit(cli(root / "repo", "generate"), 0)
    for kind, index, value in edits:
        edit(specs, kind, index, value)
        output = assert_clean_exit(cli(root / "repo", "generate"), 0)
        incremental = tree(root / "repo" / "overlays")
        saved = core_files.cache_dir() / "generate"
        keep = root / "kept-cache"
        shutil.rmtree(keep, ignore_errors=True)
        if saved.exists():
            shutil.copytree(saved, keep)
        reference, warnings = fresh_run(specs, root / "fresh")
        shutil.rmtree(saved, ignore_errors=True)
        if keep.exists():
            shutil.copytree(keep, saved)
        assert incremental == reference, f"after {kind} of exp-{index:02d}"
        assert output.split("overlays:")[0] == warnings


def test_one_spec_edited_is_planned_alone_and_changed_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = many_specs(tmp_path)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    planned: list[str] = []
    real = planning.plan_spec
    monkeypatch.setattr(planning, "plan_spec", lambda s, *rest: planned.append(s.name) or real(s, *rest))
    calls = in_place_calls(monkeypatch)
    edit(specs, "budget", 3, 1)
    output = assert_clean_exit(cli(tmp_path, "generate"), 0)
    assert planned == ["exp-03"] and calls == [1]
    assert (
        "0 added, 2 updated, 0 removed" in output
    )  # the base Experiment (the overlays patch other fields) and the manifest
    assert "up to date" in assert_clean_exit(cli(tmp_path, "generate", "--check"), 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overlays", "specs"]


def test_a_changed_katib_version_plans_every_spec_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Katib version changes the output (the Istio opt-out): it is part of every spec's key."""
    many_specs(tmp_path, 3)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    planned: list[str] = []
    real = planning.plan_spec
    monkeypatch.setattr(planning, "plan_spec", lambda s, *rest: planned.append(s.name) or real(s, *rest))
    assert_clean_exit(cli(tmp_path, "generate", "--katib-version", "0.18"), 0)
    assert planned == ["exp-00", "exp-01", "exp-02"]


def test_a_deleted_output_file_of_an_unchanged_spec_is_written_again(tmp_path: Path) -> None:
    """A cached plan knows only digests: a file not on disk as planned has its spec planned again."""
    specs = many_specs(tmp_path)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    before = tree(tmp_path / "overlays")
    (tmp_path / "overlays" / "exp-05" / "team-a" / "gpu" / "kustomization.yaml").unlink()
    edit(specs, "budget", 1, 2)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    after = tree(tmp_path / "overlays")
    assert after["exp-05/team-a/gpu/kustomization.yaml"] == before["exp-05/team-a/gpu/kustomization.yaml"]


def test_a_hand_edit_of_an_unchanged_spec_is_refused_with_its_diff(tmp_path: Path) -> None:
    specs = many_specs(tmp_path)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    edited = tmp_path / "overlays" / "exp-05" / "_base" / "experiment.yaml"
    edited.write_text(edited.read_text().replace("maxTrialCount: 12", "maxTrialCount: 99"))
    before = tree(tmp_path / "overlays")
    edit(specs, "budget", 1, 2)
    output = assert_clean_exit(cli(tmp_path, "generate"), 2)
    assert "exp-05/_base/experiment.yaml: edited by hand since katib-gitops wrote it" in output
    assert "-  maxTrialCount: 99" in output and "+  maxTrialCount: 12" in output
    assert tree(tmp_path / "overlays") == before


def test_a_corrupt_plan_cache_means_a_full_run(tmp_path: Path) -> None:
    specs = many_specs(tmp_path, 3)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    for cached in (core_files.cache_dir() / "generate").glob("*.plans.json"):
        cached.write_text('{"format": 1, "shared": 5, "specs": [[[')
    edit(specs, "budget", 1, 2)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    reference, _ = fresh_run(specs, tmp_path / "fresh")
    assert tree(tmp_path / "overlays") == reference


# ------------------------------------------------------------------ faults of the change made in place


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    many_specs(root)
    assert_clean_exit(cli(root, "generate"), 0)
    return root


def small_change(root: Path) -> None:
    """Updates exp-02, adds exp-99's files and removes exp-04's: well under output_tree.IN_PLACE_SHARE."""
    edit(root / "specs", "budget", 2, 3)
    (root / "specs" / "exp-99.yaml").write_text(
        dump(spec(name="exp-99", targets={"namespaces": ["team-a"], "profiles": ["gpu"]}))
    )
    edit(root / "specs", "remove", 4, 0)


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_full_disk_while_staging_leaves_the_old_tree(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = in_place_calls(monkeypatch)
    before = tree(repo / "overlays")
    small_change(repo)

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(swap, "_write", full)
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert "No space left on device" in output and "the output folder is unchanged" in output
    assert calls == [1] and tree(repo / "overlays") == before and siblings(repo) == ["overlays", "specs"]


def test_ctrl_c_before_the_commit_stops_the_run_and_leaves_the_old_tree(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = in_place_calls(monkeypatch)
    before = tree(repo / "overlays")
    small_change(repo)
    real = swap._flush

    def flushing(folder: Path) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real(folder)

    monkeypatch.setattr(swap, "_flush", flushing)
    assert "interrupted" in assert_clean_exit(cli(repo, "generate"), 130)
    assert calls == [1] and tree(repo / "overlays") == before and siblings(repo) == ["overlays", "specs"]


def test_ctrl_c_right_after_the_commit_completes_the_run(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = in_place_calls(monkeypatch)
    small_change(repo)
    real = swap._fsync_dir

    def committing(folder: Path) -> None:
        if folder.name.endswith("katib-gitops-new") and (folder / swap.JOURNAL).exists():
            os.kill(os.getpid(), signal.SIGINT)
        real(folder)

    monkeypatch.setattr(swap, "_fsync_dir", committing)
    output = assert_clean_exit(cli(repo, "generate"), 0)
    assert "interrupted after the new output was in place; it is complete" in output
    assert calls == [1] and siblings(repo) == ["overlays", "specs"]
    monkeypatch.setattr(swap, "_fsync_dir", real)
    assert "up to date" in assert_clean_exit(cli(repo, "generate", "--check"), 0)


def test_a_crash_after_the_commit_is_completed_by_the_next_run_and_refused_by_check(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed half way through the renames: --check refuses the mixed folder, the next generate rolls forward."""
    small_change(repo)
    renames = 0
    real = os.rename

    def dying(source: Any, target: Any) -> None:
        nonlocal renames
        if str(source).endswith("katib-gitops-new/2"):
            raise SystemExit("killed")  # stands for SIGKILL: nothing after this runs
        renames += 1
        real(source, target)

    monkeypatch.setattr(os, "rename", dying)
    with pytest.raises(SystemExit):
        command.generate(GenerateOptions(specs_dir=repo / "specs", out_dir=repo / "overlays"))
    monkeypatch.setattr(os, "rename", real)
    assert renames >= 2 and swap.committed(repo / "overlays")
    output = assert_clean_exit(cli(repo, "generate", "--check"), 2)
    assert "half done" in output and "run `katib-gitops generate` to complete it" in output
    output = assert_clean_exit(cli(repo, "generate"), 0)
    assert "completed the update an interrupted generate had committed" in output
    assert siblings(repo) == ["overlays", "specs"]
    reference, _ = fresh_run(repo / "specs", repo.parent / "fresh")
    assert tree(repo / "overlays") == reference


def test_a_staging_folder_that_cannot_be_removed_after_the_update_is_an_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_change(repo)
    real = swap._remove
    staging, _ = swap.paths(repo / "overlays")

    def refuse(path: Path) -> None:
        if path == staging and not (path / swap.JOURNAL).exists() and not os.path.exists(path / "journal.json.new"):
            raise OSError(errno.EPERM, os.strerror(errno.EPERM), str(path / "0"))
        real(path)

    monkeypatch.setattr(swap, "_remove", refuse)
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert "the new output is in place, but the staging folder beside it" in output
    monkeypatch.setattr(swap, "_remove", real)
    assert "up to date" in assert_clean_exit(cli(repo, "generate", "--check"), 0)
    output = assert_clean_exit(cli(repo, "generate"), 0)
    assert "removed .overlays.katib-gitops-new" in output and siblings(repo) == ["overlays", "specs"]


@pytest.mark.parametrize("which", ["changed", "removed", "folder", "untouched"])
def test_a_simulated_immutable_entry_the_update_touches_is_refused_before_anything_is_written(
    repo: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    """An immutable file or folder (the flag as the kernel reports it) stops an update in place only where it
    renames over, removes or writes in: the whole-tree swap must move every entry, this one only those."""
    out = repo / "overlays"
    pinned = {
        "changed": out / "exp-02" / "_base" / "experiment.yaml",
        "removed": out / "exp-04" / "team-b" / "cpu" / "kustomization.yaml",
        "folder": out / "exp-02" / "_base",
        "untouched": out / "exp-10" / "_base" / "kustomization.yaml",
    }[which]
    real = swap._pinned
    monkeypatch.setattr(
        swap, "_pinned", lambda p, folder: "immutable (chattr +i)" if p.absolute() == pinned else real(p, folder=folder)
    )
    before = tree(out)
    small_change(repo)
    if which == "untouched":
        assert_clean_exit(cli(repo, "generate"), 0)
        assert tree(out)["exp-10/_base/kustomization.yaml"] == before["exp-10/_base/kustomization.yaml"]
        return
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert f"{pinned.relative_to(repo)}: immutable (chattr +i)" in output and "unchanged" in output
    assert tree(out) == before and siblings(repo) == ["overlays", "specs"]


def test_removing_a_spec_in_place_drops_its_emptied_folders_and_keeps_hand_made_ones(repo: Path) -> None:
    (repo / "overlays" / "exp-04" / "team-a" / "NOTES.md").write_text("mine\n")
    (repo / "overlays" / "empty").mkdir()
    small_change(repo)
    assert_clean_exit(cli(repo, "generate"), 0)
    out = repo / "overlays"
    assert (out / "exp-04" / "team-a" / "NOTES.md").read_text() == "mine\n"
    assert not (out / "exp-04" / "_base").exists() and not (out / "exp-04" / "team-b").exists()
    assert (out / "empty").is_dir() and (out / "exp-99" / "team-a" / "gpu" / "kustomization.yaml").is_file()


# ------------------------------------------------------------------ SIGKILL at random moments of updates in place


def _plans(root: Path) -> tuple[list[output_tree.OutputFile], list[output_tree.OutputFile]]:
    old = planning.planned_files(planning.load(many_specs(root / "old", 60)))
    specs = many_specs(root / "new", 60)
    for index in (3, 17, 41):
        edit(specs, "budget", index, index)
    edit(specs, "remove", 50, 0)
    return old, planning.planned_files(planning.load(specs))


def test_sigkill_during_updates_in_place_leaves_the_old_or_the_new_tree(tmp_path: Path) -> None:
    """As tests/reliability/test_kill.py does for the whole-tree swap: fork, kill after a random delay, recover."""
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    old_files, new_files = _plans(tmp_path)
    out = tmp_path / "overlays"
    options = GenerateOptions(specs_dir=Path("specs"), out_dir=out)
    command.write_planned(old_files, options)
    (out / "NOTES.md").write_text("hand-written\n")
    snapshots = {"old": tree(out)}
    changes = output_tree.compare(out, new_files, on_disk.read_manifest(out))
    assert (
        0
        < len(changes.changed) + len(changes.added) + len(changes.removed)
        < output_tree.IN_PLACE_SHARE * len(new_files)
    )
    command.write_planned(new_files, options)
    snapshots["new"] = tree(out)
    plans = {"old": old_files, "new": new_files}

    def child(files: list[output_tree.OutputFile]) -> int:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                command.write_planned(files, options)
                code = 0
            finally:
                os._exit(code)
        return pid

    started = time.perf_counter()
    os.waitpid(child(old_files), 0)
    full = time.perf_counter() - started
    state = "old"
    rng = random.Random(11)
    outcomes = {"completed": 0, "rolled back": 0, "recovered": 0}
    for round_ in range(int(os.environ.get("KATIB_GITOPS_KILL_ROUNDS", "100")) // 2):
        target = "old" if state == "new" else "new"
        pid = child(plans[target])
        time.sleep(rng.uniform(0, full * 1.2))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with lock.hold(out):
            if swap.recover(out):
                outcomes["recovered"] += 1
        now = tree(out)
        matches = [name for name, snapshot in snapshots.items() if now == snapshot]
        assert matches, f"round {round_}: neither the old nor the new tree"
        outcomes["completed" if matches[0] == target else "rolled back"] += 1
        state = matches[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "old", "overlays"], f"round {round_}: leftovers"
    print(f"\nkills of updates in place, full write {full:.3f}s: {outcomes}")
    assert outcomes["completed"] and outcomes["rolled back"], outcomes


# ------------------------------------------------------------------ the self-check still catches what it is for


def _planned(tmp_path: Path) -> tuple[list[output_tree.OutputFile], Any]:
    from katib_gitops.expand import overlays

    spec_set = planning.load(write_specs(tmp_path))
    expansion = overlays.expand_spec(spec_set.specs[0], spec_set)
    return output_tree.spec_files(expansion), expansion


def _tampered(files: list[output_tree.OutputFile], path: str, old: str, new: str) -> list[output_tree.OutputFile]:
    out = []
    for f in files:
        if f.path == path:
            assert old in f.content
            f = output_tree.OutputFile(f.path, f.content.replace(old, new))
        out.append(f)
    return out


def test_the_self_check_renders_in_full_an_overlay_that_differs_in_more_than_its_namespace(tmp_path: Path) -> None:
    """team-b's overlays are proven from team-a's only when their text is team-a's but for the namespace line:
    a patch changed in team-b's text alone is rendered and caught."""
    files, expansion = _planned(tmp_path)
    output_tree.self_check(files, [expansion])  # as planned: passes
    wrong = _tampered(files, "demo/team-b/gpu/kustomization.yaml", "value: 1\n", "value: 2\n")
    with pytest.raises(AssertionError, match="overlay demo/team-b/gpu does not render"):
        output_tree.self_check(wrong, [expansion])


def test_the_self_check_reads_a_quoted_namespace_back_instead_of_assuming_it(tmp_path: Path) -> None:
    """A namespace written quoted is no plain-scalar variant: rendered in full, and it still reads as team-b."""
    files, expansion = _planned(tmp_path)
    quoted = _tampered(files, "demo/team-b/cpu/kustomization.yaml", "namespace: team-b\n", "namespace: 'team-b'\n")
    output_tree.self_check(quoted, [expansion])
    number = _tampered(files, "demo/team-b/cpu/kustomization.yaml", "namespace: team-b\n", "namespace: 1e3\n")
    with pytest.raises(FindingsError, match="1 problem"):  # 1e3 reads as a number: the renderer refuses it
        output_tree.self_check(number, [expansion])


def test_the_self_check_compares_each_namespace_variant_with_its_experiment(tmp_path: Path) -> None:
    """The structural comparison is a comparison: an Experiment built wrong for one namespace is caught."""
    import dataclasses

    files, expansion = _planned(tmp_path)
    overlays_ = list(expansion.overlays)
    index = next(i for i, o in enumerate(overlays_) if o.namespace == "team-b" and o.profile == "gpu")
    wrong = dict(overlays_[index].experiment, spec={**overlays_[index].experiment["spec"], "maxTrialCount": 99})
    overlays_[index] = dataclasses.replace(overlays_[index], experiment=wrong)
    with pytest.raises(AssertionError, match="overlay demo/team-b/gpu does not render"):
        output_tree.self_check(files, [dataclasses.replace(expansion, overlays=tuple(overlays_))])


# ------------------------------------------------------------------ the documents of unchanged spec files


def parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The spec files generate parses (the others' documents come from parse_cache.py)."""
    seen: list[str] = []
    real = parse_cache.load_documents

    def spy(text: str, display: str, **kwargs: Any) -> Any:
        seen.append(Path(display).name)
        return real(text, display, **kwargs)

    monkeypatch.setattr(parse_cache, "load_documents", spy)
    return seen


def test_a_run_after_an_edit_parses_only_the_edited_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = many_specs(tmp_path, 6)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    parsed = parsed_files(monkeypatch)
    edit(specs, "budget", 3, 2)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    assert parsed == ["exp-03.yaml"]
    reference, _ = fresh_run(specs, tmp_path / "fresh")
    assert tree(tmp_path / "overlays") == reference


def test_a_corrupt_documents_cache_means_every_file_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = many_specs(tmp_path, 3)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    for cached in (core_files.cache_dir() / "generate").glob("*.documents"):
        cached.write_bytes(parse_cache.HEADER + b"\xff\x00garbage")
    parsed = parsed_files(monkeypatch)
    edit(specs, "budget", 1, 2)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    assert sorted(parsed) == ["exp-00.yaml", "exp-01.yaml", "exp-02.yaml", "targets.yaml"]
    reference, _ = fresh_run(specs, tmp_path / "fresh")
    assert tree(tmp_path / "overlays") == reference


def test_a_spec_error_is_found_in_a_file_whose_documents_were_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only parsing is kept: the schema and the rules judge every document on every run. The Targets file drops
    the cpu profile; the unchanged specs that target it are parsed by no one and still refused."""
    specs = many_specs(tmp_path, 3)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    parsed = parsed_files(monkeypatch)
    targets = {**TARGETS, "spec": {**TARGETS["spec"], "profiles": {"gpu": TARGETS["spec"]["profiles"]["gpu"]}}}
    (specs / "targets.yaml").write_text(dump(targets))
    output = assert_clean_exit(cli(tmp_path, "generate"), 1)
    assert parsed == ["targets.yaml"]
    assert all(f"exp-0{i}.yaml" in output for i in range(3)) and "cpu" in output


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=8), max_size=6))
def test_the_manifest_is_written_as_json_dumps_writes_it(listed: dict[str, str]) -> None:
    """output_tree.manifest_text writes plain paths itself (json.dumps' indenting encoder is pure Python)."""
    expected = json.dumps({"generator": "katib-gitops", "files": listed}, indent=2, sort_keys=True) + "\n"
    assert output_tree.manifest_text(listed) == expected


def test_the_manifest_of_plain_paths_is_written_as_json_dumps_writes_it() -> None:
    listed = {f"exp-{i}/team-a/gpu/kustomization.yaml": f"{i:064x}" for i in range(50)}
    expected = json.dumps({"generator": "katib-gitops", "files": listed}, indent=2, sort_keys=True) + "\n"
    assert output_tree.manifest_text(listed) == expected
    empty = json.dumps({"generator": "katib-gitops", "files": {}}, indent=2, sort_keys=True) + "\n"
    assert output_tree.manifest_text({}) == empty
