"""generate's output folder: all or nothing, never through a link, never another's file, one run at a time."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from katib_gitops.commands.generate import lock, swap
from tests.helpers import spec, write_specs
from tests.reliability.helpers import ROOT, assert_clean_exit, cli, process, tree


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with generated overlays, a hand-written note, a hand-made link and an empty folder in them."""
    write_specs(tmp_path)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    out = tmp_path / "overlays"
    (out / "demo" / "team-b" / "NOTES.md").write_text("hand-written\n")
    os.symlink("../NOTES.md", out / "demo" / "team-b" / "notes-link")
    (out / "scratch").mkdir()
    return tmp_path


def change_specs(root: Path) -> None:
    """A change that adds, updates and removes generated files (team-b goes away)."""
    write_specs(
        root,
        spec(algorithm={"name": "tpe"}, targets={"namespaces": ["team-a"], "profiles": ["gpu", "cpu"]}),
        spec(name="extra"),
    )


def siblings(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_a_change_replaces_the_tree_and_carries_hand_made_entries_over(repo: Path) -> None:
    change_specs(repo)
    assert_clean_exit(cli(repo, "generate"), 0)
    after = tree(repo / "overlays")
    assert after["demo/team-b/NOTES.md"] == b"hand-written\n"
    assert after["demo/team-b/notes-link"] == ("link", "../NOTES.md")
    assert after["scratch"] == ("dir",)
    assert (
        "demo/team-b/gpu/kustomization.yaml" not in after and "demo/team-b/gpu" not in after
    )  # stale, and its emptied folder
    assert "extra/_base/experiment.yaml" in after
    assert siblings(repo) == ["overlays", "specs"]  # no staging, old tree, lock or pid file left behind


def test_nothing_is_touched_when_nothing_changed(repo: Path) -> None:
    out = repo / "overlays"
    inode = out.stat().st_ino
    assert "nothing written" in assert_clean_exit(cli(repo, "generate"), 0)
    assert out.stat().st_ino == inode


def test_a_full_disk_leaves_the_output_unchanged(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(repo / "overlays")
    change_specs(repo)
    written = []
    real_write = swap._write

    def fill_up(path: Path, data: bytes) -> None:
        if len(written) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        real_write(path, data)

    monkeypatch.setattr(swap, "_write", fill_up)
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert "No space left on device" in output and "unchanged" in output
    assert tree(repo / "overlays") == before
    assert siblings(repo) == ["overlays", "specs"]


@pytest.mark.parametrize("where", ["staging", "swap"])
def test_a_read_only_folder_leaves_the_output_unchanged(
    repo: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Root ignores permission bits, so the read-only filesystem is simulated where the writer meets it."""
    before = tree(repo / "overlays")
    change_specs(repo)
    name, real = ("mkdir", os.mkdir) if where == "staging" else ("rename", os.rename)

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(args[0]))

    monkeypatch.setattr(os, name, read_only)
    monkeypatch.setattr(
        swap, "_exchange", lambda a, b: (_ for _ in ()).throw(OSError(errno.EROFS, "Read-only file system", str(b)))
    )
    output = assert_clean_exit(cli(repo, "generate"), 2)
    monkeypatch.setattr(os, name, real)
    assert "Read-only file system" in output
    assert tree(repo / "overlays") == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the simulated test above covers it")
def test_a_really_read_only_folder(repo: Path) -> None:
    before = tree(repo / "overlays")
    change_specs(repo)
    repo.chmod(0o555)
    try:
        assert_clean_exit(cli(repo, "generate"), 2)
    finally:
        repo.chmod(0o755)
    assert tree(repo / "overlays") == before


def test_a_generated_file_edited_by_hand_is_refused_with_the_diff(repo: Path) -> None:
    edited = repo / "overlays" / "demo" / "_base" / "experiment.yaml"
    edited.write_text(edited.read_text().replace("maxTrialCount: 12", "maxTrialCount: 99"))
    before = tree(repo / "overlays")
    change_specs(repo)
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert "experiment.yaml: edited by hand" in output and "--force" in output
    assert "(on disk)" in output and "-  maxTrialCount: 99" in output and "+  maxTrialCount: 12" in output
    assert len(output.splitlines()) < 60
    assert tree(repo / "overlays") == before
    assert_clean_exit(cli(repo, "generate", "--force"), 0)
    assert "maxTrialCount: 12" in edited.read_text()


def test_files_katib_gitops_did_not_generate_are_never_deleted(repo: Path) -> None:
    out = repo / "overlays"
    stale = out / "demo" / "team-b" / "gpu" / "kustomization.yaml"
    stale.unlink()
    os.symlink("/etc/hostname", stale)  # a generated path, now a link by hand: not ours any more
    (out / "demo" / "team-b" / "cpu" / "mine.yaml").write_text("mine\n")
    change_specs(repo)
    assert_clean_exit(cli(repo, "generate"), 0)
    assert os.readlink(stale) == "/etc/hostname"
    assert (out / "demo" / "team-b" / "cpu" / "mine.yaml").read_text() == "mine\n"
    assert not (out / "demo" / "team-b" / "cpu" / "kustomization.yaml").exists()


def test_a_link_where_katib_gitops_writes_is_never_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_specs(tmp_path)
    (tmp_path / "overlays").mkdir()
    os.symlink(elsewhere, tmp_path / "overlays" / "demo")
    output = assert_clean_exit(cli(tmp_path, "generate"), 2)
    assert "overlays/demo: not written by katib-gitops" in output
    assert_clean_exit(cli(tmp_path, "generate", "--force"), 0)
    assert list(elsewhere.iterdir()) == []
    assert (tmp_path / "overlays" / "demo").is_dir() and not (tmp_path / "overlays" / "demo").is_symlink()


def test_an_output_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    write_specs(tmp_path)
    (tmp_path / "real").mkdir()
    os.symlink("real", tmp_path / "overlays")
    assert "symbolic link" in assert_clean_exit(cli(tmp_path, "generate"), 2)
    assert list((tmp_path / "real").iterdir()) == []


def test_fifos_in_the_output_are_never_opened_or_removed(repo: Path) -> None:
    os.mkfifo(repo / "overlays" / "demo" / "pipe")
    change_specs(repo)
    assert "FIFO" in assert_clean_exit(process(repo, "generate", timeout=30), 2)
    assert (repo / "overlays" / "demo" / "pipe").exists()


def test_a_file_where_the_output_folder_goes_is_a_usage_error(tmp_path: Path) -> None:
    write_specs(tmp_path)
    (tmp_path / "overlays").write_text("")
    assert "not a directory" in assert_clean_exit(cli(tmp_path, "generate"), 2)


# ------------------------------------------------------------------ one run at a time


def test_a_second_generate_is_refused_while_one_runs(repo: Path) -> None:
    change_specs(repo)
    with lock.hold(repo / "overlays"):
        output = assert_clean_exit(process(repo, "generate", timeout=60), 2)
    assert f"another katib-gitops generate is running (pid {os.getpid()})" in output
    assert_clean_exit(cli(repo, "generate"), 0)


def test_a_check_waits_for_no_one_but_is_refused_during_a_write(repo: Path) -> None:
    with lock.hold(repo / "overlays", exclusive=False):
        assert_clean_exit(process(repo, "generate", "--check", timeout=60), 0)  # checks share the lock
        assert "another katib-gitops run" in assert_clean_exit(process(repo, "generate", timeout=60), 2)


def test_a_stale_lock_is_no_obstacle(repo: Path) -> None:
    """flock dies with its process: a killed holder leaves at most a pid file, which names no live process."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, sys.argv[1]);"
            "from pathlib import Path; from katib_gitops.commands.generate import lock;"
            "cm = lock.hold(Path(sys.argv[2])); cm.__enter__(); print('held', flush=True); time.sleep(60)",
            str(ROOT),
            str(repo / "overlays"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert lock.pid_file(repo / "overlays").read_text().strip() == str(holder.pid)
    holder.kill()
    holder.wait()
    change_specs(repo)
    assert_clean_exit(cli(repo, "generate"), 0)
    assert not lock.pid_file(repo / "overlays").exists()


def test_concurrent_generates_never_interleave(repo: Path) -> None:
    change_specs(repo)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "katib_gitops", "generate"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for _ in range(3)
    ]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    for code, _out, err in results:
        assert code in (0, 2) and "Traceback" not in err, err
        assert code == 0 or "another katib-gitops" in err
    assert any(code == 0 for code, _, _ in results)
    assert "up to date" in assert_clean_exit(cli(repo, "generate", "--check"), 0)


# ------------------------------------------------------------------ recovery after a kill


def test_the_next_generate_restores_a_tree_left_aside_by_a_kill(repo: Path) -> None:
    """The state a kill between the two renames of the portable swap leaves: no output folder, the old tree aside."""
    before = tree(repo / "overlays")
    new, old = swap.paths(repo / "overlays")
    os.rename(repo / "overlays", old)
    new.mkdir()
    (new / "half-written.yaml").write_text("x")
    assert "interrupted generate" in assert_clean_exit(cli(repo, "generate", "--check"), 2)
    assert_clean_exit(cli(repo, "generate"), 0)
    assert tree(repo / "overlays") == before
    assert siblings(repo) == ["overlays", "specs"]


def test_leftovers_of_a_kill_after_the_swap_are_removed(repo: Path) -> None:
    new, old = swap.paths(repo / "overlays")
    shutil.copytree(repo / "overlays", old, symlinks=True)
    new.mkdir()
    before = tree(repo / "overlays")
    assert_clean_exit(cli(repo, "generate", "--check"), 0)  # a check reads the output as it is
    assert_clean_exit(cli(repo, "generate"), 0)
    assert tree(repo / "overlays") == before and siblings(repo) == ["overlays", "specs"]


@pytest.mark.parametrize("mode", ["exchange", "rename"])
def test_both_swaps_give_the_same_tree(repo: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if mode == "rename":
        monkeypatch.setenv(swap.SWAP_ENV, "rename")
    change_specs(repo)
    started = time.perf_counter()
    assert_clean_exit(cli(repo, "generate"), 0)
    assert time.perf_counter() - started < 30
    assert "up to date" in assert_clean_exit(cli(repo, "generate", "--check"), 0)
    assert siblings(repo) == ["overlays", "specs"]
