"""The one-screen answer per focus country: how exposed it is, in every scenario and variant, at a glance.

For a focus country *c* (``report --country``; by default every country the scenarios'
targets name, else the United States) and its focus commodity *k* (``--commodity``; by
default the commodity it uses furthest down the chain — magnets before oxides — the
largest demand breaking ties: the headline rule of :mod:`supplychain.report.headline`, which
every other output follows), one row per scenario × variant reads three measures that
:meth:`~supplychain.api.Result.measures` already holds (nothing is recomputed here):

* ``exposed_share`` — what *c* consumes of *k* traced to the source, plus its unmet
  demand, over planned consumption (:mod:`supplychain.metrics.exposure`);
* ``traced_share`` — the traced source share of what arrives (``docs/domain.md``,
  "Measures of exposure", item 3);
* ``shortfall_share`` — the share of final demand not met;

each in the base year, its peak after the base year (the first year of its largest value
after it, with that year: a peak over every year was the base year in every row of the bundled
runs, a column that said nothing) and the horizon. A traced share is shaded on the colour scale of the network pictures
only in a year with no unmet demand: 0 % traced to the source while demand goes unmet is
not a good result, so that cell is marked "unmet" instead. Headings and the sentence name
the runs' source (:func:`~supplychain.report.headline.source_name`).

Under the table, the country's other commodities (the :data:`MAX_OTHERS` most exposed)
get one line each: the highest exposure and shortfall over every scenario and variant,
and where, with the ``fixed`` response's shortfall where it is :data:`RESPONSE_GAP` larger
(the overview's rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Final, TypeVar

import numpy as np
import pandas as pd

from supplychain.report.dot_style import country_name, share_bin
from supplychain.report.fold import SHARE_DIGITS
from supplychain.report.headline import (
    HEADLINE_METRICS,
    headline_measures,
    headline_pairs,
    metric_labels,
    source_name,
    source_phrase,
)
from supplychain.report.limits import assumed_bound
from supplychain.report.numbers import ASSUMED_MARK, ASSUMED_NOTE, format_percent
from supplychain.report.shipped import shipped_text
from supplychain.schema.assumptions import assumed_split

if TYPE_CHECKING:
    from supplychain.api import Result
    from supplychain.report.runs import ScenarioRun

__all__ = [
    "ASSUMED_MARK",
    "ASSUMED_NOTE",
    "OTHERS_FIXED_NOTE",
    "PEAK_TIE",
    "RESPONSE_GAP",
    "RESPONSE_WORDS",
    "SHIPPED_MARK",
    "UNMET_MARK",
    "Peak",
    "Series",
    "country_answer",
    "focus_commodity",
    "is_unmet",
    "mark_unmet",
    "pair_peaks",
    "peak",
    "short_name",
    "shortfall_peak",
    "shows_fixed",
    "unmet_part",
    "worst_peak",
]

MAX_OTHERS: Final = 8
"""The answer lists at most this many other commodities (the most exposed); the rest are counted."""
MAX_TIED_NAMED: Final = 3
"""The answer's worst shortfall names at most this many other runs reaching it too; the rest are counted."""

_W = TypeVar("_W")

RESPONSE_GAP: Final = 0.05
"""How much larger a share of demand the ``fixed`` response must leave unmet than ``rebalance``, at the peak of a
country · commodity and variant, for the report to show its figure beside the ``rebalance`` one."""


def shows_fixed(bound: float | None, reported: float | None) -> bool:
    """Whether the ``fixed`` response's shortfall ``bound`` is shown beside the ``reported`` one.

    Shown where it is at least :data:`RESPONSE_GAP` larger (a missing reported share counts as 0;
    a missing bound is never shown): the one rule of the sentence, the tables and the overview.

    Examples
    --------
    >>> shows_fixed(0.43, 0.0), shows_fixed(0.20, 0.18), shows_fixed(None, 0.0)
    (True, False, False)
    """
    return bound is not None and bound - (reported or 0.0) >= RESPONSE_GAP

PEAK_TIE: Final = 0.0005
"""Pairs whose peak shortfall shares are within this (0.05 percentage points) of the largest reach the peak too."""

RESPONSE_WORDS: Final = {
    "rebalance": "freed and spare supply re-routed within capacities to whoever is short: a best case, perfect "
                 "re-routing",
    "fixed": "the trade pattern kept, blocked tonnes lost: the pessimistic bound",
}
"""What each supply response assumes, as the report's notes say it (``docs/rebalance.md``)."""
OTHERS_FIXED_NOTE: Final = (f"\"fixed:\" the highest shortfall under the fixed response ({RESPONSE_WORDS['fixed']}), "
                            f"shown where it is at least {RESPONSE_GAP * 100:g} percentage points above the "
                            "rebalance one.")
"""The note under the answer's other commodities when one of them shows the ``fixed`` bound (:func:`_others`)."""

UNMET_MARK: Final = "†"
"""Marks, in text, a traced share read while demand goes unmet (the page's hatched "unmet" cell)."""
SHIPPED_MARK: Final = "‡"
"""Marks a shortfall cell of a year the country still ships its own supply of the commodity abroad."""
_UNMET: Final = 1e-9
"""A shortfall share above this counts as unmet demand."""
_SHORT_BG: Final = "#fde0dd"
"""Background of a shortfall cell with unmet demand (a light red, unlike the share scale's yellows)."""


@dataclass(frozen=True)
class Series:
    """One measure of one variant by year (years ascending, values finite or NaN)."""

    years: tuple[int, ...]
    values: tuple[float, ...]


def peak(series: Series) -> tuple[float, int] | None:
    """Return the largest value and the first year it is reached (values equal to :data:`SHARE_DIGITS` decimals tie).

    Examples
    --------
    >>> peak(Series((2024, 2025, 2026), (0.2, 0.5, 0.5000000000001)))
    (0.5, 2025)
    >>> peak(Series((2024,), (float("nan"),))) is None
    True
    """
    v = np.round(np.asarray(series.values, dtype=float), SHARE_DIGITS)
    if not np.isfinite(v).any():
        return None
    i = int(np.nanargmax(v))
    return float(series.values[i]), series.years[i]


def pair_peaks(shortfall: pd.DataFrame) -> pd.DataFrame:
    """Return each country · commodity's peak of a shortfall table: :func:`peak`'s rule, for every pair at once.

    ``shortfall``: rows of one variant (one per pair and year: a country's users of a commodity
    are one use node). Each pair's ``share`` is its largest ``shortfall_share`` and ``year`` the
    first year reaching it (shares equal to :data:`SHARE_DIGITS` decimals tie); a pair with no
    finite share has no row.

    Examples
    --------
    >>> t = pd.DataFrame({"country": ["US", "US", "JP"], "commodity": ["m", "m", "m"], "year": [2026, 2025, 2025],
    ...                   "shortfall_share": [0.2, 0.2000000000001, float("nan")]})
    >>> pair_peaks(t).to_dict("records")
    [{'country': 'US', 'commodity': 'm', 'share': 0.2000000000001, 'year': 2025}]
    """
    cols = ["country", "commodity", "share", "year"]
    if shortfall.empty:
        return pd.DataFrame(columns=cols)
    s = shortfall[np.isfinite(shortfall["shortfall_share"].to_numpy(dtype=float))]
    s = s.assign(level=s["shortfall_share"].astype(float).round(SHARE_DIGITS)).sort_values(
        ["country", "commodity", "year"], kind="stable").reset_index(drop=True)  # idxmax reads labels
    top = s.loc[s.groupby(["country", "commodity"], sort=True)["level"].idxmax()]  # the first year of the largest
    return pd.DataFrame({"country": top["country"].astype(str).to_numpy(),
                         "commodity": top["commodity"].astype(str).to_numpy(),
                         "share": top["shortfall_share"].astype(float).to_numpy(),
                         "year": top["year"].astype(int).to_numpy()}, columns=cols)


def shortfall_peak(part: pd.DataFrame) -> tuple[float, int] | None:
    """Return :func:`pair_peaks` of one country · commodity and variant's rows: (share, year), ``None`` without any."""
    top = pair_peaks(part)
    return None if top.empty else (float(top["share"].iloc[0]), int(top["year"].iloc[0]))


@dataclass(frozen=True)
class Peak:
    """The largest shortfall of a variant over its pairs, and every pair within :data:`PEAK_TIE` of it.

    ``where`` holds (country, commodity, year of the pair's own peak), sorted by commodity, year, country.
    """

    share: float
    where: tuple[tuple[str, str, int], ...]


def worst_peak(shortfall: pd.DataFrame) -> Peak | None:
    """Return the peak shortfall of one variant's table: the largest of its :func:`pair_peaks`, ties all named.

    The one rule for "the peak" over pairs (the overview's "peak shortfall" and its ``fixed``
    bound): each pair's peak is :func:`pair_peaks`'; the peak share is the largest of them, and
    every pair whose own peak is within :data:`PEAK_TIE` of it reaches it too, so a reader is not
    shown one country of five equally short. ``None`` when no pair has unmet demand (:func:`is_unmet`).

    Examples
    --------
    >>> t = pd.DataFrame({"country": ["US", "JP", "KR"], "commodity": "m", "year": 2025,
    ...                   "shortfall_share": [0.179991, 0.1799912, 0.17]})
    >>> worst_peak(t)
    Peak(share=0.1799912, where=(('JP', 'm', 2025), ('US', 'm', 2025)))
    """
    peaks = pair_peaks(shortfall)
    peaks = peaks[[is_unmet(v) for v in peaks["share"]]]
    if peaks.empty:
        return None
    share = float(peaks["share"].max())
    tied = peaks[peaks["share"] >= share - PEAK_TIE].sort_values(["commodity", "year", "country"], kind="stable")
    return Peak(share, tuple((str(c), str(k), int(y)) for c, k, y in
                             zip(tied["country"], tied["commodity"], tied["year"], strict=True)))


def short_name(run: ScenarioRun) -> str:
    """Return a scenario's short name: its file's stem (``us_japan_framework``), else its name."""
    return PurePath(run.file).stem if run.file else run.name


def _uses(runs: Sequence[ScenarioRun]) -> list[pd.DataFrame]:
    """Return the final uses of every run (its base result's shortfall table: every variant has the same demand)."""
    return [run.results[0].shortfall for run in runs if run.results]


def _series(measures: pd.DataFrame, commodity: str) -> dict[str, Series]:
    """Return one commodity's answer measures (:func:`~supplychain.report.headline.headline_measures`) by metric."""
    out: dict[str, Series] = {}
    if measures.empty:
        return out
    sel = measures[measures["commodity"] == commodity]
    for metric, part in sel.groupby("metric"):
        by_year = part.groupby("year")["value"].max().sort_index()
        out[str(metric)] = Series(tuple(int(y) for y in by_year.index), tuple(float(v) for v in by_year.to_numpy()))
    return out


def _value_at(series: Series | None, year: int) -> float:
    if series is None or year not in series.years:
        return float("nan")
    return series.values[series.years.index(year)]


def is_unmet(shortfall_share: float) -> bool:
    """Tell whether a shortfall share counts as unmet demand (above round-off; NaN does not).

    Examples
    --------
    >>> is_unmet(0.2), is_unmet(1e-12), is_unmet(float("nan"))
    (True, False, False)
    """
    return bool(shortfall_share > _UNMET)


def mark_unmet(cell: dict[str, str], unmet: float, year: int | None = None) -> bool:
    """Mark a traced-share cell read while demand goes unmet; return whether it was marked.

    0 % traced to China while demand goes short is not a good result: when the shortfall
    share ``unmet`` is above :data:`_UNMET` (NaN is not), the cell loses its shade on the
    share scale and gets the class ``unmet`` (hatched on the page, † in the summary) and a
    note saying how much demand is unmet (in ``year`` when given). The one rule of the
    answers and the scenario sections' headline tables.

    Examples
    --------
    >>> cell = {"text": "0%", "bg": "#ffffb2", "fg": "#222222", "note": "", "cls": ""}
    >>> mark_unmet(cell, 0.52, 2030), cell["cls"], cell["bg"], cell["note"]
    (True, 'unmet', '', '52% of demand unmet in 2030: the traced share counts only what arrives')
    >>> mark_unmet(cell, float("nan"))
    False
    """
    if not is_unmet(unmet):
        return False
    when = f" in {year}" if year is not None else ""
    cell.update(bg="", fg="", cls="unmet",
                note=f"{format_percent(unmet)} of demand unmet{when}: the traced share counts only what arrives")
    return True


def _cell(metric: str, value: float, year: int | None, unmet: float) -> dict[str, str]:
    """One cell: text, colours and a hover note (``year`` shown for a peak)."""
    text = format_percent(value) + (f" ({year})" if year is not None else "")
    cell = {"text": text, "bg": "", "fg": "", "note": "", "cls": "", "mark": ""}
    if metric == "shortfall_share":
        if is_unmet(value):
            cell.update(bg=_SHORT_BG, cls="short")
        return cell
    if metric == "traced_share" and mark_unmet(cell, unmet):
        return cell
    b = share_bin(value)
    if b is not None:
        cell.update(bg=b.fill, fg=b.font)
    return cell


def _shipped_notes(result: Result, country: str, commodity: str, names: Mapping[str, str]) -> dict[int, str]:
    """Per year the country ships its own supply of the commodity abroad while short: what and where."""
    rows = result.shipped_while_short()  # the commodity itself: its feeds are the section's table's
    rows = rows[(rows["country"] == country) & (rows["commodity"] == commodity) & (rows["feed_of"] == "")]
    years = rows["year"].to_numpy()
    return {int(y): shipped_text(rows[years == y], int(y), names) for y in np.unique(years)}


def _row(result: Result, measures: pd.DataFrame, country: str, commodity: str, names: Mapping[str, str],
         assumed: bool = False) -> tuple[list[dict[str, str]], dict[str, Series]] | None:  # fmt: skip
    """One row's cells and series: ``measures`` are the result's headline rows for the country (:func:`_own`).

    A shortfall cell of a year the country still ships its own supply abroad is marked
    :data:`SHIPPED_MARK`, with what went where as its note (:func:`_shipped_notes`). With
    ``assumed`` (the country's import shares of the commodity are a ranked-source split:
    :func:`~supplychain.schema.assumptions.assumed_split`) the exposure and traced cells are marked
    :data:`ASSUMED_MARK`: an order of magnitude, as the atlas stars them.
    """
    s = _series(measures, commodity)
    if not s:
        return None
    short = s.get("shortfall_share")
    shipped = _shipped_notes(result, country, commodity, names)
    y0, y1 = result.years[0], result.years[-1]
    cells: list[dict[str, str]] = []
    for metric, _ in HEADLINE_METRICS:
        ser = s.get(metric)
        top = peak(_after(ser, y0)) if ser is not None else None
        years = (y0, None if top is None else top[1], y1)
        values = (_value_at(ser, y0), float("nan") if top is None else top[0], _value_at(ser, y1))
        for year, value, shown in zip(years, values, (None, years[1], None), strict=True):
            cell = _cell(metric, value, shown, float("nan") if year is None else _value_at(short, year))
            if metric == "shortfall_share" and year in shipped:
                cell.update(mark=SHIPPED_MARK, note=shipped[year])
            if assumed and metric in ("exposed_share", "traced_share"):
                cell["mark"] = ASSUMED_MARK
            cells.append(cell)
    return cells, s


def _after(series: Series, year: int) -> Series:
    """Return the part of ``series`` after ``year`` (the whole series when nothing comes after it).

    Examples
    --------
    >>> _after(Series((2024, 2025, 2026), (0.9, 0.5, 0.6)), 2024)
    Series(years=(2025, 2026), values=(0.5, 0.6))
    >>> _after(Series((2024,), (0.9,)), 2024)
    Series(years=(2024,), values=(0.9,))
    """
    keep = [i for i, y in enumerate(series.years) if y > year]
    if not keep:
        return series
    return Series(tuple(series.years[i] for i in keep), tuple(series.values[i] for i in keep))


def _fixed_peaks(runs: Sequence[ScenarioRun], country: str, commodity: str) -> list[tuple[float, int, str, str]]:
    """Return the ``fixed`` response's peak shortfall of a pair in each run and variant: (share, year, run, variant).

    The runs reported under ``rebalance`` carry the ``fixed`` shortfall of the same variants
    (:attr:`~supplychain.report.runs.ScenarioRun.fixed_shortfall`); each variant's peak is
    :func:`shortfall_peak`'s. In page order (runs, then variants as simulated); a variant whose
    rows hold no finite share has none, and runs without a ``fixed`` bound add nothing.
    """
    out: list[tuple[float, int, str, str]] = []
    for run in runs:
        f = run.fixed_shortfall
        if f is None or f.empty:
            continue
        part = f[(f["country"] == country) & (f["commodity"] == commodity)]
        for variant, pv in part.groupby("variant", sort=False):
            top = shortfall_peak(pv)
            if top is not None:
                out.append((top[0], top[1], short_name(run), str(variant)))
    return out


def _fixed_worst(runs: Sequence[ScenarioRun], country: str, commodity: str) -> tuple[float, int, str, str] | None:
    """Return the ``fixed`` response's worst shortfall of a pair over the runs holding it: (share, year, run, variant).

    The largest of :func:`_fixed_peaks` (the first run and variant reaching it); ``None`` when no
    such run leaves its demand unmet.
    """
    hi = _highest((top[0], top) for top in _fixed_peaks(runs, country, commodity) if is_unmet(top[0]))
    return hi[1] if hi is not None else None


def unmet_part(exposed: float, unmet: float) -> str:
    """Say how much of an exposure is demand left unmet, for a range end of the answer's sentence.

    Exposure counts what arrives traced to the source plus unmet demand (``exposed_share``,
    ``docs/measures.md``), so a low exposure can be a run in which little arrives at all: a full
    ban whose 22 % is all shortfall is no best case. When the run leaves demand unmet that year
    (:func:`is_unmet`), the end says so: ": all of it unmet demand" when nothing traced to the
    source is left (exposure − unmet within round-off, :func:`is_unmet`'s), else ": 15% of demand
    unmet"; nothing when all demand is met (or the shortfall is unknown).

    Examples
    --------
    >>> unmet_part(0.218, 0.218), unmet_part(0.52, 0.15), unmet_part(0.91, 0.0), unmet_part(0.3, float("nan"))
    (': all of it unmet demand', ': 15% of demand unmet', '', '')
    """
    if not is_unmet(unmet):
        return ""
    if not is_unmet(exposed - unmet):
        return ": all of it unmet demand"
    return f": {format_percent(unmet)} of demand unmet"


def _sentence(country: str, commodity: str, names: Mapping[str, str],
              rows: Sequence[tuple[str, str, dict[str, Series]]], source: str,
              mode: str | None = None, bound: tuple[float, int, str, str] | None = None,
              limits: Mapping[tuple[str, str], pd.DataFrame] | None = None, bound_with: str = "",
              rules: str = "") -> str:  # fmt: skip
    """Say the answer in words: exposure in the base year, its range at the horizon, the worst shortfall.

    An end of the range in a run that leaves demand unmet says how much (:func:`unmet_part`).

    ``source`` is the display name of what exposure is measured to (:func:`~supplychain.report.headline.source_name`);
    ``mode`` the supply response of every row, named with the shortfall; ``bound`` the ``fixed``
    response's worst shortfall (:func:`_fixed_worst`), said too where it is :data:`RESPONSE_GAP` larger;
    ``limits`` the "What limits supply" rows by (scenario, variant): when the worst shortfall's
    binding stage rests on an assumed capacity, the sentence says so
    (:func:`~supplychain.report.limits.assumed_bound`); ``bound_with``: the measures of other
    countries the bound's run carries (:func:`~supplychain.report.blockers.with_others_text`); ``rules``: the
    worst shortfall under the other allocation rules (:func:`_rules_note`), said after it.
    """
    if not rows:
        return ""
    what = f"{country_name(country, names)} · {names.get(commodity, commodity.replace('_', ' '))}"
    parts = []
    exp0 = rows[0][2].get("exposed_share")
    if exp0 is not None:
        parts.append(f"{what}: {format_percent(exp0.values[0])} exposed to {source_phrase(source)} "
                     f"in {exp0.years[0]}.")
    ends = [(s["exposed_share"].values[-1], s["exposed_share"].years[-1], scen, variant,
             _value_at(s.get("shortfall_share"), s["exposed_share"].years[-1]))
            for scen, variant, s in rows if "exposed_share" in s and np.isfinite(s["exposed_share"].values[-1])]
    if ends:
        lo = min(ends, key=lambda e: e[0])
        hi = max(ends, key=lambda e: e[0])
        years = sorted({e[1] for e in ends})
        at = f"by {years[0]}" if len(years) == 1 else "at each scenario's horizon"
        parts.append(f"Exposure {at} ranges from {format_percent(lo[0])} ({lo[2]}, {lo[3]}{unmet_part(lo[0], lo[4])}) "
                     f"to {format_percent(hi[0])} ({hi[2]}, {hi[3]}{unmet_part(hi[0], hi[4])}).")  # fmt: skip
    reached = _reached(rows)  # every run reaching the worst shortfall, in page order
    worst = None if reached is None else (reached[0], *reached[1][0])
    response = f" under the {mode} response" if mode else ""
    if reached is None or worst is None:
        parts.append(f"No demand goes unmet in any scenario{response}.")
    else:
        caveat = assumed_bound((limits or {}).get((worst[2], worst[3])), worst[1], commodity, source_phrase(source),
                               names)  # fmt: skip
        tied = _tied_text(reached[1][1:])
        parts.append(f"Worst shortfall{response}: {format_percent(worst[0])} of demand unmet in {worst[1]} "
                     f"({worst[2]}, {worst[3]}{tied}){', ' + caveat if caveat else ''}"
                     f"{f'; {rules}' if rules else ''}.")  # fmt: skip
    if bound is not None and shows_fixed(bound[0], worst[0] if worst else None):
        parts.append(f"Under the fixed response ({RESPONSE_WORDS['fixed']}): {format_percent(bound[0])} unmet "
                     f"in {bound[1]} ({bound[2]}, {bound[3]}){bound_with}.")  # fmt: skip
    return " ".join(parts)


def _reached(rows: Sequence[tuple[str, str, dict[str, Series]]]) -> tuple[float, list[tuple[int, str, str]]] | None:
    """Return the worst shortfall of the answer's rows and every run reaching it: (share, [(year, run, variant)]).

    Each row's peak (:func:`peak`) where it leaves demand unmet (:func:`is_unmet`); ties by
    :func:`_top`'s rule, in page order. ``None`` when no row leaves demand unmet.
    """
    tops = ((top[0], (top[1], scen, variant)) for scen, variant, s in rows
            if "shortfall_share" in s and (top := peak(s["shortfall_share"])) is not None and is_unmet(top[0]))
    return _top(tops)


def _rules_note(runs: Sequence[ScenarioRun], rows: Sequence[tuple[str, str, dict[str, Series]]], country: str,
                commodity: str) -> str:  # fmt: skip
    """Say the answer's worst shortfall under the other allocation rules (or nothing).

    Only for a ``rebalance`` run with its scenario at hand: the first run reaching the worst
    shortfall (:func:`_reached`) is simulated once per other rule with the same toggles, up to the
    worst year (:func:`~supplychain.report.rule_range.rule_outcomes`), and said with whether the
    world's delivered total moves (:func:`~supplychain.report.rule_range.rules_text`). The report
    pays one simulation per other rule (three) per focus country with unmet demand.
    """
    from supplychain.report.rule_range import outcome, rule_outcomes, rules_text
    from supplychain.simulation.rationing import RULES

    reached = _reached(rows)
    if reached is None:
        return ""
    year, scen, variant = reached[1][0]
    for run in runs:
        if short_name(run) != scen or run.scenario is None:
            continue
        for r in run.results:
            if r.variant != variant or r.mode != "rebalance":
                continue
            own = outcome(r, year, country, commodity)
            if own is None:
                return ""
            others = rule_outcomes(run.scenario, year, country, commodity, [x for x in RULES if x != r.allocation],
                                   toggles=r.toggle_state.states)  # fmt: skip
            return rules_text(own, others)
    return ""


def _own(runs: Sequence[ScenarioRun], country: str) -> list[list[pd.DataFrame]]:
    """Return the headline rows of ``country`` per run and result.

    :func:`~supplychain.report.headline.headline_measures` of each result, computed once
    for the answer table and the other commodities' lines.
    """
    return [[headline_measures(r.measures, r.source, countries=[country]) for r in run.results] for run in runs]


def _top(found: Iterable[tuple[float, _W]]) -> tuple[float, list[_W]] | None:
    """Return the highest value of ``(value, where)`` pairs and every ``where`` reaching it, in page order.

    Values equal to :data:`SHARE_DIGITS` decimals tie, as in :func:`peak`; the value is the
    first one reaching the highest level. ``None`` for no pairs. The one rule of ties over runs
    (:func:`_highest`, the answer's worst shortfall).

    Examples
    --------
    >>> _top([(0.5, "a"), (0.9, "b"), (0.9000000000001, "c"), (0.2, "d")])
    (0.9, ['b', 'c'])
    """
    hi: tuple[float, list[_W]] | None = None
    for value, where in found:
        level = round(value, SHARE_DIGITS)
        if hi is None or level > round(hi[0], SHARE_DIGITS):
            hi = (value, [where])
        elif level == round(hi[0], SHARE_DIGITS):
            hi[1].append(where)
    return hi


def _highest(found: Iterable[tuple[float, _W]]) -> tuple[float, _W, int] | None:
    """Return the highest value of ``(value, where)`` pairs in page order: (value, first ``where`` reaching it, ties).

    :func:`_top`'s rule; ``ties`` counts the later pairs reaching the highest value. ``None`` for no pairs.

    Examples
    --------
    >>> _highest([(0.5, "a"), (0.9, "b"), (0.9000000000001, "c"), (0.2, "d")])
    (0.9, 'b', 1)
    """
    hi = _top(found)
    return None if hi is None else (hi[0], hi[1][0], len(hi[1]) - 1)


def _tied_text(others: Sequence[tuple[int, str, str]]) -> str:
    """Name the other runs reaching the worst shortfall, for the answer's sentence (empty when none do).

    Each as "scenario, variant in YEAR" (its own first year at that share, which may differ from
    the first run's); in page order (deterministic: the report's runs, then their variants as
    simulated), separated by semicolons, at most :data:`MAX_TIED_NAMED`, then "and N others".

    Examples
    --------
    >>> _tied_text([(2026, "b", "ban"), (2025, "c", "base")])
    '; also b, ban in 2026; c, base in 2025'
    >>> _tied_text([(2025, f"s{i}", "base") for i in range(5)])
    '; also s0, base in 2025; s1, base in 2025; s2, base in 2025; and 2 others'
    >>> _tied_text([])
    ''
    """
    if not others:
        return ""
    named = [f"{scen}, {variant} in {year}" for year, scen, variant in others[:MAX_TIED_NAMED]]
    more = len(others) - len(named)
    if more:
        named.append(f"and {more} other{'s' if more > 1 else ''}")
    return "; also " + "; ".join(named)


def _highest_text(hi: tuple[float, str, int] | None, zero: str = "in every run") -> str:
    """Say a :func:`_highest`: "71% (a, base, 2025; 3 more runs)"; a highest value of 0 is ``zero``; none is "–"."""
    if hi is None:
        return "–"
    value, where, ties = hi
    if round(value, SHARE_DIGITS) == 0:
        return f"{format_percent(value)} ({zero})"
    more = f"; {ties} more run{'s' if ties > 1 else ''}" if ties else ""
    return f"{format_percent(value)} ({where}{more})"


def _apart_text(entries: Sequence[tuple[str, Series, Result, str]], values: Sequence[float], years: Sequence[int],
               country: str, imports: bool) -> str:  # fmt: skip
    """Say what the runs that do not reach a base-year highest value read in that year, and why (or nothing).

    ``entries``: each run's (scenario, series, result, commodity id), in the order of ``values``
    and ``years`` (each run's peak and its year). When several runs reach the highest value in one
    same year (:func:`_every_run_text`'s case), the base year of every run, and others do not, each other
    value that year is said
    with the scenarios reading it (at most :data:`MAX_TIED_NAMED`, then "N others") and their count
    of runs: "; 83% in china_controls_all_minerals (2 runs)". In the base year every variant of a
    scenario reads the same observed data, so two values are two scenarios' models of one year. With
    ``imports`` (an exposure or traced line) the direct import share from the source that year is
    compared over every run (:func:`~supplychain.report.headline.headline_measures`): the same in all,
    the sentence says the difference is upstream tracing, "the same imports from China (direct share
    15% in all), traced through each scenario's own upstream chains"; else it names each value's.
    """
    hi = _top(zip(values, years, strict=True))
    if hi is None or len(hi[1]) < 2 or len(set(hi[1])) > 1 or len(hi[1]) == len(values):
        return ""
    level, year = round(hi[0], SHARE_DIGITS), hi[1][0]
    if any(not ser.years or ser.years[0] != year for _, ser, _, _ in entries):
        return ""  # not every run's base year: variants of one scenario may differ, so no scenario reads one value
    other: dict[str, list[str]] = {}  # the value read that year -> scenario per run
    for (scen, ser, _, _), value in zip(entries, values, strict=True):
        at = _value_at(ser, year)
        if round(value, SHARE_DIGITS) == level and year in ser.years and round(at, SHARE_DIGITS) == level:
            continue
        other.setdefault(format_percent(at), []).append(scen)
    if not other:
        return ""
    parts = []
    for text, scens in other.items():
        named = list(dict.fromkeys(scens))
        more = len(named) - MAX_TIED_NAMED
        who = ", ".join(named[:MAX_TIED_NAMED]) + (f" and {more} other{'s' if more > 1 else ''}" if more > 0 else "")
        parts.append(f"{text} in {who} ({len(scens)} run{'s' if len(scens) > 1 else ''})")
    why = ""
    if imports:
        direct = {format_percent(_value_at(_series(headline_measures(r.measures, r.source, ["direct_import_share"],
                                                                     countries=[country]), kid)
                                           .get("direct_import_share"), year))
                  for _, _, r, kid in entries}  # fmt: skip
        sources = {source_phrase(source_name([r.source])) for _, _, r, _ in entries}
        src = next(iter(sources)) if len(sources) == 1 else "the source"
        if len(direct) == 1 and "n/a" not in direct:
            why = (f": the same imports from {src} (direct share {next(iter(direct))} in all), traced through each "
                   "scenario's own upstream chains")
        else:
            why = f": direct import share from {src} {' / '.join(sorted(direct))}"
    return f"; {'; '.join(parts)}{why}"


def _every_run_text(values: Sequence[float], years: Sequence[int], apart: str = "") -> str:
    """Say a highest value several runs reach in one same year: "97% in 2024 (every run)", "(29 of 34 runs)".

    ``values``, ``years``: each run's peak and its year, in page order; ``apart``: what the other
    runs read that year (:func:`_apart_text`), after the count. When more than one run
    reaches the highest value (:func:`_top`'s ties) and all of them in the same year — a
    base-year figure no scenario moves — it is credited to no run: naming the first would read
    as that run's doing. Empty otherwise (one run reaches it, or in different years: the first is
    named, :func:`_highest_text`), and for a highest value of 0.

    Examples
    --------
    >>> _every_run_text([0.97] * 29, [2024] * 29)
    '97% in 2024 (every run)'
    >>> _every_run_text([0.97, 0.5, 0.97], [2024, 2026, 2024])
    '97% in 2024 (2 of 3 runs)'
    >>> _every_run_text([0.97, 0.97], [2024, 2026]), _every_run_text([0.97, 0.5], [2024, 2025])
    ('', '')
    """
    hi = _top(zip(values, years, strict=True))
    if hi is None or len(hi[1]) < 2 or len(set(hi[1])) > 1 or round(hi[0], SHARE_DIGITS) == 0:
        return ""
    runs = "every run" if len(hi[1]) == len(values) else f"{len(hi[1])} of {len(values)} runs"
    return f"{format_percent(hi[0])} in {hi[1][0]} ({runs}){apart}"


def _others(runs: Sequence[ScenarioRun], own: Sequence[Sequence[pd.DataFrame]], used: Iterable[str],
            names: Mapping[str, str], country: str = "", mode: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """List the country's other commodities: the highest exposure and shortfall, and where; most exposed first.

    ``own`` holds the country's headline rows of each run's results (:func:`_own`); ``used``,
    the commodities it has final demand of other than the headline's; ``mode``, the supply
    response of every result (``None`` when they differ). The first run (scenario and variant,
    in page order) to reach the highest value is named, with how many others reach it too
    (:func:`_highest`); a highest value of 0 is "in every run".

    The shortfall follows the overview's rule for the two responses: where the runs carry the
    ``fixed`` response's shortfall of ``country`` (:func:`_fixed_peaks`) and its highest peak is at
    least :data:`RESPONSE_GAP` above the reported one, it follows as "; fixed: 43% (run, variant,
    year)"; a shortfall of 0 that the ``fixed`` response does not share is "in every rebalance run".
    Lines are ranked by the largest share they show: exposure, shortfall or its ``fixed`` bound.
    Returns dicts with ``commodity, exposed, shortfall, rank, fixed`` (``fixed``: whether a
    ``fixed`` bound is shown).
    """
    lines: list[dict[str, Any]] = []
    groups: dict[str, list[str]] = {}  # one line per name: ids of different worlds with one name are one use
    for k in sorted(used):
        groups.setdefault(names.get(k, k.replace("_", " ")), []).append(k)
    for label, ks in groups.items():
        k = ks[0]
        found: dict[str, list[tuple[float, str]]] = {}  # metric -> each run's peak and where, in page order
        years: dict[str, list[int]] = {}  # metric -> each run's peak year, in the same order
        apart: dict[str, list[tuple[str, Series, Result, str]]] = {}  # metric -> (scenario, series, result, id)
        for run, measures in zip(runs, own, strict=True):
            for r, m in zip(run.results, measures, strict=True):
                for kid in ks:
                    for metric, ser in _series(m, kid).items():
                        top = peak(ser)
                        if top is not None:
                            found.setdefault(metric, []).append((top[0], f"{short_name(run)}, {r.variant}, {top[1]}"))
                            years.setdefault(metric, []).append(top[1])
                            apart.setdefault(metric, []).append((short_name(run), ser, r, kid))
        hi = {metric: _highest(values) for metric, values in found.items()}
        every = {metric: _every_run_text([v for v, _ in found[metric]], years[metric],
                                         _apart_text(apart[metric], [v for v, _ in found[metric]], years[metric],
                                                     country, metric == "exposed_share"))
                 for metric in found}  # fmt: skip
        peaks = [p for kid in ks for p in _fixed_peaks(runs, country, kid)]
        first = _highest((share, (share, year, scen, variant)) for share, year, scen, variant in peaks)
        bound = _highest((share, f"{scen}, {variant}, {year}") for share, year, scen, variant in peaks)
        short, exposed = hi.get("shortfall_share"), hi.get("exposed_share")
        reported = short[0] if short is not None else 0.0
        worst = bound[0] if bound is not None and is_unmet(bound[0]) else 0.0  # the fixed runs' highest, if short
        fixed = shows_fixed(worst, reported)
        shortfall = every.get("shortfall_share") or _highest_text(
            short, f"in every {mode} run" if mode is not None and worst > 0 else "in every run")
        if fixed:
            others = _with_others(runs, first[1] if first is not None else None, k, names)
            shortfall = f"{shortfall}; fixed: {_highest_text(bound)}{others}"
        rank = max(exposed[0] if exposed is not None else 0.0, reported, worst if fixed else 0.0)
        lines.append({"commodity": label,
                      "exposed": every.get("exposed_share") or _highest_text(exposed),
                      "shortfall": shortfall, "rank": rank, "fixed": fixed})  # fmt: skip
    lines.sort(key=lambda line: -float(line["rank"]))
    return lines


def focus_commodity(runs: Sequence[ScenarioRun], country: str, commodity: str | None) -> str | None:
    """Return a focus country's answer commodity: ``commodity``, else the headline rule's over every run."""
    pairs = headline_pairs(_uses(runs), [country], commodity)
    return pairs[0][1] if pairs else None


def country_answer(runs: Sequence[ScenarioRun], country: str, commodity: str | None,
                   names: Mapping[str, str], slugs: Sequence[str],
                   limits: Mapping[str, pd.DataFrame] | None = None) -> dict[str, Any]:  # fmt: skip
    """Build the view of one focus country's answer (plain dicts; text unescaped, the template escapes it).

    Parameters
    ----------
    runs : sequence of ScenarioRun
        Every scenario of the report, in page order.
    country : str
        Focus country code.
    commodity : str or None
        Focus commodity (when ``None``, the one the headline rule picks over every run:
        :func:`~supplychain.report.headline.headline_pairs`).
    names : mapping of str to str
        Display names of countries and commodities.
    slugs : sequence of str
        Each run's section id on the page (for links), in the order of ``runs``.
    limits : mapping of str to pandas.DataFrame, optional
        Each section's "What limits supply" rows by its id (:func:`~supplychain.report.limits.limits_table`'s
        ``table``), for the sentence to say when the worst shortfall rests on an assumed capacity.

    Returns
    -------
    dict
        ``country, code, commodity, commodity_id, source, sentence, years, rows, others,
        others_more, others_note, metrics, shipped, assumed`` (``others_note``: :data:`OTHERS_FIXED_NOTE` when a
        line of ``others`` shows a ``fixed`` bound, else empty; ``source``: the runs' source in a sentence,
        :func:`~supplychain.report.headline.source_phrase`; ``metrics``: the headings, naming
        it); ``rows`` hold ``scenario, title, slug, variant, first,
        cells`` (nine cells: base, peak, horizon of each of :data:`HEADLINE_METRICS`); ``shipped``:
        whether a shortfall cell is marked :data:`SHIPPED_MARK`; ``assumed``: whether a cell is marked
        :data:`ASSUMED_MARK`.
    """
    pairs = headline_pairs(_uses(runs), [country], commodity, every_use=True)
    k = pairs[0][1] if pairs else None  # focus_commodity's, with the country's other uses after it
    source = source_name([r.source for run in runs for r in run.results], names)
    view: dict[str, Any] = {"country": country_name(country, names), "code": country, "commodity": "",
                            "commodity_id": k or "", "source": source_phrase(source), "sentence": "", "years": "",
                            "rows": [], "others": [], "others_more": 0, "others_note": "", "shipped": False,
                            "assumed": False,
                            "metrics": [label for _, label in metric_labels(HEADLINE_METRICS, source)]}  # fmt: skip
    if k is None:
        return view
    view["commodity"] = names.get(k, k.replace("_", " "))
    found: list[tuple[str, str, dict[str, Series]]] = []
    spans: set[str] = set()
    own = _own(runs, country)
    for run, slug, measures in zip(runs, slugs, own, strict=True):
        first = True
        assumed = run.scenario is not None and k in assumed_split(run.scenario, country)
        for r, m in zip(run.results, measures, strict=True):
            row = _row(r, m, country, k, names, assumed)
            if row is None:
                continue
            cells, series = row
            view["rows"].append({"scenario": short_name(run), "title": run.name, "slug": slug, "variant": r.variant,
                                 "first": first, "cells": cells})  # fmt: skip
            found.append((short_name(run), r.variant, series))
            spans.add(f"{r.years[0]}–{r.years[-1]}")
            first = False
    view["years"] = next(iter(spans)) if len(spans) == 1 else ""
    modes = {r.mode for run in runs for r in run.results}
    bounds = {(short_name(run), str(v)): part for run, slug in zip(runs, slugs, strict=True)
              for v, part in (limits or {}).get(slug, pd.DataFrame(columns=["variant"])).groupby("variant")}
    bound = _fixed_worst(runs, country, k)
    view["sentence"] = _sentence(country, k, names, found, source, next(iter(modes)) if len(modes) == 1 else None,
                                 bound, bounds, _with_others(runs, bound, k, names),
                                 _rules_note(runs, found, country, k))  # fmt: skip
    others = _others(runs, own, [use for _, use in pairs[1:]], names, country,
                     next(iter(modes)) if len(modes) == 1 else None)
    view["others"] = others[:MAX_OTHERS]
    view["others_more"] = len(others) - len(view["others"])
    view["others_note"] = OTHERS_FIXED_NOTE if any(o["fixed"] for o in view["others"]) else ""
    view["shipped"] = any(c.get("mark") == SHIPPED_MARK for row in view["rows"] for c in row["cells"])
    view["assumed"] = any(c.get("mark") == ASSUMED_MARK for row in view["rows"] for c in row["cells"])
    view["assumed_note"] = f"{ASSUMED_MARK} {ASSUMED_NOTE}." if view["assumed"] else ""
    view["part_year_note"] = _part_year_note(runs)
    return view


def _part_year_note(runs: Sequence[ScenarioRun]) -> str:
    """Say that the table's years in which a policy or agreement starts or ends mid-year are averages (or nothing).

    The first such note of the runs (:func:`~supplychain.report.part_year.part_year_notes`, after the base
    year) is given as the example, with its run; each scenario's Shortfall note lists all of its own.
    """
    from supplychain.report.part_year import part_year_notes

    for run in runs:
        if run.scenario is None:
            continue
        for r in run.results:
            notes = part_year_notes(run.scenario, r.toggle_state.active, r.years[1:])
            if notes:
                return ("Part-year figures: a year in which a policy or agreement of the run starts or ends is an "
                        f"annual average (e.g. in {short_name(run)}, {r.variant}: {notes[0]}); each scenario's "
                        "Shortfall note lists them.")
    return ""


def _with_others(runs: Sequence[ScenarioRun], bound: tuple[float, int, str, str] | None, commodity: str,
                 names: Mapping[str, str]) -> str:  # fmt: skip
    """Say the measures of countries other than the source in force in a ``fixed`` bound's run (or nothing).

    ``bound``: (share, year, scenario, variant), :func:`_fixed_worst`'s; the measures are those
    blocking flows of `commodity`'s family in that run (:func:`~supplychain.report.blockers.other_blockers`).
    """
    from supplychain.report.blockers import other_blockers, with_others_text

    if bound is None:
        return ""
    for run in runs:
        if short_name(run) != bound[2]:
            continue
        for r in run.results:
            if getattr(r, "variant", None) == bound[3]:
                return with_others_text(other_blockers(r, getattr(run, "scenario", None), names, [commodity]))
    return ""

