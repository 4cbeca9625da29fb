"""`katib-gitops promote`: the best parameters of one Experiment, written into a file the training jobs read.

The Experiment comes from `katib-gitops results` (the cli layer reads it there and passes it here: no command
imports another's modules); this module needs only the fields `Promotable` names. Formats:

* `yaml`, `json`: a values file, `{source: {...}, parameters: {name: value}}`, values typed by the
  parameter's `parameterType` (int, double; discrete and categorical stay strings, as Katib keeps them);
* `configmap`: a v1 ConfigMap in the Experiment's namespace, the values as `data` strings, the source as
  annotations;
* `env`: `NAME=value` lines (the name upper-cased, other characters `_`), as `kubectl create configmap
  --from-env-file` and `docker run --env-file` read them: no quotes, one line per value.

Every file records where its values come from (Experiment, target, trial, objective, state, date: the
Experiment's completionTime, or the day of promotion while it runs) and a digest of itself
(`katib-gitops-digest: sha256:...`, taken over the file with the digest's hex as zeros). A file there without
the digest, or whose digest no longer matches, was written or edited by hand: promote refuses to replace it
(like generate's ownership check) unless --force. The file is replaced atomically (core.files.atomic_write).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.files import atomic_write
from katib_gitops.core.registry import declare
from katib_gitops.yamlio.reader import read_bytes
from katib_gitops.yamlio.writer import dump

PROMOTE_REFUSED = declare(
    "promote-refused",
    "TOOL",
    "promote writes only the best trial of a succeeded Experiment the specs generate, with the spec's parameters.",
    remediation="Wait for it to succeed (or pass --allow-running), or promote another Experiment.",
)

FORMATS = ("yaml", "json", "configmap", "env")
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".env": "env"}
MARKER = "katib-gitops-digest"
DIGEST = re.compile(MARKER + r"\"?: \"?sha256:([0-9a-f]{64})")
ZEROS = "0" * 64
CONFIGMAP_KEY = re.compile(r"[-._a-zA-Z0-9]+\Z")  # Kubernetes' IsConfigMapKey
ENV_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
READ_LIMIT = 1 << 20


class Promotable(Protocol):
    """What promote reads of an Experiment read back (katib_gitops.commands.results.Result has it all)."""

    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def spec(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def objective(self) -> str: ...
    @property
    def objective_type(self) -> str: ...
    @property
    def objective_value(self) -> str: ...
    @property
    def goal(self) -> float | None: ...
    @property
    def goal_reached(self) -> bool | None: ...
    @property
    def best_trial(self) -> str: ...
    @property
    def assignments(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def parameter_types(self) -> dict[str, str]: ...
    @property
    def git_parameters(self) -> tuple[str, ...]: ...
    @property
    def completion_time(self) -> str: ...


class Options(NamedTuple):
    out: Path
    output_format: str = ""  # "" : from the file's suffix
    configmap_name: str = ""
    allow_running: bool = False
    force: bool = False
    date: str = ""  # the promotion day (YYYY-MM-DD) for an Experiment that has not completed; "": today, UTC


class Outcome(NamedTuple):
    path: Path
    written: bool
    experiment: str


# ------------------------------------------------------------------ choosing the Experiment


def choose(results: Sequence[Promotable], *, target: str = "", experiment: str = "", namespace: str = "") -> Promotable:
    """The one Experiment named by `target` (spec/namespace/profile) or `experiment` (and `namespace`)."""
    if bool(target) == bool(experiment):
        raise UsageError("name the Experiment: --target SPEC/NAMESPACE/PROFILE or --experiment NAME")
    if target:
        if target.count("/") != 2:
            raise UsageError(f"--target {target!r}: not SPEC/NAMESPACE/PROFILE")
        matches = [r for r in results if r.target == target]
        current = [r for r in matches if r.owner == "current"]
        if not current:
            left = f" (only {', '.join(r.key for r in matches)}, left from an earlier roll-out)" if matches else ""
            raise UsageError(f"--target {target}: the Experiment Git generates for it is not in the input{left}")
        return current[0]
    matches = [r for r in results if r.name == experiment and (not namespace or r.namespace == namespace)]
    if not matches:
        raise UsageError(f"--experiment {experiment}: no such Experiment in the input")
    if len(matches) > 1:
        raise UsageError(
            f"--experiment {experiment}: in {len(matches)} namespaces ({', '.join(r.namespace for r in matches)}); "
            "add --namespace"
        )
    return matches[0]


def refusals(result: Promotable, allow_running: bool) -> list[Diagnostic]:
    """Why `result`'s best trial cannot be promoted; empty when it can."""
    reasons = []
    if result.owner in ("foreign", "removed"):
        why = "was not generated by katib-gitops" if result.owner == "foreign" else f"is of {result.target}, not in Git"
        reasons.append(f"Experiment {result.key} {why}: its parameters are no spec's")
    if result.state == "Failed":
        reasons.append(f"Experiment {result.key} failed ({result.reason or 'no reason given'})")
    elif result.state != "Succeeded" and not allow_running:
        reasons.append(f"Experiment {result.key} has not succeeded: it is {result.state} (--allow-running to promote)")
    if not result.best_trial or not result.assignments:
        reasons.append(f"Experiment {result.key} has no best trial yet (status.currentOptimalTrial)")
    elif result.git_parameters:
        have, want = [n for n, _ in result.assignments], list(result.git_parameters)
        if sorted(have) != sorted(want):
            missing = sorted(set(want) - set(have))
            extra = sorted(set(have) - set(want))
            said = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"not in the spec {', '.join(extra)}" if extra else "",
                )
                if part
            )
            reasons.append(f"the best trial's parameters do not match the spec {result.spec}'s: {said}")
    return [
        Diagnostic(
            result.file, result.line, result.column, PROMOTE_REFUSED.id, reason, object=f"Experiment/{result.name}"
        )
        for reason in reasons
    ]


# ------------------------------------------------------------------ the file


def typed(value: str, parameter_type: str) -> Any:
    """A Katib value string as the parameter's type: int and double become numbers; the rest stay strings."""
    try:
        if parameter_type == "int":
            return int(value)
        if parameter_type == "double":
            number = float(value)
            return number if number == number and abs(number) != float("inf") else value
    except ValueError:
        return value
    return value


def env_name(name: str) -> str:
    return ENV_UNSAFE.sub("_", name).strip("_").upper()


def source_fields(result: Promotable, date: str) -> dict[str, str]:
    goal = "no goal"
    if result.goal is not None:
        reached = {True: "reached", False: "not reached", None: "unknown"}[result.goal_reached]
        goal = f"goal {result.goal!r} {reached}"
    value = result.objective_value or "unavailable"
    return {
        "experiment": result.key,
        "target": result.target,
        "trial": result.best_trial,
        "objective": f"{result.objective}={value} ({result.objective_type}, {goal})",
        "state": f"{result.state} ({result.reason})" if result.reason else result.state,
        "date": date,
    }


def render(result: Promotable, output_format: str, date: str, configmap_name: str = "") -> str:
    """The file's text, with its digest."""
    source = source_fields(result, date)
    header = [
        f"Best parameters of Experiment {result.key}, written by katib-gitops promote.",
        "Promote again to change them; a file edited by hand is not replaced.",
        f"{MARKER}: sha256:{ZEROS}",
    ]
    if output_format in ("yaml", "json"):
        parameters = {n: typed(v, result.parameter_types.get(n, "")) for n, v in result.assignments}
        if output_format == "yaml":
            text = dump({"source": source, "parameters": parameters}, "\n".join(header))
        else:
            body = {"source": {**source, MARKER: f"sha256:{ZEROS}"}, "parameters": parameters}
            text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    elif output_format == "configmap":
        for name, _ in result.assignments:
            if not CONFIGMAP_KEY.match(name):
                raise UsageError(f"parameter {name!r} is no ConfigMap key ([-._a-zA-Z0-9]+): use --format yaml or env")
        metadata: dict[str, Any] = {"name": configmap_name or f"{result.spec}-best-parameters"}
        if result.namespace:
            metadata["namespace"] = result.namespace
        metadata["annotations"] = {f"katib-gitops.dev/promoted-{k}": v for k, v in source.items()}
        document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": dict(result.assignments)}
        text = dump(document, "\n".join(header))
    else:
        text = _env(result, source, header)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text.replace(f"sha256:{ZEROS}", f"sha256:{digest}", 1)


def _env(result: Promotable, source: dict[str, str], header: list[str]) -> str:
    lines = [f"# {line}" for line in header] + [f"# {key}: {value}" for key, value in source.items()]
    seen: dict[str, str] = {}
    for name, value in result.assignments:
        key = env_name(name)
        if not key or key[0].isdigit():
            raise UsageError(f"parameter {name!r} gives no environment variable name: use --format yaml")
        if key in seen:
            raise UsageError(f"parameters {seen[key]!r} and {name!r} are both {key} in an env file: use --format yaml")
        if "\n" in value or "\r" in value:
            raise UsageError(f"parameter {name!r}: a value with a line break cannot be written to an env file")
        seen[key] = name
        lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def recorded_digest(text: str) -> str | None:
    """The digest a promoted file records, or None when it records none."""
    match = DIGEST.search(text)
    return match.group(1) if match else None


def edited_by_hand(text: str) -> bool:
    """True when `text` is not what promote wrote: no digest, or the digest of other content."""
    recorded = recorded_digest(text)
    if recorded is None:
        return True
    blanked = text.replace(f"sha256:{recorded}", f"sha256:{ZEROS}", 1)
    return hashlib.sha256(blanked.encode("utf-8")).hexdigest() != recorded


def output_format(options: Options) -> str:
    if options.output_format:
        return options.output_format
    chosen = SUFFIXES.get(options.out.suffix)
    if chosen is None:
        raise UsageError(f"{options.out}: say which format with --format ({', '.join(FORMATS)})")
    return chosen


def promote(result: Promotable, options: Options) -> Outcome:
    """Write `result`'s best parameters to options.out, atomically; FindingsError when they cannot be promoted."""
    chosen = output_format(options)
    problems = refusals(result, options.allow_running)
    if problems:
        raise FindingsError(problems)
    date = (
        result.completion_time[:10] or options.date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    )
    text = render(result, chosen, date, options.configmap_name)
    out = options.out
    if out.is_symlink() or out.exists():
        existing = read_bytes(out, str(out)).decode("utf-8", "replace") if out.is_file() else None
        if existing is None:
            raise UsageError(f"{out}: not a regular file; promote writes a file there")
        if existing == text:
            return Outcome(out, False, result.key)
        if not options.force and edited_by_hand(existing):
            why = "edited by hand since" if recorded_digest(existing) else "not written by"
            raise UsageError(f"{out}: {why} katib-gitops promote; refusing to replace it (--force to overwrite)")
    try:
        atomic_write(out, text)
    except OSError as exc:
        raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
    return Outcome(out, True, result.key)
