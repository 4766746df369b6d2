"""The chain that matters for one country's use of one commodity: only the material that ends there.

A report's network picture is about a question such as "where do US magnets come
from?". :func:`chain_to` keeps, of one year's network, only the part of each flow
that ends in a given sink (by default a country's final use of a commodity,
``US:ndfeb_magnet:use``) under proportional mixing — the rule the traced share uses
(docs/domain.md, "Measures of exposure", item 3): what enters a country pool or a
plant leaves it in proportion to its outflows.

Formula
-------
Let ``out(v) = Σ_w f(v→w)`` be the outflow of node ``v`` and ``s(v)`` the share of it
that ends in the sink ``z``::

    s(z) = 1,        s(v) = Σ_w  f(v→w) / out(v) · s(w)      (s(v) = 0 when out(v) = 0)

The part of a flow ``u → v`` that ends in ``z`` is ``f(u→v) · s(v)``. This is the
traced-share system on the reversed network (every edge turned round, the sink the
only source), so it is solved by :func:`supplychain.engine.trace.traced_share`, the
one implementation of that solve. At a plant with several outputs, ``s`` weighs the
outputs by quantity, as the traced share weighs a plant's inputs.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from supplychain.engine.compile import compile_arrays
from supplychain.engine.trace import traced_share
from supplychain.errors import EngineError
from supplychain.graph.build import market_id, use_id

__all__ = ["MIN_CHAIN_SHARE", "chain_to", "destination_share", "sink_node"]

MIN_CHAIN_SHARE: Final = 0.05
"""A flow is drawn in a chain when it carries at least this share of the largest flow of its stage there."""


def sink_node(nodes: pd.DataFrame, country: str, commodity: str) -> str | None:
    """Return the node whose inflow a chain ends in: the country's final use of the commodity, else its pool.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["US:magnet", "US:magnet:use", "JP:magnet"]})
    >>> sink_node(nodes, "US", "magnet"), sink_node(nodes, "JP", "magnet"), sink_node(nodes, "KR", "magnet")
    ('US:magnet:use', 'JP:magnet', None)
    """
    have = set(nodes["node"].astype(str))
    for node in (use_id(country, commodity), market_id(country, commodity)):
        if node in have:
            return node
    return None


def destination_share(ids: pd.Index, supplier: np.ndarray, buyer: np.ndarray, tonnes: np.ndarray,
                      sink: str) -> np.ndarray:
    """Share ``s(v)`` of every node's outflow that ends in ``sink`` (module formula), in the order of ``ids``.

    Parameters
    ----------
    ids : pandas.Index
        Node ids.
    supplier, buyer : ndarray of int
        Positions in ``ids`` of each edge's ends.
    tonnes : ndarray of float
        Flow of each edge (finite, ≥ 0).
    sink : str
        The node the chain ends in.

    Returns
    -------
    ndarray of float
        ``s(v)`` in [0, 1]; 1 at the sink.

    Raises
    ------
    EngineError
        The reversed network has a closed loop (it cannot: a loop of the network
        has an outflow, which is the loop's inflow once reversed).

    Examples
    --------
    A mine sells 100 t to a pool, which sends 60 t to use in the country and exports 40 t:

    >>> ids = pd.Index(["mine", "US:ore", "US:ore:use", "JP:ore"])
    >>> s = destination_share(ids, np.array([0, 1, 1]), np.array([1, 2, 3]), np.array([100.0, 60.0, 40.0]),
    ...                       "US:ore:use")
    >>> s.round(3).tolist()
    [0.6, 0.6, 1.0, 0.0]
    """
    n = len(ids)
    at_sink = np.asarray(ids == sink, dtype=bool)
    cg = compile_arrays(n, buyer, supplier, tonnes, at_sink.astype(float), node_ids=ids)
    s = traced_share(cg, cg.nodes == sink)
    out = np.zeros(n)
    out[ids.get_indexer(pd.Index(cg.nodes))] = s
    return out


def _attributed(nodes: pd.DataFrame, edges: pd.DataFrame, column: str, sink: str) -> np.ndarray:
    """``f(u→v) · s(v)`` of every edge for the flows in ``column``."""
    ids = pd.Index(nodes["node"].astype(str))
    sup = ids.get_indexer(pd.Index(edges["supplier"].astype(str)))
    buy = ids.get_indexer(pd.Index(edges["buyer"].astype(str)))
    f: np.ndarray = np.nan_to_num(pd.to_numeric(edges[column], errors="coerce").to_numpy(dtype=float)).clip(min=0.0)
    share: np.ndarray = destination_share(ids, sup, buy, f, sink)
    return np.asarray(f * share[buy], dtype=float)


def chain_to(nodes: pd.DataFrame, edges: pd.DataFrame, sink: str,
             min_share: float = MIN_CHAIN_SHARE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep only the part of each flow that ends in ``sink`` (normalised tables of :mod:`graph_tables`).

    Parameters
    ----------
    nodes : DataFrame
        Normalised node table (``node`` …).
    edges : DataFrame
        Normalised edge table (``edge, supplier, buyer, commodity, tonnes, before, status``);
        ``before`` is NaN outside a diff view.
    sink : str
        The node the chain ends in (:func:`sink_node`).
    min_share : float, default :data:`MIN_CHAIN_SHARE`
        A flow is dropped when the part of it that ends in ``sink`` is below this share of
        the largest such part of a flow at the same stage (``nodes["stage"]`` of its
        commodity; else of the same commodity), in both states; and so is a flow that then
        no longer leads to ``sink`` through kept flows.

    Returns
    -------
    (DataFrame, DataFrame)
        The nodes the kept flows touch, and the kept flows with ``tonnes`` (and ``before``)
        replaced by the part that ends in ``sink``. Blocked and new flows are kept when
        their other state reaches the sink.

    Raises
    ------
    ValueError
        ``sink`` is not a node of the table.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["mine", "US:ore", "US:ore:use", "JP:ore"]})
    >>> edges = pd.DataFrame({"edge": ["a", "b", "c"], "supplier": ["mine", "US:ore", "US:ore"],
    ...                       "buyer": ["US:ore", "US:ore:use", "JP:ore"], "commodity": "ore",
    ...                       "tonnes": [100.0, 60.0, 40.0], "before": float("nan"), "status": "normal"})
    >>> n, e = chain_to(nodes, edges, "US:ore:use")
    >>> e[["edge", "tonnes"]].values.tolist(), sorted(n["node"])
    ([['a', 60.0], ['b', 60.0]], ['US:ore', 'US:ore:use', 'mine'])
    """
    if sink not in set(nodes["node"].astype(str)):
        msg = f"{sink!r} is not a node of the network"
        raise ValueError(msg)
    try:
        after = _attributed(nodes, edges, "tonnes", sink)
        diff = bool(edges["before"].notna().any())
        before = _attributed(nodes, edges, "before", sink) if diff else np.full(len(edges), np.nan)
    except EngineError:  # cannot happen for a balanced network (destination_share); draw the whole chain
        return nodes, edges
    # the scale of each flow: the largest part of a flow of the same stage that ends in the sink
    # (tonnes of ore and tonnes of magnets are not compared; NdPr and Dy oxide are)
    size = np.maximum(after, np.nan_to_num(before))
    commodity = edges["commodity"].astype(str)
    if {"commodity", "stage"} <= set(nodes.columns):
        stages = nodes.drop_duplicates("commodity").set_index("commodity")["stage"].astype(str)
        commodity = commodity.map(stages).fillna(commodity)
    scale = pd.Series(size).groupby(commodity.to_numpy()).transform("max").to_numpy()
    keep = (size > 0) & (size >= min_share * scale)
    keep &= _reaches(edges["supplier"].astype(str).to_numpy(), edges["buyer"].astype(str).to_numpy(), keep, sink)
    kept = edges.assign(tonnes=after, before=before)[keep].reset_index(drop=True)
    ends = set(kept["supplier"].astype(str)) | set(kept["buyer"].astype(str)) | {sink}
    return nodes[nodes["node"].astype(str).isin(ends)].reset_index(drop=True), kept


def _reaches(supplier: np.ndarray, buyer: np.ndarray, keep: np.ndarray, sink: str) -> np.ndarray:
    """Which kept edges lie on a path of kept edges to ``sink`` (a flow whose onward part was dropped leads nowhere).

    Examples
    --------
    >>> _reaches(np.array(["a", "b", "x"]), np.array(["b", "z", "y"]), np.array([True, True, True]), "z").tolist()
    [True, True, False]
    """
    reach = {sink}
    while True:
        on = keep & np.isin(buyer, list(reach))
        grown = reach | set(supplier[on])
        if grown == reach:
            return np.asarray(on, dtype=bool)
        reach = grown
