"""Issue 13, the error boundary: standard streams, interrupts, errors while reporting, limits, messages, object sizes.

Each test reproduces one case of the issue; the documented exit codes (0, 1 findings, 2 usage
or I/O, 130 interrupted) and the key words of the message are asserted, never a traceback.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_gitops.cli import boundary, console
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.expand import gitops
from tests.helpers import SPEC, TARGETS, generator_parameters, spec, write_specs
from tests.reliability.helpers import ROOT, as_generated, assert_clean_exit, cli, process, tree

EXPERIMENT = "overlays/mnist-tfjob/_base/experiment.yaml"
OVERLAY = "overlays/mnist-tfjob/team-nlp/cpu"
V1ALPHA3 = ROOT / "tests" / "migrate" / "data" / "katib-pytorchjob-experiment.yaml"
KATIB_GITOPS = [sys.executable, "-m", "katib_gitops"]


def shell(cwd: Path, redirect: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The console script with a shell redirection applied (`>&-`, `<&-`, `> /dev/full`, `2>&-`)."""
    return subprocess.run(
        ["sh", "-c", f'exec "$@" {redirect}', "sh", *KATIB_GITOPS, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def repo(tmp_path: Path) -> Path:
    """A copy of the bundled specs, generated once."""
    specs = tmp_path / "specs"
    specs.mkdir()
    for source in (ROOT / "specs").iterdir():
        (specs / source.name).write_text(source.read_text())
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    return tmp_path


def no_traceback(done: subprocess.CompletedProcess[str]) -> str:
    text = done.stdout + done.stderr
    assert "Traceback" not in text and "internal error" not in text, text
    return done.stderr


# ------------------------------------------------------------------ 1. standard streams


@pytest.mark.parametrize(
    "args",
    [
        ["validate", EXPERIMENT],  # the plain pre-commit call, without click
        ["validate", "--format", "json", EXPERIMENT],
        ["rules"],
        ["render", OVERLAY],
        ["migrate", str(V1ALPHA3)],
        ["generate", "--check"],
    ],
    ids=["validate", "validate-json", "rules", "render", "migrate", "generate-check"],
)
def test_a_closed_stdout_is_an_io_error(args: list[str]) -> None:
    done = shell(ROOT, ">&-", *args)
    assert done.returncode == 2, done.stderr
    assert "katib-gitops: error: cannot write to standard output: it is closed" in no_traceback(done)
    assert done.stderr.count("cannot write") == 1, done.stderr  # said once, not again at the last flush


def test_with_stdout_closed_no_file_opened_later_receives_the_output(tmp_path: Path) -> None:
    """Descriptor 1 is put on /dev/null first: the output tree never gets the summary line."""
    root = repo(tmp_path)
    (root / "specs" / "mnist-tfjob.yaml").write_text(
        (root / "specs" / "mnist-tfjob.yaml").read_text().replace("maxTrials: ", "maxTrials: 1")
    )
    done = shell(root, ">&-", "generate")
    assert done.returncode == 2 and "standard output: it is closed" in no_traceback(done)
    assert all(b"updated" not in content for content in tree(root / "overlays").values() if isinstance(content, bytes))
    assert_clean_exit(cli(root, "generate", "--check"), 0)  # the tree was written, whole


@pytest.mark.parametrize(
    "args",
    [["validate", "-"], ["validate", "--format", "text", "-"], ["import", "--dry-run", "-"], ["migrate", "-"]],
    ids=["validate", "validate-click", "import", "migrate"],
)
def test_a_closed_stdin_is_an_io_error(args: list[str], tmp_path: Path) -> None:
    done = shell(tmp_path, "<&-", *args)
    assert done.returncode == 2, done.stderr
    assert "<stdin>: cannot read: standard input is closed" in no_traceback(done)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    "args",
    [["validate", EXPERIMENT], ["validate", "--format", "json", EXPERIMENT], ["rules"], ["migrate", str(V1ALPHA3)]],
    ids=["validate", "validate-json", "rules", "migrate"],
)
def test_a_full_device_is_an_io_error(args: list[str]) -> None:
    done = shell(ROOT, "> /dev/full", *args)
    assert done.returncode == 2, done.stderr
    assert "cannot write to standard output: No space left on device" in no_traceback(done)


@pytest.mark.parametrize("redirect", ["2>&-", "2> /dev/full"])
def test_a_closed_or_full_stderr_keeps_the_exit_code(redirect: str, tmp_path: Path) -> None:
    if "full" in redirect and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labelz: {}}\n")
    assert shell(tmp_path, redirect, "validate", str(broken)).returncode == 1
    assert shell(tmp_path, redirect, "validate", str(tmp_path / "missing.yaml")).returncode == 2
    assert shell(tmp_path, redirect, "migrate", str(broken)).returncode == 0
    assert shell(tmp_path, redirect, "generate", "--specs", str(tmp_path / "none")).returncode == 2
    assert shell(tmp_path, redirect, "validate", "--no-such-option").returncode == 2


# ------------------------------------------------------------------ 1. interrupts


def test_a_ctrl_c_during_option_parsing_is_interrupted_not_aborted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """click makes a Ctrl-C in its parsing `Aborted!`, exit 1 (findings); here it is 130."""
    import click

    def interrupted(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Group, "parse_args", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        console.main(["validate", "--format", "text", EXPERIMENT])
    err = capsys.readouterr().err
    assert exit_info.value.code == 130
    assert "katib-gitops: interrupted" in err and "Aborted" not in err and "Traceback" not in err


def test_a_ctrl_c_while_the_plain_call_loads_is_interrupted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from katib_gitops.commands.validate import command

    def interrupted(*_: Any, **__: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "validate_command", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        console.main(["validate", EXPERIMENT])
    assert exit_info.value.code == 130 and "katib-gitops: interrupted" in capsys.readouterr().err


def _ours(traceback_text: str) -> list[str]:
    """The traceback's frames in the package's own code (its empty package __init__ files aside)."""
    frames = [line for line in traceback_text.splitlines() if line.startswith("  File ")]
    return [f for f in frames if ("katib_gitops/" in f or "/generator/" in f) and '__init__.py", line 0' not in f]


def _median_seconds(command: list[str], env: dict[str, str]) -> float:
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return sorted(samples)[1]


# A Ctrl-C whose handler runs inside a weakref callback (as importlib's module-lock cleanup is, during garbage
# collection): Python cannot raise it there, prints "Exception ignored in" with a traceback, and goes on.
_CTRL_C_IN_A_CALLBACK = """
import signal, sys, weakref
from katib_gitops.cli import boundary

def main():
    class Held:
        pass
    held = Held()
    ref = weakref.ref(held, lambda _: [signal.raise_signal(signal.SIGINT), sum(range(1000))])
    del held  # the callback runs here, and the handler inside it
    for _ in range(10**7):  # a few tenths of a second of work that the Ctrl-C must still stop
        pass
    print("ran to the end")
    return 0

sys.exit(boundary.script(main))
"""


def test_a_ctrl_c_inside_a_weakref_callback_still_interrupts_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CTRL_C_IN_A_CALLBACK], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "katib-gitops: interrupted\n")


@pytest.mark.parametrize("args", [["validate", EXPERIMENT], ["validate", "--format", "text", EXPERIMENT]])
def test_a_ctrl_c_at_any_moment_never_prints_a_traceback_of_ours(args: list[str]) -> None:
    """SIGINT at random moments of a run: start-up imports, click's parsing, the check, the exit.

    What the interpreter does before the first line of katib-gitops runs (site, the import
    system) is Python's own (docs/reliability.md, Limits): such a run is counted, not judged.
    The moments are drawn between the end of a bare interpreter's start-up and the end of a
    whole run, both measured here, so that a slow or loaded machine moves the window with them.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bare = _median_seconds([sys.executable, "-c", "pass"], env)
    whole = _median_seconds([*KATIB_GITOPS, *args], env)
    rng = random.Random(13)
    seen: collections.Counter[str] = collections.Counter()
    for _ in range(30):
        child = subprocess.Popen(
            [*KATIB_GITOPS, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(rng.uniform(bare, max(whole, bare + 0.01)))
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        assert not _ours(err), err
        assert "Aborted" not in err and "internal error" not in err and "panicked" not in err, err
        if "Traceback" in err or "Fatal Python error" in err:
            seen["interpreter start-up"] += 1
        elif child.returncode == 130:
            assert err.strip().endswith("katib-gitops: interrupted"), err
            seen["interrupted"] += 1
        else:
            assert child.returncode in (0, -signal.SIGINT), (child.returncode, err)
            seen["finished or killed first"] += 1
    assert seen["interrupted"] >= 10, seen


# ------------------------------------------------------------------ 1. errors while reporting errors


class _Unprintable(Diagnostic):
    def format(self) -> str:
        raise ValueError("cannot format")


def test_an_error_while_reporting_findings_keeps_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def findings() -> int:
        raise FindingsError([_Unprintable("a.yaml", 1, 1, "x", "y")])

    assert boundary.outcome(findings) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_a_ctrl_c_while_reporting_keeps_the_first_code(monkeypatch: pytest.MonkeyPatch) -> None:
    def say(_message: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(boundary, "say", say)

    def usage() -> int:
        raise UsageError("x: no such file")

    assert boundary.outcome(usage) == 2


def test_a_closed_stderr_while_reporting_keeps_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)

    def usage() -> int:
        raise UsageError("x: no such file")

    assert boundary.outcome(usage) == 2
    assert boundary.outcome(lambda: 1 / 0) == 3


def test_an_interrupt_wrapped_by_a_library_is_still_an_interrupt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pyo3 turns a KeyboardInterrupt inside a Rust extension's import into a PanicException."""
    monkeypatch.setattr(boundary, "_INTERRUPTED", [True])

    def panic() -> int:
        raise RuntimeError("failed to import the stdlib decimal module: KeyboardInterrupt")

    assert boundary.outcome(panic) == 130
    err = capsys.readouterr().err
    assert "katib-gitops: interrupted" in err and "internal error" not in err


# ------------------------------------------------------------------ 2. nesting


def test_100000_nested_brackets_are_a_finding_at_the_file(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 100_000 + "\n")
    for args in (["validate", str(deep)], ["validate", "--format", "text", str(deep)], ["migrate", str(deep)]):
        done = process(tmp_path, *args)
        assert done.returncode == 1 and f"{deep}:1:1001: error: exceeded maximum nesting depth" in done.stdout + (
            done.stderr
        ), done.stderr
        no_traceback(done)


@pytest.mark.parametrize("check", [False, True])
def test_a_deeply_nested_output_manifest_is_exit_2_naming_it(tmp_path: Path, check: bool) -> None:
    root = repo(tmp_path)
    (root / "overlays" / ".katib-gitops-manifest.json").write_text("[" * 100_000)
    done = process(root, "generate", *(["--check"] if check else []))
    assert done.returncode == 2, done.stderr
    assert "overlays/.katib-gitops-manifest.json: not a katib-gitops manifest (nested too deeply)" in no_traceback(done)


def test_deeply_nested_cache_files_are_only_a_slower_run(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    root = repo(tmp_path)
    assert process(root, "validate", "overlays", env=env).returncode == 0
    assert process(root, "generate", env=env).returncode == 0
    cached = [p for p in cache.rglob("*") if p.is_file()]
    assert cached
    for path in cached:
        path.write_text("[" * 100_000)
    assert no_traceback(process(root, "validate", "overlays", env=env)) == ""
    done = process(root, "generate", env=env)
    assert done.returncode == 0, no_traceback(done)


def test_bases_nested_deeper_than_the_limit_are_exit_2(tmp_path: Path) -> None:
    for level in range(150):
        folder = tmp_path / f"k{level:03d}"
        folder.mkdir()
        resources = [f"../k{level + 1:03d}"] if level < 149 else ["cm.yaml"]
        (folder / "kustomization.yaml").write_text(f"resources: {json.dumps(resources)}\n")
    (tmp_path / "k149" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    as_generated(tmp_path)  # the in-process renderer's limit: it serves only katib-gitops' own trees
    done = process(tmp_path, "render", "k000")
    assert done.returncode == 2 and "kustomization bases nested deeper than 100 levels" in no_traceback(done)


# ------------------------------------------------------------------ 3. kustomization messages
# The in-process renderer's messages: it serves trees katib-gitops wrote (`as_generated`: one header line
# more, so lines are one lower than in the text written here).


def _kustomization(tmp_path: Path, text: str, **files: str) -> Path:
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "kustomization.yaml").write_text(text)
    (folder / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    for name, content in files.items():
        (folder / name).write_text(content)
    as_generated(tmp_path)
    return folder


def test_a_missing_patch_file_says_so(tmp_path: Path) -> None:
    _kustomization(tmp_path, "resources: [cm.yaml]\npatches:\n- path: missing.yaml\n  target: {kind: ConfigMap}\n")
    for args in (["render", "k"], ["validate", "k"]):
        text = assert_clean_exit(cli(tmp_path, *args), 1)
        assert "k/kustomization.yaml:4:9: error: patch file 'missing.yaml' does not exist [render]" in text
        assert "only JSON6902" not in text


def test_an_empty_patch_file_says_so(tmp_path: Path) -> None:
    _kustomization(
        tmp_path, "resources: [cm.yaml]\npatches:\n- path: p.yaml\n  target: {kind: ConfigMap}\n", **{"p.yaml": ""}
    )
    text = assert_clean_exit(cli(tmp_path, "render", "k"), 1)
    assert "k/kustomization.yaml:4:3: error: patch is empty: no operations [render]" in text


def test_an_empty_resource_is_not_a_cycle(tmp_path: Path) -> None:
    _kustomization(tmp_path, 'resources: [""]\n')
    text = assert_clean_exit(cli(tmp_path, "render", "k"), 1)
    assert "k/kustomization.yaml:2:13: error: resource is empty: name a file or a folder [render]" in text
    assert "cycle" not in text


def test_a_resource_that_is_its_own_folder_is_a_cycle_at_its_line(tmp_path: Path) -> None:
    _kustomization(tmp_path, "resources: [cm.yaml, ./]\n")
    text = assert_clean_exit(cli(tmp_path, "render", "k"), 1)
    assert "k/kustomization.yaml:2:22: error: resource './' is a kustomization cycle: k -> k [render]" in text


def test_a_spec_reached_through_a_link_is_read_once(tmp_path: Path) -> None:
    write_specs(tmp_path)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    plain = tree(tmp_path / "overlays")
    (tmp_path / "specs" / "link.yaml").symlink_to("demo.yaml")
    text = assert_clean_exit(cli(tmp_path, "generate", "--check"), 0)
    assert "also used in" not in text
    assert tree(tmp_path / "overlays") == plain


# ------------------------------------------------------------------ 4. migrate -


def test_migrate_reads_standard_input() -> None:
    through_stdin = process(ROOT, "migrate", "-", stdin=open(V1ALPHA3))  # noqa: SIM115
    from_file = process(ROOT, "migrate", str(V1ALPHA3))
    assert through_stdin.returncode == 0, through_stdin.stderr
    assert through_stdin.stdout.startswith("# Source: <stdin>\n")
    assert 'apiVersion: "kubeflow.org/v1beta1"' in through_stdin.stdout
    assert through_stdin.stdout.split("\n", 1)[1] == from_file.stdout.split("\n", 1)[1]
    assert "<stdin>:3:1: note:" in through_stdin.stderr


def test_migrate_cannot_write_standard_input_back(tmp_path: Path) -> None:
    text = assert_clean_exit(cli(tmp_path, "migrate", "--write", "-", stdin=V1ALPHA3.read_text()), 2)
    assert "-: standard input cannot be migrated in place" in text


def test_migrate_of_bad_standard_input_names_it(tmp_path: Path) -> None:
    text = assert_clean_exit(cli(tmp_path, "migrate", "-", stdin="a: [\n"), 1)
    assert "<stdin>:2:1: error:" in text


# ------------------------------------------------------------------ 5. object sizes


def _large(tmp_path: Path, namespaces: int = 300, profiles: int = 5, specs: int = 2) -> Path:
    names = [f"team-{index:03d}" for index in range(namespaces)]
    profile_names = [f"p{index}" for index in range(profiles)]
    targets = json.loads(json.dumps(TARGETS))
    targets["spec"]["namespaces"] = names
    targets["spec"]["profiles"] = {
        p: {"resources": {"requests": {"cpu": str(i + 1)}}} for i, p in enumerate(profile_names)
    }
    each = [
        spec(name=f"spec-{index}", targets={"namespaces": names, "profiles": profile_names}) for index in range(specs)
    ]
    write_specs(tmp_path, *each, targets=targets)
    return tmp_path


def _objects(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, document)
        for path in sorted(folder.rglob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def test_no_gitops_object_is_over_the_limit_at_300_namespaces_and_5_profiles(tmp_path: Path) -> None:
    root = _large(tmp_path)
    assert_clean_exit(cli(root, "generate"), 0)
    gitops_dir = root / "overlays" / "_gitops"
    assert sorted(p.name for p in (gitops_dir / "argocd").iterdir()) == [
        "spec-0.applicationset.yaml",
        "spec-1.applicationset.yaml",
    ]
    assert sorted(p.name for p in (gitops_dir / "flux").iterdir()) == [
        "gitrepository.yaml",
        "spec-0.kustomizations.yaml",
        "spec-1.kustomizations.yaml",
    ]
    objects = _objects(gitops_dir)
    assert len(objects) == 2 + 1 + 2 * 300 * 5
    for _, obj in objects:
        assert gitops.json_size(obj) <= gitops.GITOPS_OBJECT_LIMIT, obj["metadata"]["name"]
    appsets = [obj for _, obj in objects if obj["kind"] == "ApplicationSet"]
    assert max(gitops.json_size(a) for a in appsets) < 16 * gitops.KIB  # the sum of the axes, not their product
    for appset in appsets:
        spec_name = appset["metadata"]["name"].rpartition(".")[2]  # <prefix>.<spec>
        (generator,) = appset["spec"]["generators"]
        made = {f"{spec_name}.{p['namespace']}.{p['profile']}" for p in generator_parameters(generator)}
        assert made == {f"{spec_name}.team-{n:03d}.p{p}" for n in range(300) for p in range(5)}
    for experiment in (root / "overlays" / "spec-0" / "_base").glob("experiment.yaml"):
        assert gitops.json_size(yaml.safe_load(experiment.read_text())) <= gitops.EXPERIMENT_LIMIT
    # deterministic: a second run writes nothing
    assert "nothing written" in assert_clean_exit(cli(root, "generate"), 0)


def test_an_application_never_changes_its_application_set_as_the_repository_grows(tmp_path: Path) -> None:
    """Argo CD will not let another ApplicationSet adopt an Application: its owner is its spec's, at any size."""
    write_specs(tmp_path, spec(name="small"), spec(name="other"))
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    argocd = tmp_path / "overlays" / "_gitops" / "argocd"
    before = {p.name: p.read_text() for p in argocd.iterdir()}
    names = [f"team-{n:03d}" for n in range(300)]
    targets = json.loads(json.dumps(TARGETS))
    targets["spec"]["namespaces"] = ["team-a", "team-b", *names]
    grown = spec(name="other", targets={"namespaces": ["team-a", "team-b", *names], "profiles": ["gpu", "cpu"]})
    write_specs(tmp_path, spec(name="small"), grown, targets=targets)
    assert_clean_exit(cli(tmp_path, "generate"), 0)
    after = {p.name: p.read_text() for p in argocd.iterdir()}
    assert set(after) == set(before) == {"other.applicationset.yaml", "small.applicationset.yaml"}
    assert after["small.applicationset.yaml"] == before["small.applicationset.yaml"]
    appset = yaml.safe_load(after["other.applicationset.yaml"])
    assert appset["metadata"]["name"] == "katib-gitops-hpo-6ccb1a.other"  # repository_prefix of its repoURL
    made = {f"{p['namespace']}.{p['profile']}" for p in generator_parameters(appset["spec"]["generators"][0])}
    assert {"team-a.gpu", "team-b.cpu", "team-299.cpu"} <= made and len(made) == 302 * 2


def test_an_experiment_over_the_limit_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    huge = spec(name="huge")
    huge["spec"]["trial"]["command"] = ["python", "-c", "x" * (600 * 1024)]
    write_specs(tmp_path, huge)
    text = assert_clean_exit(cli(tmp_path, "generate"), 2)
    assert "specs/huge.yaml: the Experiment huge-" in text
    assert "over the 512 KiB katib-gitops allows for one object" in text
    assert not (tmp_path / "overlays").exists()


def test_an_application_set_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gitops, "GITOPS_OBJECT_LIMIT", gitops.KIB // 2)
    write_specs(tmp_path, SPEC)
    text = assert_clean_exit(cli(tmp_path, "generate"), 2)
    appset = "katib-gitops-hpo-6ccb1a.demo"  # <repository prefix>.<spec>
    assert f"specs/demo.yaml: the ApplicationSet {appset} would be 1.1 KiB of JSON, over the 0.5 KiB" in text
    assert "split the spec's namespaces over two specs" in text
