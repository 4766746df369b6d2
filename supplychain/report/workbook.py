"""The report's Excel workbook (``tables.xlsx``) and the trimmed measures table: tables people use.

:func:`write_workbook` writes, next to the report's CSV files:

* **one sheet per focus country** (the countries asked for, else the countries the
  targets name, else the US): rows are measures × commodity (the country's focus
  commodity first, then its other uses: :mod:`supplychain.report.headline`), columns are
  years, one block per scenario and variant — exposed share (traced to the source country plus
  unmet demand), traced share, direct import share, net import reliance, shortfall
  share (all as Excel percentages), then demand and shortfall in the commodity's unit, and the
  elements contained in what the country uses (NdPr, Dy, Tb: exposed, traced, short);
* **Shortfall**: every final use with demand, per scenario, variant, supply response and
  year, as an Excel table (filter buttons, banded rows): under ``rebalance`` the ``fixed``
  bound's rows too, ``response`` telling them apart
  (:func:`~supplychain.report.runs.shortfall_by_response`);
* **Flows**: every trade flow into or out of a focus country that the supply response
  changed (status other than ``normal``: blocked, reduced, re-routed, new, enabled by a
  deal), as an Excel table; every flow of every kind stays in ``flows.csv.gz``;
* **Targets** (when a scenario has targets): every target, variant and year, with its value,
  threshold, verdict and margin, as an Excel table;
* **What limits supply** (when the report has rows for it): each stage outside the source
  running at capacity and how much less demand goes unmet with 10 % more of it
  (:mod:`supplychain.report.limits`);
* **About**: what each sheet holds, the units and what "net exporter" means.

Every number cell carries the format of :func:`~supplychain.report.numbers.excel_format` for
its value (:func:`_format`): percentages ``0.0%``, quantities ``#,##0`` from 999.5 and four
significant digits below (``#,##0.0000`` for 0.386 t), so no cell that is not 0 reads 0; every
header names its unit. The file is written atomically
(:func:`supplychain.io.atomic.atomic_write`).

:func:`reported_measures` trims the tidy measures to what the report shows (the
headline measures of every country and commodity with final use, no per-partner rows)
for ``measures.csv``; ``report --full-measures`` adds every measure as ``measures_full.csv.gz``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import pandas as pd

from supplychain.io.atomic import atomic_write
from supplychain.report.dot_style import country_name, names_of
from supplychain.report.engine_notes import ONE_OPTIMUM
from supplychain.report.escape import clean_text
from supplychain.report.headline import headline_measures, headline_pairs, labelled, source_name
from supplychain.report.numbers import (
    EXCEL_KINDS,
    NET_EXPORTER,
    NET_EXPORTER_MEANING,
    excel_format,
    measure_text,
    snap,
)
from supplychain.report.runs import focus_of, shortfall_by_response

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from supplychain.api import Result
    from supplychain.report.runs import ScenarioRun
    from supplychain.schema.model import Scenario

__all__ = ["ELEMENT_METRICS", "REPORTED_METRICS", "reported_measures", "results_as_runs", "stacked", "write_workbook"]

REPORTED_METRICS: Final = labelled(("exposed_share", "traced_share", "direct_import_share", "net_import_reliance",
                                     "shortfall_share"))
"""The measures the report shows per country and commodity with final use, and their row labels (the one
:data:`~supplychain.report.headline.METRIC_LABELS`)."""

ELEMENT_METRICS: Final = ("element_exposed_share", "element_dependence", "element_shortfall_share")
"""Element measures (NdPr, Dy, Tb inside what a country uses) kept in the trimmed ``measures.csv``."""

PERCENT: Final = "percent"
"""A share's cells: ``0.0%``, more decimals below 0.1 % (:func:`~supplychain.report.numbers.excel_format`)."""
NOT_AVAILABLE: Final = measure_text(None)
"""A share cell without a value: a share of nothing, ``n/a`` (:func:`~supplychain.report.numbers.format_percent`)."""
POINTS: Final = "points"
"""A difference of shares in percentage points (a target's margin ×100): ``0.0" pt"``, more decimals below 0.1 pt."""
QUANTITY: Final = "quantity"
"""A quantity in its row's unit: ``#,##0`` from 999.5, else four significant digits (``#,##0.0000`` for 0.386)."""


def _format(cell: Any, kind: str) -> None:
    """Give a number cell the format of its value (:func:`~supplychain.report.numbers.excel_format`, ``kind``).

    The one place a cell's number format is chosen: a quantity or a share that is not 0 never reads 0 (a text
    cell, ``n/a``, keeps the kind's plain format).
    """
    value = cell.value
    cell.number_format = excel_format(value if isinstance(value, int | float) else 0.0, kind)

_FLOW_COLUMNS: Final = (
    ("scenario", "scenario", None), ("variant", "variant", None), ("year", "year", "0"),
    ("supplier_country", "from", None), ("buyer_country", "to", None), ("commodity", "commodity", None),
    ("unit", "unit", None), ("baseline", "baseline (unit)", QUANTITY), ("simulated", "simulated (unit)", QUANTITY),
    ("change", "change (unit)", QUANTITY), ("status", "status", None),
)
_SHORTFALL_COLUMNS: Final = (
    ("scenario", "scenario", None), ("variant", "variant", None), ("response", "response", None),
    ("year", "year", "0"), ("country", "country", None), ("commodity", "commodity", None), ("stage", "stage", None),
    ("unit", "unit", None), ("demand", "demand (unit)", QUANTITY), ("delivered", "delivered (unit)", QUANTITY),
    ("shortfall", "shortfall (unit)", QUANTITY), ("shortfall_share", "shortfall (% of demand)", PERCENT),
)
_SHIPPED_COLUMNS: Final = (
    ("scenario", "scenario", None), ("variant", "variant", None), ("year", "year", "0"),
    ("country", "country", None), ("commodity", "commodity", None), ("unit", "unit", None),
    ("shortfall_share", "shortfall (% of demand)", PERCENT), ("destination", "to", None), ("status", "status", None),
    ("shipped", "shipped (unit)", QUANTITY), ("feed_of", "feed of (short commodity)", None),
)
_LIMITS_COLUMNS: Final = (
    ("scenario", "scenario", None), ("variant", "variant", None), ("year", "year", "0"),
    ("stage", "stage +10%", None), ("stage_unit", "stage unit", None), ("facilities", "plants at capacity", None),
    ("assumed", "of which capacity assumed", None), ("capacity", "capacity", QUANTITY), ("added", "added", QUANTITY),
    ("commodity", "short commodity", None), ("unit", "unit", None), ("unmet", "unmet", QUANTITY),
    ("relief", "less unmet", QUANTITY), ("relief_share", "less unmet (% of unmet)", PERCENT),
)
_TARGET_COLUMNS: Final = (
    ("scenario", "scenario", None), ("variant", "variant", None), ("target", "target", None),
    ("description", "what it asks", None), ("year", "year", "0"), ("country", "country", None),
    ("commodity", "commodity or element", None), ("metric", "measure", None), ("value", "value (%)", PERCENT),
    ("bound", "bound", None), ("threshold", "threshold (%)", PERCENT), ("status", "verdict", None),
    ("margin_points", "margin (percentage points)", POINTS), ("reason", "why", None),
)
ELEMENT_ROWS: Final = labelled(ELEMENT_METRICS)
"""The element rows of a country's block (the NdPr, Dy and Tb inside what it uses; targets read them)."""
_BAD_TITLE: Final = re.compile(r"[\[\]:*?/\\]")


def _used(shortfall: pd.DataFrame) -> set[tuple[str, str]]:
    """(country, commodity) pairs with final demand in some year."""
    if shortfall.empty:
        return set()
    used = shortfall[shortfall["demand"] > 0]
    return set(zip(used["country"].astype(str), used["commodity"].astype(str), strict=True))


def reported_measures(measures: pd.DataFrame, shortfall: pd.DataFrame,
                      countries: Sequence[str] = ()) -> pd.DataFrame:
    """Trim tidy measures to what the report shows: headline and element measures of the focus countries.

    Keeps the rows of :data:`REPORTED_METRICS` for every (country, commodity) with final
    demand (``shortfall``), and the :data:`ELEMENT_METRICS` of every country with final
    demand, without per-partner breakdowns — for ``countries`` only when given (the
    report's focus countries, :func:`~supplychain.report.runs.focus_of`). A report's ``measures.csv`` is this
    table (``report --full-measures`` adds the full one).

    Parameters
    ----------
    measures : pandas.DataFrame
        Tidy measures (:attr:`Result.measures <supplychain.api.Result.measures>`, maybe
        of several variants and scenarios, with their key columns).
    shortfall : pandas.DataFrame
        The matching shortfall table (``country``, ``commodity``, ``demand``).
    countries : sequence of str, optional
        Keep these countries only (default: every country with final demand).

    Returns
    -------
    pandas.DataFrame
        The kept rows, in their order.

    Examples
    --------
    >>> m = pd.DataFrame({"country": ["US", "US", "US", "JP"], "commodity": ["magnet"] * 4,
    ...                   "metric": ["traced_share", "hhi_sourcing", "traced_share", "traced_share"],
    ...                   "partner": [None, None, "CN", None], "value": [0.5, 0.4, 0.3, 0.2]})
    >>> s = pd.DataFrame({"country": ["US"], "commodity": ["magnet"], "demand": [10.0]})
    >>> reported_measures(m, s)["value"].tolist(), len(reported_measures(m, s, ["JP"]))
    ([0.5], 0)
    """
    if measures.empty:
        return measures
    used = _used(shortfall)
    if countries:
        used = {(c, k) for c, k in used if c in set(countries)}
    users = {c for c, _ in used}
    partner = measures["partner"].fillna("").astype(str) if "partner" in measures.columns else None
    country = measures["country"].astype(str)
    pair = pd.Series(list(zip(country, measures["commodity"].astype(str), strict=True)), index=measures.index)
    metric = measures["metric"]
    keep = (metric.isin([m for m, _ in REPORTED_METRICS]) & pair.isin(used)) | (
        metric.isin(ELEMENT_METRICS) & country.isin(users))
    if partner is not None:
        keep &= partner == ""
    return measures[keep]


# ------------------------------------------------------------------- workbook
def _text(value: object) -> str:
    r"""Make text safe for a cell: control characters shown (:func:`~supplychain.report.escape.clean_text`), no formula.

    Examples
    --------
    >>> _text("=HYPERLINK(1)"), _text("a\x1b[2Jb")
    ("'=HYPERLINK(1)", 'a␛[2Jb')
    """
    s = clean_text(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@") else s


def _title(text: str, taken: set[str]) -> str:
    """Make a valid, unique sheet title (≤ 31 characters, none of the characters Excel forbids)."""
    base = _BAD_TITLE.sub(" ", _text(text).lstrip("'"))[:31].strip() or "sheet"
    title, i = base, 2
    while title.lower() in taken:
        suffix = f" {i}"
        title, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(title.lower())
    return title


def _number(value: Any) -> float | None:
    """Return a finite float for a cell (round-off as 0), or None for an empty cell."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return snap(x) if math.isfinite(x) else None


def _widths(ws: Worksheet, widths: Iterable[int]) -> None:
    from openpyxl.utils import get_column_letter

    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


class _Rows:
    """Append rows to a sheet and hand back their cells (``Worksheet.max_row`` scans every cell: slow)."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.count = 0

    def put(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """Append ``values`` as the next row (text made safe: :func:`_text`); return its cells."""
        self.ws.append([_text(v) if isinstance(v, str) else v for v in values])
        self.count += 1
        return tuple(self.ws.cell(self.count, j) for j in range(1, len(values) + 1))


def _country_sheet(ws: Worksheet, country: str, runs: Sequence[ScenarioRun], commodity: str | None = None) -> None:
    """Fill a focus country's sheet: one block per scenario and variant, measures × years.

    Within a block the commodities follow the headline rule
    (:func:`~supplychain.report.headline.headline_pairs`): the focus commodity (``commodity``,
    else the one the country uses furthest down the chain) first, then the other uses.
    """
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE5F0")
    names = names_of(next((r.scenario for r in runs if r.scenario is not None), None))
    out = _Rows(ws)
    out.put([f"{country_name(country, names)} ({country}): measures × years, one block per scenario and variant"])
    ws["A1"].font = Font(bold=True, size=13)
    out.put(["Shares are percentages; demand and shortfall are in the row's unit. "
             f"“{NET_EXPORTER}”: the country {NET_EXPORTER_MEANING}, so net import reliance is not defined; "
             "“n/a”: a share of nothing (no imports, or nothing arriving)."])
    widest = 0
    # the headline rule: the country's focus commodity first, then its other uses (report.headline)
    ranked = [k for _, k in headline_pairs([r.shortfall for run in runs for r in run.results], [country], commodity,
                                           every_use=True)]
    for run in runs:
        names = names_of(run.scenario)
        for result in run.results:
            sh = result.shortfall
            mine = sh[(sh["country"] == country) & (sh["demand"] > 0)] if not sh.empty else sh
            have = set(mine["commodity"].astype(str)) if not mine.empty else set()
            commodities = [k for k in ranked if k in have]
            if not commodities:
                continue
            years = list(result.years)
            widest = max(widest, len(years))
            rule = f", allocation {result.allocation}" if result.mode == "rebalance" else ""
            who = source_name([result.source], names)
            out.put([])
            (head,) = out.put([f"{run.name} — variant {result.variant} ({result.mode}{rule}); exposure to {who}"])
            head.font = bold
            for cell in out.put(["commodity", "unit", "measure", *years]):
                cell.font, cell.fill = bold, head_fill
            m = headline_measures(result.measures, result.source, [k for k, _ in REPORTED_METRICS], countries=[country])
            labels = m["label"].tolist() if "label" in m.columns else [None] * len(m)
            # a share of nothing (NaN, or no row: no consumption for net import reliance) reads n/a
            cells: dict[tuple[str, str, int], str | float | None] = {
                (str(k), str(x), int(y)): measure_text(v, lab) if _number(v) is None else _number(v)
                for k, x, y, v, lab in zip(m["commodity"], m["metric"], m["year"], m["value"], labels, strict=True)}
            for commodity in commodities:
                rows = mine[mine["commodity"] == commodity]
                unit = str(rows["unit"].iloc[0]) if "unit" in rows.columns else ""
                label = names.get(commodity, commodity.replace("_", " "))
                for metric, text in REPORTED_METRICS:
                    row = out.put([label, "%", text.format(source=who),
                                   *(cells.get((commodity, metric, y), NOT_AVAILABLE) for y in years)])
                    for cell in row[3:]:
                        _format(cell, PERCENT)
                        if isinstance(cell.value, str):
                            cell.alignment = Alignment(horizontal="right")
                for col, text in (("demand", "demand"), ("shortfall", "shortfall")):
                    by_year = rows.groupby("year")[col].sum()
                    values = [_number(by_year.get(y)) for y in years]
                    row = out.put([label, unit, f"{text} ({unit})", *values])
                    for cell in row[3:]:
                        _format(cell, QUANTITY)
            # the elements inside everything the country uses (NdPr, Dy, Tb: what element targets read)
            em = headline_measures(result.measures, result.source, list(ELEMENT_METRICS), countries=[country])
            for element in dict.fromkeys(em["commodity"].astype(str)) if not em.empty else ():
                mine_e = em[em["commodity"].astype(str) == element]
                by = {(str(x), int(y)): _number(v) for x, y, v in zip(mine_e["metric"], mine_e["year"],
                                                                       mine_e["value"], strict=True)}
                for metric, text in ELEMENT_ROWS:
                    if not any((metric, y) in by for y in years):
                        continue
                    values = [by.get((metric, y)) for y in years]
                    row = out.put([f"{element} contained", "%", text.format(source=who),
                                   *(NOT_AVAILABLE if v is None else v for v in values)])
                    for cell in row[3:]:
                        _format(cell, PERCENT)
                        if isinstance(cell.value, str):
                            cell.alignment = Alignment(horizontal="right")
    if widest == 0:
        out.put([])
        out.put([f"{country} has no final demand in these scenarios."])
    _widths(ws, [18, 16, 44, *([11] * widest)])
    ws.freeze_panes = "D3"


def _table_sheet(ws: Worksheet, name: str, df: pd.DataFrame,
                 columns: Sequence[tuple[str, str, str | None]], widths: Sequence[int]) -> None:
    """Write ``df`` as an Excel table named ``name`` (filter buttons, banded rows, number formats).

    A frame without columns (nothing to stack: no run has such rows, e.g. no final demand) is
    written with every header of ``columns`` over one ``(none)`` row, as the CSV files keep theirs.
    """
    from openpyxl.worksheet.table import Table, TableStyleInfo

    if df.columns.empty:
        df = pd.DataFrame(columns=[src for src, _, _ in columns])
    cols = [(src, head, fmt) for src, head, fmt in columns if src in df.columns]
    ws.append([head for _, head, _ in cols])
    data = df[[src for src, _, _ in cols]]
    for row in data.itertuples(index=False):
        values: list[str | float | None] = []
        for value, (_, _, fmt) in zip(row, cols, strict=True):
            if fmt is None:
                values.append(None if value is None or (isinstance(value, float) and math.isnan(value))
                              else _text(value))
            else:
                values.append(_number(value))
        ws.append(values)
    for j, (_, _, fmt) in enumerate(cols, start=1):
        if fmt is not None:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                if fmt in EXCEL_KINDS:
                    _format(cell, fmt)
                else:
                    cell.number_format = fmt
    from openpyxl.utils import get_column_letter

    last = len(data) + 1
    if last < 2:
        ws.append(["(none)", *([None] * (len(cols) - 1))])  # a table needs a data row
        last = 2
    ref = f"A1:{get_column_letter(len(cols))}{last}"
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    _widths(ws, widths[: len(cols)])
    ws.freeze_panes = "A2"


def stacked(runs: Sequence[ScenarioRun], attr: str) -> pd.DataFrame:
    """Stack ``attr`` of every run and variant in one table, with ``scenario`` and ``variant`` columns."""
    frames = []
    for run in runs:
        for r in run.results:
            f = getattr(r, attr)
            f = f() if callable(f) else f  # a table or a method that gives one (shipped_while_short)
            if f.empty:
                continue
            f = f.assign(scenario=run.name)
            if "variant" not in f.columns:
                f = f.assign(variant=r.variant)
            frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


_ABOUT: Final = (
    ("sheet", "what it holds"),
    ("<country>", "One per focus country (report --country, else the countries the targets name, else US): "
                  "measures × years, one block per scenario and variant. Shares in %, demand and shortfall in "
                  "the row's unit."),
    ("Shortfall", "Every final use with demand, per scenario, variant, supply response and year: demand, "
                  "delivered, shortfall (in the row's unit) and the share of demand not met. Under rebalance the "
                  "report also runs fixed (the trade pattern kept, blocked tonnes lost: the pessimistic bound the "
                  "page quotes as 'fixed:'); its rows have response 'fixed'. Filter on one response: rows of "
                  "different responses describe the same demand. An Excel table: filter with its buttons."),
    ("Flows", "Every trade flow into or out of a focus country that the supply response changed (blocked, reduced, "
              "re-routed, new, deal), in the row's unit; every flow of every kind is in flows.csv.gz."),
    ("Shipped while short", "A focus country's own supply of a commodity that still goes abroad in a year its own "
                            "users of it are short: to whom, with the flow's status (deal, new, normal …), in the "
                            "row's unit. Why the response does it: docs/report.md, 'Shipped abroad while short'."),
    ("Targets", "Every target of every scenario and variant, year by year: the measure's value, the threshold, the "
                "verdict (pass, fail, n/a) and the margin (threshold less value, in percentage points; negative: "
                "missed by that much). Element targets read the element rows of the country sheets."),
    ("What limits supply", "Per rebalance variant with a user at least 1% short in the focus year: each stage "
                           "outside the source running at capacity, and how much less demand goes unmet with 10% "
                           "more of its capacity (docs/rebalance.md, 'What limits supply'). " + ONE_OPTIMUM),
    ("exposed share", "What is traced to the source country plus what goes unmet, as a share of demand."),
    ("traced share", "The source country's share of what arrives, traced upstream through every stage."),
    (NET_EXPORTER, f"USGS's 'E': the country {NET_EXPORTER_MEANING}, so net import reliance is not defined."),
    ("units", "Every quantity is in its commodity's unit (t REO, kg Ga, t NdFeB product …): never add rows of "
              "different units."),
)


def _fill(wb: Any, runs: Sequence[ScenarioRun], focus: Sequence[str], commodity: str | None,
          limits: pd.DataFrame | None = None) -> None:
    taken: set[str] = set()
    names = names_of(next((r.scenario for r in runs if r.scenario is not None), None))
    for i, country in enumerate(focus):
        title = _title(f"{country} {country_name(country, names)}", taken)
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        _country_sheet(ws, country, runs, commodity)
    frames = [f.assign(scenario=run.name) for run in runs if not (f := shortfall_by_response(run)).empty]
    sh = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()  # both responses: a response column
    if not sh.empty:
        sh = sh[sh["demand"] > 0]
    _table_sheet(wb.create_sheet(_title("Shortfall", taken)), "Shortfall", sh, _SHORTFALL_COLUMNS,
                 [28, 26, 10, 7, 9, 18, 9, 16, 14, 14, 14, 14])
    fl = stacked(runs, "flows")
    if not fl.empty:
        fl = fl[(fl["kind"] == "trade") & (fl["status"] != "normal")
                & (fl["supplier_country"].isin(focus) | fl["buyer_country"].isin(focus))]
    _table_sheet(wb.create_sheet(_title("Flows", taken)), "Flows", fl, _FLOW_COLUMNS,
                 [28, 26, 7, 7, 7, 18, 16, 16, 16, 14, 10])
    shipped = stacked(runs, "shipped_while_short")
    shipped = (shipped[shipped["country"].isin(focus)] if not shipped.empty
               else pd.DataFrame(columns=[c for c, _, _ in _SHIPPED_COLUMNS]))  # no rows: the headers still
    _table_sheet(wb.create_sheet(_title("Shipped while short", taken)), "Shipped", shipped, _SHIPPED_COLUMNS,
                 [28, 26, 7, 9, 18, 16, 14, 9, 10, 14, 18])
    if limits is not None and not limits.empty:
        _table_sheet(wb.create_sheet(_title("What limits supply", taken)), "Limits", limits, _LIMITS_COLUMNS,
                     [28, 26, 7, 18, 14, 40, 30, 12, 12, 18, 16, 12, 12, 12])
    targets = stacked(runs, "targets")
    if not targets.empty:
        descriptions = {(run.name, tid): t.description or tid for run in runs if run.scenario is not None
                        for tid, t in run.scenario.targets.items()}
        targets = targets.assign(description=[descriptions.get((sc, str(t)), str(t)) for sc, t in
                                              zip(targets["scenario"], targets["target"], strict=True)],
                                 margin_points=pd.to_numeric(targets["margin"], errors="coerce") * 100)
        _table_sheet(wb.create_sheet(_title("Targets", taken)), "Targets", targets, _TARGET_COLUMNS,
                     [28, 26, 20, 50, 7, 9, 16, 24, 10, 7, 12, 8, 14, 60])
    about = wb.create_sheet(_title("About", taken))
    for row in _ABOUT:
        about.append(list(row))
    from openpyxl.styles import Font

    for cell in about[1]:
        cell.font = Font(bold=True)
    _widths(about, [18, 110])


def results_as_runs(runs: Sequence[ScenarioRun] | Sequence[Result], scenario: Scenario | None = None
                    ) -> list[ScenarioRun]:
    """Return ``runs`` as ScenarioRuns (:class:`~supplychain.report.runs.ScenarioRun`): Results grouped by scenario.

    Results are grouped by :attr:`~supplychain.api.Result.scenario` (its name), in the order
    given; ``scenario`` (a Result does not hold its scenario) is attached to the group of its
    name. ScenarioRuns are returned as they are.

    Raises
    ------
    TypeError
        Anything else in ``runs`` (naming ScenarioRun and the one-liner that builds it), a mix
        of both kinds, or ``scenario`` given with ScenarioRuns (a wrong type, as Python's).
    ScenarioError
        ``scenario`` named like none of the Results (a wrong value, located ``argument scenario=``,
        as :mod:`supplychain.arguments`).

    Examples
    --------
    >>> results_as_runs([])
    []
    """
    from supplychain.api import Result
    from supplychain.report.runs import ScenarioRun

    items = list(runs)
    how = ("give ScenarioRuns (supplychain.report.runs.ScenarioRun(scenario=world, results=tuple(results))) "
           "or Results of supplychain.simulate (with scenario=world)")
    if all(isinstance(r, ScenarioRun) for r in items):
        if scenario is not None and items:
            msg = f"scenario= is for runs given as Results; a ScenarioRun holds its scenario. {how}"
            raise TypeError(msg)
        return cast("list[ScenarioRun]", items)
    if not all(isinstance(r, Result) for r in items):
        kinds = sorted({type(r).__name__ for r in items if not isinstance(r, Result | ScenarioRun)})
        what = ", ".join(kinds) or "a mix of ScenarioRun and Result"
        msg = f"write_workbook takes ScenarioRuns or Results, not {what}: {how}"
        raise TypeError(msg)
    groups: dict[str, list[Result]] = {}
    for r in cast("list[Result]", items):
        groups.setdefault(r.scenario, []).append(r)
    if scenario is not None and scenario.scenario.name not in groups:
        from supplychain.arguments import argument_error

        raise argument_error("scenario", f"scenario {scenario.scenario.name!r} is none of the Results' scenarios "
                                         f"({', '.join(map(repr, groups))})",
                             "give the scenario the Results were simulated from (sc.load of the same file)")
    return [ScenarioRun(scenario=scenario if scenario is not None and scenario.scenario.name == name else None,
                        results=tuple(rs)) for name, rs in groups.items()]


def write_workbook(target: str | os.PathLike[str], runs: Sequence[ScenarioRun] | Sequence[Result],
                   countries: Sequence[str] = (), commodity: str | None = None, *,
                   focus: Sequence[str] | None = None, limits: pd.DataFrame | None = None,
                   scenario: Scenario | None = None) -> Path:
    """Write the report's workbook to ``target`` atomically.

    Parameters
    ----------
    target : path-like
        The ``.xlsx`` file to write (replaced atomically if it exists).
    runs : sequence of ScenarioRun, or of Result
        The simulated scenarios (:func:`~supplychain.report.runs.run_scenario`), or the
        :class:`~supplychain.api.Result` of each variant a notebook simulated
        (:func:`results_as_runs`: one scenario per ``Result.scenario``, its runs in the order given).
    countries : sequence of str, optional
        Focus countries, one sheet each (default: the targets' countries, else US).
    commodity : str, optional
        Focus commodity, first in every block (default: each country's use furthest down
        the chain, :func:`~supplychain.report.headline.headline_pairs`).
    focus : sequence of str, optional
        The focus countries already resolved (the report's, computed once); default
        :func:`~supplychain.report.runs.focus_of` of ``runs`` and ``countries``.
    limits : pandas.DataFrame, optional
        The report's "What limits supply" rows (``scenario``, ``variant`` and the columns of
        :func:`~supplychain.simulation.limits.capacity_limits`), a sheet of their own when not empty.
    scenario : Scenario, optional
        The scenario ``runs`` given as Results were simulated from (its toggles, targets
        and sources fill the summary; a Result does not hold it). Only with Results.

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    TypeError
        ``runs`` is neither ScenarioRuns nor Results, or ``scenario`` is given with ScenarioRuns
        (:func:`results_as_runs`).
    ScenarioError
        ``scenario`` is named like none of the Results.
    """
    from openpyxl import Workbook

    runs = results_as_runs(runs, scenario)
    wb = Workbook()
    _fill(wb, runs, focus_of(runs, countries) if focus is None else focus, commodity, limits)
    return Path(atomic_write(target, lambda p: wb.save(p)))
