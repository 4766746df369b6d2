"""``supplychain graph``: draw a scenario's supply network as SVG, PNG or DOT.

A thin layer over :func:`supplychain.api.simulate` and
:func:`supplychain.report.dot.to_dot`; only :mod:`typer` is imported at module
level so ``supplychain --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

    from supplychain.api import Result
    from supplychain.schema.model import Scenario

__all__ = ["graph"]

_SUFFIXES = (".svg", ".png", ".dot", ".gv")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _tables(result: Result, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pandas as pd

    g = result.graph(year)
    nodes = pd.DataFrame([{**d, "node": n} for n, d in g.nodes(data=True)])
    edges = pd.DataFrame([{**d, "edge": k, "supplier": u, "buyer": v} for u, v, k, d in g.edges(keys=True, data=True)])
    return nodes, edges


def _traced(scenario: Scenario, source: str, nodes: pd.DataFrame, edges: pd.DataFrame, weight: str) -> pd.Series:
    from supplychain.metrics.measures import resolve_source, traced_share_by_node

    codes = resolve_source(scenario, source, nodes["country"].astype(str).unique())
    return traced_share_by_node(nodes, edges.assign(tonnes=edges[weight].astype(float)), codes)


def graph(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario file (YAML).", show_default=False)],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE", help="Picture to write: .svg, .png or .dot.", show_default=False),
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
        str | None,
        typer.Option("--commodity", "-k", help="Only this commodity's chain (upstream and downstream of it)."),
    ] = None,
    compare_toggle: Annotated[
        str | None,
        typer.Option("--compare-toggle", metavar="NAME",
                     help="Draw what switching this toggle on changes (off → on, other toggles as given)."),
    ] = None,  # fmt: skip
    baseline: Annotated[
        bool, typer.Option("--baseline", help="Draw the baseline network (no policies, no deals), not a diff.")
    ] = False,
    mode: Annotated[str, typer.Option("--mode", help="Supply response: fixed | rebalance.")] = "rebalance",
    max_nodes: Annotated[
        int, typer.Option("--max-nodes", min=4, help="Fold small flows and plants beyond this many nodes.")
    ] = 60,
    title: Annotated[str | None, typer.Option("--title", help="Heading (default: scenario name and view).")] = None,
) -> None:
    """Draw the supply network, coloured by traced China share, as SVG, PNG or DOT.

    By default the simulated network of the chosen toggles is drawn against the
    baseline: blocked flows dashed blue, deal and new flows green, labels read
    before → after. --baseline draws the network before any policy;
    --compare-toggle NAME draws what switching NAME on changes.

    Example:

        supplychain graph scenarios/us_japan.yaml -t china_ban=on --compare-toggle us_japan_deal -o deal.svg
    """
    if output.suffix.lower() not in _SUFFIXES:
        raise _fail(f"cannot tell the image format from {output.name!r}: use a .svg, .png or .dot file name")
    if baseline and compare_toggle:
        raise _fail("give either --baseline or --compare-toggle, not both")
    if mode not in ("fixed", "rebalance"):
        raise _fail(f"--mode must be fixed or rebalance, not {mode!r}")

    from supplychain.api import load, simulate
    from supplychain.errors import SupplyChainError
    from supplychain.report.dot import render, to_dot
    from supplychain.report.html import names_of
    from supplychain.simulate.toggles import parse_toggle_args

    try:
        sc = load(scenario)
        overrides = parse_toggle_args(toggle or [])
        if compare_toggle is not None and compare_toggle not in sc.toggles:
            known = ", ".join(sorted(sc.toggles)) or "(none)"
            raise _fail(f"unknown toggle {compare_toggle!r} for --compare-toggle; the scenario has: {known}")
        years = sc.years
        draw_year = year if year is not None else (years[0] if baseline else years[-1])
        if draw_year not in years:
            raise _fail(f"--year {draw_year} is outside the scenario's years {years[0]}–{years[-1]}")
        source = sc.scenario.source_country
        names = names_of(sc)
        focus = {t.country for t in sc.targets.values()}
        mode_arg = "fixed" if mode == "fixed" else "rebalance"
        if compare_toggle is not None:
            off = simulate(sc, variant=variant, toggles={**overrides, compare_toggle: False}, mode=mode_arg)
            on = simulate(sc, variant=variant, toggles={**overrides, compare_toggle: True}, mode=mode_arg)
            n0, e0 = _tables(off, draw_year)
            n1, e1 = _tables(on, draw_year)
            before = e0.drop(columns=["status", "baseline_t"])
            after = e1.drop(columns=["status", "baseline_t"])
            dot = to_dot(
                (n1, after), compare_to=(n0, before), traced=_traced(sc, source, n1, e1, "tonnes"),
                compare_traced=_traced(sc, source, n0, e0, "tonnes"), compare_label=f"{compare_toggle}=off",
                title=title or f"{sc.scenario.name}: what {compare_toggle} changes", year=draw_year,
                commodity=commodity, max_nodes=max_nodes, names=names, focus_countries=focus,
            )  # fmt: skip
        else:
            res = simulate(sc, variant=variant, toggles=overrides or None, mode=mode_arg)
            nodes, edges = _tables(res, draw_year)
            if baseline:
                base_edges = edges.assign(tonnes=edges["baseline_t"]).drop(columns=["status", "baseline_t"])
                dot = to_dot(
                    (nodes, base_edges), traced=_traced(sc, source, nodes, edges, "baseline_t"),
                    title=title or f"{sc.scenario.name}: baseline", year=draw_year, commodity=commodity,
                    max_nodes=max_nodes, names=names, focus_countries=focus,
                )  # fmt: skip
            else:
                dot = to_dot(
                    (nodes, edges), traced=_traced(sc, source, nodes, edges, "tonnes"),
                    compare_traced=_traced(sc, source, nodes, edges, "baseline_t"),
                    title=title or f"{sc.scenario.name}: {res.variant}", year=draw_year, commodity=commodity,
                    max_nodes=max_nodes, names=names, focus_countries=focus,
                )  # fmt: skip
        written = render(dot, output)
    except (SupplyChainError, ValueError, OSError) as err:
        raise _fail(str(err)) from None
    typer.echo(f"wrote {written}")
