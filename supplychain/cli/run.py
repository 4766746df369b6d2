"""``supplychain run``: simulate a scenario and print or save its measures.

A thin layer over :func:`supplychain.api.simulate`. Exit status: 0 on success
(whatever the targets say, their verdicts are printed), 1 for bad input, 2 when
the solver fails, 3 with ``--check-targets`` when a target is missed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supplychain.cli.checks import check_ids, check_output, check_year_options
from supplychain.cli.common import (
    WEIGHTED_NOTE,
    AllocationOption,
    BlocksOption,
    ObjectiveOption,
    echo,
    fail,
    freeze_imports,
    only_commodities,
    parse_allocation,
    parse_blocks,
    parse_mode,
    parse_objective,
    print_table,
    print_warnings,
)
from supplychain.cli.options import CommodityOption, PathOption

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from supplychain.api import Result
    from supplychain.errors import Problem
    from supplychain.report.rule_range import RuleRange
    from supplychain.schema.model import Scenario

__all__ = ["HEADLINE", "allocation_rule_lines", "exporter_import_notes", "exporter_note", "policies_in_force",
           "response_tables", "result_json",
           "run", "solver_line"]

HEADLINE = ("exposed_share", "traced_share", "direct_import_share", "net_import_reliance", "shortfall_share")
"""Measures shown in the terminal table, one column each."""

FORMATS = ("table", "json", "csv")


def exporter_note() -> str:
    """Return the line under a table that shows a net exporter.

    What one is: :data:`~supplychain.report.numbers.NET_EXPORTER_MEANING`. A function, not a
    constant, so ``supplychain --help`` does not import the report's formats.
    """
    from supplychain.report.numbers import NET_EXPORTER, NET_EXPORTER_MEANING

    return (f"{NET_EXPORTER}: the country {NET_EXPORTER_MEANING}, so USGS net import reliance "
            "(imports − exports as a share of use) is not defined (label \"E\" in json and csv).")


def exporter_import_notes(result: Result, table: pd.DataFrame) -> list[str]:
    """One sentence per row of :func:`headline_table` that is a net exporter importing from the source.

    Such a row prints a direct import share (of imports only, often 100 %) beside "net exporter"
    and a lower traced share; :func:`~supplychain.report.headline.import_share_note` says what
    each is a share of, with the source's imports as a share of use
    (``direct_share_of_consumption``). Which rows: :func:`~supplychain.report.headline.exporter_imports`,
    the report's rule too; in the table's order.
    """
    from supplychain.report.dot_style import country_name
    from supplychain.report.headline import exporter_imports, import_share_note

    if table.empty:
        return []
    keys = [(int(y), str(c), str(k)) for y, c, k in zip(table["year"], table["country"], table["commodity"],
                                                        strict=True)]
    found = {key[1:]: shares  # one result: one variant
             for key, shares in exporter_imports(result.measures, str(result.source),
                                                 {(c, k) for _, c, k in keys}).items()}
    return [import_share_note(f"{c} {k} {y}", country_name(str(result.source)), *found[(y, c, k)])
            for y, c, k in keys if (y, c, k) in found]


def allocation_rule_lines(result: Result, scenario: Scenario, years: list[int], countries: list[str]) -> list[str]:
    """One line per focus country short of its headline commodity: its shortfall under the other allocation rules.

    The ranges of :func:`~supplychain.report.rule_range.focus_ranges` (the country's worst year of
    ``years``, the run simulated once per other rule), said as the report's answers say it
    (:func:`~supplychain.report.rule_range.rules_text`). Nothing under ``fixed``.
    """
    from supplychain.report.numbers import format_percent
    from supplychain.report.rule_range import focus_ranges

    return [f"Allocation rules: {r.country} {r.commodity} {format_percent(r.own.share)} short in {r.year} under "
            f"{r.own.rule}; {r.text()} (docs/rebalance.md, \"Allocation rules\")."
            for r in focus_ranges(result, scenario, years, countries)]


def _changed(flows: pd.DataFrame) -> pd.DataFrame:
    """Return the re-routed flows: edges whose status (``simulation.outcome.flow_status``) is not ``normal``."""
    return flows[flows["status"] != "normal"]


def headline_table(result: Result, years: list[int], countries: list[str]) -> pd.DataFrame:
    """Pivot the headline measures: one row per focus country, commodity with final use and year.

    Rows follow the headline rule (:func:`~supplychain.report.headline.headline_pairs`):
    each of ``countries`` in turn, its focus commodity (the one it uses furthest down the
    chain) first, then its other uses; a pair's years ascending. Values are shares; where
    net import reliance is labelled ``"E"`` the cell holds
    :data:`~supplychain.report.numbers.NET_EXPORTER` instead.
    """
    import pandas as pd

    from supplychain.report.headline import headline_measures, headline_pairs
    from supplychain.report.numbers import NET_EXPORTER

    used = result.shortfall
    used = used[(used["demand"] > 0) & used["year"].isin(years)]
    pairs = headline_pairs(used, countries, every_use=True)
    m = headline_measures(result.measures, result.source, HEADLINE, countries=countries)
    m = m[m["year"].isin(years)].merge(used[["year", "country", "commodity"]], on=["year", "country", "commodity"])
    cols = ["year", "country", "commodity"]
    if m.empty:
        return pd.DataFrame(columns=cols)
    shown = m.assign(shown=[(NET_EXPORTER if lab == "E" else lab) if isinstance(lab, str) and lab else val
                            for val, lab in zip(m["value"], m["label"], strict=True)])
    wide = shown.pivot_table(index=cols, columns="metric", values="shown", aggfunc="first").reset_index()
    order = {p: i for i, p in enumerate(pairs)}
    wide = wide.assign(_order=[order[(str(c), str(k))] for c, k in zip(wide["country"], wide["commodity"],
                                                                        strict=True)])
    wide = wide.sort_values(["_order", "year"], kind="stable")
    return pd.DataFrame(wide[[*cols, *[c for c in HEADLINE if c in wide.columns]]]).reset_index(drop=True)


def response_tables(result: Result, years: list[int], countries: list[str] | None) -> dict[str, pd.DataFrame]:
    """Return what the supply response did in ``years``: unmet demand, re-routed flows, gainers, plant output.

    Quantities are in each row's ``unit`` (the commodity's basis: ``t REO``, ``kg Ga`` …).
    Tidy tables keyed ``shortfall`` (final uses left short: quantity and share of demand),
    ``shipped`` (a short country's own supply, or its feeds, still going abroad:
    :meth:`~supplychain.api.Result.shipped_while_short`), ``flows`` (edges whose flow differs
    from the baseline: :func:`_changed`), ``gainers``
    (supplier countries whose exports grew) and ``utilisation`` (facilities whose output
    moved from the baseline, with capacity and spare), largest first within a year. With
    ``countries``, rows that involve one of them (as country, supplier, buyer, destination or
    one of the buyers).
    """
    from supplychain.simulation.run import TOL

    def keep(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
        df = df[df["year"].isin(years)]
        if countries:
            hit = df[cols[0]].isin(countries)
            for c in cols[1:]:
                if c == "buyers":
                    hit |= df[c].fillna("").astype(str).str.split(",").map(lambda b: bool(set(b) & set(countries)))
                else:
                    hit |= df[c].isin(countries)
            df = df[hit]
        return df

    sf = keep(result.shortfall, "country")
    sf = sf[sf["shortfall"] > 0].sort_values(["year", "shortfall_share"], ascending=[True, False], kind="stable")
    sh = keep(result.shipped_while_short(), "country", "destination")
    fl = _changed(keep(result.flows, "supplier_country", "buyer_country"))
    fl = fl.assign(_size=fl["change"].abs()).sort_values(["year", "_size"], ascending=[True, False], kind="stable")
    ga = keep(result.gainers, "supplier_country", "buyers")
    ga = ga.sort_values(["year", "gain"], ascending=[True, False], kind="stable")
    ut = keep(result.utilisation, "country")
    # output moved: beyond the tolerance of a flow's status (flow_status), 10⁻⁶ relative and 10⁻⁶ of the unit
    moved = (ut["output"] - ut["baseline"]).abs() > TOL * ut["baseline"].abs().clip(lower=1.0)
    ut = ut[moved]
    ut = ut.assign(_size=(ut["output"] - ut["baseline"]).abs()).sort_values(
        ["year", "_size"], ascending=[True, False], kind="stable")  # fmt: skip
    return {
        "shortfall": sf[["year", "country", "commodity", "stage", "unit", "demand", "shortfall", "shortfall_share"]],
        "shipped": sh[["year", "country", "commodity", "unit", "shortfall_share", "destination", "status", "shipped",
                       "feed_of"]],
        "flows": fl[["year", "supplier", "buyer", "commodity", "kind", "unit", "baseline", "simulated", "change",
                     "status"]],
        "gainers": ga[["year", "supplier_country", "commodity", "unit", "baseline", "simulated", "gain", "buyers"]],
        "utilisation": ut[["year", "facility", "country", "commodity", "unit", "capacity", "baseline", "output",
                           "utilisation", "spare"]],
    }  # fmt: skip


def solver_line(solver: pd.DataFrame) -> str | None:
    r"""Summarise the re-routing LP in one line: the first year from scratch, the later ones warm-started.

    ``solver``: :attr:`Result.solver <supplychain.api.Result.solver>` of a ``rebalance`` run;
    ``None`` when it is empty. The speed-up (the first year's time over
    the warm years' median) is shown where there is one: a small LP takes ~1 ms either way.

    Examples
    --------
    >>> import pandas as pd
    >>> line = solver_line(pd.DataFrame({"year": [2024, 2025, 2026], "seconds": [0.0500, 0.0100, 0.0120],
    ...                                  "iterations": [900, 40, 60], "warm": [False, True, True]}))
    >>> print(line.replace("; ", ";\n"))
    Re-routing LP: 2024 from scratch 50.0 ms (900 iterations);
    2025–2026 warm-started, median 11.0 ms (40–60 iterations), ×4.5 faster
    """
    if solver.empty or "seconds" not in solver.columns:
        return None
    first = solver.iloc[0]
    text = (f"Re-routing LP: {int(first['year'])} {'warm-started' if first['warm'] else 'from scratch'} "
            f"{1e3 * float(first['seconds']):.1f} ms ({int(first['iterations'])} iterations)")  # fmt: skip
    rest = solver.iloc[1:]
    warm = rest[rest["warm"].astype(bool)]
    if not warm.empty:
        med = float(warm["seconds"].median())
        its = warm["iterations"].astype(int)
        text += (f"; {int(warm['year'].min())}–{int(warm['year'].max())} warm-started, median {1e3 * med:.1f} ms "
                 f"({its.min()}–{its.max()} iterations)")  # fmt: skip
        if not first["warm"] and med > 0 and float(first["seconds"]) > med:
            text += f", ×{float(first['seconds']) / med:.1f} faster"
    return text


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif hasattr(v, "item"):  # numpy scalars
                v = v.item()
            clean[str(k)] = v
        out.append(clean)
    return out


def result_json(result: Result, years: list[int], policies: list[str] | None = None,
                commodities: Sequence[str] | None = None, rule_ranges: Sequence[RuleRange] = ()) -> dict[str, Any]:
    """Build the JSON document of ``run --format json``.

    An object with ``scenario``, ``variant``, ``mode``, ``allocation`` (the rule that decided
    who goes short, ``rebalance`` only), ``source``, ``years``, ``toggles``, ``policies`` (what
    each policy in force covers, at what share:
    :func:`~supplychain.schema.coverage.coverage_lines`), ``switched_off`` (facilities, flows,
    stockpiles and offtakes the toggles switched off, ``section.id``), and arrays of records for
    the years asked — every quantity with its ``unit`` (the commodity's basis) —: ``metrics``
    (exposure after the shock; rows hold at least ``country``, ``commodity``, ``stage``,
    ``year``, ``metric``, ``value``; ``value`` is null where ``label`` is ``"E"``), ``targets``,
    ``shortfall`` (every final use: demand, delivered, short), ``shipped_while_short`` (a short
    country's own supply, or its feeds, still exported, :meth:`~supplychain.api.Result.shipped_while_short`),
    ``flows`` (the re-routed flows: edges whose flow differs from the baseline,
    :func:`_changed`), ``gainers`` (supplier countries whose exports grew), ``utilisation``
    (every facility: capacity, baseline and simulated output, curtailment), ``stocks`` and
    ``inactive`` (investment projects the ``fixed`` response leaves idle), ``offtakes`` (each offtake with a
    quantity: committed, what its plant can make, the floor and the ``cut``), ``world_balance`` (per
    commodity with users and year: the world's demand, delivered and shortfall,
    :meth:`~supplychain.api.Result.world_balance`), ``raised`` (country aggregates whose output the base
    network raised above their path, :attr:`~supplychain.api.Result.raised`); and ``solver``, the
    response's solve in every simulated year (for ``rebalance``: the LP's seconds, simplex
    iterations, whether it was warm-started and each level's optimum). ``run`` adds ``caveats``:
    :func:`~supplychain.simulation.uncounted.rebalance_caveat` for a ``rebalance`` run of a world
    with one user, and :func:`~supplychain.simulation.uncounted.not_evaluated_lines`; and
    ``allocation_rules``, ``rule_ranges`` as records (:meth:`~supplychain.report.rule_range.RuleRange.record`:
    a focus country short of its headline commodity, its shortfall share and the world's delivered
    tonnes under every allocation rule, the figures of the line under ``run``'s table; empty under
    ``fixed``). With ``commodities`` (``--commodity``), the tables with a ``commodity`` column and
    ``allocation_rules`` hold those commodities' rows only.
    """
    def in_years(df: pd.DataFrame) -> pd.DataFrame:
        return only_commodities(df[df["year"].isin(years)] if "year" in df.columns else df, commodities)

    return {
        "scenario": result.scenario,
        "variant": result.variant,
        "mode": result.mode,
        "allocation": result.allocation if result.mode == "rebalance" else None,
        "source": result.source,
        "years": years,
        "toggles": _records(result.toggles),
        "policies": list(policies or []),
        "switched_off": sorted(f"{sec}.{eid}" for sec, eid in result.toggle_state.switched_off),
        "metrics": _records(in_years(result.measures)),
        "targets": _records(in_years(result.targets)),
        "shortfall": _records(in_years(result.shortfall)),
        "shipped_while_short": _records(in_years(result.shipped_while_short())),
        "flows": _records(_changed(in_years(result.flows))),
        "gainers": _records(in_years(result.gainers)),
        "utilisation": _records(in_years(result.utilisation)),
        "stocks": _records(in_years(result.stocks)),
        "inactive": _records(in_years(result.inactive)),
        "offtakes": _records(in_years(result.offtakes)),
        "world_balance": _records(in_years(result.world_balance())),
        "raised": _records(in_years(result.raised)),
        "solver": _records(result.solver),
        "allocation_rules": [r.record() for r in rule_ranges if not commodities or r.commodity in commodities],
    }


_RESPONSE_TITLES = {
    "shortfall": ("Unmet demand (quantity in each row's unit, and share of demand)", "no unmet demand"),
    "shipped": ("Shipped abroad while short (a short country's own supply, or a feed of it: feed_of; each row's unit)",
                "no country exports what its own users are short of"),
    "flows": ("Flows changed by the response (largest first)", "no flow changed"),
    "gainers": ("Suppliers whose exports grew", "no supplier's exports grew"),
    "utilisation": ("Facilities whose output moved", "no facility's output moved"),
}


def _print_response(result: Result, years: list[int], countries: list[str] | None,
                    caveat: str | None = None, fixed: Result | None = None,
                    commodities: Sequence[str] | None = None, exact: bool = True) -> None:
    """Print :func:`response_tables` (a line for an empty one) and the solver line.

    ``exact``: the run's objective is lexicographic (each level optimised, so the shortfalls and
    levels are unique and the :data:`~supplychain.report.engine_notes.ONE_OPTIMUM` footnote holds);
    ``False`` under ``--objective weighted``, which drops that footnote and the world's rule note.

    With ``caveat`` (:func:`~supplychain.simulation.uncounted.rebalance_caveat`: a ``rebalance``
    run of a world with one user) it follows the unmet demand, and then the unmet demand of the
    ``fixed`` response of the same run, when given: both responses, never a bare "no unmet demand".
    """
    from supplychain.report.engine_notes import ONE_OPTIMUM, raised_note

    shown = ", ".join(map(str, years))
    hint = "all rows with --format json; narrow with --country"
    for key, df in response_tables(result, years, countries).items():
        df = only_commodities(df, commodities)
        title, none = _RESPONSE_TITLES[key]
        if df.empty:
            echo(f"{title}: {none} in {shown}" + (" under the rebalance response (see the caveat)." if caveat and
                                                  key == "shortfall" else "."))
        else:
            print_table(df, title, max_rows=20, more_hint=hint)
        if key == "shortfall":
            _print_world(result, years, countries, commodities, exact)
        if key == "utilisation" and not df.empty and result.mode == "rebalance" and exact:
            echo(ONE_OPTIMUM)
        if key == "shortfall" and caveat:
            echo(caveat)
            if fixed is not None:
                short = only_commodities(response_tables(fixed, years, countries)["shortfall"], commodities)
                title = "Unmet demand under the fixed response (the pessimistic bound; each row's unit)"
                if short.empty:
                    echo(f"{title}: none in {shown}.")
                else:
                    print_table(short, title, max_rows=20, more_hint=hint)
    line = solver_line(result.solver) if result.mode == "rebalance" else None
    if line:
        echo(line)
    idle = result.inactive[result.inactive["year"].isin(years)]
    if not idle.empty:
        names = ", ".join(sorted(set(idle["facility"])))
        echo(f"Inactive in the fixed response (new plants have no baseline trade; see --mode rebalance): {names}.")
    cut = _offtakes_cut(result, years)
    if cut:
        echo(f"Offtakes cut to what their plant can make (committed → floor): {cut}.")
    raised = only_commodities(result.raised[result.raised["year"].isin(years)], commodities)
    note = raised_note(raised)
    if note:
        echo(note)


def _print_world(result: Result, years: list[int], countries: list[str] | None,
                 commodities: Sequence[str] | None, exact: bool = True) -> None:
    """Print the world's balance of each commodity its users are short of in ``years``, where it adds to the rows.

    :meth:`~supplychain.api.Result.world_balance` kept where the world is short
    (:func:`~supplychain.simulation.world.world_short`) and where it says more than the country rows
    of the unmet-demand table (:func:`~supplychain.simulation.world.beyond_country_rows`: two users
    short, or one not among ``countries``); every country's users, whatever ``--country``. The
    sentence (:func:`~supplychain.report.engine_notes.world_short_note`) follows, and under a
    lexicographic ``rebalance`` (``exact``) with a Pareto efficient rule the footnote
    :data:`~supplychain.report.engine_notes.WORLD_RULE_NOTE`.
    """
    from supplychain.report.engine_notes import WORLD_RULE_NOTE, world_short_note, world_shortage, world_title
    from supplychain.simulation.world import beyond_country_rows, world_short

    balance = result.world_balance().drop(columns="variant")
    short = world_short(only_commodities(balance[balance["year"].isin(years)], commodities))
    short = beyond_country_rows(short, result.shortfall.drop(columns="variant"), countries)
    if short.empty:
        return
    print_table(short, world_title(result.mode, result.allocation), max_rows=20,
                more_hint="all rows with --format json")
    echo(world_short_note(short, result.mode, result.allocation))
    if world_shortage(result.mode, result.allocation) and exact:
        echo(WORLD_RULE_NOTE)


def _offtakes_cut(result: Result, years: list[int]) -> str:
    """List the offtakes whose commitment exceeds what their plant can make in ``years`` (committed → floor)."""
    from supplychain.simulation.run import TOL

    o = result.offtakes
    o = o[o["year"].isin(years) & (o["cut"] > TOL * o["committed"].abs().clip(lower=1.0))]
    return ", ".join(f"{r.offtake} {r.year} ({r.committed:,.0f} → {r.floor:,.0f} {r.unit})"
                     for r in o.itertuples(index=False))


def _print_targets(targets: pd.DataFrame) -> None:
    if targets.empty:
        return
    # the share of demand unmet beside the value: a ban can lower the exposed share (docs/measures.md §3b)
    cols = ["target", "year", "country", "commodity", "metric", "value", "unmet", "threshold", "status", "reason"]
    shown = targets.rename(columns={"shortfall_share": "unmet"})
    # every target measure is a share of use or of what arrives (schema.model.MetricName)
    print_table(shown[[c for c in cols if c in shown.columns]], "Targets", max_rows=60,
                shares=("value", "unmet", "threshold"))


def policies_in_force(result: Result, scenario: Scenario) -> list[str]:
    """List what each policy in force in the run covers, at what share (one line each; ``run``'s header)."""
    from supplychain.schema.coverage import coverage_lines
    from supplychain.simulation.uncounted import live_policies

    return coverage_lines(scenario, live_policies(scenario, result.toggle_state.active, result.years[0],
                                                  result.years[-1]))


def _assumed(scenario: Scenario, table: pd.DataFrame) -> dict[str, set[str]]:
    """Each of the table's countries' commodities whose import shares are a ranked-source split.

    :func:`~supplychain.schema.assumptions.assumed_split`, read from the scenario's records
    (the importer is not imported).
    """
    from supplychain.schema.assumptions import assumed_split

    return {c: assumed_split(scenario, c) for c in dict.fromkeys(table["country"].astype(str))}


def _star_assumed(table: pd.DataFrame, assumed: dict[str, set[str]]) -> pd.DataFrame:
    """Mark ``*`` each row's commodity whose import shares are a ranked-source split (``assumed``: :func:`_assumed`).

    :func:`~supplychain.report.numbers.assumed_commodity`, ``compare``'s rule too. The mark stands for every
    share of the row (direct import, traced, exposed), which the table prints to the whole percent already
    (:func:`~supplychain.report.numbers.format_percent`).
    """
    from supplychain.report.numbers import assumed_commodity

    return table.assign(commodity=[assumed_commodity(str(c), str(k), assumed)
                                   for c, k in zip(table["country"], table["commodity"], strict=True)])


def _assumed_split_note(table: pd.DataFrame, assumed: dict[str, set[str]]) -> str | None:
    """Name the table's commodities whose import shares are a ranked-source split, if any.

    Their direct and traced shares (and the exposure built on them) are an order of magnitude, as
    the atlas's ``*`` says (``assumed``: :func:`_assumed`); the note is
    :func:`~supplychain.report.numbers.assumed_split_note`, ``compare``'s too.
    """
    from supplychain.report.numbers import assumed_split_note

    return assumed_split_note(zip(table["country"].astype(str), table["commodity"].astype(str), strict=True),
                              assumed)


def _print_header(result: Result, scenario: Scenario) -> None:
    """Print the policies in force (what each covers, at what share) and what the toggles switched off."""
    lines = policies_in_force(result, scenario)
    span = f"{result.years[0]}–{result.years[-1]}" if len(result.years) > 1 else str(result.years[0])
    typer.echo(f"Policies in force in {span} (what each covers, at what share):" + ("" if lines else " none"))
    for line in lines:
        typer.echo(f"  {line}")
    off = sorted(f"{sec}.{eid}" for sec, eid in result.toggle_state.switched_off)
    if off:
        typer.echo("Switched off by toggles: " + ", ".join(off))


def run(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario file (YAML).", show_default=False)],
    year: Annotated[
        list[int] | None, typer.Option("--year", "-y", help="Year(s) to report (default: base year and horizon).")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Country or group exposure is measured to (default: the scenario's).")
    ] = None,
    toggle: Annotated[
        list[str] | None, typer.Option("--toggle", "-t", metavar="NAME=on|off", help="Switch a toggle; repeatable.")
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="Use a named variant's toggles.")] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="Supply response: rebalance (the default, as in sweep) | fixed.")
    ] = "rebalance",
    allocation: AllocationOption = None,
    objective: ObjectiveOption = "lexicographic",
    blocks: BlocksOption = 0,
    country: Annotated[
        list[str] | None,
        typer.Option("--country", "-c", help="Only these countries in the tables (the measures table's default: "
                                             "the targets' countries, else US); repeatable."),
    ] = None,
    commodity: CommodityOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table | json | csv.")] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write json/csv here (atomically) instead of stdout.")
    ] = None,
    check_targets: Annotated[
        bool, typer.Option("--check-targets", help="Exit with status 3 when any target is missed.")
    ] = False,
    path: PathOption = None,
) -> None:
    """Simulate a scenario year by year and report its exposure measures.

    First the policies in force and what each covers, at what share. The table
    shows the focus countries (--country, else the targets' countries, else US), each
    commodity they have final use of — the one furthest down the chain first, as in the
    report's answers — and per year: the exposed share (traced
    to the source country plus demand not met), the traced (upstream) share of what
    arrives, the direct import share, USGS net import reliance ("net exporter" where
    exports exceed imports: "E" in json and csv) and the share of demand not met, all in
    per cent; under rebalance, a focus country short of its first commodity gets a line with
    that shortfall under the other allocation rules (who goes short is a rule, not a fact: one
    simulation per rule); then what the supply response did (unmet
    demand, the flows it changed, the suppliers that gained, the plants whose output
    moved — each quantity in its commodity's unit —, the solver's time); then the
    targets with pass/fail and margin. json holds every measure and those tables in
    full, and the other rules' shortfalls under allocation_rules; csv every measure.

    Example:

        supplychain run scenarios/china_full_ban_2025.yaml -t us_japan_framework=on --year 2026 --year 2030
    """
    if output_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    mode_arg = parse_mode(mode)
    objective_arg = parse_objective(objective)
    blocks_arg = parse_blocks(blocks)
    allocation_arg = parse_allocation(allocation)

    from supplychain.api import focus_countries, simulate
    from supplychain.io import load
    from supplychain.io.atomic import atomic_write_text
    from supplychain.report.numbers import NET_EXPORTER
    from supplychain.schema.countries import require_codes
    from supplychain.simulation.toggles import check_cli_names, parse_toggle_args
    from supplychain.simulation.uncounted import not_evaluated_lines, rebalance_caveat

    freeze_imports()
    warned: list[Problem] = []
    sc = load(scenario, extra_roots=path or (), warnings=warned)
    print_warnings(warned, scenario)
    overrides = parse_toggle_args(toggle or [])
    check_cli_names(sc, toggles=overrides, variants=[variant] if variant else [])
    require_codes(sc, [source] if source else [], ("--source",), origin="<cli>")
    require_codes(sc, country or [], ("--country",), origin="<cli>")
    focus = focus_countries(sc, country)  # the headline's: asked for, else the targets' countries, else US
    countries = focus if country else None
    all_years = sc.years
    years = sorted(set(year)) if year else sorted({all_years[0], all_years[-1]})
    check_year_options("--year", years, all_years)
    check_ids("--commodity", commodity or [], sc.commodities, "commodity of this scenario")
    if output_format != "table":
        check_output(output)  # a folder, a device or a folder that cannot be written: refused now, not after
    # Years run from the base year (stocks carry over) up to the last one asked for.
    result = simulate(sc, years=[y for y in all_years if y <= years[-1]],
                      source=source, toggles=overrides or None,
                      variant=None if variant == "base" else variant, mode=mode_arg, objective=objective_arg,
                      blocks=blocks_arg, allocation=allocation_arg,
                      metrics=(*HEADLINE, "direct_share_of_consumption") if output_format == "table"
                      else None)  # fmt: skip

    if output_format == "table":
        words = [f"allocation {result.allocation}", *([WEIGHTED_NOTE] if objective_arg == "weighted" else [])]
        rule = f" ({'; '.join(words)})" if result.mode == "rebalance" else ""
        title = f"{result.scenario} — {result.variant}, {result.mode}{rule}, exposure to {result.source}"
        _print_header(result, sc)
        table = only_commodities(headline_table(result, years, focus), commodity)
        if table.empty:
            typer.echo(f"{', '.join(country or focus)}: no final demand in {', '.join(map(str, years))} "
                       "in this scenario" + ("." if country else "; other countries with --country."))
        else:
            assumed = _assumed(sc, table)
            starred = _assumed_split_note(table, assumed)
            print_table(_star_assumed(table, assumed), title, max_rows=80, more_hint="narrow with --country",
                        right=HEADLINE)
            if table.isin([NET_EXPORTER]).any().any():
                echo(exporter_note())
            if starred:
                echo(starred)
            for note in exporter_import_notes(result, table):
                echo(note)
            for line in allocation_rule_lines(result, sc, years, focus):
                echo(line)
            if not country:
                echo(f"Focus countries: {', '.join(focus)} (the targets' countries, else US); others with --country.")
        for line in not_evaluated_lines(result, sc, years, focus):
            echo(line)
        caveat = rebalance_caveat(sc) if result.mode == "rebalance" else None
        fixed = None
        if caveat:  # the same run under the fixed response: its unmet demand is printed beside the best case
            fixed = simulate(sc, years=list(result.years), source=source, toggles=overrides or None,
                             variant=None if variant == "base" else variant, mode="fixed",
                             metrics=("shortfall_share",))
        _print_response(result, years, countries, caveat, fixed, commodity, exact=objective_arg == "lexicographic")
        from supplychain.report.part_year import part_year_notes  # a year a policy starts or ends: an average

        for note in part_year_notes(sc, result.toggle_state.active, years):
            echo(f"Part-year figure, {note}.")
        _print_targets(result.targets[result.targets["year"].isin(years)] if not result.targets.empty
                       else result.targets)  # fmt: skip
    else:
        if output_format == "json":
            from supplychain.report.rule_range import focus_ranges

            doc = result_json(result, years, policies_in_force(result, sc), commodity,
                              focus_ranges(result, sc, years, focus))
            caveat = rebalance_caveat(sc) if result.mode == "rebalance" else None
            doc["caveats"] = [*([caveat] if caveat else []), *not_evaluated_lines(result, sc, years)]
            text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        else:
            text = only_commodities(result.measures[result.measures["year"].isin(years)], commodity).to_csv(index=False)
        if output is None:
            echo(text, nl=False)
        else:
            atomic_write_text(output, text)
            echo(f"wrote {output}", err=True)

    if check_targets and not result.targets.empty and not bool(result.targets["met"].all()):
        missed = result.targets[~result.targets["met"].astype(bool)]
        echo(f"{len(missed)} target-year(s) missed", err=True)
        raise typer.Exit(3)
