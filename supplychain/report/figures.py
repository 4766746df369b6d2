"""The figures of the HTML report: network pictures (baseline and per-variant diff) and charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from supplychain.report.chain import MIN_CHAIN_SHARE, sink_node
from supplychain.report.charts import (
    TargetLine,
    capacity_additions_chart,
    figure_png,
    figure_svg,
    share_chart,
    shortfall_chart,
)
from supplychain.report.dot import picture_tables, render_bytes, to_dot
from supplychain.report.dot_style import country_name, pair_name
from supplychain.report.engine_notes import picture_note
from supplychain.report.headline import source_name, source_phrase
from supplychain.report.inline_svg import inline_svg
from supplychain.report.runs import ScenarioRun
from supplychain.report.tables import _slug

if TYPE_CHECKING:
    from supplychain.api import Result
    from supplychain.schema.model import Scenario

_MAX_GRAPH_VARIANTS: Final = 8
_MAX_SHARE_CHARTS: Final = 1
_CHAIN_NODES: Final = 20
"""A chain picture folds down to this many boxes, so that it fits the page's width at a legible size."""


@dataclass
class _Image:
    """A figure of the report: its SVG (inlined in the page or only linked), and a PNG when asked for."""

    title: str
    caption: str
    stem: str
    svg: bytes
    png: bytes | None = None
    inline: bool = True
    full: str | None = None
    """File name of the whole network the picture is a part of (``images/…svg``), linked under it."""

    def files(self) -> dict[str, bytes]:
        """Return the image files to write into ``images/``, by name."""
        out = {f"{self.stem}.svg": self.svg}
        if self.png is not None:
            out[f"{self.stem}.png"] = self.png
        return out

    def view(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "caption": self.caption,
            "svg": f"{self.stem}.svg",
            "png": f"{self.stem}.png" if self.png is not None else None,
            "markup": inline_svg(self.svg, f"f-{self.stem}", label=self.title) if self.inline else None,
            "full": self.full,
        }


def _source_codes(scenario: Scenario | None, source: str, nodes: pd.DataFrame) -> frozenset[str]:
    """Return the country codes ``source`` stands for among the nodes' countries (a group ``EU``: its members)."""
    from supplychain.metrics.measures import resolve_source

    return resolve_source(scenario, source, nodes["country"].astype(str).unique())


def result_tables(result: Result, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge tables of a simulated year (``simulated``, ``baseline``, ``unit``, ``status``)."""
    g = result.graph(year)
    nodes = pd.DataFrame([{**d, "node": n} for n, d in g.nodes(data=True)])
    edges = pd.DataFrame([{**d, "edge": k, "supplier": u, "buyer": v} for u, v, k, d in g.edges(keys=True, data=True)])
    return nodes, edges


def _traced(nodes: pd.DataFrame, edges: pd.DataFrame, weight: str, source: frozenset[str]) -> pd.Series:
    """Traced share of the ``source`` codes at every node, the edges weighted by column ``weight``."""
    from supplychain.metrics.measures import traced_share_by_node

    e = edges.assign(tonnes=pd.to_numeric(edges[weight], errors="coerce").fillna(0.0))
    return traced_share_by_node(nodes, e, source)


def traced_by_node(scenario: Scenario | None, source: str, nodes: pd.DataFrame, edges: pd.DataFrame,
                   weight: str) -> pd.Series:  # fmt: skip
    """Return the traced share of ``source`` at every node, the edges weighted by column ``weight``.

    What the network pictures are coloured by (``supplychain graph``, :meth:`Result.draw
    <supplychain.api.Result.draw>`, the report's pictures).

    Parameters
    ----------
    scenario : Scenario or None
        The scenario, for its country groups (``None``: the built-in ones).
    source : str
        Source country or group code (``CN``).
    nodes, edges : DataFrame
        One year's tables (:func:`result_tables`).
    weight : {"simulated", "baseline"}
        The edge column that weighs the flows.

    Returns
    -------
    Series
        Node id → traced share in [0, 1] (:func:`~supplychain.metrics.measures.traced_share_by_node`).
    """
    return _traced(nodes, edges, weight, _source_codes(scenario, source, nodes))


@dataclass(frozen=True)
class FigureOptions:
    """What the report draws besides the inline pictures (``report --png``, ``--full-networks``)."""

    png: bool = False
    """Also write every network picture and chart as PNG (for slides); SVG only otherwise."""
    full_networks: bool = False
    """Also write each variant's whole network (changes against the baseline) as a linked SVG file."""


def _network(dot: Any, options: FigureOptions) -> tuple[bytes, bytes | None]:
    return render_bytes(dot, "svg"), (render_bytes(dot, "png") if options.png else None)


def _graph_images(
    run: ScenarioRun, slug: str, year: int, names: Mapping[str, str], pairs: Sequence[tuple[str, str]],
    chain: list[str], chain_of: tuple[str, str] | None = None, options: FigureOptions | None = None,
) -> list[_Image]:
    """Draw the network pictures of a section.

    Inline: the chain of ``chain_of`` (a country's use of a commodity, stages top to bottom
    so that it fits the page), in the baseline and, per variant that changes it, against
    the baseline; without ``chain_of`` (the scenario does not have that use), the same
    pictures of the whole network restricted to ``chain``. Linked: the whole baseline
    network (and, with ``options.full_networks``, each variant's) as SVG files.
    """
    options = options or FigureOptions()
    base = run.results[0]
    nodes, edges = result_tables(base, year)
    source = _source_codes(run.scenario, base.source, nodes)
    focus = {c for c, _ in pairs} | set(source) | ({chain_of[0]} if chain_of else set())
    if chain_of is not None and sink_node(nodes, *chain_of) is None:
        chain_of = None
    who = source_name([r.source for r in run.results], names)
    kw: dict[str, Any] = {"names": names, "focus_countries": focus, "year": year, "source": who}
    part: dict[str, Any] = ({"chain_of": chain_of, "max_nodes": _CHAIN_NODES} if chain_of
                            else {"commodity": chain, "max_nodes": _CHAIN_NODES})  # fmt: skip
    what = (f"what ends in the use of {names.get(chain_of[1], chain_of[1])} in {country_name(chain_of[0], names)}"
            if chain_of else (f"the chain of {', '.join(names.get(k, k) for k in chain)}" if chain
                              else "the whole network"))  # fmt: skip
    before_edges = edges.assign(tonnes=edges["baseline"]).drop(columns=["status", "baseline", "simulated"])
    t_before = _traced(nodes, edges, "baseline", source)
    full_stem = f"{slug}-network-baseline-{year}"
    full = to_dot((nodes, before_edges), traced=t_before, title=f"Whole network, baseline ({run.name})", **kw)
    svg, png = _network(full, options)
    images = [_Image("Whole network, baseline", "", full_stem, svg, png, inline=False)]
    dot = to_dot((nodes, before_edges), traced=t_before, title=f"Baseline ({run.name})", rankdir="TB", **kw, **part)
    svg, png = _network(dot, options)
    caption = (f"{year}, before any policy or deal: {what}. Boxes coloured by traced {who} share, line width by "
               "quantity; hover a box or a flow for its figures.")  # fmt: skip
    if chain_of:
        caption += (f" Flows under {MIN_CHAIN_SHARE:.0%} of the largest at their stage are left out "
                    "(the whole network is linked).")  # fmt: skip
    images.insert(0, _Image("Baseline", caption, f"{slug}-chain-baseline-{year}", svg, png, full=f"{full_stem}.svg"))
    shown = 0
    drawn: dict[str, _Image] = {}
    for res in run.results:
        if shown >= _MAX_GRAPH_VARIANTS:
            break
        n_v, e_v = result_tables(res, year)
        if e_v.empty or (e_v["status"] == "normal").all():
            continue
        tables = picture_tables((n_v, e_v), focus_countries=focus, **part)
        if not tables.changed:
            continue  # the variant changes flows elsewhere, not in this chain
        t_after = _traced(n_v, e_v, "simulated", source)
        t_base = _traced(n_v, e_v, "baseline", source)
        stem = _slug(res.variant, set())
        note = picture_note(res.mode)  # the flows of a rebalance run: one of several optima
        dot = to_dot(tables, traced=t_after, compare_traced=t_base, title=f"{res.variant} ({run.name})",
                     rankdir="TB", names=names, year=year, source=who, footnote=note)  # fmt: skip
        key = dot.source.replace(res.variant, "")
        if key in drawn:  # the same picture as an earlier variant's: said in that one's title
            drawn[key].title += f" (the same for {res.variant})"
            continue
        full_name = None
        if options.full_networks:
            full = to_dot((n_v, e_v), traced=t_after, compare_traced=t_base, title=f"{res.variant} ({run.name})",
                          footnote=note, **kw)  # fmt: skip
            svg, png = _network(full, options)
            images.append(_Image(f"Whole network, {res.variant}", "", f"{slug}-network-{stem}-{year}", svg, png,
                                 inline=False))  # fmt: skip
            full_name = f"{slug}-network-{stem}-{year}.svg"
        svg, png = _network(dot, options)
        drawn[key] = _Image(
            f"{res.variant}: changes against the baseline",
            f"{year}, variant “{res.variant}”, {what}: dashed blue = blocked, green = deal or new, "
            "purple = re-routed or increased; labels read before → after.",
            f"{slug}-chain-{stem}-{year}", svg, png, full=full_name)  # fmt: skip
        images.insert(shown + 1, drawn[key])
        shown += 1
    return images


def _chart(fig: Any, title: str, caption: str, stem: str, png: bool = False) -> _Image:
    return _Image(title, caption, stem, figure_svg(fig).encode("utf-8"), figure_png(fig) if png else None)


def share_caption(who: str, targets_drawn: int = 0, targets_elsewhere: int = 0) -> str:
    """Return the caption of a share chart (:func:`~supplychain.report.charts.share_chart`): which line is which.

    Examples
    --------
    >>> share_caption("China", 1)[:52]
    'Thick line: exposed share, material from China at an'
    """
    text = (f"Thick line: exposed share, material from {source_phrase(who)} at any upstream stage plus demand left "
            "unmet, of planned use (the tables' first column; 100 % when nothing arrives). Thin line: traced "
            "share, of what still arrives (0 % or n/a under a ban that starves the country). Shaded below the thick "
            "line: its unmet part (shortfall share); no band, nothing unmet. Dashed: direct share, first-hop imports "
            "only.")
    if targets_drawn:
        text += " Dotted: the scenario's target on the exposed share."
    if targets_elsewhere:
        text += f" {targets_elsewhere} target(s) on other measures of this pair: see Targets."
    return text


def capacity_variant(capacity: pd.DataFrame, headline: str) -> tuple[str, str]:
    """Choose the variant the capacity chart draws and say which: the headline variant, if it adds capacity.

    ``capacity``: the utilisation rows with a finite ``capacity`` (``variant, year, capacity``);
    ``headline``: the section's first variant, whose figures the page leads with. A variant that
    adds more is named in the caption, not drawn: drawing it (review 4, R-10e: path_to_2030's
    ``full_ban_all_deals_and_vulcan``, 25k t/yr of magnet plants, 10k of them in no headline
    variant) showed a build-out the headline does not have.

    Examples
    --------
    >>> cap = pd.DataFrame({"variant": ["base", "base", "big", "big"], "year": [2024, 2030] * 2,
    ...                     "capacity": [10.0, 15.0, 10.0, 25.0]})
    >>> print(capacity_variant(cap, "base")[1])
    Nameplate capacity added against the base year in variant “base” (the headline variant). Variant “big” adds more.
    >>> capacity_variant(cap.assign(capacity=[10.0, 10.0, 10.0, 25.0]), "base")[0]
    'big'
    """
    per_variant = capacity.groupby(["variant", "year"])["capacity"].sum().unstack("year")
    gain = (per_variant.iloc[:, -1] - per_variant.iloc[:, 0]).sort_values(ascending=False, kind="stable")
    largest = str(gain.index[0])
    variant = headline if headline in gain.index and abs(float(gain[headline])) > 1e-9 else largest
    caption = (f"Nameplate capacity added against the base year in variant “{variant}” "
               + ("(the headline variant)." if variant == headline else "(the largest additions; the headline variant "
                  f"“{headline}” adds none)."))  # fmt: skip
    if variant != largest and float(gain[largest]) > float(gain[variant]) + 1e-9:
        caption += f" Variant “{largest}” adds more."
    return variant, caption


def _chart_images(run: ScenarioRun, slug: str, names: Mapping[str, str], measures: pd.DataFrame,
                  shortfall: pd.DataFrame, utilisation: pd.DataFrame,
                  pairs: Sequence[tuple[str, str]], png: bool = False) -> list[_Image]:  # fmt: skip
    images = []
    targets = run.scenario.targets if run.scenario is not None else {}
    who = source_name([r.source for r in run.results], names)
    for country, commodity in pairs[:_MAX_SHARE_CHARTS]:
        # the thick line is the exposed share (the page's first column, unmet demand counted): the targets that
        # read it are drawn on it; a target on another measure is in the Targets table (share_chart refuses it)
        lines = [TargetLine.of(t) for t in targets.values() if t.country == country and t.commodity == commodity]
        drawn = [line for line in lines if line.metric == "exposed_share"]
        fig = share_chart(measures, country=country, commodity=commodity, source_country=run.results[0].source,
                          targets=drawn, names=names, metric="exposed_share")  # fmt: skip
        images.append(
            _chart(
                fig,
                f"{who} share: {pair_name(country, commodity, names)}",
                share_caption(who, len(drawn), len(lines) - len(drawn)),
                f"{slug}-share-{_slug(country, set())}-{_slug(commodity, set())}",
                png,
            )
        )
    fig = shortfall_chart(shortfall, names=names)
    images.append(_chart(fig, "Shortfall", "Share of final demand not met, by year.", f"{slug}-shortfall", png))
    if not utilisation.empty and "capacity" in utilisation.columns:
        cap = utilisation
        cap = cap[np.isfinite(pd.to_numeric(cap["capacity"], errors="coerce"))]
        if not cap.empty:
            variant, caption = capacity_variant(cap, run.results[0].variant)
            one = cap[cap["variant"] == variant]
            one = one.groupby(["year", "country", "commodity", "unit"], as_index=False)["capacity"].sum()
            fig = capacity_additions_chart(one, names=names, title=f"Capacity added since the base year ({variant})")
            images.append(_chart(fig, "Capacity additions", caption, f"{slug}-capacity", png))
    return images


