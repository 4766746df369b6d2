"""``supplychain import``: public data sets to sourced scenario fragments (one command per source)."""

from __future__ import annotations

import typer

from supplychain.cli.import_usgs import usgs_mcs

__all__ = ["import_app"]

import_app = typer.Typer(
    name="import",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Import public data sets into sourced scenario fragments.",
)
import_app.command("usgs-mcs")(usgs_mcs)
