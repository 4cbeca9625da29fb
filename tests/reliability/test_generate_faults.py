"""generate on hostile output locations and faults: refused locations, huge files, Ctrl-C after the swap,
entries it cannot change, undecodable names and the C locale, a vanished working folder, a relative cache path.

Each case exits 0 or 2 as docs/reliability.md says, names the path, never prints a traceback, and leaves the
output folder the old tree or the new one with nothing beside it.
"""

from __future__ import annotations

import copy
import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from katib_gitops.commands.generate import on_disk, swap
from katib_gitops.core import files
from tests.helpers import TARGETS, spec, write_specs
from tests.reliability.helpers import ROOT, assert_clean_exit, cli, output_files_read, process, tree


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository folder (specs/ and generated overlays/) of its own inside the test's folder."""
    root = tmp_path / "repo"
    write_specs(root)
    assert_clean_exit(cli(root, "generate"), 0)
    return root


def change_specs(root: Path) -> None:
    """A change that adds, updates and removes generated files (team-b goes away)."""
    write_specs(
        root,
        spec(algorithm={"name": "tpe"}, targets={"namespaces": ["team-a"], "profiles": ["gpu", "cpu"]}),
        spec(name="extra"),
    )


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def leftovers(*folders: Path) -> list[str]:
    """Lock pid files, staging and old trees in these folders."""
    return sorted(str(p) for folder in folders for p in folder.iterdir() if "katib-gitops" in p.name)


# ------------------------------------------------------------------ 1. output locations that hold what generate needs


@pytest.mark.parametrize("out", [".", "", "..", "overlays/..", "specs/.."])
def test_an_output_that_is_or_holds_the_working_folder_is_refused_before_anything_is_written(
    repo: Path, out: str
) -> None:
    before = tree(repo.parent)
    output = assert_clean_exit(cli(repo, "generate", "--out", out), 2)
    assert "refusing to write the output there" in output and "working folder" in output
    assert str(repo) in output  # the other path, named too
    assert tree(repo.parent) == before  # nothing written: no pid file (`..katib-gitops.pid`), no staging tree
    assert leftovers(repo, repo.parent) == []
    assert "up to date" in assert_clean_exit(cli(repo, "generate", "--check"), 0)


def test_an_output_that_is_the_specs_folder_is_refused(repo: Path) -> None:
    before = tree(repo)
    output = assert_clean_exit(cli(repo, "generate", "--out", "specs"), 2)
    assert "specs: refusing to write the output there: it is the specs folder" in output
    assert str(repo / "specs") in output
    assert tree(repo) == before


def test_an_output_that_holds_the_specs_folder_is_refused(tmp_path: Path) -> None:
    write_specs(tmp_path / "project" / "config")
    before = tree(tmp_path)
    output = assert_clean_exit(cli(tmp_path, "generate", "--specs", "project/config/specs", "--out", "project"), 2)
    assert "project: refusing to write the output there: it holds the specs folder" in output
    assert str(tmp_path / "project" / "config" / "specs") in output
    assert tree(tmp_path) == before


def test_an_output_inside_the_specs_folder_is_refused(repo: Path) -> None:
    """Its files would be read as specs by the next run."""
    before = tree(repo)
    output = assert_clean_exit(cli(repo, "generate", "--out", "specs/overlays"), 2)
    assert "specs/overlays: refusing to write the output there: it is inside the specs folder" in output
    assert tree(repo) == before


def test_an_output_that_is_a_repository_root_is_refused(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-repository"
    (other / ".git").mkdir(parents=True)
    (other / "README.md").write_text("mine\n")
    before = tree(other)
    output = assert_clean_exit(cli(repo, "generate", "--out", str(other)), 2)
    assert "refusing to write the output there: it is the root of a repository" in output
    assert str(other / ".git") in output
    assert tree(other) == before and leftovers(tmp_path) == []


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(swap, "_write", full)


def _interrupt_while_building(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(folder: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(swap, "_flush", interrupted)


def _findings(root: Path) -> None:
    (root / "specs" / "broken.yaml").write_text("kind: TuningSpec\n")


EXIT_PATHS: dict[str, tuple[int, Callable[[Path, pytest.MonkeyPatch], None]]] = {
    "written": (0, lambda root, mp: None),
    "findings": (1, lambda root, mp: _findings(root)),
    "full disk": (2, lambda root, mp: _full_disk(mp)),
    "interrupted before the swap": (130, lambda root, mp: _interrupt_while_building(mp)),
}


@pytest.mark.parametrize("path", list(EXIT_PATHS))
def test_no_pid_or_staging_file_is_left_on_any_exit_path(
    repo: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    code, arrange = EXIT_PATHS[path]
    change_specs(repo)
    arrange(repo, monkeypatch)
    result = cli(repo, "generate")
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert leftovers(repo, repo.parent) == []
    assert siblings(repo) == ["overlays", "specs"]


# ------------------------------------------------------------------ 2. huge files in the output: streamed or not read

GIB = 1 << 30


def sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as stream:
        stream.truncate(size)
    return path


def limited_memory(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file generate reads in the output folder."""
    return output_files_read(monkeypatch)


def test_a_large_hand_made_file_in_the_output_is_never_read(repo: Path, hashed: list[Path]) -> None:
    model = sparse(repo / "overlays" / "demo" / "model.bin", 2 * GIB)
    change_specs(repo)
    assert_clean_exit(cli(repo, "generate"), 0)
    assert model not in hashed and hashed  # the manifest and the files it lists were read
    assert model.stat().st_size == 2 * GIB
    assert "up to date" in assert_clean_exit(cli(repo, "generate"), 0)
    assert model not in hashed


def test_a_large_hand_made_file_costs_no_memory(repo: Path) -> None:
    """In a real process under a 512 MiB address-space limit: a 2 GiB file read whole would not fit."""
    sparse(repo / "overlays" / "demo" / "model.bin", 2 * GIB)
    change_specs(repo)
    result = process(repo, "generate", timeout=120, preexec_fn=limited_memory(512 << 20))
    assert_clean_exit(result, 0)


def test_a_generated_file_replaced_by_a_large_one_is_hashed_in_bounded_memory(repo: Path) -> None:
    """A file the manifest lists is hashed, a chunk at a time; the refusal names it without a diff of 1 GiB."""
    edited = repo / "overlays" / "demo" / "_base" / "experiment.yaml"
    edited.unlink()
    sparse(edited, GIB)
    change_specs(repo)
    result = process(repo, "generate", timeout=120, preexec_fn=limited_memory(512 << 20))
    output = assert_clean_exit(result, 2)
    assert "experiment.yaml: edited by hand since katib-gitops wrote it" in output
    assert "no diff shown" in output and "--force" in output
    assert edited.stat().st_size == GIB


def test_a_huge_manifest_is_refused_unread(repo: Path) -> None:
    manifest = repo / "overlays" / on_disk.MANIFEST
    manifest.unlink()
    sparse(manifest, GIB)
    change_specs(repo)
    result = process(repo, "generate", timeout=120, preexec_fn=limited_memory(512 << 20))
    assert "not a katib-gitops manifest" in assert_clean_exit(result, 2)


# ------------------------------------------------------------------ 3. Ctrl-C right after the swap


@pytest.mark.parametrize("mode", ["exchange", "rename"])
def test_ctrl_c_right_after_the_swap_reports_the_new_output(
    repo: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """A real SIGINT, sent the moment the new tree is in place (the parent folder's fsync follows the swap)."""
    if mode == "rename":
        monkeypatch.setenv(swap.SWAP_ENV, "rename")
    change_specs(repo)
    real = swap._fsync_dir

    def swapped(folder: Path) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real(folder)

    monkeypatch.setattr(swap, "_fsync_dir", swapped)
    output = assert_clean_exit(cli(repo, "generate"), 0)
    assert "interrupted after the new output was in place; it is complete" in output
    assert "added" in output and "removed" in output
    monkeypatch.setattr(swap, "_fsync_dir", real)
    assert siblings(repo) == ["overlays", "specs"]  # the old tree is gone too
    assert "up to date" in assert_clean_exit(cli(repo, "generate", "--check"), 0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_ctrl_c_before_the_swap_still_stops_the_run(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(repo / "overlays")
    change_specs(repo)
    real = swap._flush

    def flushing(folder: Path) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real(folder)

    monkeypatch.setattr(swap, "_flush", flushing)
    output = assert_clean_exit(cli(repo, "generate"), 130)
    assert "interrupted" in output
    assert tree(repo / "overlays") == before and siblings(repo) == ["overlays", "specs"]


@pytest.mark.parametrize("which", ["staging", "old"])
def test_a_leftover_beside_the_output_is_removed_with_an_accurate_message(repo: Path, which: str) -> None:
    """What a kill just after the swap leaves: the old tree beside the output, under the staging or old name."""
    new, old = swap.paths(repo / "overlays")
    leftover = new if which == "staging" else old
    shutil.copytree(repo / "overlays", leftover, symlinks=True)
    before = tree(repo / "overlays")
    output = assert_clean_exit(cli(repo, "generate"), 0)
    assert f"overlays: removed {leftover.name}, left beside it by an earlier generate that did not finish" in output
    assert "the output folder is whole" in output and "nothing written" in output
    assert tree(repo / "overlays") == before and siblings(repo) == ["overlays", "specs"]


# ------------------------------------------------------------------ 4. entries generate cannot change


def _unprivileged_prefix() -> list[str]:
    """A command prefix under which permission bits apply: none for a user, root without DAC overrides."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("as root, read-only folders need setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
    prefix = [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "pass"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.decode(errors='replace').strip()}")
    return prefix


def unprivileged_generate(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_unprivileged_prefix(), sys.executable, "-m", "katib_gitops", "generate"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def test_a_read_only_folder_in_the_output_does_not_block_generate(repo: Path) -> None:
    out = repo / "overlays"
    (out / "vendor").mkdir()
    (out / "vendor" / "model.txt").write_text("hand-made\n")
    read_only = [out / "vendor", out / "demo" / "_base", out]  # hand-made, generated, the output folder itself
    for folder in read_only:
        folder.chmod(0o555)
    try:
        change_specs(repo)
        assert_clean_exit(unprivileged_generate(repo), 0)
        assert (out / "vendor" / "model.txt").read_text() == "hand-made\n"
        assert "tpe" in (out / "demo" / "_base" / "experiment.yaml").read_text()
        assert all(folder.stat().st_mode & 0o777 == 0o555 for folder in read_only)  # modes carried over
        assert siblings(repo) == ["overlays", "specs"]
        (repo / "specs" / "demo.yaml").unlink()  # and the next run, which removes the read-only generated folder
        assert_clean_exit(unprivileged_generate(repo), 0)
        assert not (out / "demo").exists() and siblings(repo) == ["overlays", "specs"]
    finally:
        for folder in read_only:
            if folder.exists():
                folder.chmod(0o755)


def _chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Make a file or folder immutable (chattr +i: root and a filesystem with inode flags); undone afterwards."""
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("chattr +i needs root and e2fsprogs")
    probe = tmp_path / "probe"
    probe.write_text("")
    if subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False).returncode != 0:
        pytest.skip(f"the filesystem of {tmp_path} has no immutable flag")
    _chattr("-i", probe)
    made: list[Path] = []

    def make(path: Path) -> None:
        _chattr("+i", path)
        made.append(path)

    yield make
    for path in made:
        if os.path.lexists(path):
            _chattr("-i", path)


@pytest.mark.parametrize("which", ["changed", "unchanged", "folder"])
def test_an_immutable_entry_in_the_output_is_refused_before_the_swap(
    repo: Path, immutable: Callable[[Path], None], which: str
) -> None:
    out = repo / "overlays"
    pinned = {
        "changed": out / "demo" / "_base" / "experiment.yaml",
        "unchanged": out / "demo" / "_base" / "kustomization.yaml",
        "folder": out / "demo" / "team-a",
    }[which]
    immutable(pinned)
    before = tree(out)
    change_specs(repo)
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert f"{pinned.relative_to(repo)}: immutable (chattr +i)" in output and "unchanged" in output
    assert tree(out) == before and siblings(repo) == ["overlays", "specs"]
    _chattr("-i", pinned)
    assert_clean_exit(cli(repo, "generate"), 0)
    assert siblings(repo) == ["overlays", "specs"]


def test_an_immutable_leftover_of_an_earlier_run_is_named(repo: Path, immutable: Callable[[Path], None]) -> None:
    """Not "cannot recover from an interrupted generate": what cannot be removed, and why."""
    new, _ = swap.paths(repo / "overlays")
    shutil.copytree(repo / "overlays", new, symlinks=True)
    pinned = new / "demo" / "_base" / "experiment.yaml"
    immutable(pinned)
    before = tree(repo / "overlays")
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert f"{new}: left beside the output folder by an earlier generate" in output
    assert f"immutable (chattr +i) ({pinned})" in output and "remove it by hand" in output
    assert "cannot recover" not in output
    assert tree(repo / "overlays") == before


def test_a_simulated_immutable_file_is_refused_before_the_swap(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same without root: the flag as the kernel would report it."""
    pinned = repo / "overlays" / "demo" / "_base" / "experiment.yaml"
    real = swap._pinned
    monkeypatch.setattr(
        swap, "_pinned", lambda p, folder: "immutable (chattr +i)" if p.absolute() == pinned else real(p, folder=folder)
    )
    before = tree(repo / "overlays")
    change_specs(repo)
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert "demo/_base/experiment.yaml: immutable (chattr +i)" in output
    assert tree(repo / "overlays") == before and siblings(repo) == ["overlays", "specs"]


def test_an_old_tree_that_cannot_be_removed_after_the_swap_is_an_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any other reason (EPERM simulated): exit 2 naming it, the new tree in place; the next run names it again."""
    change_specs(repo)
    real = swap._remove
    staging, _ = swap.paths(repo / "overlays")

    def refuse(path: Path) -> None:
        if path == staging and (path / on_disk.MANIFEST).exists():
            raise OSError(errno.EPERM, os.strerror(errno.EPERM), str(path / "demo"))
        real(path)

    monkeypatch.setattr(swap, "_remove", refuse)
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert "the new output is in place, but the previous tree beside it" in output
    assert f"Operation not permitted ({staging / 'demo'})" in output
    assert "up to date" in assert_clean_exit(cli(repo, "generate", "--check"), 0)  # the new tree
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert "left beside the output folder by an earlier generate" in output and "cannot recover" not in output
    monkeypatch.setattr(swap, "_remove", real)
    output = assert_clean_exit(cli(repo, "generate"), 0)
    assert f"removed {staging.name}" in output and siblings(repo) == ["overlays", "specs"]


# ------------------------------------------------------------------ 5. file names, locales, the working folder

LATIN1 = os.fsdecode(b"caf\xe9.yaml")  # not UTF-8: Python names it with a surrogate escape


def test_a_latin1_spec_file_name(tmp_path: Path) -> None:
    folder = write_specs(tmp_path)
    (folder / "demo.yaml").rename(folder / LATIN1)
    output = assert_clean_exit(cli(tmp_path, "generate"), 0)
    assert "added" in output
    header = (tmp_path / "overlays" / "demo" / "_base" / "experiment.yaml").read_text(encoding="utf-8")
    assert header.startswith("# Generated by katib-gitops from specs/caf\\xe9.yaml.")
    assert "nothing written" in assert_clean_exit(cli(tmp_path, "generate"), 0)  # the repeat-run record works
    assert "up to date" in assert_clean_exit(cli(tmp_path, "generate", "--check"), 0)


def test_a_latin1_spec_file_name_with_an_error_is_named(tmp_path: Path) -> None:
    folder = write_specs(tmp_path)
    (folder / LATIN1).write_text("kind: TuningSpec\n")
    output = assert_clean_exit(cli(tmp_path, "generate"), 1)
    assert "specs/caf\\udce9.yaml:1:1: error" in output or "caf\\xe9.yaml:1:1: error" in output


C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


def test_the_c_locale_with_non_ascii_paths(tmp_path: Path) -> None:
    root = tmp_path / "dépôt"
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["gitops"]["path"] = "sortie-é"  # where --out writes (issue 11, item 7)
    specs = write_specs(root, targets=targets).rename(root / "spécs")
    (specs / "demo.yaml").rename(specs / LATIN1)
    run = ("generate", "--specs", "spécs", "--out", "sortie-é")
    output = assert_clean_exit(process(root, *run, env=C_LOCALE), 0)
    assert "added" in output
    header = (root / "sortie-é" / "demo" / "_base" / "experiment.yaml").read_text(encoding="utf-8")
    assert header.startswith("# Generated by katib-gitops from spécs/caf\\xe9.yaml.")  # as under UTF-8
    assert "nothing written" in assert_clean_exit(process(root, *run, env=C_LOCALE), 0)
    assert "up to date" in assert_clean_exit(process(root, *run, "--check"), 0)  # the same tree in UTF-8


@pytest.mark.parametrize("paths", ["relative", "absolute"])
def test_a_deleted_working_folder(tmp_path: Path, paths: str) -> None:
    write_specs(tmp_path)
    (tmp_path / "gone").mkdir()
    where = ["--specs", str(tmp_path / "specs"), "--out", str(tmp_path / "overlays")] if paths == "absolute" else []
    result = subprocess.run(
        ["sh", "-c", 'cd gone && rmdir ../gone && exec "$@"', "sh", sys.executable, "-m", "katib_gitops", "generate"]
        + where,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    output = assert_clean_exit(result, 2)
    assert "the working folder cannot be found" in output and "deleted or moved away" in output
    assert siblings(tmp_path) == ["specs"]


# ------------------------------------------------------------------ 6. a relative XDG_CACHE_HOME


def test_a_relative_xdg_cache_home_is_ignored(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")
    assert files.cache_dir() == home / ".cache" / "katib-gitops"
    change_specs(repo)
    assert_clean_exit(cli(repo, "generate"), 0)
    assert siblings(repo) == ["overlays", "specs"]  # no cache/ in the repository
    assert list((home / ".cache" / "katib-gitops" / "generate").iterdir())  # the record went to ~/.cache
    monkeypatch.setenv("HOME", "relative-home")
    with pytest.raises(OSError, match="HOME is relative"):
        files.cache_dir()
