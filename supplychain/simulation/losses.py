r"""Lost from whom: every source of a country's supply of a commodity, before and after the response.

:meth:`Result.explain <supplychain.api.Result.explain>` lists the tonnes a policy blocked on a
country's direct import edges. A country loses supply in other ways too: its own plants make less
when their inputs were blocked upstream, a supplier that was not blocked sends less (its tonnes went
elsewhere, or it had less), and part of what is left may still leave the country as exports.
:func:`supply_losses` accounts for all of it from the public ``flows`` table (one row per edge and
year; every market closes, in = out, with the response's ``unsold`` and stock-release rows) and the
``attribution`` table (tonnes blocked per edge and policy), so that the changes add up.

The country's pool of a commodity :math:`k` in country :math:`c` is its market ``c:k`` and the
plants of :math:`c`. Every flow of :math:`k` that enters the pool is a *supply* row, every flow that
leaves it a *use* row:

===========  ==============================================  ==========================================
side         counterpart                                     flows of :math:`k` (``Result.flows``)
===========  ==============================================  ==========================================
supply       a supplier country :math:`s \ne c`              trade from :math:`s` to :math:`c` (market
                                                             or plant)
supply       ``domestic`` (``facility`` names the plant)     every flow out of a plant of :math:`c`
                                                             (its output: ``supply``, ``trade``,
                                                             ``unsold``)
supply       ``stock``                                       drawn from a stock of :math:`c`
use          ``final use``                                   ``use`` (delivered to demand)
use          ``plants`` (``facility`` names the plant)       into a plant of :math:`c` (its input)
use          a buyer country :math:`d \ne c`                 exports: trade from :math:`c` to :math:`d`
use          ``stock`` / ``surplus`` / ``unsold``            stock built, material with no known
                                                             destination, material nobody takes
===========  ==============================================  ==========================================

Because every market and plant of :math:`c` closes, for each year

.. math::

    \sum_{\text{supply}} \Delta = \Delta\,\text{delivered}_{c,k} = \Delta\,\text{final use}
    + \Delta\,\text{plant inputs} + \Delta\,\text{exports} + \Delta\,\text{stock built}
    + \Delta\,\text{surplus} + \Delta\,\text{unsold},

with :math:`\Delta = \text{simulated} - \text{baseline}`, and
:math:`\Delta\,\text{final use} = -(\text{shortfall} - \text{baseline shortfall})` (``Result.shortfall``;
the baseline meets demand, so this is minus the shortfall). So a country's users lose more than its
sources did when its exports (or its plants' inputs, or the stock it builds) grew — a short country
shipping re-routed material abroad — and less when they fell.

Each row's change is split into the tonnes a policy blocked on its edges (``blocked``, from
``attribution``) and the rest, which the response moved (``cause``): see :data:`CAUSES`.
"""

from __future__ import annotations

from typing import Final, cast

import numpy as np
import pandas as pd

from supplychain.simulation.outcome import TOL

__all__ = ["CAUSES", "LOSS_COLUMNS", "supply_losses"]

LOSS_COLUMNS: Final = (
    "year", "country", "commodity", "unit", "side", "counterpart", "facility", "baseline", "simulated", "change",
    "blocked", "cause",
)
"""Columns of :func:`supply_losses`."""

CAUSES: Final = {
    "<policy id>": "the tonnes that policy blocked on the row's edges (``attribution``; the ``blocked`` column)",
    "supplier short": "a flow not blocked that fell, its supplier's total out-flow of the commodity down: it had "
                      "less to send (for an export, the country itself)",
    "re-allocated": "a flow not blocked that fell, its supplier's total out-flow not down: it sent the tonnes "
                    "elsewhere",
    "re-routed": "a flow that grew or started (status ``rerouted`` or ``new``): re-routed material",
    "deal": "a flow an agreement exempted, committed or favoured (status ``deal``)",
    "upstream input": "a plant of the country made less because an input fell (any one commodity it takes: "
                      "blocked or short upstream)",
    "plant curtailed": "a plant of the country made less with none of its inputs down (it sold less)",
    "more output": "a plant of the country made more (spare or new capacity)",
    "plant took less": "a plant of the country took less of the commodity as input",
    "plant took more": "a plant of the country took more of the commodity as input",
    "shortfall": "final use delivered less than its demand",
    "stock": "stock drawn or built beyond the baseline",
    "surplus": "material with no known destination changed",
    "unsold": "material the response made that nobody takes",
}
"""What each ``cause`` of :func:`supply_losses` means (a row joins its causes, largest first)."""


def supply_losses(flows: pd.DataFrame, attribution: pd.DataFrame, country: str, commodity: str,
                  year: int | None = None) -> pd.DataFrame:
    r"""Every source and every use of a country's supply of a commodity: baseline, simulated, change and cause.

    Parameters
    ----------
    flows : pandas.DataFrame
        ``Result.flows`` (public names: ``baseline``, ``simulated``, ``change``, ``status``, ``kind`` …).
    attribution : pandas.DataFrame
        ``Result.attribution``: ``year``, ``edge``, ``policy``, ``blocked`` (tonnes a policy blocked on the edge).
    country : str
        Country code.
    commodity : str
        Commodity id.
    year : int, optional
        One year; default every simulated year.

    Returns
    -------
    pandas.DataFrame
        :data:`LOSS_COLUMNS`: per year, ``side`` (``supply`` first, then ``use``), ``counterpart`` (a supplier
        or buyer country, ``domestic``, ``final use``, ``plants``, ``stock``, ``surplus``, ``unsold``),
        ``facility`` (the plant of a ``domestic`` or ``plants`` row, else ''), ``baseline``, ``simulated``,
        ``change`` (their difference), ``blocked`` (tonnes of it that policies blocked, ≥ 0) and ``cause``
        (:data:`CAUSES`; the policies and the response's parts of the change, largest first, joined by
        ", "; '' for a row that did not change). Biggest loss first within a side. Per year
        :math:`\sum_{\text{supply}}` ``change`` = :math:`\sum_{\text{use}}` ``change`` (the module's identity);
        the ``final use`` row's change is minus the country's shortfall of the commodity.

    Notes
    -----
    Per edge :math:`e` with change :math:`\Delta_e` and tonnes :math:`b_{e,p}` blocked by policy :math:`p`,
    the response's part is :math:`r_e = \Delta_e + \sum_p b_{e,p}`, named by the edge: ``deal`` for a
    flow of status ``deal``; for a plant's output ``upstream input`` when the plant's input of any one
    commodity fell (its change below :math:`-10^{-6}\max(1, \text{baseline})`, summed over that
    commodity's edges; inputs are not added across commodities, which have different units and
    roles), else ``plant curtailed`` (:math:`r_e < 0`) or ``more output``; for a plant's input
    ``plant took less`` / ``more``; ``shortfall`` for final use; ``stock``, ``surplus``, ``unsold`` for
    those flows; else, for :math:`r_e < 0`, ``supplier short`` when the edge's supplier (market or plant)
    sent less of the commodity in all (the same test on its out-flows) and ``re-allocated`` when it did
    not, and ``re-routed`` for :math:`r_e > 0`. Parts within 10⁻⁶ × max(1, baseline) of zero (the LP's
    round-off, ``outcome.TOL``) are left out of ``cause``.
    """
    f = flows[(flows["commodity"] == commodity)
              & ((flows["supplier_country"] == country) | (flows["buyer_country"] == country))]
    if year is not None:
        f = f[f["year"] == year]
    sup = f["supplier"].astype(str)
    buy = f["buyer"].astype(str)
    own_sup = f["supplier_country"] == country
    own_buy = f["buyer_country"] == country
    plant_sup = own_sup & ~sup.str.contains(":", regex=False)
    plant_buy = own_buy & ~buy.str.contains(":", regex=False)
    kind = f["kind"].astype(str)
    sink = own_buy & ~plant_buy & (kind.isin(["use", "surplus", "unsold"])
                                   | ((kind == "stock") & buy.str.endswith(":stock")))
    supply = pd.Series(None, index=f.index, dtype=object)
    supply[~own_sup & own_buy] = f["supplier_country"]
    supply[plant_sup] = "domestic"
    supply[own_sup & own_buy & sup.str.endswith(":stock")] = "stock"
    use = pd.Series(None, index=f.index, dtype=object)
    use[own_sup & ~own_buy] = f["buyer_country"]
    use[plant_buy] = "plants"
    use[sink] = kind[sink].map({"use": "final use", "surplus": "surplus", "unsold": "unsold", "stock": "stock"})

    blocked = _blocked(attribution, f)
    rest = f["change"].to_numpy(dtype=float) + blocked.sum(axis=1).to_numpy(dtype=float)
    tol = TOL * np.maximum(1.0, f["baseline"].to_numpy(dtype=float))
    # a plant's inputs are read only for its own output rows (_label): the country's own plants
    inputs_fell = _fell(flows, "buyer", set(sup[plant_sup])).droplevel("commodity")  # any one input commodity
    fell = np.asarray(pd.MultiIndex.from_arrays([f["year"], sup]).isin(inputs_fell), dtype=bool)
    short = np.asarray(pd.MultiIndex.from_arrays([f["year"], sup, f["commodity"]]).isin(
        _fell(flows, "supplier", set(sup))), dtype=bool)
    rows = []
    for side, who, fac in (("supply", supply, np.where(plant_sup, sup, "")),
                           ("use", use, np.where(plant_buy, buy, ""))):
        on = who.notna().to_numpy()
        for i in np.flatnonzero(on):
            r = f.iloc[i]
            part = {p: -float(t) for p, t in blocked.iloc[i].items() if t > 0}
            if abs(rest[i]) > tol[i]:
                label = _label(side, str(r["kind"]), str(r["status"]), bool(fac[i]), bool(fell[i]),
                               bool(short[i]), rest[i])
                part[label] = part.get(label, 0.0) + float(rest[i])
            rows.append({"year": int(r["year"]), "side": side, "counterpart": str(who.iloc[i]),
                         "facility": str(fac[i]), "unit": r["unit"], "baseline": float(r["baseline"]),
                         "simulated": float(r["simulated"]), "change": float(r["change"]),
                         "blocked": float(blocked.iloc[i].sum()), "part": part})
    if not rows:
        return pd.DataFrame(columns=list(LOSS_COLUMNS))
    t = pd.DataFrame(rows)
    keys = ["year", "side", "counterpart", "facility", "unit"]
    g = t.groupby(keys, sort=True).agg(baseline=("baseline", "sum"), simulated=("simulated", "sum"),
                                       change=("change", "sum"), blocked=("blocked", "sum"),
                                       part=("part", _merge)).reset_index()
    g = g[(g["baseline"].abs() > 0) | (g["simulated"].abs() > 0)]
    g["cause"] = [", ".join(k for k, v in sorted(p.items(), key=lambda kv: -abs(kv[1]))
                            if abs(v) > TOL * max(1.0, b))
                  for p, b in zip(g["part"], g["baseline"], strict=True)]
    g = g.assign(country=country, commodity=commodity, order=(g["side"] == "use").astype(int))
    g = g.sort_values(["year", "order", "change", "counterpart", "facility"], kind="stable")
    return g[list(LOSS_COLUMNS)].reset_index(drop=True)


def _blocked(attribution: pd.DataFrame, f: pd.DataFrame) -> pd.DataFrame:
    """Tonnes blocked per row of ``f`` (index) and policy (columns), 0 where none."""
    a = attribution[attribution["blocked"] > 0]
    if a.empty:
        return pd.DataFrame(index=f.index)
    wide = a.pivot_table(index=["year", "edge"], columns="policy", values="blocked", aggfunc="sum", fill_value=0.0)
    keys = pd.MultiIndex.from_arrays([f["year"], f["edge"]])
    return pd.DataFrame(wide.reindex(keys, fill_value=0.0).to_numpy(dtype=float), index=f.index,
                        columns=wide.columns.astype(str))


def _fell(flows: pd.DataFrame, end: str, nodes: set[str]) -> pd.MultiIndex:
    r"""Return the (year, node, commodity) whose flows at ``end`` fell: a plant's inputs (``buyer``), out-flows.

    Per year, node :math:`n` of ``nodes`` at the ``end`` of its edges (``buyer``: what flows in;
    ``supplier``: what flows out) and commodity :math:`k`, with :math:`\Delta` and :math:`B` the
    change and baseline summed over those edges, the flow fell when
    :math:`\Delta < -10^{-6}\max(1, B)` (``outcome.TOL``: beyond the LP's round-off). One
    commodity at a time: tonnes of different commodities are not added.
    """
    at = flows[flows[end].isin(nodes)]
    d = at.groupby(["year", end, "commodity"])[["change", "baseline"]].sum()
    return cast(pd.MultiIndex, d.index[d["change"] < -TOL * np.maximum(1.0, d["baseline"])])


def _label(side: str, kind: str, status: str, plant: bool, inputs_fell: bool, supplier_short: bool,
           rest: float) -> str:
    """Name the response's part of an edge's change (:data:`CAUSES`)."""
    if status == "deal":
        return "deal"
    if plant and side == "supply":
        return "upstream input" if inputs_fell else ("plant curtailed" if rest < 0 else "more output")
    if plant:
        return "plant took less" if rest < 0 else "plant took more"
    if kind == "use":
        return "shortfall"
    if kind in ("stock", "surplus", "unsold"):
        return kind
    if rest > 0:
        return "re-routed"
    return "supplier short" if supplier_short else "re-allocated"


def _merge(parts: pd.Series) -> dict[str, float]:
    """Sum the per-edge parts of a group's change by cause."""
    out: dict[str, float] = {}
    for p in parts:
        for k, v in p.items():
            out[k] = out.get(k, 0.0) + v
    return out
