"""User-facing errors: one line that names the file, the row or field, and the problem.

The CLI prints ``error: <message>`` and exits with status 2 for :class:`InputError`; anything else is an
internal failure (status 3).
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input from the user (a file, a config, an argument). Printed as one line, never a traceback.

    Parameters
    ----------
    problem : str
        What is wrong and, where useful, what to do about it.
    file : path-like, optional
        The file at fault; its name leads the message.
    row : int, optional
        1-based line number in the file (header lines counted).
    field : str, optional
        The column, YAML field or argument at fault.
    """

    def __init__(self, problem: str, *, file: str | Path | None = None, row: int | None = None,
                 field: str | None = None) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.row = row
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = []
        if self.file:
            where.append(Path(self.file).name if len(self.file) > 60 else self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"column {self.field!r}" if self.row is not None else self.field)
        prefix = " ".join(where)
        return f"{prefix}: {self.problem}" if prefix else self.problem
