"""`katib-gitops validate` without its flags: the values a user chose in, an exit code out.

katib_gitops.cli.main calls it with what click parsed; katib_gitops.cli.console calls it with the
defaults for `katib-gitops validate PATH...`, the pre-commit hook's call, without
importing click. The defaults here are the command's defaults (a test holds click's
options to them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.kustomize.scope import Scope

# Without a configuration file: no configured paths, nothing ignored, YAML that is clearly no manifest passed over.
DEFAULT_SCOPE = Scope()


def validate_command(
    paths: Sequence[str],
    *,
    output_format: str = "text",
    render: bool = True,
    crds: Sequence[Path] = (),
    katib_config: Path | None = None,
    katib_version: tuple[int, int] = KATIB_VERSION,
    kubernetes_version: str = "",
    ignore_missing_schemas: bool = False,
    skip: Sequence[str] = (),
    strict_warnings: bool = False,
    jobs: int | None = None,
    previous: Sequence[str] = (),
    trial_templates: Sequence[str] = (),
    scope: Scope = DEFAULT_SCOPE,
    kustomize_command: str = "",
) -> int:
    from katib_gitops.commands.validate import output
    from katib_gitops.rules import validator
    from katib_gitops.spec import katib_config as config_module

    config = config_module.load(katib_config) if katib_config else config_module.standalone(katib_version)
    skipped = frozenset(s.strip() for item in skip for s in item.split(",") if s.strip())
    options = validator.Options(
        paths=tuple(paths),
        render=render,
        crds=tuple(crds),
        katib_config=config,
        katib_version=katib_version,
        kubernetes_version=kubernetes_version,
        ignore_missing_schemas=ignore_missing_schemas,
        skip=skipped,
        jobs=jobs or os.cpu_count() or 1,
        previous=tuple(previous),
        trial_templates=tuple(trial_templates),
        scope=scope,
        kustomize_command=kustomize_command,
    )
    outcome = validator.validate(options, sys.stdin)
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    return output.emit(outcome, output_format, sys.stdout, strict_warnings=strict_warnings)
