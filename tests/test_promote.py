"""`katib-gitops promote`: the best trial's parameters into a reviewed, attributable file; refusals exit 1 or 2.

The Experiments are the status fixtures of tests/results_fixtures.py (Katib's API types).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.promote import edited_by_hand, env_name, recorded_digest, typed
from katib_gitops.yamlio.writer import dump
from tests.results_fixtures import CPU, GPU, STATUSES, as_deployed, dump_list, repository


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def dumped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    dump_list(tmp_path)
    return tmp_path / "experiments.yaml"


def promote(*args: str) -> tuple[int, str, str]:
    return run("promote", "experiments.yaml", *args)


def digest_of(path: Path) -> str:
    digest = recorded_digest(path.read_text())
    assert digest is not None and len(digest) == 64
    return digest


def test_yaml_values_file_records_its_source(dumped: Path) -> None:
    """The best trial is status.currentOptimalTrial (experiment_types.go OptimalTrial); the double parameter's
    value string "0.0517" becomes a number; the date is the Experiment's completionTime."""
    code, out, err = promote("--target", "demo/team-a/gpu", "--out", "params/demo.yaml")
    assert (code, err) == (0, "")
    assert out == f"params/demo.yaml: written (best trial {GPU}-x7k2m9qp of team-a/{GPU})\n"
    text = Path("params/demo.yaml").read_text()
    assert text == (
        f"# Best parameters of Experiment team-a/{GPU}, written by katib-gitops promote.\n"
        "# Promote again to change them; a file edited by hand is not replaced.\n"
        f"# katib-gitops-digest: sha256:{digest_of(Path('params/demo.yaml'))}\n"
        "source:\n"
        f"  experiment: team-a/{GPU}\n"
        "  target: demo/team-a/gpu\n"
        f"  trial: {GPU}-x7k2m9qp\n"
        "  objective: 'accuracy=0.9931 (maximize, goal 0.99 reached)'\n"
        "  state: 'Succeeded (ExperimentGoalReached)'\n"
        "  date: '2026-12-01'\n"
        "parameters:\n"
        "  --lr: 0.0517\n"
    )
    assert not edited_by_hand(text)
    # Deterministic: promoting again changes nothing, and says so.
    assert promote("--target", "demo/team-a/gpu", "--out", "params/demo.yaml") == (
        0,
        f"params/demo.yaml: up to date, nothing written (best trial {GPU}-x7k2m9qp of team-a/{GPU})\n",
        "",
    )
    assert Path("params/demo.yaml").read_text() == text


def test_json_configmap_and_env(dumped: Path) -> None:
    assert promote("--target", "demo/team-a/gpu", "--out", "params/demo.json")[0] == 0
    values = json.loads(Path("params/demo.json").read_text())
    assert values == {
        "source": {
            "experiment": f"team-a/{GPU}",
            "target": "demo/team-a/gpu",
            "trial": f"{GPU}-x7k2m9qp",
            "objective": "accuracy=0.9931 (maximize, goal 0.99 reached)",
            "state": "Succeeded (ExperimentGoalReached)",
            "date": "2026-12-01",
            "katib-gitops-digest": f"sha256:{digest_of(Path('params/demo.json'))}",
        },
        "parameters": {"--lr": 0.0517},
    }
    assert promote("--experiment", GPU, "-n", "team-a", "--out", "cm.yaml", "--format", "configmap")[0] == 0
    assert Path("cm.yaml").read_text().split("\n", 3)[3] == (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: demo-best-parameters\n"
        "  namespace: team-a\n"
        "  annotations:\n"
        f"    katib-gitops.dev/promoted-experiment: team-a/{GPU}\n"
        "    katib-gitops.dev/promoted-target: demo/team-a/gpu\n"
        f"    katib-gitops.dev/promoted-trial: {GPU}-x7k2m9qp\n"
        "    katib-gitops.dev/promoted-objective: 'accuracy=0.9931 (maximize, goal 0.99 reached)'\n"
        "    katib-gitops.dev/promoted-state: 'Succeeded (ExperimentGoalReached)'\n"
        "    katib-gitops.dev/promoted-date: '2026-12-01'\n"
        "data:\n"
        "  --lr: '0.0517'\n"  # ConfigMap data values are strings
    )
    assert promote("--target", "demo/team-a/gpu", "--out", "train.env")[0] == 0
    assert Path("train.env").read_text() == (
        f"# Best parameters of Experiment team-a/{GPU}, written by katib-gitops promote.\n"
        "# Promote again to change them; a file edited by hand is not replaced.\n"
        f"# katib-gitops-digest: sha256:{digest_of(Path('train.env'))}\n"
        f"# experiment: team-a/{GPU}\n"
        "# target: demo/team-a/gpu\n"
        f"# trial: {GPU}-x7k2m9qp\n"
        "# objective: accuracy=0.9931 (maximize, goal 0.99 reached)\n"
        "# state: Succeeded (ExperimentGoalReached)\n"
        "# date: 2026-12-01\n"
        "LR=0.0517\n"
    )


def test_a_hand_edited_or_foreign_file_is_not_replaced(dumped: Path) -> None:
    """Like generate's ownership check: the digest recorded in the file must match its content."""
    target = Path("params/demo.yaml")
    assert promote("--target", "demo/team-a/gpu", "--out", str(target))[0] == 0
    target.write_text(target.read_text().replace("0.0517", "0.06"))
    code, out, err = promote("--target", "demo/team-a/gpu", "--out", str(target))
    assert (code, out) == (2, "")
    assert err == (
        "katib-gitops: error: params/demo.yaml: edited by hand since katib-gitops promote; "
        "refusing to replace it (--force to overwrite)\n"
    )
    assert "0.06" in target.read_text()
    Path("mine.yaml").write_text("lr: 0.1\n")
    code, _, err = promote("--target", "demo/team-a/gpu", "--out", "mine.yaml")
    assert code == 2 and "mine.yaml: not written by katib-gitops promote" in err
    assert Path("mine.yaml").read_text() == "lr: 0.1\n"
    assert promote("--target", "demo/team-a/gpu", "--out", str(target), "--force")[0] == 0
    assert "--lr: 0.0517" in target.read_text() and not edited_by_hand(target.read_text())


def _refusal(dumped: Path, name: str, namespace: str) -> int:
    """The line of the Experiment `namespace/name` in the dump: refusals are reported at the Experiment."""
    lines = dumped.read_text().splitlines()
    for index, line in enumerate(lines):
        if line == "  - apiVersion: kubeflow.org/v1beta1":
            block = [text.strip() for text in lines[index : index + 30]]
            if f"name: {name}" in block and f"namespace: {namespace}" in block:
                return index + 1
    raise AssertionError(name)


def test_an_experiment_that_has_not_succeeded_is_refused_unless_allowed(dumped: Path) -> None:
    """Succeeded is the condition Katib sets on completion (util.go MarkExperimentStatusSucceeded); a running one
    has a best trial so far (status_util.go updates currentOptimalTrial on every reconcile)."""
    line = _refusal(dumped, CPU, "team-a")
    code, out, err = promote("--target", "demo/team-a/cpu", "--out", "p.yaml")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"experiments.yaml:{line}:5: error: Experiment team-a/{CPU} has not succeeded: it is Running "
        "(--allow-running to promote) [promote-refused]",
        "katib-gitops: 1 problem(s) found",
    ]
    assert not Path("p.yaml").exists()
    code, _, _ = promote("--target", "demo/team-a/cpu", "--out", "p.yaml", "--allow-running", "--date", "2026-12-04")
    assert code == 0
    text = Path("p.yaml").read_text()
    assert "  state: 'Running (ExperimentRunning)'\n  date: '2026-12-04'\n" in text
    assert "objective: 'accuracy=0.96 (maximize, goal 0.99 not reached)'" in text


@pytest.mark.parametrize(
    ("args", "name", "namespace", "messages"),
    [
        (
            ("--target", "demo/team-b/gpu"),
            GPU,
            "team-b",
            [f"Experiment team-b/{GPU} failed (ExperimentFailed)"],
        ),
        (
            ("--target", "demo/team-b/cpu", "--allow-running"),
            CPU,
            "team-b",
            [f"Experiment team-b/{CPU} has no best trial yet (status.currentOptimalTrial)"],
        ),
        (
            ("--experiment", "random", "--allow-running"),
            "random",
            "team-a",
            [
                "Experiment team-a/random has no best trial yet (status.currentOptimalTrial)",
                "Experiment team-a/random was not generated by katib-gitops: its parameters are no spec's",
            ],
        ),
    ],
)
def test_failed_empty_and_foreign_experiments_are_refused(
    dumped: Path, args: tuple[str, ...], name: str, namespace: str, messages: list[str]
) -> None:
    """A Failed Experiment (maxFailedTrialCount reached, status_util.go) and one with no best trial yet have nothing
    to promote; a foreign one's parameters belong to no spec."""
    line = _refusal(dumped, name, namespace)
    code, out, err = promote(*args, "--out", "p.yaml")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        *(f"experiments.yaml:{line}:5: error: {m} [promote-refused]" for m in messages),
        f"katib-gitops: {len(messages)} problem(s) found",
    ]


def test_parameters_that_do_not_match_the_spec_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The best trial's parameterAssignments must be the spec's parameters (a status edited, or a spec changed)."""
    monkeypatch.chdir(tmp_path)
    _, git = repository(tmp_path)
    status = copy.deepcopy(STATUSES["goal"])
    status["currentOptimalTrial"]["parameterAssignments"] = [{"name": "--momentum", "value": "0.9"}]
    Path("e.yaml").write_text(dump(as_deployed(git["demo/team-a/gpu"], status)))
    code, _, err = run("promote", "e.yaml", "--target", "demo/team-a/gpu", "--out", "p.yaml")
    assert code == 1
    assert err.splitlines()[0] == (
        "e.yaml:1:1: error: the best trial's parameters do not match the spec demo's: missing --lr; "
        "not in the spec --momentum [promote-refused]"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--out", "p.yaml"), "name the Experiment: --target SPEC/NAMESPACE/PROFILE or --experiment NAME"),
        (("--target", "demo/team-a", "--out", "p.yaml"), "--target 'demo/team-a': not SPEC/NAMESPACE/PROFILE"),
        (
            ("--target", "demo/team-c/gpu", "--out", "p.yaml"),
            "--target demo/team-c/gpu: the Experiment Git generates for it is not in the input",
        ),
        (
            ("--experiment", GPU, "--out", "p.yaml"),
            f"--experiment {GPU}: in 2 namespaces (team-a, team-b); add --namespace",
        ),
        (("--experiment", "nope", "--out", "p.yaml"), "--experiment nope: no such Experiment in the input"),
        (
            ("--target", "demo/team-a/gpu", "--out", "p.txt"),
            "p.txt: say which format with --format (yaml, json, configmap, env)",
        ),
    ],
)
def test_choosing_the_experiment_and_format_usage_errors(dumped: Path, args: tuple[str, ...], message: str) -> None:
    code, out, err = promote(*args)
    assert (code, out, err) == (2, "", f"katib-gitops: error: {message}\n")


def test_only_a_stale_experiment_of_the_target_is_not_promoted_by_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--target means the Experiment Git generates now; one left from an earlier roll-out must be named."""
    monkeypatch.chdir(tmp_path)
    _, git = repository(tmp_path)
    stale = as_deployed(git["demo/team-a/gpu"], STATUSES["unavailable"])
    stale["metadata"]["name"] = "demo-0badc0de"
    Path("e.yaml").write_text(dump(stale))
    code, _, err = run("promote", "e.yaml", "--target", "demo/team-a/gpu", "--out", "p.yaml")
    assert code == 2
    assert err == (
        "katib-gitops: error: --target demo/team-a/gpu: the Experiment Git generates for it is not in the input "
        "(only team-a/demo-0badc0de, left from an earlier roll-out)\n"
    )
    code, _, _ = run("promote", "e.yaml", "--experiment", "demo-0badc0de", "--out", "p.yaml")
    assert code == 0
    assert "  trial: demo-0badc0de-old1\n" in Path("p.yaml").read_text()


def test_value_types_and_env_names() -> None:
    """parameterType int and double become numbers; discrete and categorical stay Katib's strings."""
    assert typed("3", "int") == 3 and typed("1e-05", "double") == 1e-05 and typed("0.5", "discrete") == "0.5"
    assert typed("adam", "categorical") == "adam" and typed("x", "int") == "x"
    assert env_name("--learning-rate") == "LEARNING_RATE" and env_name("batch.size") == "BATCH_SIZE"


def test_env_names_that_collide_are_a_usage_error() -> None:
    """Two parameters that map to one variable name would silently lose one value: refused instead."""
    from katib_gitops.commands.promote import render
    from katib_gitops.core.diagnostics import UsageError

    class Fake:
        namespace, name, key, spec, target = "team-a", GPU, f"team-a/{GPU}", "demo", "demo/team-a/gpu"
        state, reason, objective, objective_type, objective_value = "Succeeded", "", "accuracy", "maximize", "0.9"
        goal, goal_reached, best_trial, parameter_types = None, None, "t", {}
        assignments = (("--lr", "0.1"), ("lr", "0.2"))

    with pytest.raises(UsageError, match="parameters '--lr' and 'lr' are both LR in an env file"):
        render(Fake(), "env", "2026-12-01")  # type: ignore[arg-type]


def test_the_docs_commands_and_options_exist() -> None:
    """docs/results.md cannot drift from the command line: every katib-gitops command it shows, and every long
    option given to it, is one click knows; the CI recipe is valid YAML."""
    import re

    import yaml

    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "results.md").read_text()
    shown = re.findall(r"katib-gitops (results|promote|import|generate)\b([^`\n]*)", doc)
    assert {name for name, _ in shown} >= {"results", "promote"}
    for name, rest in shown:
        known = {opt for param in main.commands[name].params for opt in param.opts}
        assert set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest)) <= known, (name, rest)
    recipe = doc.split("```yaml\n# .github/workflows/promote.yml\n", 1)[1].split("```", 1)[0]
    workflow = yaml.safe_load(recipe)  # a workflow, not a manifest: `on:` is GitHub's key, YAML 1.1's true
    steps = workflow["jobs"]["promote"]["steps"]
    assert any("katib-gitops promote" in str(step.get("run", "")) for step in steps)
