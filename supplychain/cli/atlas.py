"""``supplychain atlas``: the critical-minerals headline table from the USGS release.

A thin layer over :func:`supplychain.minerals.atlas`; only :mod:`typer` is
imported at module level so ``supplychain --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from supplychain.cli.common import echo, fail

__all__ = ["atlas"]


def atlas(
    scenario: Annotated[
        list[Path] | None,
        typer.Option("--scenario", "-s", metavar="FILE", help="Scenario whose traced China share of US supply "
                     "fills the traced column (repeatable; the rare-earth chain first, then the first file that "
                     "models a mineral).",
                     show_default=False),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", metavar="DIR", help="A USGS MCS 2025 release folder (default: the bundled copy).",
                     show_default=False),
    ] = None,
    sort: Annotated[
        str, typer.Option("--sort", help="Row order: list | nir | published | china | rank | traced | name.")
    ] = "list",
    chart: Annotated[
        Path | None,
        typer.Option("--chart", metavar="FILE", help="Write the ranked chart (.svg or .png).", show_default=False),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the full atlas (.csv), or the report section "
                     "(.md or .html).", show_default=False),
    ] = None,
    all_rows: Annotated[
        bool, typer.Option("--all", help="One row per lanthanide instead of one rare-earth row.")
    ] = False,
    controls: Annotated[
        Path | None,
        typer.Option("--controls", metavar="FILE", help="Also simulate this scenario (e.g. "
                     "scenarios/china_controls_all_minerals.yaml) in both response modes and print the US shortfall "
                     "and traced China share per mineral.", show_default=False),
    ] = None,
    controls_year: Annotated[
        int | None, typer.Option("--controls-year", metavar="YEAR", help="Year of the --controls table "
                                 "(default: the scenario's last year).", show_default=False)
    ] = None,
    controls_variant: Annotated[
        str, typer.Option("--controls-variant", metavar="NAME", help="Variant of the --controls table.")
    ] = "base",
    toggle: Annotated[
        list[str] | None,
        typer.Option("--toggle", "-t", metavar="NAME=on|off", help="Switch a toggle of the --controls scenario; "
                     "repeatable (e.g. cn_us_ban_all=on).", show_default=False),
    ] = None,
) -> None:
    """Per critical mineral: US net import reliance recomputed and published, China's share and rank.

    Reads the USGS Mineral Commodity Summaries 2025 data release (bundled) and
    prints one row per mineral of the 2022 list and the 2025 additions, then the
    headline: fully import-reliant for N of the 50, more than half for M, against
    USGS's counts and the press article's claims.

    Example:

        supplychain atlas --sort nir --chart atlas.svg --scenario scenarios/china_controls_all_minerals.yaml
    """
    from supplychain.cli.common import print_table
    from supplychain.errors import SupplyChainError
    from supplychain.io import load
    from supplychain.io.atomic import atomic_write_text
    from supplychain.minerals import SORT_KEYS, atlas_html, atlas_markdown, controls_section, display_table, headline
    from supplychain.minerals import atlas as build
    from supplychain.minerals.chart import save_ranked_chart
    from supplychain.minerals.headline import headline_lines
    from supplychain.minerals.render import CONTROLS_STAR_NOTE, controls_display, display_notes, starred
    from supplychain.simulation.toggles import check_cli_names, parse_toggle_args

    if sort not in SORT_KEYS:
        fail(f"--sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
    if output is not None and output.suffix.lower() not in (".csv", ".md", ".html"):
        fail(f"--output must end in .csv, .md or .html, not {output.name!r}")
    if chart is not None and chart.suffix.lower() not in (".svg", ".png"):
        fail(f"--chart must end in .svg or .png, not {chart.name!r}")
    table = None
    try:
        frame = build(data, scenarios=scenario or (), sort=sort)
        if controls is not None:
            world = load(controls)
            overrides = parse_toggle_args(toggle or [])
            check_cli_names(world, toggles=overrides, variants=[] if controls_variant == "base" else [controls_variant])
            table = controls_section(world, year=controls_year, variant=controls_variant, toggles=overrides or None)
    except SupplyChainError as err:
        fail(str(err))
    h = headline(frame)
    print_table(display_table(frame, collapse=not all_rows), "US net import reliance 2024 and China (USGS MCS 2025)",
                max_rows=100)
    for line in headline_lines(h):
        echo(line)
    for note in display_notes(frame):
        echo(note)
    if table is not None:
        shown = controls_display(table[1])
        print_table(shown, table[0], max_rows=100)
        if starred(shown):
            echo(CONTROLS_STAR_NOTE)
    try:
        if chart is not None:
            save_ranked_chart(frame, chart)
            echo(f"wrote {chart}")
        if output is not None:
            suffix = output.suffix.lower()
            text = (frame.to_csv(index=False, lineterminator="\n") if suffix == ".csv"
                    else atlas_markdown(frame, h, controls=table) if suffix == ".md"
                    else atlas_html(frame, h, controls=table))
            atomic_write_text(output, text)
            echo(f"wrote {output}")
    except OSError as err:
        fail(f"cannot write: {err.strerror or err}")
