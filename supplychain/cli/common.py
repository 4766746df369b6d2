"""Helpers shared by the subcommands: clean failures, safe text, option parsing and rich tables.

Every command is registered through :func:`guarded` (``supplychain.cli.app``): an
error the package raises on purpose (:class:`~supplychain.errors.SupplyChainError`,
an :class:`OSError` reading or writing a file, a missing optional dependency) is
printed as ``error: …`` — located at file:line:column where the input is to blame —
with a non-zero exit status, never as a traceback. Everything printed goes through
:func:`~supplychain.report.escape.clean_text`, so text from a scenario cannot drive
the terminal. :func:`install_signal_handlers` makes SIGTERM exit like SIGINT does,
running every clean-up on the way out.

Only :mod:`typer` and the small :mod:`supplychain.errors` are imported at module
level; rich and pandas are imported inside the functions so ``supplychain --help``
stays fast.
"""

from __future__ import annotations

import functools
import gc
import os
import signal
import sys
import warnings
from collections.abc import Callable, Collection, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, NoReturn, ParamSpec, TypeVar, cast

import typer

from supplychain.errors import EngineError, Problem, ScenarioError, SolverError, SupplyChainError, SupplyChainWarning

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AllocationOption", "BlocksOption", "ObjectiveOption", "describe_error", "echo", "fail", "freeze_imports",
           "guarded", "install_signal_handlers", "only_commodities", "parse_allocation", "parse_blocks", "parse_mode",
           "parse_objective", "print_table", "print_warnings", "warn"]

ALLOCATIONS = ("contracts_first", "home_first", "proportional", "max_delivery")
"""The allocation rules (``supplychain.simulation.rationing.RULES``; kept here so ``--help`` imports no numpy)."""

_P = ParamSpec("_P")
_R = TypeVar("_R")

USER_ERRORS: tuple[type[BaseException], ...] = (SupplyChainError, OSError, ImportError)
"""What every command reports as ``error: …`` (the package's own errors, file-system errors, missing extras)."""


def echo(message: object, *, err: bool = False, nl: bool = True) -> None:
    """Print text with control characters made visible (:func:`~supplychain.report.escape.clean_text`)."""
    from supplychain.report.escape import clean_text

    typer.echo(clean_text(message, newlines=True), err=err, nl=nl)


def warn(message: object) -> None:
    """Print ``warning: message`` to stderr."""
    echo(f"warning: {message}", err=True)


def print_warnings(problems: Sequence[Problem], scenario: str | os.PathLike[str] | None = None) -> None:
    """Print a scenario's load warnings on stderr, one ``warn file:line:column: …`` each, its hint below.

    The warnings of :func:`~supplychain.schema.references.check_warnings` (allowed, probably not
    meant: a policy never in force in the scenario's years, a preference that cannot matter),
    as :func:`supplychain.io.load` collects them with ``warnings=``; ``validate`` prints them so
    and ``run``, ``compare``, ``report``, ``sweep`` and ``graph`` once after loading, without a traceback.
    With ``scenario`` (the file loaded), a warning located in another file (a world file it
    extends, shared by many scenarios) names the scenario first: ``warn [scenarios/x.yaml]
    scenarios/world/y.yaml:12:5: …``.
    """
    for problem in problems:
        read_for = scenario is not None and os.path.normpath(problem.file) != os.path.normpath(scenario)
        echo(f"warn [{os.fspath(scenario)}] {problem}" if read_for and scenario is not None else f"warn {problem}",
             err=True)


def fail(message: object, code: int = 1) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code`` (a user error: no traceback)."""
    echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _os_message(err: OSError) -> str:
    """``FILE: reason`` for an OS error (``FILE → OTHER: reason`` for a rename)."""
    reason = err.strerror or str(err)
    if err.filename is None:
        return reason
    where = os.fsdecode(err.filename)
    if err.filename2 is not None:
        where += f" → {os.fsdecode(err.filename2)}"
    return f"{where or repr(where)}: {reason}"


def describe_error(err: BaseException) -> tuple[str, int]:
    r"""Return the message and exit status a command shows for an error it reports.

    A scenario's problems are listed with file:line:column; an
    :class:`~supplychain.errors.EngineError` located in the scenario (a closed
    trade loop) shows those located problems; a solver failure exits with 2.

    Examples
    --------
    >>> from supplychain.errors import Problem, ScenarioError
    >>> describe_error(ScenarioError([Problem("s.yaml", 3, 5, ("flows", "a"), "bad", "fix it")]))
    ('1 problem found:\ns.yaml:3:5: flows.a: bad\n    hint: fix it', 1)
    >>> describe_error(IsADirectoryError(21, "Is a directory", "out"))
    ('out: Is a directory', 1)
    """
    if isinstance(err, EngineError) and isinstance(err.__cause__, ScenarioError):
        return str(err.__cause__), 1
    if isinstance(err, SolverError):
        return str(err), 2
    if isinstance(err, OSError):
        return _os_message(err), 1
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0]), 1
    return str(err), 1


def _warning_printer(default: Callable[..., None]) -> Callable[..., None]:
    """Make a ``warnings.showwarning`` that prints the package's warnings as ``warning: …`` lines."""

    def show(message: Warning | str, category: type[Warning], *rest: Any) -> None:
        if issubclass(category, SupplyChainWarning):
            warn(message)
        else:
            default(message, category, *rest)

    return show


def interrupted_line(output: object, existed: bool) -> str:
    """Say what became of a command's ``--output`` when Ctrl-C stopped it (one line, printed instead of a traceback).

    Every output is written atomically (:mod:`supplychain.io.atomic`): an interrupted command
    leaves an earlier output as it was and writes no part of a new one.

    Examples
    --------
    >>> from pathlib import Path
    >>> interrupted_line(Path("out"), True), interrupted_line(Path("out"), False), interrupted_line(None, False)
    ('interrupted: out left as it was', 'interrupted: nothing written to out', 'interrupted')
    """
    if not isinstance(output, os.PathLike):
        return "interrupted"
    where = os.fspath(output)
    return f"interrupted: {where} left as it was" if existed else f"interrupted: nothing written to {where}"


def guarded(command: Callable[_P, _R], *, also: tuple[type[BaseException], ...] = ()) -> Callable[_P, _R]:
    """Wrap a command so the errors it reports are clean messages and its warnings ``warning:`` lines.

    Parameters
    ----------
    command : callable
        The typer command function.
    also : tuple of exception types
        Further errors the command's API raises on bad arguments (e.g. ``ValueError``).

    Returns
    -------
    callable
        The command, with the same signature (typer reads it through ``__wrapped__``).
    """
    caught = (*USER_ERRORS, *also)

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        output = kwargs.get("output")
        existed = isinstance(output, os.PathLike) and os.path.lexists(output)
        with warnings.catch_warnings():
            warnings.simplefilter("always", SupplyChainWarning)
            warnings.showwarning = _warning_printer(warnings.showwarning)
            try:
                return command(*args, **kwargs)
            except caught as err:
                message, code = describe_error(err)
                fail(message, code)
            except KeyboardInterrupt:  # Ctrl-C: one line, no traceback (outputs are written whole or not at all)
                echo(interrupted_line(output, existed), err=True)
                raise typer.Exit(130) from None

    return run


def freeze_imports() -> None:
    """Keep what a command imported out of the garbage collector's scans (:func:`gc.freeze`).

    pandas, SciPy, pydantic and the package live as long as the command; without this,
    each full collection while it runs walks every one of their objects again. Called by
    a command once its imports are done. Measured on ``run scenarios/baseline_2024.yaml``:
    1.05 → 0.93 s CPU (``docs/performance.md``).
    """
    gc.freeze()


def _terminate(signum: int, frame: FrameType | None) -> None:
    """Leave like an interrupt: ``finally`` blocks run, workers stop, temporary files go.

    While the command forks its workers the exit waits for the end of the forking
    (:func:`~supplychain.parallel.processes.hold_exit`): raised inside an at-fork function, it would be lost.
    """
    processes = sys.modules.get("supplychain.parallel.processes")  # not imported: no worker forked from here
    leave = SystemExit(128 + signum)
    if processes is not None and processes.hold_exit(leave):
        return
    raise leave


def install_signal_handlers() -> None:
    """Turn SIGTERM (``kill PID``, ``Popen.terminate()``) into a clean exit with status 143."""
    signal.signal(signal.SIGTERM, _terminate)


def _one_of(flag: str, value: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else fail naming ``flag`` and the choices."""
    if value not in choices:
        fail(f"{flag} must be {' or '.join(choices)}, not {value!r}")
    return value


def parse_mode(mode: str) -> Literal["fixed", "rebalance"]:
    """Check a ``--mode`` value.

    Raises
    ------
    typer.Exit
        For anything but ``fixed`` or ``rebalance``.
    """
    return cast(Literal["fixed", "rebalance"], _one_of("--mode", mode, ("fixed", "rebalance")))


WEIGHTED_NOTE: Final = "objective weighted: approximate priorities, more demand may go unmet than by default"
"""Said in the title of ``run`` and ``compare`` under ``--objective weighted`` (``docs/rebalance.md``)."""


def parse_objective(objective: str) -> Literal["lexicographic", "weighted"]:
    """Check an ``--objective`` value (the rebalance LP's priority handling, ``docs/rebalance.md``).

    Raises
    ------
    typer.Exit
        For anything but ``lexicographic`` or ``weighted``.
    """
    return cast(Literal["lexicographic", "weighted"], _one_of("--objective", objective, ("lexicographic", "weighted")))


def parse_allocation(allocation: str | None) -> Any:
    """Check an ``--allocation`` value (who goes short under ``rebalance``; None: the scenario's).

    Raises
    ------
    typer.Exit
        For anything but one of :data:`ALLOCATIONS`.
    """
    if allocation is None:
        return None
    return _one_of("--allocation", allocation, ALLOCATIONS)


AllocationOption = Annotated[
    str | None, typer.Option(
        "--allocation", metavar="RULE",
        help="Who goes short under rebalance: contracts_first (default: nobody worse off than fixed, the rest "
             "rationed max-min fair, partners first) | home_first (own use before exports) | proportional "
             "(equal shares) | max_delivery (most tonnes: an upper bound). Default: the scenario's response.")
]
"""``--allocation`` of ``run``, ``compare``, ``report`` and ``sweep`` (checked by :func:`parse_allocation`)."""

ObjectiveOption = Annotated[
    str, typer.Option("--objective", help="Rebalance priorities: lexicographic (exact, the default) | weighted "
                                          "(one solve, approximate: it may leave more demand unmet).")
]
"""``--objective`` of ``run`` and ``compare`` (checked by :func:`parse_objective`)."""

BlocksOption = Annotated[
    int, typer.Option("--blocks", metavar="N",
                      help="Rebalance LP block by block (independent commodity chains): 0 one LP, 1 block by "
                           "block, N > 1 on N threads. Same optima; faster on many unlinked chains.")
]
"""``--blocks`` of ``run`` and ``compare`` (checked by :func:`parse_blocks`)."""


def parse_blocks(blocks: int) -> bool | int:
    """Turn ``--blocks N`` into ``simulate(blocks=...)``: 0 one LP, 1 block by block, N > 1 on N threads.

    Raises
    ------
    typer.Exit
        For a negative number.
    """
    if blocks < 0:
        fail(f"--blocks must be 0 (one LP), 1 (block by block) or the number of threads, not {blocks}")
    return blocks if blocks > 1 else blocks == 1


def only_commodities(df: pd.DataFrame, commodities: Sequence[str] | None) -> pd.DataFrame:
    """Keep the rows of ``df`` about ``commodities`` (all rows without them, or for a table without a commodity)."""
    if not commodities or "commodity" not in df.columns:
        return df
    return df[df["commodity"].isin(list(commodities))]


def print_table(df: pd.DataFrame, title: str, *, max_rows: int = 40, more_hint: str = "use --output",
                shares: Collection[str] | None = None, right: Collection[str] = (),
                share_rows: Sequence[bool] | None = None) -> None:
    """Print a DataFrame as a rich table, cut after ``max_rows`` with a hint.

    Cells read as in the report (:mod:`supplychain.report.numbers`): shares as
    percentages, quantities in plain digits with thousands separators, round-off as 0.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    title : str
        Its title.
    max_rows : int
        Rows shown; a line says how many more there are, with ``more_hint``.
    more_hint : str
        How to see the rest.
    shares : collection of str, optional
        Columns holding shares (default: the names :func:`~supplychain.report.numbers.is_share` recognises).
    right : collection of str
        Columns of numbers already formatted as text, aligned right like numeric columns.
    share_rows : sequence of bool, optional
        Rows whose float cells are all shares (:func:`~supplychain.report.numbers.display_frame`).
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from supplychain.report.escape import clean_text
    from supplychain.report.numbers import display_frame

    def text(value: object) -> Text:  # plain text: no rich markup, no control characters
        return Text(clean_text(value))

    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # files and pipes: no truncated columns
    table = Table(title=text(title), title_justify="left")
    for col in df.columns:
        numeric = df[col].dtype.kind in "fiub" or col in right
        table.add_column(text(col), justify="right" if numeric else "left", no_wrap=True)
    head = df.head(max_rows)
    rows = None if share_rows is None else list(share_rows)[:max_rows]
    for row in display_frame(head, shares, share_rows=rows).itertuples(index=False):
        table.add_row(*(text(v) for v in row))
    console.print(table)
    if len(df) > max_rows:
        console.print(text(f"… {len(df) - max_rows} more rows; {more_hint}"))
