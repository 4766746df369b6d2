"""First-hop trade measures: direct import share and net import reliance.

docs/domain.md, "Measures of exposure", items 1–2, computed from one year's edge table
(contract in ``docs/architecture.md``). Per country ``c`` and commodity ``k``:

* production ``P`` — output of ``k`` by facilities located in ``c`` (supply edges
  plus flows sent directly from those facilities);
* imports ``I`` / exports ``E`` — trade edges (observed and allocated) into / out
  of ``c`` from / to another country; flows between two nodes of the same country
  are not trade;
* stock change ``ΔS`` — stock drawn (``+``) minus stock built (``−``);
* apparent consumption ``AC = P + I − E + ΔS`` (USGS, Mineral Commodity Summaries).

All functions are pure: labelled DataFrames in, labelled DataFrames out.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

__all__ = [
    "SUMMARY_COLUMNS",
    "direct_import_share",
    "direct_share_of_consumption",
    "import_shares",
    "imports_by_partner",
    "net_import_reliance",
    "trade_summary",
]

SUMMARY_COLUMNS = ("production", "imports", "exports", "stock_draw", "stock_build", "apparent_consumption")
"""Tonnage columns of :func:`trade_summary`."""

_KEY = ["country", "commodity"]


def _is_facility(node: pd.Series) -> pd.Series:
    return ~node.astype(str).str.contains(":", regex=False)


def trade_summary(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Production, trade, stock change and apparent consumption per country and commodity.

    Parameters
    ----------
    nodes, edges : DataFrame
        Tables of one year (:func:`~supplychain.graph.build.build_tables`).

    Returns
    -------
    DataFrame
        Indexed by ``(country, commodity)`` for every market node; columns
        ``stage``, ``basis`` and :data:`SUMMARY_COLUMNS` (tonnes), where
        ``apparent_consumption = production + imports − exports + stock_draw −
        stock_build``.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["m", "AU:ore", "JP:ore"], "kind": ["facility", "market", "market"],
    ...     "country": ["AU", "AU", "JP"], "commodity": ["ore"] * 3, "stage": ["ore"] * 3, "basis": ["t"] * 3})
    >>> edges = pd.DataFrame({"supplier": ["m", "AU:ore"], "buyer": ["AU:ore", "JP:ore"],
    ...     "supplier_country": ["AU", "AU"], "buyer_country": ["AU", "JP"], "commodity": ["ore", "ore"],
    ...     "tonnes": [100.0, 40.0], "kind": ["supply", "trade"]})
    >>> trade_summary(nodes, edges)[["production", "imports", "exports", "apparent_consumption"]].to_dict("index")
    {('AU', 'ore'): {'production': 100.0, 'imports': 0.0, 'exports': 40.0, 'apparent_consumption': 60.0}, \
('JP', 'ore'): {'production': 0.0, 'imports': 40.0, 'exports': 0.0, 'apparent_consumption': 40.0}}
    """
    markets = nodes.loc[nodes["kind"].eq("market"), ["country", "commodity", "stage", "basis"]]
    out = markets.drop_duplicates(_KEY).set_index(_KEY).sort_index()
    e = edges
    prod = e.loc[_is_facility(e["supplier"])].groupby(["supplier_country", "commodity"])["tonnes"].sum()
    cross = e["kind"].eq("trade") & e["supplier_country"].ne(e["buyer_country"])
    imp = e.loc[cross].groupby(["buyer_country", "commodity"])["tonnes"].sum()
    exp = e.loc[cross].groupby(["supplier_country", "commodity"])["tonnes"].sum()
    stock = e["kind"].eq("stock")
    draw = e.loc[stock & e["buyer"].astype(str).str.count(":").eq(1)].groupby(["buyer_country", "commodity"])[
        "tonnes"].sum()
    build = e.loc[stock & e["supplier"].astype(str).str.count(":").eq(1)].groupby(
        ["supplier_country", "commodity"])["tonnes"].sum()
    for name, ser in (("production", prod), ("imports", imp), ("exports", exp), ("stock_draw", draw),
                      ("stock_build", build)):
        ser.index = ser.index.set_names(_KEY)
        out[name] = ser.reindex(out.index, fill_value=0.0).astype("float64")
    out["apparent_consumption"] = (out["production"] + out["imports"] - out["exports"] + out["stock_draw"]
                                   - out["stock_build"])
    return out


def imports_by_partner(edges: pd.DataFrame) -> pd.DataFrame:
    """Sum imports per country, commodity and partner (the supplying country).

    Returns
    -------
    DataFrame
        Columns ``country``, ``commodity``, ``partner``, ``tonnes``; sorted.
    """
    cross = edges["kind"].eq("trade") & edges["supplier_country"].ne(edges["buyer_country"])
    g = edges.loc[cross].groupby(["buyer_country", "commodity", "supplier_country"])["tonnes"].sum()
    g.index = g.index.set_names(["country", "commodity", "partner"])
    return g.reset_index().sort_values(["country", "commodity", "partner"], kind="stable").reset_index(drop=True)


def import_shares(partners: pd.DataFrame) -> pd.DataFrame:
    """Each partner's share of a country's imports: ``I(c, p) / Σ_p I(c, p)``.

    Parameters
    ----------
    partners : DataFrame
        From :func:`imports_by_partner`.

    Returns
    -------
    DataFrame
        ``country, commodity, partner, value`` for countries with imports > 0.
    """
    total = partners.groupby(_KEY)["tonnes"].transform("sum")
    out = partners.loc[total > 0, [*_KEY, "partner"]].copy()
    out["value"] = (partners["tonnes"] / total).loc[total > 0]
    return out.reset_index(drop=True)


def direct_import_share(partners: pd.DataFrame, summary: pd.DataFrame, source: Collection[str]) -> pd.Series:
    """Direct import share from the source: imports from source / total imports.

    Parameters
    ----------
    partners : DataFrame
        From :func:`imports_by_partner`.
    summary : DataFrame
        From :func:`trade_summary` (gives the countries and commodities).
    source : collection of str
        Source country codes.

    Returns
    -------
    Series
        Indexed like `summary`; 0 where a country imports nothing (no first-hop
        exposure).

    Notes
    -----
    docs/domain.md, "Measures of exposure", item 1: imports from China / total imports,
    first hop only (material re-exported by a third country counts for that
    country, not for China; see the traced share).

    Examples
    --------
    >>> p = pd.DataFrame({"country": ["US", "US"], "commodity": ["ox", "ox"], "partner": ["CN", "JP"],
    ...                   "tonnes": [70.0, 30.0]})
    >>> s = pd.DataFrame(index=pd.MultiIndex.from_tuples([("US", "ox")], names=["country", "commodity"]))
    >>> direct_import_share(p, s, {"CN"}).tolist()
    [0.7]
    """
    src = set(source)
    total = partners.groupby(_KEY)["tonnes"].sum()
    from_src = partners.loc[partners["partner"].isin(src)].groupby(_KEY)["tonnes"].sum()
    total = total.reindex(summary.index, fill_value=0.0)
    from_src = from_src.reindex(summary.index, fill_value=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, from_src / total.where(total > 0, 1.0), 0.0)
    return pd.Series(share, index=summary.index, name="direct_import_share")


def _scale_tolerance(summary: pd.DataFrame) -> pd.Series:
    """Round-off tolerance per row: 1e-9 of the tonnes that pass through (at least 1e-9 t)."""
    return 1e-9 * (summary["imports"] + summary["exports"] + summary["production"]).clip(lower=1.0)


def direct_share_of_consumption(partners: pd.DataFrame, summary: pd.DataFrame, source: Collection[str]) -> pd.Series:
    """Compute imports from the source / apparent consumption.

    Returns
    -------
    Series
        Indexed by ``(country, commodity)`` where apparent consumption > 0. It
        exceeds 1 for a country that re-exports much of what it imports from the
        source (a transit hub).

    Notes
    -----
    docs/domain.md, "Measures of exposure", item 1 ("and / apparent consumption").
    """
    src = set(source)
    from_src = partners.loc[partners["partner"].isin(src)].groupby(_KEY)["tonnes"].sum()
    ac = summary["apparent_consumption"]
    keep = ac > _scale_tolerance(summary)  # zero up to round-off: the ratio is undefined
    num = from_src.reindex(summary.index, fill_value=0.0)
    return (num[keep] / ac[keep]).rename("direct_share_of_consumption")


def net_import_reliance(summary: pd.DataFrame) -> pd.DataFrame:
    """USGS net import reliance; a net exporter is labelled ``"E"``.

    Parameters
    ----------
    summary : DataFrame
        From :func:`trade_summary`.

    Returns
    -------
    DataFrame
        Indexed by ``(country, commodity)`` where apparent consumption > 0;
        columns ``value`` (NaN for a net exporter) and ``label`` (``"E"`` for a
        net exporter, else ``""``).

    Notes
    -----
    docs/domain.md, "Measures of exposure", item 2 (USGS, Mineral Commodity Summaries)::

        NIR = (imports − exports ± stock change) / apparent consumption
        apparent consumption = production + imports − exports ± stock change

    with the stock change counted positive when stock is drawn. A negative
    numerator (exports above imports plus stock drawn) is reported as ``"E"``,
    never as a negative percentage. Countries with no apparent consumption get no
    row (the ratio is undefined).

    Examples
    --------
    >>> s = pd.DataFrame({"production": [100.0, 0.0], "imports": [5.0, 40.0], "exports": [45.0, 0.0],
    ...                   "stock_draw": [0.0, 0.0], "stock_build": [0.0, 0.0]},
    ...     index=pd.MultiIndex.from_tuples([("AU", "ore"), ("JP", "ore")], names=["country", "commodity"]))
    >>> s["apparent_consumption"] = s["production"] + s["imports"] - s["exports"]
    >>> net_import_reliance(s).to_dict("index")
    {('AU', 'ore'): {'value': nan, 'label': 'E'}, ('JP', 'ore'): {'value': 1.0, 'label': ''}}
    """
    ac = summary["apparent_consumption"]
    net = summary["imports"] - summary["exports"] + summary["stock_draw"] - summary["stock_build"]
    tol = _scale_tolerance(summary)
    keep = ac > tol  # zero up to round-off: the ratio is undefined
    exporter = (net < -tol)[keep]
    value = (net[keep] / ac[keep]).clip(lower=0.0, upper=1.0)
    return pd.DataFrame({"value": value.where(~exporter, np.nan), "label": np.where(exporter, "E", "")},
                        index=value.index)
