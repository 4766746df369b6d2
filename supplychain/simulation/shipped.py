"""Shipped while short: a country's exports of a commodity in a year its own users of it go short.

A result that shows the United States 28 % short of magnets and, beside it, a net exporter
of magnets is one an analyst would question. Both are right when the response sends part of
the country's supply abroad: under ``fixed`` every buyer keeps its share of what a supplier
still has; under ``rebalance`` the allocation rule decides (contracts survive, freed supply
goes to users short of more, an agreement's preference serves partners first;
:mod:`supplychain.simulation.rationing`). :func:`shipped_while_short` finds those tonnes in the
public ``flows`` and ``shortfall`` tables of :class:`~supplychain.api.Result`, so that a report
can say where they went and why.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from supplychain.metrics.exposure import shortfall_share
from supplychain.simulation.outcome import TOL

__all__ = ["SHIPPED_COLUMNS", "shipped_while_short"]

SHIPPED_COLUMNS: Final = (
    "year", "country", "commodity", "unit", "demand", "shortfall", "shortfall_share", "destination", "status",
    "shipped",
)
"""Columns of :func:`shipped_while_short` (``variant`` first when the tables have one)."""


def shipped_while_short(flows: pd.DataFrame, shortfall: pd.DataFrame) -> pd.DataFrame:
    r"""Cross-border deliveries of a commodity from a country whose own users of it are short that year.

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

    Parameters
    ----------
    flows : pandas.DataFrame
        ``Result.flows`` (``year``, ``supplier_country``, ``buyer_country``, ``commodity``,
        ``simulated``, ``status``; ``variant`` optional).
    shortfall : pandas.DataFrame
        ``Result.shortfall`` (``year``, ``country``, ``commodity``, ``unit``, ``demand``,
        ``shortfall``; ``variant`` optional).

    Returns
    -------
    pandas.DataFrame
        :data:`SHIPPED_COLUMNS` (after ``variant`` when both tables have one): the country's
        ``demand``, ``shortfall`` and ``shortfall_share`` of the commodity that year, and the
        tonnes ``shipped`` to ``destination`` with ``status``; per key the largest first.

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
    both = short.merge(out, on=[*keys, "year", "country", "commodity"])
    both["shortfall_share"] = shortfall_share(both["shortfall"].to_numpy(dtype=float),
                                              both["demand"].to_numpy(dtype=float))
    order = [*keys, "year", "country", "commodity"]
    both = both.sort_values([*order, "shipped"], ascending=[True] * len(order) + [False], kind="stable")
    return both[cols].reset_index(drop=True)
