"""Say what the engine did that the tables alone do not show: raised outputs, a world short, one optimum.

Three sentences, each worded once here and printed by ``run`` and the report (and, for the
last, the workbook):

* :func:`raised_note` — after the base year the base network raised country aggregates' output
  above their paths to meet demand the paths leave short, within capacities that are
  assumptions (:mod:`supplychain.graph.spare`, :attr:`Result.raised <supplychain.api.Result>`);
* :func:`world_short_note` — the world as a whole is short of a commodity: what its users
  demand is more than reaches them (:mod:`supplychain.simulation.world`), so under ``rebalance``
  the allocation rule decides who bears the shortage, not whether there is one;
* :data:`ONE_OPTIMUM` — a plant's output under ``rebalance`` is one of several equally good
  allocations: the shortfalls and every objective level are unique, which plant makes the
  tonnes is the tie-break's choice (docs/rebalance.md, "What is unique and what is not").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from supplychain.report.numbers import format_percent

__all__ = ["ONE_OPTIMUM", "raised_note", "world_short_note"]

ONE_OPTIMUM: Final = ("Plant outputs under rebalance are one of several equally good allocations: where plants could "
                      "make the same tonnes, the larger runs first (a tie-break, not a prediction); shortfalls and "
                      "every objective level are unique (docs/rebalance.md, \"What is unique and what is not\").")
"""The footnote under every table of plant rows of a ``rebalance`` run (``run``, the report, the workbook)."""

SPARE_DOC: Final = "docs/measures.md, \"Later years: spare capacity meets demand above the paths\""


def raised_note(raised: pd.DataFrame, units: Mapping[str, str] | None = None,
                names: Mapping[str, str] | None = None) -> str:
    """Say in one sentence that outputs were raised above their paths ("" when none was).

    ``raised`` is :attr:`Result.raised <supplychain.api.Result>` (``year``, ``facility``,
    ``commodity``, ``path``, ``raised``, ``capacity``, ``assumed``); ``units`` gives each
    commodity's unit (default ``t``), ``names`` display names of facilities and commodities (default
    their ids). The sentence names the largest raise (``raised − path``) and counts the other
    facility-years.

    Examples
    --------
    >>> r = pd.DataFrame({"year": [2030, 2029], "facility": ["cn_mag", "cn_mag"], "commodity": ["mag"] * 2,
    ...                   "path": [100.0, 100.0], "raised": [130.0, 110.0], "capacity": [150.0] * 2,
    ...                   "assumed": [True, True]})
    >>> print(raised_note(r))  # doctest: +NORMALIZE_WHITESPACE
    Outputs raised above their paths: cn_mag makes 130 t of mag in 2030 against a path of 100 t (capacity
    150 t, an assumption), and 1 more facility-year; demand the paths leave short is met from spare
    capacity, so these outputs are the model's, not a projection's (docs/measures.md, "Later years: spare
    capacity meets demand above the paths").
    """
    if raised.empty:
        return ""
    r = raised.assign(_up=raised["raised"] - raised["path"]).sort_values("_up", ascending=False, kind="stable")
    top = r.iloc[0]
    unit = (units or {}).get(str(top["commodity"]), "t")
    cap = float(top["capacity"])
    cap_text = (f"capacity {cap:,.0f} {unit}" + (", an assumption" if bool(top["assumed"]) else "")
                if np.isfinite(cap) else "capacity unknown")
    more = len(r) - 1
    others = f", and {more} more facility-year{'s' if more != 1 else ''}" if more else ""
    name = names or {}
    return (f"Outputs raised above their paths: {name.get(str(top['facility']), top['facility'])} makes "
            f"{float(top['raised']):,.0f} {unit} of {name.get(str(top['commodity']), top['commodity'])} in "
            f"{int(top['year'])} against a path of {float(top['path']):,.0f} {unit} "
            f"({cap_text}){others}; demand the paths leave short is met from spare capacity, so these outputs "
            f"are the model's, not a projection's ({SPARE_DOC}).")


def world_short_note(short: pd.DataFrame, mode: str, allocation: str | None = None,
                     names: Mapping[str, str] | None = None) -> str:
    """Say in one sentence that the world is short of a commodity ("" when it is not).

    ``short`` holds the rows of :func:`~supplychain.simulation.world.world_balance` where the
    world is short (:func:`~supplychain.simulation.world.world_short`); the sentence names the
    largest share (and its variant, where ``short`` has a ``variant`` column) and counts the other
    rows; ``names`` gives commodities' display names (default their ids). Under ``rebalance`` the
    shortage is the world's under the run's bans and capacities and the rule (``allocation``)
    decides only who bears it; under ``fixed`` nothing is re-routed, so part of it may be supply
    the kept pattern strands (:mod:`supplychain.simulation.world`).

    Examples
    --------
    >>> s = pd.DataFrame({"year": [2025], "commodity": ["m"], "unit": ["t"], "demand": [200.0],
    ...                   "delivered": [100.0], "shortfall": [100.0], "shortfall_share": [0.5]})
    >>> print(world_short_note(s, "rebalance", "proportional"))  # doctest: +NORMALIZE_WHITESPACE
    The world is short of m in 2025: its users demand 200 t and 100 t reach them, 100 t (50%) short under
    the run's bans and capacities; the allocation rule (proportional) decides only who bears it
    (docs/outputs.md, "World balance").
    """
    if short.empty:
        return ""
    r = short.sort_values(["shortfall_share", "shortfall"], ascending=False, kind="stable")
    top = r.iloc[0]
    unit = str(top["unit"])
    more = len(r) - 1
    what = "variant-commodity-year" if "variant" in r.columns else "commodity-year"
    others = f" ({more} more {what}{'s' if more != 1 else ''} short)" if more else ""
    under = f" under {top['variant']}" if "variant" in r.columns else ""
    commodity = (names or {}).get(str(top["commodity"]), top["commodity"])
    head = (f"The world is short of {commodity} in {int(top['year'])}{under}: its users demand "
            f"{float(top['demand']):,.0f} {unit} and {float(top['delivered']):,.0f} {unit} reach them, "
            f"{float(top['shortfall']):,.0f} {unit} ({format_percent(float(top['shortfall_share']))}) short")
    if mode == "rebalance":
        rule = f" ({allocation})" if allocation else ""
        if allocation == "home_first":  # its held exports are a smaller network: its total can be lower
            return (f"{head} under the run's bans and capacities{others}; the allocation rule{rule} decides who "
                    "bears it, and the exports it holds home can leave more unmet than the other rules "
                    "(docs/outputs.md, \"World balance\").")
        return (f"{head} under the run's bans and capacities{others}; the allocation rule{rule} decides only who "
                "bears it (docs/outputs.md, \"World balance\").")
    return (f"{head} under the fixed response{others}, which re-routes nothing: part of it may be supply the kept "
            "trade pattern strands, which rebalance re-routes (docs/outputs.md, \"World balance\").")
