r"""Trade after the base year: the base year's pattern, scaled to each year's volumes.

Trade data are observed for the base year. For a later year only production, capacity
and demand change; without a rule for trade, every year after the base year would be
allocated afresh (:mod:`supplychain.graph.allocate`) and the trend from the base year
would mix that change of method with real change. Instead, a later year keeps the
base year's **trade pattern** (``docs/measures.md``, "Later years"):

1. **Direct flows of facilities** (a plant's flow to a foreign market or plant) keep
   their share of the plant's output (or input): tonnes :math:`x^0_e \, O_v(y) / O_v(y_0)`
   for a supplying facility v, :math:`x^0_e \, I_v(y) / I_v(y_0)` for a buying one
   (the smaller of the two when both ends are facilities).
2. **Trade between markets** keeps each importer's partner shares and each exporter's
   destination shares as far as the year's volumes allow: the base year's matrix
   :math:`X^0` (exporter × importer, per commodity) is balanced biproportionally (RAS,
   :func:`ras`) to the year's exports :math:`E_m` and imports :math:`I_m`. With
   :math:`r_m` a market's surplus before trade (output + direct inflows − final use −
   plants' inputs − direct outflows − what its surplus node and stock build took in the
   base year: buyers the data do not name keep buying what they bought),
   :math:`T_m = \min(E^0_m, I^0_m)` its base-year re-exports and superscript 0 the base
   year,

   .. math::

       E_m = T_m + \max(0, r_m)\,\frac{E^0_m - T_m}{r^0_m}, \qquad
       I_m = T_m + \max(0, -r_m)\,\frac{I^0_m - T_m}{-r^0_m}

   (the fraction is 0 where the base year had no such surplus or deficit): a market
   exports the same share of its surplus and imports the same share of its deficit as in
   the base year (the rest of a deficit came from its stock).
   Where the world's exports and imports differ, the larger side is scaled down
   proportionally to the smaller.
3. What no pattern covers — a new exporter or importer, or volumes beyond what the
   pattern can carry — is left to the allocation rules (``alloc.*`` edges, marked
   ``allocated``).

A pair of endpoints with a flow given for the year itself keeps that flow instead of
the pattern's. Carried edges keep their base-year edge id and entity (``flows.…``,
``imports.…``, ``alloc.…``), so a result can be traced to the observation it scales;
their ``allocated`` flag is the base year's. With the same production and demand as the
base year, every later year reproduces the base year's trade exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["RAS_TOL", "carry_pattern", "ras"]

FloatArray = npt.NDArray[np.float64]

RAS_TOL = 1e-10
"""Relative tolerance of the biproportional balance (:func:`ras`)."""


def ras(prior: FloatArray, rows: FloatArray, cols: FloatArray, *, tol: float = RAS_TOL,
        max_iter: int = 1000) -> FloatArray:
    r"""Scale a non-negative matrix biproportionally to row and column sums (RAS, iterative proportional fitting).

    Finds :math:`X = \operatorname{diag}(r)\, X^0 \operatorname{diag}(s)` with row sums ``rows``
    and column sums ``cols`` (Bacharach 1970, *Biproportional Matrices and Input-Output Change*;
    Miller & Blair 2009, *Input-Output Analysis*, ch. 7). Zeros of the prior stay zero. The
    totals of ``rows`` and ``cols`` must be equal. When the zeros make the sums unreachable,
    the iteration stops after ``max_iter`` passes and the result is scaled down so that no row
    or column exceeds its sum (what is left is for the caller to place).

    Parameters
    ----------
    prior : numpy.ndarray
        :math:`X^0`, shape (rows, cols), non-negative.
    rows, cols : numpy.ndarray
        Target row and column sums.
    tol : float
        Largest relative difference of a sum from its target.
    max_iter : int
        Largest number of row-and-column passes.

    Returns
    -------
    numpy.ndarray
        :math:`X`, row sums ≤ ``rows`` and column sums ≤ ``cols``.

    Examples
    --------
    Two exporters, two importers; the second importer needs twice as much (140 t instead of
    70 t), the first exporter sells 40 t more. Scaling the second column by 2 meets every sum:

    >>> x = ras(np.array([[60.0, 40.0], [20.0, 30.0]]), np.array([140.0, 80.0]), np.array([80.0, 140.0]))
    >>> np.round(x, 6).tolist()
    [[60.0, 80.0], [20.0, 60.0]]
    """
    x = np.array(prior, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.float64)
    cols = np.asarray(cols, dtype=np.float64)
    if x.size == 0:
        return x
    for _ in range(max_iter):
        rs = x.sum(axis=1)
        x *= np.divide(rows, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        cs = x.sum(axis=0)
        x *= np.divide(cols, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
        rs = x.sum(axis=1)
        if np.all(np.abs(rs - rows) <= tol * np.maximum(rows, 1e-300)):
            break
    rs = x.sum(axis=1)
    over = np.divide(rows, rs, out=np.ones_like(rs), where=rs > rows)
    x *= np.minimum(1.0, over)[:, None]
    cs = x.sum(axis=0)
    over_c = np.divide(cols, cs, out=np.ones_like(cs), where=cs > cols)
    x *= np.minimum(1.0, over_c)[None, :]
    return x


def _is_market(node: pd.Series) -> npt.NDArray[np.bool_]:
    return np.asarray(node.astype(str).str.count(":").eq(1).to_numpy(), dtype=bool)


def carry_pattern(
    base: pd.DataFrame,
    observed: pd.DataFrame,
    demand: pd.DataFrame,
    output_ratio: Mapping[tuple[str, str], float],
    input_ratio: Mapping[tuple[str, str], float],
) -> pd.DataFrame:
    """Return a later year's observed edges with the base year's trade pattern carried over (module docstring).

    Parameters
    ----------
    base : pandas.DataFrame
        The base year's edge table (trade edges: ``kind == "trade"``).
    observed : pandas.DataFrame
        The year's observed edges (supply, input, and any trade given for the year).
    demand : pandas.DataFrame
        The year's given demand (:func:`~supplychain.graph.allocate.demand_table`).
    output_ratio, input_ratio : mapping
        (facility, commodity) → the facility's output (input) of the commodity in the year
        over the base year's.

    Returns
    -------
    pandas.DataFrame
        ``observed`` with the carried trade edges added and each facility's supply (input)
        edge reduced by its carried direct flows.
    """
    trade = base.loc[base["kind"].eq("trade") & (base["tonnes"] > 0)]
    if trade.empty:
        return observed
    given = set(zip(observed.loc[observed["kind"].eq("trade"), "supplier"].astype(str),
                    observed.loc[observed["kind"].eq("trade"), "buyer"].astype(str),
                    observed.loc[observed["kind"].eq("trade"), "commodity"].astype(str), strict=True))
    key = list(zip(trade["supplier"].astype(str), trade["buyer"].astype(str), trade["commodity"].astype(str),
                   strict=True))
    trade = trade.loc[[k not in given for k in key]]
    s_mkt = _is_market(trade["supplier"])
    b_mkt = _is_market(trade["buyer"])
    obs = observed.copy()
    carried: list[pd.DataFrame] = []

    # 1. direct flows of facilities: their share of the facility's output (input)
    direct = trade.loc[~(s_mkt & b_mkt)].copy()
    if len(direct):
        ratio = np.ones(len(direct))
        for i, (s, b, k) in enumerate(zip(direct["supplier"].astype(str), direct["buyer"].astype(str),
                                          direct["commodity"].astype(str), strict=True)):
            if ":" not in s:
                ratio[i] = min(ratio[i], float(output_ratio.get((s, k), 0.0)))
            if ":" not in b:
                ratio[i] = min(ratio[i], float(input_ratio.get((b, k), 0.0)))
        direct["tonnes"] = direct["tonnes"].to_numpy(dtype=float) * ratio
        direct = direct.loc[direct["tonnes"] > 0]
        carried.append(direct)
        for col, kind, prefix in (("supplier", "supply", "supply"), ("buyer", "input", "input")):
            fac = direct.loc[~direct[col].astype(str).str.contains(":")]
            sent = fac.groupby([fac[col].astype(str), fac["commodity"].astype(str)])["tonnes"].sum()
            for f, k, t in zip(sent.index.get_level_values(0), sent.index.get_level_values(1), sent.to_numpy(),
                               strict=True):
                sel = obs["edge"].eq(f"{prefix}.{f}.{k}") & obs["kind"].eq(kind)
                obs.loc[sel, "tonnes"] = np.maximum(0.0, obs.loc[sel, "tonnes"].to_numpy(dtype=float) - float(t))

    # 2. trade between markets: RAS to the year's exports and imports
    mm = trade.loc[s_mkt & b_mkt]
    if len(mm):
        current = pd.concat([obs, *carried], ignore_index=True)
        # what the base year's surplus nodes and stock builds took is a use the data do not name: kept
        sinks = base.loc[base["kind"].eq("surplus") | base["buyer"].astype(str).str.endswith(":stock")]
        unnamed = sinks.groupby("supplier")["tonnes"].sum()
        use = demand.groupby("market")["tonnes"].sum() if len(demand) else pd.Series(dtype=float)
        r = _surplus_before_trade(current).sub(use, fill_value=0.0).sub(unnamed, fill_value=0.0)
        # the base year's surplus before the same trade (pairs given for the year count as observed)
        keep = ~base.index.isin(mm.index) & ~base["kind"].isin(["surplus", "stock", "use"])
        r0 = _surplus_before_trade(base.loc[keep])
        r0 = r0.sub(base.loc[base["kind"].eq("use")].groupby("supplier")["tonnes"].sum(), fill_value=0.0)
        r0 = r0.sub(unnamed, fill_value=0.0)
        r_year, r_base = r.to_dict(), r0.to_dict()
        for _commodity, part in mm.groupby(mm["commodity"].astype(str), sort=True):
            carried.append(_balance(part, r_year, r_base))
    if not carried:
        return obs
    return pd.concat([obs, *carried], ignore_index=True)


def _surplus_before_trade(edges: pd.DataFrame) -> pd.Series:
    """Inflow − outflow of every market over ``edges`` (the caller leaves out market-to-market trade)."""
    inflow = edges.loc[_is_market(edges["buyer"])].groupby("buyer")["tonnes"].sum()
    outflow = edges.loc[_is_market(edges["supplier"])].groupby("supplier")["tonnes"].sum()
    return inflow.sub(outflow, fill_value=0.0)


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _balance(part: pd.DataFrame, r: Mapping[Any, float], r0: Mapping[Any, float]) -> pd.DataFrame:
    """RAS one commodity's market-to-market pattern edges to the year's margins (module docstring, step 2).

    ``r`` and ``r0``: each market's surplus before trade in the year and in the base year.
    """
    pair = part.groupby([part["supplier"].astype(str), part["buyer"].astype(str)])["tonnes"].sum()
    sup = [str(v) for v in pair.index.get_level_values(0)]
    buy = [str(v) for v in pair.index.get_level_values(1)]
    val = pair.to_numpy(dtype=float)
    exporters = sorted(set(sup))
    importers = sorted(set(buy))
    markets = sorted(set(exporters) | set(importers))
    e0 = pair.groupby(level=0).sum().to_dict()
    i0 = pair.groupby(level=1).sum().to_dict()
    t = {m: min(float(e0.get(m, 0.0)), float(i0.get(m, 0.0))) for m in markets}
    ry = {m: float(r.get(m, 0.0)) for m in markets}
    rb = {m: float(r0.get(m, 0.0)) for m in markets}
    rows = np.array([t[m] + max(0.0, ry[m]) * _share(float(e0.get(m, 0.0)) - t[m], rb[m]) for m in exporters])
    cols = np.array([t[m] + max(0.0, -ry[m]) * _share(float(i0.get(m, 0.0)) - t[m], -rb[m]) for m in importers])
    total = min(rows.sum(), cols.sum())
    if total <= 0:
        return part.iloc[0:0]
    rows = rows * (total / rows.sum())
    cols = cols * (total / cols.sum())
    prior = np.zeros((len(exporters), len(importers)))
    ri = {m: i for i, m in enumerate(exporters)}
    ci = {m: i for i, m in enumerate(importers)}
    for s, b, v in zip(sup, buy, val, strict=True):
        prior[ri[s], ci[b]] = v
    x = ras(prior, rows, cols)
    factor = {(s, b): float(x[ri[s], ci[b]]) / v for s, b, v in zip(sup, buy, val, strict=True) if v > 0}
    out = part.copy()
    f = np.array([factor.get((s, b), 0.0) for s, b in zip(out["supplier"].astype(str), out["buyer"].astype(str),
                                                          strict=True)])
    out["tonnes"] = out["tonnes"].to_numpy(dtype=float) * f
    return out.loc[out["tonnes"] > 0]
