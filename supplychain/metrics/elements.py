r"""Element content traced through products: dependence per element and a value-weighted view.

A tonne of NdFeB magnet carries about 0.3 t of Nd+Pr and a few kilograms of Dy and
Tb; a tonne of NdPr oxide 0.85 t of Nd+Pr. The commodity measures (traced share of a
market) weigh a converter's inputs by their mass, so the Dy inside a magnet hardly
moves the magnet's traced share. The measures here follow one **element** (or a sum of
elements, ``NdPr``) instead, with the contents declared per commodity
(``commodities.<id>.content``, t of element as metal per t of commodity):

* **element-weighted network.** Every edge carries ``f_X(e) = c(k_e, X) · f(e)``
  tonnes of element ``X`` (``k_e`` the edge's commodity) and every primary producer
  ``p_X(v) = c(k_v, X) · p(v)``; the input shares of this network,
  ``a_X(u, v) = f_X(u→v) / (p_X(v) + Σ_u' f_X(u'→v))``, weigh a magnet plant's
  inputs by the element they bring (for Dy: all of it comes with the Dy oxide,
  none with the NdPr metal);
* **element-traced share** ``t_X(v)``: the traced share (docs/domain.md item 3) solved on
  that network, ``t_X = b + (1 − b) ∘ (A_Xᵀ t_X)``, with the same engine
  (:func:`supplychain.engine.trace.traced_share`);
* **element in final use** of country ``c``: ``E_X(c) = Σ_{e → use node of c} f_X(e)``,
  the element contained in everything the country uses up (magnets, metal, oxide …;
  intermediate products turned into other products at home are not counted twice,
  and stock builds are not use);
* **dependence for element X** (:func:`element_dependence`):

  .. math:: D_X(c) = \frac{\sum_{u \in U(c)} f_X(u)\, t_X(u)}{\sum_{u \in U(c)} f_X(u)}

  over the final-use nodes ``U(c)`` of the country, ``f_X(u)`` the element flowing
  into ``u``; NaN (``n/a``: a share of nothing) when none of the element reaches the
  country's final use (:data:`~supplychain.metrics.trade.AC_RTOL`, the round-off of the
  first-hop shares) — a row for every country with a final use of a product carrying it;
* **value-weighted dependence** over several elements (:func:`value_weighted`):

  .. math:: D_V(c) = \frac{\sum_X P_X E_X(c) D_X(c)}{\sum_X P_X E_X(c)}

  with ``P_X`` a price per t of contained element (:func:`element_prices`: the price
  of the commodity that carries only ``X``, over its content — NdPr oxide USD 56/kg
  → USD 65.9/kg NdPr).

The array functions take numpy arrays (a trailing sample axis is allowed) and
return arrays; :func:`element_columns` gives the rows the measures table uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.engine.compile import compile_arrays
from supplychain.engine.trace import traced_share
from supplychain.graph.sums import group_sums
from supplychain.metrics.exposure import shortfall_share
from supplychain.metrics.trade import AC_RTOL
from supplychain.schema.model import Scenario

__all__ = [
    "ELEMENT_METRICS",
    "VALUE_METRIC",
    "element_columns",
    "element_content",
    "element_dependence",
    "element_exposure",
    "element_prices",
    "element_shortfall",
    "element_traced_share",
    "value_key",
    "value_weighted",
]

FloatArray = npt.NDArray[np.float64]

ELEMENT_METRICS = ("element_dependence", "element_use")
"""Metrics per country and element key (``commodity`` column = the key)."""
VALUE_METRIC = "element_dependence_value"
"""Metric of the value-weighted dependence (``commodity`` column = :func:`value_key`)."""


def element_content(scenario: Scenario) -> dict[str, dict[str, float]]:
    """Return the declared element contents, commodity → element key → t per t (central values).

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "commodities": {"m": {"name": "Magnet", "stage": "magnet", "elements": ["Nd", "Pr", "Dy"],
    ...                           "content": {"NdPr": 0.3, "Dy": 0.0065}}}})
    >>> element_content(s)
    {'m': {'NdPr': 0.3, 'Dy': 0.0065}}
    """
    return {cid: {k: q.central for k, q in com.content.items()}
            for cid, com in sorted(scenario.commodities.items()) if com.content}


def element_prices(scenario: Scenario) -> dict[str, float]:
    """Price per t of contained element, from the commodities that carry one element key only.

    ``P_X = price(k) / c(k, X)`` for the commodity ``k`` with a ``price_usd_per_t``
    whose ``content`` lists only ``X`` (the richest one when several do); keys
    without such a commodity get no price.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "commodities": {"o": {"name": "Dy oxide", "stage": "oxide", "elements": ["Dy"],
    ...                           "price_usd_per_t": 260000, "content": {"Dy": 0.8}}}})
    >>> element_prices(s)
    {'Dy': 325000.0}
    """
    best: dict[str, tuple[float, float]] = {}
    for com in scenario.commodities.values():
        if com.price_usd_per_t is None or len(com.content) != 1:
            continue
        (key, q), = com.content.items()
        c = q.central
        if c > 0 and c > best.get(key, (0.0, 0.0))[0]:
            best[key] = (c, com.price_usd_per_t.central / c)
    return {k: v[1] for k, v in sorted(best.items())}


def value_key(keys: Iterable[str]) -> str:
    """Return the ``commodity`` label of a value-weighted row (``"NdPr+Dy+Tb"``).

    Examples
    --------
    >>> value_key(["NdPr", "Dy", "Tb"])
    'NdPr+Dy+Tb'
    """
    return "+".join(keys)


# ------------------------------------------------------------------ arrays
def element_traced_share(
    n: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    element_t: npt.ArrayLike,
    element_primary: npt.ArrayLike,
    in_source: npt.ArrayLike,
) -> FloatArray:
    """Traced share of an element at every node, the inputs weighed by the element they carry.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : array_like of int, shape (m,)
        Supplier and buyer of every edge.
    element_t : array_like of float, shape (m,)
        Element carried by every edge, ``c(k_e, X) · f(e)``.
    element_primary : array_like of float, shape (n,)
        Element in every node's primary production, ``c(k_v, X) · p(v)``.
    in_source : array_like of bool, shape (n,)
        Nodes in the source (e.g. located in China).

    Returns
    -------
    ndarray, shape (n,)
        ``t_X(v)`` in node order (not solve order); a node that receives none of the
        element has ``t_X = 1`` if it is in the source, else 0.

    Examples
    --------
    A Japanese magnet plant (node 2) takes 0.30 t of Australian NdPr metal (node 0)
    and 0.0075 t of Chinese Dy oxide (node 1). By mass the plant is
    0.0075/0.3075 = 2.4 % Chinese; for Dy (content 0 in the metal, 0.87 in the oxide)
    it is 100 % Chinese, for NdPr 0 %:

    >>> src, dst, cn = [0, 1], [2, 2], [False, True, False]
    >>> element_traced_share(3, src, dst, [0.0, 0.0075 * 0.87], [0.3, 0.0075 * 0.87, 0.0], cn).tolist()
    [0.0, 1.0, 1.0]
    >>> element_traced_share(3, src, dst, [0.3, 0.0], [0.3, 0.0, 0.0], cn).tolist()
    [0.0, 1.0, 0.0]
    """
    w = np.asarray(element_t, dtype=np.float64)
    cg = compile_arrays(n, src, dst, w, element_primary)
    t_solve = traced_share(cg, np.asarray(in_source, dtype=bool)[cg.order])
    out = np.empty(n)
    out[cg.order] = t_solve
    return out


def element_dependence(
    element_t: npt.ArrayLike,
    traced: npt.ArrayLike,
    group: npt.ArrayLike,
    n_groups: int,
) -> tuple[FloatArray, FloatArray]:
    r"""Dependence on the source for one element, per country.

    Parameters
    ----------
    element_t : array_like, shape (u,) or (u, S)
        Element flowing into each final-use node (``f_X(u)``; a trailing sample axis
        is allowed).
    traced : array_like, same shape
        Element-traced share of each final-use node, ``t_X(u)``.
    group : array_like of int, shape (u,)
        Country number ``0 … n_groups − 1`` of each final-use node.
    n_groups : int
        Number of countries.

    Returns
    -------
    dependence : ndarray, shape (n_groups,) or (n_groups, S)
        ``D_X(c) = Σ_u f_X(u) t_X(u) / Σ_u f_X(u)``; NaN (a share of nothing, ``n/a``) where
        the country uses none (:math:`E_X(c)` at most :data:`~supplychain.metrics.trade.AC_RTOL`).
    element_use : ndarray, same shape
        ``E_X(c) = Σ_u f_X(u)``, tonnes of element in the country's final use.

    Examples
    --------
    Country 0 uses 9,530 t of magnets (2,859 t NdPr, 96.1 % Chinese) and 15 t of
    NdPr oxide (12.75 t NdPr, 0 % Chinese); country 1 none at all (its dependence is undefined):

    >>> d, e = element_dependence([2859.0, 12.75], [0.961, 0.0], [0, 0], 2)
    >>> d.round(4).tolist(), e.tolist()
    ([0.9567, nan], [2871.75, 0.0])
    """
    f = np.asarray(element_t, dtype=np.float64)
    t = np.asarray(traced, dtype=np.float64)
    g = np.asarray(group, dtype=np.int64)
    shape = (n_groups, *f.shape[1:])
    num = np.zeros(shape)
    den = np.zeros(shape)
    np.add.at(num, g, f * t)
    np.add.at(den, g, f)
    dep = np.divide(num, den, out=np.full(shape, np.nan), where=den > AC_RTOL)
    return dep, den


def value_weighted(dependence: npt.ArrayLike, element_use: npt.ArrayLike, price: npt.ArrayLike) -> FloatArray:
    r"""Value-weighted dependence over several elements.

    Parameters
    ----------
    dependence, element_use : array_like, shape (g, k) or (g, k, S)
        ``D_X(c)`` and ``E_X(c)`` for ``k`` elements.
    price : array_like, shape (k,)
        ``P_X``, USD per t of contained element.

    Returns
    -------
    ndarray, shape (g,) or (g, S)
        ``D_V(c) = Σ_X P_X E_X D_X / Σ_X P_X E_X`` over the elements the country uses (an
        element it uses none of, ``D_X`` NaN, weighs 0); NaN where it uses none of them.

    Examples
    --------
    2,859 t NdPr (USD 65,886/t) 96.1 % Chinese and 62.3 t Dy (USD 298,397/t) 100 %
    Chinese: ``(188.37 M · 0.961 + 18.59 M · 1) / 206.96 M = 0.9645``.

    >>> round(float(value_weighted([[0.961, 1.0]], [[2859.0, 62.3]], [65886.0, 298397.0])[0]), 4)
    0.9645
    """
    d = np.asarray(dependence, dtype=np.float64)
    e = np.asarray(element_use, dtype=np.float64)
    p = np.asarray(price, dtype=np.float64).reshape((1, -1) + (1,) * (d.ndim - 2))
    used = ~np.isnan(d)
    num = (p * e * np.where(used, d, 0.0)).sum(axis=1)
    den = (p * np.where(used, e, 0.0)).sum(axis=1)
    out: FloatArray = np.divide(num, den, out=np.full(den.shape, np.nan), where=den > 0)
    return out


# ------------------------------------------------------------------ table
def element_columns(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    content: Mapping[str, Mapping[str, float]],
    source: Iterable[str],
    prices: Mapping[str, float] | None = None,
) -> dict[str, npt.NDArray[Any]]:
    """Element dependence, element in final use and the value-weighted dependence per country.

    Parameters
    ----------
    nodes, edges : DataFrame
        Tables of one year (``node``, ``kind``, ``country``, ``commodity``,
        ``primary``; ``supplier``, ``buyer``, ``commodity``, ``tonnes``).
    content : mapping
        Commodity → element key → t of element per t (:func:`element_content`).
    source : iterable of str
        Source country codes (resolved).
    prices : mapping, optional
        Element key → USD per t contained (:func:`element_prices`); the value-weighted
        row needs a price for every key in `content`.

    Returns
    -------
    dict of str to ndarray
        Columns ``country, commodity, metric, value, unit, basis`` (object arrays, ``value``
        float), the rows of the measures table: per country with final use of an element,
        ``element_dependence`` (share) and ``element_use`` (t) with the element key in
        ``commodity``; ``element_dependence_value`` with :func:`value_key` in ``commodity``
        where every key has a price.
    """
    cols = ("country", "commodity", "metric", "value", "unit", "basis")
    keys = sorted({k for c in content.values() for k in c}, key=lambda k: (len(k) < 3, k))
    if not keys or nodes.empty:
        return {c: np.zeros(0, dtype=float if c == "value" else object) for c in cols}
    ids = [str(v) for v in nodes["node"].tolist()]
    src, dst = (_positions(ids, [str(v) for v in edges[c].tolist()]) for c in ("supplier", "buyer"))
    tonnes = edges["tonnes"].to_numpy(dtype=float)
    primary = nodes["primary"].to_numpy(dtype=float)
    node_country = nodes["country"].to_numpy().astype(str)
    source_set = set(source)
    in_source = np.fromiter((c in source_set for c in node_country.tolist()), dtype=bool, count=len(ids))
    use = np.flatnonzero(nodes["kind"].to_numpy().astype(str) == "use")
    countries, group = np.unique(node_country[use], return_inverse=True)
    group = np.asarray(group, dtype=np.int64).ravel()
    use_pos = np.full(len(ids), -1)
    use_pos[use] = np.arange(len(use))
    into_use = use_pos[dst] >= 0
    deps, uses, carry = [], [], []
    edge_commodity, edge_code = np.unique(edges["commodity"].to_numpy().astype(str), return_inverse=True)
    node_commodity, node_code = np.unique(nodes["commodity"].to_numpy().astype(str), return_inverse=True)
    edge_code, node_code = np.asarray(edge_code, dtype=np.int64).ravel(), np.asarray(node_code, dtype=np.int64).ravel()
    for key in keys:
        c_edge = np.array([content.get(k, {}).get(key, 0.0) for k in edge_commodity.tolist()], dtype=float)
        c_node = np.array([content.get(k, {}).get(key, 0.0) for k in node_commodity.tolist()], dtype=float)
        f_x = tonnes * c_edge[edge_code]
        t_x = element_traced_share(len(ids), src, dst, f_x, primary * c_node[node_code], in_source)
        into = np.zeros(len(use))
        np.add.at(into, use_pos[dst[into_use]], f_x[into_use])
        dep, tot = element_dependence(into, t_x[use], group, len(countries))
        deps.append(dep)
        uses.append(tot)
        # the countries with a final use of a product that carries the element (their rows)
        carry.append(np.bincount(group, weights=c_node[node_code[use]] > 0, minlength=len(countries)) > 0)
    dep_m, use_m = np.stack(deps, axis=1), np.stack(uses, axis=1)
    # rows: per key, per country with a final use of a product carrying it (whether or not any arrives:
    # none arriving is a dependence of n/a, not 0), its dependence then its use
    carries = np.stack(carry, axis=1)
    j, i = np.nonzero((carries | (use_m > 0)).T)
    n = len(i)
    key_arr = np.asarray(keys, dtype=object)
    out: dict[str, Any] = {
        "country": np.repeat(countries[i].astype(object), 2),
        "commodity": np.repeat(key_arr[j], 2),
        "metric": np.tile(np.array(list(ELEMENT_METRICS), dtype=object), n),
        "value": np.column_stack([dep_m[i, j], use_m[i, j]]).ravel(),
        "unit": np.tile(np.array(["share", "t"], dtype=object), n),
        "basis": np.repeat(np.array([f"t {key} contained" for key in keys], dtype=object)[j], 2),
    }
    if prices is not None and all(k in prices for k in keys):
        dv = value_weighted(dep_m, use_m, [prices[k] for k in keys])
        label = value_key(keys)
        some = np.flatnonzero((carries | (use_m > 0)).any(axis=1))
        extra = {"country": countries[some].astype(object), "commodity": np.full(len(some), label, dtype=object),
                 "metric": np.full(len(some), VALUE_METRIC, dtype=object), "value": dv[some],
                 "unit": np.full(len(some), "share", dtype=object),
                 "basis": np.full(len(some), "USD of contained " + label, dtype=object)}
        out = {c: np.concatenate([out[c], extra[c]]) for c in cols}
    return out


def _positions(ids: list[str], wanted: list[str]) -> npt.NDArray[np.intp]:
    """Position of each of ``wanted`` among the distinct ``ids``, −1 if absent (``Index.get_indexer``)."""
    pos = {v: i for i, v in enumerate(ids)}
    if len(pos) < len(ids):  # repeated ids: pandas' error
        return np.asarray(pd.Index(ids, dtype=object).get_indexer(pd.Index(wanted, dtype=object)), dtype=np.intp)
    return np.array([pos.get(v, -1) for v in wanted], dtype=np.intp)


def element_exposure(dependence: npt.ArrayLike, shortfall: npt.ArrayLike) -> FloatArray:
    r"""Exposure for an element counting unmet demand: :math:`D_X (1 - S_X) + S_X`.

    :math:`D_X` is the traced share of the element delivered to final use
    (:func:`element_dependence`) and :math:`S_X` the share of the element in final demand left
    unmet (:func:`element_shortfall`): the element traced to the source plus the element not
    delivered, over the element in demand — ``exposed_share``
    (:mod:`supplychain.metrics.exposure`) for the element inside products.

    A share of nothing is handled as the formula's tonnes say: where none of the element arrives
    (:math:`D_X` NaN, ``n/a``) and all of its demand is unmet (:math:`S_X = 1` up to
    :data:`~supplychain.metrics.trade.AC_RTOL`), the delivered part weighs 0 and the exposure is
    :math:`S_X = 1` — a ban that starves a country is full exposure, not n/a; where the element
    has no demand in the data (:math:`S_X` NaN) nothing counts as unmet (:math:`S_X = 0`: the
    exposure is :math:`D_X`, NaN when that is n/a too). A NaN :math:`D_X` beside demand partly met
    (it cannot arise from one year's tables) stays NaN.

    Examples
    --------
    Half of the US's NdPr demand is unmet, and the NdPr that arrives is 20 % Chinese:
    ``0.2 · 0.5 + 0.5 = 0.6``; the EU gets no NdPr at all and lacks all of it: ``1``; a country
    without NdPr demand in the data keeps its dependence, ``0.3``:

    >>> element_exposure([0.2, np.nan, 0.3], [0.5, 1.0, np.nan]).tolist()
    [0.6, 1.0, 0.3]
    """
    d = np.asarray(dependence, dtype=np.float64)
    s = np.asarray(shortfall, dtype=np.float64)
    s = np.where(np.isnan(s), 0.0, s)
    delivered = np.where(np.isnan(d) & (s >= 1.0 - AC_RTOL), 0.0, d * (1.0 - s))
    out: FloatArray = delivered + s
    return out


def element_shortfall(short: pd.DataFrame, content: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    r"""Share of the element in a country's final demand that goes unmet.

    .. math:: S_X(c) = \frac{\sum_k c(k, X)\, \mathrm{shortfall}(c, k)}{\sum_k c(k, X)\, \mathrm{demand}(c, k)}

    so an element target can require that demand is met (a dependence of 0 because
    nothing arrives is not less dependence).

    Parameters
    ----------
    short : DataFrame
        Per final-use node: ``country``, ``commodity``, ``demand_t``, ``shortfall_t``.
    content : mapping
        Commodity → element key → t per t.

    Returns
    -------
    DataFrame
        ``country, commodity`` (the element key), ``value`` (the share), one row per
        country and key with element in its demand (a share of no demand is n/a: no row;
        :func:`supplychain.metrics.exposure.shortfall_share`).

    Examples
    --------
    The US lacks 4,165 t of 9,530 t of magnets and none of 15 t of NdPr oxide:
    ``0.3 · 4165 / (0.3 · 9530 + 0.85 · 15) = 0.4351`` of its NdPr.

    >>> s = pd.DataFrame({"country": ["US", "US"], "commodity": ["magnet", "oxide"],
    ...                   "demand_t": [9530.0, 15.0], "shortfall_t": [4165.0, 0.0]})
    >>> element_shortfall(s, {"magnet": {"NdPr": 0.3}, "oxide": {"NdPr": 0.85}}).round(4).to_dict("records")
    [{'country': 'US', 'commodity': 'NdPr', 'value': 0.4351}]
    """
    cols: dict[str, list[Any]] = {"country": [], "commodity": [], "value": []}
    keys = sorted({k for c in content.values() for k in c})
    commodity = [str(c) for c in short["commodity"].tolist()]
    country = [str(c) for c in short["country"].tolist()]
    demand_t = short["demand_t"].to_numpy(float)
    short_t = short["shortfall_t"].to_numpy(float)
    for key in keys:
        c = np.array([content.get(k, {}).get(key, 0.0) for k in commodity], dtype=float)
        demand = group_sums(country, (c * demand_t).tolist())
        lacking = group_sums(country, (c * short_t).tolist())
        for i in sorted(demand):
            share = float(shortfall_share(lacking[i], demand[i]))
            if share == share:  # no row without demand for the element (n/a)
                cols["country"].append(i)
                cols["commodity"].append(key)
                cols["value"].append(share)
    return pd.DataFrame(cols)
