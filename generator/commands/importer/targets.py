"""The Targets side of the import: namespaces and profiles merged in, spec names made unique, the file updated."""

from __future__ import annotations

import copy
import dataclasses
import io
from collections.abc import Container, Mapping, Sequence
from pathlib import Path
from typing import Any

from katib_gitops.commands.importer.experiment import ImportResult
from katib_gitops.commands.importer.profiles import MAX_PROFILE_NAME
from katib_gitops.commands.importer.reverse import MAX_SPEC_NAME
from katib_gitops.core.kinds import API_VERSION, TARGETS_KIND
from katib_gitops.yamlio.reader import read_text
from katib_gitops.yamlio.writer import dump

TARGETS_FILE = "targets.yaml"


def merge_imports(
    results: Sequence[ImportResult], targets: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[ImportResult]]:
    """(the Targets document with every namespace and profile the imports need, the imports with final names).

    A profile equal to one already declared (description aside) is reused under
    its name; specs with the same name that differ only in namespaces are merged,
    others get a '-2', '-3', ... suffix.
    """
    document = copy.deepcopy(dict(targets)) if targets else _new_targets()
    body = document["spec"]
    resolved = [_with_profile(result, _profile_for(result, body)) for result in results]
    for result in resolved:
        if result.namespace not in body["namespaces"]:
            body["namespaces"].append(result.namespace)
    return document, _dedupe(resolved)


def _new_targets() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": TARGETS_KIND,
        "metadata": {"name": "imported"},
        "spec": {"namespaces": [], "profiles": {}},
    }


def _essence(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "description"}


def _profile_for(result: ImportResult, targets: dict[str, Any]) -> str:
    """The declared profile equal to the result's (description aside), or the result's, added under a free name."""
    profiles = targets.setdefault("profiles", {})
    for name, body in profiles.items():
        if _essence(body) == _essence(result.profile_body):
            return str(name)
    name = _free_name(result.profile, profiles, MAX_PROFILE_NAME)
    profiles[name] = copy.deepcopy(result.profile_body)
    return name


def _free_name(base: str, taken: Container[str], limit: int) -> str:
    if base not in taken:
        return base
    counter = 2
    while True:
        suffix = f"-{counter}"
        name = base[: limit - len(suffix)].rstrip("-") + suffix
        if name not in taken:
            return name
        counter += 1


def _with_profile(result: ImportResult, profile: str) -> ImportResult:
    spec = copy.deepcopy(result.spec)
    spec["spec"]["targets"]["profiles"] = [profile]
    notes = result.notes if profile == result.profile else (*result.notes, f"uses the declared profile '{profile}'")
    return dataclasses.replace(result, spec=spec, profile=profile, notes=tuple(notes))


def _without_namespaces(spec: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(spec))
    out["spec"]["targets"]["namespaces"] = []
    return out


def _dedupe(results: list[ImportResult]) -> list[ImportResult]:
    """Results with the same spec but their namespaces merged into one; a different spec of a taken name renamed."""
    kept: list[tuple[dict[str, Any], ImportResult]] = []  # (spec as imported, without namespaces; result as kept)
    for result in results:
        key = _without_namespaces(result.spec)
        same = next((k for k in kept if k[0] == key), None)
        if same is not None:
            namespaces = same[1].spec["spec"]["targets"]["namespaces"]
            if result.namespace not in namespaces:
                namespaces.append(result.namespace)
            continue
        taken = {k[1].name for k in kept} | {Path(TARGETS_FILE).stem}
        kept.append((key, _renamed(result, taken) if result.name in taken else result))
    return [k[1] for k in kept]


def _renamed(result: ImportResult, taken: set[str]) -> ImportResult:
    name = _free_name(result.name, taken, MAX_SPEC_NAME)
    spec = copy.deepcopy(result.spec)
    spec["metadata"]["name"] = name
    return dataclasses.replace(
        result,
        spec=spec,
        notes=(*result.notes, f"renamed to '{name}': another import is called '{result.name}'"),
    )


def update_targets_text(path: Path, index: int, merged: dict[str, Any]) -> str:
    """The Targets file with the new namespaces and profiles added, comments and layout kept (ruamel round trip)."""
    from ruamel.yaml import YAML

    # A round trip of its own: empty documents stay (`index` counts them), and so do quotes ('yes' must stay quoted).
    text = read_text(path, str(path)).replace("\r\n", "\n").replace("\r", "\n")  # written back with \n, comments too
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    nodes = list(yaml.load_all(text))
    body = nodes[index]["spec"]
    quoted = yaml.load(dump(merged["spec"]))  # new values quoted as our writer quotes them (e.g. 'yes', '010')
    for position, namespace in enumerate(merged["spec"]["namespaces"]):
        if namespace not in body["namespaces"]:
            body["namespaces"].append(quoted["namespaces"][position])
    for name in merged["spec"]["profiles"]:
        if name not in body["profiles"]:
            body["profiles"][name] = quoted["profiles"][name]
    out = io.StringIO()
    yaml.dump_all(nodes, out)
    return out.getvalue()
