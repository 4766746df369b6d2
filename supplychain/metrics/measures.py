"""Every measure of exposure of one year, as one tidy table.

:func:`compute_measures` builds the year's tables (:func:`~supplychain.graph.build_tables`),
compiles them once (:mod:`supplychain.engine.compile`), solves the traced and origin
shares (:mod:`supplychain.engine.trace`) and computes, per country × commodity
(market node ``"{country}:{commodity}"``), the measures of docs/domain.md, "Measures of
exposure":

============================  =======  ===========================================
metric                        partner  meaning
============================  =======  ===========================================
``direct_import_share``                imports from source / total imports (item 1)
``import_share``              yes      each partner's share of imports (item 1)
``direct_share_of_consumption``        imports from source / apparent consumption
``net_import_reliance``                USGS NIR; NaN with label ``"E"`` for a net
                                       exporter (item 2), with label ``"use not
                                       recorded"`` where nothing in the scenario uses
                                       the material (``metrics.trade.UNRECORDED_USE``)
``traced_share``                       traced upstream share from the source (item 3)
``exposed_share``                      consumption traced to the source plus planned
                                       consumption not met, over planned consumption
                                       (:mod:`~supplychain.metrics.exposure`; item 7)
``secure_share``                       1 − ``exposed_share``
``origin_share_mining``       yes      share by country where it was mined (item 4)
``origin_share_processing``   yes      share by country where it was separated or
                                       refined; ``unprocessed`` for the rest (item 4)
``owner_share``               yes      share by owners' home country, stake-weighted;
                                       ``unattributed`` for stakes not listed (item 4)
``hhi_sourcing``                       HHI (0–10 000) of the country's supply by partner,
                                       domestic production included (item 5)
``top1_share``/``top3_share``          the same supply's largest 1 / 3 partners
``hhi_production``                     world production HHI, ``country="WORLD"`` (also
                                       ``top1_share``/``top3_share`` there) (item 5)
``supply_risk``                        JRC supply risk, when WGIs are given (item 6)
``element_dependence``                 traced source share of an element in the
                                       country's final use; ``commodity`` = the
                                       element key (``NdPr``), when contents are
                                       declared (:mod:`~supplychain.metrics.elements`)
``element_exposed_share``              the same counting unmet demand; without a
                                       shock (``compute_measures``) equal to
                                       ``element_dependence``
``element_use``                        tonnes of that element in final use
``element_dependence_value``           value-weighted over the element keys
                                       (``commodity`` = ``NdPr+Dy+Tb``)
============================  =======  ===========================================

Columns follow the measures contract of ``docs/architecture.md``: ``year, country,
commodity, stage, metric, partner, value, label, unit, basis, source_country,
scenario, variant``. ``source_country`` names the source for source-dependent
metrics (``direct_*``, ``traced_share``, ``exposed_share``, ``secure_share``) and is empty otherwise; ``partner`` is
empty for metrics without partners. Every value is finite except NIR of a net
exporter (NaN, label ``"E"``), NIR and direct share of consumption of a market without
recorded use (NaN; NIR labelled ``"use not recorded"``) and a share of nothing (NaN, shown
``n/a``: a direct import share without imports, the traced share of a market nothing reaches, an element dependence
without the element; ``docs/measures.md``).

The source is a country code, a group or region of the scenario (a group with
``complement_of`` is every country not in that group: "not allied" works), or any
iterable of those (:func:`resolve_source`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.engine.compile import CompiledGraph, compile_tables
from supplychain.engine.trace import origin_shares, traced_share, weighted_origin_shares
from supplychain.metrics.concentration import group_concentration
from supplychain.metrics.elements import element_columns, element_content, element_exposure, element_prices
from supplychain.metrics.exposure import consumption_edges, exposure_arrays
from supplychain.metrics.risk import supply_risk_table
from supplychain.metrics.trade import (
    UNRECORDED_USE,
    TradeIndex,
    distinct_keys,
    first_hop,
    market_sums,
    pair_sums,
    source_imports,
    summary_frame,
    trade_index,
)
from supplychain.schema.model import Scenario

__all__ = [
    "MEASURE_COLUMNS",
    "METRIC_IDS",
    "PROCESSING_KINDS",
    "compute_measures",
    "measures_from_tables",
    "origin_by_node",
    "owner_table",
    "resolve_source",
    "scenario_inputs",
    "source_label",
    "traced_share_by_node",
]

MEASURE_COLUMNS: tuple[str, ...] = (
    "year", "country", "commodity", "stage", "metric", "partner", "value", "label", "unit", "basis",
    "source_country", "scenario", "variant",
)
"""Columns of the measures table, in order."""

METRIC_IDS: tuple[str, ...] = (
    "direct_import_share", "import_share", "net_import_reliance", "direct_share_of_consumption", "traced_share",
    "exposed_share", "secure_share", "shortfall_share", "origin_share_mining", "origin_share_processing",
    "owner_share", "hhi_sourcing", "top1_share", "top3_share", "hhi_production", "supply_risk",
    "element_dependence", "element_use", "element_dependence_value", "element_exposed_share",
    "element_shortfall_share",
)
"""Every ``metric`` the measures table may hold (``docs/measures.md``, sections 1-7), for checking a name asked for."""

PROCESSING_KINDS = frozenset({"separation", "refinery"})
"""Facility kinds that are a processing stage whatever their output."""

UNPROCESSED = "unprocessed"
"""Partner of the share of material not (yet) separated or refined."""
UNATTRIBUTED = "unattributed"
"""Partner of the share of primary production whose owners are not listed."""
WORLD = "WORLD"
"""Country of world-level rows."""


# ------------------------------------------------------------------ the source
def resolve_source(
    scenario: Scenario | None,
    source: str | Iterable[str],
    universe: Iterable[str] = (),
) -> frozenset[str]:
    """Country codes a source stands for.

    Parameters
    ----------
    scenario : Scenario or None
        Declares groups and regions.
    source : str or iterable of str
        A country or region code, a group id, or several of these.
    universe : iterable of str
        Every country code in play (needed for a group with ``complement_of``).

    Returns
    -------
    frozenset of str

    Raises
    ------
    ScenarioError
        A code that is no ISO country and no region or group of `scenario`
        (with a did-you-mean: ``China`` → ``CN``); checked when `scenario` is given.

    Notes
    -----
    A group is the union of its members (resolved recursively). A group with
    ``complement_of: G`` is every code of `universe` not in ``G`` (nor in its
    ``members``, which by convention list ``G``). A region stands for itself and
    its members.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "groups": {"ALLIES": {"members": ["US", "JP", "AU"]},
    ...                "NOT_ALLIED": {"members": ["ALLIES"], "complement_of": "ALLIES"}}})
    >>> sorted(resolve_source(s, "NOT_ALLIED", ["US", "JP", "AU", "CN", "MY"]))
    ['CN', 'MY']
    >>> sorted(resolve_source(s, ["CN", "MY"]))
    ['CN', 'MY']
    """
    everyone = frozenset(universe)
    codes = [source] if isinstance(source, str) else list(source)
    if scenario is not None:
        from supplychain.schema.countries import require_codes

        require_codes(scenario, map(str, codes), ("source",))

    def one(code: str, seen: frozenset[str]) -> set[str]:
        if code in seen:
            return set()
        seen = seen | {code}
        if scenario is not None and code in scenario.groups:
            g = scenario.groups[code]
            members: set[str] = set()
            for m in g.members:
                members |= one(m, seen)
            if g.complement_of is not None:
                excluded = one(g.complement_of, seen) | members
                return set(everyone) - excluded
            return members
        if scenario is not None and code in scenario.regions:
            out = {code}
            for m in scenario.regions[code].members:
                out |= one(m, seen)
            return out
        return {code}

    result: set[str] = set()
    for c in codes:
        result |= one(str(c), frozenset())
    return frozenset(result)


def source_label(source: str | Iterable[str]) -> str:
    """How a source is named in the ``source_country`` column.

    Examples
    --------
    >>> source_label("CN"), source_label(["MY", "CN"])
    ('CN', 'CN+MY')
    """
    return source if isinstance(source, str) else "+".join(sorted(map(str, source)))


# ---------------------------------------------------------------- per node
class _SolveOrder:
    """Columns of a node table read in a compiled network's solve order.

    ``rows[i]`` is the node-table row of ``compiled.nodes[i]`` (−1 when the table
    lacks it; its values read as missing, as ``reindex`` gives).
    """

    def __init__(self, compiled: CompiledGraph, nodes: pd.DataFrame) -> None:
        self.nodes = nodes
        self.ids = np.asarray(compiled.nodes, dtype=object)
        self.rows = np.asarray(pd.Index(nodes["node"]).get_indexer(compiled.nodes), dtype=np.int64)
        self.complete = bool((self.rows >= 0).all())

    def column(self, name: str, missing: Any = np.nan) -> npt.NDArray[Any]:
        """Return the values of column ``name`` (``missing`` where absent, or for all nodes without the column)."""
        if name not in self.nodes.columns:
            return np.full(len(self.rows), missing, dtype=object)
        values = self.nodes[name].to_numpy()
        if self.complete:
            return values[self.rows]
        return np.where(self.rows >= 0, values[self.rows], missing)

    def at(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Solve position of node-table ``rows`` (−1 for a node not compiled)."""
        where = np.full(len(self.nodes), -1, dtype=np.int64)
        where[self.rows[self.rows >= 0]] = np.flatnonzero(self.rows >= 0)
        return where[rows]

    def in_source(self, source: frozenset[str]) -> npt.NDArray[np.bool_]:
        """Whether each node's country (as text) is one of ``source``."""
        return np.fromiter((str(c) in source for c in self.column("country")), dtype=bool, count=len(self.rows))


def traced_share_by_node(nodes: pd.DataFrame, edges: pd.DataFrame, source: Iterable[str],
                         compiled: CompiledGraph | None = None) -> pd.Series:
    """Traced share from a set of source countries at every node.

    Parameters
    ----------
    nodes, edges : DataFrame
        Tables of one year.
    source : iterable of str
        Source country codes (already resolved, see :func:`resolve_source`).
    compiled : CompiledGraph, optional
        The compiled tables, when already at hand.

    Returns
    -------
    Series
        Indexed by node id (sorted), ``t(v)`` in [0, 1] (docs/domain.md item 3).
    """
    cg = compiled if compiled is not None else compile_tables(nodes, edges)
    t = traced_share(cg, _SolveOrder(cg, nodes).in_source(frozenset(source)))
    return pd.Series(t, index=pd.Index(cg.nodes, name="node"), name="traced_share").sort_index()


def _processing(kind: npt.NDArray[Any], facility_kind: npt.NDArray[Any], stage: npt.NDArray[Any]) -> npt.NDArray[
        np.bool_]:
    """Boolean per node: a separation/refining facility (the first processing stage).

    A facility is a processing node when its kind is ``separation`` or ``refinery``
    (:data:`PROCESSING_KINDS`) or its reference output is at the ``oxide`` stage (separated
    or refined compounds, :data:`~supplychain.schema.types.STAGES`); read from the node
    table's columns ``kind``, ``facility_kind`` and ``stage``.
    """
    return np.fromiter((k == "facility" and (f in PROCESSING_KINDS or s == "oxide")
                        for k, f, s in zip(kind.tolist(), facility_kind.tolist(), stage.tolist(), strict=True)),
                       dtype=bool, count=len(kind))


def owner_table(scenario: Scenario) -> pd.DataFrame:
    """Owners' home countries and stakes per facility.

    Returns
    -------
    DataFrame
        ``facility, owner_country, stake`` (stakes of one country added).
    """
    rows = [
        {"facility": fid, "owner_country": o.country, "stake": o.stake.central}
        for fid, f in sorted(scenario.facilities.items())
        for o in f.owners
    ]
    df = pd.DataFrame(rows, columns=["facility", "owner_country", "stake"])
    return df.groupby(["facility", "owner_country"])["stake"].sum().reset_index()


def origin_by_node(
    compiled: CompiledGraph,
    nodes: pd.DataFrame,
    kind: str,
    owners: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Origin decomposition of every node's material.

    Parameters
    ----------
    compiled : CompiledGraph
        The compiled tables.
    nodes : DataFrame
        Node table.
    kind : {"mining", "processing", "owner"}
        ``mining``: by country of primary production (mines, stock); ``processing``:
        by country of the separation/refining facility (:data:`PROCESSING_KINDS` or an ``oxide`` output,
        their inputs ignored); ``owner``: by owners' home country of primary
        producers, stake-weighted, stakes not listed → ``"unattributed"``.
    owners : DataFrame, optional
        :func:`owner_table` (for ``kind="owner"``).

    Returns
    -------
    DataFrame
        Index: node ids in solve order; one column per origin. Rows of nodes with
        an inflow sum to 1 for ``mining`` and ``owner``; for ``processing`` the
        remainder is material not yet processed.
    """
    shares, cols = _origin(compiled, _SolveOrder(compiled, nodes), kind, owners)
    return pd.DataFrame(shares, index=pd.Index(compiled.nodes, name="node"), columns=pd.Index(cols, name="partner"))


def _origin(compiled: CompiledGraph, info: _SolveOrder, kind: str,
            owners: pd.DataFrame | None) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.str_]]:
    """:func:`origin_by_node` as arrays: the shares (solve order × origin) and the origins."""
    if kind not in ("mining", "processing", "owner"):
        msg = f"kind must be 'mining', 'processing' or 'owner', got {kind!r}"
        raise ValueError(msg)
    primary = np.asarray(info.column("primary"), dtype=float) > 0
    if kind == "mining":
        return origin_shares(compiled, np.where(primary, info.column("country").astype(str), ""), fixed=False)
    if kind == "processing":
        proc = _processing(info.column("kind"), info.column("facility_kind", ""), info.column("stage", ""))
        return origin_shares(compiled, np.where(proc, info.column("country").astype(str), ""), fixed=True)
    stakes: dict[str, list[tuple[str, float]]] = {}
    if owners is not None:
        for fid, owner_country, stake in zip(owners["facility"].tolist(), owners["owner_country"].tolist(),
                                             owners["stake"].tolist(), strict=True):
            stakes.setdefault(str(fid), []).append((str(owner_country), float(stake)))
    trip_node: list[int] = []
    trip_col: list[str] = []
    trip_w: list[float] = []
    for pos in np.flatnonzero(primary).tolist():
        listed = 0.0
        for owner_country, stake in stakes.get(str(info.ids[pos]), []):
            trip_node.append(pos)
            trip_col.append(owner_country)
            trip_w.append(stake)
            listed += stake
        if listed < 1.0 - 1e-12:
            trip_node.append(pos)
            trip_col.append(UNATTRIBUTED)
            trip_w.append(1.0 - listed)
    cols = sorted(set(trip_col))
    number = {c: j for j, c in enumerate(cols)}
    shares = weighted_origin_shares(compiled, trip_node, [number[c] for c in trip_col], trip_w, len(cols))
    return shares, np.asarray(cols, dtype=np.str_).reshape(-1)


# ------------------------------------------------------------------ the table
class _Rows:
    """Measure rows collected as arrays, turned into columns at the end (only the ``wanted`` metrics; None: all)."""

    def __init__(self, wanted: frozenset[str] | None = None) -> None:
        self.wanted = wanted
        self.parts: dict[str, list[Any]] = {k: [] for k in ("country", "commodity", "partner", "label", "basis",
                                                             "value")}
        self.scalars: dict[str, list[str]] = {"metric": [], "unit": [], "source_country": []}
        self.sizes: list[int] = []

    def add(self, country: Any, commodity: Any, metric: str, value: Any, unit: str, source: str = "",
            partner: Any = "", label: Any = "", basis: Any = None) -> None:
        """Add ``value``'s rows.

        ``country`` … ``label`` and ``basis`` are one value or one per row (``basis`` None:
        the commodity's, filled in by :meth:`columns`).
        """
        v = np.asarray(value, dtype=np.float64).ravel()
        n = v.size
        if not n or (self.wanted is not None and metric not in self.wanted):
            return
        for key, arr in (("country", country), ("commodity", commodity), ("partner", partner), ("label", label),
                         ("basis", basis)):
            a = np.asarray(arr, dtype=object)
            self.parts[key].append(np.full(n, arr, dtype=object) if a.ndim == 0 else a)
        self.parts["value"].append(v)
        for key, text in (("metric", metric), ("unit", unit), ("source_country", source)):
            self.scalars[key].append(text)
        self.sizes.append(n)

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """Return every column (object arrays, ``value`` float)."""
        if not self.sizes:
            out = {k: np.zeros(0, dtype=object) for k in (*self.parts, *self.scalars)}
            out["value"] = np.zeros(0)
            return out
        out = {k: np.concatenate(v) for k, v in self.parts.items()}
        for k, texts in self.scalars.items():
            out[k] = np.repeat(np.asarray(texts, dtype=object), self.sizes)
        return out


def _lookup_markets(index: TradeIndex, values: npt.NDArray[Any], country: npt.NDArray[Any],
                    commodity: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``values`` of the trade index's markets (its market order) at the markets ``country, commodity``."""
    pos = {k: i for i, k in enumerate(zip(index.market_country.astype(str).tolist(),
                                          index.market_commodity.astype(str).tolist(), strict=True))}
    at = np.array([pos.get(k, -1) for k in zip(np.asarray(country).astype(str).tolist(),
                                               np.asarray(commodity).astype(str).tolist(), strict=True)],
                  dtype=np.intp)
    return np.where(at >= 0, values[at], values.dtype.type(0))


def _long(shares: npt.NDArray[np.floating[Any]], origins: npt.NDArray[Any], at: npt.NDArray[np.int64],
          country: npt.NDArray[Any], commodity: npt.NDArray[Any]) -> tuple[Any, Any, Any, Any]:
    """Rows of the markets at solve positions ``at`` of a node × origin matrix.

    Returns ``country, commodity, partner, value`` of the entries above 1e-12 (a market
    not compiled, ``at < 0``, gives no rows).
    """
    found = at >= 0
    vals = np.zeros((len(at), shares.shape[1]))
    vals[found] = shares[at[found]]
    r, c = np.nonzero(vals > 1e-12)
    return country[r], commodity[r], np.asarray(origins, dtype=object)[c], vals[r, c]


def world_production(index: TradeIndex, nodes: pd.DataFrame, edges: pd.DataFrame,
                     tonnes: npt.NDArray[np.float64], production: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    r"""Primary production of each market, the basis of world production shares: :math:`P_m - P^{rec}_m`.

    :math:`P_m` is the market's production (:func:`~supplychain.metrics.trade.market_sums`),
    :math:`P^{rec}_m` what facilities of kind ``recycler`` supply to it: secondary output
    (scrap refining, or a residual that may hold stock changes) is supply to its country but
    not world production, which USGS and the OFR report as primary (mine or refinery) output.

    Examples
    --------
    >>> from supplychain.graph import build_tables
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "commodities": {"ge": {"name": "Ge", "stage": "metal"}},
    ...     "facilities": {"cn": {"name": "CN", "country": "CN", "kind": "aggregate", "output": "ge",
    ...                           "production": {2024: 180}},
    ...                    "us2": {"name": "US scrap", "country": "US", "kind": "recycler", "output": "ge",
    ...                            "production": {2024: 4}}}})
    >>> nodes, edges = build_tables(s, 2024)
    >>> index = trade_index(nodes, edges)
    >>> t = edges["tonnes"].to_numpy(dtype=float)
    >>> world_production(index, nodes, edges, t, market_sums(index, t)[0]).tolist()
    [180.0, 0.0]
    """
    kind = nodes["facility_kind"] if "facility_kind" in nodes.columns else pd.Series("", index=nodes.index)
    recyclers = nodes.loc[kind.eq("recycler").to_numpy(), "node"]
    rec = np.flatnonzero((edges["kind"].eq("supply") & edges["supplier"].isin(recyclers)).to_numpy())
    if not len(rec):
        return production
    primary: npt.NDArray[np.float64] = production - market_sums(index.subset(rec), tonnes[rec])[0]
    return primary


def _runs(*columns: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Group number of each row of sorted ``columns``: rows with equal values in all of them are one group."""
    n = len(columns[0])
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
        for c in columns:
            change[1:] |= np.asarray(c[1:] != c[:-1], dtype=bool)
    return np.cumsum(change) - 1


def _sourcing(index: TradeIndex) -> tuple[dict[str, npt.NDArray[Any]], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Structure of a country's supply by partner: domestic production (partner = itself) plus imports.

    Returns the distinct ``country, commodity, partner`` keys (sorted; the first row of
    each among ``[markets, pairs]``), the key of each of ``[production per market,
    imports per pair]`` (``supply = bincount(key, [P, I])``), and each key's group (its
    ``country, commodity``, ascending).
    """
    first, key_of = distinct_keys([index.market_country, index.pair_country],
                                  [index.market_commodity, index.pair_commodity],
                                  [index.market_country, index.pair_partner])
    columns = {
        "country": np.concatenate([index.market_country, index.pair_country])[first],
        "commodity": np.concatenate([index.market_commodity, index.pair_commodity])[first],
        "partner": np.concatenate([index.market_country, index.pair_partner])[first],
    }
    return columns, np.concatenate(key_of), _runs(columns["country"], columns["commodity"])


def measures_from_tables(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    year: int,
    source: Iterable[str],
    source_name: str,
    owners: pd.DataFrame | None = None,
    wgi: Mapping[str, float] | None = None,
    trade_restriction: Mapping[str, float] | None = None,
    recycled_share: Mapping[str, float] | None = None,
    si_sr: float | Mapping[str, float] = 1.0,
    content: Mapping[str, Mapping[str, float]] | None = None,
    element_price: Mapping[str, float] | None = None,
    scenario_name: str = "",
    variant: str = "",
    compiled: CompiledGraph | None = None,
    planned: pd.DataFrame | None = None,
    metrics: Collection[str] | None = None,
) -> pd.DataFrame:
    """Every measure of one year from its node and edge tables (pure function).

    Parameters
    ----------
    nodes, edges : DataFrame
        Tables of one year.
    year : int
        Their year.
    source : iterable of str
        Source country codes (resolved).
    source_name : str
        Value of the ``source_country`` column.
    owners : DataFrame, optional
        :func:`owner_table`; without it every primary producer is ``unattributed``.
    wgi, trade_restriction : mapping, optional
        Country -> [0, 1] for :mod:`supplychain.metrics.risk`; no ``supply_risk``
        rows without `wgi`.
    recycled_share : mapping, optional
        Facility id -> share of its output that is end-of-life material.
    si_sr : float or mapping, default 1
        JRC substitution index (per commodity when a mapping).
    content : mapping, optional
        Commodity → element key → t per t (:func:`~supplychain.metrics.elements.element_content`);
        without it no ``element_*`` rows.
    element_price : mapping, optional
        Element key → USD per t contained, for ``element_dependence_value``.
    scenario_name, variant : str
        Values of the ``scenario`` and ``variant`` columns.
    compiled : CompiledGraph, optional
        The compiled tables, when already at hand.
    planned : pandas.DataFrame, optional
        The year's planned consumption before any shock (:func:`~supplychain.metrics.exposure.consumption`
        of the baseline edges) for ``exposed_share``; default: what the tables consume. Without it
        (an unshocked network, nothing unmet) the element rows include ``element_exposed_share``,
        equal to ``element_dependence`` (:func:`~supplychain.metrics.elements.element_exposure` with no
        shortfall); with it the simulator adds that metric from the element shortfall.
    metrics : collection of str, optional
        Only these metrics (default: every one). The import shares, origin decompositions,
        concentration, supply risk and element rows are computed only when one of their
        metrics is asked for (what a sweep that keeps a few measures saves); the first-hop,
        traced and exposed measures always are (array sums, and the exposed share needs
        the traced one).

    Returns
    -------
    DataFrame
        Columns :data:`MEASURE_COLUMNS` (module docstring), sorted by ``country,
        commodity, metric, partner``.
    """
    wanted = None if metrics is None else frozenset(metrics)

    def want(*names: str) -> bool:
        return wanted is None or any(n in wanted for n in names)

    src = frozenset(source)
    cg = compiled if compiled is not None else compile_tables(nodes, edges)
    info = _SolveOrder(cg, nodes)
    node_id, node_country, node_com = (nodes[c].to_numpy() for c in ("node", "country", "commodity"))
    mkt = np.flatnonzero(np.asarray(nodes["kind"].to_numpy() == "market", dtype=bool))
    mkt = mkt[np.argsort(node_id[mkt].astype(str), kind="stable")]  # markets by node id
    m_country, m_com, m_at = node_country[mkt], node_com[mkt], info.at(mkt)
    index = trade_index(nodes, edges)
    tonnes = edges["tonnes"].to_numpy(dtype=float)
    sums = market_sums(index, tonnes)
    pairs = pair_sums(index, tonnes)
    imports, from_source = source_imports(index, pairs, src)
    hop = first_hop(sums, imports, from_source, index.market_use)
    mc, mk = index.market_country, index.market_commodity
    rows = _Rows(wanted)

    # item 1: direct shares
    rows.add(mc, mk, "direct_import_share", hop.direct_import_share, "share", source_name)
    if want("import_share"):
        pair_group = _runs(index.pair_country, index.pair_commodity)
        pair_total = np.bincount(pair_group, weights=pairs, minlength=int(pair_group.max(initial=-1)) + 1)[pair_group]
        has = pair_total > 0
        rows.add(index.pair_country[has], index.pair_commodity[has], "import_share", pairs[has] / pair_total[has],
                 "share", partner=index.pair_partner[has])
    ac = hop.has_consumption
    rows.add(mc[ac], mk[ac], "direct_share_of_consumption", hop.direct_share_of_consumption[ac], "ratio",
             source_name)
    # item 2: NIR
    nir_label = np.where(hop.exporter[ac], "E", np.where(hop.unrecorded[ac], UNRECORDED_USE, "")).astype(object)
    rows.add(mc[ac], mk[ac], "net_import_reliance", hop.net_import_reliance[ac], "share", label=nir_label)
    # item 3: traced share at the market nodes
    t = traced_share(cg, info.in_source(src))
    supplied = _lookup_markets(index, hop.supplied, m_country, m_com)  # no material reaching it: n/a, not 0
    rows.add(m_country, m_com, "traced_share", np.where((m_at >= 0) & supplied, t[m_at], np.nan), "share",
             source_name)
    # item 7: exposure counting unmet demand
    ce = np.flatnonzero(consumption_edges(edges))
    supplier_at = np.asarray(cg.nodes.get_indexer(pd.Index(edges["supplier"].to_numpy()[ce].astype(str))))
    ec, ek, exposed = exposure_arrays(edges["buyer_country"].to_numpy()[ce], edges["commodity"].to_numpy()[ce],
                                      tonnes[ce], np.where(supplier_at >= 0, t[supplier_at], 0.0), planned)
    rows.add(ec, ek, "exposed_share", exposed, "share", source_name)
    rows.add(ec, ek, "secure_share", 1.0 - exposed, "share", source_name)
    # item 4: origin decompositions
    if want("origin_share_mining"):
        c, k, partner, v = _long(*_origin(cg, info, "mining", None), m_at, m_country, m_com)
        rows.add(c, k, "origin_share_mining", v, "share", partner=partner)
    if want("origin_share_processing"):
        proc, proc_cols = _origin(cg, info, "processing", None)
        unprocessed = np.where(cg.inflow > 0, np.maximum(1.0 - proc.sum(axis=1), 0.0), 0.0)
        not_ore = np.asarray(nodes["stage"].to_numpy()[mkt] != "ore", dtype=bool)
        c, k, partner, v = _long(np.column_stack([proc, unprocessed]),
                                 np.append(proc_cols.astype(object), UNPROCESSED),
                                 m_at[not_ore], m_country[not_ore], m_com[not_ore])
        rows.add(c, k, "origin_share_processing", v, "share", partner=partner)
    if want("owner_share"):
        c, k, partner, v = _long(*_origin(cg, info, "owner", owners), m_at, m_country, m_com)
        rows.add(c, k, "owner_share", v, "share", partner=partner)
    # items 5 and 6: concentration of sourcing and of world production, and the supply risk that reads them
    if want("hhi_sourcing", "top1_share", "top3_share", "hhi_production") or (wgi and want("supply_risk")):
        keys, key_of, group = _sourcing(index)
        supply = np.bincount(key_of, weights=np.concatenate([sums[0], pairs]), minlength=len(group))
        first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else np.zeros(0, dtype=int)
        h, top1, top3, total = group_concentration(supply, group, len(first))
        ok = total > 0
        gc, gk = keys["country"][first][ok], keys["commodity"][first][ok]
        rows.add(gc, gk, "hhi_sourcing", h[ok], "points")
        rows.add(gc, gk, "top1_share", top1[ok], "share")
        rows.add(gc, gk, "top3_share", top3[ok], "share")
        order = np.lexsort((mc.astype(str), mk.astype(str)))
        wk = mk[order]
        w_group = _runs(wk)
        n_w = int(w_group.max(initial=-1)) + 1
        primary = world_production(index, nodes, edges, tonnes, sums[0])[order]
        h, top1, top3, total = group_concentration(primary, w_group, n_w)
        ok = total > 0
        w_first = np.flatnonzero(np.r_[True, wk[1:] != wk[:-1]]) if len(wk) else np.zeros(0, dtype=int)
        for metric, value, unit in (("hhi_production", h, "points"), ("top1_share", top1, "share"),
                                    ("top3_share", top3, "share")):
            rows.add(WORLD, wk[w_first][ok], metric, value[ok], unit)
        # item 6: JRC supply risk
        if wgi and want("supply_risk"):
            recycled: dict[tuple[str, str], float] | None = None
            if recycled_share:
                fac = nodes.loc[nodes["node"].isin(list(recycled_share))]
                recycled = {}
                for r in fac.to_dict("records"):
                    key = (str(r["country"]), str(r["commodity"]))
                    recycled[key] = recycled.get(key, 0.0) + float(r["production"]) * recycled_share[str(r["node"])]
            summary = summary_frame(index, sums)
            sourcing = pd.DataFrame({**keys, "tonnes": supply}).loc[supply > 0]
            world = pd.DataFrame({"commodity": wk, "partner": mc[order], "tonnes": primary})
            nir = pd.DataFrame({"value": hop.net_import_reliance[ac], "label": nir_label},
                               index=pd.MultiIndex.from_arrays([mc[ac], mk[ac]], names=["country", "commodity"]))
            sr = supply_risk_table(summary, sourcing, world.loc[world["tonnes"] > 0], nir, wgi, trade_restriction,
                                   recycled, si_sr)
            rows.add(sr["country"].to_numpy(), sr["commodity"].to_numpy(), "supply_risk", sr["value"].to_numpy(),
                     "score")
    # element content traced through products
    if content and (wanted is None or any(n.startswith("element_") for n in wanted)):
        elem = element_columns(nodes, edges, content, src, element_price)
        e_basis = _first_of(elem["commodity"].tolist(), elem["basis"].tolist())
        for e_metric in sorted(set(elem["metric"].tolist())):
            part = elem["metric"] == e_metric
            e_com = elem["commodity"][part]
            rows.add(elem["country"][part], e_com, str(e_metric), elem["value"][part], str(elem["unit"][part][0]),
                     source_name if e_metric != "element_use" else "",
                     basis=np.array([e_basis[c] for c in e_com.tolist()], dtype=object))
            if e_metric == "element_dependence" and planned is None:
                # no shock: nothing is unmet (S_X = 0), so the element's exposed share D_X (1 - 0) + 0 is D_X
                # (metrics.elements.element_exposure); after a shock the simulator adds it with S_X
                rows.add(elem["country"][part], e_com, "element_exposed_share",
                         element_exposure(elem["value"][part], np.zeros(int(part.sum()))),
                         str(elem["unit"][part][0]), source_name,
                         basis=np.array([e_basis[c] for c in e_com.tolist()], dtype=object))

    cols = rows.columns()
    # stage and basis of each row's commodity (the first node's), looked up once per commodity
    com_code, coms = pd.factorize(cols["commodity"], use_na_sentinel=False)
    stage_of = {c: _text(s, "") for c, s in _first_of(node_com.tolist(), nodes["stage"].tolist()).items()}
    basis_of = {c: _text(b, "t") for c, b in _first_of(node_com.tolist(), nodes["basis"].tolist()).items()}
    cols["stage"] = np.array([stage_of.get(c, "") for c in coms.tolist()], dtype=object)[com_code]
    cols["basis"] = np.where(pd.isna(cols["basis"]), np.array([basis_of.get(c, "t") for c in coms.tolist()],
                                                              dtype=object)[com_code], cols["basis"])
    n = len(com_code)
    cols["year"] = np.full(n, int(year), dtype=np.int64)
    cols["scenario"] = np.full(n, scenario_name, dtype=object)
    cols["variant"] = np.full(n, variant, dtype=object)
    # rows by country, commodity, metric, partner (texts, sorted as Python sorts them; stable)
    ranks = [pd.factorize(cols[k], sort=True, use_na_sentinel=False)[0] for k in ("partner", "metric", "commodity",
                                                                                  "country")]
    order = np.lexsort(ranks)
    return pd.DataFrame({k: cols[k][order] for k in MEASURE_COLUMNS}, copy=False)


def _first_of(keys: list[Any], values: list[Any]) -> dict[Any, Any]:
    """Key → the value of its first row (``drop_duplicates(key).set_index(key)``)."""
    out: dict[Any, Any] = {}
    for k, v in zip(keys, values, strict=True):
        out.setdefault(k, v)
    return out


def _text(value: Any, missing: str) -> Any:
    """``value``, or ``missing`` when it is absent or NaN (``Series.map(...).fillna(missing)``)."""
    return missing if value is None or (isinstance(value, float) and np.isnan(value)) else value


def compute_measures(
    scenario: Scenario,
    year: int,
    *,
    source: str | Iterable[str] | None = "CN",
    variant: str = "",
    si_sr: float | Mapping[str, float] = 1.0,
    tables: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Every measure of exposure of a scenario in a year.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    year : int
        Calendar year.
    source : str or iterable of str or None, default "CN"
        Whose exposure is measured: a country code, a group or region of the
        scenario (incl. ``complement_of`` groups) or an iterable of codes;
        ``None`` uses ``scenario.scenario.source_country``.
    variant : str
        Value of the ``variant`` column.
    si_sr : float or mapping, default 1
        JRC substitution index for supply risk (per commodity when a mapping).
    tables : (nodes, edges), optional
        The year's tables, ``build_tables(scenario, year)`` (balance checked), when the caller
        has built them (a sweep's sample reads their raised outputs too:
        :class:`~supplychain.uncertainty.models.ExposureMeasures`); built here when not given.

    Returns
    -------
    DataFrame
        The tidy measures table (module docstring, :data:`MEASURE_COLUMNS`).

    Raises
    ------
    ScenarioError
        An unknown source code (with a did-you-mean: ``China`` → ``CN``), or a
        market out of balance (:mod:`supplychain.graph.balance`).
    EngineError
        When a closed loop makes the traced share undefined; its ``__cause__``
        locates the loop's flows in the scenario.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "toy", "base_year": 2024},
    ...     "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
    ...     "facilities": {"cn": {"name": "CN mine", "country": "CN", "kind": "mine", "output": "ore",
    ...                           "production": {2024: 90}},
    ...                    "au": {"name": "AU mine", "country": "AU", "kind": "mine", "output": "ore",
    ...                           "production": {2024: 30}}},
    ...     "flows": {"cn_us": {"supplier": "CN", "buyer": "US", "commodity": "ore", "year": 2024, "tonnes": 60},
    ...               "au_us": {"supplier": "AU", "buyer": "US", "commodity": "ore", "year": 2024, "tonnes": 20}}})
    >>> m = compute_measures(s, 2024)
    >>> us = m[m["country"].eq("US")].set_index(["metric", "partner"])["value"]
    >>> [float(us[(metric, "")]) for metric in ("direct_import_share", "traced_share", "hhi_sourcing")]
    [0.75, 0.75, 6250.0]
    """
    from supplychain.graph.build import build_tables
    from supplychain.schema.references import problem_at

    src_in = scenario.scenario.source_country if source is None else source
    resolve_source(scenario, src_in)  # an unknown code fails before any work
    nodes, edges = build_tables(scenario, year, check_balance=True) if tables is None else tables
    universe = set(nodes["country"].astype(str)) | set(scenario.countries) | set(scenario.regions)
    src = resolve_source(scenario, src_in, universe)
    cg = compile_tables(nodes, edges, locate=partial(problem_at, scenario))
    return measures_from_tables(
        nodes, edges, year=year, source=src, source_name=source_label(src_in), si_sr=si_sr,
        scenario_name=scenario.scenario.name, variant=variant, compiled=cg, **scenario_inputs(scenario),
    )


def scenario_inputs(scenario: Scenario, *, owners: bool = True) -> dict[str, Any]:
    """Collect the scenario facts :func:`measures_from_tables` reads besides the tables.

    ``owners``: whether to build the owner table (only ``owner_share`` reads it).

    Returns
    -------
    dict
        Keyword arguments ``owners``, ``wgi``, ``trade_restriction``,
        ``recycled_share``, ``content`` and ``element_price`` (``None`` where the
        scenario gives none, or ``owners`` is false).
    """
    wgi = {c: info.wgi.central for c, info in scenario.countries.items() if info.wgi is not None}
    restr = {c: info.trade_restriction.central for c, info in scenario.countries.items()
             if info.trade_restriction is not None}
    recycled = {fid: f.recycled_share.central for fid, f in scenario.facilities.items()
                if f.recycled_share is not None}
    content = element_content(scenario)
    return {"owners": owner_table(scenario) if owners else None, "wgi": wgi or None, "trade_restriction": restr or None,
            "recycled_share": recycled or None, "content": content or None,
            "element_price": element_prices(scenario) or None}
