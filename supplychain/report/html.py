"""The HTML report: one self-contained page for one or many scenarios, plus its tables.

:func:`write_report` writes, into one output folder::

    index.html     self-contained page (inline CSS, images as data: URIs, no scripts,
                   no fonts or files fetched from anywhere; a Content-Security-Policy
                   says so to the browser)
    summary.md     the headline tables and figures in Markdown, for documents
    measures.csv  shortfall.csv  flows.csv  targets.csv   every scenario, tidy
    results.json   the headline numbers and verdicts, machine-readable
    images/        every figure as .svg and .png

The page has an overview table (one row per scenario and variant) and one
section per scenario: summary and sources, toggles and variants, headline
measures, targets with pass/fail verdicts, shortfall, network pictures (the
baseline and, per variant, a diff view of what changed) and charts.

Writing is atomic: everything is written into a temporary folder beside
``out_dir`` and renamed into place at the end, so a failure never leaves a
half-written report. An existing ``out_dir`` is replaced only if it is empty or
holds an earlier report (it has the :data:`MARKER` file); anything else is
refused rather than deleted.

User text reaches the page only through Jinja2 with autoescaping on; links from
the sources table are kept only for ``http``/``https`` URLs. SVG images are
embedded as ``<img src="data:...">`` rather than inline ``<svg>``: ids cannot
clash between figures and an image cannot run script.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import jinja2
import numpy as np
import pandas as pd

from supplychain import __version__
from supplychain.errors import SupplyChainError
from supplychain.report.charts import (
    TargetLine,
    capacity_additions_chart,
    figure_png,
    figure_svg,
    share_chart,
    shortfall_chart,
)
from supplychain.report.dot import (
    country_name,
    format_share,
    format_tonnes,
    names_of,
    render_bytes,
    share_bin,
    to_dot,
)
from supplychain.report.escape import clean_text
from supplychain.report.markdown import summary_markdown

if TYPE_CHECKING:
    from supplychain.api import Result
    from supplychain.schema.model import Scenario
    from supplychain.simulation.run import Mode

__all__ = [
    "MARKER",
    "ReportError",
    "ScenarioRun",
    "build_view",
    "names_of",
    "run_scenario",
    "write_report",
]

MARKER: Final = ".supplychain-report"
"""File that marks a folder as a report written by :func:`write_report` (safe to replace)."""

HEADLINE_METRICS: Final = (
    ("traced_share", "traced China share"),
    ("direct_import_share", "direct import share"),
    ("net_import_reliance", "net import reliance"),
    ("shortfall_share", "shortfall (share of demand)"),
)
_MAX_GRAPH_VARIANTS: Final = 8
_MAX_SHARE_CHARTS: Final = 3
_MAX_SHORTFALL_ROWS: Final = 12
_TEMPLATES: Final = Path(__file__).parent / "templates"
_PAGE_PX: Final = 1150
"""Width of the page's content column, in CSS pixels."""
_MIN_ZOOM: Final = 0.7
"""Network pictures are never shown below this share of their natural size (they scroll instead)."""


class ReportError(SupplyChainError, RuntimeError):
    """The report cannot be written (output folder in the way, nothing to report)."""


# ----------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class ScenarioRun:
    """One scenario and its simulated variants: what one report section shows.

    Attributes
    ----------
    scenario : Scenario or None
        The validated scenario (for its summary, sources, toggles and targets);
        ``None`` when only results are at hand.
    results : tuple of Result
        One :class:`~supplychain.api.Result` per variant, the base run first.
    file : str or None
        Scenario file, shown in the summary.
    """

    scenario: Scenario | None
    results: tuple[Result, ...]
    file: str | None = None

    @property
    def name(self) -> str:
        """Scenario name."""
        if self.scenario is not None:
            return self.scenario.scenario.name
        return self.results[0].scenario if self.results else "scenario"


def run_scenario(
    scenario: Scenario,
    *,
    mode: Mode = "rebalance",
    variants: Sequence[str] | None = None,
    file: str | None = None,
) -> ScenarioRun:
    """Simulate the base run and every variant of a scenario for the report.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    mode : {"rebalance", "fixed"}
        Supply response.
    variants : sequence of str, optional
        Variants to run after the base run (default: every variant, in the file's order).
    file : str, optional
        The scenario's file, for the summary.

    Returns
    -------
    ScenarioRun
    """
    from supplychain.api import Result
    from supplychain.simulation.run import Simulator

    sim = Simulator(scenario, source=scenario.scenario.source_country)
    names = list(variants) if variants is not None else list(scenario.variants)
    results = [Result.from_run(scenario, sim.run(mode=mode), "base")]
    for v in names:
        results.append(Result.from_run(scenario, sim.run(variant=v, mode=mode), v))
    return ScenarioRun(scenario, tuple(results), file)


def _runs(results: Any) -> list[ScenarioRun]:
    """Normalise what :func:`write_report` accepts into a list of runs."""
    from supplychain.api import Result

    items = [results] if isinstance(results, ScenarioRun | Result) else list(results)
    runs: list[ScenarioRun] = []
    loose: dict[str, list[Result]] = {}
    for item in items:
        if isinstance(item, ScenarioRun):
            runs.append(item)
        elif isinstance(item, Result):
            loose.setdefault(item.scenario, []).append(item)
        elif isinstance(item, Sequence) and item and all(isinstance(r, Result) for r in item):
            runs.append(ScenarioRun(None, tuple(item)))
        else:
            msg = f"cannot report on a {type(item).__name__}: give ScenarioRun or Result objects"
            raise TypeError(msg)
    runs.extend(ScenarioRun(None, tuple(rs)) for rs in loose.values())
    if not runs or any(not r.results for r in runs):
        msg = "nothing to report: no simulated results"
        raise ReportError(msg)
    return runs


# ------------------------------------------------------------------ formatting
def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", clean_text(text).lower()).strip("-")[:40] or "scenario"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _finite(x: Any) -> float:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return math.nan
    return f


def _pct_cell(value: float, label: str = "", *, shade: bool = False) -> dict[str, str]:
    if label:
        return {"text": label, "bg": "", "fg": ""}
    b = share_bin(value) if shade else None
    return {"text": format_share(value), "bg": b.fill if b else "", "fg": b.font if b else ""}


def safe_url(url: str | None) -> str | None:
    """Return ``url`` when it is an absolute ``http``/``https`` URL, else ``None``.

    Examples
    --------
    >>> safe_url("https://pubs.usgs.gov/x.pdf"), safe_url("javascript:alert(1)"), safe_url("file:///etc/passwd")
    ('https://pubs.usgs.gov/x.pdf', None, None)
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# -------------------------------------------------------------------- figures
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


@dataclass
class _Section:
    view: dict[str, Any]
    images: list[_Image] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    overview: list[list[str]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def _focus_year(run: ScenarioRun) -> int:
    years = run.results[0].years
    if run.scenario is not None and run.scenario.targets:
        by = max(t.by for t in run.scenario.targets.values())
        return min(max(by, years[0]), years[-1])
    return years[-1]


def _target_pairs(run: ScenarioRun) -> list[tuple[str, str]]:
    """(country, commodity) pairs of the scenario's targets, sorted."""
    if run.scenario is None:
        return []
    return sorted({(t.country, t.commodity) for t in run.scenario.targets.values()})


def _focus_pairs(run: ScenarioRun, fallback: Sequence[tuple[str, str]] = ()) -> tuple[list[tuple[str, str]], bool]:
    """(country, commodity) pairs the headline is about, and whether they come from targets.

    The scenario's own targets' pairs; else ``fallback`` (the other scenarios'
    target pairs, so that the overview compares like with like) where this
    scenario has them; else the three largest final demands outside the source
    country (China's exposure to China says nothing).
    """
    own = _target_pairs(run)
    if own:
        return own, True
    sh = run.results[0].shortfall
    if sh.empty:
        return [], False
    present = set(zip(sh["country"].astype(str), sh["commodity"].astype(str), strict=True))
    shared = [p for p in fallback if p in present]
    if shared:
        return shared, True
    from supplychain.metrics.measures import resolve_source

    source = resolve_source(run.scenario, run.results[0].source, sh["country"].astype(str).unique())
    sh = sh[~sh["country"].astype(str).isin(source)]  # the source's exposure to itself says nothing
    dem = sh.groupby(["country", "commodity"])["demand_t"].max().sort_values(ascending=False, kind="stable")
    return [(str(c), str(k)) for c, k in dem.index[:3]], False


def _source_codes(run: ScenarioRun, nodes: pd.DataFrame) -> frozenset[str]:
    from supplychain.metrics.measures import resolve_source

    src = run.results[0].source
    return resolve_source(run.scenario, src, nodes["country"].astype(str).unique())


def _tables_of(result: Result, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    nodes, edges = _tables_of(base, year)
    source = _source_codes(run, nodes)
    focus = {c for c, _ in pairs} | set(source)
    before_edges = edges.assign(tonnes=edges["baseline_t"]).drop(columns=["status", "baseline_t"])
    t_before = _traced(nodes, edges, "baseline_t", source)
    images = []
    dot = to_dot((nodes, before_edges), traced=t_before, title=f"{run.name}: baseline network", year=year,
                 names=names, focus_countries=focus, commodity=chain)  # fmt: skip
    images.append(
        _Image(
            "Baseline network",
            f"{year}, before any policy or deal: nodes coloured by traced China share, line width by tonnes"
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
        n_v, e_v = _tables_of(res, year)
        if e_v.empty or (e_v["status"] == "normal").all():
            continue
        t_after = _traced(n_v, e_v, "tonnes", source)
        t_base = _traced(n_v, e_v, "baseline_t", source)
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
    if not utilisation.empty and "capacity_t" in utilisation.columns:
        cap = utilisation.rename(columns={"capacity_t": "capacity"})
        cap = cap[np.isfinite(pd.to_numeric(cap["capacity"], errors="coerce"))]
        if not cap.empty:
            per_variant = cap.groupby(["variant", "year"])["capacity"].sum().unstack("year")
            gain = (per_variant.iloc[:, -1] - per_variant.iloc[:, 0]).sort_values(ascending=False, kind="stable")
            variant = str(gain.index[0])
            one = cap[cap["variant"] == variant]
            one = one.groupby(["year", "country", "commodity"], as_index=False)["capacity"].sum()
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


# ----------------------------------------------------------------- sections
def _concat(results: Sequence[Result], attr: str) -> pd.DataFrame:
    frames = [getattr(r, attr) for r in results]
    frames = [
        f if "variant" in f.columns else f.assign(variant=r.variant) for f, r in zip(frames, results, strict=True)
    ]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _headline(run: ScenarioRun, measures: pd.DataFrame, year0: int, year1: int,
              names: Mapping[str, str], pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:  # fmt: skip
    variants = [r.variant for r in run.results]
    rows: list[dict[str, Any]] = []
    src = run.results[0].source
    if measures.empty:
        return {"variants": variants, "span": f"{year0} → {year1}", "rows": rows}
    m = measures
    if "partner" in m.columns:
        m = m[m["partner"].isna() | (m["partner"].astype(str) == "")]
    for country, commodity in pairs:
        first = len(rows)
        for metric, label in HEADLINE_METRICS:
            sel = m[(m["country"] == country) & (m["commodity"] == commodity) & (m["metric"] == metric)]
            if metric in ("traced_share", "direct_import_share") and "source_country" in sel.columns:
                sel = sel[sel["source_country"].astype(str) == src]
            if sel.empty:
                continue
            cells = []
            for v in variants:
                part = sel[sel["variant"] == v]
                texts = []
                last: dict[str, str] = {"bg": "", "fg": ""}
                for y in (year0, year1):
                    row = part[part["year"] == y]
                    if row.empty:
                        texts.append("–")
                        continue
                    lab = str(row["label"].iloc[0]) if "label" in row.columns and pd.notna(row["label"].iloc[0]) else ""
                    cell = _pct_cell(_finite(row["value"].iloc[0]), lab if lab in ("E",) else "",
                                     shade=metric == "traced_share")  # fmt: skip
                    texts.append(cell["text"])
                    last = cell
                cells.append({"text": " → ".join(texts), "bg": last["bg"], "fg": last["fg"]})
            rows.append({"label": _pair_name(country, commodity, names), "metric": label, "cells": cells, "span": 0})
        if len(rows) > first:
            rows[first]["span"] = len(rows) - first  # the pair's name spans its measures
    return {"variants": variants, "span": f"{year0} → {year1}", "rows": rows}


def _verdicts(run: ScenarioRun, targets: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if targets.empty:
        return out
    defs = run.scenario.targets if run.scenario is not None else {}
    for (tid, variant), part in targets.groupby(["target", "variant"], sort=False):
        part = part.sort_values("year")
        t = defs.get(str(tid))
        passed = part["passed"]
        known = part[passed.notna()]
        fails = known[known["passed"] == False]  # noqa: E712 - object column of True/False/None
        if known.empty:
            verdict, detail = "no data", "the measure was not computed"
        elif fails.empty:
            verdict = "pass"
            detail = f"holds in every year {int(known['year'].min())}–{int(known['year'].max())}"
        else:
            verdict = "fail"
            years = ", ".join(str(int(y)) for y in fails["year"])
            detail = f"fails in {years}"
        first = part.iloc[0]
        bound = str(first.get("bound", "max"))
        sign = "≤" if bound == "max" else "≥"
        out.append({
            "id": str(tid),
            "description": (t.description if t is not None and t.description else str(tid)),
            "variant": str(variant),
            "year": int(first["year"]),
            "value": format_share(_finite(first["value"])),
            "threshold": f"{sign} {format_share(_finite(first['threshold']))}",
            "margin": format_share(_finite(known["margin"].min())) if not known.empty else "n/a",
            "verdict": verdict,
            "detail": detail,
        })  # fmt: skip
    order = {r.variant: i for i, r in enumerate(run.results)}
    return sorted(out, key=lambda r: (r["id"], order.get(r["variant"], 99)))


def _shortfall_table(run: ScenarioRun, shortfall: pd.DataFrame, names: Mapping[str, str]) -> dict[str, Any]:
    """Peak shortfall per country · commodity (rows) and variant (columns): "46 % in 2025, 6.8k t in all"."""
    variants = [r.variant for r in run.results]
    table: dict[str, Any] = {"variants": variants, "rows": []}
    if shortfall.empty or "shortfall_t" not in shortfall.columns:
        return table
    s = shortfall[shortfall["shortfall_t"] > 0]
    if s.empty:
        return table
    worst = s.groupby(["country", "commodity"])["shortfall_share"].max().sort_values(ascending=False, kind="stable")
    for country, commodity in worst.index[:_MAX_SHORTFALL_ROWS]:
        part = s[(s["country"] == country) & (s["commodity"] == commodity)]
        cells = []
        for v in variants:
            pv = part[part["variant"] == v]
            if pv.empty:
                cells.append("none")
                continue
            peak = pv.iloc[int(np.argmax(pv["shortfall_share"].to_numpy(dtype=float)))]
            total = format_tonnes(float(pv["shortfall_t"].sum()))
            cells.append(f"{format_share(_finite(peak['shortfall_share']))} in {int(peak['year'])} ({total} in all)")
        table["rows"].append({"what": _pair_name(str(country), str(commodity), names), "cells": cells})
    table["more"] = max(0, len(worst) - _MAX_SHORTFALL_ROWS)
    return table


def _changed_toggles(toggles: pd.DataFrame) -> str:
    """``ban=on, deal=on``: the toggles a run set away from the file's defaults."""
    if toggles.empty or not {"toggle", "state"} <= set(toggles.columns):
        return "–"
    changed = toggles
    if "set_by" in toggles.columns:
        changed = toggles[toggles["set_by"].astype(str) != "default"]
    if changed.empty:
        return "all at their defaults"
    return ", ".join(f"{t}={st}" for t, st in zip(changed["toggle"], changed["state"], strict=True))


def _pair_name(country: str, commodity: str, names: Mapping[str, str]) -> str:
    """``United States · NdPr oxide``."""
    return f"{country_name(country, names)} · {names.get(commodity, commodity.replace('_', ' '))}"


def _section(run: ScenarioRun, slug: str, fallback: Sequence[tuple[str, str]] = ()) -> _Section:
    sc = run.scenario
    pairs, from_targets = _focus_pairs(run, fallback)
    chain = sorted({k for _, k in pairs}) if from_targets else []
    names = names_of(sc)
    base = run.results[0]
    years = base.years
    focus = _focus_year(run)
    measures = _concat(run.results, "measures")
    shortfall = _concat(run.results, "shortfall")
    targets = _concat(run.results, "targets")
    flows = _concat(run.results, "flows")
    utilisation = _concat(run.results, "utilisation")
    meta = sc.scenario if sc is not None else None
    variants = []
    for r in run.results:
        desc = ""
        if sc is not None and r.variant in sc.variants:
            desc = sc.variants[r.variant].description or ""
        elif r.variant == "base":
            desc = "toggles at their defaults"
        variants.append({"label": r.variant, "description": desc, "toggles": _changed_toggles(r.toggles)})
    view: dict[str, Any] = {
        "slug": slug,
        "name": run.name,
        "question": (meta.question or "") if meta else "",
        "description": (meta.description or "") if meta else "",
        "file": run.file or "",
        "years": f"{years[0]}–{years[-1]}",
        "focus_year": focus,
        "source_country": country_name(base.source, names),
        "mode": base.mode,
        "variants": variants,
        "toggles": [
            {"id": tid, "default": "on" if t.default else "off", "description": t.description or "",
             "controls": ", ".join(t.controls)}
            for tid, t in sorted(sc.toggles.items())
        ] if sc is not None else [],
        "sources": [
            {"id": sid, "title": s.title, "publisher": s.publisher or "", "year": s.year or "",
             "url": safe_url(s.url), "url_text": s.url or "", "confidence": s.confidence or ""}
            for sid, s in sorted(sc.sources.items())
        ] if sc is not None else [],
        "headline": _headline(run, measures, years[0], focus, names, pairs),
        "targets": _verdicts(run, targets),
        "shortfall": _shortfall_table(run, shortfall, names),
    }  # fmt: skip
    graphs = _graph_images(run, slug, focus, names, pairs, chain)
    charts = _chart_images(run, slug, names, measures, shortfall, utilisation, pairs)
    view["graphs"] = [g.view() for g in graphs]
    view["charts"] = [c.view() for c in charts]
    tables = {
        "measures": measures.assign(scenario=slug),
        "shortfall": shortfall.assign(scenario=slug),
        "flows": flows.assign(scenario=slug),
        "targets": targets.assign(scenario=slug),
    }
    overview = []
    pair = pairs[:1]
    for r in run.results:
        verdicts = [t for t in view["targets"] if t["variant"] == r.variant]
        n_pass = sum(t["verdict"] == "pass" for t in verdicts)
        target_text = f"{n_pass}/{len(verdicts)} pass" if verdicts else "–"
        sh = shortfall[(shortfall["variant"] == r.variant)] if not shortfall.empty else shortfall
        peak = "none"
        if not sh.empty and (sh["shortfall_share"] > 0).any():
            row = sh.iloc[int(np.argmax(sh["shortfall_share"].to_numpy(dtype=float)))]
            where = _pair_name(str(row["country"]), str(row["commodity"]), names)
            peak = f"{format_share(float(row['shortfall_share']))} ({where}, {int(row['year'])})"
        traced = "–"
        if pair and not measures.empty:
            c, k = pair[0]
            m = measures[(measures["variant"] == r.variant) & (measures["country"] == c) & (measures["commodity"] == k)
                         & (measures["metric"] == "traced_share") & (measures["year"] == focus)]  # fmt: skip
            if not m.empty:
                traced = f"{format_share(float(m['value'].iloc[0]))} ({_pair_name(c, k, names)}, {focus})"
        overview.append([run.name, r.variant, traced, target_text, peak])
    # the pair and year in brackets, for build_view to lift into the header when every row shares it
    for line in overview:
        line.append(line[2][line[2].find("(") :] if "(" in line[2] else "")
    summary = {
        "slug": slug,
        "name": run.name,
        "file": run.file,
        "years": list(years),
        "focus_year": focus,
        "source_country": base.source,
        "mode": base.mode,
        "variants": [r.variant for r in run.results],
        "targets": view["targets"],
        "shortfall": view["shortfall"],
        "images": [f"images/{i.stem}.svg" for i in [*graphs, *charts]],
    }
    return _Section(view, [*graphs, *charts], tables, overview, summary)


def build_view(runs: Sequence[ScenarioRun], *, title: str) -> tuple[dict[str, Any], list[_Section]]:
    """Build the report's view model (plain dicts, unescaped text) and the per-scenario sections."""
    taken: set[str] = {"overview"}
    fallback = sorted({p for run in runs for p in _target_pairs(run)})
    sections = []
    for run in runs:
        stem = Path(run.file).stem if run.file else run.name
        sections.append(_section(run, _slug(stem, taken), fallback))
    rows = [row for s in sections for row in s.overview]
    common = {row[5] for row in rows if row[2] != "–"}
    header = "traced China share"
    if len(common) == 1 and next(iter(common)):
        what = next(iter(common))
        header = f"traced China share {what}"
        for row in rows:
            row[2] = row[2].removesuffix(f" {what}")
    for row in rows:
        del row[5]
    view = {
        "title": title,
        "generator": f"Generated by supplychain {__version__}",
        "overview": {
            "headers": ["scenario", "variant", header, "targets", "peak shortfall"],
            "rows": rows,
            "groups": [{"slug": s.view["slug"], "name": s.view["name"], "rows": [r[1:] for r in s.overview]}
                       for s in sections],
        },
        "scenarios": [s.view for s in sections],
    }
    return view, sections


# ---------------------------------------------------------------------- output
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Neutralise spreadsheet formulas in text cells (a leading ``= + - @`` gets a quote)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
            )
    return out


def _plain(obj: Any) -> Any:
    """JSON-ready: NaN → None, numpy scalars → Python."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _write_tree(folder: Path, html_text: str, md_text: str, sections: Sequence[_Section], meta: dict[str, Any]) -> None:
    (folder / "images").mkdir()
    (folder / "index.html").write_text(html_text, encoding="utf-8")
    (folder / "summary.md").write_text(md_text, encoding="utf-8")
    for name in ("measures", "shortfall", "flows", "targets"):
        frames = [s.tables[name] for s in sections if not s.tables[name].empty]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if "scenario" in df.columns:
            df = df[["scenario", *[c for c in df.columns if c != "scenario"]]]
        _csv_safe(df).to_csv(folder / f"{name}.csv", index=False, float_format="%.6g")
    for s in sections:
        for img in s.images:
            (folder / "images" / f"{img.stem}.svg").write_bytes(img.svg)
            (folder / "images" / f"{img.stem}.png").write_bytes(img.png)
    text = json.dumps(_plain(meta), indent=2, ensure_ascii=False, allow_nan=False)
    (folder / "results.json").write_text(text + "\n", encoding="utf-8")
    (folder / MARKER).write_text(f"supplychain {__version__}\n", encoding="utf-8")


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``; an existing ``out`` (a previous report) is swapped out and removed."""
    tmp.chmod(0o755)
    if not out.exists():
        tmp.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        msg = f"{out} exists and is not a folder; choose another --output"
        raise ReportError(msg)
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        msg = (f"{out} is not empty and does not hold an earlier supplychain report; "
               "refusing to replace it (choose an empty or new folder)")  # fmt: skip
        raise ReportError(msg)


def write_report(
    results: ScenarioRun | Result | Iterable[ScenarioRun | Result],
    out_dir: str | os.PathLike[str],
    *,
    title: str = "Critical-mineral supply chains: exposure to China",
) -> Path:
    """Write the report folder (HTML page, Markdown summary, tables, images) atomically.

    Parameters
    ----------
    results : ScenarioRun, Result, or an iterable of them
        What to report: :class:`ScenarioRun` objects (from :func:`run_scenario`),
        or bare :class:`~supplychain.api.Result` objects, grouped by scenario name
        (their sections then lack the scenario summary, sources and toggles).
    out_dir : path-like
        Folder to write; created, or replaced when it holds an earlier report.
    title : str
        Page title.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    ReportError
        Nothing to report, or ``out_dir`` is a file or a non-empty folder that is
        not an earlier report.
    TypeError
        ``results`` holds something other than runs and results.
    """
    out = Path(out_dir)
    _check_target(out)
    runs = _runs(results)
    view, sections = build_view(runs, title=title)
    html_text = _environment().get_template("report.html.j2").render(**view)
    md_text = summary_markdown(view)
    meta = {
        "title": title,
        "generator": view["generator"],
        "scenarios": [s.summary for s in sections],
        "overview": [dict(zip(view["overview"]["headers"], row, strict=True)) for row in view["overview"]["rows"]],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        _write_tree(tmp, html_text, md_text, sections, meta)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
