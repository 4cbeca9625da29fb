"""The one finding type every stage reports, and the errors that carry them."""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import enum
from typing import NamedTuple


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # something left unchecked or worth knowing: reported, counted, never a failure


class Diagnostic(NamedTuple):
    """A problem found in an input file, with the position of the offending node.

    A NamedTuple, like the other records on `validate`'s path: immutable, ordered by its
    fields, and about 20 ms cheaper to start than dataclasses (docs/performance.md).
    """

    file: str
    line: int
    column: int
    rule_id: str
    message: str
    severity: Severity = Severity.ERROR
    path: str = ""
    hint: str = ""
    document: int = 0  # index of the YAML document in its file
    object: str = ""  # "Kind/name" of the object, when known
    parts: tuple[str | int, ...] = ()  # `path` as keys and indexes, where the finding's stage knows them

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.severity.value}: {self.message} [{self.rule_id}]"
        if self.path:
            text += f"\n  at {self.path}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(Exception):
    """A problem with how the tool was called or with I/O: exit code 2."""


class FindingsError(Exception):
    """One or more input files are invalid: exit code 1."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s) found")
        self.diagnostics = sorted(diagnostics)
