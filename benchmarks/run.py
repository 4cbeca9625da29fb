"""Benchmarks: every command side by side, medians and ratios next to their targets.

    python -m benchmarks.run                # full size (what docs/performance.md reports)
    python -m benchmarks.run --size smoke   # seconds; CI runs this to keep the suite working

It builds its corpora itself (benchmarks/corpus.py) in a temporary folder.
This is a measurement, not a test: it prints what it measured and whether each
target is met, and exits 0 either way unless --fail-on-miss is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import corpus

ROOT = Path(__file__).resolve().parent.parent
SIZES = {
    "full": {"core": 2000, "katib": 2000, "specs": 1000, "repeat": 5, "startup": 31},
    "smoke": {"core": 60, "katib": 40, "specs": 20, "repeat": 1, "startup": 3},
}


@dataclasses.dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str
    met: bool | None  # None: informational


def katib_gitops() -> list[str]:
    """The console script users run (its start-up is what the hook pays), else `python -m generator`."""
    script = Path(sys.executable).parent / "katib-gitops"
    return [str(script)] if script.exists() else [sys.executable, "-m", "generator"]


# Commands run as a user runs them: bytecode caches on (CI may switch them off for the
# tests) and katib-gitops' own cache in the benchmark's folder, warmed by an untimed run.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(
    command: Sequence[str], cwd: Path | None = None, ok: tuple[int, ...] = (0, 1)
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
    if result.returncode not in ok:
        raise RuntimeError(f"{' '.join(command[:4])}... exited {result.returncode}: {result.stderr[-500:]}")
    return result


def timed(
    command: Sequence[str], runs: int, cwd: Path | None = None, ok: tuple[int, ...] = (0, 1), warm: bool = True
) -> float:
    """Median wall time of `runs` runs of `command`, in seconds, after one untimed warm-up run."""
    if warm:
        run(command, cwd, ok)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run(command, cwd, ok)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def timed_together(commands: Sequence[Sequence[str]], runs: int) -> list[float]:
    """Medians of short commands run in turn (one run of each per round), so a noisy
    moment of the machine weighs on all of them alike rather than on one."""
    for command in commands:
        run(command)
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for index, command in enumerate(commands):
            start = time.perf_counter()
            run(command)
            samples[index].append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def peak_rss_mib(command: Sequence[str]) -> float:
    """Peak resident memory of `command` (the largest of it and its children), in MiB."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    return int(run([sys.executable, "-c", code, *command], ok=(0,)).stdout) / 1024


def timed_call(call: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def yaml_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("*.yaml"))


def parse_only_command(folder: Path) -> list[str]:
    code = (
        "import sys, glob, yaml\n"
        "for name in sorted(glob.glob(sys.argv[1] + '/*.yaml')):\n"
        "    with open(name, 'rb') as handle:\n"
        "        list(yaml.load_all(handle, Loader=yaml.CSafeLoader))\n"
    )
    return [sys.executable, "-c", code, str(folder)]


def bench_core(work: Path, size: dict[str, int]) -> list[Figure]:
    folder = work / "core"
    truth = corpus.build_core(folder, size["core"])
    command = [*katib_gitops(), "validate", str(folder)]
    ours = timed(command, size["repeat"])
    parse = timed(parse_only_command(folder), size["repeat"])
    expected = {(b["file"], b["line"], b["column"]) for b in truth["broken"]}
    found = _findings(run([*katib_gitops(), "validate", "--format", "json", str(folder)]).stdout)
    figures = [
        Figure(
            "validate core corpus (katib-gitops)",
            ours,
            "s",
            f"{truth['documents']} documents in {truth['files']} files",
            None,
        ),
        Figure("parse only (PyYAML C loader)", parse, "s", "", None),
        Figure("katib-gitops / parse-only", ours / parse, "x", "<= 1.3x", ours / parse <= 1.3),
        Figure(
            "findings = injected mistakes (file:line:column)",
            len(found),
            "found",
            f"{len(expected)} injected",
            found == expected,
        ),
        Figure(
            "peak memory, validate core corpus --jobs 1",
            peak_rss_mib([*command, "--jobs", "1"]),
            "MiB",
            "< 300 MiB",
            None,
        ),
    ]
    figures[-1] = dataclasses.replace(figures[-1], met=figures[-1].value < 300)
    reference = shutil.which("kubernetes-validate") or str(Path(sys.executable).parent / "kubernetes-validate")
    if Path(reference).exists():
        start = time.perf_counter()  # one run: it takes most of a minute
        output = run([reference, "--strict", *yaml_files(folder)]).stdout
        theirs = time.perf_counter() - start
        flagged = {Path(line.split()[1]).name for line in output.splitlines() if line.startswith("ERROR")}
        figures.insert(1, Figure("kubernetes-validate --strict", theirs, "s", "", None))
        figures.append(Figure("speed-up over kubernetes-validate", theirs / ours, "x", ">= 25x", theirs / ours >= 25))
        figures.append(
            Figure(
                "kubernetes-validate flags the same files",
                len(flagged),
                "files",
                f"{len(expected)} injected",
                flagged == {file for file, _, _ in expected},
            )
        )
    return figures


def _findings(report: str) -> set[tuple[str, int, int]]:
    return {(Path(d["file"]).name, d["line"], d["column"]) for d in json.loads(report)["diagnostics"]}


def bench_katib(work: Path, size: dict[str, int]) -> list[Figure]:
    folder = work / "katib"
    count = corpus.build_katib(folder, size["katib"])
    seconds = timed([*katib_gitops(), "validate", str(folder)], size["repeat"])
    rate = count / seconds
    return [Figure("validate Katib Experiments", rate, "docs/s", ">= 1000 docs/s", rate >= 1000)]


def bench_startup(work: Path, size: dict[str, int]) -> list[Figure]:
    small = work / "one.yaml"
    small.write_text(corpus.dump(corpus.experiment(corpus.random.Random(1), 0)))
    runs = size["startup"]
    version, one, bare, floor = timed_together(
        [
            [*katib_gitops(), "--version"],
            [*katib_gitops(), "validate", str(small)],
            [sys.executable, "-c", "pass"],
            [sys.executable, "-c", "import click, yaml, jsonschema_rs"],
        ],
        runs,
    )
    return [
        Figure("start-up: --version", version * 1000, "ms", "<= 120 ms", version <= 0.120),
        Figure("start-up: validate one Experiment", one * 1000, "ms", "<= 120 ms", one <= 0.120),
        Figure("  for scale: bare interpreter", bare * 1000, "ms", "", None),
        Figure("  for scale: import click, yaml, jsonschema_rs", floor * 1000, "ms", "", None),
    ]


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def bench_generate(work: Path, size: dict[str, int]) -> list[Figure]:
    specs = corpus.build_specs(work / "repo", size["specs"])
    out = work / "repo" / "overlays"
    command = [*katib_gitops(), "generate", "--specs", str(specs), "--out", str(out)]
    first = timed(command, 1, warm=False)
    before = _mtimes(out)
    repeat = timed(command, 1, warm=False)
    untouched = _mtimes(out) == before
    return [
        Figure(f"generate {size['specs']} specs x 10 targets", first, "s", "<= 10 s", first <= 10),
        Figure("generate again, nothing changed", repeat, "s", "<= 2 s, writes nothing", repeat <= 2 and untouched),
    ]


def bench_render(work: Path, size: dict[str, int]) -> list[Figure]:
    from katib_gitops.kustomize import render

    repo = work / "repo"
    overlay = next(p.parent for p in sorted((repo / "overlays").rglob("kustomization.yaml")) if "_base" not in p.parts)
    relative = overlay.relative_to(repo).as_posix()
    runs = max(5, size["repeat"] * 4)
    ours = timed_call(
        lambda: render.render(render.DiskFiles(repo), relative), runs
    )  # a fresh reader each time: no cached base
    figures = [Figure("render one overlay in process", ours * 1000, "ms", "", None)]
    kubectl = shutil.which("kubectl")
    if kubectl:
        theirs = timed(
            [kubectl, "kustomize", str(overlay)], runs, ok=(0,)
        )  # kubectl is a Go binary: no warm-up needed, one does no harm
        import yaml

        built = list(
            yaml.safe_load_all(
                subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=True).stdout
            )
        )
        same = built == render.render(render.DiskFiles(repo), relative)
        figures.append(Figure("kubectl kustomize, same overlay", theirs * 1000, "ms", "", None))
        figures.append(
            Figure(
                "in-process render speed-up",
                theirs / ours,
                "x",
                ">= 20x, identical output",
                theirs / ours >= 20 and same,
            )
        )
    return figures


BENCHES: dict[str, Callable[[Path, dict[str, int]], list[Figure]]] = {
    "core": bench_core,
    "katib": bench_katib,
    "startup": bench_startup,
    "generate": bench_generate,
    "render": bench_render,
}


def machine() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    packages = ("katib-gitops", "click", "ruamel.yaml", "jsonschema", "kubernetes-validate", "PyYAML")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        **{name: installed(name) for name in packages},
    }


def table(figures: list[Figure]) -> str:
    rows = ["| figure | measured | target | met |", "|---|---:|---|---|"]
    for f in figures:
        status = "" if f.met is None else ("yes" if f.met else "**no**")
        value = f"{f.value:.0f}" if f.value == int(f.value) or f.value >= 100 else f"{f.value:.2f}"
        rows.append(f"| {f.name} | {value} {f.unit} | {f.target} | {status} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append", help="run only these benchmarks")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="katib-gitops-bench-") as tmp:
        work = Path(tmp)
        ENV["XDG_CACHE_HOME"] = str(work / "cache")
        for name in ["core", "katib", "startup", "generate", "render"]:
            if args.only and name not in args.only:
                continue
            if name == "render" and not (work / "repo" / "overlays").exists():
                bench_generate(work, SIZES["smoke"] if args.size == "smoke" else size)
            figures.extend(BENCHES[name](work, size))
    print(table(figures))
    print("\n" + "; ".join(f"{k} {v}" for k, v in machine().items()))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(), "figures": [dataclasses.asdict(f) for f in figures]}, indent=2)
        )
    missed = [f.name for f in figures if f.met is False]
    return 1 if args.fail_on_miss and missed else 0


if __name__ == "__main__":
    sys.exit(main())
