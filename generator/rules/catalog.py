"""The rules `validate` and `generate` report, all registered: importing this module imports every module declaring one.

Reports look a fired rule up with `registry.lookup` once this is loaded. The full catalogue,
`migrate`'s and `import`'s rules too, is katib_gitops.cli.catalog (those sit in higher layers).
"""

from __future__ import annotations

from types import ModuleType

from katib_gitops.core import registry
from katib_gitops.kustomize import inputs, render
from katib_gitops.rules import (
    admission,
    advisory,
    algorithms,
    metadata,
    operators,
    portability,
    runtime,
    spec_checks,
    validator,
)
from katib_gitops.schema import ours
from katib_gitops.yamlio import documents, reader

# Where the rules of these stages are registered, in the order the catalogue lists them within a level.
MODULES: tuple[ModuleType, ...] = (
    reader,
    documents,
    inputs,
    render,
    ours,
    validator,
    metadata,
    operators,
    registry,
    spec_checks,
    portability,
    admission,
    algorithms,
    runtime,
    advisory,
)
