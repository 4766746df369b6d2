"""A networkx view of one year's node and edge tables, for users and reports.

The tables are the source of truth; this view is built on demand (as PyPSA's
``Network.graph()`` is) so that users can explore the network with networkx and
the report module can draw it. The engine never walks it: the maths runs on the
compiled sparse arrays of :mod:`supplychain.engine.compile`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["to_networkx"]


def _plain(value: Any) -> Any:
    """Numpy scalars -> Python scalars, so attributes compare and serialise simply."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def to_networkx(nodes: pd.DataFrame, edges: pd.DataFrame) -> nx.MultiDiGraph:
    """Build a ``networkx.MultiDiGraph`` from a node and an edge table.

    Parameters
    ----------
    nodes : DataFrame
        Node table (columns of :data:`~supplychain.graph.build.NODE_COLUMNS`).
    edges : DataFrame
        Edge table (columns of :data:`~supplychain.graph.build.EDGE_COLUMNS`).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes keyed by node id and added in sorted order; edges keyed by edge id
        (``G.edges[u, v, "flows.cn_us"]``), added in sorted order of edge id.

        Node attributes (every node-table column except ``node``): ``kind``
        (``facility``/``market``/``use``/``stock``), ``country``, ``commodity``,
        ``stage``, ``facility``, ``facility_kind``, ``name``, ``primary`` (t),
        ``capacity`` (t, NaN when unknown), ``production`` (t), ``basis``.

        Edge attributes (every edge-table column except ``supplier`` and
        ``buyer``, which are the endpoints): ``edge`` (the key), ``entity``,
        ``supplier_country``, ``buyer_country``, ``commodity``, ``stage``,
        ``tonnes``, ``kind`` (``trade``/``supply``/``input``/``use``/``stock``),
        ``allocated``. Extra columns of either table are carried over too.

    Raises
    ------
    ValueError
        When an edge names a node that is not in the node table, or edge ids repeat.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["m", "AU:ore"], "kind": ["facility", "market"]})
    >>> edges = pd.DataFrame({"edge": ["supply.m.ore"], "supplier": ["m"], "buyer": ["AU:ore"], "tonnes": [100.0]})
    >>> g = to_networkx(nodes, edges)
    >>> list(g.nodes), g.edges["m", "AU:ore", "supply.m.ore"]["tonnes"]
    (['AU:ore', 'm'], 100.0)
    """
    import networkx as nx

    g: nx.MultiDiGraph = nx.MultiDiGraph()
    known = set(nodes["node"])
    missing = sorted((set(edges["supplier"]) | set(edges["buyer"])) - known)
    if missing:
        msg = f"edges name nodes that are not in the node table: {', '.join(map(str, missing[:10]))}"
        raise ValueError(msg)
    if edges["edge"].duplicated().any():
        dup = sorted(edges.loc[edges["edge"].duplicated(), "edge"].astype(str).unique())
        msg = f"edge ids repeat: {', '.join(dup[:10])}"
        raise ValueError(msg)
    node_cols = [c for c in nodes.columns if c != "node"]
    for rec in nodes.sort_values("node", kind="stable").to_dict("records"):
        g.add_node(rec["node"], **{c: _plain(rec[c]) for c in node_cols})
    edge_cols = [c for c in edges.columns if c not in ("supplier", "buyer")]
    for rec in edges.sort_values("edge", kind="stable").to_dict("records"):
        g.add_edge(rec["supplier"], rec["buyer"], key=rec["edge"], **{c: _plain(rec[c]) for c in edge_cols})
    return g
