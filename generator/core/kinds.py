"""What katib-gitops knows about each trial kind Katib can run (KIND-01/02, DEF-05..07).

Each kind's record says where its pod templates are, which role is primary, what Katib
does for it and which schema checks it; `pod_templates` walks the pod templates of a
trial object of any kind. Adding a kind with an ordinary layout touches `KINDS` and
its schema file (schemas/<name>.schema.json) only.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import enum
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

SUCCEEDED = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
COMPLETE = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
FAILED = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
MASTER_ROLE = {"training.kubeflow.org/job-role": "master"}
ISTIO_OFF = {"sidecar.istio.io/inject": "false"}
# Katib v0.19 reads the Istio opt-out from the pod label (kubeflow/katib#2527), and Istio deprecates the
# annotation; for an older Katib the generator writes the annotation too.
ISTIO_LABEL_SINCE = (0, 19)


def istio_off_metadata(katib_version: tuple[int, int]) -> dict[str, dict[str, str]]:
    """The pod template metadata that keeps Istio's sidecar out of a trial's pods for `katib_version`."""
    metadata = {"labels": dict(ISTIO_OFF)}
    if katib_version < ISTIO_LABEL_SINCE:
        metadata["annotations"] = dict(ISTIO_OFF)
    return metadata


# A profile's `queue` (a Kueue LocalQueue) and `priorityClass` (a Kueue WorkloadPriorityClass) go on the trial
# job's own metadata as labels: Kueue reads them from the job (batch Job, the Kubeflow v1 jobs, TrainJob), not
# from its pods (kueue pkg/controller/constants: QueueLabel, WorkloadPriorityClassLabel).
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
KUEUE_PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
KUEUE_LABELS = {"queue": KUEUE_QUEUE_LABEL, "priorityClass": KUEUE_PRIORITY_LABEL}  # profile field: job label
# What of a profile goes to the pods of the roles that compute (TrialKind.compute_roles); resources first.
PROFILE_POD_FIELDS = ("resources", "nodeSelector", "tolerations", "runtimeClassName")
# The `manager` of the runtime patch katib-gitops writes into a TrainJob (Trainer v2.2+).
RUNTIME_PATCH_MANAGER = "katib-gitops.dev/manager"
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

# A JSON path inside a trial object: mapping keys (a role is a key) and list indexes.
Path = tuple[str | int, ...]


class Layout(enum.Enum):
    """Where a kind keeps its pod templates."""

    TEMPLATE = "template"  # one pod template at spec.template (a batch Job)
    REPLICAS = "replicas"  # one per replica role: spec.<replica_field>.<Role>.template
    # None in the object: the pods come from a Kubeflow Trainer runtime (its patches), and the
    # trainer at spec.trainer becomes the primary container (resourcesPerNode its resources).
    RUNTIME = "runtime"


class PodTemplate(NamedTuple):
    """A pod template of a trial object: its role ('' for a single template), its path and itself."""

    role: str
    path: Path
    template: Mapping[str, Any]


class TrialKind(NamedTuple):
    """A job kind a trial can run: where its pods and primary container live, and what Katib does for it."""

    kind: str
    api_version: str
    layout: Layout
    # The primary container: the name the short form writes and primaryContainerName defaults to.
    container: str
    success: str
    failure: str
    # The primary pod labels: they select the pods of the primary role, whose metrics Katib collects.
    pod_labels: Mapping[str, str]
    # Our schema of the kind: a name in schemas/ (`tfjob`: schemas/tfjob.schema.json) or the path of a
    # *.schema.json file (katib_gitops.schema.ours.schema_path); None: Kubernetes' own (kubernetes-validate's).
    schema: str | None
    replica_field: str | None = None  # Layout.REPLICAS: the map of roles under spec
    roles: tuple[str, ...] = ()  # the roles the short form takes under `replicas`
    # The roles whose pod runs the primary container with the primary pod labels, by precedence:
    # the first the trial has is primary (TFJob: Chief, else Master, else worker 0).
    primary_roles: tuple[str, ...] = ()
    # The roles that compute, which receive a profile's resources, nodeSelector, tolerations and
    # runtimeClassName unless the spec's trial.profileRoles (or the profile's roles) say otherwise;
    # () for every role. A single pod template (Job) and a TrainJob's trainer node always compute.
    compute_roles: tuple[str, ...] = ()
    # The primary pod labels when the trial lacks the first primary role; None: `pod_labels` all the same.
    fallback_pod_labels: Mapping[str, str] | None = None
    default_replicas: Mapping[str, int] = MappingProxyType({})  # the short form's roles when it names none
    restart_policy: str = "OnFailure"  # of the short form's pods (Layout.TEMPLATE) or roles
    # The Katib release from which its webhook fills in the kind's conditions and primary pod labels and its
    # standalone install lists the kind in trialResources (VER-06); None: Katib does neither, we write them.
    defaults_since: tuple[int, int] | None = (0, 0)
    # Its operator (and Katib v1alpha3) knows the training container by the name `container`; False: the
    # pods name it freely (a batch Job, where v1alpha3 took the first container).
    container_by_name: bool = True
    # Katib's webhook checks the trialSpec against the kind's API at admission (TT-20: a batch Job).
    checked_at_admission: bool = False

    @property
    def primary_role(self) -> str:
        """The role that is primary when the trial has it ('' for a single pod template)."""
        return self.primary_roles[0] if self.primary_roles else ""

    @property
    def trial_resource(self) -> str:
        """`TFJob.v1.kubeflow.org`: the kind as the katib-config's trialResources names it."""
        group, _, version = self.api_version.rpartition("/")
        return f"{self.kind}.{version}.{group}".rstrip(".")

    def computes(self, role: str) -> bool:
        """`role` receives a profile's accelerators (resources, nodeSelector, ...) by default."""
        return self.layout is not Layout.REPLICAS or not self.compute_roles or role in self.compute_roles

    def defaulted_by(self, version: tuple[int, int]) -> bool:
        """Katib `version` fills in this kind's conditions and primary pod labels (DEF-05..07)."""
        return self.defaults_since is not None and version >= self.defaults_since

    def default_pod_labels(self, trial_spec: Mapping[str, Any]) -> Mapping[str, str]:
        """The primary pod labels of `trial_spec`, a trial object of this kind."""
        if self.fallback_pod_labels is not None and self.primary_role not in _replicas(trial_spec, self):
            return self.fallback_pod_labels
        return self.pod_labels


def _replicas(trial_spec: Any, kind: TrialKind) -> Mapping[Any, Any]:
    """The map of roles of `trial_spec`, or an empty one (wrong types are the schema's to report)."""
    spec = trial_spec.get("spec") if isinstance(trial_spec, Mapping) else None
    replicas = spec.get(kind.replica_field) if isinstance(spec, Mapping) and kind.replica_field else None
    return replicas if isinstance(replicas, Mapping) else {}


def pod_template_places(trial_spec: Any, kind: TrialKind | None) -> Iterator[tuple[str, Path]]:
    """(role, path) of every place `kind` keeps a pod template in `trial_spec`, whether one is there or not.

    One for a single template (role ''), one per role the map of roles has, none for a kind
    whose pods are not in the object. `pod_templates` gives those that are there.
    """
    if kind is None or kind.layout is Layout.RUNTIME:
        return
    if kind.layout is Layout.TEMPLATE:
        yield "", ("spec", "template")
        return
    field = str(kind.replica_field)
    for role in _replicas(trial_spec, kind):
        yield str(role), ("spec", field, role, "template")


def pod_templates(trial_spec: Any, kind: TrialKind | None) -> Iterator[PodTemplate]:
    """Every pod template of `trial_spec`, a trial object of `kind` (nothing when the kind is None).

    Parts of the wrong type are skipped: they are the schema's to report. Works on plain
    data and on ruamel's round-trip nodes alike.
    """
    for role, path in pod_template_places(trial_spec, kind):
        node: Any = trial_spec
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            yield PodTemplate(role, path, node)


def _kubeflow(
    kind: str,
    field: str,
    container: str,
    roles: tuple[str, ...],
    default_role: str,
    primary_roles: tuple[str, ...],
    *,
    compute_roles: tuple[str, ...],
    fallback_pod_labels: Mapping[str, str] | None = None,
    defaults_since: tuple[int, int] | None = (0, 0),
) -> TrialKind:
    return TrialKind(
        kind=kind,
        api_version="kubeflow.org/v1",
        layout=Layout.REPLICAS,
        container=container,
        success=SUCCEEDED,
        failure=FAILED,
        pod_labels=MASTER_ROLE,
        schema=kind.lower(),
        replica_field=field,
        roles=roles,
        primary_roles=primary_roles,
        default_replicas={default_role: 1},
        compute_roles=compute_roles,
        fallback_pod_labels=fallback_pod_labels,
        defaults_since=defaults_since,
    )


KINDS: dict[str, TrialKind] = {
    k.kind: k
    for k in (
        TrialKind(
            kind="Job",
            api_version="batch/v1",
            layout=Layout.TEMPLATE,
            container="training",
            success=COMPLETE,
            failure=FAILED,
            pod_labels={},
            schema=None,
            restart_policy="Never",
            container_by_name=False,
            checked_at_admission=True,
        ),
        # Which roles compute (docs/spec.md, "Which roles a profile reaches"): a TFJob's PS holds
        # variables and its Evaluator checks points on the side; an MPIJob's Launcher only runs mpirun
        # (upstream's Horovod example gives it 500m CPU); a PaddleJob's Master is a parameter server
        # (the Training Operator's Paddle controller: with a Master the job runs in PS mode and Master
        # pods get PADDLE_SERVER_NUM, Workers PADDLE_TRAINER_NUM; without one only Workers run).
        _kubeflow(
            "TFJob",
            "tfReplicaSpecs",
            "tensorflow",
            ("Chief", "Master", "PS", "Worker", "Evaluator"),
            "Worker",
            ("Chief", "Master", "Worker"),
            compute_roles=("Chief", "Master", "Worker"),
        ),
        _kubeflow(
            "PyTorchJob",
            "pytorchReplicaSpecs",
            "pytorch",
            ("Master", "Worker"),
            "Master",
            ("Master", "Worker"),
            compute_roles=("Master", "Worker"),
        ),
        _kubeflow(
            "XGBoostJob",
            "xgbReplicaSpecs",
            "xgboost",
            ("Master", "Worker"),
            "Master",
            ("Master", "Worker"),
            compute_roles=("Master", "Worker"),
        ),
        _kubeflow(
            "MPIJob",
            "mpiReplicaSpecs",
            "mpi",
            ("Launcher", "Worker"),
            "Launcher",
            ("Launcher", "Worker"),
            compute_roles=("Worker",),
        ),
        # Katib does not default PaddleJob or JAXJob (gitops-notes b10): we write
        # conditions and labels ourselves. The training operator labels the
        # Paddle Master, and JAX worker 0, with job-role=master; without a Master
        # it labels no Paddle pod master, so the labels pick worker 0.
        _kubeflow(
            "PaddleJob",
            "paddleReplicaSpecs",
            "paddle",
            ("Master", "Worker"),
            "Master",
            ("Master", "Worker"),
            compute_roles=("Worker",),
            fallback_pod_labels={
                "training.kubeflow.org/replica-type": "worker",
                "training.kubeflow.org/replica-index": "0",
            },
            defaults_since=None,
        ),
        _kubeflow(
            "JAXJob",
            "jaxReplicaSpecs",
            "jax",
            ("Worker",),
            "Worker",
            ("Worker",),
            compute_roles=("Worker",),
            defaults_since=None,
        ),
        # The short form's replicas take the node count as role 'node': the runtime's replicated job.
        TrialKind(
            kind="TrainJob",
            api_version="trainer.kubeflow.org/v1alpha1",
            layout=Layout.RUNTIME,
            container="node",
            success=COMPLETE,
            failure=FAILED,
            pod_labels={
                "jobset.sigs.k8s.io/replicatedjob-name": "node",
                "batch.kubernetes.io/job-completion-index": "0",
            },
            schema="trainjob",
            roles=("node",),
            primary_roles=("node",),
            compute_roles=("node",),
            restart_policy="",
            defaults_since=(0, 19),  # VER-06
        ),
    )
}


# Kinds Katib once defaulted and listed in its standalone trialResources, with the release that stopped:
# MXJob left KubeflowJobKinds in v0.18 (pkg/apis/controller/experiments/v1beta1/constants.go; VER-05), and
# the v0.16/v0.17 katib-config listed MXJob.v1.kubeflow.org. Not a kind the short form builds.
RETIRED: dict[str, tuple[TrialKind, tuple[int, int]]] = {
    "MXJob": (
        TrialKind(
            kind="MXJob",
            api_version="kubeflow.org/v1",
            layout=Layout.REPLICAS,
            container="mxnet",
            success=SUCCEEDED,
            failure=FAILED,
            pod_labels=MASTER_ROLE,
            schema=None,
            replica_field="mxReplicaSpecs",
        ),
        (0, 18),
    ),
}


def defaulted_kinds(version: tuple[int, int]) -> tuple[TrialKind, ...]:
    """The kinds whose conditions and primary pod labels Katib `version` fills in (DEF-05..07), in list order."""
    current = tuple(k for k in KINDS.values() if k.defaulted_by(version))
    return current + tuple(kind for kind, until in RETIRED.values() if version < until)


def defaulted_kind(kind: str, version: tuple[int, int]) -> TrialKind | None:
    """The kind named `kind` if Katib `version`'s defaulter knows it (keyed on the kind only, DEF-04)."""
    return next((k for k in defaulted_kinds(version) if k.kind == kind), None)


def lookup(kind: str, api_version: str | None = None) -> TrialKind | None:
    known = KINDS.get(kind)
    if known is None or (api_version is not None and api_version != known.api_version):
        return None
    return known
