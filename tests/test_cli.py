"""The command line through click's runner: exit codes and output of each command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from katib_gitops import __version__
from katib_gitops.cli.main import main
from katib_gitops.core.registry import LEVELS, RULES
from tests.helpers import write_specs


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    assert run("--version") == (0, f"katib-gitops, version {__version__}\n", "")


def test_rules_lists_every_rule_with_level_severity_and_doc() -> None:
    from katib_gitops.cli.catalog import all_rules

    code, out, _ = run("rules")
    assert code == 0
    lines = out.splitlines()
    listed = all_rules()
    assert len(lines) == len(listed) == len({r.id for r in listed})
    for rule, line in zip(listed, lines, strict=True):
        assert line.split()[:3] == [rule.id, rule.level, rule.severity.value] and line.endswith(rule.doc)
    ids = {r.id for r in listed}
    assert set(RULES) == ids and {"COUNT-04", "TT-15", "G-04", "yaml-syntax"} <= ids
    assert {r.level for r in listed} == set(LEVELS)  # migrate's and import's rules too


def test_render_prints_the_built_overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_specs(tmp_path)
    assert run("generate")[0] == 0
    code, out, _ = run("render", "overlays/demo/team-a/gpu")
    assert code == 0
    assert (
        "namespace: team-a" in out
        and "nvidia.com/gpu: 1" in out
        and out.startswith("apiVersion: kubeflow.org/v1beta1\n")
    )


def test_findings_exit_1_with_file_line_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = write_specs(tmp_path)
    (folder / "demo.yaml").write_text((folder / "demo.yaml").read_text().replace("maximize", "maximum"))
    code, _, err = run("generate")
    assert code == 1
    assert err.startswith("specs/demo.yaml:7:11: error: 'maximum' is not one of minimize, maximize [schema]")
    assert err.rstrip().endswith("katib-gitops: 1 problem(s) found")


def test_yaml_syntax_errors_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = write_specs(tmp_path)
    (folder / "broken.yaml").write_text("kind: TuningSpec\nspec: [unclosed\n")
    code, _, err = run("generate")
    assert code == 1 and err.startswith("specs/broken.yaml:3:1: error:") and "[yaml-syntax]" in err


def test_a_document_of_another_kind_in_specs_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = write_specs(tmp_path)
    (folder / "stray.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    code, _, err = run("generate")
    assert code == 1 and "specs/stray.yaml:2:7: error: kind 'ConfigMap' does not belong in the specs folder" in err


def test_a_specs_folder_without_targets_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = write_specs(tmp_path)
    (folder / "targets.yaml").unlink()
    code, _, err = run("generate")
    assert code == 1 and "no 'Targets' document found" in err


def _console_script(*args: str, stdout: int | None = None) -> subprocess.CompletedProcess[str]:
    """The installed entry point (katib_gitops.cli.console:entry), as pre-commit and CI run it."""
    import sys

    code = "import sys; from katib_gitops.cli.console import entry; sys.argv = ['katib-gitops', *sys.argv[1:]]; entry()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=stdout is None,
        stdout=stdout,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_the_console_script_keeps_exit_codes_and_flushes_its_output(tmp_path: Path) -> None:
    """entry() skips the interpreter's teardown; nothing it printed may be lost, no exit code changed."""
    version = _console_script("--version")
    assert version.returncode == 0 and version.stdout == f"katib-gitops, version {__version__}\n"
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labelz: {}}\n")
    found = _console_script("validate", "--format", "json", str(broken))
    assert found.returncode == 1 and found.stdout.rstrip().endswith("}") and "unknown field 'labelz'" in found.stdout
    assert _console_script("validate", str(tmp_path / "missing.yaml")).returncode == 2
    assert _console_script("no-such-command").returncode == 2


def test_the_console_script_stops_quietly_when_the_reader_goes_away(tmp_path: Path) -> None:
    import subprocess
    import sys

    for index in range(400):
        (tmp_path / f"{index}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a{index}, labelz: {{}}}}\n"
        )
    code = "import sys; from katib_gitops.cli.console import entry; sys.argv = ['katib-gitops', *sys.argv[1:]]; entry()"
    producer = subprocess.Popen(
        [sys.executable, "-c", code, "validate", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert producer.stdout is not None
    producer.stdout.read(100)
    producer.stdout.close()
    _, err = producer.communicate(timeout=60)
    assert b"Traceback" not in err and producer.returncode in (1, 141)


def test_validate_offers_exactly_the_registered_report_formats() -> None:
    from katib_gitops.commands.report import DEFAULT_FORMAT, REPORTERS

    (option,) = [p for p in main.commands["validate"].params if p.name == "output_format"]
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == tuple(REPORTERS)
    assert option.default == DEFAULT_FORMAT
