"""``supplychain report``: simulate scenarios and write the HTML report folder.

A thin layer over :func:`supplychain.report.runs.run_all` and
:func:`supplychain.report.html.write_report`; only :mod:`typer` is imported at
module level so ``supplychain --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from supplychain.cli.checks import check_ids, check_output
from supplychain.cli.common import AllocationOption, echo, fail, freeze_imports, parse_allocation, print_warnings
from supplychain.cli.options import CountryOption, PathOption

__all__ = ["report"]


def report(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="SCENARIO_OR_DIR...",
            help="Scenario files, or folders: every *.yaml in them with a top-level `scenario:` section.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="DIR", help="Report folder to write (created or replaced).", show_default=False
        ),
    ],
    mode: Annotated[str, typer.Option("--mode", help="Supply response: fixed | rebalance.")] = "rebalance",
    allocation: AllocationOption = None,
    title: Annotated[
        str | None,
        typer.Option("--title", help="Page title (default: exposure to the scenarios' source country, by name).",
                     show_default=False),
    ] = None,
    country: CountryOption = None,
    year: Annotated[
        int | None, typer.Option("--year", "-y", help="Focus year of each section (default: the targets' year).")
    ] = None,
    full_measures: Annotated[
        bool, typer.Option("--full-measures", help="Also write every measure (per partner, origin, concentration) "
                           "as measures_full.csv.gz; measures.csv holds what the report shows.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=0,
                          help="Scenarios simulated and drawn side by side on local worker processes "
                               "(0 = one per CPU).")
    ] = 0,
    path: PathOption = None,
    commodity: Annotated[
        str | None,
        typer.Option("--commodity", metavar="ID", show_default=False,
                     help="Focus commodity of the answers at the top and of the chain pictures "
                          "(default: what each focus country uses furthest down the chain, e.g. magnets)."),
    ] = None,
    png: Annotated[
        bool, typer.Option("--png", help="Also write every picture and chart as PNG into images/ (slides).")
    ] = False,
    full_networks: Annotated[
        bool, typer.Option("--full-networks", help="Also write each variant's whole network as an SVG file.")
    ] = False,
) -> None:
    """Simulate every variant of each scenario and write a self-contained HTML report.

    The folder gets index.html (no external resources; it opens with one answer per
    focus country: exposure, traced share of the source country and shortfall in every scenario and
    variant), summary.md, tables.xlsx (a sheet per focus country: measures × years per
    variant; shortfall and flows as Excel tables), measures.csv (the measures the report
    shows, of the focus countries; every measure with --full-measures, as
    measures_full.csv.gz), shortfall.csv (with the fixed bound's rows under rebalance:
    column response), flows.csv.gz (every flow, gzipped),
    targets.csv, results.json and images/ (SVG; PNG with --png).
    It is written atomically; an existing folder is replaced only if it holds
    nothing but an earlier report (files you added there make it refuse).
    --country and --year choose what each section is about: the commodities
    those countries use, shown in that year (a scenario that ends earlier shows
    its last year, and says so).

    Example:

        supplychain report scenarios/ --output out/report --mode rebalance --country US --country JP --year 2030

        supplychain report scenarios/ --output out/report --country US --commodity ndfeb_magnet --png
    """
    if mode not in ("fixed", "rebalance"):
        fail(f"--mode must be fixed or rebalance, not {mode!r}")

    allocation_arg = parse_allocation(allocation)

    from supplychain.parallel.processes import start_worker_server

    if workers != 1:  # scenarios and sections are simulated and drawn on workers: their server imports now
        start_worker_server()

    from supplychain.io import validate_paths
    from supplychain.report.folder import check_target
    from supplychain.report.html import write_report
    from supplychain.report.runs import run_all
    from supplychain.schema.countries import check_codes

    freeze_imports()
    check_target(output)  # before simulating: a folder in the way is refused at once
    check_output(output, folder=True)  # and a folder that cannot be written
    reports = validate_paths(paths, extra_roots=path or ())
    bad = [r for r in reports if r.error is not None]
    for r in reports:
        if r.error is not None:
            echo(f"FAIL {r.file}: {r.error}", err=True)
        print_warnings(r.warnings, r.file)
    if bad:
        fail(f"{len(bad)} scenario file(s) have problems; nothing was written")
    found = [r for r in reports if r.scenario is not None]
    if not found:
        fail("no scenario files found (a scenario file has a top-level `scenario:` section)")
    unknown = {str(p) for r in found for p in check_codes(r.scenario, country or [], ("--country",), origin="<cli>")}
    if unknown and all(check_codes(r.scenario, country or [], ("--country",)) for r in found):
        fail("\n".join(sorted(unknown)))
    if year is not None and not any(r.scenario is not None and year in r.scenario.years for r in found):
        fail(f"--year {year} is outside the years of every scenario given")
    check_ids("--commodity", [commodity] if commodity else [],
              (k for r in found if r.scenario for k in r.scenario.commodities), "commodity of any scenario given")
    todo = [(r.scenario, r.file) for r in found if r.scenario is not None]
    echo(f"simulating {len(todo)} scenario(s) ({mode}): {', '.join(str(f) for _, f in todo)}", err=True)
    runs = run_all(todo, mode="fixed" if mode == "fixed" else "rebalance", allocation=allocation_arg, workers=workers)
    out = write_report(runs, output, title=title, countries=country or (), year=year, commodity=commodity,
                       png=png, full_networks=full_networks, full_measures=full_measures, workers=workers)
    echo(f"wrote {out / 'index.html'} ({len(runs)} scenario(s))")
