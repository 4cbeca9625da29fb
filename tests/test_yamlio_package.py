"""The yamlio package: its modules depend one way, and `validate FILE` starts without the writer or ruamel."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

PACKAGE = ROOT / "generator" / "yamlio"
# What each module may import from its own package: the reader and the scalars are below the builder, the
# builder below the documents.
ALLOWED = {
    "__init__": set(),
    "reader": set(),
    "scalars": set(),
    "writer": set(),
    "builder": {"katib_gitops.yamlio.reader", "katib_gitops.yamlio.scalars"},
    "documents": {"katib_gitops.yamlio.builder"},
}


def package_imports(module: str) -> set[str]:
    """The modules of katib_gitops.yamlio that `module` imports, at the top or inside functions."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "katib_gitops.yamlio" or name.startswith("katib_gitops.yamlio.")}


def test_every_module_of_the_package_is_listed() -> None:
    assert {path.stem for path in PACKAGE.glob("*.py")} == set(ALLOWED)


def test_the_modules_of_the_package_depend_one_way() -> None:
    for module, allowed in ALLOWED.items():
        assert package_imports(module) <= allowed, module


def test_validate_starts_without_the_writer_or_ruamel() -> None:
    code = (
        "import sys\nfrom katib_gitops.cli import console\ntry:\n    console.main(['validate', sys.argv[1]])\n"
        "except SystemExit as exc:\n    loaded = ' '.join(sorted(sys.modules))\n"
        "    print(exc.code, 'katib_gitops.yamlio.documents' in sys.modules, "
        "'katib_gitops.yamlio.writer' in sys.modules, 'ruamel' in loaded)"
    )
    done = subprocess.run([sys.executable, "-c", code, "specs/targets.yaml"], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.splitlines()[-1] == "0 True False False"
