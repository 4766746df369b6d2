"""The figures of the HTML report: network pictures (baseline and per-variant diff) and charts."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from supplychain.report.charts import (
    TargetLine,
    capacity_additions_chart,
    figure_png,
    figure_svg,
    share_chart,
    shortfall_chart,
)
from supplychain.report.dot import render_bytes, to_dot
from supplychain.report.runs import ScenarioRun
from supplychain.report.tables import _pair_name, _slug

if TYPE_CHECKING:
    from supplychain.api import Result

_MAX_GRAPH_VARIANTS: Final = 8
_MAX_SHARE_CHARTS: Final = 3
_PAGE_PX: Final = 1150
"""Width of the page's content column, in CSS pixels."""
_MIN_ZOOM: Final = 0.7
"""Network pictures are never shown below this share of their natural size (they scroll instead)."""

def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass
class _Image:
    title: str
    caption: str
    stem: str
    svg: bytes
    png: bytes
    wide: bool = False

    def display_width(self) -> int | None:
        """Pixel width to show a wide picture at: at least 70 % of natural size, so labels stay legible."""
        if not self.wide:
            return None
        m = re.search(rb'<svg[^>]*\swidth="([\d.]+)pt"', self.svg[:4000])
        if m is None:
            return None
        natural = float(m.group(1)) * 96 / 72
        return round(max(min(natural, _PAGE_PX), natural * _MIN_ZOOM))

    def view(self) -> dict[str, Any]:
        return {
            "width": self.display_width(),
            "title": self.title,
            "caption": self.caption,
            "svg": f"{self.stem}.svg",
            "png": f"{self.stem}.png",
            "data_uri": _data_uri(self.svg, "image/svg+xml"),
            "wide": self.wide,
        }


def _source_codes(run: ScenarioRun, nodes: pd.DataFrame) -> frozenset[str]:
    from supplychain.metrics.measures import resolve_source

    src = run.results[0].source
    return resolve_source(run.scenario, src, nodes["country"].astype(str).unique())


def result_tables(result: Result, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge tables of a simulated year (``simulated``, ``baseline``, ``unit``, ``status``)."""
    g = result.graph(year)
    nodes = pd.DataFrame([{**d, "node": n} for n, d in g.nodes(data=True)])
    edges = pd.DataFrame([{**d, "edge": k, "supplier": u, "buyer": v} for u, v, k, d in g.edges(keys=True, data=True)])
    return nodes, edges


def _traced(nodes: pd.DataFrame, edges: pd.DataFrame, weight: str, source: frozenset[str]) -> pd.Series:
    from supplychain.metrics.measures import traced_share_by_node

    e = edges.assign(tonnes=pd.to_numeric(edges[weight], errors="coerce").fillna(0.0))
    return traced_share_by_node(nodes, e, source)


def _graph_images(
    run: ScenarioRun, slug: str, year: int, names: Mapping[str, str], pairs: Sequence[tuple[str, str]], chain: list[str]
) -> list[_Image]:
    base = run.results[0]
    nodes, edges = result_tables(base, year)
    source = _source_codes(run, nodes)
    focus = {c for c, _ in pairs} | set(source)
    before_edges = edges.assign(tonnes=edges["baseline"]).drop(columns=["status", "baseline", "simulated"])
    t_before = _traced(nodes, edges, "baseline", source)
    images = []
    dot = to_dot((nodes, before_edges), traced=t_before, title=f"{run.name}: baseline network", year=year,
                 names=names, focus_countries=focus, commodity=chain)  # fmt: skip
    images.append(
        _Image(
            "Baseline network",
            f"{year}, before any policy or deal: nodes coloured by traced China share, line width by quantity"
            + (f"; the chain of {', '.join(names.get(k, k) for k in chain)} (the targets' commodities)."
               if chain else "."),
            f"{slug}-network-baseline-{year}",
            render_bytes(dot, "svg"),
            render_bytes(dot, "png"),
            wide=True,
        )
    )
    shown = 0
    for res in run.results:
        if shown >= _MAX_GRAPH_VARIANTS:
            break
        n_v, e_v = result_tables(res, year)
        if e_v.empty or (e_v["status"] == "normal").all():
            continue
        t_after = _traced(n_v, e_v, "simulated", source)
        t_base = _traced(n_v, e_v, "baseline", source)
        dot = to_dot((n_v, e_v), traced=t_after, compare_traced=t_base, title=f"{run.name}: {res.variant}",
                     year=year, names=names, focus_countries=focus, commodity=chain)  # fmt: skip
        images.append(
            _Image(
                f"{res.variant}: changes against the baseline",
                f"{year}, variant “{res.variant}”: dashed blue = blocked, green = deal or new, "
                "purple = re-routed; labels read before → after.",
                f"{slug}-network-{_slug(res.variant, set())}-{year}",
                render_bytes(dot, "svg"),
                render_bytes(dot, "png"),
                wide=True,
            )
        )
        shown += 1
    return images


def _chart(fig: Any, title: str, caption: str, stem: str) -> _Image:
    return _Image(title, caption, stem, figure_svg(fig).encode("utf-8"), figure_png(fig))


def _chart_images(run: ScenarioRun, slug: str, names: Mapping[str, str], measures: pd.DataFrame,
                  shortfall: pd.DataFrame, utilisation: pd.DataFrame,
                  pairs: Sequence[tuple[str, str]]) -> list[_Image]:  # fmt: skip
    images = []
    targets = run.scenario.targets if run.scenario is not None else {}
    for country, commodity in pairs[:_MAX_SHARE_CHARTS]:
        lines = [TargetLine(t.max if t.max is not None else t.min or 0.0, t.by, "max" if t.max is not None else "min")
                 for t in targets.values()
                 if t.country == country and t.commodity == commodity and t.metric == "traced_share"]  # fmt: skip
        fig = share_chart(measures, country=country, commodity=commodity, source_country=run.results[0].source,
                          targets=lines, names=names)  # fmt: skip
        images.append(
            _chart(
                fig,
                f"China share: {_pair_name(country, commodity, names)}",
                "Traced share (solid) counts material mined or processed in China at any upstream stage; "
                "direct share (dashed) counts first-hop imports only.",
                f"{slug}-share-{_slug(country, set())}-{_slug(commodity, set())}",
            )
        )
    fig = shortfall_chart(shortfall, names=names)
    images.append(_chart(fig, "Shortfall", "Share of final demand not met, by year.", f"{slug}-shortfall"))
    if not utilisation.empty and "capacity" in utilisation.columns:
        cap = utilisation
        cap = cap[np.isfinite(pd.to_numeric(cap["capacity"], errors="coerce"))]
        if not cap.empty:
            per_variant = cap.groupby(["variant", "year"])["capacity"].sum().unstack("year")
            gain = (per_variant.iloc[:, -1] - per_variant.iloc[:, 0]).sort_values(ascending=False, kind="stable")
            variant = str(gain.index[0])
            one = cap[cap["variant"] == variant]
            one = one.groupby(["year", "country", "commodity", "unit"], as_index=False)["capacity"].sum()
            fig = capacity_additions_chart(one, names=names, title=f"Capacity added since the base year ({variant})")
            images.append(
                _chart(
                    fig,
                    "Capacity additions",
                    f"Nameplate capacity added against the base year in variant “{variant}” (largest additions).",
                    f"{slug}-capacity",
                )
            )
    return images


