"""Health of Katib Experiments and Trials in Argo CD (Lua) and Flux (CEL healthCheckExprs): gitops.health.

The fixtures are status blocks as Katib's controllers leave them: condition types, messages and reasons of
pkg/controller.v1beta1/experiment/util/status_util.go (UpdateExperimentStatusCondition),
experiment_controller.go (Reconcile, ReconcileTrials), trial/trial_controller.go and trial_controller_util.go
(UpdateTrialStatusCondition), earlystopping/v1beta1/medianstop/service.py, with the append-on-change and
flip-Running-to-False behaviour of setCondition and the Mark* functions of
pkg/apis/controller/{experiments,trials}/v1beta1/util.go, replayed by `Conditions` below.

The Lua runs in Lua 5.1 (lupa), Argo CD's dialect (gopher-lua), with only the libraries Argo CD opens by
default (util/lua/lua.go runLuaWithResourceActionParameters: base, table, package and a safe os; no string
library). The CEL runs in the project's CEL library, in Flux's order (fluxcd/pkg runtime/cel
status_evaluator.go Evaluate: inProgress, failed, current, else InProgress; an evaluation error leaves the
object Unknown, kstatus's generic status reader, and Flux polls on).
"""

from __future__ import annotations

import copy
import functools
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_gitops.expand import health
from katib_gitops.schema import crd
from tests.conftest import ROOT, skip_or_fail
from tests.helpers import SPEC, TARGETS, write_specs

# ------------------------------------------------------------------ Katib's conditions, replayed


class Conditions:
    """status.conditions as Katib's setCondition writes them: one per type, removed and appended again on change."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def set(self, type_: str, status: str, reason: str, message: str) -> Conditions:
        current = next((c for c in self.items if c["type"] == type_), None)
        if current is not None and current["status"] == status and current["reason"] == reason:
            return self
        self.items = [c for c in self.items if c["type"] != type_]
        self.items.append({"type": type_, "status": status, "reason": reason, "message": message})
        return self

    def remove(self, type_: str) -> Conditions:
        self.items = [c for c in self.items if c["type"] != type_]
        return self

    def finish(self, type_: str, reason: str, message: str) -> Conditions:
        """MarkExperimentStatusSucceeded/Failed, MarkTrialStatusSucceeded/Failed/Killed/MetricsUnavailable."""
        running = next((c for c in self.items if c["type"] == "Running"), None)
        if running is not None:
            self.set("Running", "False", running["reason"], running["message"])
        return self.set(type_, "True", reason, message)

    def restart(self) -> Conditions:
        """MarkExperimentStatusRestarting: Succeeded and Failed removed, Restarting set (and never removed)."""
        self.remove("Succeeded").remove("Failed")
        return self.set("Restarting", "True", "ExperimentRestarting", "Experiment is restarted")

    def status(self) -> dict[str, Any]:
        return {"conditions": copy.deepcopy(self.items)}


def experiment_created() -> Conditions:
    return Conditions().set("Created", "True", "ExperimentCreated", "Experiment is created")


def experiment_running() -> Conditions:
    return experiment_created().set("Running", "True", "ExperimentRunning", "Experiment is running")


def trial_created() -> Conditions:
    return Conditions().set("Created", "True", "TrialCreated", "Trial is created")


def trial_running() -> Conditions:
    return trial_created().set("Running", "True", "TrialRunning", "Trial is running")


MAX_TRIALS = "Experiment has succeeded because max trial count has reached"
GOAL = "Experiment has succeeded because Objective goal has reached"
MAX_FAILED = "Experiment has failed because max failed count has reached"
WAIT_EXPERIMENT = "Waiting for Katib to report the Experiment's conditions"
WAIT_TRIAL = "Waiting for Katib to report the Trial's conditions"

# name -> (status or None for no status at all, Argo CD status, Argo CD message, Flux result)
EXPERIMENTS: dict[str, tuple[dict[str, Any] | None, str, str, str]] = {
    "no status: Katib has not reconciled it yet": (None, "Progressing", WAIT_EXPERIMENT, "Unknown"),
    "an empty status": ({}, "Progressing", WAIT_EXPERIMENT, "InProgress"),
    "Created: the Suggestion is starting": (
        experiment_created().status(),
        "Progressing",
        "Experiment is created",
        "InProgress",
    ),
    "Running": (experiment_running().status(), "Progressing", "Experiment is running", "Current"),
    "Succeeded at maxTrialCount, Running flipped to False": (
        experiment_running().finish("Succeeded", "ExperimentMaxTrialsReached", MAX_TRIALS).status(),
        "Healthy",
        MAX_TRIALS,
        "Current",
    ),
    "Succeeded at the objective goal": (
        experiment_running().finish("Succeeded", "ExperimentGoalReached", GOAL).status(),
        "Healthy",
        GOAL,
        "Current",
    ),
    "Failed at maxFailedTrialCount": (
        experiment_running().finish("Failed", "ExperimentFailed", MAX_FAILED).status(),
        "Degraded",
        MAX_FAILED,
        "Failed",
    ),
    "Failed because its Suggestion failed": (
        experiment_running().finish("Failed", "ExperimentFailed", "Suggestion has failed").status(),
        "Degraded",
        "Suggestion has failed",
        "Failed",
    ),
    "Restarting after maxTrialCount was raised": (
        experiment_running().finish("Succeeded", "ExperimentMaxTrialsReached", MAX_TRIALS).restart().status(),
        "Progressing",
        "Experiment is restarted",
        "Current",
    ),
    "Running again after a restart: the latest True condition speaks": (
        experiment_running()
        .finish("Succeeded", "ExperimentMaxTrialsReached", MAX_TRIALS)
        .restart()
        .set("Running", "True", "ExperimentRunning", "Experiment is running")
        .status(),
        "Progressing",
        "Experiment is running",
        "Current",
    ),
    "Succeeded again after a restart: Restarting stays True": (
        experiment_running()
        .finish("Succeeded", "ExperimentMaxTrialsReached", MAX_TRIALS)
        .restart()
        .set("Running", "True", "ExperimentRunning", "Experiment is running")
        .finish("Succeeded", "ExperimentMaxTrialsReached", MAX_TRIALS)
        .status(),
        "Healthy",
        MAX_TRIALS,
        "Current",
    ),
    "only a condition type Katib does not define": (
        {"conditions": [{"type": "Paused", "status": "True", "message": "x"}]},
        "Progressing",
        WAIT_EXPERIMENT,
        "InProgress",
    ),
    "Failed without a message: its reason": (
        {"conditions": [{"type": "Failed", "status": "True", "reason": "ExperimentFailed"}]},
        "Degraded",
        "ExperimentFailed",
        "Failed",
    ),
}

TRIALS: dict[str, tuple[dict[str, Any] | None, str, str]] = {
    "no status": (None, "Progressing", WAIT_TRIAL),
    "Created": (trial_created().status(), "Progressing", "Trial is created"),
    "Running": (trial_running().status(), "Progressing", "Trial is running"),
    "Succeeded": (
        trial_running().finish("Succeeded", "TrialSucceeded", "Trial has succeeded").status(),
        "Healthy",
        "Trial has succeeded",
    ),
    "Failed, with the job's message": (
        trial_running()
        .finish("Failed", "TrialFailed. Job reason: BackoffLimitExceeded", "Trial has failed. Job message: OOMKilled")
        .status(),
        "Degraded",
        "Trial has failed. Job message: OOMKilled",
    ),
    "MetricsUnavailable: counted as failed by Katib": (
        trial_running().finish("MetricsUnavailable", "MetricsUnavailable", "Metrics are not available").status(),
        "Degraded",
        "Metrics are not available",
    ),
    "EarlyStopped: medianstop appends it and leaves Running True": (
        trial_running().set("EarlyStopped", "True", "TrialEarlyStopped", "Trial is early stopped").status(),
        "Healthy",
        "Trial is early stopped",
    ),
    "Killed: completed, not failed": (
        trial_running().finish("Killed", "TrialKilled", "Trial is killed").status(),
        "Healthy",
        "Trial is killed",
    ),
}


def katib_object(kind: str, status: dict[str, Any] | None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": health.API_VERSION,
        "kind": kind,
        "metadata": {"name": "demo-1a2b3c4d", "namespace": "team-a", "generation": 1},
        "spec": {},
    }
    if status is not None:
        obj["status"] = status
    return obj


# ------------------------------------------------------------------ the generated output, health on


def health_targets(**gitops_settings: Any) -> dict[str, Any]:
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["gitops"].update(gitops_settings)
    return targets


def generate(root: Path, targets: dict[str, Any]) -> Path:
    from click.testing import CliRunner

    from katib_gitops.cli.main import main

    specs = write_specs(root, SPEC, targets=targets)
    out = root / "overlays"
    result = CliRunner().invoke(main, ["generate", "--specs", str(specs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def health_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("health"), health_targets(health=True))


@pytest.fixture(scope="module")
def argocd_cm(health_output: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((health_output / "_gitops" / "argocd-cm" / "health.yaml").read_text())
    return loaded


def kustomizations(out: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((out / "_gitops" / "flux" / "demo.kustomizations.yaml").read_text()))


# ------------------------------------------------------------------ Argo CD: the Lua, in Lua 5.1


@functools.cache
def _lua() -> Any:
    try:
        from lupa import lua51
    except ImportError:
        return None
    runtime = lua51.LuaRuntime(unpack_returned_tuples=False)
    # gopher-lua without the string library has no string methods either.
    runtime.execute('getmetatable("").__index = nil')
    return runtime


@pytest.fixture
def lua() -> Any:
    runtime = _lua()
    if runtime is None:
        skip_or_fail("lupa (Lua 5.1 for Python, the `test` extra) is not installed: cannot run the Lua health checks")
    return runtime


SANDBOX = """
local script, obj = ...
local chunk = assert(loadstring(script, "health.lua"))
local env = {obj = obj, table = table, os = {time = os.time, date = os.date, clock = os.clock}}
for _, name in ipairs({"assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal", "rawget",
                       "rawset", "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type",
                       "unpack", "xpcall", "_VERSION"}) do
  env[name] = _G[name]
end
setfenv(chunk, env)
return chunk()
"""


def run_lua(lua: Any, script: str, obj: dict[str, Any]) -> dict[str, Any]:
    """What Argo CD's ExecuteHealthLua reads from the script's returned table."""
    result = lua.execute(SANDBOX, script, lua.table_from(obj, recursive=True))
    assert lua.globals().type(result) == "table"
    table = dict(result.items())
    assert set(table) <= {"status", "message"}, table
    # Argo CD turns any other status into Unknown ("invalid health status"): isValidHealthStatusCode.
    assert table["status"] in {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}
    return table


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_argocd_experiment_health_from_katibs_conditions(name: str, lua: Any, argocd_cm: dict[str, Any]) -> None:
    """Failed=True is Degraded with Katib's message, Succeeded=True Healthy (it wins over a Restarting that is
    never removed), Created/Running/Restarting Progressing with the latest one's message, nothing yet Progressing."""
    status, expected, message, _ = EXPERIMENTS[name]
    script = argocd_cm["data"]["resource.customizations.health.kubeflow.org_Experiment"]
    assert run_lua(lua, script, katib_object("Experiment", status)) == {"status": expected, "message": message}


@pytest.mark.parametrize("name", list(TRIALS))
def test_argocd_trial_health_from_katibs_conditions(name: str, lua: Any, argocd_cm: dict[str, Any]) -> None:
    """Failed and MetricsUnavailable (both count towards maxFailedTrialCount) are Degraded; Succeeded, EarlyStopped
    and Killed (completed, not failed) Healthy; Created and Running Progressing."""
    status, expected, message = TRIALS[name]
    script = argocd_cm["data"]["resource.customizations.health.kubeflow.org_Trial"]
    assert run_lua(lua, script, katib_object("Trial", status)) == {"status": expected, "message": message}


def test_argocd_health_survives_null_and_odd_conditions(lua: Any) -> None:
    """Conditions without a type or status, and a null list, read as 'nothing reported yet', never a Lua error
    (a script error shows as Unknown, the worst health Argo CD aggregates: gitops-engine health.go healthOrder)."""
    script = health.lua_script(health.EXPERIMENT)
    for status in ({"conditions": None}, {"conditions": [{"status": "True"}, {"type": "Failed"}]}):
        obj = katib_object("Experiment", status)
        assert run_lua(lua, script, obj) == {"status": "Progressing", "message": WAIT_EXPERIMENT}


def test_the_argocd_cm_patch_holds_one_key_per_kind_in_argocds_format(argocd_cm: dict[str, Any]) -> None:
    """`resource.customizations.health.<group>_<kind>` in argocd-cm, one key per kind (wildcards work only under
    `resource.customizations`: argo-cd docs/operator-manual/health.md); nothing else is in the patch."""
    assert argocd_cm["metadata"] == {
        "name": "argocd-cm",
        "namespace": "argocd",
        "labels": {"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"},
    }
    assert sorted(argocd_cm["data"]) == [
        "resource.customizations.health.kubeflow.org_Experiment",
        "resource.customizations.health.kubeflow.org_Trial",
    ]
    assert argocd_cm["data"]["resource.customizations.health.kubeflow.org_Trial"] == health.lua_script(health.TRIAL)


def test_the_lua_needs_no_library_argocd_leaves_closed() -> None:
    """Argo CD opens no string, math or io library unless useOpenLibs is set for the kind (health.md)."""
    for kind in health.KINDS:
        script = health.lua_script(kind)
        for library in ("string.", "math.", "io.", "require", ":sub(", ":find(", ":match(", ":format("):
            assert library not in script, (kind.kind, library)
        assert "\t" not in script and all(line == line.rstrip() for line in script.splitlines())


def test_the_patch_says_how_to_apply_it_and_where_argocd_runs(tmp_path: Path) -> None:
    out = generate(tmp_path, health_targets(health=True, argocd={"namespace": "gitops"}))
    text = (out / "_gitops" / "argocd-cm" / "health.yaml").read_text()
    patch = "kubectl patch configmap argocd-cm -n gitops --type strategic --patch-file "
    assert f"{patch}overlays/_gitops/argocd-cm/health.yaml\n" in text
    assert "not an object to apply on its own" in text
    assert yaml.safe_load(text)["metadata"]["namespace"] == "gitops"


def test_the_patch_merges_into_an_existing_argocd_cm_with_kustomize(tmp_path: Path, kubectl: str) -> None:
    """A strategic-merge patch of argocd-cm: the health keys join the keys a platform team already set."""
    out = generate(tmp_path / "gen", health_targets(health=True))
    install = tmp_path / "argocd"
    install.mkdir()
    existing = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": "argocd"},
        "data": {"url": "https://argocd.example.com", "timeout.reconciliation": "180s"},
    }
    (install / "argocd-cm.yaml").write_text(yaml.safe_dump(existing))
    (install / "health.yaml").write_text((out / "_gitops" / "argocd-cm" / "health.yaml").read_text())
    (install / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["argocd-cm.yaml"], "patches": [{"path": "health.yaml"}]})
    )
    built = subprocess.run([kubectl, "kustomize", str(install)], capture_output=True, text=True, check=True).stdout
    merged = yaml.safe_load(built)
    assert merged["data"] == {
        "url": "https://argocd.example.com",
        "timeout.reconciliation": "180s",
        "resource.customizations.health.kubeflow.org_Experiment": health.lua_script(health.EXPERIMENT),
        "resource.customizations.health.kubeflow.org_Trial": health.lua_script(health.TRIAL),
    }


def test_the_output_with_health_validates(health_output: Path, shared: Path) -> None:
    """`katib-gitops validate` on the whole output (the ConfigMap against Kubernetes' schema, the Kustomizations
    against the upstream Flux CRD given with --crd): clean."""
    from click.testing import CliRunner

    from katib_gitops.cli.main import main

    flux_crd = shared / "upstream" / "flux" / "crds" / "kustomize.toolkit.fluxcd.io_kustomizations.yaml"
    result = CliRunner().invoke(main, ["validate", "--crd", str(flux_crd), str(health_output)])
    assert result.exit_code == 0 and "0 errors, 0 warnings" in result.output, result.output


# ------------------------------------------------------------------ Flux: the CEL, in Flux's order


def flux_result(checks: list[dict[str, Any]], obj: dict[str, Any]) -> str:
    """fluxcd/pkg runtime/cel StatusEvaluator.Evaluate for the entry of obj's kind; Unknown on an error."""
    import cel

    (entry,) = [c for c in checks if c["kind"] == obj["kind"] and c["apiVersion"].split("/")[0] == health.GROUP]
    observed = obj.get("status", {}).get("observedGeneration")
    if isinstance(observed, int) and observed != obj["metadata"].get("generation"):
        return "InProgress"
    for field, result in (("inProgress", "InProgress"), ("failed", "Failed"), ("current", "Current")):
        if field not in entry:
            continue
        try:
            value = cel.compile(entry[field]).execute(obj)
        except Exception:  # Flux: the error becomes the object's status Unknown, polled again
            return "Unknown"
        assert isinstance(value, bool), (field, value)
        if value:
            return result
    return "InProgress"


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_flux_experiment_health_from_katibs_conditions(name: str, health_output: Path) -> None:
    """Failed=True fails the health check; Running, Restarting and Succeeded are Current, so the wait ends once
    Katib runs the Experiment, not hours later; Created and no conditions are InProgress; no status is Unknown."""
    status, _, _, expected = EXPERIMENTS[name]
    (kustomization, *_) = kustomizations(health_output)
    assert flux_result(kustomization["spec"]["healthCheckExprs"], katib_object("Experiment", status)) == expected


def test_flux_never_reads_an_empty_condition_list_as_all_true() -> None:
    """`filter(...).all(...)` is true of an empty list; the expressions use `exists`, so a Created-only Experiment
    is neither current nor failed."""
    checks = health.flux_health_checks()
    assert all(".all(" not in expr for check in checks for expr in check.values())
    obj = katib_object("Experiment", experiment_created().status())
    assert flux_result(checks, obj) == "InProgress"


def test_generated_kustomizations_with_health_wait_and_validate_upstream(health_output: Path, shared: Path) -> None:
    """healthCheckExprs take effect only with `wait` or `healthChecks` (the CRD's description); `timeout` is 5m
    whatever the interval (Flux's default would be the interval); valid against the upstream Flux Kustomization CRD."""
    found = kustomizations(health_output)
    assert len(found) == 4
    schema = crd.load_crds(shared / "upstream" / "flux" / "crds")[("kustomize.toolkit.fluxcd.io", "Kustomization")]
    for kustomization in found:
        spec = kustomization["spec"]
        assert spec["wait"] is True and spec["timeout"] == "5m" and "healthChecks" not in spec
        assert spec["healthCheckExprs"] == health.flux_health_checks()
        assert crd.validate(kustomization, schema) == []


def test_trials_get_no_flux_entry_katib_creates_them() -> None:
    """Flux health-checks only what it applies (kustomize-controller checkHealth: the change set); Katib creates
    Trials, so only the Experiment has an entry."""
    assert [(c["apiVersion"], c["kind"]) for c in health.flux_health_checks()] == [
        ("kubeflow.org/v1beta1", "Experiment")
    ]


# ------------------------------------------------------------------ off by default


def test_health_off_writes_what_was_written_before(tmp_path: Path) -> None:
    """Without the setting, or with `health: false`, no argocd-cm patch and the same Kustomizations, byte for byte."""
    default = generate(tmp_path / "default", health_targets())
    off = generate(tmp_path / "off", health_targets(health=False))
    assert files(default) == files(off)
    assert not (default / "_gitops" / "argocd-cm").exists()
    assert all(k["spec"]["wait"] is False and "healthCheckExprs" not in k["spec"] for k in kustomizations(default))
    assert all("timeout" not in k["spec"] for k in kustomizations(default))


def files(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def test_health_must_be_a_boolean(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from katib_gitops.cli.main import main

    specs = write_specs(tmp_path, SPEC, targets=health_targets(health="yes please"))
    result = CliRunner().invoke(main, ["generate", "--specs", str(specs), "--out", str(tmp_path / "overlays")])
    assert result.exit_code == 1, result.output
    assert "targets.yaml" in result.output and "health" in result.output


def test_the_committed_targets_leave_health_off() -> None:
    """The bundled specs keep the committed overlays as they are (no argocd-cm patch)."""
    assert not (ROOT / "overlays" / "_gitops" / "argocd-cm").exists()


# ------------------------------------------------------------------ the docs state the same mapping


def test_docs_mapping_table_is_the_modules() -> None:
    """docs/gitops.md's table lists every condition with the statuses health.py gives it, and nothing else."""
    text = (ROOT / "docs" / "gitops.md").read_text()
    section = text.split("## Health", 1)[1].split("\n## ", 1)[0]
    rows = {
        tuple(cell.strip().strip("`") for cell in line.strip("|").split("|")[:4])
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| kind") and "---" not in line
    }
    expected = {(k.kind, c.type, c.argocd, c.flux if k.flux else "-") for k in health.KINDS for c in k.conditions}
    expected |= {(k.kind, "none", "Progressing", "inProgress" if k.flux else "-") for k in health.KINDS}
    assert {r for r in rows if len(r) == 4 and r[0] in ("Experiment", "Trial")} == expected
    assert all(expr in section for check in health.flux_health_checks() for expr in check.values())
    shown = "".join(f"    {line}\n" if line else "\n" for line in health.lua_script(health.EXPERIMENT).splitlines())
    assert shown in section
