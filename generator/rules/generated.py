"""generate's verdict: every Experiment and GitOps object a spec set builds, judged by the whole validator.

The spec checks (TS-*) run first; each spec they accept is built, and every distinct Experiment of it
(the base and one per profile: overlays that differ only in namespace are checked once) goes through
`validator.check_generated`, which is what `katib-gitops validate` runs on a rendered overlay:
Katib's ADMIT, ALGO and RUNTIME rules, the advisory rules, the Experiment and trial kind schemas. The
Argo CD and Flux objects go through their schemas.

Each finding is then reported where the user wrote the value (expand/origins.py), once, naming the
targets it affects; never at a file of the output folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.expand import gitops, optimizationjob, overlays
from katib_gitops.expand.origins import Node, Origin
from katib_gitops.rules import portability, spec_checks, validator
from katib_gitops.schema import manifests
from katib_gitops.spec.katib_config import STANDALONE
from katib_gitops.spec.model import Profile, SpecSet, TuningSpec
from katib_gitops.yamlio.documents import Document, format_path

PORTABILITY = portability  # its TS-OPT-* spec rules run with the others (spec_checks.run_checks)
GENERATED = "<generated>"
LISTED_TARGETS = 4  # in a message; the rest are counted


class Built(NamedTuple):
    """One distinct Experiment of a spec: the base (profile None) or a profile's, and the targets it deploys to."""

    spec: TuningSpec
    profile: Profile | None
    experiment: dict[str, Any]
    targets: tuple[str, ...]  # <spec>/<namespace>/<profile>, the katib-gitops.dev/target of each overlay


def built_experiments(spec: TuningSpec, spec_set: SpecSet) -> list[Built]:
    """The base and each profile's Experiment of `spec`, as expand_spec builds them."""
    base = overlays.build_object(spec, spec_set, budget_from=overlays.base_profile(spec, spec_set))
    found = [Built(spec, None, base, ())]
    for name in sorted(spec.profiles):
        profile = spec_set.targets.profiles[name]
        found.append(Built(spec, profile, overlays.build_object(spec, spec_set, profile), _targets(spec, name)))
    return found


def from_expansion(expansion: overlays.Expansion, spec_set: SpecSet) -> list[Built]:
    """The same, taken from an expansion generate has built anyway: its base and each profile's first overlay."""
    spec = expansion.spec
    found = [Built(spec, None, expansion.base, ())]
    for name in sorted(spec.profiles):
        overlay = next(o for o in expansion.overlays if o.profile == name)
        found.append(Built(spec, spec_set.targets.profiles[name], overlay.experiment, _targets(spec, name)))
    return found


def _targets(spec: TuningSpec, profile: str) -> tuple[str, ...]:
    return tuple(f"{spec.name}/{namespace}/{profile}" for namespace in sorted(spec.namespaces))


def environment(spec_set: SpecSet) -> validator.Env:
    options = validator.Options(
        paths=(), katib_config=spec_set.katib_config or STANDALONE, katib_version=spec_set.katib_version
    )
    return validator.Env(options, manifests.latest_kubernetes(), {})


# ------------------------------------------------------------------ the verdict


def check_spec_set(spec_set: SpecSet) -> list[Diagnostic]:
    """Every finding of the spec checks, and of the Experiments and GitOps objects of each spec they accept."""
    found = spec_checks.run_checks(spec_set)
    refused = {d.file for d in found if d.severity is Severity.ERROR}
    accepted = [s for s in spec_set.specs if s.document.file not in refused]
    env = environment(spec_set)
    built = [b for spec in accepted for b in built_experiments(spec, spec_set)]
    found.extend(check_built(built, spec_set, env))
    found.extend(check_gitops(spec_set, [overlays.expand_spec(s, spec_set) for s in accepted], env))
    return sorted(set(found))


def check_built(built: Iterable[Built], spec_set: SpecSet, env: validator.Env) -> list[Diagnostic]:
    """The validator's findings on each Experiment, at the spec or Targets node each comes from, merged."""
    return merged(place_built(built, spec_set, env))


def place_built(built: Iterable[Built], spec_set: SpecSet, env: validator.Env) -> list[Placed]:
    """The same, before merging: generate places each spec's in its worker, then merges them all (`merged`)."""
    placed: list[Placed] = []
    for item in built:
        document = Document(GENERATED, 0, item.experiment, None)
        source = optimizationjob.source_map(
            item.spec, spec_set.targets, item.experiment, item.profile, overlays.base_profile(item.spec, spec_set)
        )
        kind = str(item.experiment.get("kind", ""))
        for finding in validator.check_generated(document, env):
            placed.extend(_placed(finding, source.origin(finding.parts), item.targets, kind))
    return placed


class Placed(NamedTuple):
    """A finding at a node the user wrote, the Experiment field it was found at, where the value is when that
    is elsewhere, and the targets it is found in."""

    diagnostic: Diagnostic
    field: str
    elsewhere: str
    targets: tuple[str, ...]
    kind: str = "Experiment"  # of the object the field is in (an OptimizationJob for its backend)


def _placed(finding: Diagnostic, origin: Origin, targets: tuple[str, ...], kind: str) -> Iterator[Placed]:
    """`finding` at each node of `origin`."""
    message = f"{finding.message}; {origin.note}" if origin.note else finding.message
    hint = "; ".join(filter(None, [finding.hint, origin.hint]))
    for index, node in enumerate(origin.nodes):
        also = _elsewhere(origin.nodes[0]) if index else ""
        yield Placed(_at(node, finding, message)._replace(hint=hint), finding.path, also, targets, kind)


def _elsewhere(first: Node) -> str:
    line, column = first.document.position(list(first.path))
    return f"the value is at {first.document.file}:{line}:{column}"


def _at(node: Node, finding: Diagnostic, message: str) -> Diagnostic:
    located = node.document.diagnostic(list(node.path), finding.rule_id, message, finding.hint, at_key=node.at_key)
    return located._replace(severity=finding.severity, document=node.document.index)


def merged(placed: Iterable[Placed]) -> list[Diagnostic]:
    """One diagnostic per finding and node, naming the Experiment fields and every target it was found in
    (a profile's value reaches several roles and several specs)."""
    groups: dict[Diagnostic, tuple[dict[str, None], dict[str, None], set[str]]] = {}
    kinds: dict[Diagnostic, str] = {}
    for item in placed:
        kinds.setdefault(item.diagnostic, item.kind)
        fields, elsewhere, targets = groups.setdefault(item.diagnostic, ({}, {}, set()))
        fields.update(dict.fromkeys(filter(None, [item.field])))
        elsewhere.update(dict.fromkeys(filter(None, [item.elsewhere])))
        targets.update(item.targets)
    out = []
    for found, (fields, elsewhere, targets) in groups.items():
        parts = [_fields(list(fields), kinds[found]), *elsewhere, _in_targets(sorted(targets))]
        out.append(found._replace(message=f"{found.message} ({'; '.join(filter(None, parts))})"))
    return out


def _fields(names: list[str], kind: str = "Experiment") -> str:
    if not names:
        return ""
    more = f" and {len(names) - 1} more" if len(names) > 1 else ""
    return f"{kind} field {names[0]}{more}"


def _in_targets(names: list[str]) -> str:
    if not names:
        return "in the profile-neutral base"
    shown = ", ".join(names[:LISTED_TARGETS])
    more = f" and {len(names) - LISTED_TARGETS} more" if len(names) > LISTED_TARGETS else ""
    return f"in {len(names)} target{'s' if len(names) != 1 else ''}: {shown}{more}"


# ------------------------------------------------------------------ GitOps objects


def check_gitops(
    spec_set: SpecSet, expansions: Sequence[overlays.Expansion], env: validator.Env, *, repository: bool = True
) -> list[Diagnostic]:
    """The Argo CD and Flux objects of `expansions` (and, unless not `repository`, the Targets file's own: the
    GitRepository and AppProjects) against their schemas, reported at the Targets file's `gitops`."""
    settings = spec_set.targets.gitops
    if settings is None:
        return []
    return check_gitops_objects(
        spec_set, gitops.gitops_objects(settings, expansions, spec_set.specs if repository else None), env
    )


def check_gitops_objects(spec_set: SpecSet, objects: Sequence[dict[str, Any]], env: validator.Env) -> list[Diagnostic]:
    """check_gitops of objects the caller has built already (gitops.gitops_objects, or the files of one spec)."""
    node = Node(spec_set.targets.document, ("spec", "gitops"))
    found = []
    for obj in objects:
        for finding in validator.check_generated(Document(GENERATED, 0, obj, None), env):
            message = f"{finding.message} (generated {obj.get('kind')} field {format_path(finding.parts)})"
            found.append(_at(node, finding, message))
    return found
