"""``supplychain report``: simulate scenarios and write the HTML report folder.

A thin layer over :func:`supplychain.report.html.run_scenario` and
:func:`supplychain.report.html.write_report`; only :mod:`typer` is imported at
module level so ``supplychain --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from supplychain.cli.common import AllocationOption, echo, fail, parse_allocation

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
        str, typer.Option("--title", help="Page title.")
    ] = "Critical-mineral supply chains: exposure to China",
) -> None:
    """Simulate every variant of each scenario and write a self-contained HTML report.

    The folder gets index.html (no external resources), summary.md, measures.csv,
    shortfall.csv, flows.csv, targets.csv, results.json and images/ (SVG and PNG).
    It is written atomically; an existing folder is replaced only if it holds
    nothing but an earlier report (files you added there make it refuse).

    Example:

        supplychain report scenarios/ --output out/report --mode rebalance
    """
    if mode not in ("fixed", "rebalance"):
        fail(f"--mode must be fixed or rebalance, not {mode!r}")

    allocation_arg = parse_allocation(allocation)

    from supplychain.io import validate_paths
    from supplychain.report.folder import check_target
    from supplychain.report.html import run_scenario, write_report

    check_target(output)  # before simulating: a folder in the way is refused at once
    reports = validate_paths(paths)
    bad = [r for r in reports if r.error is not None]
    for r in bad:
        echo(f"FAIL {r.file}: {r.error}", err=True)
    if bad:
        fail(f"{len(bad)} scenario file(s) have problems; nothing was written")
    found = [r for r in reports if r.scenario is not None]
    if not found:
        fail("no scenario files found (a scenario file has a top-level `scenario:` section)")
    runs = []
    for r in found:
        if r.scenario is None:
            continue
        echo(f"simulating {r.file} ({mode})", err=True)
        runs.append(run_scenario(r.scenario, mode="fixed" if mode == "fixed" else "rebalance", file=r.file,
                                 allocation=allocation_arg))
    out = write_report(runs, output, title=title)
    echo(f"wrote {out / 'index.html'} ({len(runs)} scenario(s))")
