"""What a notebook shows: a result's headline measures, a scenario's summary, a network picture inline.

* :func:`result_html` — :meth:`Result._repr_html_ <supplychain.api.Result._repr_html_>`:
  per focus country and commodity, the exposed share (traced to the source plus unmet
  demand) and the traced share at the first and last year, the shortfall in the last
  year and at its peak (share, year and quantity in the commodity's unit), the targets'
  verdicts, and the toggles set away from their defaults.
* :func:`scenario_html` — a loaded :class:`~supplychain.schema.model.Scenario`: counts,
  years, variants, policies and targets in a few lines instead of the whole model.
* :class:`Picture` and :func:`draw` — :meth:`Result.draw <supplychain.api.Result.draw>`:
  one year's network drawn by the report's own :func:`~supplychain.report.dot.to_dot`,
  shown inline by Jupyter (SVG) and savable as ``.svg``, ``.png`` or ``.dot``.

Every number goes through :mod:`supplychain.report.numbers` (percentages, plain digits)
and every piece of text through :func:`html.escape`.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from supplychain.metrics.exposure import shortfall_share
from supplychain.report.answers import Series
from supplychain.report.answers import peak as peak_of
from supplychain.report.fold import SHARE_DIGITS
from supplychain.report.headline import default_focus, headline_measures, headline_pairs, source_name
from supplychain.report.numbers import NET_EXPORTER, NET_EXPORTER_MEANING, format_number, format_percent, measure_text

if TYPE_CHECKING:
    import graphviz

    from supplychain.api import Result
    from supplychain.schema.model import Scenario

__all__ = ["Picture", "draw", "headline_table", "result_html", "scenario_html", "traced_by_node"]

_LIST_MAX: Final = 12
"""Ids listed in a scenario summary before "… and N more"."""


def _esc(value: object) -> str:
    return html.escape(str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _focus(result: Result, asked: Sequence[str] = ()) -> list[str]:
    """Return ``asked``, else the targets' countries, else the US (the rule of :mod:`supplychain.report.headline`)."""
    t = result.targets
    return default_focus(t["country"].astype(str) if not t.empty and "country" in t.columns else (), asked)


def headline_table(result: Result, countries: Sequence[str] | None = None) -> pd.DataFrame:
    """Headline measures per focus country and commodity with final use, as display text.

    Rows follow the headline rule (:func:`~supplychain.report.headline.headline_pairs`):
    each focus country's focus commodity (the one it uses furthest down the chain) first,
    then its other uses in the same ranking.

    Parameters
    ----------
    result : Result
        A simulation.
    countries : sequence of str, optional
        Countries to show (default: the targets' countries, else the US).

    Returns
    -------
    pandas.DataFrame
        One row per (country, commodity): exposed share and traced share at the first
        and last year, net import reliance at the last year, shortfall in the last year
        and its peak (``"87% in 2026 (11,066 t REO)"``), every cell formatted text.
        Empty when no focus country has final use.
    """
    y0, y1 = result.years[0], result.years[-1]
    sh = result.shortfall
    mine = sh[sh["demand"] > 0] if not sh.empty else sh
    pairs = headline_pairs(mine, _focus(result, countries or ()), every_use=True)
    m = headline_measures(result.measures, result.source, ("exposed_share", "traced_share", "net_import_reliance"),
                          countries=[c for c, _ in pairs])
    m = m[m["year"].isin([y0, y1])] if not m.empty else m
    cell: dict[tuple[str, str, str, int], str] = {}
    if not m.empty:
        labels = m["label"].tolist() if "label" in m.columns else [None] * len(m)
        for c, k, x, y, v, lab in zip(m["country"], m["commodity"], m["metric"], m["year"], m["value"], labels,
                                      strict=True):
            cell[(str(c), str(k), str(x), int(y))] = measure_text(v, lab)
    src = source_name([result.source])
    rows = []
    for c, k in pairs:
        part = mine[(mine["country"] == c) & (mine["commodity"] == k)].groupby("year")[["demand", "shortfall"]].sum()
        unit = str(mine.loc[(mine["country"] == c) & (mine["commodity"] == k), "unit"].iloc[0]) \
            if "unit" in mine.columns else ""
        # shares equal up to round-off (67 % in 2026 … 2030) are one peak, dated by its first year
        share = pd.Series(shortfall_share(part["shortfall"], part["demand"]), index=part.index).round(SHARE_DIGITS)
        last = f"{format_percent(share.get(y1, float('nan')))} ({format_number(part['shortfall'].get(y1))} {unit})"
        top = peak_of(Series(tuple(int(y) for y in share.index), tuple(float(v) for v in share.to_numpy())))
        if top is not None and top[0] > 0:
            value, peak_year = top
            peak = f"{format_percent(value)} in {peak_year} ({format_number(part.at[peak_year, 'shortfall'])} {unit})"
        else:
            peak = "none"
        rows.append({
            "country": c, "commodity": k,
            f"exposed share {y0}": cell.get((c, k, "exposed_share", y0), "–"),
            f"exposed share {y1}": cell.get((c, k, "exposed_share", y1), "–"),
            f"traced {src} share {y0}": cell.get((c, k, "traced_share", y0), "–"),
            f"traced {src} share {y1}": cell.get((c, k, "traced_share", y1), "–"),
            f"net import reliance {y1}": cell.get((c, k, "net_import_reliance", y1), "–"),
            f"shortfall {y1}": last,
            "peak shortfall": peak,
        })
    return pd.DataFrame(rows)


def result_html(result: Result) -> str:
    """Render a :class:`~supplychain.api.Result` for a notebook: headline measures, targets, toggles."""
    from supplychain.report.tables import _changed_toggles

    rule = f", allocation <code>{_esc(result.allocation)}</code>" if result.mode == "rebalance" else ""
    years = f"{result.years[0]}–{result.years[-1]}" if len(result.years) > 1 else str(result.years[0])
    parts = [f"<h4>{_esc(result.scenario)} — variant <code>{_esc(result.variant)}</code>, "
             f"mode <code>{_esc(result.mode)}</code>{rule}, {years}</h4>",
             f"<p>Toggles away from their defaults: {_esc(_changed_toggles(result.toggles))}.</p>"]
    head = headline_table(result)
    if head.empty:
        parts.append(f"<p>No final demand of {_esc(', '.join(_focus(result)))} to report on: "
                     "<code>headline_table(result, countries=[…])</code> shows others.</p>")
    else:
        parts += [f"<b>Headline measures</b> (exposed share = traced to {_esc(source_name([result.source]))} "
                  "+ unmet demand; "
                  "shortfall in each commodity's unit)", _table(list(head.columns), head.itertuples(index=False))]
        if head.isin([NET_EXPORTER]).any().any():
            parts.append(f"<p><i>{NET_EXPORTER}</i>: the country {_esc(NET_EXPORTER_MEANING)}, so net import reliance "
                         "is not defined.</p>")
    t = result.targets
    if not t.empty:
        last = t[t["year"] == result.years[-1]]
        rows = [(tid, y, format_percent(v), f"{'≤' if b == 'max' else '≥'} {format_percent(th)}", st)
                for tid, y, v, b, th, st in zip(last["target"], last["year"], last["value"], last["bound"],
                                                last["threshold"], last["status"], strict=True)]
        parts += [f"<b>Targets in {result.years[-1]}</b>", _table(["target", "year", "value", "threshold", "status"],
                                                                  rows)]
    parts.append("<p>All rows: <code>.measures</code>, <code>.shortfall</code>, <code>.flows</code>, "
                 "<code>.targets</code>; a network: <code>.draw(year, country=…, commodity=…)</code>.</p>")
    return "\n".join(parts)


def _ids(ids: Iterable[str]) -> str:
    items = sorted(ids)
    shown = ", ".join(items[:_LIST_MAX])
    more = len(items) - _LIST_MAX
    return (shown + (f" … and {more} more" if more > 0 else "")) or "none"


def scenario_html(scenario: Scenario) -> str:
    """Render a loaded scenario compactly: name, years, counts, variants, policies, targets."""
    meta = scenario.scenario
    years = scenario.years
    policies = [f"{pid} ({p.type}, {p.country})" for pid, p in scenario.policies.items()]
    toggles = [f"{tid}={'on' if t.default else 'off'}" for tid, t in scenario.toggles.items()]
    targets = []
    for tid, t in scenario.targets.items():
        bound = f"≤ {format_percent(t.max)}" if t.max is not None else f"≥ {format_percent(t.min)}"
        targets.append(f"{tid} ({t.country} {t.commodity} {t.metric} {bound} by {t.by})")
    rows = [
        ("years", f"{years[0]}–{years[-1]}, exposure to {meta.source_country}"),
        ("network", f"{len(scenario.commodities)} commodities, {len(scenario.facilities)} facilities, "
                    f"{len(scenario.flows)} flows, {len(scenario.imports)} import tables, "
                    f"{len(scenario.demand)} demands, {len(scenario.stockpiles)} stockpiles"),
        ("countries", f"{len(scenario.countries)} described, {len(scenario.regions)} regions, "
                      f"{len(scenario.groups)} groups"),
        (f"variants ({len(scenario.variants)})", _ids(scenario.variants)),
        (f"policies ({len(policies)})", _ids(policies)),
        (f"agreements ({len(scenario.agreements)})", _ids(scenario.agreements)),
        (f"toggles ({len(toggles)})", _ids(toggles)),
        (f"targets ({len(targets)})", _ids(targets)),
        ("sources", f"{len(scenario.sources)} documents"),
    ]
    question = f"<p><i>{_esc(meta.question)}</i></p>" if meta.question else ""
    body = "".join(f"<tr><th style='text-align:left'>{_esc(k)}</th><td style='text-align:left'>{_esc(v)}</td></tr>"
                   for k, v in rows)
    return f"<h4>Scenario: {_esc(meta.name)}</h4>{question}<table>{body}</table>"


# ------------------------------------------------------------------ pictures
def traced_by_node(scenario: Scenario | None, source: str, nodes: pd.DataFrame, edges: pd.DataFrame,
                   weight: str) -> pd.Series:
    """:func:`supplychain.report.figures.traced_by_node` (imported on use: that module loads matplotlib)."""
    from supplychain.report.figures import traced_by_node as traced

    return traced(scenario, source, nodes, edges, weight)


@dataclass(frozen=True)
class Picture:
    """A network picture: shown inline by Jupyter (SVG), saved with :meth:`save`.

    Attributes
    ----------
    dot : graphviz.Digraph
        The picture's Graphviz source (:func:`~supplychain.report.dot.to_dot`).
    """

    dot: graphviz.Digraph

    @property
    def source(self) -> str:
        """The DOT text."""
        return str(self.dot.source)

    def svg(self) -> str:
        """Render the picture as SVG text (Graphviz ``dot``)."""
        from supplychain.report.dot import render_bytes

        return render_bytes(self.dot, "svg").decode("utf-8")

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the picture as ``.svg``, ``.png`` or ``.dot`` (by the file name), atomically."""
        from supplychain.report.dot import render

        return render(self.dot, path)


def draw(result: Result, year: int | None = None, *, country: str | None = None,
         commodity: str | Sequence[str] | None = None, baseline: bool = False, max_nodes: int = 60,
         names: dict[str, str] | None = None) -> Picture:
    """Draw one simulated year's network (see :meth:`Result.draw <supplychain.api.Result.draw>`)."""
    from supplychain.arguments import argument_error, check_year
    from supplychain.report.dot import to_dot
    from supplychain.report.engine_notes import picture_note
    from supplychain.report.figures import result_tables, traced_by_node

    year = result.years[-1] if year is None else check_year(year, result.years)
    chain: list[str] = [commodity] if isinstance(commodity, str) else list(commodity or [])
    if country is not None:
        result.check_country(country)
    for k in chain:
        result.check_commodity(k)
    if country is not None and not chain:
        sh = result.shortfall
        chain = sorted(set(sh.loc[(sh["country"] == country) & (sh["demand"] > 0), "commodity"].astype(str)))
        if not chain:
            raise argument_error("country", f"{country} has no final demand in this scenario",
                                 "give commodity=… to draw the chain of one of its commodities")
    nodes, edges = result_tables(result, year)
    focus = [country] if country else _focus(result)
    common: dict[str, Any] = {"year": year, "commodity": chain or None, "max_nodes": max_nodes, "names": names,
                              "focus_countries": focus}
    if country is not None and isinstance(commodity, str):  # the report's chain picture: what ends in that use
        common.update(commodity=None, chain_of=(country, commodity))
    if baseline:
        before = edges.assign(tonnes=edges["baseline"]).drop(columns=["status", "baseline", "simulated"])
        dot = to_dot((nodes, before), traced=traced_by_node(None, result.source, nodes, edges, "baseline"),
                     title=f"{result.scenario}: baseline", source=source_name([result.source], names), **common)
    else:
        dot = to_dot((nodes, edges), traced=traced_by_node(None, result.source, nodes, edges, "simulated"),
                     compare_traced=traced_by_node(None, result.source, nodes, edges, "baseline"),
                     title=f"{result.scenario}: {result.variant}", source=source_name([result.source], names),
                     footnote=picture_note(result.mode), **common)
    return Picture(dot)
