"""Checks of command-line choices made before any simulation: years, ids and output paths.

One function each, shared by ``run``, ``compare``, ``sweep``, ``report`` and ``graph``, so
that a typo costs a second, not a simulation or a sweep: each failure is ``error: …`` on
stderr, exit status 1, with the closest id
(:func:`~supplychain.schema.references.did_you_mean`) or the choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from supplychain.cli.common import fail

__all__ = ["check_ids", "check_output", "check_year_options"]

_LISTED = 40
"""At most this many choices are listed when no close match is found."""


def check_year_options(flag: str, asked: Iterable[int], years: Sequence[int]) -> None:
    """Fail on the first year of ``asked`` outside the scenario's ``years`` (``--year 2040 is outside …``)."""
    for y in asked:
        if y not in years:
            span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
            fail(f"{flag} {y} is outside the scenario's years {span}")


def check_ids(flag: str, asked: Iterable[str], known: Iterable[str], what: str) -> None:
    """Fail on the first id of ``asked`` not in ``known``, with the closest id or the list of them.

    ``what`` names the kind of id (``"commodity of this scenario"``, ``"measure"``).

    Examples
    --------
    >>> import typer
    >>> try:
    ...     check_ids("--commodity", ["ndfeb_magnets"], ["ndfeb_magnet", "ndpr_oxide"], "commodity of this scenario")
    ... except typer.Exit as e:
    ...     print(e.exit_code)
    1
    """
    from supplychain.schema.references import did_you_mean

    options = sorted(set(known))
    for word in asked:
        if word in options:
            continue
        listed = ", ".join(options[:_LISTED]) + (" …" if len(options) > _LISTED else "")
        hint = did_you_mean(word, options, f"the {what.split()[0]} ids are: {listed}")
        fail(f"{flag} {word!r} is not a {what}; {hint}")


def check_output(target: Path | None, *, folder: bool = False) -> None:
    """Fail now if ``target`` cannot be written (:func:`~supplychain.io.atomic.check_writable`), not after the work."""
    if target is None:
        return
    from supplychain.io.atomic import check_writable

    try:
        check_writable(target, folder=folder)
    except OSError as err:
        from supplychain.cli.common import describe_error

        fail(describe_error(err)[0])
