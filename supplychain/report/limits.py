"""What limits supply: the report's table of the capacities that bind a scenario's shortfall in its focus year.

For every ``rebalance`` variant in which some user is at least 1 % short in the focus year,
:func:`~supplychain.simulation.limits.capacity_limits` raises the capacity of each stage
outside the source country that runs full by 10 % and measures how much less demand goes
unmet. The table lists the stages that give relief (the bottlenecks) and names the full
stages that give none on their own; variants with the same toggles are solved once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from supplychain.report.dot_style import country_name, format_tonnes
from supplychain.report.engine_notes import ONE_OPTIMUM
from supplychain.report.numbers import format_percent
from supplychain.simulation.limits import COLUMNS, TOGETHER, capacity_limits

if TYPE_CHECKING:
    from supplychain.report.runs import ScenarioRun

__all__ = ["LIMITS_NOTE", "STEP", "assumed_bound", "limits_table"]

STEP: Final = 0.10
"""Capacity added to every plant of a stage, as a share of its capacity."""
MATERIAL: Final = 0.01
"""Commodities are explained when some user of them is at least this share short (smaller shortfalls read "<1%")."""

LIMITS_NOTE: Final = (
    "Each row re-solves the focus year with every plant of one stage outside {source} that runs at capacity "
    "given 10% more capacity, and gives how much less demand then goes unmet, summed over every user of the short "
    "commodity in every country (not only the focus country). * marks a plant whose capacity is an assumption of the "
    "scenario, not a sourced figure. "
    "A stage at capacity that gives no relief does not bind on its own: its output goes elsewhere, or another "
    "stage binds first; only the plants named are full, not every plant of their stage. A stage of a USGS "
    "aggregate (compounds and metals) is an accounting pool sized to its 2024 output, so its relief is one for "
    "one by construction. The capacities are the scenario's, so an assumed capacity gives an assumed bottleneck "
    "(docs/rebalance.md, \"What limits supply\")."
)


def limits_table(run: ScenarioRun, focus: int, names: Mapping[str, str]) -> dict[str, Any]:
    """Return the section's rows: per variant with a user :data:`MATERIAL` short in ``focus``, each stage with relief.

    Returns ``{"rows": [...], "note": str, "table": DataFrame}`` (``table``: every variant's
    :func:`~supplychain.simulation.limits.capacity_limits` rows with a ``variant`` column, for
    ``limits.csv``); a row has ``variant``, ``stage`` (commodity name
    and unit), ``plants``, ``capacity``, ``relief`` (the text of the cut in unmet demand per short
    commodity) and ``idle`` (the stages at capacity without relief, in words). No rows without a
    scenario, outside ``rebalance`` or without such a shortfall in ``focus``.
    """
    sc = run.scenario
    out: dict[str, Any] = {"rows": [], "note": "", "table": pd.DataFrame(columns=["variant", *COLUMNS])}
    if sc is None or focus not in sc.years:
        return out
    tables: list[pd.DataFrame] = []
    done: dict[tuple[str, tuple[str, ...], tuple[tuple[str, bool], ...]], pd.DataFrame] = {}
    source = ""
    for r in run.results:
        if r.mode != "rebalance" or r.shortfall.empty:
            continue
        short = r.shortfall[(r.shortfall["year"] == focus) & (r.shortfall["shortfall_share"] >= MATERIAL)]
        if short.empty:
            continue
        explain = tuple(sorted(set(short["commodity"].astype(str))))
        key = (r.allocation, explain, tuple(sorted(r.toggle_state.states.items())))
        if key not in done:
            done[key] = capacity_limits(sc, focus, toggles=dict(key[2]), allocation=r.allocation,  # type: ignore[arg-type]
                                        source=r.source, step=STEP, commodities=explain)
        source = r.source
        out["rows"] += _variant_rows(r.variant, done[key], names)
        tables.append(done[key].assign(variant=r.variant)[["variant", *COLUMNS]])
    if tables:
        out["table"] = pd.concat(tables, ignore_index=True)
    if out["rows"]:
        out["note"] = f"{LIMITS_NOTE.format(source=country_name(source, names))} {ONE_OPTIMUM}"
    return out


def assumed_bound(table: pd.DataFrame | None, year: int, commodity: str, source: str,
                  names: Mapping[str, str]) -> str:  # fmt: skip
    """Say, in one clause, that a shortfall is bounded by an assumed capacity: ``""`` when it is not, or not known.

    ``table``: one variant's :func:`~supplychain.simulation.limits.capacity_limits` rows (its
    :func:`limits_table` ``table``); ``year`` and ``commodity``: the shortfall's. The stages that
    bind it are those with relief on ``commodity`` in ``year`` (else, when none does alone, every
    stage together). When some of their plants at capacity have an assumed capacity (the
    table's ``assumed``, ``*`` in the table), the clause names the stages and says whether all
    ("assumed") or some ("partly assumed") of that capacity is an assumption. ``""`` when every
    binding plant's capacity is sourced, nothing binds, or ``table`` does not hold ``year`` (the
    report explains the focus year only).

    Examples
    --------
    >>> t = pd.DataFrame({"year": 2030, "stage": ["ndpr_metal", "ndpr_oxide"], "commodity": "magnet",
    ...                   "facilities": ["jp_metal, mp_metal", "lynas"], "assumed": ["jp_metal", ""],
    ...                   "relief": [1300.0, 0.0]})
    >>> assumed_bound(t, 2030, "magnet", "China", {"ndpr_metal": "NdPr metal"})
    'bounded by NdPr metal capacity outside China, partly assumed: see What limits supply'
    >>> assumed_bound(t.assign(assumed=""), 2030, "magnet", "China", {}), assumed_bound(t, 2027, "magnet", "China", {})
    ('', '')
    """
    if table is None or table.empty:
        return ""
    rows = table[(table["year"] == year) & (table["commodity"] == commodity) & (table["relief"] > 0)]
    alone = rows[rows["stage"] != TOGETHER]
    binding = alone if not alone.empty else rows
    plants = {f for fs in binding["facilities"] for f in str(fs).split(", ") if f}
    assumed = {f for fs in binding["assumed"] for f in str(fs).split(", ") if f}
    if not assumed:
        return ""
    stages = " and ".join(dict.fromkeys("every stage at capacity together" if st == TOGETHER else names.get(st, st)
                                        for st in binding["stage"].astype(str)))
    how = "assumed" if assumed >= plants else "partly assumed"
    return f"bounded by {stages} capacity outside {source}, {how}: see What limits supply"


def _plants(part: pd.Series) -> str:
    """``jp_metal*, mt_weld``: the plants of a row, ``*`` on those whose capacity is an assumption."""
    assumed = set(str(part["assumed"]).split(", ")) if part["assumed"] else set()
    return ", ".join(f"{f}*" if f in assumed else f for f in str(part["facilities"]).split(", "))


def _variant_rows(variant: str, lim: pd.DataFrame, names: Mapping[str, str]) -> list[dict[str, str]]:
    """One row per stage with relief on a short commodity made from it; the full stages without relief beside it."""
    if lim.empty:
        return []
    alone = lim[lim["stage"] != TOGETHER]
    rows = []
    for _, part in alone.groupby("commodity", sort=False):
        idle = "; ".join(f"{names.get(str(p['stage']), str(p['stage']))} ({_plants(p)})"
                         for _, p in part[part["relief"] <= 0].iterrows())
        for _, p in part[part["relief"] > 0].iterrows():
            rows.append({
                "variant": variant,
                "stage": f"{names.get(str(p['stage']), str(p['stage']))} ({p['stage_unit']})",
                "plants": _plants(p),
                "capacity": f"{format_tonnes(float(p['capacity']), str(p['stage_unit']))} "
                            f"(+{format_tonnes(float(p['added']), str(p['stage_unit']))})",
                "relief": _relief(p, names),
                "idle": idle,
            })
    together = lim[(lim["stage"] == TOGETHER) & (lim["relief"] > 0)]
    alone_best = alone.groupby("commodity")["relief"].sum()
    joint = together[together["relief"] > together["commodity"].map(alone_best).fillna(0.0) * (1 + 1e-6) + 1e-9]
    if not joint.empty:  # stages that bind only together
        rows.append({"variant": variant, "stage": "every stage at capacity, together", "plants": "",
                     "capacity": "", "relief": "; ".join(_relief(p, names) for _, p in joint.iterrows()),
                     "idle": ""})
    if not rows:
        idle = "; ".join(f"{names.get(str(p['stage']), str(p['stage']))} ({_plants(p)})"
                         for _, p in alone.drop_duplicates("stage").iterrows())
        rows.append({"variant": variant, "stage": "none alone or together", "plants": "", "capacity": "",
                     "relief": "no stage at capacity outside the source gives relief", "idle": idle})
    return rows


def _relief(p: pd.Series, names: Mapping[str, str]) -> str:
    """``NdFeB magnets: unmet cut by 1.3k t NdFeB product (2% of 84k t)``."""
    unit, commodity = str(p["unit"]), str(p["commodity"])
    return (f"{names.get(commodity, commodity)}: unmet cut by {format_tonnes(float(p['relief']), unit)} "
            f"({format_percent(float(p['relief_share']))} of {format_tonnes(float(p['unmet']), unit)})")
