"""Helpers shared by the subcommands: clean failures, option parsing and rich tables.

Only :mod:`typer` is imported at module level; rich and pandas are imported
inside the functions so ``supplychain --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, cast

import typer

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AllocationOption", "BlocksOption", "ObjectiveOption", "fail", "fmt", "parse_allocation", "parse_blocks",
           "parse_mode", "parse_objective", "print_table"]

ALLOCATIONS = ("contracts_first", "home_first", "proportional", "max_delivery")
"""The allocation rules (``supplychain.simulation.rationing.RULES``; kept here so ``--help`` imports no numpy)."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code`` (a user error: no traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


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
    str, typer.Option("--objective", help="Rebalance priorities: lexicographic (exact) | weighted (one solve).")
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


def fmt(value: Any) -> str:
    """Format a table cell: shares and small numbers to 4 significant digits, NaN as an en dash."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.4g}"
    return str(value)


def print_table(df: pd.DataFrame, title: str, *, max_rows: int = 40, more_hint: str = "use --output") -> None:
    """Print a DataFrame as a rich table, cut after ``max_rows`` with a hint."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # files and pipes: no truncated columns
    table = Table(title=title, title_justify="left")
    for col in df.columns:
        table.add_column(str(col), justify="right" if df[col].dtype.kind in "fiub" else "left", no_wrap=True)
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*(fmt(v) for v in row))
    console.print(table)
    if len(df) > max_rows:
        console.print(f"… {len(df) - max_rows} more rows; {more_hint}")
