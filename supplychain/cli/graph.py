"""``supplychain graph``: draw a scenario's supply network as SVG, PNG or DOT.

A thin layer over :func:`supplychain.api.simulate` and
:func:`supplychain.report.dot.to_dot`; only :mod:`typer` is imported at module
level so ``supplychain --help`` stays fast.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from supplychain.cli.checks import check_ids, check_output, check_year_options
from supplychain.cli.common import echo, fail, print_warnings
from supplychain.cli.options import PathOption

if TYPE_CHECKING:
    from supplychain.errors import Problem
    from supplychain.simulation.run import Mode

__all__ = ["graph"]

_SUFFIXES = (".svg", ".png", ".dot", ".gv")


def graph(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario file (YAML).", show_default=False)],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Picture to write: .svg, .png or .dot.", show_default=False
        ),
    ],
    toggle: Annotated[
        list[str] | None,
        typer.Option("--toggle", "-t", metavar="NAME=on|off", help="Switch a toggle; repeatable."),
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="Start from a named variant's toggles.")] = None,
    year: Annotated[
        int | None,
        typer.Option("--year", "-y", help="Year to draw (default: the horizon; the base year with --baseline)."),
    ] = None,
    commodity: Annotated[
        list[str] | None,
        typer.Option(
            "--commodity", "-k", help="Only this commodity's chain (upstream and downstream of it); repeatable."
        ),
    ] = None,
    compare_toggle: Annotated[
        str | None,
        typer.Option(
            "--compare-toggle",
            metavar="NAME",
            help="Draw what switching this toggle on changes (off → on, other toggles as given).",
        ),
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline", help="Draw the baseline network (no policies, no deals), not a diff.")
    ] = False,
    mode: Annotated[str, typer.Option("--mode", help="Supply response: fixed | rebalance.")] = "rebalance",
    max_nodes: Annotated[
        int, typer.Option("--max-nodes", min=4, help="Fold small flows and plants beyond this many nodes.")
    ] = 60,
    title: Annotated[str | None, typer.Option("--title", help="Heading (default: scenario name and view).")] = None,
    path: PathOption = None,
) -> None:
    r"""Draw the supply network, coloured by the traced share of the scenario's source country, as SVG, PNG or DOT.

    By default the simulated network of the chosen toggles is drawn against the
    baseline: blocked flows dashed blue, deal and new flows green, labels read
    before → after. --baseline draws the network before any policy;
    --compare-toggle NAME draws what switching NAME on changes.

    Example:

        supplychain graph scenarios/us_japan_framework.yaml -o deal.svg \
            -t cn_ree_full_ban=on --compare-toggle us_japan_framework
    """
    if output.suffix.lower() not in _SUFFIXES:
        fail(f"cannot tell the image format from {output.name!r}: use a .svg, .png or .dot file name")
    if baseline and compare_toggle:
        fail("give either --baseline or --compare-toggle, not both")
    if mode not in ("fixed", "rebalance"):
        fail(f"--mode must be fixed or rebalance, not {mode!r}")

    from supplychain.io import load

    check_output(output)  # a folder, a device or a folder that cannot be written: refused now, not after
    warned: list[Problem] = []
    sc = load(scenario, extra_roots=path or (), warnings=warned)
    print_warnings(warned, scenario)
    if compare_toggle is not None and compare_toggle not in sc.toggles:
        known = ", ".join(sorted(sc.toggles)) or "(none)"
        fail(f"unknown toggle {compare_toggle!r} for --compare-toggle; the scenario has: {known}")
    years = sc.years
    draw_year = year if year is not None else (years[0] if baseline else years[-1])
    check_year_options("--year", [draw_year], years)
    check_ids("--commodity", commodity or [], sc.commodities, "commodity of this scenario")

    from supplychain.api import simulate
    from supplychain.report.dot import names_of, render, to_dot
    from supplychain.report.engine_notes import picture_note
    from supplychain.report.figures import result_tables
    from supplychain.report.figures import traced_by_node as _traced
    from supplychain.report.headline import source_name
    from supplychain.simulation.toggles import check_cli_names, parse_toggle_args

    overrides = parse_toggle_args(toggle or [])
    check_cli_names(sc, toggles=overrides, variants=[variant] if variant else [])
    source = sc.scenario.source_country
    mode_arg: Mode = "fixed" if mode == "fixed" else "rebalance"
    draw = partial(
        to_dot, year=draw_year, commodity=commodity or None, max_nodes=max_nodes, names=names_of(sc),
        focus_countries={t.country for t in sc.targets.values()}, source=source_name([source], names_of(sc)),
        footnote=picture_note(mode_arg, baseline=baseline),
    )  # fmt: skip
    if compare_toggle is not None:
        off = simulate(sc, variant=variant, toggles={**overrides, compare_toggle: False}, mode=mode_arg)
        on = simulate(sc, variant=variant, toggles={**overrides, compare_toggle: True}, mode=mode_arg)
        n0, e0 = result_tables(off, draw_year)
        n1, e1 = result_tables(on, draw_year)
        dot = draw(
            (n1, e1.drop(columns=["status", "baseline"])),
            compare_to=(n0, e0.drop(columns=["status", "baseline"])),
            traced=_traced(sc, source, n1, e1, "simulated"),
            compare_traced=_traced(sc, source, n0, e0, "simulated"),
            compare_label=f"{compare_toggle}=off",
            title=title or f"{sc.scenario.name}: what {compare_toggle} changes",
        )
    else:
        res = simulate(sc, variant=variant, toggles=overrides or None, mode=mode_arg)
        nodes, edges = result_tables(res, draw_year)
        if baseline:
            dot = draw(
                (nodes, edges.assign(tonnes=edges["baseline"]).drop(columns=["status", "baseline", "simulated"])),
                traced=_traced(sc, source, nodes, edges, "baseline"),
                title=title or f"{sc.scenario.name}: baseline",
                )
        else:
            dot = draw(
                (nodes, edges),
                traced=_traced(sc, source, nodes, edges, "simulated"),
                compare_traced=_traced(sc, source, nodes, edges, "baseline"),
                title=title or f"{sc.scenario.name}: {res.variant}",
                )
    written = render(dot, output)
    echo(f"wrote {written}")
