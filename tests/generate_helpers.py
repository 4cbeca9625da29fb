"""Run the generator into a temporary folder."""

from __future__ import annotations

from pathlib import Path

from katib_gitops.commands.generate.command import GenerateOptions, generate
from tests.helpers import write_specs


def generate_into(root: Path) -> Path:
    specs = write_specs(root)
    out = root / "overlays"
    generate(GenerateOptions(specs_dir=specs, out_dir=out))
    return out
