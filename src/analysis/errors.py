"""Error types of the package: one root, :class:`AnalysisError`, whose subclasses carry an exit code.

Bad input is reported as ``file:row:column: what was wrong (expected ...)`` (:class:`Problem`);
the command line prints every problem and exits with the error's ``exit_code``.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """The commands' exit codes: the one table (``--help`` prints :data:`EXIT_CODES`, the run record says
    :data:`EXIT_STATUS`)."""

    OK = 0
    REPORT_FAILED = 1
    BAD_INPUT = 2
    LOCKED = 3
    NO_SCHEDULER = 4
    STOPPED = 130


#: Each exit code: the run record's status, and what it means.
EXIT_MEANINGS = {
    ExitCode.OK: ("ok", "ok"),
    ExitCode.REPORT_FAILED: (
        "failed",
        "a report failed or a file could not be written (what was published before is kept)",
    ),
    ExitCode.BAD_INPUT: ("bad input", "bad input, plan or options (nothing published)"),
    ExitCode.LOCKED: ("locked", "another run holds the lock (or the data's lock, past --wait)"),
    ExitCode.NO_SCHEDULER: ("scheduler unreachable", "the Dask scheduler cannot be reached or has no workers"),
    ExitCode.STOPPED: ("stopped", "stopped by a signal"),
}
#: The run record's status for each exit code.
EXIT_STATUS = {int(code): status for code, (status, _) in EXIT_MEANINGS.items()}
#: What the commands' exit codes mean (printed by ``--help``; the batch returns them).
EXIT_CODES = "exit codes:\n" + "\n".join(f"  {int(code):<4} {meaning}" for code, (_, meaning) in EXIT_MEANINGS.items())


class AnalysisError(Exception):
    """Root of the package's errors: a message for the operator and the exit code of the command."""

    exit_code = ExitCode.BAD_INPUT

    def lines(self) -> list[str]:
        """The message, one problem per line."""
        return str(self).splitlines() or [type(self).__name__]


class ParseError(ValueError):
    """A single cell could not be read; ``expected`` says what would have been accepted."""

    def __init__(self, message: str, expected: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected


@dataclass(frozen=True)
class Problem:
    """One problem in one cell of a raw file.

    ``row`` counts like a spreadsheet: the header is row 1, the first data row is row 2,
    so ``row`` is also the line number in the CSV file for single-line records.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    expected: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f":{self.column}"
        text = f"{where}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class ProblemsError(AnalysisError):
    """Every problem found in the cells of a file, one line each (:class:`Problem`)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class RawDataError(ProblemsError):
    """A raw file (or a figure to add or import) cannot be read or cleaned; holds every problem found."""


class TableError(ProblemsError):
    """A processed table fails its schema (a bug of the stage that made it): nothing is written."""


class PlanError(AnalysisError):
    """A plan file (assessment plan, run plan) or an option is invalid; the message names the file and the entry."""


class RegistryError(AnalysisError):
    """A registry file (``data/registry/``) is missing or has an invalid entry; the message names the file and key."""


class CurationError(AnalysisError):
    """``data/curation.yml`` is not valid or names a row wrongly; the message names the entry."""


class MissingTableError(AnalysisError, FileNotFoundError):
    """A processed table a step needs has not been made yet; the message names the command that makes it."""


class LockedError(AnalysisError):
    """Another process holds a lock this command needs (a batch run, ``clean``, ``add``); nothing was written."""

    exit_code = ExitCode.LOCKED


class WriteError(AnalysisError):
    """The disk refused a write (full, read-only, immutable folder, no permission): one line, no traceback."""

    exit_code = ExitCode.REPORT_FAILED

    @classmethod
    def from_os_error(cls, exc: OSError, doing: str) -> WriteError:
        """``doing``: what could not be done ("write data/processed"); the path and reason come from ``exc``."""
        where = f" ({exc.filename})" if exc.filename else ""
        return cls(f"could not {doing}{where}: {exc.strerror or exc}; what was published before is kept")


#: errno values of a disk that refuses writes: full, over quota, read-only, immutable or not permitted.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EPERM, errno.EACCES})
