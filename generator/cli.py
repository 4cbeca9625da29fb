"""The command line: turns flags into options, calls the core, maps outcomes to exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from generator import __version__
from generator.diagnostics import FindingsError, UsageError

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"katib-gitops: {message}", err=True)
    sys.exit(code)


def run(action: Callable[[], int]) -> NoReturn:
    """The one error boundary: findings exit 1, usage and I/O exit 2, never a traceback."""
    try:
        code = action()
    except FindingsError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(diagnostic.format(), err=True)
        _fail(f"{len(exc.diagnostics)} problem(s) found", EXIT_FINDINGS)
    except UsageError as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if "--traceback" in sys.argv or _env_traceback():
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc}\n(please report it; set KATIB_GITOPS_TRACEBACK=1 for details)", EXIT_INTERNAL)
    sys.exit(code)


def _env_traceback() -> bool:
    import os

    return bool(os.environ.get("KATIB_GITOPS_TRACEBACK"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="katib-gitops")
def main() -> None:
    """Generate and check Katib Experiments for GitOps from declarative tuning specs."""


@main.command()
@click.option("--specs", "specs_dir", default="specs", show_default=True, type=click.Path(path_type=Path), help="Folder of TuningSpecs and the Targets file.")
@click.option("--out", "out_dir", default="overlays", show_default=True, type=click.Path(path_type=Path), help="Output folder (Kustomize bases, overlays, GitOps objects).")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if the output folder is not up to date.")
@click.option("--force", is_flag=True, help="Overwrite generated files edited by hand, and files katib-gitops did not write.")
def generate(specs_dir: Path, out_dir: Path, check_only: bool, force: bool) -> None:
    """Validate specs and write Experiments, overlays and GitOps objects."""
    from generator.pipeline import GenerateOptions, generate as core

    def action() -> int:
        result = core(GenerateOptions(specs_dir, out_dir, check_only, force))
        return _report_generate(result, out_dir, check_only)

    run(action)


def _report_generate(result: Any, out_dir: Path, check_only: bool) -> int:
    for warning in result.warnings:
        click.echo(warning.format(), err=True)
    changes = result.changes
    if check_only:
        if changes.empty:
            click.echo(f"{out_dir}: up to date ({result.files} files)")
            return 0
        for line in changes.summary():
            click.echo(f"{out_dir}/{line.split(': ', 1)[1]}: {line.split(': ', 1)[0]}")
        click.echo(f"{out_dir}: out of date; run `katib-gitops generate`", err=True)
        return EXIT_FINDINGS
    if not result.written:
        click.echo(f"{out_dir}: up to date ({result.files} files), nothing written")
        return 0
    counts = f"{len(changes.added)} added, {len(changes.changed)} updated, {len(changes.removed)} removed"
    click.echo(f"{out_dir}: {counts} ({result.files} files)")
    return 0


@main.command(name="render")
@click.argument("directory", type=click.Path(path_type=Path))
def render_command(directory: Path) -> None:
    """Print the manifests a kustomization directory builds to (in process, no kustomize needed)."""
    from generator import render
    from generator.yamlio import dump_all

    def action() -> int:
        if not directory.is_dir():
            raise UsageError(f"{directory}: not a directory")
        import os

        files = render.DiskFiles(Path.cwd())
        click.echo(dump_all(render.render(files, os.path.relpath(directory))), nl=False)
        return 0

    run(action)


@main.command()
def rules() -> None:
    """List every check with its ID, severity and a one-line doc."""
    from generator.checks import RULES

    def action() -> int:
        width = max(len(r) for r in RULES)
        for rule in RULES.values():
            click.echo(f"{rule.id:<{width}}  {rule.severity.value:<7}  {rule.doc}")
        return 0

    run(action)


if __name__ == "__main__":
    main()
