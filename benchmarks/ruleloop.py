"""Where validating Katib Experiments spends its time, in one process (used for docs/performance.md).

    python -m benchmarks.ruleloop CORPUS_DIR [--repeat 3]

For the Experiments of CORPUS_DIR (benchmarks/corpus.py build_katib), without start-up
or file reading: building each text with the position-keeping YAML builder, Katib's
defaulting, the rule loop (every Katib rule on each defaulted Experiment, as
`framework.run`), and the validator's whole check of each document (schemas, rules,
trial job, metadata). CPU seconds (`process_time`), the best of `--repeat` passes.

It uses only what older versions have too, so it can time an older checkout's
virtualenv: `OLD/.venv/bin/python benchmarks/ruleloop.py CORPUS_DIR`.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def best(call: Callable[[Any], object], items: Sequence[Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        for item in items:
            call(item)
        times.append(time.process_time() - start)
    return min(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from katib_gitops.core.defaults import apply_katib_defaults
    from katib_gitops.rules import framework, validator
    from katib_gitops.schema import manifests
    from katib_gitops.yamlio.documents import read_documents

    texts = [(str(p), p.read_text()) for p in sorted(args.folder.glob("*.yaml"))]
    documents = [d for name, text in texts for d in read_documents(text, name)]
    defaulted = [(d, apply_katib_defaults(d.data)) for d in documents]
    env = validator.Env(validator.Options(()), manifests.latest_kubernetes(), {})
    framework.rules()  # imports and registers the rules before timing

    def rule_loop(pair: tuple[Any, Any]) -> object:
        return list(framework.run(framework.Context(pair[0].data, pair[1])))

    figures = {
        "build (read_documents)": best(lambda t: read_documents(t[1], t[0]), texts, args.repeat),
        "defaulting": best(lambda d: apply_katib_defaults(d.data), documents, args.repeat),
        "rule loop (framework.run)": best(rule_loop, defaulted, args.repeat),
        "check_document": best(lambda d: validator.check_document(d, env), documents, args.repeat),
    }
    print(f"{len(documents)} documents, best of {args.repeat}, load {os.getloadavg()[0]:.2f} (1 min average)")
    for name, value in figures.items():
        print(f"  {name:<28} {value:6.3f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
