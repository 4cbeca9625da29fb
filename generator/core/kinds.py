"""What katib-gitops knows about each trial kind Katib can run (KIND-01/02, DEF-05..07)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

SUCCEEDED = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
COMPLETE = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
FAILED = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
MASTER_ROLE = {"training.kubeflow.org/job-role": "master"}
ISTIO_OFF = {"sidecar.istio.io/inject": "false"}
# katib-gitops' own kinds. Here, not in katib_gitops.spec.model, so that `validate` can tell them
# apart without importing the spec machinery (~7 ms of a pre-commit hook's start-up).
API_VERSION = "katib-gitops.dev/v1alpha1"
SPEC_KIND = "TuningSpec"
TARGETS_KIND = "Targets"
# The Katib release whose rules and defaults apply unless a command is told another.
KATIB_VERSION = (0, 19)
# The HyperParameters each NAS algorithm's suggestion service hands a trial (ENAS-08,
# DARTS-04, MIG-17): a NAS Experiment's trialParameters reference exactly these (TT-R1).
NAS_ASSIGNMENTS = {"enas": ("architecture", "nn_config"), "darts": ("algorithm-settings", "search-space", "num-layers")}
# The only spec fields Katib lets a created Experiment change (UPD-01).
COUNT_FIELDS = ("parallelTrialCount", "maxTrialCount", "maxFailedTrialCount")
# Katib's defaults (DEF-01, DEF-10, DEF-11), shared by the builder and the defaulter.
DEFAULT_PARALLEL = 3
DEFAULT_COLLECTOR_PATHS = {"File": "/var/log/katib/metrics.log", "TensorFlowEvent": "/var/log/katib/tfevent/"}


class TrialKind(NamedTuple):
    """A job kind a trial can run, and where its pods and primary container live."""

    kind: str
    api_version: str
    container: str
    success: str
    failure: str
    pod_labels: Mapping[str, str]
    replica_field: str | None = None
    roles: tuple[str, ...] = ()
    default_replicas: Mapping[str, int] = MappingProxyType({})
    restart_policy: str = "OnFailure"
    katib_defaults: bool = True  # Katib's webhook fills conditions and labels itself
    pod_templates: bool = True  # False: no pod template in the object (TrainJob)

    def pod_spec_paths(self, trial_spec: Mapping[str, Any]) -> Iterator[tuple[str | int, ...]]:
        """JSON paths (inside trialSpec) of every pod spec of `trial_spec`."""
        if not self.pod_templates:
            return
        if self.replica_field is None:
            yield ("spec", "template", "spec")
            return
        spec = trial_spec.get("spec") if isinstance(trial_spec, Mapping) else None
        replicas = spec.get(self.replica_field) if isinstance(spec, Mapping) else None
        for role in replicas if isinstance(replicas, Mapping) else ():  # wrong types are the schema's to report
            yield ("spec", self.replica_field, role, "template", "spec")


def _kubeflow(
    kind: str, field: str, container: str, roles: tuple[str, ...], default_role: str, *, katib_defaults: bool = True
) -> TrialKind:
    return TrialKind(
        kind=kind,
        api_version="kubeflow.org/v1",
        container=container,
        success=SUCCEEDED,
        failure=FAILED,
        pod_labels=MASTER_ROLE,
        replica_field=field,
        roles=roles,
        default_replicas={default_role: 1},
        katib_defaults=katib_defaults,
    )


KINDS: dict[str, TrialKind] = {
    k.kind: k
    for k in (
        TrialKind("Job", "batch/v1", "training", COMPLETE, FAILED, {}, restart_policy="Never"),
        _kubeflow("TFJob", "tfReplicaSpecs", "tensorflow", ("Chief", "Master", "PS", "Worker", "Evaluator"), "Worker"),
        _kubeflow("PyTorchJob", "pytorchReplicaSpecs", "pytorch", ("Master", "Worker"), "Master"),
        _kubeflow("XGBoostJob", "xgbReplicaSpecs", "xgboost", ("Master", "Worker"), "Master"),
        _kubeflow("MPIJob", "mpiReplicaSpecs", "mpi", ("Launcher", "Worker"), "Launcher"),
        # Katib does not default PaddleJob or JAXJob (gitops-notes b10): we write
        # conditions and labels ourselves. The training operator labels the
        # Paddle Master, and JAX worker 0, with job-role=master.
        _kubeflow("PaddleJob", "paddleReplicaSpecs", "paddle", ("Master", "Worker"), "Master", katib_defaults=False),
        _kubeflow("JAXJob", "jaxReplicaSpecs", "jax", ("Worker",), "Worker", katib_defaults=False),
        TrialKind(
            "TrainJob",
            "trainer.kubeflow.org/v1alpha1",
            "node",
            COMPLETE,
            FAILED,
            {"jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "0"},
            restart_policy="",
            pod_templates=False,
        ),
    )
}


def lookup(kind: str, api_version: str | None = None) -> TrialKind | None:
    known = KINDS.get(kind)
    if known is None or (api_version is not None and api_version != known.api_version):
        return None
    return known
