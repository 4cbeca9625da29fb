"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit in a throwaway repository.

What the hooks run is this checkout's code as it is on disk. pre-commit can only install hooks from
a Git repository, so `hook_repo` commits a copy of the working tree (tracked and untracked files,
minus what .gitignore ignores) to a temporary repository and the tests point pre-commit at that:

- `pre-commit try-repo` of the checkout itself would take HEAD plus uncommitted changes to tracked
  files only, silently leaving out new files that are not `git add`ed yet (a new module, or
  .pre-commit-hooks.yaml itself before its first commit), so it would test other code than the rest
  of the suite does. On a fresh clone, as in CI, the copy is the same as HEAD.
- try-repo installs the hook environment (pip install of katib-gitops and its dependencies from the
  package index, about 20 s) into a new temporary store on every call, whatever PRE_COMMIT_HOME
  says. The tests therefore call it once, with both hooks in that one call. The commit test uses
  an installed `.pre-commit-config.yaml` with PRE_COMMIT_HOME under its tmp_path, so one
  environment serves both hooks and all of its commits.

Needs git and pre-commit (`pip install -e '.[test]'`), and access to the package index.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from tests.conftest import ROOT, skip_or_fail
from tests.helpers import SPEC, spec, write_specs
from tests.test_ci_recipes import PLACEHOLDER_REV, PLACEHOLDER_URL, PRECOMMIT, fenced_blocks, recipe, section

INSTALL_TIMEOUT = 600  # seconds for one pre-commit call that installs the hook environment


@dataclasses.dataclass(frozen=True)
class Tools:
    git: str
    pre_commit: str
    home: Path  # a clean git configuration lives here


@dataclasses.dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Tools:
    git = shutil.which("git")
    if git is None:
        skip_or_fail("git is not installed: cannot run pre-commit")
    beside = Path(sys.executable).parent / "pre-commit"
    pre_commit = str(beside) if beside.is_file() else shutil.which("pre-commit")
    if pre_commit is None:
        skip_or_fail("pre-commit is not installed (pip install -e '.[test]')")
    home = tmp_path_factory.mktemp("git-home")
    (home / "gitconfig").write_text(
        "[user]\n\tname = katib-gitops tests\n\temail = tests@katib-gitops.invalid\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    return Tools(str(git), str(pre_commit), home)


def environment(tools: Tools, **extra: str) -> dict[str, str]:
    """The caller's environment without any GIT_* variable or user git configuration, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        GIT_CONFIG_GLOBAL=str(tools.home / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_COLOR="never",
        NO_COLOR="1",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, text=True, capture_output=True, timeout=timeout, check=False
    )


def git(tools: Tools, cwd: Path, *args: str) -> str:
    result = run([tools.git, *args], cwd, environment(tools))
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def hook_repo(tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """This checkout's working tree, committed to a repository of its own."""
    listed = run([tools.git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT, environment(tools))
    if listed.returncode != 0:
        skip_or_fail(f"{ROOT} is not a git checkout: {listed.stderr.strip()}")
    copy = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted from the working tree is left out, as a commit would
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    assert (copy / ".pre-commit-hooks.yaml").is_file()
    git(tools, copy, "init", "--quiet")
    git(tools, copy, "add", "--all")
    git(tools, copy, "commit", "--quiet", "--message", "katib-gitops under test")
    return HookRepo(copy, git(tools, copy, "rev-parse", "HEAD").strip())


def user_repo(root: Path, tools: Tools, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A GitOps repository as a team has it: specs/ and the overlays/ generated from them, all staged."""
    root.mkdir()
    git(tools, root, "init", "--quiet")
    write_specs(root)
    regenerate(root, monkeypatch)
    git(tools, root, "add", "--all")
    return root


def regenerate(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.chdir(root)
        result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 0, result.output


def break_spec(root: Path) -> str:
    """Makes specs/demo.yaml invalid; returns the `file:line:column: error: ...` line validate reports."""
    path = root / "specs" / "demo.yaml"
    lines = path.read_text().replace("type: maximize", "type: maximum").splitlines(keepends=True)
    path.write_text("".join(lines))
    (line,) = [n for n, text in enumerate(lines, 1) if "maximum" in text]
    column = lines[line - 1].index("maximum") + 1
    return f"specs/demo.yaml:{line}:{column}: error: 'maximum' is not one of minimize, maximize [schema]"


def hook_status(output: str, name: str) -> str:
    """`Passed`, `Failed` or `Skipped` from pre-commit's `name.....Status` line."""
    statuses: list[str] = re.findall(
        rf"^{re.escape(name)}\.*(?:\([^)]*\))?(Passed|Failed|Skipped)$", output, flags=re.MULTILINE
    )
    (status,) = statuses
    return status


VALIDATE = "katib-gitops validate"
GENERATE = "katib-gitops generate --check"


def test_try_repo_blocks_a_broken_spec_with_file_line(
    tools: Tools, hook_repo: HookRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = user_repo(tmp_path / "user", tools, monkeypatch)
    finding = break_spec(root)
    git(tools, root, "add", "--all")
    # No hook id: both hooks, from one install of the hook environment. (try-repo installs into a store
    # of its own; PRE_COMMIT_HOME only keeps pre-commit's other files out of the user's cache folder.)
    result = run(
        [tools.pre_commit, "try-repo", str(hook_repo.path), "--files", "specs/demo.yaml"],
        root,
        environment(tools, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home")),
        timeout=INSTALL_TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert (hook_status(output, VALIDATE), hook_status(output, GENERATE)) == ("Failed", "Failed"), output
    assert "- hook id: katib-gitops-validate\n- exit code: 1\n" in output
    assert "- hook id: katib-gitops-generate\n- exit code: 1\n" in output
    assert output.count(finding) == 2, output  # once from each hook
    # The failure docs/ci.md shows is the one pre-commit prints.
    (example,) = [b for b in fenced_blocks(section("Use with pre-commit")) if b.text.startswith(VALIDATE)]
    assert example.text.replace("specs/demo.yaml:7:11:", finding.split(" error:")[0]) in output


def install_documented_hooks(
    root: Path, tools: Tools, hook_repo: HookRepo, tmp_path: Path
) -> Callable[[str], tuple[int, str]]:
    """docs/ci.md's .pre-commit-config.yaml in `root`, pointing at the hook repository, installed; returns a
    function that commits everything with a message and gives (exit code, output)."""
    snippet = recipe(PRECOMMIT).text
    assert f"rev: {PLACEHOLDER_REV}\n" in snippet
    config = snippet.replace(PLACEHOLDER_URL, str(hook_repo.path)).replace(
        f"rev: {PLACEHOLDER_REV}\n", f"rev: {hook_repo.rev}\n"
    )
    (root / ".pre-commit-config.yaml").write_text(config)
    env = environment(tools, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    installed = run([tools.pre_commit, "install", "--install-hooks"], root, env, timeout=INSTALL_TIMEOUT)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    def commit(message: str) -> tuple[int, str]:
        git(tools, root, "add", "--all")
        result = run([tools.git, "commit", "--message", message], root, env)
        return result.returncode, result.stdout + result.stderr

    return commit


def test_the_documented_config_blocks_bad_commits_and_passes_good_ones(
    tools: Tools, hook_repo: HookRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = user_repo(tmp_path / "user", tools, monkeypatch)
    commit = install_documented_hooks(root, tools, hook_repo, tmp_path)

    def commits() -> int:
        return int(git(tools, root, "rev-list", "--count", "HEAD"))

    # A good change: specs, generated overlays (Argo CD and Flux objects too) and the config itself.
    code, output = commit("specs and overlays")
    assert code == 0, output
    assert (hook_status(output, VALIDATE), hook_status(output, GENERATE)) == ("Passed", "Passed"), output
    assert commits() == 1

    # A broken spec is refused by both hooks, with the finding's file, line and column.
    finding = break_spec(root)
    code, output = commit("broken spec")
    assert code == 1 and output.count(finding) == 2, output
    assert commits() == 1

    # A valid spec change without regenerating: valid, but overlays/ is stale.
    git(tools, root, "checkout", "--", "specs/demo.yaml")
    write_specs(root, spec(budget={**SPEC["spec"]["budget"], "maxTrials": 20}))
    code, output = commit("spec only")
    assert code == 1, output
    assert (hook_status(output, VALIDATE), hook_status(output, GENERATE)) == ("Passed", "Failed"), output
    assert (
        "overlays/demo/_base/experiment.yaml: differs" in output
        and "overlays: out of date; run `katib-gitops generate`" in output
    )
    assert commits() == 1

    # ... which `katib-gitops generate` fixes.
    regenerate(root, monkeypatch)
    code, output = commit("spec and regenerated overlays")
    assert code == 0, output
    assert commits() == 2

    # A commit that touches neither YAML nor specs/ or overlays/ runs neither hook.
    (root / "NOTES.md").write_text("notes\n")
    code, output = commit("notes")
    assert code == 0, output
    assert (hook_status(output, VALIDATE), hook_status(output, GENERATE)) == ("Skipped", "Skipped"), output


# YAML a typical repository holds that is no Kubernetes manifest (issue 12, item 7): none has apiVersion,
# kind or metadata, so the validate hook passes it over with a note instead of refusing the commit.
ORDINARY_YAML = {
    ".yamllint": "extends: default\nrules:\n  line-length: {max: 120}\n",
    "mkdocs.yml": "site_name: Our models\nnav:\n  - Home: index.md\n",
    "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n    restart: 'no'\n",
    "charts/trainer/values.yaml": "replicaCount: 1\nimage:\n  repository: trainer\n  tag: latest\n",
    # kustomize reads a kustomization file without apiVersion and kind as a Kustomization.
    "deploy/kustomization.yaml": "resources:\n  - configmap.yaml\n",
    "deploy/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n",
}


def test_the_hooks_pass_a_repository_of_ordinary_yaml_and_the_config_file_narrows_them(
    tools: Tools, hook_repo: HookRepo, tmp_path: Path
) -> None:
    root = tmp_path / "user"
    root.mkdir()
    git(tools, root, "init", "--quiet")
    for name, text in ORDINARY_YAML.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    commit = install_documented_hooks(root, tools, hook_repo, tmp_path)
    env = environment(tools, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))

    # Out of the box: every file passes, the non-manifests with a note, the kustomization as one.
    code, output = commit("ordinary yaml")
    assert code == 0, output
    assert (hook_status(output, VALIDATE), hook_status(output, GENERATE)) == ("Passed", "Skipped"), output
    shown = run([tools.pre_commit, "run", "katib-gitops-validate", "--all-files", "--verbose"], root, env)
    output = shown.stdout + shown.stderr
    assert shown.returncode == 0, output
    for name in (".yamllint", "mkdocs.yml", "docker-compose.yml", "charts/trainer/values.yaml"):
        assert f"note: {name}: passed over: not a Kubernetes manifest" in output, output
    # require_serial: one process for all files, so one summary (pre-commit would otherwise split them).
    assert output.count(" warnings in ") == 1, output

    # The configuration file: inside its paths every YAML file must be a manifest; a broken one is refused
    # with its file:line:column, a skipped rule no longer fires, and ignored paths are never read.
    (root / ".katib-gitops.yaml").write_text(
        "paths: [deploy]\nignore: [charts/]\n"
        "skip:\n  - rule: schema\n    reason: settings.yaml carries a field our admission webhook strips\n"
    )
    (root / "deploy" / "values.yaml").write_text("replicaCount: 1\n")
    (root / "charts" / "trainer" / "templates").mkdir()
    (root / "charts" / "trainer" / "templates" / "job.yaml").write_text("kind: Job\n{{ .Values.job }}\n")
    code, output = commit("a values file among the manifests")
    assert code == 1, output
    assert "deploy/values.yaml:1:1: error: apiVersion and kind missing: cannot tell what this is [document]" in output
    assert "charts/trainer/templates/job.yaml" not in output.split("note:")[0]  # ignored, only noted
    assert output.count(" warnings in ") == 1, output
    (root / "deploy" / "values.yaml").unlink()
    (root / "deploy" / "configmap.yaml").write_text(ORDINARY_YAML["deploy/configmap.yaml"] + "bogus: 1\n")
    code, output = commit("the configured skip")
    assert code == 0, output
