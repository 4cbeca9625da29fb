"""The second backend (issue 17): `backend: optimizationjob` generates a Kubeflow Trainer OptimizationJob.

Upstream facts: Kubeflow Trainer master 8c0f5059 (unreleased), pkg/apis/trainer/v1alpha1/optimizationjob_types.go
(OptimizationJobSpec, SearchSpace, UniformSpace, LogUniformSpace, CategoricalSpace, TrainJobTemplateSpec) and the
CRD generated from it, ../shared/upstream/trainer-v2/crds/master-unreleased/. Every generated object is checked
against that CRD with its CEL rules (katib_gitops.schema.crd.validate), and our built-in validation must agree
with it, object by object.
"""

from __future__ import annotations

import copy
import functools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.generate.command import GenerateOptions, generate
from katib_gitops.commands.generate.planning import load
from katib_gitops.core.diagnostics import FindingsError, Severity
from katib_gitops.expand import optimizationjob as oj
from katib_gitops.expand import overlays
from katib_gitops.expand.origins import exists
from katib_gitops.kustomize import render
from katib_gitops.rules import generated, optimizationjob_checks
from katib_gitops.rules.validator import Env, Options
from katib_gitops.schema import crd, manifests
from katib_gitops.spec.model import SpecSet, load_spec_set
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.writer import dump
from tests.helpers import TARGETS, spec, write_specs

CRD_FILE = "upstream/trainer-v2/crds/master-unreleased/trainer.kubeflow.org_optimizationjobs.yaml"


def train_job_spec(**changes: Any) -> dict[str, Any]:
    """A spec an OptimizationJob can express: a TrainJob trial, random search, env-passed parameters."""
    base = spec(
        name="tune",
        backend="optimizationjob",
        objective={"type": "maximize", "metric": "accuracy"},
        budget={"maxTrials": 12, "parallelTrials": 3},
        parameters=[
            {"name": "lr", "type": "double", "min": 0.01, "max": 0.1, "pass": {"env": "KUBEFLOW_TRAINER_OPT_LR"}},
            {
                "name": "batch_size",
                "type": "categorical",
                "values": [16, 32, 64],
                "pass": {"env": "KUBEFLOW_TRAINER_OPT_BATCH_SIZE"},
            },
        ],
        trial={
            "kind": "TrainJob",
            "runtime": "torch-distributed",
            "image": "example.com/train:1.0",
            "command": ["python", "/train.py"],
        },
    )
    spec_body = base["spec"]
    for key, value in changes.items():
        if value is None:
            spec_body.pop(key, None)
        else:
            spec_body[key] = copy.deepcopy(value)
    return base


# A GPU profile with the pod fields a TrainJob receives through its runtime patch, and a Kueue queue.
PROFILED_TARGETS: dict[str, Any] = copy.deepcopy(TARGETS)
PROFILED_TARGETS["spec"]["profiles"]["gpu"].update(
    nodeSelector={"node.kubernetes.io/instance-type": "g5.2xlarge"},
    tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    queue="team-gpu",
)


@functools.cache
def _upstream(shared: str) -> dict[str, Any]:
    loaded = crd.load_crds(Path(shared) / CRD_FILE)
    return loaded[("trainer.kubeflow.org", "OptimizationJob")]


@pytest.fixture
def upstream(shared: Path) -> dict[str, Any]:
    return _upstream(str(shared))


def spec_set_of(tmp_path: Path, *specs: dict[str, Any], targets: dict[str, Any] | None = None) -> SpecSet:
    return load(write_specs(tmp_path, *specs, targets=targets))


def objects(spec_set: SpecSet) -> Iterator[dict[str, Any]]:
    for expansion in overlays.expand(spec_set):
        yield expansion.base
        yield from (o.experiment for o in expansion.overlays)


VARIANTS: dict[str, dict[str, Any]] = {
    "random, uniform and categorical": {},
    "random with a seed, int and log-uniform": {
        "algorithm": {"name": "random", "settings": {"random_state": 7}},
        "parameters": [
            {"name": "epochs", "type": "int", "min": 1, "max": 20, "pass": {"env": "KUBEFLOW_TRAINER_OPT_EPOCHS"}},
            {
                "name": "lr",
                "type": "double",
                "min": 1e-05,
                "max": 0.1,
                "distribution": "logUniform",
                "pass": {"env": "KUBEFLOW_TRAINER_OPT_LR"},
            },
        ],
    },
    "grid over categorical parameters": {
        "algorithm": {"name": "grid"},
        "parameters": [
            {
                "name": "optimizer",
                "type": "categorical",
                "values": ["sgd", "adam"],
                "pass": {"env": "KUBEFLOW_TRAINER_OPT_OPTIMIZER"},
            }
        ],
    },
    "a raw TrainJob trialSpec": {
        "trial": {
            "trialSpec": {
                "apiVersion": "trainer.kubeflow.org/v1alpha1",
                "kind": "TrainJob",
                "metadata": {"labels": {"team": "vision"}},
                "spec": {
                    "runtimeRef": {"name": "torch-distributed"},
                    "trainer": {"image": "example.com/t:1", "numNodes": 2},
                },
            }
        }
    },
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_generated_optimization_jobs_pass_the_upstream_crd_with_its_cel_rules(
    variant: str, tmp_path: Path, upstream: dict[str, Any]
) -> None:
    """Base and every overlay's OptimizationJob: the CRD's schema, defaults and create-time CEL rules accept them,
    and so does our own validation (the same verdict as the API server's)."""
    spec_set = spec_set_of(tmp_path, train_job_spec(**VARIANTS[variant]), targets=PROFILED_TARGETS)
    env = generated.environment(spec_set)
    built = list(objects(spec_set))
    assert len(built) == 5
    for job in built:
        assert job["kind"] == "OptimizationJob" and job["apiVersion"] == "trainer.kubeflow.org/v1alpha1"
        assert crd.validate(job, upstream) == [], job["metadata"]["name"]
        assert optimizationjob_checks.check(Document("<job>", 0, job, None), env.kubernetes) == []


def test_the_bundled_trainjob_spec_moves_with_one_line_to_jobs_the_upstream_crd_accepts(
    tmp_path: Path, repo_specs: Path, upstream: dict[str, Any]
) -> None:
    """specs/mnist-trainjob.yaml, with `backend: optimizationjob` added under `spec:` (what its comment says to
    do): every OptimizationJob it generates passes the CRD's schema and create-time CEL rules, and ours."""
    specs = tmp_path / "specs"
    shutil.copytree(repo_specs, specs)
    path = specs / "mnist-trainjob.yaml"
    path.write_text(path.read_text().replace("\nspec:\n", "\nspec:\n  backend: optimizationjob\n", 1))
    spec_set = load(specs)
    env = generated.environment(spec_set)
    (expansion,) = [e for e in overlays.expand(spec_set) if e.spec.name == "mnist-trainjob"]
    jobs = [expansion.base, *(o.experiment for o in expansion.overlays)]
    assert len(jobs) == 5 and {job["kind"] for job in jobs} == {"OptimizationJob"}
    for job in jobs:
        assert crd.validate(job, upstream) == [], job["metadata"]["name"]
        assert optimizationjob_checks.check(Document("<job>", 0, job, None), env.kubernetes) == []
    names = {p["name"] for p in expansion.base["spec"]["parameters"]}
    assert names == {"lr", "momentum"}  # KUBEFLOW_TRAINER_OPT_LR and _MOMENTUM, which the command reads


def test_the_job_carries_the_spec_with_every_default_written_out(tmp_path: Path) -> None:
    """objectives[0].direction, a space's type, numTrials and parallelTrials as the CRD's defaulting would fill
    them; values as decimal strings; no Katib placeholder (the controller sets KUBEFLOW_TRAINER_OPT_<NAME>)."""
    spec_set = spec_set_of(tmp_path, train_job_spec())
    base = overlays.expand(spec_set)[0].base
    body = base["spec"]
    assert body["objectives"] == [{"metric": "accuracy", "direction": "Maximize"}]
    assert body["searchAlgorithm"] == {"random": {}}
    assert body["parameters"] == [
        {"name": "lr", "searchSpace": {"uniform": {"min": "0.01", "max": "0.1", "type": "Float"}}},
        {"name": "batch_size", "searchSpace": {"categorical": {"choices": ["16", "32", "64"]}}},
    ]
    assert (body["numTrials"], body["parallelTrials"]) == (12, 3)  # the base: its first profile's (cpu) budget
    assert "${" not in dump(base)
    trainer = body["trainJobTemplate"]["spec"]["trainer"]
    assert "env" not in trainer and trainer["image"] == "example.com/train:1.0"


def test_profiles_reach_the_trainjob_through_its_runtime_patch_and_overlays_patch_the_base(tmp_path: Path) -> None:
    """Same layout as for an Experiment: `_base/optimizationjob.yaml`, one overlay per namespace and profile whose
    JSON patch targets the OptimizationJob; each overlay renders to the object built for it."""
    specs = write_specs(tmp_path, train_job_spec(), targets=PROFILED_TARGETS)
    out = tmp_path / "overlays"
    generate(GenerateOptions(specs_dir=specs, out_dir=out))
    assert (out / "tune/_base/optimizationjob.yaml").is_file()
    assert not (out / "tune/_base/experiment.yaml").exists()
    assert load_documents((out / "tune/_base/kustomization.yaml").read_text(), "k")[0].data["resources"] == [
        "optimizationjob.yaml"
    ]
    overlay = load_documents((out / "tune/team-a/gpu/kustomization.yaml").read_text(), "k")[0].data
    target = overlay["patches"][0]["target"]
    assert (target["group"], target["version"], target["kind"]) == (
        "trainer.kubeflow.org",
        "v1alpha1",
        "OptimizationJob",
    )
    rendered = render.render(render.DiskFiles(out), "tune/team-a/gpu")
    job = rendered[0]
    template = job["spec"]["trainJobTemplate"]
    assert template["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-gpu"
    patch = template["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    pod = patch["template"]["spec"]["template"]
    assert pod["spec"]["nodeSelector"] == {"node.kubernetes.io/instance-type": "g5.2xlarge"}
    assert pod["metadata"]["labels"] == {"sidecar.istio.io/inject": "false"}
    assert template["spec"]["trainer"]["resourcesPerNode"] == {"limits": {"nvidia.com/gpu": 1}}
    assert job["spec"]["parallelTrials"] == 1  # the gpu profile's budget
    assert (out / "_gitops/argocd/tune.applicationset.yaml").is_file()


def test_switching_the_backend_is_one_line_each_way(tmp_path: Path) -> None:
    """`backend: optimizationjob` writes an OptimizationJob; deleting the line (or `backend: katib`) writes the
    Katib Experiment of the same spec again, whose TrainJob trial gets the values through the same variables."""
    as_job = train_job_spec()
    as_katib = train_job_spec(backend=None)
    jobs = overlays.expand(spec_set_of(tmp_path / "a", as_job))[0]
    katib = overlays.expand(spec_set_of(tmp_path / "b", as_katib))[0]
    explicit = overlays.expand(spec_set_of(tmp_path / "c", train_job_spec(backend="katib")))[0]
    assert (jobs.kind, jobs.object_file) == ("OptimizationJob", "optimizationjob.yaml")
    assert (katib.kind, katib.object_file) == ("Experiment", "experiment.yaml")
    assert explicit.base == katib.base
    trainer = katib.base["spec"]["trialTemplate"]["trialSpec"]["spec"]["trainer"]
    assert {"name": "KUBEFLOW_TRAINER_OPT_LR", "value": "${trialParameters.lr}"} in trainer["env"]
    diff = [line for line in dump(as_job).splitlines() if line not in dump(as_katib).splitlines()]
    assert diff == ["  backend: optimizationjob"]


def test_the_targets_file_sets_the_backend_and_a_spec_overrides_it(tmp_path: Path) -> None:
    """Precedence: spec.backend, then the Targets file's spec.backend, then katib (docs/optimizationjob.md)."""
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["backend"] = "optimizationjob"
    inherits = train_job_spec(backend=None)
    keeps_katib = copy.deepcopy(train_job_spec(backend="katib"))
    keeps_katib["metadata"]["name"] = "tune-katib"
    spec_set = spec_set_of(tmp_path, inherits, keeps_katib, targets=targets)
    kinds = {e.spec.name: e.kind for e in overlays.expand(spec_set)}
    assert kinds == {"tune": "OptimizationJob", "tune-katib": "Experiment"}


def test_counts_are_part_of_the_name_for_this_backend(tmp_path: Path) -> None:
    """The CRD makes the whole spec immutable (`self == oldSelf` on OptimizationJobSpec): a new maxTrials is a new
    OptimizationJob, where an Experiment keeps its name (Katib lets its counts change, UPD-01)."""

    def names(body: dict[str, Any], where: str) -> tuple[str, str]:
        expansion = overlays.expand(spec_set_of(tmp_path / where, body))[0]
        return expansion.base["metadata"]["name"], expansion.overlays[0].experiment["metadata"]["name"]

    more = {"maxTrials": 20, "parallelTrials": 3}
    assert names(train_job_spec(), "a") != names(train_job_spec(budget=more), "b")
    assert names(train_job_spec(backend=None), "c") == names(train_job_spec(backend=None, budget=more), "d")


# ------------------------------------------------------------------ findings at the spec's own line


SPEC_TEXT = """\
apiVersion: katib-gitops.dev/v1alpha1
kind: TuningSpec
metadata:
  name: tune
spec:
  backend: optimizationjob
  objective:
    type: minimize
    metric: loss
  algorithm:
    name: {algorithm}
  budget:
    maxTrials: 3
    parallelTrials: {parallel}
  parameters:
    - name: lr
      type: double
      min: {low}
      max: 0.1
      distribution: logUniform
      pass:
        env: KUBEFLOW_TRAINER_OPT_LR
  trial:
    kind: TrainJob
    runtime: torch-distributed
    image: example.com/train:1.0
  targets:
    namespaces: [team-a]
    profiles: [cpu]
"""


def check_text(tmp_path: Path, **values: Any) -> list[tuple[int, int, str, str]]:
    settings = {"algorithm": "random", "parallel": 1, "low": 0.001, **values}
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "targets.yaml").write_text(dump(TARGETS))
    (folder / "tune.yaml").write_text(SPEC_TEXT.format(**settings))
    spec_set = load_spec_set(folder)
    return [(d.line, d.column, d.rule_id, d.message) for d in generated.check_spec_set(spec_set)]


def test_grid_over_a_range_is_reported_at_the_algorithm(tmp_path: Path) -> None:
    """CEL rule of OptimizationJobSpec: grid search needs every parameter categorical; the spec checks do not know
    it, the generated object's validation does, and it is reported at the spec's algorithm."""
    found = check_text(tmp_path, algorithm="grid")
    assert [f[:3] for f in found] == [(11, 11, "schema")]
    assert found[0][3].startswith("Grid search requires all parameters to be Categorical")
    assert "(OptimizationJob field spec.searchAlgorithm; in 1 target: tune/team-a/cpu)" in found[0][3]


def test_more_choices_than_the_crd_takes_are_reported_at_the_values(tmp_path: Path) -> None:
    """CategoricalSpace.choices: at most 100 items (kubebuilder MaxItems=100)."""
    values = list(range(101))
    folder = write_specs(
        tmp_path,
        train_job_spec(
            parameters=[
                {"name": "seed", "type": "categorical", "values": values, "pass": {"env": "KUBEFLOW_TRAINER_OPT_SEED"}}
            ]
        ),
    )
    found = generated.check_spec_set(load_spec_set(folder))
    assert [(d.rule_id, d.path) for d in found] == [("schema", "spec.parameters[0].values")]
    assert (
        "is too long" in found[0].message and "spec.parameters[0].searchSpace.categorical.choices" in found[0].message
    )


def test_a_metric_name_longer_than_the_crd_takes_is_reported_at_the_metric(tmp_path: Path) -> None:
    """Objective.metric: at most 64 characters (kubebuilder MaxLength=64)."""
    assert check_text(tmp_path) == []  # the same spec with a short metric name: no finding
    folder = write_specs(tmp_path / "b", train_job_spec(objective={"type": "maximize", "metric": "m" * 65}))
    found_long = generated.check_spec_set(load_spec_set(folder))
    assert [(d.rule_id, d.path, d.line) for d in found_long] == [("schema", "spec.objective.metric", 8)]


def test_generate_refuses_what_the_crd_refuses_and_writes_nothing(tmp_path: Path) -> None:
    settings = {"algorithm": "grid", "parallel": 1, "low": 0.001}
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "targets.yaml").write_text(dump(TARGETS))
    (folder / "tune.yaml").write_text(SPEC_TEXT.format(**settings))
    result = CliRunner().invoke(main, ["generate", "--specs", str(folder), "--out", str(tmp_path / "overlays")])
    assert result.exit_code == 1
    assert f"{folder}/tune.yaml:11:11: error: Grid search requires all parameters to be Categorical" in result.output
    assert not (tmp_path / "overlays").exists()


def test_every_field_of_every_job_maps_to_a_node_the_user_wrote(tmp_path: Path) -> None:
    """The source map of an OptimizationJob (expand/optimizationjob.py JobSourceMap) answers every leaf."""
    for index, variant in enumerate(VARIANTS.values()):
        spec_set = spec_set_of(tmp_path / str(index), train_job_spec(**variant), targets=PROFILED_TARGETS)
        for built in generated.built_experiments(spec_set.specs[0], spec_set):
            source = oj.source_map(
                built.spec,
                spec_set.targets,
                built.experiment,
                built.profile,
                overlays.base_profile(built.spec, spec_set),
            )
            for path in _leaf_paths(built.experiment):
                for node in source.origin(path).nodes:
                    assert exists(node.document.data, node.path), (path, node.path)


def _leaf_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*path, index))
    else:
        yield path


# ------------------------------------------------------------------ validate: a hand-written OptimizationJob


JOB_TEXT = """\
apiVersion: trainer.kubeflow.org/v1alpha1
kind: OptimizationJob
metadata:
  name: random-tuning
spec:
  objectives:
    - metric: val_loss
  searchAlgorithm:
    random: {}
  parameters:
    - name: learning_rate
      searchSpace:
        logUniform:
          min: "0.0001"
          max: "0.1"
    - name: batch_size
      searchSpace:
        categorical:
          choices: ["16", "32", "64"]
  numTrials: 20
  parallelTrials: 4
  trainJobTemplate:
    spec:
      runtimeRef:
        name: torch-distributed
      trainer:
        image: docker.io/my-org/bert-tuner:latest
        command: [python, train.py]
"""

# (what is changed, the replacement text, the line and column of the finding): each one the upstream CRD refuses too.
BROKEN = {
    "numTrials over 100": ("numTrials: 20", "numTrials: 101", 20, 14),
    "parallelTrials over numTrials": ("parallelTrials: 4", "parallelTrials: 40", 21, 19),
    "both algorithms": ("random: {}", "random: {}\n    grid: {}", 8, 3),
    "max not a decimal": ('max: "0.1"', 'max: "1."', 15, 16),
    "log-uniform from 0": ('min: "0.0001"', 'min: "0"', 13, 9),
    "min at max": ('max: "0.1"', 'max: "0.0001"', 13, 9),
    "no search space": ('categorical:\n          choices: ["16", "32", "64"]', "{}", 17, 7),
    "a template with a name": ("  trainJobTemplate:\n", "  trainJobTemplate:\n    metadata: {name: trial}\n", 23, 5),
    "a TrainJob field misspelled": ("image: docker", "imag: docker", 27, 9),
    "two objectives": ("- metric: val_loss", "- metric: val_loss\n    - metric: accuracy", 6, 3),
    "a parameter twice": ("name: batch_size", "name: learning_rate", 16, 13),
}


def _job_document(text: str) -> Document:
    return load_documents(text, "job.yaml")[0]


def test_a_hand_written_job_is_valid_for_us_and_for_the_crd(upstream: dict[str, Any]) -> None:
    """The KEP-2605 sample, as a user writes it (defaults left out): no finding, and the CRD agrees."""
    document = _job_document(JOB_TEXT)
    assert crd.validate(document.data, upstream) == []
    assert optimizationjob_checks.check(document, manifests.latest_kubernetes()) == []


@pytest.mark.parametrize("case", list(BROKEN))
def test_what_the_crd_refuses_validate_refuses_at_the_line(case: str, upstream: dict[str, Any]) -> None:
    old, new, line, column = BROKEN[case]
    assert old in JOB_TEXT
    document = _job_document(JOB_TEXT.replace(old, new, 1))
    assert crd.validate(document.data, upstream) != [], "the upstream CRD accepts it: not a real refusal"
    found = [
        d for d in optimizationjob_checks.check(document, manifests.latest_kubernetes()) if d.severity is Severity.ERROR
    ]
    assert found, case
    assert {(d.line, d.column) for d in found} == {(line, column)}, [d.format() for d in found]
    assert {d.rule_id for d in found} == {"schema"}


def test_validate_reads_an_optimization_job_as_a_built_in_kind(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(JOB_TEXT)
    bad = tmp_path / "bad.yaml"
    bad.write_text(JOB_TEXT.replace("parallelTrials: 4", "parallelTrials: 40"))
    assert CliRunner().invoke(main, ["validate", str(good)]).exit_code == 0
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:21:19: error: parallelTrials cannot exceed numTrials [schema]" in result.output


def test_a_crd_given_with_crd_is_used_instead(tmp_path: Path, shared: Path) -> None:
    """--crd wins over the built-in schema, as for any kind (validator._schema_check)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(JOB_TEXT.replace("numTrials: 20", "numTrials: 101"))
    result = CliRunner().invoke(main, ["validate", "--crd", str(shared / CRD_FILE), str(bad)])
    assert result.exit_code == 1
    assert ":20:14: error:" in result.output


def test_the_validator_env_is_what_generate_uses() -> None:
    env = Env(Options(()), manifests.latest_kubernetes(), {})
    document = _job_document(JOB_TEXT)
    from katib_gitops.rules import validator

    assert validator.check_document(document, env) == []


def test_a_spec_that_cannot_move_is_refused_before_it_is_built(tmp_path: Path) -> None:
    """The PyTorchJob demo spec with `backend: optimizationjob`: TS-OPT-KIND and TS-OPT-PASS refuse it; nothing
    is built, so no schema finding of a half-made OptimizationJob follows."""
    folder = write_specs(tmp_path, spec(backend="optimizationjob"))
    with pytest.raises(FindingsError) as caught:
        load(folder)
    found = {(d.rule_id, d.line, d.column) for d in caught.value.diagnostics if d.severity is Severity.ERROR}
    assert found == {("TS-OPT-KIND", 22, 11), ("TS-OPT-PASS", 17, 13)}


# ------------------------------------------------------------------ plan: the whole spec is immutable


def test_plan_rolls_out_a_count_change_of_an_optimization_job(tmp_path: Path) -> None:
    """`self == oldSelf` on OptimizationJobSpec: a new maxTrials cannot update the object in place, so plan reports
    a roll-out under a new name and how to retire the old OptimizationJob (an Experiment's count edit is an update)."""
    from tests.test_plan import git, plan, repository

    files = {"targets.yaml": dump(TARGETS), "tune.yaml": dump(train_job_spec())}
    root = repository(tmp_path / "repo", **files)
    (root / "specs" / "tune.yaml").write_text(dump(train_job_spec(budget={"maxTrials": 20, "parallelTrials": 3})))
    code, out = plan(root, "--base", git(root, "rev-parse", "HEAD").strip())
    assert code == 0, out
    assert "0 created, 0 updated, 0 metadata, 4 rolled-out, 0 removed, 0 unchanged" in out
    assert "retire it: kubectl delete optimizationjob tune-" in out


def test_the_validator_dispatches_the_kind_the_checks_judge() -> None:
    """The validator spells the kind itself, so that it imports the checks for an OptimizationJob only."""
    from katib_gitops.rules import validator

    assert validator.OPTIMIZATION_JOB == (optimizationjob_checks.API_VERSION, optimizationjob_checks.KIND)
