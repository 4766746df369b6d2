"""Graphviz pictures of the supply network, coloured by the source country's traced share.

:func:`to_dot` turns one year's node and edge tables (or their networkx view)
into a :class:`graphviz.Digraph`; :func:`render` writes it as ``.svg``, ``.png``
or ``.dot``. The picture is meant for a briefing reader:

* **Stages read left to right.** One column band per stage, in the order ore →
  oxide → metal → magnet → product, then final use/demand. Inside a stage the
  plants come first, then the country pools ("markets") that only export, then
  the pools that import from other pools, each as a ``rank=same`` column (so a
  stage is at most three columns wide; a re-export between importers is drawn
  inside its column without pulling the layout apart).
* **Colour = exposure.** Nodes are filled by their traced share of the source country
  (docs/domain.md measure 3: the share of a node's material mined or processed in the
  source — China in the bundled scenarios — at any upstream stage; labels name it)
  on a six-step yellow → dark-red scale whose breaks include the
  25 % policy target; a legend explains colours and line styles.
* **Width = tonnes.** Edge pen width grows with the square root of tonnes
  (so a flow 4× larger is drawn 2× wider), clamped to 0.8–8 pt. Flows are
  labelled with k-formatted tonnes; beyond 40 flows only the ones that changed,
  are 5 % of the largest flow or bring a quarter of their buyer's supply are
  (every flow keeps a tooltip with its tonnes).
* **Status = line style.** Blocked flows are dashed blue (drawn at their
  baseline width so the loss is visible), reduced flows light blue, re-routed
  (increased) flows purple, deal-enabled and new flows bold green.
* **Legible at any size.** Above ``max_nodes`` nodes, plants are folded into
  their country's pool for that stage ("US · NdPr oxide, incl. 2 plants"), then
  nodes whose every flow is a small share (< x %, x raised step by step from 1 %)
  of the partner's flow of that commodity are folded into one "Other" node per
  stage, kind and commodity.

Before/after
------------
With ``compare_to`` (the baseline graph) or an edge table that carries baseline
tonnes and a ``status`` column (``Result.flows``), the picture is a **diff view**:
one network, drawn at the simulated state, with every change marked (blocked,
reduced, re-routed, new, deal) and node labels reading ``before → after``. We
chose this over two pictures side by side: the eye does not have to find the
same node twice, and the changes are exactly what is highlighted. The untouched
baseline is drawn by calling :func:`to_dot` on the baseline alone.

Where the pieces live
---------------------
:mod:`~supplychain.report.graph_tables` (input tables), :mod:`~supplychain.report.fold`
(folding), :mod:`~supplychain.report.layout` (stage bands and columns),
:mod:`~supplychain.report.labels` (labels, tooltips, key) and
:mod:`~supplychain.report.dot_style` (colours, line styles, number formats; its
public names are re-exported here).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final, NamedTuple

import graphviz
import numpy as np
import pandas as pd

from supplychain.errors import SupplyChainError
from supplychain.io.atomic import atomic_write
from supplychain.report.chain import chain_to, sink_node
from supplychain.report.dot_style import NO_DATA_FILL as NO_DATA_FILL  # re-exported
from supplychain.report.dot_style import (
    SHARE_BINS,
    STATUS_STYLES,
    ShareBin,
    _pen,
    country_name,
    format_change,
    format_share,
    format_tonnes,
    names_of,
    share_bin,
)
from supplychain.report.escape import dot_quote, format_attrs
from supplychain.report.fold import _aggregate_edges, _display_values, _fold, _Group
from supplychain.report.graph_tables import (
    GraphLike,
    _graph_tables,
    _merge_compare,
    _normalise_edges,
    _normalise_nodes,
    _restrict_to_commodity,
    _traced_map,
    commodity_unit,
)
from supplychain.report.headline import SOME_SOURCE
from supplychain.report.labels import _edge_label, _heading, _labelled, _legend, _node_attrs
from supplychain.report.layout import _columns, _stage_bands

__all__ = [
    "SHARE_BINS",
    "STATUS_STYLES",
    "GraphvizNotFoundError",
    "PictureTables",
    "RenderError",
    "ShareBin",
    "country_name",
    "format_change",
    "format_share",
    "format_tonnes",
    "names_of",
    "picture_tables",
    "render",
    "render_bytes",
    "share_bin",
    "to_dot",
]

_FONT: Final = "Helvetica"


def to_dot(
    graph: GraphLike,
    *,
    traced: pd.Series | Mapping[str, float] | None,
    title: str,
    year: int | None = None,
    commodity: str | Iterable[str] | None = None,
    compare_to: GraphLike | None = None,
    compare_traced: pd.Series | Mapping[str, float] | None = None,
    compare_label: str | None = None,
    max_nodes: int = 60,
    names: Mapping[str, str] | None = None,
    focus_countries: Iterable[str] = (),
    chain_of: tuple[str, str] | None = None,
    rankdir: str = "LR",
    source: str = SOME_SOURCE,
    footnote: str | None = None,
) -> graphviz.Digraph:
    """Draw one year's supply network as a Graphviz digraph.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or (DataFrame, DataFrame) or PictureTables
        The network: the node and edge tables of ``docs/architecture.md`` (or their
        networkx view). Edges need ``supplier``, ``buyer`` and tonnes (``tonnes``,
        or ``tonnes_simulated``/``simulated``); ``commodity`` and ``edge`` are used
        when present. An edge table with a baseline column (``tonnes_baseline``,
        ``baseline``) and a ``status`` column (``Result.flows``) is drawn as a diff. Or what
        :func:`picture_tables` kept of one, drawn as it is (``commodity``, ``compare_to``,
        ``max_nodes``, ``focus_countries`` and ``chain_of`` are then not read).
    traced : Series or mapping or None
        Traced share of the source country per node id, in [0, 1]; ``None`` draws every node
        uncoloured ("not computed").
    title : str
        Heading drawn above the picture (escaped).
    year : int, optional
        Year shown under the title.
    commodity : str or iterable of str, optional
        Keep only the chain of this commodity (or these): its nodes and
        everything upstream and downstream of them.
    compare_to : networkx.MultiDiGraph or (DataFrame, DataFrame), optional
        The baseline network; edges are matched by their ``edge`` id and the
        picture becomes a diff view (see the module notes).
    compare_traced : Series or mapping, optional
        Baseline traced shares, for ``before → after`` node labels.
    compare_label : str, optional
        What the "before" state is, for the subtitle (default "the baseline").
    max_nodes : int, default 60
        Fold nodes (plants into country pools, then small flows into "Other")
        until at most this many are drawn. It is a target: a node carrying 20 %
        or more of its commodity's tonnes, or in ``focus_countries``, is never
        folded into "Other", and "Other" never stands for a single node.
    names : mapping, optional
        Display names of facility and commodity ids (``{"mountain_pass":
        "Mountain Pass", "ndpr_oxide": "NdPr oxide"}``) and of country/region codes;
        a ``name`` node column wins for nodes.
    focus_countries : iterable of str, optional
        Countries whose nodes are never folded into "Other" (e.g. the countries
        named in targets).
    chain_of : (str, str), optional
        ``(country, commodity)``: draw only the part of every flow that ends in that
        country's final use of that commodity (its pool when it has no final use),
        :func:`supplychain.report.chain.chain_to`; flows and nodes then read the
        quantities that end there.
    rankdir : {"LR", "TB"}, default "LR"
        Stages read left to right, or top to bottom (a narrow picture that fits a page's
        width: the report's chain pictures).
    source : str, default "source"
        Display name of the country (or group) ``traced`` is the share of, for the labels,
        tooltips and key ("40 % Japan", "traced Japan share"):
        :func:`~supplychain.report.headline.source_name`.
    footnote : str, optional
        A line under the heading's key and folding notes (escaped): a ``rebalance`` run's
        :data:`~supplychain.report.engine_notes.ONE_OPTIMUM_PICTURE`
        (:func:`~supplychain.report.engine_notes.picture_note`).

    Returns
    -------
    graphviz.Digraph
        The picture; its ``.source`` is deterministic (nodes, edges and
        attributes sorted) and every user string in it is escaped.

    Raises
    ------
    TypeError
        If ``graph`` is neither a networkx graph nor a pair of DataFrames.
    ValueError
        If a required column is missing, ``max_nodes`` is below 4, ``rankdir`` is unknown, or
        ``commodity`` (or the country's use of ``chain_of``) is not in the graph.

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"node": ["mine", "CN:ore", "CN:ore:use"], "kind": ["facility", "market", "use"],
    ...                       "country": ["CN"] * 3, "commodity": ["ore"] * 3, "stage": ["ore"] * 3})
    >>> edges = pd.DataFrame({"edge": ["s", "u"], "supplier": ["mine", "CN:ore"],
    ...                       "buyer": ["CN:ore", "CN:ore:use"], "commodity": ["ore", "ore"], "tonnes": [10.0, 10.0]})
    >>> dot = to_dot((nodes, edges), traced={"mine": 1.0, "CN:ore": 1.0, "CN:ore:use": 1.0}, title="Toy")
    >>> '"mine" -> "CN:ore"' in dot.source
    True
    """
    if rankdir not in ("LR", "TB"):
        msg = f"rankdir must be 'LR' or 'TB', got {rankdir!r}"
        raise ValueError(msg)
    names = dict(names or {})
    tables = graph if isinstance(graph, PictureTables) else picture_tables(
        graph, commodity=commodity, compare_to=compare_to, max_nodes=max_nodes, focus_countries=focus_countries,
        chain_of=chain_of)  # fmt: skip
    all_nodes, nodes, edges, chain, groups, notes, drawn_edges, diff, chain_of = tables
    unit = commodity_unit(all_nodes)  # labels in each commodity's unit (kg for gallium)
    if "name" in all_nodes.columns:
        for n, nm in zip(all_nodes["node"], all_nodes["name"], strict=True):
            if nm:
                names.setdefault(n, nm)
    traced_after = _traced_map(traced)
    traced_before = _traced_map(compare_traced) if compare_traced is not None else traced_after
    values = _display_values(groups, nodes, edges, traced_after, traced_before, diff)
    cols = _columns(groups, drawn_edges)
    diff_text = None
    if diff:
        against = compare_label or "the baseline"
        diff_text = f"changes against {against}" if tables.changed else f"no flow changes against {against}"

    body: list[str] = []
    body.append(
        "\tgraph"
        + format_attrs(
            {
                "rankdir": rankdir,
                "newrank": True,
                "splines": "spline",
                "nodesep": 0.18,
                "ranksep": 0.55,
                "pad": 0.25,
                "fontname": _FONT,
                "labelloc": "t",
                "labeljust": "l",
                "label": _heading(
                    title, year, chain, diff_text, names, chain_of,
                    _legend(diff, set(drawn_edges["status"]), bool(traced_after), source), notes, footnote,
                ),
                "bgcolor": "white",
                "outputorder": "edgesfirst",
            }
        )
    )
    body.append("\tnode" + format_attrs({"fontname": _FONT, "fontsize": 10, "shape": "box", "margin": "0.08,0.04"}))
    body.append("\tedge" + format_attrs({"fontname": _FONT, "fontsize": 8, "arrowsize": 0.6}))

    # stage bands: one cluster per stage, one rank=same column per sub-column
    node_attrs = {g: _node_attrs(grp, values[g], names, diff, unit.get(grp.commodity, "t"), source)
                  for g, grp in groups.items()}
    body.extend(_stage_bands(cols, node_attrs, labeljust="l" if rankdir == "TB" else "c"))


    # flows
    sizes = np.maximum(drawn_edges["tonnes"].to_numpy(), np.nan_to_num(drawn_edges["before"].to_numpy()))
    tmax = float(sizes.max()) if len(sizes) else 0.0
    labelled = _labelled(drawn_edges.assign(size=sizes))
    for row in drawn_edges.sort_values(["supplier", "buyer", "commodity", "status"]).to_dict("records"):
        sup, buy, status = str(row["supplier"]), str(row["buyer"]), str(row["status"])
        st = STATUS_STYLES.get(status, STATUS_STYLES["normal"])
        t_after, t_before = float(row["tonnes"]), float(row["before"])
        width_t = t_before if status == "blocked" and math.isfinite(t_before) else t_after
        label = _edge_label(t_after, t_before, status, diff, unit.get(str(row["commodity"]), "t"))
        attrs: dict[str, object] = {
            "color": st.color,
            "fontcolor": st.color if status != "normal" else "#404040",
            "penwidth": _pen(width_t, tmax),
            "style": st.style if st.style != "solid" else None,
            "tooltip": f"{sup} → {buy}: {row['commodity']} · {label}",
        }
        shown = label if labelled.get((sup, buy, str(row["commodity"]), status), True) else None
        if cols[sup] >= cols[buy]:
            # a flow inside a column or against the stage order: it must not shape the ranks, and its label
            # goes on as an xlabel (dot's router fails on labelled flat edges inside clusters)
            attrs["constraint"] = False
            attrs["xlabel"] = shown
        else:
            attrs["label"] = shown
        body.append(f"\t{dot_quote(sup)} -> {dot_quote(buy)}" + format_attrs(attrs))

    dot = graphviz.Digraph(name="supplychain")
    dot.body.extend(line + "\n" for line in body)
    return dot


class PictureTables(NamedTuple):
    """What a picture keeps of a network (:func:`picture_tables`), for :func:`to_dot` to draw."""

    all_nodes: pd.DataFrame
    """Every node of the network (normalised)."""
    nodes: pd.DataFrame
    """The nodes of the chain drawn (normalised), before folding."""
    edges: pd.DataFrame
    """Its flows (normalised), before folding."""
    chain: list[str]
    """The commodities the picture is restricted to (empty for a country's chain or the whole network)."""
    groups: dict[str, _Group]
    """The boxes drawn, by id."""
    notes: list[str]
    """What folding did, for the heading."""
    drawn_edges: pd.DataFrame
    """The flows between boxes, summed per (supplier, buyer, commodity, status)."""
    diff: bool
    """Whether the picture is a diff (a baseline given, or carried by the edges)."""
    chain_of: tuple[str, str] | None
    """The country's use the picture draws what ends in, if one was asked for."""

    @property
    def changed(self) -> bool:
        """Whether the picture is a diff with a blocked, reduced, re-routed, new or deal flow drawn.

        A change elsewhere in the network, or one too small to be kept in ``chain_of``'s
        chain, is not drawn, and the picture's subtitle then reads "no flow changes
        against the baseline".
        """
        return self.diff and bool(len(self.drawn_edges)) and bool((self.drawn_edges["status"] != "normal").any())


def _tables(graph: GraphLike, compare_to: GraphLike | None) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """Normalised node and edge tables of ``graph`` (merged with ``compare_to``) and whether they are a diff."""
    raw_nodes, raw_edges = _graph_tables(graph)
    edges = _normalise_edges(raw_edges, with_before=compare_to is None)
    diff = compare_to is not None or bool(edges["before"].notna().any())
    if compare_to is not None:
        base_nodes, base_edges = _graph_tables(compare_to)
        before = _normalise_edges(base_edges, with_before=False)
        edges = _merge_compare(edges, before)
        raw_nodes = pd.concat([base_nodes, raw_nodes], ignore_index=True)
    return _normalise_nodes(raw_nodes, edges), edges, diff


def picture_tables(
    graph: GraphLike,
    *,
    commodity: str | Iterable[str] | None = None,
    compare_to: GraphLike | None = None,
    max_nodes: int = 60,
    focus_countries: Iterable[str] = (),
    chain_of: tuple[str, str] | None = None,
) -> PictureTables:
    """Keep the flows a picture draws: non-zero or marked, of the chain asked for, folded to ``max_nodes`` boxes.

    The arguments are those of :func:`to_dot`, which draws the result (given it as ``graph``).

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"node": ["mine", "CN:ore"], "kind": ["facility", "market"],
    ...                       "country": ["CN"] * 2, "commodity": ["ore"] * 2, "stage": ["ore"] * 2})
    >>> edges = pd.DataFrame({"edge": ["s"], "supplier": ["mine"], "buyer": ["CN:ore"], "commodity": ["ore"],
    ...                       "simulated": [4.0], "baseline": [10.0], "status": ["reduced"]})
    >>> picture_tables((nodes, edges)).changed, picture_tables((nodes, edges.assign(status="normal"))).changed
    (True, False)
    """
    all_nodes, edges, diff = _tables(graph, compare_to)
    nodes = all_nodes
    if max_nodes < 4:
        msg = f"max_nodes must be at least 4, got {max_nodes}"
        raise ValueError(msg)
    # drop flows that are zero in both states and not marked
    size = np.maximum(edges["tonnes"].to_numpy(), np.nan_to_num(edges["before"].to_numpy()))
    edges = edges[(size > 0) | (edges["status"] != "normal")].sort_values("edge", kind="stable").reset_index(drop=True)
    chain = [commodity] if isinstance(commodity, str) else sorted(set(commodity or ()))
    if chain:
        nodes, edges = _restrict_to_commodity(nodes, edges, chain)
    if chain_of is not None:
        sink = sink_node(nodes, *chain_of)
        if sink is None:
            msg = f"{chain_of[0]} has no use or pool of {chain_of[1]!r} in the graph"
            raise ValueError(msg)
        nodes, edges = chain_to(nodes, edges, sink)
        chain = []
    groups, mapping, notes = _fold(nodes, edges, max_nodes, frozenset(focus_countries))
    drawn_edges = _aggregate_edges(edges, mapping)
    if len(drawn_edges):  # a node without any drawn flow (a plant not built yet) only adds clutter
        linked = set(drawn_edges["supplier"]) | set(drawn_edges["buyer"])
        groups = {g: grp for g, grp in groups.items() if g in linked}
    return PictureTables(all_nodes, nodes, edges, chain, groups, notes, drawn_edges, diff, chain_of)


# --------------------------------------------------------------------- render
class RenderError(SupplyChainError, RuntimeError):
    """Graphviz failed to render a picture, or the output format is not supported."""


class GraphvizNotFoundError(RenderError):
    """The Graphviz ``dot`` program is not installed."""


_FORMATS: Final = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


def render(dot: graphviz.Digraph | str, path: str | os.PathLike[str], *, timeout: float = 120.0) -> Path:
    """Write a picture to ``path``; the format follows the suffix (``.svg``, ``.png``, ``.dot``).

    The file is written atomically (a temporary file beside it, then renamed), so a
    failed render never leaves a half-written image.

    Parameters
    ----------
    dot : graphviz.Digraph or str
        The picture (or DOT source text).
    path : path-like
        Output file; its suffix picks the format.
    timeout : float, default 120
        Seconds to wait for ``dot``.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    RenderError
        If the suffix is not one of ``.svg``, ``.png``, ``.dot``/``.gv``, or ``dot`` fails.
    GraphvizNotFoundError
        If an image is asked for and the ``dot`` program is not on ``PATH``.
    """
    out = Path(path)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        msg = f"cannot tell the image format from {out.name!r}: use a .svg, .png or .dot file name"
        raise RenderError(msg)
    data = render_bytes(dot, fmt, timeout=timeout)
    return atomic_write(out, lambda tmp: tmp.write_bytes(data))


def render_bytes(dot: graphviz.Digraph | str, fmt: str, *, timeout: float = 120.0) -> bytes:
    """Render a picture in memory as ``svg``, ``png`` or ``dot`` bytes.

    Raises
    ------
    RenderError
        Unknown format, or ``dot`` failed.
    GraphvizNotFoundError
        An image is asked for and ``dot`` is not on ``PATH``.
    """
    source = dot.source if isinstance(dot, graphviz.Digraph) else str(dot)
    if fmt == "dot":
        return source.encode("utf-8")
    if fmt not in ("svg", "png"):
        msg = f"unknown image format {fmt!r}: use svg, png or dot"
        raise RenderError(msg)
    try:
        return _run_dot(source, fmt, timeout)
    except GraphvizNotFoundError:
        raise
    except RenderError as first:
        # Graphviz's spline router has known failures on some cluster layouts; retry without clusters
        # and with every flow label placed after layout, before giving up.
        try:
            return _run_dot(_simplified(source), fmt, timeout)
        except RenderError:
            raise first from None


def _outside_quotes(line: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` where it occurs outside quoted strings and HTML-like labels."""
    out: list[str] = []
    i, quoted, depth = 0, False, 0
    while i < len(line):
        c = line[i]
        if quoted:
            out.append(c)
            if c == "\\" and i + 1 < len(line):
                out.append(line[i + 1])
                i += 1
            elif c == '"':
                quoted = False
        elif depth:
            out.append(c)
            depth += 1 if c == "<" else -1 if c == ">" else 0
        elif c == '"':
            quoted = True
            out.append(c)
        elif c == "<":
            depth = 1
            out.append(c)
        elif line.startswith(old, i):
            out.append(new)
            i += len(old)
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _simplified(source: str) -> str:
    """Rewrite DOT source for the fallback layout: plain subgraphs for clusters, xlabels for flow labels."""
    lines = []
    for line in source.splitlines(keepends=True):
        if line.startswith('\tsubgraph "cluster_'):
            line = line.replace('subgraph "cluster_', 'subgraph "stage_', 1)
        elif " -> " in line:
            line = _outside_quotes(_outside_quotes(line, " label=", " xlabel="), "[label=", "[xlabel=")
        lines.append(line)
    return "".join(lines)


def _run_dot(source: str, fmt: str, timeout: float) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        msg = (
            "the Graphviz 'dot' program is needed to draw images but was not found on PATH; "
            "install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz) "
            "or write a .dot file instead"
        )
        raise GraphvizNotFoundError(msg)
    try:
        proc = subprocess.run(
            [exe, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"Graphviz 'dot' did not finish within {timeout:g} s"
        raise RenderError(msg) from exc
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not proc.stdout or "Error:" in err or "failed" in err:
        msg = f"Graphviz 'dot' failed (exit {proc.returncode}): {err[:2000] or 'no output'}"
        raise RenderError(msg)
    return proc.stdout
