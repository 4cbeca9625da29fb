"""`katib-gitops port`: for every spec, whether it can move to the OptimizationJob backend, and why not.

Each spec is judged as if it set `backend: optimizationjob`, whatever it sets now: the TS-OPT-* rules
(rules/portability.py) say what cannot carry over, each at the spec's line with the nearest equivalent,
and, for a spec they let through, the OptimizationJobs it would generate (the base and one per profile)
are validated as generate validates them (the CRD's schema and CEL rules, rules/optimizationjob_checks.py),
each finding placed back at the spec.

A spec can move when none of this is an error; warnings say what changes meaning. The exit code is 1 when
any spec cannot move (as for any finding: a team can make the switch a CI gate), 0 when every one can,
2 for a usage error (docs/optimizationjob.md).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.rules import generated, portability
from katib_gitops.spec.model import OPTIMIZATION_JOB_BACKEND, SpecSet, TuningSpec, backend_of, load_spec_set


class Verdict(NamedTuple):
    spec: TuningSpec
    backend: str  # what it generates now
    findings: tuple[Diagnostic, ...]  # sorted; errors are reasons it cannot move

    @property
    def movable(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.findings)


def port(specs_dir: Path, base: Path | None = None) -> list[Verdict]:
    """A verdict per spec of the folder, in the specs' order (FindingsError when the folder does not load)."""
    spec_set = load_spec_set(specs_dir, base)
    return [judge(spec, spec_set) for spec in spec_set.specs]


def judge(spec: TuningSpec, spec_set: SpecSet) -> Verdict:
    found = portability.reasons(spec, spec_set)
    if not any(d.severity is Severity.ERROR for d in found):
        moved = dataclasses.replace(spec, body={**spec.body, "backend": OPTIMIZATION_JOB_BACKEND})
        built = generated.built_experiments(moved, spec_set)
        found += generated.check_built(built, spec_set, generated.environment(spec_set))
    return Verdict(spec, backend_of(spec, spec_set.targets), tuple(sorted(set(found))))


def problems(verdicts: Sequence[Verdict]) -> list[Diagnostic]:
    return [d for v in verdicts for d in v.findings]


# --------------------------------------------------------------- reports


def _headline(verdict: Verdict) -> str:
    spec = verdict.spec
    errors = sum(d.severity is Severity.ERROR for d in verdict.findings)
    now = f"backend: {verdict.backend}"
    if verdict.movable:
        change = "" if verdict.backend == OPTIMIZATION_JOB_BACKEND else "; set spec.backend: optimizationjob"
        return f"{spec.document.file}: {spec.name}: can move to OptimizationJob ({now}{change})"
    return f"{spec.document.file}: {spec.name}: cannot move to OptimizationJob ({now}; {errors} reason(s))"


def text(verdicts: Sequence[Verdict]) -> str:
    lines: list[str] = []
    for verdict in verdicts:
        lines.append(_headline(verdict))
        lines.extend("  " + d.format().replace("\n", "\n  ") for d in verdict.findings)
    movable = sum(v.movable for v in verdicts)
    lines.append(f"{movable} of {len(verdicts)} spec(s) can move to OptimizationJob")
    return "\n".join(lines) + "\n"


def to_json(verdicts: Sequence[Verdict]) -> str:
    from katib_gitops.commands.report import diagnostic_to_json

    body: list[dict[str, Any]] = [
        {
            "spec": v.spec.name,
            "file": v.spec.document.file,
            "backend": v.backend,
            "movable": v.movable,
            "findings": [diagnostic_to_json(d) for d in v.findings],
        }
        for v in verdicts
    ]
    return json.dumps({"specs": body}, indent=2) + "\n"


RENDERERS = {"text": text, "json": to_json}
