"""`katib-gitops plan`: what a change to the specs does to the cluster, target by target.

The specs at two revisions (`--base`, default the merge base with the default branch; `--head`,
default the working tree) are expanded in memory, as `generate` expands them, and compared per
target (spec / namespace / profile) by Katib's roll-out rules (docs/gitops.md, "Names and
roll-outs"): an Experiment is created, updated in place (a count edit, with UPD-02/03's caveats,
or metadata only), rolled out under a new name (the old one is left running: prune is off), or
removed from Git (left in the cluster). The GitOps objects that deploy them are compared too.

Then the demand at full parallelism (expand.demand) per namespace, profile and Kueue queue,
before and after, against the quotas of the Targets file (`quotas`) or of ResourceQuota
manifests (`--quota FILE`): a quota the change exceeds is a finding (exit 1).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

from katib_gitops.core import quantity
from katib_gitops.core.diagnostics import FindingsError, Severity, UsageError
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.expand import demand, gitops, overlays
from katib_gitops.rules import spec_checks
from katib_gitops.spec.katib_config import KatibConfig
from katib_gitops.spec.model import SpecSet, TuningSpec, load_spec_set
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import read_text

COUNTS = ("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount")
WORKING_TREE = "the working tree"


class Options(NamedTuple):
    specs_dir: Path
    base: str = ""  # a revision; '' for the merge base with the default branch
    head: str = ""  # a revision; '' for the working tree
    quota_files: tuple[Path, ...] = ()
    katib_config: KatibConfig | None = None
    katib_version: tuple[int, int] = KATIB_VERSION


# ------------------------------------------------------------------ one revision's targets


class Target(NamedTuple):
    """One deployed Experiment as a revision generates it."""

    key: tuple[str, str, str]  # spec, namespace, profile
    name: str
    experiment: Mapping[str, Any]
    queue: str
    demand: demand.Demand  # at full parallelism
    cluster: str = ""  # of gitops.clusters, for a spec that names clusters: the same overlay on each

    @property
    def label(self) -> str:
        return "/".join(self.key) + (f"@{self.cluster}" if self.cluster else "")

    @property
    def id(self) -> tuple[str, str, str, str]:
        return (*self.key, self.cluster)

    def where(self, *rest: str) -> str:
        """A demand group: `<namespace>/...`, after `<cluster>/` on a named cluster."""
        return "/".join([*([self.cluster] if self.cluster else []), self.key[1], *rest])


class Revision(NamedTuple):
    label: str  # "abc1234 (main)" or "the working tree"
    targets: dict[tuple[str, str, str, str], Target]  # by Target.id
    objects: dict[tuple[str, str, str], Mapping[str, Any]]  # GitOps objects by (kind, namespace, name)
    quotas: dict[str, dict[str, Fraction]]  # namespace: ResourceQuota-style key: amount


class Expanded(NamedTuple):
    """One spec's expansion and its targets: the same for the same spec under the same Targets."""

    expansion: overlays.Expansion
    targets: list[Target]


def expand_spec(spec: TuningSpec, spec_set: SpecSet) -> Expanded:
    expansion = overlays.expand_spec(spec, spec_set)
    targets = []
    for overlay in expansion.overlays:
        profile = spec_set.targets.profiles[overlay.profile]
        target = Target(
            (overlay.spec_name, overlay.namespace, overlay.profile),
            overlay.experiment["metadata"]["name"],
            overlay.experiment,
            str(profile.body.get("queue", "")),
            demand.experiment(overlay.experiment),
        )
        targets += [target._replace(cluster=c) for c in spec.clusters] if spec.clusters else [target]
    return Expanded(expansion, targets)


def fingerprint(spec: TuningSpec) -> str:
    return json.dumps([spec.source, spec.document.data], sort_keys=True, default=str)


def same_targets(a: SpecSet, b: SpecSet) -> bool:
    """Specs expand alike under both: the same Targets document and Katib release."""
    return a.targets.document.data == b.targets.document.data and a.katib_version == b.katib_version


def revision(
    spec_set: SpecSet | None, label: str, reuse: Mapping[str, Expanded] | None = None
) -> tuple[Revision, dict[str, Expanded]]:
    """A revision's targets and GitOps objects; a spec found in `reuse` (same text) is not expanded again."""
    if spec_set is None:  # no specs folder at that revision
        return Revision(label, {}, {}, {}), {}
    known = reuse or {}
    expanded = {}
    for spec in spec_set.specs:
        key = fingerprint(spec)
        expanded[key] = known.get(key) or expand_spec(spec, spec_set)
    targets = {t.id: t for e in expanded.values() for t in e.targets}
    objects = gitops_objects(spec_set, [e.expansion for e in expanded.values()])
    return Revision(label, targets, objects, quotas_of(spec_set)), expanded


def gitops_objects(
    spec_set: SpecSet, expansions: Sequence[overlays.Expansion]
) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    settings = spec_set.targets.gitops
    if settings is None:
        return {}
    found = gitops.gitops_objects(settings, expansions, spec_set.specs)
    if "argocd" in settings.tools:  # what each ApplicationSet creates: an Application per overlay and cluster
        found += [app for e in expansions if e.overlays for app in gitops.applications(settings, e)]
    return {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in found}


def quotas_of(spec_set: SpecSet) -> dict[str, dict[str, Fraction]]:
    raw = spec_set.targets.document.data["spec"].get("quotas", {})
    out: dict[str, dict[str, Fraction]] = {}
    for namespace, hard in raw.items():
        out[namespace] = {key: amount for key, value in hard.items() if (amount := quantity.parse(value)) is not None}
    return out


# ------------------------------------------------------------------ reading the specs at a revision


def _git(args: Sequence[str], cwd: Path, *, binary: bool = False) -> Any:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=not binary, check=False)
    except OSError as exc:
        raise UsageError(f"plan needs git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        error = done.stderr if isinstance(done.stderr, str) else done.stderr.decode("utf-8", "replace")
        raise UsageError(f"git {' '.join(args[:3])}: {error.strip().splitlines()[-1] if error.strip() else 'failed'}")
    return done.stdout


def repository(specs_dir: Path) -> tuple[Path, str]:
    """The repository's top folder and the specs folder's path inside it."""
    if not specs_dir.is_dir():
        raise UsageError(f"{specs_dir}: no such directory")
    top = Path(_git(["rev-parse", "--show-toplevel"], specs_dir).strip())
    inside = Path(os.path.realpath(specs_dir)).relative_to(os.path.realpath(top)).as_posix()
    return top, inside


def default_base(top: Path) -> tuple[str, str]:
    """The merge base of HEAD with the default branch (origin's HEAD, else main or master), and its label."""
    candidates = []
    with contextlib.suppress(UsageError):
        candidates.append(_git(["rev-parse", "--abbrev-ref", "origin/HEAD"], top).strip())
    candidates += ["origin/main", "origin/master", "main", "master"]
    for branch in candidates:
        try:
            commit = str(_git(["merge-base", "HEAD", branch], top).strip())
        except UsageError:
            continue
        return commit, f"{describe(top, commit)} (merge base with {branch})"
    raise UsageError("no default branch to compare with (origin/HEAD, main or master): give --base REV")


def verified(top: Path, rev: str, option: str) -> str:
    """`rev`, once git knows it as a commit; else a usage error naming the option."""
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    except UsageError:
        raise UsageError(f"{option} {rev}: no such commit in {top}") from None
    return rev


def describe(top: Path, rev: str) -> str:
    """`abc1234` for a commit named by its hash, `abc1234 (v1.2)` for one named otherwise."""
    commit = str(_git(["rev-parse", "--short", f"{rev}^{{commit}}"], top).strip())
    return commit if rev.startswith(commit) else f"{commit} ({rev})"


def materialise(top: Path, rev: str, inside: str, into: Path) -> bool:
    """Write the YAML files of the specs folder at `rev` into `into`; False when the folder is not there."""
    listing = _git(["ls-tree", "-r", "-z", rev, "--", inside], top)
    entries = [e for e in listing.split("\0") if e]
    blobs = []
    for entry in entries:
        meta, _, path = entry.partition("\t")
        mode, kind, sha = meta.split()
        if kind == "blob" and mode in ("100644", "100755") and path.endswith((".yaml", ".yml")):
            blobs.append((path, sha))
    if not entries:
        return False
    if blobs:
        batch = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=top,
            input="".join(f"{sha}\n" for _, sha in blobs).encode(),
            capture_output=True,
            check=True,
        ).stdout
        at = 0
        for path, _ in blobs:
            header_end = batch.index(b"\n", at)
            size = int(batch[at:header_end].split()[2])
            body = batch[header_end + 1 : header_end + 1 + size]
            at = header_end + 1 + size + 1
            target = into / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    (into / inside).mkdir(parents=True, exist_ok=True)
    return True


def load(specs_dir: Path, display_base: Path, options: Options) -> SpecSet:
    spec_set = dataclasses.replace(
        load_spec_set(specs_dir, display_base), katib_version=options.katib_version, katib_config=options.katib_config
    )
    found = spec_checks.run_checks(spec_set)
    if any(d.severity is Severity.ERROR for d in found):
        raise FindingsError(found)
    return spec_set


def load_at(top: Path, rev: str, inside: str, options: Options) -> SpecSet | None:
    with tempfile.TemporaryDirectory(prefix="katib-gitops-plan-") as tmp:
        if not materialise(top, rev, inside, Path(tmp)):
            return None
        try:
            return load(Path(tmp) / inside, Path(tmp), options)
        except FindingsError as exc:
            first = min(exc.diagnostics).format()
            raise UsageError(
                f"the specs at {rev} do not generate ({len(exc.diagnostics)} problems; first: {first})"
            ) from None


# ------------------------------------------------------------------ comparing


class Change(NamedTuple):
    action: str  # created, updated, metadata, rolled-out, removed, unchanged
    target: str  # spec/namespace/profile, then @cluster on a named cluster
    namespace: str
    name: str  # the Experiment in head ('' when removed)
    old_name: str = ""  # the Experiment left running (rolled out, removed)
    edits: tuple[str, ...] = ()  # "maxTrialCount 12 -> 20"
    caveats: tuple[str, ...] = ()
    kind: str = "Experiment"  # or OptimizationJob (its backend): every change to one is a roll-out


def _without_counts(experiment: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in experiment.get("spec", {}).items() if k not in COUNTS}


def _caveats(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    said = []
    policy = new.get("spec", {}).get("resumePolicy", "Never")
    if policy in ("LongRunning", "FromVolume"):
        said.append(
            "refused if the Experiment has finished otherwise than by reaching maxTrialCount "
            "(UPD-02: a goal reached or a failure cannot be resumed)"
        )
    else:
        said.append(f"refused if the Experiment has finished (UPD-02: resumePolicy {policy} never resumes)")
    before, after = old.get("spec", {}).get("maxTrialCount"), new.get("spec", {}).get("maxTrialCount")
    if before != after and isinstance(after, int):
        said.append(f"refused if {after} or more trials have already run (UPD-03)")
    return tuple(said)


def compare(base: Revision, head: Revision) -> list[Change]:
    changes = []
    for key in sorted({*base.targets, *head.targets}):
        old, new = base.targets.get(key), head.targets.get(key)
        either = new or old
        assert either is not None
        label, namespace = either.label, key[1]
        if old is None and new is not None:
            changes.append(Change("created", label, namespace, new.name, kind=_kind(new)))
        elif new is None and old is not None:
            changes.append(Change("removed", label, namespace, "", old.name, kind=_kind(old)))
        elif old is not None and new is not None:
            changes.append(_changed(old, new, label, namespace))
    return changes


def _kind(target: Target) -> str:
    return str(target.experiment.get("kind") or "Experiment")


def _changed(old: Target, new: Target, label: str, namespace: str) -> Change:
    if old.name != new.name:
        return Change("rolled-out", label, namespace, new.name, old.name, kind=_kind(old))
    if old.experiment == new.experiment:
        return Change("unchanged", label, namespace, new.name)
    before, after = old.experiment.get("spec", {}), new.experiment.get("spec", {})
    edits = tuple(f"{c} {before.get(c)} -> {after.get(c)}" for c in COUNTS if before.get(c) != after.get(c))
    if _without_counts(old.experiment) != _without_counts(new.experiment):
        # The name hashes the spec without its counts, so this needs a katib-gitops that names otherwise.
        return Change("updated", label, namespace, new.name, edits=edits, caveats=("refused: UPD-01",))
    if edits:
        return Change(
            "updated", label, namespace, new.name, edits=edits, caveats=_caveats(old.experiment, new.experiment)
        )
    return Change("metadata", label, namespace, new.name)


class ObjectChange(NamedTuple):
    action: str  # added, removed, updated
    kind: str
    namespace: str
    name: str
    cluster: str = ""  # the cluster an Application or Kustomization deploys to, for a spec naming clusters


def compare_objects(base: Revision, head: Revision) -> list[ObjectChange]:
    out = []
    for key in sorted({*base.objects, *head.objects}):
        old, new = base.objects.get(key), head.objects.get(key)
        action = "added" if old is None else "removed" if new is None else "updated" if old != new else ""
        if action:
            either = new or old
            assert either is not None
            cluster = (either["metadata"].get("annotations") or {}).get(gitops.ANNOTATION_CLUSTER, "")
            out.append(ObjectChange(action, *key, cluster=cluster))
    return out


# ------------------------------------------------------------------ demand and quotas


class Usage(NamedTuple):
    """Demand at full parallelism of one group (a namespace, a namespace's profile or queue; after `<cluster>/` for
    a spec that names clusters: each cluster has its own namespaces)."""

    group: str
    before: demand.Demand
    after: demand.Demand
    while_old_run: demand.Demand  # after, plus the Experiments the change leaves running


def _left_running(base: Revision, changes: Sequence[Change]) -> list[Target]:
    keys = {c.target for c in changes if c.action in ("rolled-out", "removed")}
    return [t for t in base.targets.values() if t.label in keys]


def namespace_of(group: str) -> str:
    """The namespace of a namespace group, `<namespace>` or `<cluster>/<namespace>`: whose quota it is held to."""
    return group.rpartition("/")[2]


def usage(base: Revision, head: Revision, changes: Sequence[Change], group: Any) -> list[Usage]:
    """Demand per group (a function of a Target) before and after."""
    left = _left_running(base, changes)
    names = sorted({group(t) for t in [*base.targets.values(), *head.targets.values()]} - {None})
    rows = []
    for name in names:
        before = demand.total(t.demand for t in base.targets.values() if group(t) == name)
        after = demand.total(t.demand for t in head.targets.values() if group(t) == name)
        extra = demand.total(t.demand for t in left if group(t) == name)
        rows.append(Usage(name, before, after, demand.total([after, extra])))
    return rows


def _used(load: demand.Demand, key: str) -> tuple[str, Fraction]:
    """The resource a ResourceQuota key (`requests.nvidia.com/gpu`, `limits.cpu`, `cpu`) counts, and how much."""
    field, _, name = key.partition(".") if key.startswith(("requests.", "limits.")) else ("requests", "", key)
    amounts = load.limits if field == "limits" else load.requests
    return name, amounts.get(name, Fraction(0))


RESOURCE_KEYS = ("cpu", "memory", "ephemeral-storage")


def quota_findings(rows: Sequence[Usage], quotas: Mapping[str, Mapping[str, Fraction]], where: str) -> list[str]:
    """One line per quota the head's Experiments exceed (an error) or exceed only while old ones run."""
    out = []
    for row in rows:
        for key, hard in sorted(quotas.get(namespace_of(row.group), {}).items()):
            name, after = _used(row.after, key)
            if not (key.startswith(("requests.", "limits.")) or name in RESOURCE_KEYS or quantity.is_extended(name)):
                continue  # pods, count/..., services: not what Experiments at full parallelism measure here
            _, worst = _used(row.while_old_run, key)
            if after > hard:
                used, limit = quantity.text(after), quantity.text(hard)
                out.append(f"error: {row.group}: {key} {used} at full parallelism, quota {limit} ({where})")
            elif worst > hard:
                out.append(
                    f"warning: {row.group}: {key} {quantity.text(worst)} while the Experiments left running still run, "
                    f"quota {quantity.text(hard)} ({where}): retire them (docs/gitops.md, 'Retiring old Experiments')"
                )
    return out


def quota_manifests(paths: Sequence[Path]) -> dict[str, dict[str, Fraction]]:
    """spec.hard of the ResourceQuota objects in `paths`, by namespace (summed keys take the smallest)."""
    out: dict[str, dict[str, Fraction]] = {}
    for path in paths:
        documents = _read(path)
        for document in documents:
            data = document.data
            if not isinstance(data, dict) or data.get("kind") != "ResourceQuota":
                continue
            namespace = (data.get("metadata") or {}).get("namespace")
            hard = (data.get("spec") or {}).get("hard")
            if not isinstance(namespace, str) or not isinstance(hard, dict):
                raise UsageError(f"{document.file}: a ResourceQuota with metadata.namespace and spec.hard, please")
            for key, value in hard.items():
                amount = quantity.parse(value)
                if amount is None:
                    line, column = document.position(["spec", "hard", key])
                    raise UsageError(f"{document.file}:{line}:{column}: {value!r} is not a quantity")
                known = out.setdefault(namespace, {})
                known[key] = min(known.get(key, amount), amount)  # two quotas: both must hold
    return out


def _read(path: Path) -> list[Document]:
    display = str(path)
    try:
        return load_documents(read_text(path, display), display)
    except OSError as exc:
        raise UsageError(f"--quota {path}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------ the plan


class Plan(NamedTuple):
    base: str
    head: str
    changes: list[Change]
    objects: list[ObjectChange]
    namespaces: list[Usage]
    profiles: list[Usage]
    queues: list[Usage]
    quota: list[str]  # "error: ..." / "warning: ..."
    quotas: dict[str, dict[str, Fraction]]  # what was checked, by namespace

    @property
    def exceeded(self) -> bool:
        return any(line.startswith("error:") for line in self.quota)


def plan(options: Options) -> Plan:
    top, inside = repository(options.specs_dir)
    if options.base:
        base_rev, base_label = verified(top, options.base, "--base"), describe(top, options.base)
    else:
        base_rev, base_label = default_base(top)
    base_set = load_at(top, base_rev, inside, options)
    if options.head:
        verified(top, options.head, "--head")
        head_set, head_label = load_at(top, options.head, inside, options), describe(top, options.head)
    else:
        head_set, head_label = load(options.specs_dir, Path.cwd(), options), WORKING_TREE
    base, expanded = revision(base_set, base_label)
    alike = base_set is not None and head_set is not None and same_targets(base_set, head_set)
    head, _ = revision(head_set, head_label, expanded if alike else None)
    changes = compare(base, head)
    namespaces = usage(base, head, changes, lambda t: t.where())
    quotas, where = (
        (quota_manifests(options.quota_files), "--quota") if options.quota_files else (head.quotas, "Targets quotas")
    )
    return Plan(
        base.label,
        head.label,
        changes,
        compare_objects(base, head),
        namespaces,
        usage(base, head, changes, lambda t: t.where(t.key[2])),
        usage(base, head, changes, lambda t: t.where(t.queue) if t.queue else None),
        quota_findings(namespaces, quotas, where),
        quotas,
    )


# ------------------------------------------------------------------ reports

HEADINGS = {
    "created": "Created",
    "updated": "Updated in place (counts)",
    "metadata": "Updated in place (labels, annotations)",
    "rolled-out": "Rolled out under a new name (the old Experiment is left running)",
    "removed": "Removed from Git (left in the cluster: prune is off)",
}


def _line(change: Change) -> str:
    if change.action == "created":
        return f"{change.target}: {change.kind} {change.name} in {change.namespace}"
    if change.action == "removed":
        return f"{change.target}: {change.kind} {change.old_name} stays in {change.namespace}; " + _retire(change)
    if change.action == "rolled-out":
        return f"{change.target}: {change.old_name} -> {change.name}; " + _retire(change)
    text = f"{change.target}: {change.name}"
    if change.edits:
        text += ": " + ", ".join(change.edits)
    return text


def _retire(change: Change) -> str:
    cluster = change.target.partition("@")[2]
    where = f" on cluster {cluster}" if cluster else ""
    what = change.kind.lower()
    return f"retire it{where}: kubectl delete {what} {change.old_name} -n {change.namespace} (after saving its results)"


# Object changes listed per action and kind; the rest counted (an ApplicationSet's template edit updates every
# Application it creates). The JSON report lists them all.
LISTED_OBJECTS = 20


def _object_name(change: ObjectChange) -> str:
    text = f"{change.kind} {change.namespace + '/' if change.namespace else ''}{change.name}"
    return text + (f" (cluster {change.cluster})" if change.cluster else "")


def _listed(objects: Sequence[ObjectChange]) -> Iterator[tuple[ObjectChange | None, str]]:
    """Each object change to list, then one (None, "and N more ...") per action and kind with more."""
    seen: dict[tuple[str, str], int] = {}
    for change in objects:
        group = (change.action, change.kind)
        seen[group] = seen.get(group, 0) + 1
        if seen[group] <= LISTED_OBJECTS:
            yield change, ""
    for (action, kind), count in seen.items():
        if count > LISTED_OBJECTS:
            yield None, f"and {count - LISTED_OBJECTS} more {kind}s {action}"


def _resources(load: demand.Demand) -> str:
    names = sorted(n for n in {*load.requests, *load.limits} if quantity.is_extended(n))
    return (
        ", ".join(f"{n} {quantity.text(load.limits.get(n, load.requests.get(n, Fraction(0))))}" for n in names)
        or "none"
    )


def _quota_text(hard: Mapping[str, Fraction]) -> str:
    return "; quota " + ", ".join(f"{k} {quantity.text(v)}" for k, v in sorted(hard.items())) if hard else ""


def _usage_changed(row: Usage) -> bool:
    return len({_resources(row.before), _resources(row.after), _resources(row.while_old_run)}) > 1


def text(result: Plan) -> str:
    out = [f"plan: {result.base} -> {result.head}"]
    counted = {a: sum(c.action == a for c in result.changes) for a in [*HEADINGS, "unchanged"]}
    out.append(", ".join(f"{n} {a}" for a, n in counted.items()))
    for action, heading in HEADINGS.items():
        chosen = [c for c in result.changes if c.action == action]
        if chosen:
            out.append(f"\n{heading}:")
            for change in chosen:
                out.append(f"  {_line(change)}")
                out.extend(f"    caveat: {c}" for c in change.caveats)
    if result.objects:
        out.append("\nGitOps objects:")
        out.extend(f"  {o.action}: {_object_name(o)}" if o else f"  {more}" for o, more in _listed(result.objects))
    out.append("\nExtended resources at full parallelism (before -> after):")
    for title, rows in (("namespace", result.namespaces), ("profile", result.profiles), ("queue", result.queues)):
        for row in rows:
            if _usage_changed(row) or title == "namespace":
                after, worst = _resources(row.after), _resources(row.while_old_run)
                extra = f" ({worst} while old ones run)" if worst != after else ""
                limit = _quota_text(result.quotas.get(namespace_of(row.group), {})) if title == "namespace" else ""
                out.append(f"  {title} {row.group}: {_resources(row.before)} -> {after}{extra}{limit}")
    out.extend(f"\n{line}" if i == 0 else line for i, line in enumerate(result.quota))
    return "\n".join(out) + "\n"


def markdown(result: Plan) -> str:
    out = [f"### katib-gitops plan: `{result.base}` → `{result.head}`", ""]
    rows = [c for c in result.changes if c.action != "unchanged"]
    if rows:
        out += ["| target | what happens | Experiment | notes |", "|---|---|---|---|"]
        for change in rows:
            what = HEADINGS[change.action]
            name = (
                f"`{change.old_name}` → `{change.name}`"
                if change.action == "rolled-out"
                else f"`{change.name or change.old_name}`"
            )
            notes = "; ".join([*change.edits, *change.caveats])
            if change.action in ("rolled-out", "removed"):
                notes = "; ".join([*filter(None, [notes]), f"retire `{change.old_name}` by hand"])
            out.append(f"| `{change.target}` | {what} | {name} | {notes} |")
    else:
        out.append("No Experiment changes.")
    unchanged = sum(c.action == "unchanged" for c in result.changes)
    out += ["", f"{unchanged} targets unchanged."]
    if result.objects:
        out += ["", "| GitOps object | change |", "|---|---|"]
        for o, more in _listed(result.objects):
            if o is None:
                out.append(f"| {more} | |")
                continue
            cluster = f" (cluster `{o.cluster}`)" if o.cluster else ""
            out.append(f"| {o.kind} `{o.namespace + '/' if o.namespace else ''}{o.name}`{cluster} | {o.action} |")
    out += ["", "| namespace | before | after | while old Experiments run | quota |", "|---|---|---|---|---|"]
    for row in result.namespaces:
        limit = _quota_text(result.quotas.get(namespace_of(row.group), {})).removeprefix("; quota ") or "none"
        out.append(
            f"| `{row.group}` | {_resources(row.before)} | {_resources(row.after)} | {_resources(row.while_old_run)} "
            f"| {limit} |"
        )
    if result.quota:
        out += [""] + [f"- **{line.split(':', 1)[0]}**:{line.split(':', 1)[1]}" for line in result.quota]
    return "\n".join(out) + "\n"


def _demand_json(load: demand.Demand) -> dict[str, dict[str, str]]:
    return {
        "requests": {k: quantity.text(v) for k, v in sorted(load.requests.items())},
        "limits": {k: quantity.text(v) for k, v in sorted(load.limits.items())},
    }


def as_json(result: Plan) -> str:
    def rows(usages: Iterable[Usage]) -> list[dict[str, Any]]:
        return [
            {
                "group": u.group,
                "before": _demand_json(u.before),
                "after": _demand_json(u.after),
                "whileOldRun": _demand_json(u.while_old_run),
            }
            for u in usages
        ]

    body = {
        "version": 1,
        "base": result.base,
        "head": result.head,
        "changes": [c._asdict() for c in result.changes],
        "gitopsObjects": [o._asdict() for o in result.objects],
        "demand": {
            "namespaces": rows(result.namespaces),
            "profiles": rows(result.profiles),
            "queues": rows(result.queues),
        },
        "quota": result.quota,
        "quotas": {ns: {k: quantity.text(v) for k, v in sorted(h.items())} for ns, h in sorted(result.quotas.items())},
        "quotaExceeded": result.exceeded,
    }
    return json.dumps(body, indent=2, default=list) + "\n"


RENDERERS = {"text": text, "markdown": markdown, "json": as_json}
