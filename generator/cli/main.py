"""The command line: turns flags into options and calls the core (exit codes and errors: katib_gitops.cli.boundary)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

from katib_gitops import __version__
from katib_gitops.cli import config as cli_config
from katib_gitops.cli.boundary import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_USAGE, run
from katib_gitops.cli.console import MAX_FILE_SIZE_ENV
from katib_gitops.commands.report import DEFAULT_FORMAT, FORMATS
from katib_gitops.core.diagnostics import FindingsError, UsageError
from katib_gitops.core.kinds import KATIB_VERSION

if TYPE_CHECKING:
    from katib_gitops.commands.results import Read

__all__ = ["EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_USAGE", "main"]
KATIB_VERSION_TEXT = "{}.{}".format(*KATIB_VERSION)
F = TypeVar("F", bound=Callable[..., Any])


def _max_file_size(_ctx: Any, _param: Any, value: str | None) -> None:
    if value is not None:
        from katib_gitops.yamlio.reader import parse_size, set_max_file_bytes

        try:
            set_max_file_bytes(parse_size(value))
        except (ValueError, UsageError) as exc:
            raise click.BadParameter(str(exc)) from None


# Every command that reads YAML takes it: `@max_file_size_option` (the reader's limit, generator/yamlio/reader.py).
max_file_size_option = click.option(
    "--max-file-size",
    metavar="SIZE",
    callback=_max_file_size,
    expose_value=False,
    envvar=MAX_FILE_SIZE_ENV,
    help="Largest YAML file read, e.g. 32MiB (default 8MiB); larger files are refused [yaml-limit].",
)


def _katib_version(_ctx: Any, _param: Any, value: str) -> tuple[int, int]:
    import re

    match = re.fullmatch(r"v?(\d+)\.(\d+)(\.\d+)?", value)
    if not match:
        raise click.BadParameter(f"{value!r} is not a version like 0.19")
    return int(match.group(1)), int(match.group(2))


def katib_version_option(help_text: str) -> Callable[[F], F]:
    """`--katib-version X.Y`, parsed to (X, Y), defaulting to the Katib release the tool's rules and defaults follow."""
    return click.option(
        "--katib-version", default=KATIB_VERSION_TEXT, show_default=True, callback=_katib_version, help=help_text
    )


def specs_option(help_text: str) -> Callable[[F], F]:
    """`--specs DIR` (default specs): the folder of TuningSpecs and the Targets file."""
    return click.option(
        "--specs", "specs_dir", default="specs", show_default=True, type=click.Path(path_type=Path), help=help_text
    )


def format_option(choices: list[str], help_text: str) -> Callable[[F], F]:
    """`--format` (default text), one of `choices`, as `output_format`."""
    return click.option(
        "--format", "output_format", default="text", show_default=True, type=click.Choice(choices), help=help_text
    )


def katib_config_option(help_text: str) -> Callable[[F], F]:
    """`--katib-config FILE`: the cluster's KatibConfig, or the ConfigMap that holds it."""
    return click.option("--katib-config", type=click.Path(path_type=Path), help=help_text)


class _ConfigDefaults(dict[str, Any]):
    """click's default_map of one command, read from the configuration file when an option is first looked up.

    The `--config` and `--no-config` options are eager, so both are parsed before any other
    option asks for its default; options given on the command line never ask.
    """

    def __init__(self, ctx: click.Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.loaded = False

    def _load(self, key: object) -> None:
        if not self.loaded and key not in ("config_file", "no_config"):
            self.loaded = True
            self.update(cli_config.defaults(loaded_config(self.ctx), self.ctx.info_name or ""))

    def __contains__(self, key: object) -> bool:
        self._load(key)
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self._load(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._load(key)
        return super().get(key, default)


def loaded_config(ctx: click.Context) -> cli_config.Config | None:
    """The configuration file in effect for this command (read once)."""
    if "config" not in ctx.meta:
        ctx.meta["config"] = cli_config.discover(ctx.meta.get("config_file"), disabled=ctx.meta.get("no_config", False))
    config: cli_config.Config | None = ctx.meta["config"]
    return config


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Keep --config/--no-config for the command (ctx.meta is shared with the group's context)."""
    if value:
        ctx.meta[param.name or ""] = value


def _remember_and_default(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    _remember(ctx, param, value)
    if not isinstance(ctx.default_map, _ConfigDefaults):
        ctx.default_map = _ConfigDefaults(ctx)


def config_options(function: F, *, group: bool = False) -> F:
    """`--config FILE` and `--no-config`: every command reads the configuration file (katib_gitops.cli.config).

    Given before the command name (`katib-gitops --config FILE validate`), they are only remembered:
    the command reads the file when its options ask for their defaults, inside its error boundary.
    """
    callback = _remember if group else _remember_and_default
    function = click.option(
        "--no-config",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=callback,
        help=f"Read no configuration file ({cli_config.FILE_NAME}).",
    )(function)
    return click.option(
        "--config",
        "config_file",
        metavar="FILE",
        is_eager=True,
        expose_value=False,
        callback=callback,
        help=f"Configuration file (default: {cli_config.FILE_NAME} from here up to the repository root).",
    )(function)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="katib-gitops")
@functools.partial(config_options, group=True)
def main() -> None:
    """Generate and check Katib Experiments for GitOps from declarative tuning specs."""


@main.command()
@specs_option("Folder of TuningSpecs and the Targets file.")
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(path_type=Path),
    help=(
        "Output folder (Kustomize bases, overlays, GitOps objects). Default: the Targets file's gitops.path "
        "from the repository root, else overlays; a different one is a usage error."
    ),
)
@click.option(
    "--check", "check_only", is_flag=True, help="Write nothing; exit 1 if the output folder is not up to date."
)
@click.option(
    "--force", is_flag=True, help="Overwrite generated files edited by hand, and files katib-gitops did not write."
)
@katib_config_option(
    "The cluster's KatibConfig (or its ConfigMap): algorithms and collectors the specs may use. "
    "Default: Katib's standalone install."
)
@katib_version_option(
    "Katib version the output is for (before 0.19 the Istio opt-out is written as an annotation too)."
)
@max_file_size_option
@config_options
def generate(
    specs_dir: Path,
    out_dir: Path | None,
    check_only: bool,
    force: bool,
    katib_config: Path | None,
    katib_version: tuple[int, int],
) -> None:
    """Validate specs and write Experiments, overlays and GitOps objects."""
    from katib_gitops.commands.generate.command import GenerateOptions, default_out
    from katib_gitops.commands.generate.command import generate as core

    def action() -> int:
        out = out_dir if out_dir is not None else default_out(specs_dir)
        result = core(
            GenerateOptions(
                specs_dir=specs_dir,
                out_dir=out,
                check_only=check_only,
                force=force,
                katib_config=katib_config,
                katib_version=katib_version,
            )
        )
        return _report_generate(result, out, check_only)

    run(action)


def _report_generate(result: Any, out_dir: Path, check_only: bool) -> int:
    for note in result.notes:
        click.echo(note, err=True)
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


@main.command()
@specs_option("Folder of TuningSpecs and the Targets file, in a Git repository.")
@click.option(
    "--base", default="", metavar="REV", help="What the change starts from (default: the merge base with main)."
)
@click.option("--head", default="", metavar="REV", help="The change (default: the working tree).")
@click.option(
    "--quota",
    "quota_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="ResourceQuota manifests to check against, instead of the Targets file's quotas (repeatable).",
)
@format_option(["text", "markdown", "json"], "markdown: for a pull-request comment.")
@katib_config_option("The cluster's KatibConfig (or its ConfigMap), as for generate.")
@katib_version_option("Katib version the output is for, as for generate.")
@max_file_size_option
@config_options
def plan(
    specs_dir: Path,
    base: str,
    head: str,
    quota_files: tuple[Path, ...],
    output_format: str,
    katib_config: Path | None,
    katib_version: tuple[int, int],
    **_: Any,
) -> None:
    """Say what a change to the specs does to the cluster: Experiments created, updated, rolled out,
    left running, GitOps objects, and GPU demand against quotas (exit 1 when a quota is exceeded)."""
    from katib_gitops.commands import plan as core

    def action() -> int:
        config = None
        if katib_config is not None:
            from katib_gitops.spec import katib_config as configs

            config = configs.load(katib_config)
        options = core.Options(
            specs_dir=specs_dir,
            base=base,
            head=head,
            quota_files=quota_files,
            katib_config=config,
            katib_version=katib_version,
        )
        result = core.plan(options)
        click.echo(core.RENDERERS[output_format](result), nl=False)
        return EXIT_FINDINGS if result.exceeded else 0

    run(action)


@main.command()
@click.option(
    "--specs",
    "specs_dir",
    default="specs",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder of TuningSpecs and the Targets file.",
)
@format_option(["text", "json"], "Report format.")
@max_file_size_option
@config_options
def port(specs_dir: Path, output_format: str, **_: Any) -> None:
    """Say, for every spec, whether it can move to a Kubeflow Trainer OptimizationJob (backend: optimizationjob)
    and each reason it cannot, at the spec's line (exit 1 when one cannot move)."""
    from katib_gitops.commands import port as core

    def action() -> int:
        verdicts = core.port(specs_dir)
        click.echo(core.RENDERERS[output_format](verdicts), nl=False)
        return 0 if all(v.movable for v in verdicts) else EXIT_FINDINGS

    run(action)


kustomize_command_option = click.option(
    "--kustomize-command",
    default="",
    metavar="COMMAND",
    help=(
        "What builds kustomizations katib-gitops did not write: `kustomize`, `kubectl`, or a command line the "
        "folder is appended to (default: kustomize, else kubectl, from PATH)."
    ),
)


@main.command(name="render")
@click.argument("directory", type=click.Path(path_type=Path))
@kustomize_command_option
@max_file_size_option
@config_options
def render_command(directory: Path, kustomize_command: str, **_: Any) -> None:
    """Print the manifests a kustomization directory builds to (katib-gitops' own overlays in process)."""
    from katib_gitops.kustomize import inputs
    from katib_gitops.yamlio.writer import dump_all

    def action() -> int:
        if not directory.is_dir():
            raise UsageError(f"{directory}: not a directory")
        import os

        resources, _traces = inputs.build(os.path.relpath(directory), kustomize_command)
        click.echo(dump_all(resources), nl=False)
        return 0

    run(action)


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--write",
    is_flag=True,
    help="Replace each file in place, atomically; nothing is written unless every file converts.",
)
@katib_version_option("Katib version to migrate for (collector None is Push from 0.18).")
@max_file_size_option
@config_options
def migrate(files: tuple[str, ...], write: bool, katib_version: tuple[int, int], **_: Any) -> None:
    """Convert kubeflow.org/v1alpha3 Experiments in FILE... (- for stdin) to v1beta1, to stdout or in place."""

    def action() -> int:
        from katib_gitops.commands import migrate as core

        if write and core.STDIN in files:
            raise UsageError("-: standard input cannot be migrated in place; without --write the text goes to stdout")
        migrations, problems = core.migrate_paths(files, katib_version=katib_version, stdin=sys.stdin)
        errors = [*problems, *(d for m in migrations for d in m.errors)]
        for warning in sorted(d for m in migrations for d in m.warnings):
            click.echo(warning.format(), err=True)
        for note in (n for m in migrations for n in m.notes):
            click.echo(note.format(), err=True)
        if not write:
            click.echo(core.stdout_text(migrations), nl=False)
        elif not errors:
            written = set(core.write_files(migrations))
            for migration in migrations:
                click.echo(
                    f"{migration.display}: {'migrated' if migration.display in written else 'nothing to migrate'}"
                )
        if errors:
            raise FindingsError(errors)
        return 0

    run(action)


@main.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "output_format",
    default=DEFAULT_FORMAT,
    show_default=True,
    type=click.Choice(FORMATS),
    help="Report format (exit code: 0 clean, 1 findings, 2 usage or I/O, 3 internal error).",
)
@click.option("--no-render", is_flag=True, help="Validate a kustomization's files as they are instead of rendering it.")
@kustomize_command_option
@click.option(
    "--crd",
    "crd_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="CustomResourceDefinition file or folder; checked ahead of the built-in schemas (repeatable).",
)
@katib_config_option("The cluster's KatibConfig (or its ConfigMap). Default: Katib's standalone install.")
@katib_version_option("Katib version whose rules apply.")
@click.option(
    "--kubernetes-version", default="", help="Kubernetes version of the core schemas (default: the newest bundled)."
)
@click.option(
    "--ignore-missing-schemas", is_flag=True, help="Pass documents of kinds without a schema instead of failing."
)
@click.option("--skip", "skip", multiple=True, help="Rule ID to skip for this run (repeatable, or comma-separated).")
@click.option("--strict-warnings", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for large inputs (default: the number of cores).",
)
@click.option(
    "--previous",
    "previous",
    multiple=True,
    metavar="PATH",
    help=(
        "Manifests as deployed now (e.g. the base branch's overlays): an Experiment of the same namespace and name "
        "may change only its trial counts [UPD-05] (repeatable)."
    ),
)
@click.option(
    "--trial-templates",
    "trial_templates",
    multiple=True,
    metavar="PATH",
    help=(
        "ConfigMaps holding configMap trial templates, as in the cluster: such templates are then checked too "
        "[TT-08, TT-15, TT-16, TT-17] (repeatable)."
    ),
)
@max_file_size_option
@config_options
def validate(
    paths: tuple[str, ...],
    output_format: str,
    no_render: bool,
    crd_paths: tuple[Path, ...],
    katib_config: Path | None,
    katib_version: tuple[int, int],
    kubernetes_version: str,
    ignore_missing_schemas: bool,
    skip: tuple[str, ...],
    strict_warnings: bool,
    jobs: int | None,
    previous: tuple[str, ...],
    trial_templates: tuple[str, ...],
    kustomize_command: str,
    **_: Any,
) -> None:
    """Check manifests and specs before the cluster does: PATH... files, folders, or - for stdin."""

    from katib_gitops.commands.validate.command import DEFAULT_SCOPE, validate_command

    ctx = click.get_current_context()

    def action() -> int:
        _known_rule_ids(skip)
        config = loaded_config(ctx)
        return validate_command(
            paths,
            output_format=output_format,
            render=not no_render,
            crds=crd_paths,
            katib_config=katib_config,
            katib_version=katib_version,
            kubernetes_version=kubernetes_version,
            ignore_missing_schemas=ignore_missing_schemas,
            skip=skip,
            strict_warnings=strict_warnings,
            jobs=jobs,
            previous=previous,
            trial_templates=trial_templates,
            scope=config.scope if config is not None else DEFAULT_SCOPE,
            kustomize_command=kustomize_command,
        )

    run(action)


def _known_rule_ids(skip: tuple[str, ...]) -> None:
    """Every --skip ID is a registered rule, or a usage error with the nearest IDs (a typo never passes)."""
    wanted = [s.strip() for item in skip for s in item.split(",") if s.strip()]
    if not wanted:
        return
    from katib_gitops.cli.catalog import unknown_rule  # only when --skip is given: it imports every rule module

    for rule_id in wanted:
        problem = unknown_rule(rule_id)
        if problem is not None:
            raise UsageError(f"--skip {rule_id}: {problem}")


@main.command()
@format_option(["text", "markdown"], "markdown: the table docs/rules.md is generated from.")
@config_options
def rules(output_format: str) -> None:
    """List every rule ID katib-gitops reports, with its level, severity and a one-line doc.

    In text, a rule the configuration file skips says so, with the reason given there.
    """
    ctx = click.get_current_context()

    def action() -> int:
        from katib_gitops.cli.catalog import all_rules, markdown

        listed = all_rules()
        if output_format == "markdown":  # the docs: the same whatever a repository skips
            click.echo(markdown(listed), nl=False)
            return 0
        config = loaded_config(ctx)
        reasons = {s.rule: f"{config.file} skips it: {s.reason}" for s in config.skip} if config else {}
        width = max(len(r.id) for r in listed)
        for item in listed:
            click.echo(f"{item.id:<{width}}  {item.level:<9}  {item.severity.value:<7}  {item.doc}")
            if item.id in reasons:
                click.echo(f"{'':<{width}}  {'':<9}  {'':<7}  ({reasons[item.id]})")
        return 0

    run(action)


@main.command(name="import")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    default="specs",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Specs folder to write the TuningSpecs and the Targets file into.",
)
@click.option("--force", is_flag=True, help="Replace spec files that exist and differ from the import.")
@click.option(
    "--dry-run", is_flag=True, help="Print the specs (and the Targets file, if it changes) to stdout; write nothing."
)
@click.option(
    "--trial-templates",
    "trial_templates",
    multiple=True,
    metavar="PATH",
    help=(
        "ConfigMaps holding configMap trial templates: the validator then checks such Experiments' templates "
        "(repeatable)."
    ),
)
@max_file_size_option
@config_options
def import_command(
    paths: tuple[str, ...], out_dir: Path, force: bool, dry_run: bool, trial_templates: tuple[str, ...], **_: Any
) -> None:
    """Turn Experiments (FILE..., folders, or - for stdin) into TuningSpecs that generate them back."""

    def action() -> int:
        from katib_gitops.commands.importer.plan import dry_run_text, plan_import, summary, write_plan

        plan = plan_import(paths, out_dir, sys.stdin, force=force, trial_templates=trial_templates)
        if dry_run:
            click.echo(dry_run_text(plan), nl=False)
        else:
            write_plan(plan)
        for line in summary(plan):
            click.echo(line, err=dry_run)
        return 0

    run(action)


# ------------------------------------------------------------------ results and promote (issue 16)


class _Sources(NamedTuple):
    """What `results` and `promote` read: files or - (kubectl get output), or --cluster; and the specs."""

    sources: tuple[str, ...]
    specs_dir: Path
    cluster: bool
    context: str
    namespace: str
    katib_version: tuple[int, int]

    def read(self) -> Read:
        """The Experiments read, matched with the targets the specs generate."""
        from katib_gitops.commands import results as reader

        return reader.collect(
            self.sources,
            sys.stdin,
            specs_dir=self.specs_dir,
            cluster=self.cluster,
            context=self.context,
            namespace=self.namespace,
            katib_version=self.katib_version,
        )


def _experiment_sources(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of `_Sources`, given to the command as its first argument."""

    @functools.wraps(command)
    def with_sources(**options: Any) -> Any:
        return command(_Sources(**{name: options.pop(name) for name in _Sources._fields}), **options)

    decorated: Callable[..., Any] = with_sources
    for option in reversed(
        (
            click.argument("sources", nargs=-1),
            specs_option("Folder of TuningSpecs and the Targets file: what the Experiments are matched to."),
            click.option(
                "--cluster", is_flag=True, help="Run `kubectl get experiments -o yaml` (read-only) instead of FILEs."
            ),
            click.option("--context", default="", help="kubectl context, with --cluster."),
            click.option(
                "--namespace",
                "-n",
                default="",
                help="With --cluster: one namespace (default: all). promote: where --experiment is.",
            ),
            katib_version_option("Katib version the specs were generated for (Experiment names depend on it)."),
            max_file_size_option,
        )
    ):
        decorated = option(decorated)
    return decorated


@main.command()
@_experiment_sources
@format_option(["text", "markdown", "json"], "Report format.")
def results(
    where: _Sources,
    output_format: str,
    **_: Any,
) -> None:
    """Show Experiments (FILE... or - from `kubectl get experiments -A -o yaml`) with state and best trial."""

    def action() -> int:
        from katib_gitops.commands import results as core

        read = where.read()
        click.echo(core.RENDERERS[output_format](read.results), nl=False)
        for warning in read.warnings:
            click.echo(warning.format(), err=True)
        if read.problems:
            raise FindingsError(read.problems)
        return 0

    run(action)


@main.command()
@_experiment_sources
@click.option("--target", default="", metavar="SPEC/NAMESPACE/PROFILE", help="The target whose Experiment to promote.")
@click.option("--experiment", default="", metavar="NAME", help="The Experiment to promote, by name.")
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path), help="The parameters file to write (in Git)."
)
@click.option(
    "--format",
    "output_format",
    default=None,
    type=click.Choice(["yaml", "json", "configmap", "env"]),
    help="File format (default: from --out's suffix: .yaml/.yml, .json, .env).",
)
@click.option("--name", "configmap_name", default="", help="The ConfigMap's name (default: SPEC-best-parameters).")
@click.option("--allow-running", is_flag=True, help="Promote the best trial so far of an Experiment still running.")
@click.option("--force", is_flag=True, help="Replace the file even if it was edited by hand.")
@click.option("--date", default="", metavar="YYYY-MM-DD", help="Date recorded while not completed (default: today).")
def promote(
    where: _Sources,
    target: str,
    experiment: str,
    out: Path,
    output_format: str | None,
    configmap_name: str,
    allow_running: bool,
    force: bool,
    date: str,
    **_: Any,
) -> None:
    """Write the best parameters of one Experiment into a file training jobs read, with where they come from."""

    def action() -> int:
        from katib_gitops.commands import promote as core

        # --namespace says where --experiment is; it (and --context) narrows what is read only from a cluster.
        read = (where if where.cluster else where._replace(context="", namespace="")).read()
        if read.problems:
            raise FindingsError(read.problems)
        chosen = core.choose(read.results, target=target, experiment=experiment, namespace=where.namespace)
        options = core.Options(out, output_format or "", configmap_name, allow_running, force, date)
        outcome = core.promote(chosen, options)
        said = "written" if outcome.written else "up to date, nothing written"
        click.echo(f"{outcome.path}: {said} (best trial {chosen.best_trial} of {outcome.experiment})")
        return 0

    run(action)


if __name__ == "__main__":
    main()
