"""Layout of the network pictures: stage bands read left to right, columns inside a stage.

One column band per stage, in the order ore → oxide → metal → magnet → product,
then final use/demand. Inside a stage the plants come first, then the country
pools that only export, then the pools that import from other pools, each as a
``rank=same`` column (so a stage is at most three columns wide).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Final

import networkx as nx
import pandas as pd

from supplychain.report.escape import Html, dot_quote, format_attrs, html_text
from supplychain.report.fold import _Group
from supplychain.schema.types import STAGES

_STAGE_TITLES: Final = {
    "ore": "Ore & concentrate",
    "oxide": "Separated oxides",
    "metal": "Metal & alloy",
    "magnet": "Magnets",
    "product": "Products",
    "use": "Final use",
}
_MAX_TRADE_DEPTH: Final = 1
"""Pools are drawn in at most two columns per stage: those that only export, and those that import."""


def _stage_index(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else len(STAGES) - 1


def _columns(groups: Mapping[str, _Group], edges: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Column of each drawn node: (stage index, sub-column); final use last."""
    col: dict[str, tuple[int, int]] = {}
    trade = nx.DiGraph()
    for g, grp in groups.items():
        if grp.kind == "use":
            col[g] = (len(STAGES), 0)
        elif grp.kind in ("facility", "stock"):
            col[g] = (_stage_index(grp.stage), 0)
        else:
            trade.add_node(g)
    for row in edges.itertuples(index=False):
        s, b = str(row.supplier), str(row.buyer)
        if s in trade and b in trade and groups[s].stage == groups[b].stage:
            trade.add_edge(s, b)
    # drop back edges (cycles such as re-exports) in a deterministic DFS, then layer by longest path
    dag = nx.DiGraph()
    dag.add_nodes_from(sorted(trade.nodes))
    state: dict[str, int] = {}
    for root in sorted(trade.nodes):
        if root in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(trade.successors(root))))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                continue  # back edge
            dag.add_edge(node, nxt)
            if nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(trade.successors(nxt)))))
    depth: dict[str, int] = {}
    for n in nx.lexicographical_topological_sort(dag):
        depth[n] = max((depth[p] + 1 for p in dag.predecessors(n)), default=0)
    for g in trade.nodes:
        col[g] = (_stage_index(groups[g].stage), 1 + min(depth[g], _MAX_TRADE_DEPTH))
    return col



def _stage_bands(cols: Mapping[str, tuple[int, int]], node_attrs: Mapping[str, Mapping[str, object]],
                 labeljust: str = "c") -> list[str]:  # fmt: skip
    """DOT lines of the stage bands: one cluster per stage, one ``rank=same`` column per sub-column.

    Invisible anchor nodes, chained left to right, keep the columns in order. ``labeljust``
    places each band's title (``"l"`` in a top-to-bottom picture, whose flows run through
    the middle of the bands).
    """
    body: list[str] = []
    by_stage: dict[int, dict[int, list[str]]] = {}
    for g in sorted(cols):
        si, sub = cols[g]
        by_stage.setdefault(si, {}).setdefault(sub, []).append(g)
    anchors: list[str] = []
    for si in sorted(by_stage):
        stage = STAGES[si] if si < len(STAGES) else "use"
        body.append(f"\tsubgraph {dot_quote(f'cluster_{stage}')} {{")
        body.append(
            "\t\tgraph"
            + format_attrs(
                {
                    "label": Html(f'<B>{html_text(_STAGE_TITLES.get(stage, stage))}</B>'),
                    "style": "filled,rounded",
                    "fillcolor": "#f4f4f4",
                    "color": "#e0e0e0",
                    "fontsize": 11,
                    "fontcolor": "#525252",
                    "labeljust": labeljust,
                }
            )
        )
        for sub in sorted(by_stage[si]):
            anchor = f"__col_{si}_{sub}"
            anchors.append(anchor)
            members = " ".join(dot_quote(m) + ";" for m in by_stage[si][sub])
            body.append(f"\t\t{{rank=same; {dot_quote(anchor)}; {members}}}")
            for g in by_stage[si][sub]:
                body.append("\t\t" + dot_quote(g) + format_attrs(node_attrs[g]))
        body.append("\t}")
    for anchor in anchors:
        body.append("\t" + dot_quote(anchor) + format_attrs({"shape": "point", "style": "invis", "width": 0.01}))
    for left, right in itertools.pairwise(anchors):
        body.append(f"\t{dot_quote(left)} -> {dot_quote(right)}" + format_attrs({"style": "invis", "weight": 10}))
    return body
