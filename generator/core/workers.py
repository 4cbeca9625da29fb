"""Forked worker processes for large runs (validate --jobs, generate of many specs).

Workers are forked, so they inherit everything the parent has loaded (schemas, the spec
set, the plan) instead of re-importing and re-reading it; only indexes go to them and
results come back, in input order. `multiprocessing` is imported only here and only when
a run is large enough: its import alone would cost every small run ~8 ms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
_TASK: Callable[[int], Any] | None = None


def can_fork(jobs: int) -> bool:
    if jobs <= 1:
        return False
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def forked_map(task: Callable[[int], T], count: int, jobs: int, chunk: int) -> list[T]:
    """[task(0), ..., task(count - 1)], computed by `jobs` forked processes, `chunk` indexes at a time."""
    import multiprocessing

    global _TASK
    _TASK = task
    chunks = [range(start, min(start + chunk, count)) for start in range(0, count, chunk)]
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            return [result for part in pool.imap(_run, chunks) for result in part]
    finally:
        _TASK = None


def _run(indexes: Sequence[int]) -> list[Any]:
    assert _TASK is not None, "forked_map sets the task before it forks"
    return [_TASK(index) for index in indexes]
