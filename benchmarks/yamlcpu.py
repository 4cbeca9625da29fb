"""CPU time of YAML reading against its floor, in paired rounds (used for docs/performance.md).

    python -m benchmarks.yamlcpu CORPUS_DIR [--rounds 7] [--katib]

Each round runs, one after the other so that a noisy moment weighs on all alike:

- parse: a bare PyYAML C-loader parse of every file (`yaml.load_all(..., Loader=yaml.CSafeLoader)`)
  in one process;
- validate: `katib-gitops validate --jobs 1` of the same folder, one process;
- and in this process, without start-up: the C-loader parse of the texts, and
  `read_documents` (the position-keeping builder) of the same texts.

Times are CPU seconds (user + system, from `getrusage` of the children, `process_time` in
process); the medians are printed with the ratios. The machine's load is printed too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

PARSE = (
    "import sys, glob, yaml\n"
    "for name in sorted(glob.glob(sys.argv[1] + '/*.yaml')):\n"
    "    with open(name, 'rb') as handle:\n"
    "        list(yaml.load_all(handle, Loader=yaml.CSafeLoader))\n"
)


def child_cpu(command: Sequence[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def in_process(texts: list[tuple[str, str]]) -> tuple[float, float]:
    import yaml

    from katib_gitops.core.diagnostics import FindingsError
    from katib_gitops.yamlio.documents import read_documents

    start = time.process_time()
    for _, text in texts:
        list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    parse = time.process_time() - start
    start = time.process_time()
    for name, text in texts:
        with contextlib.suppress(FindingsError):
            read_documents(text, name)
    build = time.process_time() - start
    return parse, build


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--jobs", default="1", help="--jobs for validate (default 1)")
    args = parser.parse_args(argv)
    files = sorted(args.folder.glob("*.yaml"))
    texts = [(str(p), p.read_text()) for p in files]
    script = str(Path(sys.executable).parent / "katib-gitops")
    validate = [script, "validate", "--jobs", args.jobs, str(args.folder)]
    samples: dict[str, list[float]] = {"parse": [], "validate": [], "parse (in process)": [], "build (in process)": []}
    child_cpu(validate)  # warm the schema cache
    for _ in range(args.rounds):
        samples["parse"].append(child_cpu([sys.executable, "-c", PARSE, str(args.folder)]))
        samples["validate"].append(child_cpu(validate))
        parse, build = in_process(texts)
        samples["parse (in process)"].append(parse)
        samples["build (in process)"].append(build)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{len(files)} files, {args.rounds} rounds, load {os.getloadavg()[0]:.2f} (1 min average)")
    for name, value in medians.items():
        print(f"  {name:<22} {value:7.3f} s CPU   (runs: {' '.join(f'{v:.2f}' for v in samples[name])})")
    print(f"  validate / parse       {medians['validate'] / medians['parse']:7.3f} x")
    print(f"  build / parse (in process) {medians['build (in process)'] / medians['parse (in process)']:7.3f} x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
