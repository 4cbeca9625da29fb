"""The parts of a KatibConfig the validator needs (CFG-01, CFG-02, KIND-01).

By default: the facts of Katib's standalone install. `--katib-config FILE` reads
the cluster's KatibConfig, or the ConfigMap that carries it under the key
`katib-config.yaml`.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from katib_gitops.core import kinds
from katib_gitops.core.diagnostics import FindingsError, UsageError
from katib_gitops.yamlio.documents import load_documents
from katib_gitops.yamlio.reader import read_text

# algorithm name -> the suggestion service implementing it (ALG-04), by image name.
STANDALONE_SUGGESTIONS = {
    "random": "hyperopt",
    "tpe": "hyperopt",
    "grid": "optuna",
    "multivariate-tpe": "optuna",
    "cmaes": "goptuna",
    "sobol": "goptuna",
    "bayesianoptimization": "skopt",
    "hyperband": "hyperband",
    "pbt": "pbt",
    "enas": "enas",
    "darts": "darts",
}
STANDALONE_EARLY_STOPPING = {"medianstop": "medianstop"}
STANDALONE_COLLECTORS = ("StdOut", "File", "TensorFlowEvent")
SERVICES = ("hyperopt", "optuna", "goptuna", "skopt", "hyperband", "pbt", "enas", "darts", "medianstop")


class KatibConfig(NamedTuple):
    suggestions: Mapping[str, str]  # algorithm name -> service
    early_stoppings: Mapping[str, str]
    collectors: tuple[str, ...]
    trial_resources: tuple[str, ...]  # Kind.version.group
    source: str = "Katib's standalone install (default)"

    def trial_resource_known(self, api_version: str, kind: str) -> bool:
        group, _, version = api_version.rpartition("/")
        return f"{kind}.{version}.{group or ''}".rstrip(".") in {r.rstrip(".") for r in self.trial_resources}


def standalone_trial_resources(version: tuple[int, int]) -> tuple[str, ...]:
    """The trialResources of Katib `version`'s standalone install: the kinds it defaults (VER-06)."""
    return tuple(kind.trial_resource for kind in kinds.defaulted_kinds(version))


def standalone(version: tuple[int, int]) -> KatibConfig:
    """Katib's standalone install of `version` (its source names the version where it differs from the latest)."""
    config = STANDALONE._replace(trial_resources=standalone_trial_resources(version))
    if config.trial_resources == standalone_trial_resources(kinds.KATIB_VERSION):
        return config
    return config._replace(source=f"Katib {version[0]}.{version[1]}'s standalone install (default)")


STANDALONE = KatibConfig(
    STANDALONE_SUGGESTIONS,
    STANDALONE_EARLY_STOPPING,
    STANDALONE_COLLECTORS,
    standalone_trial_resources(kinds.KATIB_VERSION),
)


def service_of(image: str) -> str:
    """`ghcr.io/kubeflow/katib/suggestion-optuna:v0.19.0` -> `optuna`; unknown images -> ''."""
    name = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    for prefix in ("suggestion-", "earlystopping-"):
        if name.startswith(prefix) and name[len(prefix) :] in SERVICES:
            return name[len(prefix) :]
    return ""


def from_document(data: Mapping[str, Any], source: str) -> KatibConfig:
    """Read a KatibConfig, or a ConfigMap holding one under `katib-config.yaml`."""
    if data.get("kind") == "ConfigMap":
        text = (data.get("data") or {}).get("katib-config.yaml")
        if not isinstance(text, str):
            raise UsageError(f"{source}: ConfigMap has no data key 'katib-config.yaml'")
        documents = load_documents(text, f"{source} (katib-config.yaml)")
        if not documents:
            raise UsageError(f"{source}: katib-config.yaml is empty")
        data = documents[0].data
    if data.get("kind") != "KatibConfig":
        raise UsageError(f"{source}: expected a KatibConfig or its ConfigMap, found kind {data.get('kind')!r}")
    runtime = data.get("runtime") or {}
    controller = (data.get("init") or {}).get("controller") or {}
    return KatibConfig(
        suggestions=_by_name(runtime.get("suggestions"), "algorithmName"),
        early_stoppings=_by_name(runtime.get("earlyStoppings"), "algorithmName"),
        collectors=tuple(e["kind"] for e in runtime.get("metricsCollectors") or [] if _has_image(e) and "kind" in e),
        # An empty list makes the controller watch batch Jobs only (TT-R5).
        trial_resources=tuple(controller.get("trialResources") or ("Job.v1.batch",)),
        source=source,
    )


def _has_image(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("image"), str) and bool(entry["image"].strip())


def _by_name(entries: Any, key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries or []:
        if _has_image(entry) and key in entry:
            out[str(entry[key])] = service_of(entry["image"])  # the last entry wins (CFG-01)
    return out


def load(path: Path) -> KatibConfig:
    display = str(path)
    try:
        documents = load_documents(read_text(path, display), display)
    except FindingsError as exc:
        raise UsageError("; ".join(d.format() for d in exc.diagnostics)) from exc
    if not documents or not isinstance(documents[0].data, dict):
        raise UsageError(f"{display}: no KatibConfig found")
    return from_document(documents[0].data, display)
