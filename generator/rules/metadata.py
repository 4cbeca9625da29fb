"""ObjectMeta as the API server checks it when an object is created (the meta-* rules).

Every document with apiVersion and kind is an object some API server is asked to create, so its
metadata is judged as Kubernetes judges it before any webhook or schema sees it:

* k8s.io/apimachinery pkg/api/validation/objectmeta.go, ValidateObjectMetaAccessor: the name (or
  generateName) by the kind's name function, the namespace a DNS-1123 label, labels
  (pkg/apis/meta/v1/validation ValidateLabels) and annotations (ValidateAnnotations, with the
  256 KiB total, TotalAnnotationSizeLimitB);
* the name functions of pkg/api/validation/generic.go and pkg/util/validation/validation.go, as the
  kinds use them: k8s.io/kubernetes pkg/apis/*/validation for the built-in kinds, and
  apiextensions-apiserver pkg/registry/customresource/validator.go (NameIsDNSSubdomain) for every
  kind served from a CustomResourceDefinition;
* what the server writes itself (k8s.io/apiserver pkg/registry/rest FillObjectMetaSystemFields and
  BeforeCreate, the strategies' PrepareForCreate) and the one such field a create refuses
  (pkg/storage/etcd3/store.go Create: a non-zero resourceVersion).

A value with a substitution placeholder (`${...}`: Katib's trialParameters and trialSpec references,
Flux's postBuild variables; `{{...}}`: templates) is not judged: it is replaced before an API server
sees it. Cheap on purpose, it runs on every document: a few dictionary look-ups and character-set
tests on short strings (no regular expression to compile at start-up).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.core.registry import Rule, declare
from katib_gitops.yamlio.documents import Document

META_NAME = declare(
    "meta-name",
    "TOOL",
    "metadata.name is what the kind's name function allows (DNS-1123 subdomain for most kinds and every custom "
    "resource), and an object has a name or a generateName (apimachinery ValidateObjectMetaAccessor).",
    remediation="Built-in kinds: k8s.io/kubernetes pkg/apis/*/validation (Namespace a DNS-1123 label, Service a "
    "DNS-1035 label, the RBAC kinds path segments); custom resources: apiextensions-apiserver "
    "pkg/registry/customresource/validator.go (NameIsDNSSubdomain).",
)
META_GENERATE_NAME = declare(
    "meta-generate-name",
    "TOOL",
    "metadata.generateName passes the kind's name function as a prefix: a trailing '-' is allowed "
    "(apimachinery ValidateObjectMetaAccessor, maskTrailingDash).",
)
META_NAMESPACE = declare(
    "meta-namespace",
    "TOOL",
    "metadata.namespace, when set, is a DNS-1123 label (apimachinery ValidateNamespaceName); on a cluster-scoped "
    "kind the API server clears it (a warning).",
    remediation="A cluster-scoped kind's namespace is cleared by k8s.io/apiserver pkg/registry/rest "
    "EnsureObjectNamespaceMatchesRequestNamespace; drop it.",
)
META_LABELS = declare(
    "meta-labels",
    "TOOL",
    "Label keys are qualified names (optional DNS-1123 subdomain prefix, name part at most 63 characters) and "
    "values at most 63 characters of letters, digits, '-', '_' and '.' (apimachinery ValidateLabels).",
)
META_ANNOTATIONS = declare(
    "meta-annotations",
    "TOOL",
    "Annotation keys are qualified names (case does not matter) and all annotations together are at most "
    "256 KiB (apimachinery ValidateAnnotations, TotalAnnotationSizeLimitB).",
)
META_RESOURCE_VERSION = declare(
    "meta-resource-version",
    "TOOL",
    "No metadata.resourceVersion in a manifest: a create that carries one is refused (apiserver "
    "pkg/storage/etcd3/store.go Create), an update with a stale one conflicts.",
    remediation="It comes from `kubectl get -o yaml`: remove it, with the other fields the server writes.",
)
META_SERVER_FIELDS = declare(
    "meta-server-fields",
    "TOOL",
    "No fields the API server writes itself (uid, creationTimestamp, generation, selfLink, managedFields, "
    "deletionTimestamp, status): it overwrites or drops them, so they only look like `kubectl get` output.",
    severity=Severity.WARNING,
    remediation="apiserver pkg/registry/rest FillObjectMetaSystemFields sets uid and creationTimestamp on create; "
    "the strategies' PrepareForCreate drop status and set generation (customresource strategy.go).",
)

# ------------------------------------------------------------- apimachinery's formats

# The formats of pkg/util/validation as character sets, not regular expressions: the same verdicts
# ([a-z0-9]([-a-z0-9]*[a-z0-9])? is "letters or digits at both ends, '-' between"), without compiling
# a pattern at start-up, and faster per name.
_DIGITS = "0123456789"
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_LOWER_ALNUM = _LOWER | frozenset(_DIGITS)
_LABEL_CHARS = _LOWER_ALNUM | {"-"}
_ALNUM = _LOWER_ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_QUALIFIED_CHARS = _ALNUM | {"-", "_", "."}


def is_dns1123_label(value: str) -> bool:
    """[a-z0-9]([-a-z0-9]*[a-z0-9])?"""
    return bool(value) and value[0] in _LOWER_ALNUM and value[-1] in _LOWER_ALNUM and _LABEL_CHARS.issuperset(value)


def is_dns1123_subdomain(value: str) -> bool:
    """DNS-1123 labels joined by '.'."""
    return all(is_dns1123_label(part) for part in value.split("."))


def is_dns1035_label(value: str) -> bool:
    """[a-z]([-a-z0-9]*[a-z0-9])?"""
    return is_dns1123_label(value) and value[0] in _LOWER


def is_qualified_part(value: str) -> bool:
    """([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]: a label key's name part, a non-empty label value."""
    return bool(value) and value[0] in _ALNUM and value[-1] in _ALNUM and _QUALIFIED_CHARS.issuperset(value)


LABEL_MAX = 63
SUBDOMAIN_MAX = 253
ANNOTATIONS_MAX = 256 * 1024  # TotalAnnotationSizeLimitB
SUBDOMAIN_TEXT = "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
LABEL_TEXT = "lower-case letters, digits and '-', starting and ending with a letter or digit"
DNS1035_TEXT = "lower-case letters, digits and '-', starting with a letter and ending with a letter or digit"
QUALIFIED_TEXT = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"


def _size(text: str) -> int:
    """Go's len(): bytes of UTF-8."""
    return len(text) if text.isascii() else len(text.encode())


def dns1123_subdomain(value: str) -> list[str]:
    """Problems of `value` as a DNS-1123 subdomain (apimachinery IsDNS1123Subdomain)."""
    problems = [f"longer than {SUBDOMAIN_MAX} characters"] if _size(value) > SUBDOMAIN_MAX else []
    if not is_dns1123_subdomain(value):
        problems.append(f"not a DNS-1123 subdomain ({SUBDOMAIN_TEXT})")
    return problems


def dns1123_label(value: str) -> list[str]:
    """Problems of `value` as a DNS-1123 label (apimachinery IsDNS1123Label)."""
    problems = [f"longer than {LABEL_MAX} characters"] if _size(value) > LABEL_MAX else []
    if not is_dns1123_label(value):
        dots = is_dns1123_subdomain(value)
        problems.append("a DNS-1123 label has no dots" if dots else f"not a DNS-1123 label ({LABEL_TEXT})")
    return problems


def dns1035_label(value: str) -> list[str]:
    """Problems of `value` as a DNS-1035 label (apimachinery IsDNS1035Label)."""
    problems = [f"longer than {LABEL_MAX} characters"] if _size(value) > LABEL_MAX else []
    if not is_dns1035_label(value):
        problems.append(f"not a DNS-1035 label ({DNS1035_TEXT})")
    return problems


def path_segment(value: str) -> list[str]:
    """Problems of `value` as a path segment name (apimachinery path.IsValidPathSegmentName)."""
    if value in (".", ".."):
        return [f"{value!r} is not a valid name"]
    return [f"must not contain {c!r}" for c in ("/", "%") if c in value]


def path_segment_prefix(value: str) -> list[str]:
    """path.IsValidPathSegmentPrefix: a generateName may be '.' (a suffix follows), never contain '/' or '%'."""
    return [f"must not contain {c!r}" for c in ("/", "%") if c in value]


def qualified_name(key: str) -> list[str]:
    """Problems of `key` as a qualified name: [DNS-1123 subdomain '/'] name (apimachinery IsQualifiedName)."""
    parts = key.split("/")
    if len(parts) > 2:
        return ["a qualified name has at most one '/' (an optional DNS subdomain prefix, then the name)"]
    problems = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            problems.append("its prefix before '/' is empty")
        else:
            problems.extend(f"its prefix is {p}" for p in dns1123_subdomain(prefix))
    name = parts[-1]
    if not name:
        problems.append("its name part is empty")
    else:
        if _size(name) > LABEL_MAX:
            problems.append(f"its name part is longer than {LABEL_MAX} characters")
        if not is_qualified_part(name):
            problems.append(f"its name part is not made of {QUALIFIED_TEXT}")
    return problems


def label_value(value: str) -> list[str]:
    """Problems of a label value (apimachinery IsValidLabelValue): empty, or a short qualified name part."""
    problems = [f"longer than {LABEL_MAX} characters"] if _size(value) > LABEL_MAX else []
    if value and not is_qualified_part(value):
        problems.append(f"a label value is empty or made of {QUALIFIED_TEXT}")
    return problems


NameFunction = Callable[[str], list[str]]


class NameRule:
    """A kind's name function: what it allows, for names and (prefix mode) for generateNames."""

    def __init__(self, what: str, check: NameFunction, prefix: NameFunction | None = None) -> None:
        self.what = what
        self.check = check
        self._prefix = prefix

    def prefix(self, value: str) -> list[str]:
        """The check in prefix mode (generic.go maskTrailingDash: a trailing '-' is fine, a suffix follows)."""
        if self._prefix is not None:
            return self._prefix(value)
        if len(value) > 1 and value.endswith("-"):
            value = value[:-2] + "a"  # as upstream: the last two characters become one 'a'
        return self.check(value)


SUBDOMAIN = NameRule("a DNS-1123 subdomain", dns1123_subdomain)
LABEL = NameRule("a DNS-1123 label", dns1123_label)
DNS1035 = NameRule("a DNS-1035 label", dns1035_label)
PATH_SEGMENT = NameRule("a path segment", path_segment, path_segment_prefix)

# The built-in kinds whose name function is not NameIsDNSSubdomain, by (API group, kind); None: a
# function this check does not model, so the name is not judged. Everything else, and every custom
# resource (apiextensions-apiserver customresource/validator.go), is a DNS-1123 subdomain.
NAME_RULES: Mapping[tuple[str, str], NameRule | None] = {
    ("", "Namespace"): LABEL,  # core/validation ValidateNamespaceName
    ("", "Service"): DNS1035,  # core/validation ValidateServiceName
    # rbac/validation ValidateRBACName: path.IsValidPathSegmentName (names such as system:controller:x)
    **{
        ("rbac.authorization.k8s.io", k): PATH_SEGMENT
        for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
    },
    # flowcontrol/validation: path segment names
    **{("flowcontrol.apiserver.k8s.io", k): PATH_SEGMENT for k in ("FlowSchema", "PriorityLevelConfiguration")},
    ("", "Event"): None,  # events take their involved object's name plus a suffix
    ("events.k8s.io", "Event"): None,
    ("certificates.k8s.io", "CertificateSigningRequest"): None,  # any name
    ("networking.k8s.io", "IPAddress"): None,  # the name is an IP address
}

# What a kind's name hint adds: where clusters may differ.
NAME_NOTES = {
    ("", "Service"): "; only with the RelaxedServiceNameValidation feature gate (alpha, off by default, "
    "Kubernetes 1.34) may it start with a digit",
}

# Built-in cluster-scoped kinds, by (API group, kind): the API server clears a namespace they carry.
CLUSTER_SCOPED = frozenset(
    {
        *(("", k) for k in ("Namespace", "Node", "PersistentVolume", "ComponentStatus")),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        *(
            ("storage.k8s.io", k)
            for k in ("StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeAttributesClass")
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        *(
            ("admissionregistration.k8s.io", k)
            for k in (
                "MutatingWebhookConfiguration",
                "ValidatingWebhookConfiguration",
                "ValidatingAdmissionPolicy",
                "ValidatingAdmissionPolicyBinding",
                "MutatingAdmissionPolicy",
                "MutatingAdmissionPolicyBinding",
            )
        ),
        ("scheduling.k8s.io", "PriorityClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("policy", "PodSecurityPolicy"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "ResourceSlice"),
        ("trainer.kubeflow.org", "ClusterTrainingRuntime"),  # Kubeflow Trainer's CRD: scope Cluster
    }
)

# Groups whose documents are no API objects: kustomize's files and katib-gitops' own specs.
NOT_OBJECTS = ("kustomize.config.k8s.io", "katib-gitops.dev")

# What the API server writes into metadata itself; creationTimestamp: null (what `kubectl create
# --dry-run -o yaml` prints) is the empty value, no finding.
SERVER_FIELDS = (
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
KUBECTL_GET = "looks like `kubectl get -o yaml` output"
# Stricter rules a kind's own webhook adds, named in the hint so one finding says what the name must be.
KATIB_NAMES = {
    "Experiment": "; Katib also wants a lower-case letter first and at most 40 characters (NAME-01, NAME-02)"
}


def _placeholder(value: str) -> bool:
    """A value something substitutes before an API server sees it (Katib, Flux postBuild, a template)."""
    return "${" in value or "{{" in value


def name_rule(api_version: str, kind: str) -> NameRule | None:
    return NAME_RULES.get((api_version.rpartition("/")[0], kind), SUBDOMAIN)


def _problems(problems: list[str]) -> str:
    return "; ".join(problems)


class Checked:
    """One object's metadata findings, positioned in its document (at `base`: [] for a document)."""

    def __init__(self, document: Document, base: list[str | int], where: str) -> None:
        self.document = document
        self.base = base
        self.where = where  # '' for a document, 'in the trialSpec: ' for an embedded object
        self.found: list[Diagnostic] = []

    def add(
        self,
        path: list[str | int],
        rule: Rule,
        message: str,
        hint: str = "",
        *,
        at_key: bool = False,
        severity: Severity | None = None,
    ) -> None:
        found = self.document.diagnostic(self.base + path, rule.id, self.where + message, hint, at_key=at_key)
        self.found.append(found._replace(severity=severity or rule.severity))


def check(
    document: Document,
    api_version: str,
    kind: str,
    *,
    known: bool,
    cluster_scoped: bool | None = None,
) -> list[Diagnostic]:
    """The metadata findings of a document with apiVersion and kind.

    `known`: some schema knows the kind (so it is an API object, and a missing name is refused);
    an unknown kind is judged on what it writes, when a CRD could serve it.
    `cluster_scoped`: what a --crd says of the kind's scope; None: the built-in table decides.
    """
    group = api_version.rpartition("/")[0]
    if group in NOT_OBJECTS or (kind.endswith("List") and "items" in document.data):
        return []
    if not known and "." not in group:
        # No schema knows it, and no CustomResourceDefinition can serve it (a CRD's group has a dot,
        # apiextensions ValidateCustomResourceDefinitionSpec): a tool's configuration file, no object.
        return []
    data = document.data
    metadata = data.get("metadata")
    checked = Checked(document, [], "")
    rule = NAME_RULES.get((group, kind), SUBDOMAIN)
    if not isinstance(metadata, Mapping):
        if known and metadata is None:
            checked.add([], META_NAME, f"{kind} has no metadata.name (nor generateName)", "name the object")
        _server_fields(checked, data, {})
        return checked.found
    _names(checked, metadata, rule, group, kind, required=known)
    if cluster_scoped is None:
        cluster_scoped = (group, kind) in CLUSTER_SCOPED
    _namespace(checked, metadata, kind, cluster_scoped)
    _labels(checked, metadata)
    _annotations(checked, metadata)
    _server_fields(checked, data, metadata)
    return checked.found


def check_embedded(document: Document, base: list[str | int], data: Mapping[str, Any]) -> list[Diagnostic]:
    """The metadata findings of an object Katib creates from a template (a trialSpec, at `base`).

    Katib sets its name and namespace (TT-18 judges those); the rest goes to the API server as
    written, placeholders replaced, when each trial's job is created.
    """
    metadata = data.get("metadata")
    checked = Checked(document, base, "in the trialSpec: ")
    if isinstance(metadata, Mapping):
        api_version, kind = str(data.get("apiVersion", "")), str(data.get("kind", ""))
        rule = name_rule(api_version, kind)
        generate_name = metadata.get("generateName")
        if rule is not None and isinstance(generate_name, str) and generate_name:
            _generate_name(checked, generate_name, rule, kind)
        _labels(checked, metadata)
        _annotations(checked, metadata)
    else:
        metadata = {}
    _server_fields(checked, data, metadata, status=False)
    return checked.found


def _names(
    checked: Checked, metadata: Mapping[str, Any], rule: NameRule | None, group: str, kind: str, *, required: bool
) -> None:
    name, generate_name = metadata.get("name"), metadata.get("generateName")
    if rule is not None and isinstance(generate_name, str) and generate_name:
        _generate_name(checked, generate_name, rule, kind)
    if isinstance(name, str) and name:
        if rule is None or _placeholder(name):
            return
        problems = rule.check(name)
        if problems:
            checked.add(
                ["metadata", "name"],
                META_NAME,
                f"{kind} name {name!r}: {_problems(problems)}",
                f"{kind} names must be {rule.what}" + _example(name, rule) + NAME_NOTES.get((group, kind), ""),
            )
    elif required and name in (None, "") and not (isinstance(generate_name, str) and generate_name):
        path: list[str | int] = ["metadata", "name"] if "name" in metadata else ["metadata"]
        checked.add(path, META_NAME, f"{kind} has no metadata.name (nor generateName)", "name the object")


def _generate_name(checked: Checked, generate_name: str, rule: NameRule, kind: str) -> None:
    if _placeholder(generate_name):
        return
    problems = rule.prefix(generate_name)
    if problems:
        checked.add(
            ["metadata", "generateName"],
            META_GENERATE_NAME,
            f"{kind} generateName {generate_name!r}: {_problems(problems)}",
            f"the API server appends 5 characters to it; the prefix must be {rule.what} but may end in '-'",
        )


def _example(name: str, rule: NameRule) -> str:
    """A suggestion: the name in lower case, runs of other characters as '-'."""
    if rule is PATH_SEGMENT:
        return ""
    keep = "a-z0-9" if rule is not SUBDOMAIN else "a-z0-9."
    suggestion = re.sub(f"[^{keep}]+", "-", name.lower()).strip("-.")[:LABEL_MAX]
    return f", e.g. {suggestion!r}" if suggestion and not rule.check(suggestion) else ""


def _namespace(checked: Checked, metadata: Mapping[str, Any], kind: str, cluster_scoped: bool) -> None:
    namespace = metadata.get("namespace")
    if not isinstance(namespace, str) or not namespace or _placeholder(namespace):
        return
    if cluster_scoped:
        checked.add(
            ["metadata", "namespace"],
            META_NAMESPACE,
            f"{kind} is cluster-scoped: the API server ignores metadata.namespace",
            "drop it",
            severity=Severity.WARNING,
        )
        return
    problems = dns1123_label(namespace)
    if problems:
        checked.add(
            ["metadata", "namespace"],
            META_NAMESPACE,
            f"namespace {namespace!r}: {_problems(problems)}",
            "a namespace name is a DNS-1123 label: at most 63 lower-case letters, digits and '-'; "
            "a placeholder left unreplaced?",
        )


def _labels(checked: Checked, metadata: Mapping[str, Any]) -> None:
    labels = metadata.get("labels")
    if not isinstance(labels, Mapping):
        return
    for key, value in labels.items():
        if not isinstance(key, str):
            continue
        if not _placeholder(key):
            problems = qualified_name(key)
            if problems:
                checked.add(
                    ["metadata", "labels", key],
                    META_LABELS,
                    f"label key {key!r}: {_problems(problems)}",
                    "a label key is [prefix/]name: an optional DNS subdomain, then at most 63 characters",
                    at_key=True,
                )
        if isinstance(value, str) and value and not _placeholder(value):
            problems = label_value(value)
            if problems:
                checked.add(
                    ["metadata", "labels", key],
                    META_LABELS,
                    f"label {key!r} value {value!r}: {_problems(problems)}",
                    "a label value is at most 63 characters; put longer or free text in an annotation",
                )


def _annotations(checked: Checked, metadata: Mapping[str, Any]) -> None:
    annotations = metadata.get("annotations")
    if not isinstance(annotations, Mapping):
        return
    total = 0
    for key, value in annotations.items():
        if not isinstance(key, str):
            continue
        total += _size(key) + (_size(value) if isinstance(value, str) else 0)
        if _placeholder(key):
            continue
        problems = qualified_name(key.lower())
        if problems:
            checked.add(
                ["metadata", "annotations", key],
                META_ANNOTATIONS,
                f"annotation key {key!r}: {_problems(problems)}",
                "an annotation key is [prefix/]name like a label key (case does not matter)",
                at_key=True,
            )
    if total > ANNOTATIONS_MAX:
        checked.add(
            ["metadata", "annotations"],
            META_ANNOTATIONS,
            f"annotations are {total} bytes together, more than {ANNOTATIONS_MAX} (256 KiB)",
            "client-side `kubectl apply` adds a copy of the object (last-applied-configuration): apply with "
            "--server-side, or keep large data in a ConfigMap",
            at_key=True,
        )


def _server_fields(
    checked: Checked, data: Mapping[str, Any], metadata: Mapping[str, Any], *, status: bool = True
) -> None:
    version = metadata.get("resourceVersion")
    written = [f for f in SERVER_FIELDS if metadata.get(f) not in (None, "", [], {})]
    if version is not None and str(version) not in ("", "0"):
        if str(version).isdigit():
            checked.add(
                ["metadata", "resourceVersion"],
                META_RESOURCE_VERSION,
                f"metadata.resourceVersion {str(version)!r}: the API server refuses to create an object that has "
                "one, and an update with it fails once the object changed",
                f"this {KUBECTL_GET}: remove resourceVersion and the other fields the server writes",
            )
        else:
            written.insert(0, "resourceVersion")
    paths: list[list[str | int]] = [["metadata", f] for f in written]
    if status and data.get("status") not in (None, "", [], {}):
        written.append("status")
        paths.append(["status"])
    if written:
        where = {
            f: checked.document.position(checked.base + p, at_key=True) for f, p in zip(written, paths, strict=True)
        }
        order = sorted(range(len(written)), key=lambda i: where[written[i]])
        written = [written[i] for i in order]
        one = len(written) == 1
        checked.add(
            paths[order[0]],
            META_SERVER_FIELDS,
            f"{', '.join(written)} {'is' if one else 'are'} written by the API server and controllers, which "
            f"overwrite or drop {'it' if one else 'them'} on create: this {KUBECTL_GET}",
            f"remove {'it' if one else 'them'} from the manifest",
            at_key=True,
        )
