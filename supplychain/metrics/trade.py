"""First-hop trade measures on arrays: direct import share and net import reliance.

docs/domain.md, "Measures of exposure", items 1–2, computed from one year's edge table
(contract in ``docs/architecture.md``). Per country ``c`` and commodity ``k``:

* production ``P`` — output of ``k`` by facilities located in ``c`` (supply edges
  plus flows sent directly from those facilities);
* imports ``I`` / exports ``E`` — trade edges (observed and allocated) into / out
  of ``c`` from / to another country; flows between two nodes of the same country
  are not trade;
* stock change ``ΔS`` — stock drawn (``+``) minus stock built (``−``);
* apparent consumption ``AC = P + I − E + ΔS`` (USGS, Mineral Commodity Summaries);
* recorded use — per market: whether a scenario that records final demand records a use of
  the commodity in the market's country (a final demand, a plant's input there); where it
  records none, ``AC`` is only what production and trade leave (surplus), not a consumption
  figure, and a net import reliance with net imports is not computed (label
  :data:`UNRECORDED_USE`), as the atlas computes none where USGS withholds consumption.

The structure of a year's network (which edge counts where) is a :class:`TradeIndex`,
built once from the tables; the measures are functions of edge tonnes with any
leading axes (a sample axis: ``tonnes`` of shape ``(samples, edges)``), so that one
run and a sweep of many samples call the same code. :func:`trade_summary` gives the
same numbers as a labelled DataFrame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from supplychain.engine.compile import coo_to_csr
from supplychain.graph.sums import is_market
from supplychain.memo import Memo

__all__ = [
    "SUMMARY_COLUMNS",
    "UNRECORDED_USE",
    "FirstHop",
    "TradeIndex",
    "distinct_keys",
    "first_hop",
    "indicator",
    "market_sums",
    "net_import_reliance",
    "pair_sums",
    "source_imports",
    "summary_frame",
    "text_codes",
    "trade_index",
    "trade_summary",
]

FloatArray = npt.NDArray[np.float64]

SUMMARY_COLUMNS = ("production", "imports", "exports", "stock_draw", "stock_build", "apparent_consumption")
"""Tonnage columns of :func:`trade_summary`."""

FLOWS = SUMMARY_COLUMNS[:5]
"""The sums :func:`market_sums` returns, in order (apparent consumption follows from them)."""

AC_RTOL = 1e-9
"""Apparent consumption at most this share of a market's throughput (``P + I + E``, at least 1 t) is zero."""

UNRECORDED_USE = "use not recorded"
"""Label of a net import reliance not computed because the scenario records no use of the commodity in the country.

Decided per market (:attr:`TradeIndex.market_use`). In a scenario that records final demand
but no use of a commodity in a country (no final demand of it there, no plant's input there),
that country's apparent consumption ``P + I − E + ΔS`` of it is only what production and
trade leave (its surplus), not a consumption figure, whatever other countries use: in the
critical-minerals world, where only the US has final demand, the US markets of the
commodities whose US consumption USGS withholds (tungsten, tellurium …: the importer then
writes no US demand; ``docs/minerals-data.md``) and every ``ROW`` market. There the ratio is
no reliance (US tellurium: 3 t of residual, all of it net imports, "100 %" against USGS's
"<25"; ``ROW`` antimony "100 %" of its residual).
"""


@dataclass(frozen=True)
class TradeIndex:
    """Where each edge's tonnes count in one year's network (structure only, no tonnes).

    Attributes
    ----------
    market_country, market_commodity, market_stage, market_basis : numpy.ndarray of object
        ``country, commodity, stage, basis`` of every market, sorted by country and commodity
        (:attr:`markets` as a table).
    flows : scipy.sparse.csr_matrix, shape (5 · markets, edges)
        Row ``j · M + m`` adds the edges counting as :data:`FLOWS` ``[j]`` of market ``m``.
    pair_country, pair_commodity, pair_partner : numpy.ndarray of object
        ``country, commodity, partner`` of every cross-border import (buyer country,
        commodity, supplying country), sorted; markets or not (:attr:`pairs` as a table).
    pair_edges : scipy.sparse.csr_matrix, shape (pairs, edges)
        Adds each pair's edges.
    pair_market : numpy.ndarray of int
        Market of each pair (−1 when the buyer has no market of the commodity).
    market_use : numpy.ndarray of bool
        Whether each market's use is recorded: an edge of kind ``use`` (final demand) or
        ``input``, or a flow into a plant, of the market's commodity bought in the market's
        country — or no final demand of any commodity in the network (a scenario of trade and
        production only, whose apparent consumption is USGS's) (see :data:`UNRECORDED_USE`).
    """

    market_country: npt.NDArray[Any]
    market_commodity: npt.NDArray[Any]
    market_stage: npt.NDArray[Any]
    market_basis: npt.NDArray[Any]
    flows: sp.csr_matrix
    pair_country: npt.NDArray[Any]
    pair_commodity: npt.NDArray[Any]
    pair_partner: npt.NDArray[Any]
    pair_edges: sp.csr_matrix
    pair_market: npt.NDArray[np.int64]
    market_use: npt.NDArray[np.bool_]

    @property
    def markets(self) -> pd.DataFrame:
        """``country, commodity, stage, basis`` of every market (sorted by country and commodity)."""
        return pd.DataFrame({"country": self.market_country, "commodity": self.market_commodity,
                             "stage": self.market_stage, "basis": self.market_basis})

    @property
    def pairs(self) -> pd.DataFrame:
        """``country, commodity, partner`` of every cross-border import (sorted)."""
        return pd.DataFrame({"country": self.pair_country, "commodity": self.pair_commodity,
                             "partner": self.pair_partner})

    @cached_property
    def pair_to_market(self) -> sp.csr_matrix:
        """Sparse ``(markets, pairs)`` matrix adding each pair into its market (pairs without one dropped)."""
        return indicator(self.pair_market, len(self.market_country), len(self.pair_country))

    def subset(self, edges: npt.NDArray[np.int64]) -> TradeIndex:
        """Return the index restricted to the edges ``edges`` (in that order), for sums over part of a table.

        ``market_sums(index, t)`` equals ``market_sums(index.subset(a), t[..., a]) +
        market_sums(index.subset(b), t[..., b])`` when ``a`` and ``b`` split the edges
        (up to the order of additions): a sweep sums the edges that do not vary between
        samples once.
        """
        flows, pair_edges = self.flows[:, edges].tocsr(), self.pair_edges[:, edges].tocsr()
        flows.sort_indices()
        pair_edges.sort_indices()
        return replace(self, flows=flows, pair_edges=pair_edges)

    def source_pairs(self, source: frozenset[str]) -> npt.NDArray[np.bool_]:
        """Pairs whose partner is one of the ``source`` countries."""
        return np.fromiter((p in source for p in self.pair_partner), dtype=bool, count=len(self.pair_partner))


def indicator(rows: npt.NDArray[np.int64], n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Sparse 0/1 matrix adding column ``e`` into row ``rows[e]`` (columns with ``rows < 0`` are dropped)."""
    return _ones(np.asarray(rows, dtype=np.int64), np.arange(n_cols, dtype=np.int64), n_rows, n_cols)


def _ones(rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64], n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Return a CSR 0/1 matrix with a 1 at every ``(rows[i], cols[i])`` (entries with ``rows < 0`` dropped).

    The pairs must be distinct and ``cols`` ascending within a row (then the matrix is
    canonical): :func:`~supplychain.engine.compile.coo_to_csr` keeps the order within a row.
    """
    keep = np.flatnonzero(rows >= 0)
    return coo_to_csr(n_rows, n_cols, rows[keep], cols[keep], np.ones(keep.size))


def text_codes(*columns: Any) -> tuple[list[npt.NDArray[np.int64]], int]:
    """Rank of every value (as text) among the distinct values of all ``columns`` together, and their number.

    Codes of one vocabulary, so equal texts get equal codes across the columns and the
    codes sort as the texts do: ``code_a * n + code_b`` sorts as the pair ``(a, b)``.

    Examples
    --------
    >>> (a, b), n = text_codes(["US", "JP"], ["JP", "AU", "JP"])
    >>> a.tolist(), b.tolist(), n
    ([2, 1], [1, 0, 1], 3)
    """
    arrays = [np.asarray(c, dtype=object).reshape(-1) for c in columns]
    if not arrays:
        return [], 0
    values = np.concatenate(arrays)
    if pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):
        values = values.astype(str).astype(object)
    codes, uniq = pd.factorize(values, sort=True)
    return np.split(np.asarray(codes, dtype=np.int64), np.cumsum([len(a) for a in arrays])[:-1]), len(uniq)


def distinct_keys(countries: Sequence[Any], commodities: Sequence[Any],
                  partners: Sequence[Any] = ()) -> tuple[npt.NDArray[np.int64], list[npt.NDArray[np.int64]]]:
    """Distinct ``(country, commodity[, partner])`` keys of groups of rows, in the order of their texts.

    Group ``i`` is the columns ``countries[i]``, ``commodities[i]`` (and ``partners[i]``),
    compared as text (:func:`text_codes`).

    Returns
    -------
    first : numpy.ndarray of int
        Each distinct key's first row among the groups' rows (concatenated), keys ascending.
    key_of : list of numpy.ndarray of int
        Per group, the key number (position in ``first``) of each row.

    Examples
    --------
    >>> first, (a, b) = distinct_keys([["US", "JP"], ["US"]], [["mag", "ore"], ["mag"]])
    >>> first.tolist(), a.tolist(), b.tolist()
    ([1, 0], [1, 0], [1])
    """
    c_codes, n_c = text_codes(*countries, *partners)
    k_codes, n_k = text_codes(*commodities)
    key = np.concatenate([c * n_k + k for c, k in zip(c_codes[:len(k_codes)], k_codes, strict=True)])
    if partners:
        key = key * n_c + np.concatenate(c_codes[len(k_codes):])
    _keys, first, key_of = np.unique(key, return_index=True, return_inverse=True)
    return first, np.split(np.asarray(key_of, dtype=np.int64).ravel(), np.cumsum([len(k) for k in k_codes])[:-1])


def trade_index(nodes: pd.DataFrame, edges: pd.DataFrame) -> TradeIndex:
    """Build the :class:`TradeIndex` of one year's tables.

    Parameters
    ----------
    nodes, edges : pandas.DataFrame
        Tables of one year (:func:`~supplychain.graph.build.build_tables`).

    Returns
    -------
    TradeIndex

    Notes
    -----
    Countries and commodities are compared as text; markets and pairs are the first
    row of each distinct key, in key order (``drop_duplicates`` then ``sort_values``).
    The index depends only on the text columns it reads; the last :data:`INDEX_MEMO_SIZE`
    indexes are kept, keyed on those columns (:class:`~supplychain.memo.Memo`; when they are
    all text): a sweep's samples mostly have the same network with other tonnes. The
    index is shared then: it must not be changed in place.
    """
    key = tuple(tuple(nodes[c].tolist()) for c in _INDEX_NODE_COLUMNS) + tuple(
        tuple(edges[c].tolist()) for c in _INDEX_EDGE_COLUMNS)
    try:
        for column in key:
            "".join(column)  # text only (else TypeError): equal keys are then equal texts
    except TypeError:
        return _trade_index(nodes, edges)
    return _INDEXES.get(key, lambda: _trade_index(nodes, edges))


INDEX_MEMO_SIZE = 32
"""Trade indexes :func:`trade_index` keeps (a sweep's years, a few structures each)."""
_INDEX_NODE_COLUMNS = ("kind", "country", "commodity", "stage", "basis")
_INDEX_EDGE_COLUMNS = ("supplier", "buyer", "supplier_country", "buyer_country", "commodity", "kind")
_INDEXES: Memo[TradeIndex] = Memo(INDEX_MEMO_SIZE)


def _trade_index(nodes: pd.DataFrame, edges: pd.DataFrame) -> TradeIndex:
    """Build the :class:`TradeIndex` (:func:`trade_index`) from the columns it names."""
    is_mkt = np.asarray(nodes["kind"].to_numpy() == "market", dtype=bool)
    m_country, m_com = nodes["country"].to_numpy()[is_mkt], nodes["commodity"].to_numpy()[is_mkt]
    n = len(edges)
    sup = edges["supplier"].to_numpy()
    buy = edges["buyer"].to_numpy()
    sc, bc = edges["supplier_country"].to_numpy(), edges["buyer_country"].to_numpy()
    com = edges["commodity"].to_numpy()
    key_first, (_, s_key, b_key) = distinct_keys([m_country, sc, bc], [m_com, com, com])
    in_m = key_first < len(m_country)  # a market's key: first met among the markets, which come first
    first = key_first[in_m]
    m = len(first)
    market_of = np.where(in_m, np.cumsum(in_m) - 1, -1)  # each key's market, -1 for none
    at_supplier, at_buyer = market_of[s_key], market_of[b_key]
    kind = np.array([str(k) for k in edges["kind"].tolist()], dtype=object)
    cross = (kind == "trade") & (s_key != b_key)
    stock = kind == "stock"
    none = np.full(n, -1, dtype=np.int64)
    at_stock = np.flatnonzero(stock)
    drawn, built = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    drawn[at_stock], built[at_stock] = is_market(buy[at_stock]), is_market(sup[at_stock])
    facility = np.fromiter((":" not in str(v) for v in sup.tolist()), dtype=bool, count=n)
    rows = [
        np.where(facility, at_supplier, none),  # production
        np.where(cross, at_buyer, none),  # imports
        np.where(cross, at_supplier, none),  # exports
        np.where(drawn, at_buyer, none),  # drawn
        np.where(built, at_supplier, none),  # built
    ]
    row = np.concatenate([np.where(r >= 0, r + j * m, -1) for j, r in enumerate(rows)])
    flows = _ones(row, np.tile(np.arange(n, dtype=np.int64), len(rows)), len(FLOWS) * m, n)
    # recorded use, per market: a final demand or a plant's input of the commodity in the market's country (the
    # buyer's country and commodity of a use or input edge, or of any flow into a plant), or no final demand at all
    to_plant = np.fromiter((":" not in str(v) for v in buy.tolist()), dtype=bool, count=n)  # a flow into a plant
    used_at = at_buyer[((kind == "use") | (kind == "input") | to_plant) & (at_buyer >= 0)]
    use = np.zeros(m, dtype=bool)
    use[used_at] = True
    use |= ~(kind == "use").any()
    cross_at = np.flatnonzero(cross)
    pair_first, (pair_code,) = distinct_keys([bc[cross_at]], [com[cross_at]], [sc[cross_at]])
    pair_of = np.full(n, -1, dtype=np.int64)
    pair_of[cross_at] = pair_code
    pe = cross_at[pair_first]
    text = [np.asarray(a, dtype=object).astype(str).astype(object) for a in (bc[pe], com[pe], sc[pe])]
    return TradeIndex(
        m_country[first], m_com[first], nodes["stage"].to_numpy()[is_mkt][first],
        nodes["basis"].to_numpy()[is_mkt][first], flows, text[0], text[1], text[2],
        indicator(pair_of, len(pe), n), at_buyer[pe], use,
    )


def _apply(matrix: sp.csr_matrix, tonnes: npt.ArrayLike) -> FloatArray:
    """``matrix @ t`` for every leading index of ``tonnes`` (shape ``(..., edges)`` → ``(..., rows)``)."""
    t = np.asarray(tonnes, dtype=np.float64)
    flat = t.reshape(int(np.prod(t.shape[:-1])), t.shape[-1])
    out = np.asarray((matrix @ flat.T).T, dtype=np.float64)
    return out.reshape(*t.shape[:-1], matrix.shape[0])


def market_sums(index: TradeIndex, tonnes: npt.ArrayLike) -> FloatArray:
    """Production, imports, exports, stock drawn and built per market.

    Parameters
    ----------
    index : TradeIndex
        The year's structure.
    tonnes : array_like, shape (..., edges)
        Edge tonnes (any leading axes, e.g. samples).

    Returns
    -------
    numpy.ndarray, shape (..., 5, markets)
        :data:`FLOWS` in order.
    """
    out = _apply(index.flows, tonnes)
    return out.reshape(*out.shape[:-1], len(FLOWS), len(index.market_country))


def pair_sums(index: TradeIndex, tonnes: npt.ArrayLike) -> FloatArray:
    """Import tonnes of each (country, commodity, partner) pair, shape ``(..., pairs)``."""
    return _apply(index.pair_edges, tonnes)


@dataclass(frozen=True)
class FirstHop:
    r"""First-hop measures per market (arrays with the leading axes of the tonnes).

    Attributes
    ----------
    direct_import_share : numpy.ndarray
        :math:`I_s / I` where ``has_imports``, else NaN (undefined: no imports to take a share of).
    direct_share_of_consumption : numpy.ndarray
        :math:`I_s / AC` where ``has_consumption`` and not ``unrecorded``, else NaN.
    net_import_reliance : numpy.ndarray
        :math:`\mathrm{clip}((I - E + R - B) / AC, 0, 1)` where ``has_consumption``; NaN for a
        net exporter (``exporter``), where there is no consumption and where the use is not
        recorded (``unrecorded``).
    has_consumption, exporter : numpy.ndarray of bool
        Apparent consumption positive beyond round-off (:data:`AC_RTOL`); net imports
        negative beyond it.
    has_imports, supplied : numpy.ndarray of bool
        Imports :math:`I`, and material reaching the market :math:`P + I + R`, positive beyond
        the same round-off: where the direct import share, and a share of the market's
        material such as the traced share, are defined (NaN elsewhere).
    round_off : numpy.ndarray of bool
        Apparent consumption zero up to round-off (within :data:`AC_RTOL` of the throughput
        either way): whether ``has_consumption`` hangs on the order of additions.
    unrecorded : numpy.ndarray of bool
        Apparent consumption and net imports positive, but no recorded use (``recorded_use``
        of :func:`first_hop` False): net import reliance NaN, label :data:`UNRECORDED_USE`.
        Without net imports the reliance is 0 whatever the use, so it stays computed.
    """

    direct_import_share: FloatArray
    direct_share_of_consumption: FloatArray
    net_import_reliance: FloatArray
    has_consumption: npt.NDArray[np.bool_]
    exporter: npt.NDArray[np.bool_]
    round_off: npt.NDArray[np.bool_]
    has_imports: npt.NDArray[np.bool_]
    supplied: npt.NDArray[np.bool_]
    unrecorded: npt.NDArray[np.bool_]


def _by_market(index: TradeIndex, pairs: FloatArray) -> FloatArray:
    """Sum pair values into their markets (pairs without a market are dropped)."""
    return _apply(index.pair_to_market, pairs)


def first_hop(sums: FloatArray, imports: FloatArray, from_source: FloatArray,
              recorded_use: npt.NDArray[np.bool_] | None = None) -> FirstHop:
    r"""Direct import share, direct share of consumption and net import reliance per market.

    With production :math:`P`, imports :math:`I`, exports :math:`E`, stock drawn :math:`R`
    and built :math:`B` (:func:`market_sums`), apparent consumption is
    :math:`AC = P + I - E + R - B`; it counts only above :data:`AC_RTOL` of the
    throughput :math:`\max(P + I + E, 1)` (zero up to round-off: the ratios are undefined).
    Every share here is NaN (``n/a``) where its denominator is zero up to that round-off.

    * direct import share :math:`I_s / I` (NaN without imports; docs/domain.md item 1);
    * direct share of consumption :math:`I_s / AC` (it exceeds 1 for a transit hub);
    * USGS net import reliance :math:`\mathrm{clip}((I - E + R - B) / AC, 0, 1)`, a net
      exporter (net imports below minus the tolerance) reported NaN with label ``"E"``
      (item 2); NaN too where ``recorded_use`` is False and net imports are positive
      (``unrecorded``, label :data:`UNRECORDED_USE`): :math:`AC` is then a residual, not a use,
      and the direct share of consumption is NaN too (so a sweep does not count the NaN as a
      net exporter: :meth:`~supplychain.uncertainty.result.SweepResult.summary`).

    Parameters
    ----------
    sums : numpy.ndarray, shape (..., 5, markets)
        :func:`market_sums`.
    imports, from_source : numpy.ndarray, shape (..., markets)
        Imports summed over partners, and from the source's partners.
    recorded_use : numpy.ndarray of bool, shape (markets,), optional
        :attr:`TradeIndex.market_use` (default: every market's use recorded).

    Returns
    -------
    FirstHop

    Examples
    --------
    Australia mines 100 t and exports 40 t to Japan; Japan imports 40 t, all from Australia.
    Australia imports nothing: its direct import share is undefined (NaN), not 0:

    >>> s = np.array([[100.0, 0.0], [0.0, 40.0], [40.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    >>> h = first_hop(s, np.array([0.0, 40.0]), np.array([0.0, 40.0]))
    >>> h.direct_import_share.tolist(), h.exporter.tolist(), h.net_import_reliance[1]
    ([nan, 1.0], [True, False], np.float64(1.0))

    If nothing in Japan is recorded as using the ore (no demand, no plant: the 40 t are
    what trade leaves), its reliance is not computed; Australia stays a net exporter:

    >>> h = first_hop(s, np.array([0.0, 40.0]), np.array([0.0, 40.0]), np.array([False, False]))
    >>> h.net_import_reliance.tolist(), h.unrecorded.tolist(), h.exporter.tolist()
    ([nan, nan], [False, True], [True, False])
    >>> h.direct_share_of_consumption.tolist()
    [0.0, nan]
    """
    p, i_, e_, dr, bu = (sums[..., j, :] for j in range(len(FLOWS)))
    ac = p + i_ - e_ + dr - bu
    net = i_ - e_ + dr - bu
    tol = AC_RTOL * np.maximum(i_ + e_ + p, 1.0)
    has = ac > tol
    exporter = has & (net < -tol)
    has_imports = imports > tol
    with np.errstate(divide="ignore", invalid="ignore"):
        dis = np.where(has_imports, from_source / np.where(has_imports, imports, 1.0), np.nan)
        recorded = np.ones(has.shape[-1:], dtype=bool) if recorded_use is None else np.asarray(recorded_use, dtype=bool)
        unrecorded = has & (net > tol) & ~recorded  # the ratio hangs on the residual only with net imports
        dsc = np.where(has & ~unrecorded, from_source / np.where(has, ac, 1.0), np.nan)
        nir = np.where(has & ~exporter & ~unrecorded, np.clip(net / np.where(has, ac, 1.0), 0.0, 1.0), np.nan)
    return FirstHop(dis, dsc, nir, has, exporter, np.abs(ac) <= tol, has_imports, p + i_ + dr > tol, unrecorded)


def source_imports(index: TradeIndex, pairs: FloatArray, source: frozenset[str]) -> tuple[FloatArray, FloatArray]:
    """Sum imports per market over every partner and over the ``source`` partners."""
    return _by_market(index, pairs), _by_market(index, np.where(index.source_pairs(source), pairs, 0.0))


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
    index = trade_index(nodes, edges)
    return summary_frame(index, market_sums(index, edges["tonnes"].to_numpy(dtype=float)))


def summary_frame(index: TradeIndex, sums: FloatArray) -> pd.DataFrame:
    """:func:`trade_summary` of one set of :func:`market_sums` (shape ``(5, markets)``)."""
    out = index.markets.set_index(["country", "commodity"])
    for j, name in enumerate(FLOWS):
        out[name] = sums[j]
    out["apparent_consumption"] = (out["production"] + out["imports"] - out["exports"] + out["stock_draw"]
                                   - out["stock_build"])
    return out


def net_import_reliance(summary: pd.DataFrame) -> pd.DataFrame:
    """USGS net import reliance of a :func:`trade_summary` table; a net exporter is labelled ``"E"``.

    Returns
    -------
    DataFrame
        Indexed by ``(country, commodity)`` where apparent consumption > 0 (beyond
        round-off, :func:`first_hop`); columns ``value`` (NaN for a net exporter)
        and ``label`` (``"E"`` for a net exporter, else ``""``).

    Examples
    --------
    >>> s = pd.DataFrame({"production": [100.0, 0.0], "imports": [5.0, 40.0], "exports": [45.0, 0.0],
    ...                   "stock_draw": [0.0, 0.0], "stock_build": [0.0, 0.0]},
    ...     index=pd.MultiIndex.from_tuples([("AU", "ore"), ("JP", "ore")], names=["country", "commodity"]))
    >>> net_import_reliance(s).to_dict("index")
    {('AU', 'ore'): {'value': nan, 'label': 'E'}, ('JP', 'ore'): {'value': 1.0, 'label': ''}}
    """
    sums = summary[list(FLOWS)].to_numpy(dtype=float).T
    zero = np.zeros(len(summary))
    h = first_hop(sums, zero, zero)
    keep = h.has_consumption
    return pd.DataFrame({"value": h.net_import_reliance[keep], "label": np.where(h.exporter[keep], "E", "")},
                        index=summary.index[keep])

