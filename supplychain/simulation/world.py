r"""The world's balance of a commodity in a year: what all its users demand, what reaches them, what does not.

A run's shortfall table says *who* is short; summed over the users of a commodity :math:`k` in
year :math:`y` it says whether *the world* is:

.. math::

    D_{k,y} = \sum_u D_u, \qquad S_{k,y} = \sum_u (D_u - z_u), \qquad
    Z_{k,y} = D_{k,y} - S_{k,y} = \sum_u z_u, \qquad \sigma_{k,y} = Z_{k,y} / D_{k,y},

over the users :math:`u` of :math:`k` (use nodes with a given demand :math:`D_u > 0`, unmet
:math:`z_u`). :math:`S` is the supply that reaches the users after the run's policies (bans,
quotas), capacities and response.

Under ``rebalance`` every allocation rule but ``home_first`` is Pareto efficient: no tonne is
left unused that could reach a short user (docs/rebalance.md, "Allocation rules"). Where the users
of :math:`k` draw only on :math:`k`'s own supply (a single commodity over a network of capacities),
the tonnes the network can deliver form a polymatroid, whose maximal points all deliver the same
total (also those that meet ``contracts_first``'s floors, which only guarantee deliveries): these
rules leave the world :math:`Z` short, and :math:`Z > 0` is a shortage under the run's bans and
capacities — the rule decides who bears it, not its size. ``home_first`` closes the exports of
short countries: it is Pareto efficient only in the smaller network without the exports it holds,
so its total can be lower. Where users of :math:`k` compete
with plants that turn :math:`k` into something else (NdPr oxide for final use or for metal), the
total can move with the rule; ``run``'s allocation-rule line and the report's answers say when it
does (:func:`~supplychain.report.rule_range.same_total`). Under ``fixed`` (the baseline's trade
pattern, nothing re-routed) :math:`Z` is the pessimistic bound, not the world's shortage: supply
stranded in one market is not sent to users short in another.

A run's trade summed for the world the same way, :func:`flow_sums` (:class:`TradeSums`): each
commodity's tonnes the policies blocked and each country's imports by partner
(:data:`INFLOW_COLUMNS`), what ``compare``'s "Exposure falls ..." note reads
(:mod:`supplychain.report.exposure_falls`) without keeping the flows.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final, NamedTuple

import pandas as pd

from supplychain.metrics.exposure import shortfall_share

__all__ = ["INFLOW_COLUMNS", "SHORT", "WORLD_COLUMNS", "TradeSums", "beyond_country_rows", "flow_sums", "world_balance",
           "world_short"]

WORLD_COLUMNS: Final = ["year", "commodity", "unit", "demand", "delivered", "shortfall", "shortfall_share"]
"""Columns of :func:`world_balance` (``variant`` first when the shortfall table has one)."""

INFLOW_COLUMNS: Final = ["variant", "year", "country", "commodity", "supplier", "tonnes"]
"""Columns of :attr:`TradeSums.inflows`."""

SHORT: Final = 1e-6
r"""The world counts as short of a commodity when :math:`Z > \text{SHORT} \cdot \max(1, D)` (the LP's round-off)."""


def world_balance(shortfall: pd.DataFrame) -> pd.DataFrame:
    r"""Sum a shortfall table over users: per (variant,) year and commodity, :math:`D, S, Z, \sigma`.

    Parameters
    ----------
    shortfall : pandas.DataFrame
        :attr:`Result.shortfall <supplychain.api.Result>` of one or more runs: ``year``,
        ``commodity``, ``unit``, ``demand``, ``delivered``, ``shortfall`` (a ``variant`` column is kept
        as a key). Rows without demand (a use node with no given demand) add nothing.

    Returns
    -------
    pandas.DataFrame
        :data:`WORLD_COLUMNS` (``variant`` first if given): ``demand`` :math:`D`, ``delivered``
        :math:`S`, ``shortfall`` :math:`Z` and ``shortfall_share`` :math:`\sigma = Z/D` (NaN without
        demand), sorted by its keys.

    Examples
    --------
    Japan wants 120 t and Korea 80 t; 100 t reach them (Japan 60 t, Korea 40 t): the world is 100 t
    (50 %) short, whoever bears it.

    >>> s = pd.DataFrame({"year": [2025] * 2, "country": ["JP", "KR"], "commodity": ["m"] * 2, "unit": ["t"] * 2,
    ...                   "demand": [120.0, 80.0], "delivered": [60.0, 40.0], "shortfall": [60.0, 40.0]})
    >>> world_balance(s).values.tolist()
    [[2025, 'm', 't', 200.0, 100.0, 100.0, 0.5]]
    """
    keys = [k for k in ("variant", "year", "commodity", "unit") if k in shortfall.columns]
    cols = [*(["variant"] if "variant" in keys else []), *WORLD_COLUMNS]
    if shortfall.empty:
        return pd.DataFrame(columns=cols)
    g = shortfall.groupby(keys, as_index=False, sort=True)[["demand", "delivered", "shortfall"]].sum()
    g["shortfall_share"] = shortfall_share(g["shortfall"], g["demand"])
    if "unit" not in g.columns:
        g["unit"] = "t"
    return pd.DataFrame(g[cols]).reset_index(drop=True)


class TradeSums(NamedTuple):
    """A flows table summed over its trade edges (:func:`flow_sums`): the tonnes blocked and each country's imports."""

    blocked: pd.DataFrame
    r"""``variant``, ``year``, ``commodity``, ``blocked``: :math:`B_v(k, y) = \sum_e x^0_e b_e` over its trade edges."""
    inflows: pd.DataFrame
    """:data:`INFLOW_COLUMNS`: simulated trade from ``supplier`` into ``country`` (cross-border edges only)."""


def flow_sums(flows: pd.DataFrame, *, baseline: str = "baseline", simulated: str = "simulated") -> TradeSums:
    r"""Sum a flows table over its trade edges: each commodity's blocked tonnes and each country's imports by partner.

    What :mod:`supplychain.report.exposure_falls` reads of a run's flows: per variant, year and
    commodity *k*, the tonnes the policies blocked worldwide, :math:`B_v(k, y) = \sum_e x^0_e\,b_e`
    (baseline tonnes :math:`x^0_e` times the blocked share :math:`b_e`, none read 0, over *k*'s edges
    of ``kind`` ``trade``), and per buyer country *c* and supplier country *s* :math:`\ne c` the
    simulated tonnes :math:`\sum_{e: s \to c} x_e` of those edges.

    Parameters
    ----------
    flows : pandas.DataFrame
        :attr:`Result.flows <supplychain.api.Result.flows>` of one or more runs (``variant``, ``year``,
        ``supplier_country``, ``buyer_country``, ``commodity``, ``kind``, ``blocked_share`` and the
        baseline and simulated tonnes, named by ``baseline`` and ``simulated``: the simulator's own
        table calls them ``baseline_t`` and ``tonnes``), or of its trade edges alone
        (:func:`~supplychain.simulation.outcome.trade_frame`).

    Returns
    -------
    TradeSums
        ``blocked`` (``variant``, ``year``, ``commodity``, ``blocked``) and ``inflows``
        (:data:`INFLOW_COLUMNS`), each sorted by its keys.

    Examples
    --------
    >>> f = pd.DataFrame({"variant": "v", "year": 2025, "supplier_country": ["CN", "RU", "US"],
    ...                   "buyer_country": ["US", "US", "US"], "commodity": "ga", "kind": ["trade", "trade", "use"],
    ...                   "baseline": [30.0, 0.0, 100.0], "simulated": [0.0, 30.0, 100.0],
    ...                   "blocked_share": [1.0, 0.0, 0.0]})
    >>> blocked, inflows = flow_sums(f)
    >>> blocked.values.tolist(), inflows.values.tolist()
    ([['v', 2025, 'ga', 30.0]], [['v', 2025, 'US', 'ga', 'CN', 0.0], ['v', 2025, 'US', 'ga', 'RU', 30.0]])
    """
    trade = flows[flows["kind"] == "trade"]
    blocked = trade.assign(blocked=trade[baseline].astype(float) * trade["blocked_share"].fillna(0.0).astype(float))
    blocked = blocked.groupby(["variant", "year", "commodity"], as_index=False, sort=True)[["blocked"]].sum()
    cross = trade[trade["supplier_country"] != trade["buyer_country"]]
    inflows = pd.DataFrame({"variant": cross["variant"], "year": cross["year"], "country": cross["buyer_country"],
                            "commodity": cross["commodity"], "supplier": cross["supplier_country"],
                            "tonnes": cross[simulated].astype(float)})
    inflows = inflows.groupby(INFLOW_COLUMNS[:-1], as_index=False, sort=True)[["tonnes"]].sum()
    return TradeSums(blocked, inflows)


def world_short(balance: pd.DataFrame) -> pd.DataFrame:
    r"""Keep the rows of :func:`world_balance` where users go short: :math:`Z > \text{SHORT}\cdot\max(1, D)`.

    The world's shortage only under ``rebalance`` with a Pareto efficient rule (the module's text);
    under ``fixed`` and ``home_first`` what the users lack, part of which the pattern or rule may strand.

    Examples
    --------
    >>> b = pd.DataFrame({"year": [2025, 2026], "commodity": ["m", "m"], "unit": ["t", "t"],
    ...                   "demand": [200.0, 200.0], "delivered": [100.0, 200.0 - 1e-9],
    ...                   "shortfall": [100.0, 1e-9], "shortfall_share": [0.5, 5e-12]})
    >>> world_short(b)["year"].tolist()
    [2025]
    """
    return balance[balance["shortfall"] > SHORT * balance["demand"].clip(lower=1.0)].reset_index(drop=True)


def beyond_country_rows(short: pd.DataFrame, shortfall: pd.DataFrame,
                        shown: Collection[str] | None = None) -> pd.DataFrame:
    r"""Keep the rows of :func:`world_short` that say more than the country rows beside them.

    :math:`Z = \sum_u z_u \ge z_u`, so the world is short of :math:`k` in a year whenever one of
    its users is: a world row whose only short user is a country already shown repeats that
    country's row. A row is kept where at least two users are short
    (:math:`z_u > \text{SHORT}\cdot\max(1, D_u)`), or where its one short user is not among
    ``shown`` (the countries whose rows are printed; ``None``: every country's are).

    Parameters
    ----------
    short : pandas.DataFrame
        :func:`world_short` rows (a ``variant`` column, if any, is a key).
    shortfall : pandas.DataFrame
        The per-user table ``short`` was summed from (``country``, ``demand``, ``shortfall``, the keys).
    shown : collection of str, optional
        Countries whose own rows are shown.

    Examples
    --------
    Magnets: Japan and Korea short; gallium: only the US; germanium: only Korea, not shown.

    >>> s = pd.DataFrame({"year": [2025] * 4, "country": ["JP", "KR", "US", "KR"],
    ...                   "commodity": ["mag", "mag", "ga", "ge"], "demand": [120.0, 80.0, 50.0, 10.0],
    ...                   "delivered": [60.0, 40.0, 30.0, 5.0], "shortfall": [60.0, 40.0, 20.0, 5.0]})
    >>> beyond_country_rows(world_short(world_balance(s)), s, shown=["US", "JP"])["commodity"].tolist()
    ['ge', 'mag']
    """
    if short.empty:
        return short
    keys = [k for k in ("variant", "year", "commodity") if k in short.columns and k in shortfall.columns]
    users = world_short(shortfall)  # the same test per user
    many = users.groupby(keys).size().rename("_n").reset_index()
    out = short.merge(many, on=keys, how="left")
    keep = out["_n"].fillna(0) >= 2
    if shown is not None:
        hidden = users[~users["country"].isin(list(shown))]
        out = out.merge(hidden.groupby(keys).size().rename("_h").reset_index(), on=keys, how="left")
        keep |= out["_h"].fillna(0) > 0
    return pd.DataFrame(out.loc[keep, short.columns]).reset_index(drop=True)
