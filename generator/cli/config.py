"""The configuration file `.katib-gitops.yaml`: what a team sets once, read at the edge by every command.

Found from the working folder up to the repository root (the first folder holding `.git`; outside
a repository only the working folder is looked at), or named with `--config FILE`; `--no-config`
reads none. Its schema is schemas/config.schema.json; a problem in it is reported at its
file:line:column and exits 2. Paths in it are relative to its own folder. Options given on the
command line win over it: an option given replaces the file's value (a `--skip` replaces its
`skip` list, a `--crd` its `crds`).

No click here: the console script's plain `validate PATH...` call reads it too (katib_gitops.cli.console).
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.registry import declare
from katib_gitops.kustomize.scope import Scope

if TYPE_CHECKING:
    from katib_gitops.yamlio.documents import Document

FILE_NAME = ".katib-gitops.yaml"
SCHEMA_NAME = "config"
CONFIG = declare(
    "config",
    "TOOL",
    "The configuration file .katib-gitops.yaml matches schemas/config.schema.json (a problem in it exits 2).",
)


class Skip(NamedTuple):
    rule: str
    reason: str


class Config(NamedTuple):
    """The file's settings, its paths made relative to the working folder (as the options take them)."""

    file: str  # as shown in messages
    root: str  # its folder, absolute
    paths: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    crds: tuple[str, ...] = ()
    katib_config: str | None = None
    kubernetes_version: str | None = None
    katib_version: str | None = None
    skip: tuple[Skip, ...] = ()

    @property
    def scope(self) -> Scope:
        return Scope(self.root, tuple(os.path.abspath(p) for p in self.paths), self.ignore)


class ConfigError(UsageError):
    """The configuration file is unreadable or does not match its schema: exit 2, each problem at file:line:column."""

    def __init__(self, display: str, diagnostics: list[Diagnostic]) -> None:
        lines = "\n".join(d.format() for d in sorted(diagnostics))
        super().__init__(f"{display}: invalid configuration file\n{lines}")
        self.diagnostics = diagnostics


def find(start: Path) -> Path | None:
    """`.katib-gitops.yaml` in `start` or a folder above it, up to the repository root."""
    here = start.absolute()
    for folder in (here, *here.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def discover(explicit: str | None = None, *, disabled: bool = False, cwd: Path | None = None) -> Config | None:
    """The configuration in effect: `--config FILE`, else the one found, else None (also with `--no-config`)."""
    if disabled:
        if explicit is not None:
            raise UsageError("--config and --no-config: choose one")
        return None
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise UsageError(f"--config {explicit}: no such file")
        return load(path, explicit)
    try:
        found = find(cwd or Path.cwd())
    except OSError:  # the working folder was deleted, or cannot be read: no file to find there
        return None
    if found is None:
        return None
    return load(found, _shown(found))


def load(path: Path, display: str) -> Config:
    from katib_gitops.schema import ours
    from katib_gitops.yamlio.documents import load_documents
    from katib_gitops.yamlio.reader import read_text

    try:
        documents = load_documents(read_text(path, display), display)
    except FindingsError as exc:
        raise ConfigError(display, list(exc.diagnostics)) from None
    if not documents:
        return Config(display, str(path.absolute().parent))
    if len(documents) > 1:
        extra = documents[1]
        raise ConfigError(display, [extra.diagnostic([], CONFIG.id, "the configuration file holds one document")])
    (document,) = documents
    problems = [d._replace(rule_id=CONFIG.id) for d in ours.check(document, SCHEMA_NAME)]
    problems = problems or _unknown_skips(document)
    if problems:
        raise ConfigError(display, problems)
    return _config(document.data, display, path.absolute().parent)


def _unknown_skips(document: "Document") -> list[Diagnostic]:
    """A skipped rule that does not exist is a typo that would silence nothing: refused like `--skip`'s."""
    items = document.data.get("skip") or ()
    if not items:
        return []
    from katib_gitops.cli.catalog import unknown_rule  # imports every rule module: only for a skip list

    return [
        document.diagnostic(["skip", index, "rule"], CONFIG.id, f"skip {item['rule']}: {problem}")
        for index, item in enumerate(items)
        for problem in [unknown_rule(item["rule"])]
        if problem is not None
    ]


def _config(data: Mapping[str, Any], display: str, root: Path) -> Config:
    def here(value: str) -> str:
        return _relative(root / value)

    return Config(
        file=display,
        root=str(root),
        paths=tuple(here(p) for p in data.get("paths", ())),
        ignore=tuple(data.get("ignore", ())),
        crds=tuple(here(p) for p in data.get("crds", ())),
        katib_config=here(data["katibConfig"]) if "katibConfig" in data else None,
        kubernetes_version=data.get("kubernetesVersion"),
        katib_version=data.get("katibVersion"),
        skip=tuple(Skip(item["rule"], item["reason"]) for item in data.get("skip", ())),
    )


def _relative(path: Path) -> str:
    """`path` as the options take it, and reports show it: relative to the working folder."""
    return os.path.relpath(path)


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return relative if len(relative) <= len(str(path)) else str(path)


# ------------------------------------------------------------------ what each command takes from it


def defaults(config: Config | None, command: str) -> dict[str, Any]:
    """Option defaults of `command` (by click's parameter names) from `config`; options given win."""
    if config is None:
        return {}
    found: dict[str, Any] = {}
    if command in ("validate", "generate") and config.katib_config is not None:
        found["katib_config"] = config.katib_config
    if command in ("validate", "generate", "migrate") and config.katib_version is not None:
        found["katib_version"] = config.katib_version
    if command == "validate":
        if config.paths:
            found["paths"] = config.paths
        if config.crds:
            found["crd_paths"] = config.crds
        if config.kubernetes_version is not None:
            found["kubernetes_version"] = config.kubernetes_version
        if config.skip:
            found["skip"] = tuple(s.rule for s in config.skip)
    return found


def validate_arguments(config: Config | None) -> dict[str, Any]:
    """What the plain `validate PATH...` call (no option) passes to validate_command besides the paths."""
    if config is None:
        return {}
    from katib_gitops.core.kinds import KATIB_VERSION

    arguments: dict[str, Any] = {"scope": config.scope}
    if config.crds:
        arguments["crds"] = tuple(Path(p) for p in config.crds)
    if config.katib_config is not None:
        arguments["katib_config"] = Path(config.katib_config)
    if config.katib_version is not None:
        arguments["katib_version"] = parse_version(config.katib_version) or KATIB_VERSION
    if config.kubernetes_version is not None:
        arguments["kubernetes_version"] = config.kubernetes_version
    if config.skip:
        arguments["skip"] = tuple(s.rule for s in config.skip)
    return arguments


def parse_version(text: str) -> tuple[int, int] | None:
    """(X, Y) of 'X.Y', 'vX.Y' or 'X.Y.Z'; None for anything else."""
    import re

    match = re.fullmatch(r"v?(\d+)\.(\d+)(\.\d+)?", text)
    return (int(match.group(1)), int(match.group(2))) if match else None
