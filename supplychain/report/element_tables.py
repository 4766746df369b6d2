"""README tables of element dependence (mass- vs element- vs value-weighted) and binding inputs.

Part of the "Results" of ``scenarios/README.md`` (:mod:`supplychain.report.scenario_results`):

* **element dependence** — baseline (``baseline_2024.yaml``), base year and 2030, for the
  US, Japan, the EU and Korea: the mass-weighted traced China share of NdFeB magnets
  next to the element dependence for NdPr, Dy and Tb
  (:mod:`supplychain.metrics.elements`) and the value-weighted dependence;
* **binding inputs** — magnet makers per country in 2030 in ``china_full_ban_2025.yaml``
  (``no_ban`` and ``full_ban``, rebalance): the coverage of each input at capacity and
  the binding one (:mod:`supplychain.metrics.inputs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pandas as pd

from supplychain.report.markdown import md_table
from supplychain.report.scenario_results import pct

__all__ = ["BAN_FILE", "COUNTRIES", "binding_markdown", "element_markdown", "element_tables_markdown"]

COUNTRIES: Final = ("US", "JP", "EU", "KR")
"""Countries shown."""
BAN_FILE: Final = "china_full_ban_2025.yaml"
"""Scenario of the binding-input table."""
YEARS: Final = (2024, 2030)
KEYS: Final = ("NdPr", "Dy", "Tb")


def element_markdown(measures: pd.DataFrame) -> str:
    """Render the element-dependence table from baseline measures of :data:`YEARS` (a pure function).

    Parameters
    ----------
    measures : pandas.DataFrame
        ``compute_measures`` rows of the years in :data:`YEARS` (with ``year``).
    """
    def one(year: int, country: str, commodity: str, metric: str) -> float:
        r = measures.loc[measures["year"].eq(year) & measures["country"].eq(country)
                         & measures["commodity"].eq(commodity) & measures["metric"].eq(metric), "value"]
        return float(r.iloc[0]) if len(r) == 1 else float("nan")

    value_label = "+".join(KEYS)
    rows = []
    for country in COUNTRIES:
        for year in YEARS:
            rows.append([country, str(year), pct(one(year, country, "ndfeb_magnet", "traced_share")),
                         *(pct(one(year, country, k, "element_dependence")) for k in KEYS),
                         pct(one(year, country, value_label, "element_dependence_value")),
                         f"{one(year, country, 'NdPr', 'element_use'):,.0f}"])
    table = md_table(["country", "year", "magnets, traced (by mass)", *(f"{k} contained" for k in KEYS),
                      f"value-weighted ({value_label})", "NdPr in final use (t)"], rows)
    return ("### Element dependence\n\n`baseline_2024.yaml`: China's traced share of the NdFeB magnets a "
            "country uses (a magnet plant's inputs weighed by mass), against the dependence for each element "
            "contained in everything it uses (magnets, metal, oxide; `element_dependence`, docs/measures.md "
            "section 7) and the value-weighted dependence over NdPr, Dy and Tb (prices per t contained from "
            f"the oxide prices in `world/commodities.yaml`).\n\n{table}")


def binding_markdown(tables: dict[str, pd.DataFrame], year: int = 2030) -> str:
    """Render the binding-input table: variant → :func:`~supplychain.metrics.inputs.binding_inputs` rows."""
    rows = []
    for variant, b in tables.items():
        for (country, _process), g in b.groupby(["country", "process"], sort=True):
            names = [str(x) for x in g["input"]]
            cov = ", ".join(f"`{k}` {c:.2f}" for k, c in zip(names, g["coverage"].to_numpy(float), strict=True))
            bind = [f"`{k}`" for k, b in zip(names, g["binding"].to_numpy(bool), strict=True) if b]
            if g["coverage"].max() <= 0:
                binding = "— (no inputs arrive)"
            elif len(bind) == len(names):
                binding = "— (inputs in the recipe's proportion)"
            else:
                binding = ", ".join(bind) + (" (output below capacity)" if g["coverage"].min() < 1 - 1e-9 else "")
            rows.append([f"`{variant}`", str(country), f"{g['capacity'].iloc[0]:,.0f}",
                         f"{g['production'].iloc[0]:,.0f}", cov, binding])
    table = md_table(["variant", "country", "capacity (t)", "output (t)", "input coverage at capacity",
                      "binding input"], rows, escape=False)
    return (f"### Binding inputs of magnet makers\n\n`{BAN_FILE}`, {year}, `rebalance`: per country, what "
            "reached its markets of each input of `ndfeb_sintering`, less what the country sends abroad, over what "
            "its plants need at capacity (`supplychain.metrics.inputs`). The smallest coverage binds; below 1 it "
            "holds output under capacity. When every input has the same coverage they arrive in the recipe's "
            "proportion and none binds: output is set by utilisation or demand. This is one country's plants; "
            "which capacity limits the world's supply is the report's \"What limits supply\" "
            "(`supplychain.capacity_limits`).\n\n"
            f"{table}")


def element_tables_markdown(scenarios: str | Path = "scenarios") -> str:
    """Load and run what the two tables need and render both.

    Raises
    ------
    ScenarioError
        A scenario does not load.
    SolverError
        A solve fails.
    """
    from supplychain.api import simulate
    from supplychain.io import load
    from supplychain.metrics.inputs import binding_inputs
    from supplychain.metrics.measures import compute_measures

    base = load(Path(scenarios) / "baseline_2024.yaml", require_sources=True)
    measures = pd.concat([compute_measures(base, y) for y in YEARS], ignore_index=True)
    ban = load(Path(scenarios) / BAN_FILE, require_sources=True)
    tables = {}
    for variant in ("no_ban", "full_ban"):
        res = simulate(ban, variant=variant, mode="rebalance")
        u = res.utilisation
        b = binding_inputs(ban, res.tables(YEARS[-1])[1], u.loc[u["year"].eq(YEARS[-1])], weight="simulated")
        tables[variant] = b.loc[b["country"].isin((*COUNTRIES, "CN"))]
    return element_markdown(measures) + "\n\n" + binding_markdown(tables, YEARS[-1])
