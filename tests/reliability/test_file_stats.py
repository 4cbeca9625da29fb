"""generate trusts a file's lstat as the last run recorded it instead of reading it (generator/commands/generate/
file_stats.py), the way Git's index does: a hand edit is still found, whatever it keeps of the file's metadata.

Why each case holds: a file's ctime is set to the file system's clock by every write, rename, link, chmod and
utime, and cannot be set back by its owner; a record is made only of files whose ctime and mtime are older than
that clock read just before (lock.clock), so a change in the same tick as the record cannot look unchanged.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from katib_gitops.commands.generate import file_stats, lock, on_disk
from katib_gitops.core import files as core_files
from tests.reliability.helpers import assert_clean_exit, cli, output_files_read
from tests.reliability.test_incremental import many_specs

EXPERIMENT = "exp-05/_base/experiment.yaml"


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file generate reads in the output folder, by its absolute path."""
    return output_files_read(monkeypatch)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Generated twice: the second run records the files the first wrote in its last clock tick."""
    many_specs(tmp_path, 6)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    assert "up to date" in assert_clean_exit(cli(tmp_path, "generate"), 0)
    return tmp_path


def test_a_repeat_run_reads_only_the_manifest(repo: Path, read: list[Path]) -> None:
    assert "up to date" in assert_clean_exit(cli(repo, "generate"), 0)
    assert read == [repo / "overlays" / on_disk.MANIFEST]


def test_a_hand_edit_that_keeps_the_size_and_the_mtime_is_found(repo: Path) -> None:
    """Same length, mtime set back with utime: the ctime still moves, so the file is read and the edit refused."""
    edited = repo / "overlays" / EXPERIMENT
    before = edited.stat()
    text = edited.read_text()
    assert "maxTrialCount: 12" in text
    edited.write_text(text.replace("maxTrialCount: 12", "maxTrialCount: 13"))
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert edited.stat().st_size == before.st_size and edited.stat().st_mtime_ns == before.st_mtime_ns
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert f"{EXPERIMENT}: edited by hand since katib-gitops wrote it" in output


@pytest.mark.parametrize("folder", ["exp-05", "exp-05/team-a", "exp-05/team-a/gpu"])
def test_a_folder_replaced_by_a_link_to_its_moved_files_is_not_up_to_date(
    repo: Path, tmp_path: Path, folder: str
) -> None:
    """The files keep their inode and ctime when their folder is moved. The folder that held it changed (its
    mtime and ctime), so every folder is looked at, the link on the way is found, and generate refuses it as
    a full run does."""
    moved = tmp_path / "elsewhere"
    shutil.move(repo / "overlays" / folder, moved)
    (repo / "overlays" / folder).symlink_to(moved, target_is_directory=True)
    output = assert_clean_exit(cli(repo, "generate"), 2)
    assert f"{folder}: not written by katib-gitops, refusing to overwrite it" in output


def test_a_repeat_run_looks_only_at_the_folders_that_hold_folders(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While those are as recorded, no folder below them can have been replaced (on_disk.parent_folders)."""

    def every_folder(*_args: object) -> bool:
        raise AssertionError("every folder looked at")

    monkeypatch.setattr(on_disk, "_in_real_folders", every_folder)
    assert "up to date" in assert_clean_exit(cli(repo, "generate"), 0)


def test_a_corrupt_record_means_every_file_is_read(repo: Path, read: list[Path]) -> None:
    records = list((core_files.cache_dir() / "generate").glob("*.stats.json"))
    assert records
    for record in records:
        record.write_text('{"format": 1, "files": {"x": [1, 2')
    assert "up to date" in assert_clean_exit(cli(repo, "generate"), 0)
    listed = on_disk.read_manifest(repo / "overlays")
    assert listed and {repo / "overlays" / p for p in listed} <= set(read)


def test_a_file_changed_in_the_clock_tick_of_its_record_is_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose ctime is the clock's reading (or later) could still change without its lstat changing."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("new.yaml", "old.yaml"):
        (out / name).write_text(name)
    new = (out / "new.yaml").stat()
    monkeypatch.setattr(lock, "clock", lambda _out: lock.Clock(new.st_ctime_ns, new.st_dev))
    manifest = {"new.yaml": "digest-new", "old.yaml": "digest-old"}
    file_stats.store(out, manifest, "manifest", {}, None, None, relinked=True)
    recorded = file_stats.load(out)
    assert recorded is not None and recorded.holds("manifest", 2)
    assert not recorded.matches(0, on_disk.stat_key(new))
    old = (out / "old.yaml").stat()
    assert recorded.matches(1, on_disk.stat_key(old)) is (old.st_ctime_ns < new.st_ctime_ns)


def test_a_file_read_during_the_run_and_changed_before_the_record_is_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its digest is of the bytes it had when read: an lstat taken after a change would vouch for them wrongly."""
    out = tmp_path / "out"
    out.mkdir()
    path = out / "a.yaml"
    path.write_text("one")
    read_as = on_disk.stat_key(path.stat())
    path.write_text("two, longer")
    later = os.stat(path)
    monkeypatch.setattr(lock, "clock", lambda _out: lock.Clock(later.st_ctime_ns + 1, later.st_dev))
    before = {"a.yaml": on_disk.Entry("file", "digest-one", on_disk.UNKNOWN_SIZE, read_as)}
    file_stats.store(out, {"a.yaml": "digest-one"}, "manifest", before, None, None, relinked=True)
    recorded = file_stats.load(out)
    assert recorded is not None and recorded.stats == file_stats.NOT_RECORDED
