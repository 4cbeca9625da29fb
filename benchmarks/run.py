"""Benchmarks: every command side by side, like for like, medians and ratios next to their targets.

    python -m benchmarks.run                # full size (what docs/performance.md reports)
    python -m benchmarks.run --size smoke   # seconds; CI runs this to keep the suite working

It builds its corpora itself (benchmarks/corpus.py) in a temporary folder.
This is a measurement, not a test: it prints what it measured and whether each
target is met, and exits 0 either way unless --fail-on-miss is given.

How a comparison is made (issue 15): the commands compared run in turn, one of each per
round (the order alternating between rounds), so a noisy moment of the machine weighs on
both alike; each figure is the median over the rounds, and a ratio is the median of the
per-round ratios. Wall time and CPU time (user + system, the command and every process it
waits for) are both taken; a ratio compares the same number of processes on each side.
The machine's load average is printed before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks import corpus

ROOT = Path(__file__).resolve().parent.parent
SIZES = {
    "full": {"core": 2000, "katib": 2000, "specs": 1000, "repeat": 5, "generate": 3, "startup": 31, "hook": 11},
    "smoke": {"core": 60, "katib": 40, "specs": 20, "repeat": 1, "generate": 1, "startup": 3, "hook": 1},
}


@dataclasses.dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str
    met: bool | None  # None: informational


class Sample(NamedTuple):
    wall: float  # seconds
    cpu: float  # seconds of user + system time of the command and the processes it waited for


def katib_gitops() -> list[str]:
    """The console script users run (its start-up is what the hook pays), else `python -m generator`."""
    script = Path(sys.executable).parent / "katib-gitops"
    return [str(script)] if script.exists() else [sys.executable, "-m", "generator"]


# Commands run as a user runs them: bytecode caches on (CI may switch them off for the
# tests) and katib-gitops' own cache in the benchmark's folder, warmed by an untimed run.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    command: Sequence[str], cwd: Path | None = None, ok: tuple[int, ...] = (0, 1), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env or ENV)
    if result.returncode not in ok:
        raise RuntimeError(f"{' '.join(command[:4])}... exited {result.returncode}: {result.stderr[-500:]}")
    return result


def measure(
    command: Sequence[str], cwd: Path | None = None, ok: tuple[int, ...] = (0, 1), env: dict[str, str] | None = None
) -> Sample:
    """One run of `command`: wall and CPU time (the run is the only child running, so the delta is its own)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    run(command, cwd, ok, env)
    return Sample(time.perf_counter() - start, _children_cpu() - cpu)


class Paired(NamedTuple):
    medians: list[Sample]  # per command
    wall_ratio: float  # median over rounds of command 0 / command 1
    cpu_ratio: float


def paired(commands: Sequence[Sequence[str]], runs: int, warm: bool = True, cwd: Path | None = None) -> Paired:
    """Medians of `commands` run in turn, one of each per round, the order alternating between rounds."""
    if warm:
        for command in commands:
            run(command, cwd)
    samples: list[list[Sample]] = [[] for _ in commands]
    for round_ in range(runs):
        order = list(range(len(commands)))
        for index in order if round_ % 2 == 0 else reversed(order):
            samples[index].append(measure(commands[index], cwd))
    medians = [Sample(statistics.median(s.wall for s in x), statistics.median(s.cpu for s in x)) for x in samples]
    if len(commands) < 2:
        return Paired(medians, 1.0, 1.0)
    wall = statistics.median(a.wall / b.wall for a, b in zip(samples[0], samples[1], strict=True))
    cpu = statistics.median(a.cpu / b.cpu if b.cpu else 1.0 for a, b in zip(samples[0], samples[1], strict=True))
    return Paired(medians, wall, cpu)


def peak_rss_mib(command: Sequence[str]) -> float:
    """Peak resident memory of `command` (the largest of it and its children), in MiB."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    return int(run([sys.executable, "-c", code, *command], ok=(0,)).stdout) / 1024


def timed_call(call: Callable[[], object], runs: int) -> Sample:
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = time.process_time(), time.perf_counter()
        call()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return Sample(statistics.median(walls), statistics.median(cpus))


def yaml_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("*.yaml"))


def parse_only_command(folder: Path) -> list[str]:
    """One process parsing every file of `folder` with PyYAML's C loader: the floor of reading them."""
    code = (
        "import sys, glob, yaml\n"
        "for name in sorted(glob.glob(sys.argv[1] + '/*.yaml')):\n"
        "    with open(name, 'rb') as handle:\n"
        "        list(yaml.load_all(handle, Loader=yaml.CSafeLoader))\n"
    )
    return [sys.executable, "-c", code, str(folder)]


def _ms(sample: Sample) -> str:
    return f"wall {sample.wall * 1000:.0f} ms, CPU {sample.cpu * 1000:.0f} ms"


def _s(sample: Sample) -> str:
    return f"wall {sample.wall:.2f} s, CPU {sample.cpu:.2f} s"


# ------------------------------------------------------------------ validate


def bench_core(work: Path, size: dict[str, int]) -> list[Figure]:
    folder = work / "core"
    truth = corpus.build_core(folder, size["core"])
    one = [*katib_gitops(), "validate", "--jobs", "1", str(folder)]
    result = paired([one, parse_only_command(folder)], size["repeat"])
    ours, parse = result.medians
    expected = {(b["file"], b["line"], b["column"]) for b in truth["broken"]}
    found = _findings(run([*katib_gitops(), "validate", "--format", "json", str(folder)]).stdout)
    figures = [
        Figure(
            "validate core corpus --jobs 1",
            ours.cpu,
            "s CPU",
            f"{truth['documents']} documents in {truth['files']} files; {_s(ours)}",
            None,
        ),
        Figure("parse only (PyYAML C loader, one process)", parse.cpu, "s CPU", _s(parse), None),
        Figure("validate --jobs 1 / parse only, CPU", result.cpu_ratio, "x", "<= 1.0x", result.cpu_ratio <= 1.0),
        Figure("validate --jobs 1 / parse only, wall", result.wall_ratio, "x", "", None),
        Figure(
            "findings = injected mistakes (file:line:column)",
            len(found),
            "found",
            f"{len(expected)} injected",
            found == expected,
        ),
    ]
    rss = peak_rss_mib(one)
    figures.append(Figure("peak memory, validate core corpus --jobs 1", rss, "MiB", "< 300 MiB", rss < 300))
    figures.extend(_against_kubeconform(folder, size))
    figures.extend(_against_kubernetes_validate(folder, ours, expected))
    return figures


def _against_kubeconform(folder: Path, size: dict[str, int]) -> list[Figure]:
    """Default workers against kubeconform's `-n 2` (two each on this machine), where a kubeconform binary exists."""
    workers = [*katib_gitops(), "validate", "--jobs", "2", str(folder)]
    kubeconform = shutil.which("kubeconform")
    if kubeconform is None:
        alone = paired([workers], size["repeat"]).medians[0]
        return [
            Figure("validate core corpus --jobs 2", alone.wall, "s", _s(alone), None),
            Figure("kubeconform -n 2: not on PATH, not compared (it is in no package registry)", 0, "", "", None),
        ]
    theirs = [kubeconform, "-strict", "-summary", "-n", "2", str(folder)]
    result = paired([workers, theirs], size["repeat"])
    ours, other = result.medians
    return [
        Figure("validate core corpus --jobs 2", ours.wall, "s", _s(ours), None),
        Figure("kubeconform -strict -n 2", other.wall, "s", _s(other), None),
        Figure("validate / kubeconform, wall", result.wall_ratio, "x", "<= 0.8x", result.wall_ratio <= 0.8),
        Figure("validate / kubeconform, CPU", result.cpu_ratio, "x", "", None),
    ]


def _against_kubernetes_validate(folder: Path, ours: Sample, expected: set[tuple[str, int, int]]) -> list[Figure]:
    reference = shutil.which("kubernetes-validate") or str(Path(sys.executable).parent / "kubernetes-validate")
    if not Path(reference).exists():
        return [Figure("kubernetes-validate: not installed, not compared", 0, "", "", None)]
    cpu = _children_cpu()  # one run: it takes most of a minute; one process, like --jobs 1
    start = time.perf_counter()
    output = run([reference, "--strict", *yaml_files(folder)]).stdout
    theirs = Sample(time.perf_counter() - start, _children_cpu() - cpu)
    flagged = {Path(line.split()[1]).name for line in output.splitlines() if line.startswith("ERROR")}
    ratio = theirs.cpu / ours.cpu
    return [
        Figure("kubernetes-validate --strict (one process)", theirs.cpu, "s CPU", _s(theirs), None),
        Figure("speed-up over kubernetes-validate, CPU, one process each", ratio, "x", ">= 25x", ratio >= 25),
        Figure(
            "kubernetes-validate flags the same files",
            len(flagged),
            "files",
            f"{len(expected)} injected",
            flagged == {file for file, _, _ in expected},
        ),
    ]


def _findings(report: str) -> set[tuple[str, int, int]]:
    return {(Path(d["file"]).name, d["line"], d["column"]) for d in json.loads(report)["diagnostics"]}


def bench_katib(work: Path, size: dict[str, int]) -> list[Figure]:
    folder = work / "katib"
    count = corpus.build_katib(folder, size["katib"])
    result = paired([[*katib_gitops(), "validate", str(folder)]], size["repeat"])
    sample = result.medians[0]
    rate = count / sample.wall
    return [
        Figure(
            "validate Katib Experiments, default workers",
            rate,
            "docs/s",
            f">= 3500 docs/s ({count} documents; {_s(sample)})",
            rate >= 3500,
        ),
        Figure("  per CPU second", count / sample.cpu, "docs/s", "", None),
    ]


# ------------------------------------------------------------------ start-up


def import_floor(small: Path) -> list[str]:
    """A command importing exactly the modules a `validate` of `small` imports, katib-gitops' own left out."""
    env = {**ENV, "PYTHONPROFILEIMPORTTIME": "1"}
    stderr = run([*katib_gitops(), "validate", str(small)], env=env).stderr
    own = ("katib_gitops", "generator", "benchmarks")
    modules = [
        name
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
        for name in [line.rsplit("|", 1)[1].strip()]
        if name and name.split(".")[0] not in own and name != "imported package"  # not the header line
    ]
    # Some are attempts that fail on this platform (`_winapi`, `nt`): tried as the real path tries them.
    code = (
        f"for name in {list(dict.fromkeys(modules))!r}:\n"
        "    try:\n        __import__(name)\n    except ImportError:\n        pass\n"
        "import yaml, jsonschema_rs"  # the two that matter must be there
    )
    floor = [sys.executable, "-c", code]
    run(floor, ok=(0,))  # a floor that failed early would measure nothing
    return floor


def bench_startup(work: Path, size: dict[str, int]) -> list[Figure]:
    small = work / "one.yaml"
    small.write_text(corpus.dump(corpus.experiment(corpus.random.Random(1), 0)))
    floor = import_floor(small)
    one = [*katib_gitops(), "validate", str(small)]
    result = paired([one, floor], size["startup"])
    validate, imports = result.medians
    version = paired([[*katib_gitops(), "--version"]], size["startup"]).medians[0]
    bare = paired([[sys.executable, "-c", "pass"]], size["startup"]).medians[0]
    return [
        Figure("start-up: validate one Experiment", validate.wall * 1000, "ms", _ms(validate), None),
        Figure(
            "  import floor of that path (its non-katib-gitops imports)",
            imports.wall * 1000,
            "ms",
            f"{floor[-1].count(',') + 1} modules; {_ms(imports)}",
            None,
        ),
        Figure("  validate / import floor, wall", result.wall_ratio, "x", "<= 1.2x", result.wall_ratio <= 1.2),
        Figure("start-up: --version (through click)", version.wall * 1000, "ms", _ms(version), None),
        Figure("  for scale: bare interpreter", bare.wall * 1000, "ms", "", None),
    ]


# ------------------------------------------------------------------ generate


def _edit_one_spec(specs: Path, round_: int) -> None:
    """Change one spec's budget, as a user's one-line edit does (a different value each round)."""
    spec = specs / "exp-0.yaml"
    text = spec.read_text()
    lines = [
        f"    maxTrials: {13 + round_}" if line.strip().startswith("maxTrials:") else line for line in text.splitlines()
    ]
    spec.write_text("\n".join(lines) + "\n")


def bench_generate(work: Path, size: dict[str, int]) -> list[Figure]:
    repo = work / "repo"
    specs = corpus.build_specs(repo, size["specs"])
    out = repo / "overlays"
    command = [*katib_gitops(), "generate", "--specs", str(specs), "--out", str(out)]
    check = [*katib_gitops(), "generate", "--check", "--specs", str(specs), "--out", str(out)]
    cache = Path(ENV["XDG_CACHE_HOME"])
    fresh, again, edited, checked = [], [], [], []
    untouched = True
    for round_ in range(size["generate"]):
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache / "katib-gitops", ignore_errors=True)
        fresh.append(measure(command, cwd=repo))
        before = _mtimes(out)
        again.append(measure(command, cwd=repo))
        untouched = untouched and _mtimes(out) == before
        _edit_one_spec(specs, round_)
        edited.append(measure(command, cwd=repo))
        shutil.rmtree(cache / "katib-gitops", ignore_errors=True)  # CI: a fresh clone, no cache
        checked.append(measure(check, cwd=repo))

    def median(samples: list[Sample]) -> Sample:
        return Sample(statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples))

    first, repeat, one, ci = median(fresh), median(again), median(edited), median(checked)
    share = statistics.median(e.cpu / f.cpu for e, f in zip(edited, fresh, strict=True))
    name = f"{size['specs']} specs x 10 targets"
    return [
        Figure(f"generate {name}, fresh", first.wall, "s", f"<= 3 s; {_s(first)}", first.wall <= 3),
        Figure(
            "generate again, nothing changed",
            repeat.wall,
            "s",
            f"<= 0.3 s, writes nothing; {_s(repeat)}",
            repeat.wall <= 0.3 and untouched,
        ),
        Figure("generate, one spec edited", one.wall, "s", _s(one), None),
        Figure("  one spec edited / fresh, CPU", share, "x", "<= 0.10x", share <= 0.10),
        Figure("generate --check, no cache (CI)", ci.wall, "s", f"<= 1.5 s; {_s(ci)}", ci.wall <= 1.5),
    ]


def _git(repo: Path, *args: str) -> None:
    env = {**ENV, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env |= {"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    run(["git", *args], cwd=repo, ok=(0,), env=env)


def _edit_profile(specs: Path) -> None:
    """Add a toleration to the gpu profile: every spec's gpu overlays change (issue 14's example)."""
    import yaml

    targets = specs / "targets.yaml"
    document = yaml.safe_load(targets.read_text())
    toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    document["spec"]["profiles"]["gpu"]["tolerations"] = [toleration]
    targets.write_text(corpus.dump(document))


def bench_plan(work: Path, size: dict[str, int]) -> list[Figure]:
    """`plan` between two commits against one fresh `generate` of the head, paired: after a one-line edit of
    one spec, and after a profile edit that changes every spec's overlays."""
    repo = work / "plan-repo"
    specs = corpus.build_specs(repo, size["specs"])
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    out = repo / "overlays"
    fresh = [*katib_gitops(), "generate", "--specs", "specs", "--out", "overlays"]
    figures = []
    for case, edit in (("one spec edited", lambda: _edit_one_spec(specs, 0)), ("a profile edited", None)):
        if edit is None:
            _edit_profile(specs)
        else:
            edit()
        _git(repo, "commit", "-q", "-am", case)
        plan = [*katib_gitops(), "plan", "--specs", "specs", "--base", "HEAD~1", "--head", "HEAD"]
        reset = f"import shutil; shutil.rmtree({str(out)!r}, True); shutil.rmtree({ENV['XDG_CACHE_HOME']!r}, True)"
        samples: list[list[Sample]] = [[], []]
        for round_ in range(size["generate"]):
            order = [0, 1] if round_ % 2 == 0 else [1, 0]
            for index in order:
                run([sys.executable, "-c", reset])
                samples[index].append(measure(plan if index == 0 else fresh, cwd=repo))
        ratio = statistics.median(a.wall / b.wall for a, b in zip(samples[0], samples[1], strict=True))
        cpu = statistics.median(a.cpu / b.cpu for a, b in zip(samples[0], samples[1], strict=True))
        median = Sample(statistics.median(s.wall for s in samples[0]), statistics.median(s.cpu for s in samples[0]))
        figures += [
            Figure(f"plan, {case}", median.wall, "s", _s(median), None),
            Figure(f"  plan / fresh generate, {case}, wall", ratio, "x", f"< 2x; CPU {cpu:.2f}x", ratio < 2),
        ]
    return figures


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ render


def bench_render(work: Path, size: dict[str, int]) -> list[Figure]:
    from katib_gitops.kustomize import render

    repo = work / "repo"
    overlay = next(p.parent for p in sorted((repo / "overlays").rglob("kustomization.yaml")) if "_base" not in p.parts)
    relative = overlay.relative_to(repo).as_posix()
    runs = max(5, size["repeat"] * 4)
    # A fresh reader each time: no cached base.
    call = timed_call(lambda: render.render(render.DiskFiles(repo), relative), runs)
    figures = [Figure("render one overlay, in process (a function call)", call.wall * 1000, "ms", _ms(call), None)]
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return [*figures, Figure("kubectl: not on PATH, render not compared", 0, "", "", None)]
    import yaml

    ours = [*katib_gitops(), "render", str(overlay)]
    theirs = [kubectl, "kustomize", str(overlay)]
    built = list(yaml.safe_load_all(run(theirs, ok=(0,)).stdout))
    same = built == render.render(render.DiskFiles(repo), relative) == list(yaml.safe_load_all(run(ours).stdout))
    result = paired([ours, theirs], runs)
    command, other = result.medians
    return [
        *figures,
        Figure("katib-gitops render, as a command", command.wall * 1000, "ms", _ms(command), None),
        Figure("kubectl kustomize, same overlay", other.wall * 1000, "ms", _ms(other), None),
        Figure(
            "  katib-gitops render / kubectl kustomize, wall",
            result.wall_ratio,
            "x",
            "identical output",
            same,
        ),
    ]


# ------------------------------------------------------------------ the pre-commit hook


HOOKS = """repos:
- repo: local
  hooks:
  - id: noop
    name: noop
    entry: true
    language: system
    types_or: [yaml]
    require_serial: true
- repo: local
  hooks:
  - id: katib-gitops-validate
    name: katib-gitops validate
    entry: {script} validate
    language: system
    types_or: [yaml]
    require_serial: true
"""


def bench_hook(work: Path, size: dict[str, int]) -> list[Figure]:
    """What the validate hook costs per commit of 5 YAML files, against a hook that does nothing."""
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(pre_commit).exists():
        return [Figure("pre-commit: not installed, hook not measured", 0, "", "", None)]
    repo = work / "hook"
    repo.mkdir()
    run(["git", "init", "-q"], cwd=repo, ok=(0,))
    (repo / ".pre-commit-config.yaml").write_text(HOOKS.format(script=" ".join(katib_gitops())))
    rng = corpus.random.Random(5)
    files = []
    for index in range(5):
        name = f"m{index}.yaml"
        (repo / name).write_text(
            corpus.dump(corpus.experiment(rng, index) if index == 0 else corpus.deployment(rng, index))
        )
        files.append(name)
    run(["git", "add", "."], cwd=repo, ok=(0,))
    hook = [pre_commit, "run", "katib-gitops-validate", "--files", *files]
    noop = [pre_commit, "run", "noop", "--files", *files]
    result = paired([hook, noop], size["hook"], cwd=repo)
    ours, nothing = result.medians
    output = run([*katib_gitops(), "validate", *(str(repo / f) for f in files)]).stdout
    summaries = sum(" in 5 files" in line for line in output.splitlines())
    cost = ours.wall - nothing.wall
    return [
        Figure("pre-commit run, validate hook, 5 files", ours.wall * 1000, "ms", _ms(ours), None),
        Figure("pre-commit run, a hook that does nothing", nothing.wall * 1000, "ms", _ms(nothing), None),
        Figure("  the hook's own cost per commit", cost * 1000, "ms", "one start-up: one summary", summaries == 1),
    ]


BENCHES: dict[str, Callable[[Path, dict[str, int]], list[Figure]]] = {
    "core": bench_core,
    "katib": bench_katib,
    "startup": bench_startup,
    "generate": bench_generate,
    "plan": bench_plan,
    "render": bench_render,
    "hook": bench_hook,
}


def machine() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    packages = ("katib-gitops", "click", "ruamel.yaml", "jsonschema", "jsonschema-rs", "PyYAML", "pre-commit")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        **{name: installed(name) for name in packages},
    }


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def table(figures: list[Figure]) -> str:
    rows = ["| figure | measured | target, and how | met |", "|---|---:|---|---|"]
    for f in figures:
        status = "" if f.met is None else ("yes" if f.met else "**no**")
        value = (
            ""
            if not f.unit
            else (f"{f.value:.0f}" if f.value >= 100 or float(f.value).is_integer() else f"{f.value:.2f}")
        )
        rows.append(f"| {f.name} | {value} {f.unit} | {f.target} | {status} |".replace("|  |", "| |"))
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
    before = load()
    with tempfile.TemporaryDirectory(prefix="katib-gitops-bench-") as tmp:
        work = Path(tmp)
        ENV["XDG_CACHE_HOME"] = str(work / "cache")
        for name in BENCHES:
            if args.only and name not in args.only:
                continue
            if name == "render" and not (work / "repo" / "overlays").exists():
                corpus.build_specs(work / "repo", SIZES["smoke"]["specs"])
                run([*katib_gitops(), "generate", "--specs", "specs", "--out", "overlays"], cwd=work / "repo")
            figures.extend(BENCHES[name](work, size))
    print(table(figures))
    facts = {**machine(), "load average before": before, "after": load()}
    print("\n" + "; ".join(f"{k} {v}" for k, v in facts.items()))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": facts, "figures": [dataclasses.asdict(f) for f in figures]}, indent=2)
        )
    missed = [f.name for f in figures if f.met is False]
    return 1 if args.fail_on_miss and missed else 0


if __name__ == "__main__":
    sys.exit(main())
