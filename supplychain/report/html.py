"""The HTML report: one self-contained page for one or many scenarios, plus its tables.

:func:`write_report` writes, into one output folder::

    index.html     self-contained page (inline CSS and SVG, no scripts, no fonts or
                   files fetched from anywhere; a Content-Security-Policy says so to
                   the browser)
    summary.md     the headline tables and figures in Markdown, for documents
    measures.csv  shortfall.csv  flows.csv.gz  targets.csv  limits.csv   every scenario, tidy (measures:
                   what the report shows, supplychain.report.workbook.reported_measures; every measure in
                   measures_full.csv.gz with full_measures=True; shortfall: both supply
                   responses, a response column, supplychain.report.runs.shortfall_by_response;
                   limits: what bounds each shortfall, supplychain.report.limits)
    tables.xlsx    the same as Excel: a sheet per focus country, shortfall and flows tables
    results.json   the headline numbers and verdicts, machine-readable
    images/        every picture as .svg (the page's chain pictures and charts, and the
                   whole networks it links); .png too with ``png=True``

The page is written last; its "Files" footer links every file written beside it
(:func:`written_files`), so it names no file that is not there.

The page reads top to bottom: a table of contents; one answer per focus country
(:mod:`supplychain.report.answers`: exposure including unmet demand, traced China
share and shortfall in the base year, at their peak and at the horizon, for every
scenario and variant, with the targets passed); then one folding section
(``<details>``) per scenario: summary, toggles and variants, headline measures,
targets with the reason of each verdict, shortfall, the chain of the focus country's
use of its focus commodity (baseline, and per variant what changed; stages top to
bottom so that it fits the page's width; the whole network as a linked SVG file) and
charts; last, every scenario's sources once.

Writing is atomic: everything is written into a temporary folder beside
``out_dir`` and renamed into place at the end, so a failure never leaves a
half-written report (:func:`supplychain.io.atomic.atomic_write_dir`). An existing
``out_dir`` is replaced only if it is empty or holds nothing but an earlier report
(the files its :data:`MARKER` manifest lists, :mod:`supplychain.report.folder`);
anything else is refused rather than deleted.

User text reaches the page only through Jinja2 with autoescaping on, and every
value is passed through :func:`~supplychain.report.escape.clean_text` first
(control characters shown, bidirectional overrides dropped); links from
the sources table are kept only for ``http``/``https`` URLs. Pictures are inlined as
``<svg>`` so that their tooltips work (:func:`~supplychain.report.inline_svg.inline_svg`:
ids prefixed per picture so they cannot clash, and a picture that could run script or
fetch anything is refused).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import jinja2
import markupsafe
import numpy as np
import pandas as pd

from supplychain import __version__
from supplychain.io.atomic import atomic_write_dir
from supplychain.parallel.executors import map_in_order
from supplychain.report.answers import UNMET_MARK, country_answer, focus_commodity, is_unmet, short_name
from supplychain.report.dot_style import country_name, format_share, names_of, pair_name
from supplychain.report.escape import clean_text
from supplychain.report.figures import FigureOptions, _chart_images, _graph_images, _Image
from supplychain.report.folder import MARKER, check_target, write_manifest
from supplychain.report.headline import source_name, source_phrase
from supplychain.report.limits import limits_table
from supplychain.report.markdown import summary_markdown
from supplychain.report.numbers import csv_number
from supplychain.report.part_year import variants_part_year_notes
from supplychain.report.runs import (
    ReportError,
    ScenarioRun,
    _focus_pairs,
    _focus_year,
    _runs,
    _target_pairs,
    focus_of,
    run_scenario,
    run_years,
    shortfall_by_response,
)
from supplychain.report.shipped import shipped_table
from supplychain.report.tables import (
    _changed_toggles,
    _concat,
    _headline,
    _shortfall_table,
    _slug,
    _verdicts,
    same_numbers,
    worst_shortfall_text,
)
from supplychain.report.workbook import reported_measures, stacked, write_workbook

if TYPE_CHECKING:
    from supplychain.api import Result

__all__ = [
    "MARKER",
    "ReportError",
    "ScenarioRun",
    "build_view",
    "default_title",
    "names_of",
    "run_scenario",
    "write_report",
    "written_files",
]

_TEMPLATES: Final = Path(__file__).parent / "templates"

CSV_FILES: Final = {"measures": "measures.csv", "shortfall": "shortfall.csv", "flows": "flows.csv.gz",
                    "targets": "targets.csv", "limits": "limits.csv"}
"""File of each tidy table; every flow of every run is large (about 13 MB for the bundled scenarios), so gzipped."""


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



@dataclass
class _Section:
    view: dict[str, Any]
    images: list[_Image] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    overview: list[list[str]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def _exposure_falls(run: ScenarioRun, measures: pd.DataFrame, shortfall: pd.DataFrame,
                    pairs: Sequence[tuple[str, str]]) -> str:
    """Return the note of :func:`~supplychain.report.exposure_falls.exposure_falls_note` on the section's pairs."""
    from supplychain.report.exposure_falls import exposure_falls_note, world_shortfall
    from supplychain.schema.units import commodity_units
    from supplychain.simulation.world import flow_sums

    if (measures.empty or shortfall.empty or len(run.results) < 2
            or not {"demand", "delivered", "shortfall"} <= set(shortfall.columns)):  # fmt: skip
        return ""  # a stand-in run may carry shares only (as report.tables._world_note)
    keep = set(pairs)
    mine = measures[[p in keep for p in zip(measures["country"], measures["commodity"], strict=True)]]
    units = commodity_units(run.scenario) if run.scenario is not None else {}
    flows = _concat(run.results, "flows")
    blocked, inflows = flow_sums(flows) if len(flows) else (None, None)
    return exposure_falls_note(mine, world_shortfall(shortfall, blocked), units, inflows, run.results[0].source)


def _section(run: ScenarioRun, slug: str, fallback: Sequence[tuple[str, str]] = (),
             countries: Sequence[str] = (), year: int | None = None,
             chains: Sequence[tuple[str, str]] = (), options: FigureOptions | None = None) -> _Section:
    sc = run.scenario
    pairs, from_targets = _focus_pairs(run, fallback, countries)
    have = set(zip(run.results[0].shortfall.get("country", []), run.results[0].shortfall.get("commodity", []),
                   strict=True))
    chain_of = next((p for p in chains if p in have), None)
    if chain_of is None:  # the focus commodity is not in this scenario: a focus country's own pair here
        chain_of = next((p for p in pairs if p in have and p[0] in {c for c, _ in chains}), None)
    if chain_of is not None:  # the chart of the chain's pair first
        pairs = [chain_of, *(p for p in pairs if p != chain_of)]
    chain = sorted({k for _, k in pairs}) if from_targets else []
    names = names_of(sc)
    base = run.results[0]
    years = base.years
    focus = _focus_year(run, year)
    measures = _concat(run.results, "measures")
    shortfall = _concat(run.results, "shortfall")
    targets = _concat(run.results, "targets")
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
        "short": short_name(run),
        "question": (meta.question or "") if meta else "",
        "description": (meta.description or "") if meta else "",
        "file": run.file or "",
        "years": f"{years[0]}–{years[-1]}",
        "focus_year": focus,
        "source_country": country_name(base.source, names),
        "mode": base.mode,
        "allocation": base.allocation,
        "variants": variants,
        "toggles": [
            {"id": tid, "default": "on" if t.default else "off", "description": t.description or "",
             "controls": ", ".join(t.controls)
                         + (f"; switches off: {', '.join(t.switches_off)}" if t.switches_off else "")}
            for tid, t in sorted(sc.toggles.items())
        ] if sc is not None else [],
        "sources": sorted(sc.sources) if sc is not None else [],
        "headline": _headline(run, measures, years[0], focus, names, pairs),
        "targets": _verdicts(run, targets),
        "shortfall": _shortfall_table(run, shortfall, names),
        # the page's focus countries (whose answers carry the ‡ mark) and the section's own pairs' countries
        "shipped": shipped_table(run, names, list(dict.fromkeys([*(c for c, _ in chains), *(c for c, _ in pairs)])),
                                 focus),
        "limits": limits_table(run, focus, names),
    }  # fmt: skip
    runs_active = [(r.variant, r.toggle_state.active) for r in run.results]
    part = variants_part_year_notes(sc, runs_active, [years[0], focus])
    if part and view["headline"].get("rows"):
        view["headline"]["notes"] = [*view["headline"].get("notes", []), part]
    falls = _exposure_falls(run, measures, shortfall, pairs)
    if falls and view["headline"].get("rows"):
        view["headline"]["notes"] = [*view["headline"].get("notes", []), falls]
    part = variants_part_year_notes(sc, runs_active, years)
    if part and view["shortfall"].get("rows"):
        view["shortfall"]["note"] += " " + part
    view["headline"]["same"] = same_numbers(run, measures)  # every measure of the runs: said once, under the headline
    options = options or FigureOptions()
    graphs = _graph_images(run, slug, focus, names, pairs, chain, chain_of, options)
    charts = _chart_images(run, slug, names, measures, shortfall, utilisation, pairs, options.png)
    view["graphs"] = [g.view() for g in graphs if g.inline]
    view["charts"] = [c.view() for c in charts]
    overview = []
    pair = pairs[:1]
    for r in run.results:
        verdicts = [t for t in view["targets"] if t["variant"] == r.variant]
        n_pass = sum(t["verdict"] == "pass" for t in verdicts)
        target_text = f"{n_pass}/{len(verdicts)} pass" if verdicts else "–"
        sh = shortfall[(shortfall["variant"] == r.variant)] if not shortfall.empty else shortfall
        peak = worst_shortfall_text(run, shortfall, r.variant, names, pair[0][1] if pair else None)
        traced = "–"
        if pair and not measures.empty:
            c, k = pair[0]
            m = measures[(measures["variant"] == r.variant) & (measures["country"] == c) & (measures["commodity"] == k)
                         & (measures["metric"] == "traced_share") & (measures["year"] == focus)]  # fmt: skip
            if not m.empty:
                unmet = sh[(sh["country"] == c) & (sh["commodity"] == k) & (sh["year"] == focus)]["shortfall_share"]
                mark = f" {UNMET_MARK}" if len(unmet) and is_unmet(float(unmet.max())) else ""
                traced = f"{format_share(float(m['value'].iloc[0]))}{mark} ({pair_name(c, k, names)}, {focus})"
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
        "allocation": base.allocation if base.mode == "rebalance" else None,
        "variants": [r.variant for r in run.results],
        "targets": view["targets"],
        "shortfall": view["shortfall"],
        "images": [f"images/{name}" for i in [*graphs, *charts] for name in i.files()],
    }
    return _Section(view, [*graphs, *charts], {}, overview, summary)


def _section_tables(run: ScenarioRun, section: _Section) -> dict[str, pd.DataFrame]:
    """Return the tidy tables of a section's run for the CSV files (:data:`CSV_FILES`), with its ``scenario`` slug.

    Stacked here, in the process that writes them, from the runs it holds: a section drawn on a
    worker process sends back its view and pictures, not another copy of every measure and flow.
    """
    slug = section.view["slug"]
    tables = {name: _concat(run.results, name).assign(scenario=slug) for name in CSV_FILES
              if name not in ("limits", "shortfall")}
    tables["shortfall"] = shortfall_by_response(run).assign(scenario=slug)  # with the fixed bound's rows
    tables["limits"] = section.view["limits"]["table"].assign(scenario=slug)
    return tables


def _sources(runs: Sequence[ScenarioRun]) -> list[dict[str, Any]]:
    """Every scenario's sources once (by id and title), with the scenarios that cite them."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        if run.scenario is None:
            continue
        for sid, s in sorted(run.scenario.sources.items()):
            row = seen.setdefault((sid, s.title), {
                "id": sid, "title": s.title, "publisher": s.publisher or "", "year": s.year or "",
                "url": safe_url(s.url), "url_text": s.url or "", "confidence": s.confidence or "", "used_by": []})
            row["used_by"].append(short_name(run))
    rows = sorted(seen.values(), key=lambda r: (r["id"], r["title"]))
    for row in rows:
        row["used_by"] = "all" if len(row["used_by"]) == len(runs) > 1 else ", ".join(row["used_by"])
    return rows


def _section_task(task: tuple[Any, ...]) -> _Section:
    """:func:`_section` of one argument tuple (a task for :func:`~supplychain.parallel.executors.map_in_order`)."""
    return _section(*task)


def default_title(source: str) -> str:
    """Return the page title used when none is given: exposure to ``source`` (a display name).

    ``source`` comes from :func:`~supplychain.report.headline.source_name` (``"source"`` when
    the runs are measured to several).

    Examples
    --------
    >>> default_title("China"), default_title("source")
    ('Critical-mineral supply chains: exposure to China', 'Critical-mineral supply chains: exposure to the source')
    """
    return f"Critical-mineral supply chains: exposure to {source_phrase(source)}"


def build_view(runs: Sequence[ScenarioRun], *, title: str | None = None, countries: Sequence[str] = (),
               year: int | None = None, commodity: str | None = None,
               options: FigureOptions | None = None,
               workers: int = 1) -> tuple[dict[str, Any], list[_Section]]:  # fmt: skip
    """Build the report's view model (plain dicts, unescaped text) and the per-scenario sections.

    The sections (their charts and pictures) are drawn on ``workers`` local processes
    (1: in this process; 0: one per CPU), each section whole by one worker, those of the most
    variant-years first.

    ``countries`` and ``year`` choose what each section is about (``report --country``,
    ``--year``; :func:`~supplychain.report.runs._focus_pairs`, ``_focus_year``); the
    answers at the top are about ``countries`` (default
    :func:`~supplychain.report.runs.focus_of`) and their use of ``commodity``
    (default :func:`~supplychain.report.headline.ranked_uses`' first), whose chain each
    section draws. Headings name the runs' source (:func:`~supplychain.report.headline.source_name`;
    ``title`` defaults to :func:`default_title`). The view's ``focus`` lists those countries,
    resolved once for the page, ``measures.csv`` and the workbook.
    """
    taken: set[str] = {"overview", "sources", "contents"}
    fallback = sorted({p for run in runs for p in _target_pairs(run)})
    slugs = [_slug(short_name(run), taken) for run in runs]
    names: dict[str, str] = {}
    for run in runs:
        names.update({k: v for k, v in names_of(run.scenario).items() if k not in names})
    source = source_name([r.source for run in runs for r in run.results], names)
    focus = focus_of(runs, countries)
    chains = [(c, k) for c in focus if (k := focus_commodity(runs, c, commodity)) is not None]
    sections = map_in_order(_section_task, [(run, slug, fallback, countries, year, chains, options)
                                            for run, slug in zip(runs, slugs, strict=True)], workers,
                            cost=lambda task: run_years(task[0]))
    for run, section in zip(runs, sections, strict=True):
        section.tables = _section_tables(run, section)
    limits = {s.view["slug"]: s.tables["limits"] for s in sections}
    answers = [country_answer(runs, c, commodity, names, slugs, limits) for c in focus]
    for a in answers:
        a["slug"] = _slug(f"answer-{a['code']}", taken)
    verdicts = {(s.view["slug"], row[1]): row[3] for s in sections for row in s.overview}
    for a in answers:
        for row in a["rows"]:
            row["targets"] = verdicts.get((row["slug"], row["variant"]), "–")
    rows = [row for s in sections for row in s.overview]
    common = {row[5] for row in rows if row[2] != "–"}
    header = f"traced {source} share"
    if len(common) == 1 and next(iter(common)):
        what = next(iter(common))
        header = f"{header} {what}"
        for row in rows:
            row[2] = row[2].removesuffix(f" {what}")
    for row in rows:
        del row[5]
    view = {
        "title": title or default_title(source),
        "source": source_phrase(source),
        "generator": f"Generated by supplychain {__version__}",
        "overview": {
            "headers": ["scenario", "variant", header, "targets", "peak shortfall"],
            "rows": rows,
            "groups": [{"slug": s.view["slug"], "name": s.view["name"], "rows": [r[1:] for r in s.overview]}
                       for s in sections],
        },
        "scenarios": [s.view for s in sections],
        "answers": answers,
        "focus": focus,
        "sources": _sources(runs),
    }
    return view, sections


# ---------------------------------------------------------------------- output
def _visible(value: Any) -> Any:
    """Jinja ``finalize``: control and bidi characters in plain text made visible (:func:`clean_text`)."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return clean_text(value, newlines=True)
    return value


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        finalize=_visible,
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
            first = out[col].str[:1]  # NaN for cells that are not text
            risky = first.isin(["=", "+", "-", "@", "\t", "\r"]).to_numpy()
            if risky.any():
                out.loc[risky, col] = "'" + out.loc[risky, col].astype(str)
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


FILE_ORDER: Final = ("summary.md", "tables.xlsx", "measures.csv", "measures_full.csv.gz", "shortfall.csv",
                     "flows.csv.gz", "targets.csv", "limits.csv", "results.json")
"""Order of the files the page's "Files" footer links (any other file written beside them follows, by name)."""


def written_files(folder: Path) -> list[str]:
    """Return the files written at the top of a report ``folder`` that the page links, in :data:`FILE_ORDER`.

    The page itself (``index.html``), hidden files (the manifest) and folders (``images/``,
    whose files the page links where it shows them) are left out.
    """
    names = [p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != "index.html"]
    order = {name: i for i, name in enumerate(FILE_ORDER)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def _write_tree(folder: Path, render_html: Callable[[list[str]], str], md_text: str, sections: Sequence[_Section],
                meta: dict[str, Any], runs: Sequence[ScenarioRun] = (), focus: Sequence[str] = (),
                full_measures: bool = False, commodity: str | None = None) -> None:
    """Write the report into ``folder``: every other file first, then the page, which links the files written."""
    (folder / "images").mkdir()
    (folder / "summary.md").write_text(md_text, encoding="utf-8")
    for name in CSV_FILES:
        frames = [s.tables[name] for s in sections if not s.tables[name].empty]
        df = pd.concat(frames, ignore_index=True) if frames else \
            (sections[0].tables[name].iloc[:0] if sections else pd.DataFrame())  # the header even when empty
        if "scenario" in df.columns:
            df = df[["scenario", *[c for c in df.columns if c != "scenario"]]]
        if name == "measures":
            if full_measures:
                _csv_safe(df).to_csv(folder / "measures_full.csv.gz", index=False, float_format=csv_number)
            df = reported_measures(df, stacked(runs, "shortfall"), focus)
        _csv_safe(df).to_csv(folder / CSV_FILES[name], index=False, float_format=csv_number)
    limits = [s.tables["limits"].assign(scenario=s.view["name"]) for s in sections if not s.tables["limits"].empty]
    write_workbook(folder / "tables.xlsx", runs, commodity=commodity, focus=focus,
                   limits=pd.concat(limits, ignore_index=True) if limits else None)
    for s in sections:
        for img in s.images:
            for name, data in img.files().items():
                (folder / "images" / name).write_bytes(data)
    text = json.dumps(_plain(meta), indent=2, ensure_ascii=False, allow_nan=False)
    (folder / "results.json").write_text(text + "\n", encoding="utf-8")
    (folder / "index.html").write_text(render_html(written_files(folder)), encoding="utf-8")
    write_manifest(folder)


def write_report(
    results: ScenarioRun | Result | Iterable[ScenarioRun | Result],
    out_dir: str | os.PathLike[str],
    *,
    title: str | None = None,
    countries: Sequence[str] = (),
    year: int | None = None,
    commodity: str | None = None,
    png: bool = False,
    full_networks: bool = False,
    full_measures: bool = False,
    workers: int = 1,
) -> Path:
    """Write the report folder (HTML page, Markdown summary, tables, workbook, images) atomically.

    Parameters
    ----------
    results : ScenarioRun, Result, or an iterable of them
        What to report: :class:`ScenarioRun` objects (from :func:`run_scenario`),
        or bare :class:`~supplychain.api.Result` objects, grouped by scenario name
        (their sections then lack the scenario summary, sources and toggles).
    out_dir : path-like
        Folder to write; created, or replaced when it holds an earlier report.
    title : str, optional
        Page title (default :func:`default_title`: exposure to the runs' source, by name).
    countries : sequence of str, optional
        Focus countries (codes): each section's headline, charts and graphs are
        about every commodity they have final demand of (default: the targets').
    year : int, optional
        Focus year of each section (default: the targets' year, else the horizon;
        a year outside a scenario's years is brought within them, and each section
        states the year it shows).
    commodity : str, optional
        Focus commodity of the answers at the top and of the chain pictures (default:
        what each focus country uses furthest down the chain,
        :func:`~supplychain.report.headline.ranked_uses`' first).
    png : bool, default False
        Also write every picture and chart as PNG into ``images/`` (SVG only otherwise).
    full_networks : bool, default False
        Also write each variant's whole network as an SVG file (the baseline's is always written).
    full_measures : bool
        Also write every measure (per partner, origin, concentration …) as
        ``measures_full.csv.gz``; ``measures.csv`` holds what the report shows.
    workers : int, default 1
        Local worker processes drawing the scenarios' sections side by side (0 = one per
        CPU; ``report --workers``).

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    ReportError
        Nothing to report, or ``out_dir`` is a file or a non-empty folder that
        holds anything but an earlier report.
    OSError
        ``out_dir`` is a device, a named pipe or a socket, or cannot be written.
    TypeError
        ``results`` holds something other than runs and results.
    """
    out = Path(out_dir)
    check_target(out)
    runs = _runs(results)
    options = FigureOptions(png=png, full_networks=full_networks)
    view, sections = build_view(runs, title=title, countries=countries, year=year, commodity=commodity,
                                options=options, workers=workers)
    template = _environment().get_template("report.html.j2")
    md_text = summary_markdown(view)
    meta = {
        "title": view["title"],
        "generator": view["generator"],
        "scenarios": [s.summary for s in sections],
        "overview": [dict(zip(view["overview"]["headers"], row, strict=True)) for row in view["overview"]["rows"]],
    }
    atomic_write_dir(out, lambda tmp: _write_tree(tmp, lambda files: template.render(**view, files=files), md_text,
                                                  sections, meta, runs, view["focus"], full_measures, commodity))
    return out
