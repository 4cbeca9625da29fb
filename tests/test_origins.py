"""The source map: every field of every Experiment generate builds comes from a node the user wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import planning
from katib_gitops.expand import overlays
from katib_gitops.expand.experiment import katib_string
from katib_gitops.expand.origins import Origin, SourceMap, exists, value_at
from katib_gitops.rules.generated import Built, built_experiments
from katib_gitops.spec.model import SpecSet
from katib_gitops.yamlio.documents import format_path
from tests.helpers import spec, write_specs
from tests.test_checks import nas_spec
from tests.test_upstream_schemas import KIND_TRIALS, TARGETS, kind_spec

Leaf = tuple[tuple[str | int, ...], Any]


def leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[Leaf]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory) -> tuple[SpecSet, list[Built]]:
    """One spec per trial kind, with parameters passed as flags, `--flag=value` and env, on a GPU profile with a
    budget, a queue and an image override, and on a CPU profile."""
    folder = write_specs(tmp_path_factory.mktemp("origins"), *(kind_spec(k) for k in KIND_TRIALS), targets=TARGETS)
    spec_set = planning.load(folder)
    return spec_set, [b for spec in spec_set.specs for b in built_experiments(spec, spec_set)]


RAW_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "spec": {
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "training",
                        "image": "example.com/train:1",
                        "command": ["python", "/train.py", "--lr=${trialParameters.lr}"],
                        "resources": {"limits": {"nvidia.com/gpu": 0}},
                    }
                ],
            }
        }
    },
}


@pytest.fixture(scope="module")
def other_forms(tmp_path_factory: pytest.TempPathFactory) -> tuple[SpecSet, list[Built]]:
    """A raw trialSpec (its parameter passed as a placeholder, a GPU limit the profile overrides) and an
    architecture search."""
    raw = spec(name="raw", trial={"trialSpec": RAW_JOB, "primaryContainer": "training"})
    raw["spec"]["parameters"][0]["pass"] = "placeholder"
    folder = write_specs(tmp_path_factory.mktemp("forms"), raw, {**nas_spec(), "metadata": {"name": "nas"}})
    spec_set = planning.load(folder)
    return spec_set, [b for item in spec_set.specs for b in built_experiments(item, spec_set)]


@pytest.fixture(params=["every_kind", "other_forms"])
def any_form(request: pytest.FixtureRequest) -> tuple[SpecSet, list[Built]]:
    found: tuple[SpecSet, list[Built]] = request.getfixturevalue(request.param)
    return found


def origins(spec_set: SpecSet, built: Built) -> Iterator[tuple[Leaf, Origin]]:
    base = overlays.base_profile(built.spec, spec_set)
    source = SourceMap(built.spec, spec_set.targets, built.experiment, built.profile, base)
    for leaf in leaves(built.experiment):
        yield leaf, source.origin(leaf[0])


def test_every_field_of_every_kind_maps_to_a_node_that_exists(any_form: tuple[SpecSet, list[Built]]) -> None:
    spec_set, built = any_form
    missing = [
        (b.spec.name, format_path(path), node.path)
        for b in built
        for (path, _), origin in origins(spec_set, b)
        for node in origin.nodes
        if not exists(node.document.data, node.path)
    ]
    assert missing == []
    assert len(built) == 3 * len(spec_set.specs)  # the base and two profiles each


def test_a_value_the_user_wrote_maps_to_that_value(any_form: tuple[SpecSet, list[Built]]) -> None:
    """Where the origin is a scalar and no default is involved, the Experiment holds that value (as Katib's
    string, inside an argument, or retagged)."""
    spec_set, built = any_form
    wrong = []
    for b in built:
        for (path, value), origin in origins(spec_set, b):
            node = origin.nodes[0]
            written = value_at(node.document.data, node.path)
            if origin.note or isinstance(written, (dict, list)) or node.at_key or node.path[-1:] == ("name",):
                continue
            text = katib_string(written)
            if text != katib_string(value) and text not in str(value) and node.path[-2:-1] != ("images",):
                wrong.append((b.spec.name, format_path(path), value, format_path(node.path), written))
    assert wrong == []


def _origin_of(every_kind: tuple[SpecSet, list[Built]], kind: str, profile: str | None, path: str) -> Origin:
    spec_set, built = every_kind
    item = next(b for b in built if b.spec.trial["kind"] == kind and (b.profile.name if b.profile else None) == profile)
    return next(origin for (at, _), origin in origins(spec_set, item) if format_path(at) == path)


def _where(origin: Origin) -> list[tuple[str, str]]:
    return [(Path(n.document.file).name, format_path(n.path)) for n in origin.nodes]


TRIAL = "spec.trialTemplate.trialSpec.spec"
WORKER = f"{TRIAL}.pytorchReplicaSpecs.Worker.template.spec"


@pytest.mark.parametrize(
    ("kind", "profile", "path", "expected"),
    [
        # a profile's GPU limit on a role that computes: the profile's resource
        (
            "PyTorchJob",
            "gpu",
            f"{WORKER}.containers[0].resources.limits.nvidia.com/gpu",
            [("targets.yaml", "spec.profiles.gpu.resources.limits.nvidia.com/gpu")],
        ),
        # the spec's own request, the profile giving no cpu for the cpu profile's role: the trial's
        (
            "PyTorchJob",
            None,
            f"{WORKER}.containers[0].resources.requests.cpu",
            [("kinds-pytorchjob.yaml", "spec.trial.resources.requests.cpu")],
        ),
        # parameters reach the container as `--flag value`, `--flag=value` and env
        (
            "PyTorchJob",
            "cpu",
            f"{WORKER}.containers[0].args[0]",
            [("kinds-pytorchjob.yaml", "spec.parameters[0].name")],
        ),
        ("Job", "cpu", f"{TRIAL}.template.spec.containers[0].args[2]", [("kinds-job.yaml", "spec.parameters[2].pass")]),
        (
            "Job",
            "cpu",
            f"{TRIAL}.template.spec.containers[0].env[1].value",
            [("kinds-job.yaml", "spec.parameters[1].pass")],
        ),
        # the trial's own env first: EPOCHS
        (
            "Job",
            "cpu",
            f"{TRIAL}.template.spec.containers[0].env[0].value",
            [("kinds-job.yaml", "spec.trial.env.EPOCHS")],
        ),
        # a profile's budget: at the profile, and where the spec picks it (it can override it there)
        (
            "TFJob",
            "gpu",
            "spec.parallelTrialCount",
            [
                ("targets.yaml", "spec.profiles.gpu.budget.parallelTrials"),
                ("kinds-tfjob.yaml", "spec.targets.profiles[0]"),
            ],
        ),
        ("TFJob", "cpu", "spec.parallelTrialCount", [("kinds-tfjob.yaml", "spec.budget.parallelTrials")]),
        # the Kueue queue label on the trial job, the image override, the toleration's field
        (
            "MPIJob",
            "gpu",
            "spec.trialTemplate.trialSpec.metadata.labels.kueue.x-k8s.io/queue-name",
            [("targets.yaml", "spec.profiles.gpu.queue")],
        ),
        (
            "MPIJob",
            "gpu",
            f"{TRIAL}.mpiReplicaSpecs.Worker.template.spec.containers[0].image",
            [("targets.yaml", "spec.profiles.gpu.images[0]")],
        ),
        (
            "TFJob",
            "gpu",
            f"{TRIAL}.tfReplicaSpecs.Worker.template.spec.tolerations[0].effect",
            [("targets.yaml", "spec.profiles.gpu.tolerations[0].effect")],
        ),
        # a TrainJob's resources and scheduling: trainer.resourcesPerNode and our runtime patch
        (
            "TrainJob",
            "gpu-node",
            f"{TRIAL}.trainer.resourcesPerNode.limits.nvidia.com/gpu",
            [("targets.yaml", "spec.profiles.gpu-node.resources.limits.nvidia.com/gpu")],
        ),
        ("TrainJob", "cpu", f"{TRIAL}.runtimeRef.name", [("kinds-trainjob.yaml", "spec.trial.runtime")]),
        # the search itself
        (
            "XGBoostJob",
            "cpu",
            "spec.parameters[2].feasibleSpace.list[1]",
            [("kinds-xgboostjob.yaml", "spec.parameters[2].values[1]")],
        ),
        (
            "XGBoostJob",
            "cpu",
            "spec.objective.objectiveMetricName",
            [("kinds-xgboostjob.yaml", "spec.objective.metric")],
        ),
    ],
)
def test_fields_map_to_what_the_user_wrote(
    every_kind: tuple[SpecSet, list[Built]], kind: str, profile: str | None, path: str, expected: list[tuple[str, str]]
) -> None:
    assert _where(_origin_of(every_kind, kind, profile, path)) == expected


def test_a_raw_trial_spec_maps_to_itself_and_to_the_profile_over_it(other_forms: tuple[SpecSet, list[Built]]) -> None:
    spec_set, built = other_forms
    raw = {(b.profile.name if b.profile else None): b for b in built if b.spec.name == "raw"}
    container = f"{TRIAL}.template.spec.containers[0]"

    def where(profile: str | None, path: str) -> list[tuple[str, str]]:
        return _where(next(o for (at, _), o in origins(spec_set, raw[profile]) if format_path(at) == path))

    assert where("cpu", f"{container}.command[2]") == [
        ("raw.yaml", "spec.trial.trialSpec.spec.template.spec.containers[0].command[2]")
    ]
    assert where("gpu", f"{container}.resources.limits.nvidia.com/gpu") == [
        ("targets.yaml", "spec.profiles.gpu.resources.limits.nvidia.com/gpu")
    ]
    assert where(None, f"{container}.resources.limits.nvidia.com/gpu") == [
        ("raw.yaml", "spec.trial.trialSpec.spec.template.spec.containers[0].resources.limits.nvidia.com/gpu")
    ]


def test_an_architecture_search_maps_to_its_operations(other_forms: tuple[SpecSet, list[Built]]) -> None:
    spec_set, built = other_forms
    (base,) = [b for b in built if b.spec.name == "nas" and b.profile is None]
    found = {format_path(at): _where(o) for (at, _), o in origins(spec_set, base)}
    assert found["spec.nasConfig.operations[0].parameters[1].feasibleSpace.max"] == [
        ("nas.yaml", "spec.nas.operations[0].parameters[1].max")
    ]
    assert found["spec.nasConfig.graphConfig.inputSizes[2]"] == [("nas.yaml", "spec.nas.graph.inputSizes[2]")]
    assert found["spec.trialTemplate.trialParameters[1].reference"] == [
        ("nas.yaml", "spec.nas.assignments[1].reference")
    ]


def test_a_default_points_at_the_nearest_node_and_says_which_default(every_kind: tuple[SpecSet, list[Built]]) -> None:
    restart = _origin_of(every_kind, "TFJob", "cpu", f"{TRIAL}.tfReplicaSpecs.Worker.restartPolicy")
    assert _where(restart) == [("kinds-tfjob.yaml", "spec.trial.kind")] and "restartPolicy" in restart.note
    istio = _origin_of(every_kind, "Job", "cpu", f"{TRIAL}.template.metadata.labels.sidecar.istio.io/inject")
    assert _where(istio) == [("kinds-job.yaml", "spec.trial")] and "sidecar.istio.io/inject" in istio.note
    distribution = _origin_of(every_kind, "Job", "cpu", "spec.parameters[0].feasibleSpace.distribution")
    assert _where(distribution) == [("kinds-job.yaml", "spec.parameters[0]")]
    assert distribution.note == "distribution is not set: uniform"
