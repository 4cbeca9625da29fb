"""Large runs use forked workers (generator/core/workers.py); they must change nothing but the time taken."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import corpus
from katib_gitops.commands.generate import command, planning
from katib_gitops.core import workers
from tests.helpers import spec, write_specs


def test_forked_map_keeps_input_order_and_sees_the_parents_state() -> None:
    loaded = {index: index * index for index in range(100)}  # state the workers never receive by pickle
    assert workers.forked_map(lambda i: loaded[i], 100, 2, 7) == [i * i for i in range(100)]


def test_an_error_in_a_worker_reaches_the_caller() -> None:
    def task(index: int) -> int:
        if index == 41:
            raise ValueError("spec 41 is broken")
        return index

    with pytest.raises(ValueError, match="spec 41 is broken"):
        workers.forked_map(task, 60, 2, 5)


def test_validate_reports_the_same_findings_in_the_same_order_with_workers(tmp_path: Path) -> None:
    truth = corpus.build_core(tmp_path / "core", 240)  # above the threshold for workers
    assert truth["broken"], "the corpus carries mistakes"

    def report(jobs: str) -> dict[str, object]:
        result = subprocess.run(
            [sys.executable, "-m", "generator", "validate", "--format", "json", "--jobs", jobs, str(tmp_path / "core")],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert result.returncode == 1, result.stderr
        return json.loads(result.stdout)

    assert report("1") == report("2")


def test_generate_writes_the_same_tree_with_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = [spec(name=f"s{index}", algorithm={"name": "tpe" if index % 2 else "random"}) for index in range(6)]
    trees = []
    for threshold in (1000, 2):  # one process, then forked workers
        monkeypatch.setattr(planning, "PARALLEL_SPECS", threshold)
        root = tmp_path / f"t{threshold}"
        write_specs(root, *specs)
        result = command.generate(
            command.GenerateOptions(specs_dir=root / "specs", out_dir=root / "overlays", force=True)
        )
        assert result.written
        trees.append(
            {
                p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted((root / "overlays").rglob("*"))
                if p.is_file()
            }
        )
    assert trees[0] == trees[1]
