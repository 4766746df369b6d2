"""``supplychain import usgs-mcs``: the USGS MCS 2025 data release to scenario fragments.

A thin layer over :func:`supplychain.importers.usgs_mcs.import_usgs_mcs`; only
:mod:`typer` is imported at module level so ``supplychain --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from supplychain.cli.common import echo, fail

__all__ = ["usgs_mcs"]


def usgs_mcs(
    source: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="The release folder (world_data/, industry_trends/, salient/).",
                       show_default=False),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="DIR", help="Folder to write (created, or replaced when it holds "
                     "an earlier import).", show_default=False),
    ],
    hold_to: Annotated[
        int, typer.Option("--hold-to", metavar="YEAR", help="Repeat the 2024 US imports and exports up to this "
                          "year (marked as an assumption).")
    ] = 2026,
) -> None:
    """Write one scenario fragment per critical mineral from the USGS MCS 2025 data release.

    Every figure cites the file and row it came from; withheld (W) and missing
    figures are listed in coverage.md, never filled in. Re-running on the same
    files writes the same bytes.

    Example:

        supplychain import usgs-mcs supplychain/data/usgs_mcs2025 --output scenarios/world/minerals
    """
    from supplychain.importers.usgs_mcs import import_usgs_mcs

    if not 2024 <= hold_to <= 2100:
        fail(f"--hold-to must be a year from 2024 to 2100, not {hold_to}")
    try:
        result = import_usgs_mcs(source, output, hold_to=hold_to)
    except OSError as err:
        fail(f"cannot write {output}: {err.strerror or err}")
    echo(f"wrote {len(result.fragments)} commodity fragments, sources.yaml, minerals.yaml and coverage.md "
               f"to {result.output}")
    echo(f"not modelled (see coverage.md): {', '.join(result.not_modelled)}")
    echo(f"figures left out as withheld, not available or bound-only: {result.left_out}")
