r"""The world's balance of a commodity in a year: what all its users demand, what reaches them, what does not.

A run's shortfall table says *who* is short; summed over the users of a commodity :math:`k` in
year :math:`y` it says whether *the world* is:

.. math::

    D_{k,y} = \sum_u D_u, \qquad S_{k,y} = \sum_u (D_u - z_u), \qquad
    Z_{k,y} = D_{k,y} - S_{k,y} = \sum_u z_u, \qquad \sigma_{k,y} = Z_{k,y} / D_{k,y},

over the users :math:`u` of :math:`k` (use nodes with a given demand :math:`D_u > 0`, unmet
:math:`z_u`). :math:`S` is the supply that reaches the users after the run's policies (bans,
quotas), capacities and response.

Under ``rebalance`` every allocation rule is Pareto efficient: no tonne is left unused that could
reach a short user (docs/rebalance.md, "Allocation rules"). Where the users of :math:`k` draw only
on :math:`k`'s own supply (a single commodity over a network of capacities), the tonnes the
network can deliver form a polymatroid, whose maximal points all deliver the same total (also
those that meet ``contracts_first``'s floors, which only guarantee deliveries): the rules leave
the world :math:`Z` short, and :math:`Z > 0` is a shortage under the run's bans and capacities —
the rule decides only who bears it. ``home_first`` closes the exports of short countries, a
smaller network, so its total can be lower. Where users of :math:`k` compete
with plants that turn :math:`k` into something else (NdPr oxide for final use or for metal), the
total can move with the rule; ``run``'s allocation-rule line and the report's answers say when it
does (:func:`~supplychain.report.rule_range.same_total`). Under ``fixed`` (the baseline's trade
pattern, nothing re-routed) :math:`Z` is the pessimistic bound, not the world's shortage: supply
stranded in one market is not sent to users short in another.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from supplychain.metrics.exposure import shortfall_share

__all__ = ["SHORT", "WORLD_COLUMNS", "world_balance", "world_short"]

WORLD_COLUMNS: Final = ["year", "commodity", "unit", "demand", "delivered", "shortfall", "shortfall_share"]
"""Columns of :func:`world_balance` (``variant`` first when the shortfall table has one)."""

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


def world_short(balance: pd.DataFrame) -> pd.DataFrame:
    r"""Keep the rows of :func:`world_balance` where the world is short: :math:`Z > \text{SHORT}\cdot\max(1, D)`.

    Examples
    --------
    >>> b = pd.DataFrame({"year": [2025, 2026], "commodity": ["m", "m"], "unit": ["t", "t"],
    ...                   "demand": [200.0, 200.0], "delivered": [100.0, 200.0 - 1e-9],
    ...                   "shortfall": [100.0, 1e-9], "shortfall_share": [0.5, 5e-12]})
    >>> world_short(b)["year"].tolist()
    [2025]
    """
    return balance[balance["shortfall"] > SHORT * balance["demand"].clip(lower=1.0)].reset_index(drop=True)
