"""Shipped while short: a country's exports of a commodity, or of its feeds, in a year its own users of it go short.

A result that shows the United States 28 % short of magnets and, beside it, a net exporter
of magnets is one an analyst would question. Both are right when the response sends part of
the country's supply abroad: under ``fixed`` every buyer keeps its share of what a supplier
still has; under ``rebalance`` the allocation rule decides (contracts survive, freed supply
goes to users short of more, an agreement's preference serves partners first;
:mod:`supplychain.simulation.rationing`). :func:`shipped_while_short` finds those tonnes in the
public ``flows`` and ``shortfall`` tables of :class:`~supplychain.api.Result`, so that a report
can say where they went and why. A country short of magnets that exports the metal its own
magnet plants could have used is shipping while short too: the exports of its *feeds*
(:func:`~supplychain.simulation.assembly.year_feeds`, what ``home_first`` keeps home: :func:`feeds_table`)
are rows of their own, marked with the short commodity they feed (``feed_of``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from supplychain.metrics.exposure import shortfall_share
from supplychain.simulation.outcome import TOL

__all__ = ["FEED_COLUMNS", "SHIPPED_COLUMNS", "feeds_table", "shipped_while_short"]

SHIPPED_COLUMNS: Final = (
    "year", "country", "commodity", "unit", "demand", "shortfall", "shortfall_share", "destination", "status",
    "shipped", "feed_of",
)
"""Columns of :func:`shipped_while_short` (``variant`` first when the tables have one)."""

FEED_COLUMNS: Final = ("year", "country", "commodity", "feed")
"""Columns of :func:`feeds_table` (``variant`` first when the utilisation table has one)."""


def feeds_table(yields: pd.DataFrame, utilisation: pd.DataFrame) -> pd.DataFrame:
    """Per year, country c and commodity k, each feed of k: what c's plants running that year turn into k.

    :func:`~supplychain.simulation.assembly.year_feeds` (the one reading of a year's feeds, also
    ``home_first``'s and a stock's) over the plants of ``utilisation`` with capacity > 0 that year.

    Parameters
    ----------
    yields : pandas.DataFrame
        The model's yield coefficients (``facility``, ``commodity``, ``role``).
    utilisation : pandas.DataFrame
        ``Result.utilisation`` (``year``, ``facility``, ``country``, ``capacity``; ``variant`` optional).

    Returns
    -------
    pandas.DataFrame
        :data:`FEED_COLUMNS`, one row per (year, country, commodity, feed).

    Examples
    --------
    >>> y = pd.DataFrame({"facility": ["mag", "mag"], "commodity": ["x", "m"], "role": ["output", "input"]})
    >>> u = pd.DataFrame({"year": [2024, 2025], "facility": "mag", "country": "JP", "capacity": [0.0, 100.0]})
    >>> feeds_table(y, u)
       year country commodity feed
    0  2025      JP         x    m
    """
    from supplychain.simulation.assembly import year_feeds

    keys = ["variant"] if "variant" in utilisation.columns else []
    rows: list[tuple[object, ...]] = []
    for key, part in utilisation.groupby([*keys, "year"], sort=True):
        at = key if isinstance(key, tuple) else (key,)
        plants = dict(zip(part["facility"].astype(str), part["country"].astype(str), strict=True))
        capacity = part.drop_duplicates("facility")["capacity"].to_numpy(dtype=float)
        for (country, k), feeds in sorted(year_feeds(yields, plants, capacity).items()):
            rows.extend((*at, country, k, j) for j in sorted(feeds))
    return pd.DataFrame(rows, columns=[*keys, *FEED_COLUMNS])


def shipped_while_short(flows: pd.DataFrame, shortfall: pd.DataFrame, feeds: pd.DataFrame | None = None
                        ) -> pd.DataFrame:  # fmt: skip
    r"""Cross-border deliveries of a commodity, or of its feeds, from a country whose own users of it are short.

    For a country :math:`c`, commodity :math:`k` and year with shortfall
    :math:`s_{c,k} = \sum_{u} (D_u - \text{delivered}_u) > 10^{-6} \max(1, \sum_u D_u)` over its final uses
    :math:`u` of :math:`k`, every flow of :math:`k` with supplier country :math:`c` and buyer
    country :math:`d \ne c` is summed per destination :math:`d` and flow status
    (``normal``, ``reduced``, ``rerouted``, ``new``, ``deal``:
    :func:`~supplychain.simulation.outcome.flow_status`):

    .. math:: x_{c,k,d,\text{status}} = \sum_{e:\,c \to d,\ k} \text{simulated}_e,

    each flow counted where it exceeds 10⁻⁶ (the LP's round-off, ``outcome.TOL``, which also bounds
    the shortfall, relative to demand, as :func:`~supplychain.simulation.outcome.flow_status`
    does). Every shipped tonne is one the country's own users could in principle have had;
    whether the rule should have kept it at home is the allocation's choice, not a balance error.

    With ``feeds`` the same sum is made for each feed :math:`j \in U_y(c, k)` (what c's plants running
    that year turn into k, at any depth: :func:`feeds_table`): a row per destination and status with
    ``commodity`` :math:`j`, ``feed_of`` :math:`k` and the tonnes of :math:`j` shipped,

    .. math:: x^{j}_{c,k,d,\text{status}} = \sum_{e:\,c \to d,\ j} \text{simulated}_e
              \quad\text{while } s_{c,k} > 0,

    whether or not c's plants could have used them (under ``home_first`` only what they cannot use
    leaves). ``feed_of`` is empty on a row of the short commodity itself. A commodity that is short
    itself and a feed of another short one has a row for each: sum ``shipped`` within one
    ``feed_of`` only.

    Parameters
    ----------
    flows : pandas.DataFrame
        ``Result.flows`` (``year``, ``supplier_country``, ``buyer_country``, ``commodity``,
        ``simulated``, ``status``; ``variant`` optional).
    shortfall : pandas.DataFrame
        ``Result.shortfall`` (``year``, ``country``, ``commodity``, ``unit``, ``demand``,
        ``shortfall``; ``variant`` optional).
    feeds : pandas.DataFrame, optional
        :func:`feeds_table` (``variant`` optional, used when all three tables have one); without
        it, the short commodities' own exports only.

    Returns
    -------
    pandas.DataFrame
        :data:`SHIPPED_COLUMNS` (after ``variant`` when both tables have one): the country's
        ``demand``, ``shortfall`` and ``shortfall_share`` that year of the short commodity
        (``feed_of`` where given, else ``commodity``; ``demand`` and ``shortfall`` in its unit), and
        the tonnes ``shipped`` of ``commodity`` (in ``unit``) to ``destination`` with ``status``;
        per key the short commodity's own rows first, then its feeds', each the largest first.

    Examples
    --------
    The United States is short of 30 t of 100 t and still ships 20 t to Japan under a deal:

    >>> flows = pd.DataFrame({"year": [2030, 2030], "supplier_country": ["US", "US"],
    ...                       "buyer_country": ["JP", "US"], "commodity": ["magnet", "magnet"],
    ...                       "simulated": [20.0, 70.0], "status": ["deal", "normal"]})
    >>> short = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["magnet"], "unit": ["t"],
    ...                       "demand": [100.0], "shortfall": [30.0]})
    >>> shipped_while_short(flows, short)[["country", "destination", "status", "shipped", "shortfall_share"]]
      country destination status  shipped  shortfall_share
    0      US          JP   deal     20.0              0.3

    Its magnet plants use metal; it ships 15 t of metal to Korea as well:

    >>> flows = pd.concat([flows, pd.DataFrame({"year": [2030], "supplier_country": ["US"], "buyer_country": ["KR"],
    ...                                         "commodity": ["metal"], "unit": ["t"], "simulated": [15.0],
    ...                                         "status": ["normal"]})], ignore_index=True)
    >>> feeds = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["magnet"], "feed": ["metal"]})
    >>> shipped_while_short(flows, short, feeds)[["commodity", "feed_of", "destination", "shipped"]]
      commodity feed_of destination  shipped
    0    magnet                  JP     20.0
    1     metal  magnet          KR     15.0
    """
    keys = ["variant"] if "variant" in flows.columns and "variant" in shortfall.columns else []
    cols = [*keys, *SHIPPED_COLUMNS]
    if flows.empty or shortfall.empty:
        return pd.DataFrame(columns=cols)
    short = (shortfall.groupby([*keys, "year", "country", "commodity", "unit"], sort=False)[["demand", "shortfall"]]
             .sum().reset_index())  # fmt: skip
    short = short[short["shortfall"] > TOL * np.maximum(1.0, short["demand"])]  # beyond round-off (flow_status)
    out = flows[(flows["supplier_country"] != flows["buyer_country"]) & (flows["simulated"] > TOL)]
    out = (out.rename(columns={"supplier_country": "country", "buyer_country": "destination"})
           .groupby([*keys, "year", "country", "commodity", "destination", "status"], sort=False)["simulated"]
           .sum().rename("shipped").reset_index())  # fmt: skip
    both = short.merge(out, on=[*keys, "year", "country", "commodity"]).assign(feed_of="")
    if feeds is not None and not feeds.empty:
        fkeys = keys if "variant" in feeds.columns else []
        units: dict[str, str] = (dict(zip(flows["commodity"].astype(str), flows["unit"].astype(str), strict=True))
                                 if "unit" in flows.columns else {})  # fmt: skip
        fed = (short.merge(feeds, on=[*fkeys, "year", "country", "commodity"])
               .drop(columns="unit").rename(columns={"commodity": "feed_of", "feed": "commodity"})
               .merge(out, on=[*keys, "year", "country", "commodity"]))  # fmt: skip
        fed["unit"] = fed["commodity"].map(units)
        both = pd.concat([both, fed], ignore_index=True)
    both["shortfall_share"] = shortfall_share(both["shortfall"].to_numpy(dtype=float),
                                              both["demand"].to_numpy(dtype=float))
    both["short"] = both["feed_of"].where(both["feed_of"] != "", both["commodity"])
    order = [*keys, "year", "country", "short"]
    both = both.sort_values([*order, "feed_of", "commodity", "shipped"],
                            ascending=[True] * (len(order) + 2) + [False], kind="stable")  # fmt: skip
    return both[cols].reset_index(drop=True)
