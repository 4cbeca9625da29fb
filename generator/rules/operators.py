"""What the Kubeflow Training Operator refuses in its kubeflow.org/v1 jobs beyond their CRD schemas (to-*).

The Training Operator v1.9 (kubeflow/training-operator, release-1.9; v1.9.0 to v1.9.x share
these files) runs a validating webhook per job kind (pkg/webhooks/<framework>/*_webhook.go,
registered in pkg/webhooks/webhooks.go): TFJob, PyTorchJob, XGBoostJob, PaddleJob, JAXJob. The
MPIJob has none there (`scaffold`): its controller validates it instead
(pkg/apis/kubeflow.org/v1/mpi_validation.go:ValidateV1MpiJobSpec, called by
MPIJobReconciler.Reconcile), so an invalid MPIJob is stored but never started.

The webhooks appeared in v1.8.0 (before, ≤ v1.7, the controllers ran similar checks at
reconcile time, and a PyTorchJob or XGBoostJob Master without `replicas` passed); the JAXJob
and its webhook in v1.9.0, as did spec.runPolicy.managedBy. A job written for an older
release is judged as a v1.9 cluster judges it today.

`OPERATORS` describes each kind once, on top of its `core.kinds.KINDS` record (the default
container name, the role names and the map of roles come from there). Some of these rules
sit in our JSON Schemas of the kinds (schemas/<kind>.schema.json: the name pattern, the role
names, a required role); `schema_rule` gives those schema errors the
to-* ID, and `check` reports the rest. `check` judges the object after the API server has
pruned its nulls, as the webhook sees it; positions are paths into the object as written.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from katib_gitops.core import kinds
from katib_gitops.core.diagnostics import Severity
from katib_gitops.core.registry import Finding, Rule, declare

# Where each kind's rules are, in kubeflow/training-operator v1.9 (rule docs and tests name them).
WEBHOOK = {
    "TFJob": "pkg/webhooks/tensorflow/tfjob_webhook.go:validateTFJob",
    "PyTorchJob": "pkg/webhooks/pytorch/pytorchjob_webhook.go:validatePyTorchJob",
    "XGBoostJob": "pkg/webhooks/xgboost/xgboostjob_webhook.go:validateXGBoostJob",
    "PaddleJob": "pkg/webhooks/paddlepaddle/paddlepaddle_webhook.go:validatePaddleJob",
    "JAXJob": "pkg/webhooks/jax/jaxjob_webhook.go:validateJAXJob",
    "MPIJob": "pkg/apis/kubeflow.org/v1/mpi_validation.go:ValidateV1MpiJobSpec (its controller, not a webhook)",
}

NAME = declare(
    "to-name",
    "TOOL",
    "A TFJob, PyTorchJob, XGBoostJob, PaddleJob or JAXJob is named by a DNS-1035 label (lower-case letters, digits "
    "and '-', starting with a letter, at most 63 characters: no dots), else the Training Operator v1.9 webhook refuses "
    "it (validate<Kind>Job: apimachinery NameIsDNS1035Label; the MPIJob has no such check). For an Experiment running "
    "these jobs, Katib names each trial's job '<experiment>-<8 characters>': that must be a DNS-1035 label too.",
    remediation="Rename it: no dots, no upper case, a letter first.",
)
ROLES = declare(
    "to-roles",
    "TOOL",
    "A Training Operator job has only the roles its kind knows (PyTorchJob, XGBoostJob, PaddleJob: Master and Worker; "
    "JAXJob: Worker; MPIJob: Launcher and Worker; validate<Kind>ReplicaSpecs, ValidateV1MpiJobSpec), an XGBoostJob a "
    "Master (validateXGBReplicaSpecs), an MPIJob a Launcher, and a TFJob at most one of Chief and Master "
    "(validateTFReplicaSpecs). Training Operator v1.9.",
)
CONTAINERS = declare(
    "to-containers",
    "TOOL",
    "Every role of a Training Operator job has a pod template with at least one container (validate<Kind>ReplicaSpecs "
    "of the v1.9 webhooks, ValidateV1MpiJobSpec for an MPIJob).",
)
IMAGE = declare(
    "to-image",
    "TOOL",
    "Every container of a Training Operator job's pod templates names its image (validate<Kind>ReplicaSpecs of the "
    "v1.9 webhooks, ValidateV1MpiJobSpec for an MPIJob).",
)
CONTAINER = declare(
    "to-container",
    "TOOL",
    "Every role of a Training Operator job has a container with the kind's name: tensorflow (TFJob), pytorch "
    "(PyTorchJob), xgboost (XGBoostJob), paddle (PaddleJob), jax (JAXJob) (validate<Kind>ReplicaSpecs of the v1.9 "
    "webhooks); every MPIJob container has a name (ValidateV1MpiJobSpec). Katib's primaryContainerName is another "
    "matter (TT-02, TT-R4).",
)
REPLICAS = declare(
    "to-replicas",
    "TOOL",
    "A PyTorchJob's or XGBoostJob's Master says replicas: 1, unset refused too (validatePyTorchReplicaSpecs, "
    "validateXGBReplicaSpecs; ≤ v1.7 accepted it unset), a PyTorchJob's other roles have at least 1, an MPIJob's "
    "Launcher at most 1 (ValidateV1MpiJobSpec). Training Operator v1.9.",
)
ELASTIC = declare(
    "to-elastic",
    "TOOL",
    "A PyTorchJob with elasticPolicy has a Worker role and does not set both elasticPolicy.nProcPerNode and "
    "spec.nprocPerNode (errors); elasticPolicy.nProcPerNode alone is deprecated (the webhook's warning). "
    "pytorchjob_webhook.go:validateSpec, Training Operator v1.9.",
)
MANAGED_BY = declare(
    "to-managed-by",
    "TOOL",
    "spec.runPolicy.managedBy, when set, is kubeflow.org/training-operator or kueue.x-k8s.io/multikueue (not even ''): "
    "pkg/common/util/webhooks.go:ValidateRunPolicy, called by the v1.9 webhooks of TFJob, PyTorchJob, XGBoostJob and "
    "PaddleJob (not JAXJob's; an MPIJob has no webhook). That an update keeps it (ValidateRunPolicyUpdate) is not "
    "checked: it needs the job as deployed.",
)


class Operator(NamedTuple):
    """One kind's rules in the Training Operator v1.9, on top of its trial-kind record."""

    kind: kinds.TrialKind
    controller: bool = False  # checked by its controller at reconcile time (MPIJob), not at admission
    name: bool = True  # the job name is a DNS-1035 label
    run_policy: bool = True  # ValidateRunPolicy: managedBy
    roles: bool = True  # only the kind's roles (kinds.TrialKind.roles); TFJob's webhook takes any
    # Every role has a container named kind.container; False: every container has a name (MPIJob).
    default_container: bool = True
    required: str = ""  # the role every job has (in our schema as `required`)
    single: str = ""  # the role that runs exactly one pod
    single_unset: bool = True  # an unset `replicas` of that role is refused too (the webhooks' nil check)
    others_at_least_one: bool = False  # the other roles' replicas, when set, are at least 1 (PyTorchJob)
    one_of: tuple[str, ...] = ()  # at most one of these roles (TFJob: Chief, Master)
    elastic: bool = False  # PyTorchJob's elasticPolicy rules

    @property
    def refuses(self) -> str:
        """How the operator refuses it, for messages."""
        if self.controller:
            return f"the Training Operator's controller never starts such {self.a_kind}"
        return f"the Training Operator's webhook refuses such {self.a_kind}"

    @property
    def a_kind(self) -> str:
        """'a TFJob', 'an MPIJob', 'an XGBoostJob'."""
        return f"{'an' if self.kind.kind[0] in 'MX' else 'a'} {self.kind.kind}"


OPERATORS: dict[str, Operator] = {
    o.kind.kind: o
    for o in (
        Operator(kinds.KINDS["TFJob"], roles=False, one_of=("Chief", "Master")),
        Operator(kinds.KINDS["PyTorchJob"], single="Master", others_at_least_one=True, elastic=True),
        Operator(kinds.KINDS["XGBoostJob"], required="Master", single="Master"),
        Operator(kinds.KINDS["PaddleJob"]),
        Operator(kinds.KINDS["JAXJob"], run_policy=False),
        Operator(
            kinds.KINDS["MPIJob"],
            controller=True,
            name=False,
            run_policy=False,
            default_container=False,
            required="Launcher",
            single="Launcher",
            single_unset=False,
        ),
    )
}

# pkg/common/util/webhooks.go: supportedJobControllers (KubeflowJobsController, MultiKueueController).
MANAGERS = ("kubeflow.org/training-operator", "kueue.x-k8s.io/multikueue")
# apimachinery's IsDNS1035Label: dns1035LabelFmt, at most 63 characters.
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
DNS1035_MAX = 63
# Katib names a trial `<experiment>-<8 random characters>` (suggestionclient.SyncAssignments,
# apimachinery util/rand: lower-case consonants and digits), and the trial's job after it.
TRIAL_SUFFIX = "-" + "b" * 8


def lookup(api_version: Any, kind: Any) -> Operator | None:
    """The operator rules of a kubeflow.org/v1 job kind, or None."""
    return OPERATORS.get(kind) if api_version == "kubeflow.org/v1" else None


def dns1035_problem(name: str) -> str:
    """Why `name` is no DNS-1035 label ('' when it is one)."""
    if len(name) > DNS1035_MAX:
        return f"is {len(name)} characters long, more than {DNS1035_MAX}"
    if _DNS1035.match(name):
        return ""
    return "is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, ending alphanumeric)"


def trial_name_problem(experiment: Any, operator: Operator) -> Finding | None:
    """A finding at the Experiment's name when the names Katib gives its trials' jobs are refused."""
    if not operator.name or not isinstance(experiment, str) or not experiment:
        return None
    problem = dns1035_problem(experiment + TRIAL_SUFFIX)
    if not problem:
        return None
    return Finding(
        ("metadata", "name"),
        f"Katib names each trial's {operator.kind.kind} '{experiment}-<8 characters>', which {problem}: "
        f"{operator.refuses}, so every trial fails",
        "name the Experiment with lower-case letters, digits and '-' only (no dots)",
    )


# ------------------------------------------------------------------ schema errors that are these rules


def schema_rule(operator: Operator, fallback: str) -> Callable[[Any], str]:
    """The rule of a schema error on a job of `operator`'s kind: to-* where our schema holds the operator's rule."""
    field = operator.kind.replica_field

    def rule_for(error: Any) -> str:
        path = tuple(error.absolute_path)
        validator = error.validator
        if path == ("metadata", "name") and validator in ("pattern", "maxLength") and operator.name:
            return NAME.id
        if path == ("spec", field) and (
            validator == "required" or (validator == "additionalProperties" and operator.roles)
        ):
            return ROLES.id
        return fallback

    return rule_for


# ------------------------------------------------------------------ the rest


def check(job: Mapping[str, Any], operator: Operator, *, schema: bool = True) -> Iterator[tuple[Rule, Finding]]:
    """What `operator` refuses in `job` (nulls pruned) that its schema does not report, at paths into `job`.

    `schema` False: `job` was not checked against our schema of its kind (a --crd took its place), so
    the rules that schema holds (name, role names, a required role) are checked here too.
    """
    if not schema:
        yield from _held_by_our_schema(job, operator)
    spec = job.get("spec")
    if not isinstance(spec, Mapping):
        return
    if operator.run_policy:
        yield from _managed_by(operator, spec)
    field = str(operator.kind.replica_field)
    roles = spec.get(field)
    if isinstance(roles, Mapping):
        for role, replica in roles.items():
            if isinstance(replica, Mapping):
                yield from _role(operator, ("spec", field, role), str(role), replica)
        if operator.one_of:
            present = [r for r in roles if r in operator.one_of]
            for role in present[1:]:
                yield (
                    ROLES,
                    Finding(
                        ("spec", field, role),
                        f"{operator.a_kind} has at most one of {' and '.join(operator.one_of)}: "
                        f"{' and '.join(present)} given; {operator.refuses}",
                        f"keep one of {', '.join(present)}",
                        at_key=True,
                    ),
                )
    if operator.elastic:
        yield from _elastic(operator, spec, roles if isinstance(roles, Mapping) else {})


def _held_by_our_schema(job: Mapping[str, Any], operator: Operator) -> Iterator[tuple[Rule, Finding]]:
    metadata = job.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if operator.name and isinstance(name, str) and name and (problem := dns1035_problem(name)):
        yield NAME, Finding(("metadata", "name"), f"the name {name!r} {problem}: {operator.refuses}")
    spec = job.get("spec")
    field = str(operator.kind.replica_field)
    roles = spec.get(field) if isinstance(spec, Mapping) else None
    if not isinstance(roles, Mapping):
        return
    for role in roles:
        if operator.roles and role not in operator.kind.roles:
            yield (
                ROLES,
                Finding(
                    ("spec", field, role),
                    f"{role!r} is no role of {operator.a_kind} ({', '.join(operator.kind.roles)}): {operator.refuses}",
                    at_key=True,
                ),
            )
    if operator.required and operator.required not in roles:
        yield (
            ROLES,
            Finding(
                ("spec", field),
                f"{operator.a_kind} needs a {operator.required} role: {operator.refuses}",
                at_key=True,
            ),
        )


def _role(
    operator: Operator, where: tuple[str | int, ...], role: str, replica: Mapping[str, Any]
) -> Iterator[tuple[Rule, Finding]]:
    yield from _replicas(operator, where, role, replica)
    template = replica.get("template")
    pod = template.get("spec") if isinstance(template, Mapping) else None
    containers = pod.get("containers") if isinstance(pod, Mapping) else None
    if (
        (template is not None and not isinstance(template, Mapping))
        or (pod is not None and not isinstance(pod, Mapping))
        or (containers is not None and not isinstance(containers, list))
        or (pod is not None and containers is None)  # a pod spec without containers: the schema requires them
    ):
        return  # the schema reports these
    if not containers:
        present: tuple[str, ...] = ("template",) if template is not None else ()
        present += ("spec",) if pod is not None else ()
        present += ("containers",) if containers is not None else ()
        yield (
            CONTAINERS,
            Finding(
                where + present,
                f"the {role} role has no containers (template.spec.containers must be specified): {operator.refuses}",
                at_key=True,
            ),
        )
        return
    named = False
    for index, container in enumerate(containers):
        if not isinstance(container, Mapping):
            continue
        image, name = container.get("image"), container.get("name")
        if image is None or image == "":
            yield (
                IMAGE,
                Finding(
                    where + ("template", "spec", "containers", index) + (("image",) if image == "" else ()),
                    f"container {name!r} of the {role} role has no image: {operator.refuses}",
                ),
            )
        if not operator.default_container and name == "":
            yield (
                CONTAINER,
                Finding(
                    where + ("template", "spec", "containers", index, "name"),
                    f"a container of the {role} role has an empty name: {operator.refuses}",
                ),
            )
        named = named or name == operator.kind.container
    if operator.default_container and not named:
        yield (
            CONTAINER,
            Finding(
                where + ("template", "spec", "containers"),
                f"the {role} role has no container named {operator.kind.container!r}: {operator.refuses}",
                f"name the training container {operator.kind.container!r}",
                at_key=True,
            ),
        )


def _replicas(
    operator: Operator, where: tuple[str | int, ...], role: str, replica: Mapping[str, Any]
) -> Iterator[tuple[Rule, Finding]]:
    count = replica.get("replicas")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        return  # a wrong type: the schema's
    if role == operator.single:
        if count is None and operator.single_unset:
            yield (
                REPLICAS,
                Finding(
                    where,
                    f"the {role} role does not set replicas: {operator.refuses} (it must be 1; unset is refused "
                    "since the Training Operator v1.8)",
                    "add replicas: 1",
                    at_key=True,
                ),
            )
        elif count is not None and count != 1:
            yield (
                REPLICAS,
                Finding(where + ("replicas",), f"the {role} role runs exactly 1 pod, not {count}: {operator.refuses}"),
            )
    elif operator.others_at_least_one and count is not None and count < 1:
        yield (
            REPLICAS,
            Finding(where + ("replicas",), f"the {role} role runs at least 1 pod, not {count}: {operator.refuses}"),
        )


def _managed_by(operator: Operator, spec: Mapping[str, Any]) -> Iterator[tuple[Rule, Finding]]:
    policy = spec.get("runPolicy")
    manager = policy.get("managedBy") if isinstance(policy, Mapping) else None
    if isinstance(manager, str) and manager not in MANAGERS:
        yield (
            MANAGED_BY,
            Finding(
                ("spec", "runPolicy", "managedBy"),
                f"managedBy {manager!r} is not supported: {operator.refuses}; supported: {', '.join(MANAGERS)}",
                "leave managedBy out for the Training Operator itself",
            ),
        )


def _elastic(operator: Operator, spec: Mapping[str, Any], roles: Mapping[str, Any]) -> Iterator[tuple[Rule, Finding]]:
    policy = spec.get("elasticPolicy")
    if not isinstance(policy, Mapping):
        return
    if "Worker" not in roles:
        yield (
            ELASTIC,
            Finding(
                ("spec", "elasticPolicy"),
                f"elasticPolicy needs a Worker role in {operator.kind.replica_field}: {operator.refuses}",
                at_key=True,
            ),
        )
    if policy.get("nProcPerNode") is None:
        return
    if spec.get("nprocPerNode") is not None:
        yield (
            ELASTIC,
            Finding(
                ("spec", "elasticPolicy", "nProcPerNode"),
                f"elasticPolicy.nProcPerNode must not be used with spec.nprocPerNode: {operator.refuses}",
                "keep spec.nprocPerNode only",
                at_key=True,
            ),
        )
    else:
        yield (
            ELASTIC,
            Finding(
                ("spec", "elasticPolicy", "nProcPerNode"),
                "elasticPolicy.nProcPerNode is deprecated (the Training Operator webhook warns): use spec.nprocPerNode",
                "move it to spec.nprocPerNode (a string)",
                severity=Severity.WARNING,
                at_key=True,
            ),
        )
