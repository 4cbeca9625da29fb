"""SIGKILL at random moments of a large generate: the output is always the old tree or the new one, exactly.

The guarantee tested (docs/reliability.md): after any kill, once the next run has
recovered (it does so under the lock before anything else), the output folder equals
the tree before the killed run or the tree it was writing: every file, link and folder,
hand-made entries included, and nothing is left beside it.

Each round forks this process, whose modules are loaded and plans made once, and the
child runs generate's write phase (`command.write_planned`, what the CLI runs after
checking the specs) from the current tree to the other one; the parent kills it after a
random delay drawn over the measured length of a whole write (measured again every ten
rounds: the disk's speed drifts). Rounds alternate the renameat2 exchange and the
portable two-rename swap. Real timing, no hooks.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import command, lock, planning, swap
from katib_gitops.commands.generate.command import GenerateOptions
from katib_gitops.commands.generate.output_tree import OutputFile
from tests.helpers import TARGETS, spec, write_specs
from tests.reliability.helpers import tree

SPECS = 200
ROUNDS = int(os.environ.get("KATIB_GITOPS_KILL_ROUNDS", "100"))


def spec_sets(root: Path) -> tuple[list[OutputFile], list[OutputFile]]:
    targets = {**TARGETS, "spec": {**TARGETS["spec"], "namespaces": ["team-a"]}}
    where = {"namespaces": ["team-a"], "profiles": ["gpu", "cpu"]}
    old = [spec(name=f"exp-{i:03d}", targets=where) for i in range(SPECS)]
    new = [
        spec(
            name=f"exp-{i:03d}",
            targets=where if i >= 50 else {"namespaces": ["team-a"], "profiles": ["gpu"]},
            algorithm={"name": "tpe" if i % 2 else "random"},
        )
        for i in range(20, SPECS + 20)
    ]
    plans = []
    for name, specs in (("old", old), ("new", new)):
        plans.append(planning.planned_files(planning.load(write_specs(root / name, *specs, targets=targets))))
    return plans[0], plans[1]


def write_in_child(files: list[OutputFile], out: Path, swap: str) -> int:
    pid = os.fork()
    if pid == 0:  # the child: generate's write phase, then out without running any of pytest's code
        code = 1
        try:
            if swap == "rename":
                os.environ[swap.SWAP_ENV] = "rename"
            command.write_planned(files, GenerateOptions(specs_dir=Path("specs"), out_dir=out))
            code = 0
        finally:
            os._exit(code)
    return pid


def timed_write(files: list[OutputFile], out: Path) -> float:
    """How long a whole write takes in a forked child, as the rounds' children do it."""
    started = time.perf_counter()
    os.waitpid(write_in_child(files, out, "exchange"), 0)
    return time.perf_counter() - started


def recover(out: Path) -> str:
    """What the next katib-gitops generate does first."""
    with lock.hold(out):
        return swap.recover(out)


def test_sigkill_at_random_moments_leaves_the_old_or_the_new_tree(tmp_path: Path) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    old_files, new_files = spec_sets(tmp_path)
    out = tmp_path / "overlays"
    command.write_planned(old_files, GenerateOptions(specs_dir=Path("specs"), out_dir=out))
    (out / "NOTES.md").write_text("hand-written\n")
    os.symlink("NOTES.md", out / "exp-000" / "notes")
    (out / "scratch").mkdir()
    snapshots: dict[str, dict[str, Any]] = {"old": tree(out)}
    command.write_planned(new_files, GenerateOptions(specs_dir=Path("specs"), out_dir=out))
    snapshots["new"] = tree(out)
    full = max(timed_write(files, out) for files in (old_files, new_files))  # to draw the kill delays over
    assert tree(out) == snapshots["new"]
    assert snapshots["new"]["NOTES.md"] == b"hand-written\n" and len(snapshots["new"]) > 4 * SPECS
    assert snapshots["old"] != snapshots["new"]

    plans = {"old": old_files, "new": new_files}
    state = "new"
    outcomes = {"completed": 0, "rolled back": 0, "recovered": 0}
    rng = random.Random(os.environ.get("KATIB_GITOPS_KILL_SEED", "6"))
    deadline = time.monotonic() + 900  # about 75 s on 2 idle cores; only a guard against a hang
    for round_ in range(ROUNDS):
        if round_ and round_ % 10 == 0:  # the disk's speed drifts: measure a whole write again
            target = "old" if state == "new" else "new"
            full = timed_write(plans[target], out)
            assert tree(out) == snapshots[target]
            state = target
        target = "old" if state == "new" else "new"
        child = write_in_child(plans[target], out, "rename" if round_ % 2 else "exchange")
        time.sleep(rng.uniform(0, full * 1.3))
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        if recover(out):
            outcomes["recovered"] += 1
        now = tree(out)
        matches = [name for name, snapshot in snapshots.items() if now == snapshot]
        assert matches, (
            f"round {round_}: the output is neither the old nor the new tree ({_difference(now, snapshots)})"
        )
        outcomes["completed" if matches[0] == target else "rolled back"] += 1
        state = matches[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "old", "overlays"], (
            f"round {round_}: leftovers beside the output"
        )
        assert time.monotonic() < deadline, f"too slow: {round_} rounds in 900 s"
    print(f"\n{ROUNDS} kills, full write {full:.2f}s: {outcomes}")
    # Both outcomes happen, and kills landed in the middle of writes (something was left to recover).
    assert outcomes["completed"] >= ROUNDS // 20 and outcomes["rolled back"] >= ROUNDS // 5, outcomes
    assert outcomes["recovered"] >= ROUNDS // 5, outcomes


def _difference(now: dict[str, Any], snapshots: dict[str, dict[str, Any]]) -> str:
    parts = []
    for name, snapshot in snapshots.items():
        missing = sorted(set(snapshot) - set(now))[:3]
        extra = sorted(set(now) - set(snapshot))[:3]
        differ = sorted(p for p in set(now) & set(snapshot) if now[p] != snapshot[p])[:3]
        parts.append(f"vs {name}: missing {missing}, extra {extra}, differ {differ}")
    return "; ".join(parts)
