"""Properties (hypothesis) of generate and of every command on mutated input.

Valid specs generate clean, idempotent, order- and seed-independent output;
mutated YAML never crashes a command.
"""

from __future__ import annotations

import copy
import io
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from katib_gitops.commands.generate import command, planning
from katib_gitops.commands.generate.command import GenerateOptions
from katib_gitops.core.diagnostics import FindingsError, Severity
from katib_gitops.rules import generated, spec_checks, validator
from katib_gitops.yamlio.writer import dump
from tests.helpers import TARGETS, spec, write_specs
from tests.reliability.helpers import as_generated, assert_clean_exit, cli, process, tree
from tests.reliability.mutate import corpus, mutate

# The suite replays the same examples every run (CI stays deterministic); KATIB_GITOPS_EXPLORE=N draws
# new random examples, N times as many (docs/reliability.md).
SCALE = int(os.environ.get("KATIB_GITOPS_EXPLORE", "1"))
FIXED = "KATIB_GITOPS_EXPLORE" not in os.environ

NAME = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?", fullmatch=True)


@st.composite
def parameters(draw: st.DrawFn) -> list[dict[str, Any]]:
    chosen = draw(
        st.lists(
            st.sampled_from(["--lr", "--momentum", "--batch-size", "--dropout"]), min_size=1, max_size=3, unique=True
        )
    )
    out = []
    for name in chosen:
        if name == "--batch-size":
            low = draw(st.integers(1, 64))
            out.append({"name": name, "type": "int", "min": low, "max": low + draw(st.integers(1, 64))})
        else:
            low = draw(st.sampled_from([0.001, 0.01, 0.1, 0.5]))
            out.append(
                {"name": name, "type": "double", "min": low, "max": round(low * draw(st.sampled_from([2, 5, 10])), 6)}
            )
    return out


@st.composite
def spec_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    specs = []
    for name in names:
        max_trials = draw(st.integers(2, 20))
        specs.append(
            spec(
                name=name,
                algorithm={"name": draw(st.sampled_from(["random", "tpe"]))},
                budget={
                    "maxTrials": max_trials,
                    "parallelTrials": draw(st.integers(1, 2)),
                    "maxFailedTrials": draw(st.integers(0, max_trials)),
                },
                parameters=draw(parameters()),
                targets={
                    "namespaces": draw(
                        st.lists(st.sampled_from(["team-a", "team-b"]), min_size=1, max_size=2, unique=True)
                    ),
                    "profiles": draw(st.lists(st.sampled_from(["gpu", "cpu"]), min_size=1, max_size=2, unique=True)),
                },
            )
        )
    return specs


def write_in_order(root: Path, specs: list[dict[str, Any]], order: list[int]) -> Path:
    folder = root / "specs"
    folder.mkdir(parents=True)
    (folder / "targets.yaml").write_text(dump(TARGETS))
    for index in order:  # creation order shows in directory listings
        (folder / f"{specs[index]['metadata']['name']}.yaml").write_text(dump(specs[index]))
    return folder


def generate_or_reject(specs_dir: Path, out: Path) -> tuple[Any, bool]:
    try:
        result = command.generate(GenerateOptions(specs_dir=specs_dir, out_dir=out))
    except FindingsError:
        assume(False)  # a drawn combination the spec checks refuse is not a "valid spec"
        raise
    return result, result.written


@settings(
    max_examples=12 * SCALE,
    deadline=None,
    derandomize=FIXED,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=spec_sets(), seed=st.integers(0, 10**6))
def test_valid_specs_generate_output_that_validates_and_is_stable(
    tmp_path_factory: Any, specs: list[dict[str, Any]], seed: int
) -> None:
    root = tmp_path_factory.mktemp("gen")
    order = list(range(len(specs)))
    first = write_in_order(root / "a", specs, order)
    generate_or_reject(first, root / "a" / "overlays")
    outcome = validator.validate(
        validator.Options((str(root / "a" / "overlays"),), ignore_missing_schemas=True), io.StringIO()
    )
    errors = [d.format() for d in outcome.diagnostics if d.severity is Severity.ERROR]
    assert errors == [], errors
    # idempotent: a second run writes nothing
    assert command.generate(GenerateOptions(specs_dir=first, out_dir=root / "a" / "overlays")).written is False
    # the same specs created in another order give the same bytes
    random.Random(seed).shuffle(order)
    second = write_in_order(root / "b", list(reversed(specs)), order)
    command.generate(GenerateOptions(specs_dir=second, out_dir=root / "b" / "overlays"))
    assert tree(root / "a" / "overlays") == tree(root / "b" / "overlays")
    shutil.rmtree(root)


@settings(
    max_examples=2 * SCALE,
    deadline=None,
    derandomize=FIXED,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(specs=spec_sets())
def test_output_is_byte_identical_across_hash_seeds_and_input_orders(
    tmp_path_factory: Any, specs: list[dict[str, Any]]
) -> None:
    root = tmp_path_factory.mktemp("seeds")
    trees = []
    for index, (seed, order) in enumerate(
        (("0", list(range(len(specs)))), ("4242", list(reversed(range(len(specs))))))
    ):
        folder = root / str(index)
        write_in_order(folder, specs, order)
        result = process(folder, "generate", env={"PYTHONHASHSEED": seed}, timeout=120)
        assume(result.returncode != 1)
        assert_clean_exit(result, 0)
        trees.append(tree(folder / "overlays"))
    assert trees[0] == trees[1]


CORPUS = corpus()


@settings(
    max_examples=300 * SCALE,
    deadline=None,
    derandomize=FIXED,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case=st.sampled_from(CORPUS),
    seed=st.integers(0, 2**32 - 1),
    command=st.sampled_from(["validate", "generate", "render"]),
)
def test_mutated_yaml_never_crashes_a_command(
    tmp_path_factory: Any, case: tuple[str, bytes], seed: int, command: str
) -> None:
    root = tmp_path_factory.mktemp("mut")
    name, original = case
    data = mutate(original, random.Random(seed))
    if command == "validate":
        (root / "in.yaml").write_bytes(data)
        result = cli(root, "validate", "in.yaml")
    elif command == "generate":
        shutil.copytree(Path(__file__).resolve().parents[2] / "specs", root / "specs")
        (root / "specs" / Path(name).name).write_bytes(data)
        result = cli(root, "generate")
    else:
        (root / "app").mkdir()
        (root / "app" / "kustomization.yaml").write_bytes(
            data if "kustomization" in name else b"resources: [in.yaml]\nnamespace: x\n"
        )
        (root / "app" / "in.yaml").write_bytes(data)
        as_generated(root)  # the in-process renderer (katib-gitops' own trees), fuzzed; others go to kustomize
        result = cli(root, "render", "app")
    assert_clean_exit(result, 0, 1, 2)
    shutil.rmtree(root)


# Settings Katib's suggestion and early-stopping services accept, and some they refuse (a misspelled name,
# a value out of range), so that the drawn specs fall on both sides of generate's verdict.
ALGORITHMS = [
    {"name": "random"},
    {"name": "tpe", "settings": {"n_EI_candidates": 12}},
    {"name": "tpe", "settings": {"n_EI_candidates": 0}},
    {"name": "bayesianoptimization", "settings": {"random_state": 10}},
    {"name": "bayesianoptimization", "settings": {"random_stat": 10}},
    {"name": "hyperband", "settings": {"r_l": 9, "eta": 3, "resource_name": "--epochs"}},
    {"name": "grid"},
    {"name": "cmaes"},
]
EARLY_STOPPING = [None, {"name": "medianstop", "settings": {"min_trials_required": 3}}]
EARLY_STOPPING.append({"name": "medianstop", "settings": {"min_trial_required": 3}})


@st.composite
def risky_specs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A spec and a Targets file that pass the spec checks; Katib may or may not accept what they build."""
    parameters = [
        {"name": "--lr", "type": "double", "min": 0.01, "max": 0.1},
        {"name": "--epochs", "type": "int", "min": 1, "max": 9},
    ]
    if draw(st.booleans()):
        parameters[0]["step"] = 0.01  # what grid needs of a double
    data = spec(
        algorithm=draw(st.sampled_from(ALGORITHMS)),
        budget={"maxTrials": 30, "parallelTrials": draw(st.sampled_from([1, 3, 9]))},
        parameters=parameters,
    )
    stopping = draw(st.sampled_from(EARLY_STOPPING))
    if stopping is not None:
        data["spec"]["earlyStopping"] = stopping
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["profiles"]["gpu"]["budget"] = {"parallelTrials": draw(st.sampled_from([1, 9]))}
    targets["spec"]["profiles"]["cpu"]["resources"]["requests"]["memory"] = draw(st.sampled_from(["4Gi", "4GB"]))
    return data, targets


@settings(
    max_examples=20 * SCALE,
    deadline=None,
    derandomize=FIXED,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=risky_specs())
def test_generates_verdict_is_validates_verdict_on_the_output(
    tmp_path_factory: Any, case: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """generate refuses exactly when `validate` of the output it would write finds errors, for the same rules."""
    data, targets = case
    root = tmp_path_factory.mktemp("verdict")
    folder = write_specs(root, data, targets=targets)
    assume(not [d for d in spec_checks.run_checks(planning.load_spec_set(folder)) if d.severity is Severity.ERROR])
    out = root / "overlays"
    try:
        command.generate(GenerateOptions(specs_dir=folder, out_dir=out))
        refused: set[str] = set()
    except FindingsError as exc:
        refused = {d.rule_id for d in exc.diagnostics if d.severity is Severity.ERROR}
        assert not out.exists()
        assert all("overlays/" not in d.file for d in exc.diagnostics)
    with pytest.MonkeyPatch.context() as patch:  # the output generate would write without its checks
        patch.setattr(generated, "place_built", lambda *_: [])
        command.generate(GenerateOptions(specs_dir=folder, out_dir=out, force=True))
    outcome = validator.validate(validator.Options((str(out),)), io.StringIO())
    assert {d.rule_id for d in outcome.diagnostics if d.severity is Severity.ERROR} == refused
    shutil.rmtree(root)
