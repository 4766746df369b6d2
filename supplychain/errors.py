"""Exceptions and located problems.

Every user-facing error in supplychain is a :class:`ScenarioError` that carries a
list of :class:`Problem` records. A problem knows the file, line and column it
refers to, the key path inside the document, what is wrong and how to fix it.
Checks collect problems and raise once, so a user can fix every problem in one
pass (the "lazy" validation of pandera, the consistency checks of PyPSA).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EngineError",
    "KeyPath",
    "Problem",
    "ScenarioError",
    "SolverError",
    "SupplyChainError",
    "SupplyChainWarning",
    "format_path",
    "sort_problems",
]

KeyPath = tuple[str | int, ...]
"""A path of mapping keys and list indices from the document root."""


def format_path(path: KeyPath) -> str:
    """Render a key path the way a user would type it.

    Parameters
    ----------
    path : tuple of str or int
        Mapping keys and list indices from the document root.

    Returns
    -------
    str
        Dotted keys with list indices in brackets; ``<root>`` for the empty path.

    Examples
    --------
    >>> format_path(("facilities", "mountain_pass", "owners", 0, "stake"))
    'facilities.mountain_pass.owners[0].stake'
    >>> format_path(())
    '<root>'
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can.

    Attributes
    ----------
    file : str
        Path of the file the problem is in (as given by the user), or ``"<api>"``
        for objects built in Python.
    line, column : int
        1-based position; 0 when unknown.
    path : tuple
        Key path inside the document.
    message : str
        What is wrong.
    hint : str
        How to fix it (may be empty).
    """

    file: str
    line: int
    column: int
    path: KeyPath = field(default=(), compare=False)
    message: str = ""
    hint: str = ""

    @property
    def location(self) -> str:
        """``file:line:column`` (line and column omitted when unknown)."""
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file

    def __str__(self) -> str:
        where = self.location
        key = format_path(self.path) if self.path else ""
        text = f"{where}: {key}: {self.message}" if key else f"{where}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class SupplyChainError(Exception):
    """Base class of every error raised on purpose by supplychain."""


class ScenarioError(SupplyChainError, ValueError):
    """One or more problems in a scenario (or other user input).

    Parameters
    ----------
    problems : sequence of Problem
        Every problem found; the message lists them all.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sort_problems(problems)
        super().__init__(self._render())

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[list[Problem]]]:
        # Survive pickling (worker processes send errors back) with every problem.
        return (type(self), (self.problems,))

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head, *(str(p) for p in self.problems)])

    @classmethod
    def merge(cls, errors: Iterable[ScenarioError]) -> ScenarioError:
        """Combine several errors into one that lists every problem."""
        problems: list[Problem] = []
        for err in errors:
            problems.extend(err.problems)
        return cls(problems)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Return ``problems`` in reading order: by file, line, column, then message."""
    return sorted(problems, key=lambda p: (p.file, p.line, p.column, p.message))


class EngineError(SupplyChainError, ValueError):
    """The model is well-formed but cannot be computed (e.g. a singular loop)."""


class SolverError(SupplyChainError, RuntimeError):
    """The optimisation solver failed or reported an infeasible/unbounded model."""


class SupplyChainWarning(UserWarning):
    """Something the user should know that does not stop the work (a cap applied, a cache not written)."""
