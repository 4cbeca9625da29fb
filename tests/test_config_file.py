"""The configuration file .katib-gitops.yaml (issue 12, item 7): found, checked, and read by every command.

What a team sets once (paths to check and to ignore, CRDs, katib-config, Kubernetes and Katib
versions, skipped rules with a reason) lives in one file; options on the command line win.
A problem in the file is a usage error (exit 2) at its file:line:column [config].
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli import config as cli_config
from katib_gitops.cli.main import main
from katib_gitops.commands.validate import command
from katib_gitops.kustomize.scope import Scope, not_a_manifest
from katib_gitops.schema import ours

ENTRY = "import sys; from katib_gitops.cli.console import entry; sys.argv = ['katib-gitops', *sys.argv[1:]]; entry()"
# A ConfigMap with a field ConfigMaps do not have: the API server's strict field validation refuses it [schema].
BAD_CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nbogus: 1\n"
GOOD_CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"


def console(cwd: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-c", ENTRY, *args], input=stdin, capture_output=True, text=True, cwd=cwd)
    return done.returncode, done.stdout, done.stderr


def repository(root: Path, config: str | None = None, **files: str) -> Path:
    """A repository root (a `.git` folder bounds the search), its configuration file and `files` by path."""
    (root / ".git").mkdir(parents=True)
    if config is not None:
        (root / ".katib-gitops.yaml").write_text(config)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# ------------------------------------------------------------------ finding the file


def test_the_file_is_found_from_the_working_folder_up_to_the_repository_root(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", "paths: [deploy]\n")
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    assert cli_config.find(deep) == (root / ".katib-gitops.yaml").absolute()
    # A nearer one wins.
    (root / "a" / ".katib-gitops.yaml").write_text("{}\n")
    assert cli_config.find(deep) == (root / "a" / ".katib-gitops.yaml").absolute()


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".katib-gitops.yaml").write_text("paths: [x]\n")  # above the repository: not this repository's
    root = repository(tmp_path / "repo")
    assert cli_config.find(root) is None
    assert cli_config.discover(cwd=root) is None


def test_an_empty_file_is_an_empty_configuration(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", "# nothing set yet\n")
    config = cli_config.load(root / ".katib-gitops.yaml", ".katib-gitops.yaml")
    assert (config.paths, config.ignore, config.crds, config.skip) == ((), (), (), ())


def test_its_schema_is_a_valid_draft_2020_12_schema_and_ships_with_the_others() -> None:
    from jsonschema import Draft202012Validator

    path = ours.schema_path(cli_config.SCHEMA_NAME)
    assert path.parent == ours.schema_dir()
    Draft202012Validator.check_schema(json.loads(path.read_text()))


# ------------------------------------------------------------------ problems in the file


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("paths: [deploy]\nbogus: 1\n", "2:1", "unknown field 'bogus'"),
        # 0.19 unquoted is the float 0.19 to every YAML reader: a version is text, and 0.10 would lose its zero.
        ("katibVersion: 0.19\n", "1:15", "0.19 is not of type 'string'"),
        ('kubernetesVersion: "latest"\n', "1:20", "does not match"),
        ("skip:\n  - rule: TT-R4\n", "2:5", "'reason' is required"),
        ("skip:\n  - {rule: TT-R4, reason: ''}\n", "2:27", "should be non-empty"),
        ("paths: deploy\n", "1:8", "'deploy' is not of type 'array'"),
        ("paths: [a\n", "2:1", ""),  # a YAML syntax error
        ("paths: [a]\n---\npaths: [b]\n", "3:1", "holds one document"),
    ],
)
def test_a_problem_is_reported_at_file_line_column_and_exits_2(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    root = repository(tmp_path / "repo", text, **{"a.yaml": GOOD_CONFIGMAP})
    for args in (["validate", "a.yaml"], ["validate", "--", "a.yaml"], ["generate", "--check"], ["migrate", "a.yaml"]):
        code, out, err = console(root, *args)
        assert code == 2, (args, out, err)
        assert f".katib-gitops.yaml:{where}: error: " in err and message in err, (args, err)
        assert "Traceback" not in err
    code, _, err = console(root, "validate", "--no-config", "a.yaml")
    assert code == 0, err  # --no-config reads none


def test_config_rule_is_registered_and_listed() -> None:
    from katib_gitops.cli.catalog import all_rules

    assert "config" in {r.id for r in all_rules()}


def test_config_and_no_config_together_is_a_usage_error(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", "{}\n", **{"a.yaml": GOOD_CONFIGMAP})
    code, _, err = console(root, "validate", "--config", ".katib-gitops.yaml", "--no-config", "a.yaml")
    assert code == 2 and "choose one" in err
    code, _, err = console(root, "validate", "--config", "missing.yaml", "a.yaml")
    assert code == 2 and "--config missing.yaml: no such file" in err


# ------------------------------------------------------------------ what the commands take from it


def test_validate_checks_the_configured_paths_when_none_is_named(tmp_path: Path) -> None:
    root = repository(
        tmp_path / "repo",
        "paths: [deploy]\n",
        **{"deploy/bad.yaml": BAD_CONFIGMAP, "elsewhere/bad.yaml": BAD_CONFIGMAP},
    )
    code, out, _ = console(root, "validate")
    assert code == 1 and "deploy/bad.yaml:5:1: error: " in out and "elsewhere" not in out, out
    # From a subfolder the configured paths still mean the same folders (relative to the file's folder).
    (root / "sub").mkdir()
    code, out, _ = console(root / "sub", "validate")
    assert code == 1 and "../deploy/bad.yaml:5:1: error: " in out, out


def test_skipped_rules_come_from_the_file_and_the_command_line_wins(tmp_path: Path) -> None:
    root = repository(
        tmp_path / "repo",
        "skip:\n  - rule: schema\n    reason: our ConfigMaps carry a field a mutating webhook removes\n",
        **{"bad.yaml": BAD_CONFIGMAP},
    )
    assert console(root, "validate", "bad.yaml")[0] == 0  # the plain call (the pre-commit hook's) reads it
    assert console(root, "validate", "--", "bad.yaml")[0] == 0  # and so does click
    code, out, _ = console(root, "validate", "--skip", "TT-R4", "bad.yaml")  # an option given replaces the list
    assert code == 1 and "[schema]" in out, out
    code, out, _ = console(root, "validate", "--no-config", "bad.yaml")
    assert code == 1 and "[schema]" in out, out
    # --config FILE names another file (paths in it are relative to its own folder).
    other = tmp_path / "other.yaml"
    other.write_text("{}\n")
    assert console(root, "validate", "--config", str(other), "bad.yaml")[0] == 1


def test_option_defaults_for_each_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repository(
        tmp_path / "repo",
        "crds: [crds]\nkatibConfig: cluster/katib-config.yaml\nkubernetesVersion: '1.31'\n"
        "katibVersion: '0.17'\npaths: [deploy]\nignore: [charts/]\n"
        "skip:\n  - {rule: TT-R4, reason: launcher pods are fine}\n",
    )
    monkeypatch.chdir(root)
    config = cli_config.discover()
    assert config is not None
    assert cli_config.defaults(config, "validate") == {
        "katib_config": "cluster/katib-config.yaml",
        "katib_version": "0.17",
        "paths": ("deploy",),
        "crd_paths": ("crds",),
        "kubernetes_version": "1.31",
        "skip": ("TT-R4",),
    }
    assert cli_config.defaults(config, "generate") == {
        "katib_config": "cluster/katib-config.yaml",
        "katib_version": "0.17",
    }
    assert cli_config.defaults(config, "migrate") == {"katib_version": "0.17"}
    assert cli_config.defaults(config, "import") == {}

    # Through click: validate gets them (and the file's scope); a given option wins.
    seen: dict[str, Any] = {}

    def record(paths: tuple[str, ...], **options: Any) -> int:
        seen.clear()
        seen.update(options, paths=paths)
        return 0

    monkeypatch.setattr(command, "validate_command", record)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert seen["paths"] == ("deploy",) and seen["crds"] == (Path("crds"),)
    assert (seen["katib_version"], seen["kubernetes_version"], seen["skip"]) == ((0, 17), "1.31", ("TT-R4",))
    assert seen["katib_config"] == Path("cluster/katib-config.yaml")
    assert seen["scope"] == config.scope and seen["scope"].ignore == ("charts/",)
    result = CliRunner().invoke(main, ["validate", "--katib-version", "0.19", "x.yaml"])
    assert result.exit_code == 0, result.output
    assert (seen["paths"], seen["katib_version"], seen["skip"]) == (("x.yaml",), (0, 19), ("TT-R4",))
    # The plain call (no option) passes the same as click does.
    plain = cli_config.validate_arguments(config)
    result = CliRunner().invoke(main, ["validate", "x.yaml"])
    assert {k: seen[k] for k in plain} == plain

    # generate and migrate take the Katib version (and generate the katib-config).
    from katib_gitops.commands import migrate as migrate_core
    from katib_gitops.commands.generate import command as generate_core

    taken: dict[str, Any] = {}

    def fake_generate(options: Any) -> Any:
        taken["generate"] = options
        raise SystemExit(0)

    def fake_migrate(files: Any, *, katib_version: tuple[int, int], stdin: Any) -> Any:
        taken["migrate"] = katib_version
        return [], []

    monkeypatch.setattr(generate_core, "generate", fake_generate)
    monkeypatch.setattr(migrate_core, "migrate_paths", fake_migrate)
    CliRunner().invoke(main, ["generate", "--out", "overlays"])
    assert taken["generate"].katib_version == (0, 17)
    assert taken["generate"].katib_config == Path("cluster/katib-config.yaml")
    CliRunner().invoke(main, ["migrate", "a.yaml"])
    assert taken["migrate"] == (0, 17)
    CliRunner().invoke(main, ["migrate", "--katib-version", "0.15", "a.yaml"])
    assert taken["migrate"] == (0, 15)


# ------------------------------------------------------------------ the scope: checked, ignored, passed over

# YAML of a typical repository that is no Kubernetes object (none has apiVersion, kind or metadata).
NOT_MANIFESTS = {
    ".yamllint": "extends: default\nrules:\n  line-length: {max: 120}\n",
    "mkdocs.yml": "site_name: Our models\nnav:\n  - Home: index.md\n",
    "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n    restart: 'no'\n",
    "charts/trainer/values.yaml": "replicaCount: 1\nimage:\n  repository: trainer\n  tag: latest\n",
    # `on:` is a boolean key to go-yaml v2: the file still reads, and is still no manifest.
    "ci/workflow.yml": "on: push\njobs: {}\n",
}


def test_yaml_that_is_clearly_no_manifest_is_passed_over_with_a_note(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", None, **NOT_MANIFESTS, **{"cm.yaml": GOOD_CONFIGMAP})
    code, out, err = console(root, "validate", *NOT_MANIFESTS, "cm.yaml")
    assert code == 0, out + err
    assert out == "0 errors, 0 warnings in 1 file (1 document)\n"
    for name in NOT_MANIFESTS:
        assert f"note: {name}: passed over: not a Kubernetes manifest" in err, err
    # A whole folder of them is no empty input either.
    assert console(root, "validate", "charts")[0] == 0


def test_inside_the_configured_paths_every_yaml_file_must_be_a_manifest(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", "paths: [deploy]\n", **{"deploy/values.yaml": "replicaCount: 1\n"})
    code, out, _ = console(root, "validate", "deploy/values.yaml")
    assert code == 1 and "deploy/values.yaml:1:1: error: apiVersion and kind missing" in out, out


def test_what_looks_like_a_manifest_is_checked_wherever_it_is(tmp_path: Path) -> None:
    """A document with one of apiVersion, kind or metadata is a manifest with a mistake, not other YAML."""
    root = repository(
        tmp_path / "repo",
        None,
        **{"no-kind.yaml": "apiVersion: v1\nmetadata: {name: a}\n", "meta.yaml": "metadata: {name: a}\ndata: {}\n"},
    )
    code, out, _ = console(root, "validate", "no-kind.yaml", "meta.yaml")
    assert code == 1, out
    assert "no-kind.yaml:1:1: error: kind missing" in out and "meta.yaml:1:1: error: apiVersion and kind missing" in out
    assert not_a_manifest("x.yaml", [{"a": 1}, {"kind": "ConfigMap"}], False) is False  # every document counts
    assert console(root, "validate", "-", stdin="replicaCount: 1\n")[0] == 1  # standard input is always checked
    # A list is no manifest, but no tool's configuration either: it stays a finding [document].
    (root / "list.yaml").write_text("- a\n- b\n")
    code, out, _ = console(root, "validate", "list.yaml")
    assert code == 1 and "must be a mapping" in out, out


def test_a_kustomization_file_without_apiversion_is_a_kustomization(tmp_path: Path) -> None:
    """kustomize reads a kustomization file without apiVersion and kind as kustomize.config.k8s.io/v1beta1
    Kustomization (api/types/kustomization.go FixKustomization), so it is no 'apiVersion and kind missing'."""
    root = repository(
        tmp_path / "repo",
        "paths: [deploy]\n",
        **{"deploy/kustomization.yaml": "resources:\n  - cm.yaml\n", "deploy/cm.yaml": GOOD_CONFIGMAP},
    )
    code, out, err = console(root, "validate", "deploy/kustomization.yaml", "deploy/cm.yaml")
    assert code == 0, out + err
    assert "passed over" not in err  # checked by name, inside the paths or not


def test_ignored_paths_are_never_read(tmp_path: Path) -> None:
    root = repository(
        tmp_path / "repo",
        "ignore: [charts/, 'examples/*.yaml', broken.yaml]\n",
        **{
            "charts/trainer/templates/job.yaml": "apiVersion: batch/v1\nkind: Job\n{{ .Values.x }}\n",  # Helm template
            "examples/bad.yaml": BAD_CONFIGMAP,
            "deep/down/broken.yaml": "a: [\n",
            "cm.yaml": GOOD_CONFIGMAP,
        },
    )
    named = ["charts/trainer/templates/job.yaml", "examples/bad.yaml", "deep/down/broken.yaml", "cm.yaml"]
    code, out, err = console(root, "validate", *named)
    assert code == 0, out + err
    assert "note: charts/trainer/templates/job.yaml: ignored (configuration file)" in err
    assert console(root, "validate", ".")[0] == 0  # walked folders too
    assert console(root, "validate", "--no-config", "examples/bad.yaml")[0] == 1


def test_ignore_patterns_match_like_gitignore(tmp_path: Path) -> None:
    scope = Scope(str(tmp_path), (), ("values.yaml", "charts/", "docs/*.yml", "/top.yaml"))
    assert scope.ignored(str(tmp_path / "a" / "b" / "values.yaml"))  # a name at any depth
    assert scope.ignored(str(tmp_path / "charts" / "x" / "t.yaml"))  # a folder and everything below it
    assert scope.ignored(str(tmp_path / "docs" / "mkdocs.yml"))
    assert scope.ignored(str(tmp_path / "top.yaml"))
    assert not scope.ignored(str(tmp_path / "sub" / "charts.yaml"))
    assert not scope.ignored(str(tmp_path / "sub" / "docs" / "mkdocs.yml"))  # anchored at the file's folder
    assert not scope.ignored(str(tmp_path.parent / "values2.yaml"))
    assert not scope.ignored("<stdin>")


def test_an_unknown_skipped_rule_is_refused_at_its_line_with_the_nearest_ids(tmp_path: Path) -> None:
    # A typo in `skip` would silence nothing while the file claims it does: like `--skip COUNT04`, a usage error.
    root = repository(
        tmp_path / "repo",
        "skip:\n  - rule: schema\n    reason: fine\n  - rule: COUNT04\n    reason: typo\n",
        **{"a.yaml": GOOD_CONFIGMAP},
    )
    for args in (["validate", "a.yaml"], ["validate", "--", "a.yaml"], ["generate", "--check"]):
        code, out, err = console(root, *args)
        assert code == 2, (args, out, err)
        assert ".katib-gitops.yaml:4:11: error: skip COUNT04: no such rule; did you mean COUNT-04" in err, err


def test_config_before_the_command_name_is_the_same_as_after_it(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", None, **{"bad.yaml": BAD_CONFIGMAP})
    (root / "skips.yaml").write_text("skip:\n  - rule: schema\n    reason: a webhook removes the field\n")
    assert console(root, "validate", "bad.yaml")[0] == 1
    assert console(root, "--config", "skips.yaml", "validate", "bad.yaml")[0] == 0
    assert console(root, "validate", "--config", "skips.yaml", "bad.yaml")[0] == 0
    code, _, err = console(root, "--config", "missing.yaml", "validate", "bad.yaml")
    assert code == 2 and "--config missing.yaml: no such file" in err
    code, _, err = console(root, "--config", "skips.yaml", "validate", "--no-config", "bad.yaml")
    assert code == 2 and "choose one" in err


def test_rules_says_which_rules_the_file_skips_and_why(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", "skip:\n  - rule: TT-R4\n    reason: our pods all run the collector\n")
    code, out, _ = console(root, "rules")
    assert code == 0
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("TT-R4 "))
    assert lines[at + 1].strip() == "(.katib-gitops.yaml skips it: our pods all run the collector)"
    assert sum("skips it" in line for line in lines) == 1
    # The Markdown table is the documentation: the same in every repository.
    assert "skips it" not in console(root, "rules", "--format", "markdown")[1]
