"""A Kubeflow Trainer OptimizationJob, judged as the API server judges it on create (a built-in kind of `validate`,
and what generate builds for `backend: optimizationjob`).

The CRD (manifests/base/crds/trainer.kubeflow.org_optimizationjobs.yaml of Kubeflow Trainer's master, generated
from pkg/apis/trainer/v1alpha1/optimizationjob_types.go) validates with its schema and CEL rules only: no
webhook. So, in the API server's order: the schema's defaults are filled in (numTrials, parallelTrials,
searchAlgorithm, direction, a space's type), then schemas/optimizationjob.schema.json is checked, the names of
the parameters are unique (`x-kubernetes-list-map-keys`), the CEL rules of that schema run (those without
`oldSelf`: the immutability of the whole spec is an update rule), and the trial's TrainJob spec is checked
against schemas/trainjob.schema.json, the same fields as the CRD embeds.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.schema import fast, manifests
from katib_gitops.schema import ours as spec_schema
from katib_gitops.schema.ours import schema_text
from katib_gitops.yamlio.documents import Document

API_VERSION = "trainer.kubeflow.org/v1alpha1"
KIND = "OptimizationJob"
SCHEMA = "optimizationjob"
TRAIN_JOB_SCHEMA = "trainjob"
TEMPLATE: list[str | int] = ["spec", "trainJobTemplate"]


@functools.cache
def raw_schema() -> Mapping[str, Any]:
    raw: Mapping[str, Any] = json.loads(schema_text(SCHEMA))
    return raw


def check(document: Document, kubernetes: str) -> list[Diagnostic]:
    """Every finding of the API server on creating the OptimizationJob `document` holds."""
    from katib_gitops.schema import crd  # only for a document of this kind (docs/performance.md: lazy imports)

    admitted = crd.with_defaults(document.data, raw_schema())
    if fast.is_valid(("ours", SCHEMA), kubernetes, admitted):
        found: list[Diagnostic] = []
    else:
        found = spec_schema.diagnostics(document, manifests.validator(SCHEMA, kubernetes), admitted)
    found.extend(_duplicate_names(document, admitted))
    for result in crd.schema_cel_results(admitted, raw_schema()):
        rule_id = spec_schema.SCHEMA.id if result.evaluated else spec_schema.CEL_UNCHECKED.id
        finding = document.diagnostic(result.path, rule_id, result.message)
        found.append(finding if result.evaluated else finding._replace(severity=Severity.WARNING))
    found.extend(_train_job(document, admitted, kubernetes))
    return found


def _duplicate_names(document: Document, admitted: Any) -> list[Diagnostic]:
    """spec.parameters is a map list keyed by name: a second parameter of a name is refused."""
    items = _at(admitted, ["spec", "parameters"])
    seen: set[str] = set()
    found = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str) and name in seen:
            path: list[str | int] = ["spec", "parameters", index, "name"]
            found.append(document.diagnostic(path, spec_schema.SCHEMA.id, f"duplicate entry with name = {name!r}"))
        if isinstance(name, str):
            seen.add(name)
    return found


def _train_job(document: Document, admitted: Any, kubernetes: str) -> list[Diagnostic]:
    """trainJobTemplate as the TrainJob each trial creates (the controller names it), against the TrainJob schema."""
    template = _at(admitted, TEMPLATE)
    if not isinstance(template, Mapping) or not isinstance(template.get("spec"), Mapping):
        return []  # a missing or mistyped spec is the OptimizationJob schema's finding
    metadata = template.get("metadata") if isinstance(template.get("metadata"), Mapping) else {}
    kept = {k: v for k, v in (metadata or {}).items() if k in ("labels", "annotations", "finalizers")}
    instance = {
        "apiVersion": API_VERSION,
        "kind": "TrainJob",
        "metadata": {"name": "trial", **kept},
        "spec": template["spec"],
    }
    if fast.is_valid(("ours", TRAIN_JOB_SCHEMA), kubernetes, instance):
        return []
    checker = manifests.validator(TRAIN_JOB_SCHEMA, kubernetes)
    return spec_schema.diagnostics(document, checker, instance, TEMPLATE)


def _at(data: Any, path: list[str | int]) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, Mapping) and isinstance(part, str) else None
    return data
