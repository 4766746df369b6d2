r"""Generate the "Results" tables of ``scenarios/README.md`` (``make scenario-results``).

These Markdown sections are written between ``<!-- results:start -->`` and
``<!-- results:end -->`` in the README:

* **published vs computed** — every check of
  :data:`~supplychain.report.published.PUBLISHED_CHECKS` on the baseline
  (``baseline_2024.yaml``, 2024), nested in its own markers
  ``<!-- published:start -->`` / ``<!-- published:end -->``;
* **hindcast** — the 2025 licensing episode against China's monthly magnet exports to
  the US (:mod:`supplychain.report.hindcast`);
* **element dependence** and **binding inputs** (:mod:`supplychain.report.element_tables`);
* **scenario outcomes** — for every top-level scenario in the folder (files with a
  ``scenario:`` section), the ``rebalance`` response of base and every variant
  (:func:`outcome_table`): per focus country and major consumer (:data:`COUNTRIES`), the
  exposed share (traced to China plus unmet demand), the traced China share and the
  shortfall (its peak and :data:`HORIZON`) of its headline use (the commodity it uses
  furthest down the chain, :mod:`supplychain.report.headline`: NdFeB magnets) and of the
  USGS compounds aggregate, and the targets met in :data:`HORIZON`; under each table, every verdict in
  :data:`HORIZON` whose value lies within :data:`NEAR` of its threshold, with its margin
  (:func:`near_threshold_markdown`), so a pass or fail by a point reads as one.

It also rewrites the uncertainty figures of the ``path_to_2030`` notes, between
``<!-- uncertainty:start -->`` and ``<!-- uncertainty:end -->``
(:mod:`supplychain.report.uncertainty_prose`: a 200-sample sweep and a one-at-a-time sweep).

Usage::

    python -m supplychain.report.scenario_results            # rewrite the README (a few minutes)
    python -m supplychain.report.scenario_results --check    # exit 1 if the published table is stale

``--check`` writes nothing and compares only the published-check table (the
scenario outcomes take minutes to compute).

Examples
--------
>>> replace_between("a <!-- s -->old<!-- e --> b", "<!-- s -->", "<!-- e -->", "new")
'a <!-- s -->\nnew\n<!-- e --> b'
>>> pct(0.68537), pct(float("nan")), signed_pct(-0.00001)
('68.5%', '—', '0.0%')
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pandas as pd

from supplychain.report.headline import default_focus, headline_measures, headline_pairs
from supplychain.report.markdown import md_escape, md_table
from supplychain.report.published import (
    BASELINE_FILE,
    PUBLISHED_CHECKS,
    SOURCE,
    YEAR,
    Baseline,
    Check,
    CheckResult,
    evaluate,
    load_baseline,
)
from supplychain.schema.model import Scenario

if TYPE_CHECKING:
    from supplychain.uncertainty.result import TargetSpec
    from supplychain.uncertainty.sensitivity import OATResult

__all__ = [
    "COUNTRIES",
    "HORIZON",
    "MAGNETS",
    "NEAR",
    "OUTCOME_METRICS",
    "PUBLISHED_END",
    "PUBLISHED_START",
    "RESULTS_END",
    "RESULTS_START",
    "MarkerError",
    "ScenarioOutcome",
    "count_flips",
    "extract_between",
    "main",
    "near_threshold",
    "near_threshold_flips",
    "near_threshold_markdown",
    "not_representable_in_force",
    "outcome_table",
    "outcomes_markdown",
    "pct",
    "published_markdown",
    "published_table",
    "replace_between",
    "results_block",
    "run_scenarios",
    "signed_pct",
]

RESULTS_START: Final = "<!-- results:start -->"
RESULTS_END: Final = "<!-- results:end -->"
PUBLISHED_START: Final = "<!-- published:start -->"
PUBLISHED_END: Final = "<!-- published:end -->"
HORIZON: Final = 2030
"""The year the scenario outcomes and targets are read in."""
_DASH: Final = "—"


# ------------------------------------------------------------------ formatting
def pct(x: float) -> str:
    """Format a share as a percentage with one decimal (``—`` for NaN).

    Examples
    --------
    >>> pct(0.835), pct(-0.00001)
    ('83.5%', '0.0%')
    """
    if math.isnan(x):
        return _DASH
    s = f"{x * 100:.1f}%"
    return "0.0%" if s == "-0.0%" else s


def signed_pct(x: float) -> str:
    """Format a difference of shares as a signed percentage, one decimal (``0.0%`` when it rounds to zero).

    Examples
    --------
    >>> signed_pct(0.0069), signed_pct(-0.02), signed_pct(1e-12)
    ('+0.7%', '-2.0%', '0.0%')
    """
    if math.isnan(x):
        return _DASH
    s = f"{x * 100:+.1f}%"
    return "0.0%" if s in ("+0.0%", "-0.0%") else s


# ------------------------------------------------------------------ markers
class MarkerError(ValueError):
    """A marker is missing, repeated, or out of order."""


def _span(text: str, start: str, end: str) -> tuple[int, int]:
    i = text.find(start)
    if i < 0:
        msg = f"marker {start!r} not found"
        raise MarkerError(msg)
    if text.find(start, i + len(start)) >= 0:
        msg = f"marker {start!r} occurs more than once"
        raise MarkerError(msg)
    j = text.find(end, i + len(start))
    if j < 0:
        msg = f"marker {end!r} not found after {start!r}"
        raise MarkerError(msg)
    return i + len(start), j


def replace_between(text: str, start: str, end: str, content: str) -> str:
    r"""Replace what lies between two markers (kept) by ``content`` on lines of its own.

    Parameters
    ----------
    text : str
        The document.
    start, end : str
        The markers; ``start`` must occur once, ``end`` after it.
    content : str
        The new text (leading and trailing line breaks are normalised).

    Returns
    -------
    str
        The document with the span replaced; text outside the markers is unchanged.

    Raises
    ------
    MarkerError
        A marker is missing, ``start`` occurs twice, or ``end`` comes first.

    Examples
    --------
    >>> replace_between("x\n<!-- s -->\nold\n<!-- e -->\ny", "<!-- s -->", "<!-- e -->", "new\n")
    'x\n<!-- s -->\nnew\n<!-- e -->\ny'
    """
    i, j = _span(text, start, end)
    return text[:i] + "\n" + content.strip("\n") + "\n" + text[j:]


def extract_between(text: str, start: str, end: str) -> str:
    r"""Return the text between two markers, without surrounding line breaks.

    Raises
    ------
    MarkerError
        As in :func:`replace_between`.

    Examples
    --------
    >>> extract_between("a<!-- s -->\nhi\n<!-- e -->", "<!-- s -->", "<!-- e -->")
    'hi'
    """
    i, j = _span(text, start, end)
    return text[i:j].strip("\n")


# ------------------------------------------------------------------ published checks
def _fmt(r: CheckResult, x: float) -> str:
    return f"{x:,.0f} t" if r.check.unit == "t" and not math.isnan(x) else pct(x)


def _difference(r: CheckResult) -> str:
    """Say a check's difference: per cent of the published figure on tonnes, percentage points on shares."""
    text = signed_pct(r.difference)
    return text if r.check.unit == "t" or text == _DASH else f"{text.removesuffix('%')} pp"


def published_table(baseline: Baseline, checks: tuple[Check, ...] = PUBLISHED_CHECKS) -> str:
    """Render the published-vs-computed section as Markdown (a pure function of the base year).

    Parameters
    ----------
    baseline : Baseline
        The base year of ``scenarios/baseline_2024.yaml`` (:func:`~supplychain.report.published.load_baseline`).
    checks : tuple of Check, optional
        The checks (default :data:`~supplychain.report.published.PUBLISHED_CHECKS`).

    Returns
    -------
    str
        A heading, one explanatory sentence and the table (columns check, model figure,
        published, source, computed, difference, within tolerance, note), without a
        final line break.
    """
    results = evaluate(baseline, checks)
    rows = [
        [f"{md_escape(r.check.what)} (`{r.check.id}`)", r.check.kind, _fmt(r, r.check.published),
         md_escape(r.check.source), _fmt(r, r.computed), _difference(r),
         f"{'yes' if r.ok else 'no, a stated gap' if r.check.gap else '**no**'} "
         f"(±{r.check.tolerance * 100:g}{' %' if r.check.unit == 't' else ' pp'})",
         md_escape(r.check.note + (f"; gap: {r.check.gap}" if r.check.gap else ""))]
        for r in results
    ]
    table = md_table(["check", "model figure", "published", "source", "computed", "difference", "within tolerance",
                      "note"], rows, escape=False)
    n_computed = sum(r.check.kind == "computed" for r in results)
    intro = (f"Baseline `{BASELINE_FILE}`, year {YEAR}, exposure to {SOURCE}. Difference = computed − published "
             "(percentage points on shares, per cent of the published figure on tonnes); tolerances are set per "
             f"check. {n_computed} of the {len(results)} checks compare a figure the model *computes*; the others "
             "read back an input (or plain arithmetic of inputs) and only show that the data were entered right.")
    return f"### Published vs computed\n\n{intro}\n\n{table}"


def published_markdown(scenarios: str | Path = "scenarios") -> str:
    """Load the baseline of a scenario folder and render :func:`published_table`.

    Parameters
    ----------
    scenarios : str or Path, optional
        The folder holding ``baseline_2024.yaml`` (default ``scenarios``).

    Returns
    -------
    str
        As :func:`published_table`.

    Raises
    ------
    ScenarioError
        The baseline does not load (sources are required).
    """
    return published_table(load_baseline(scenarios))


# ------------------------------------------------------------------ scenario outcomes
@dataclass(frozen=True)
class ScenarioOutcome:
    """The rebalance results of one scenario file, base and every variant.

    Attributes
    ----------
    file : str
        The file name (e.g. ``path_to_2030.yaml``).
    scenario : Scenario
        The loaded scenario.
    table : pandas.DataFrame
        ``variant``, ``year``, ``country``, ``commodity``, ``metric``, ``value``: the measures of
        :data:`OUTCOME_METRICS` for every country, and one ``target:<id>`` row per target and
        year (1 pass, 0 fail).
    uses : pandas.DataFrame
        ``variant``, ``year``, ``country``, ``commodity``, ``stage``, ``demand``: every final use
        (what picks each country's headline commodity, :func:`~supplychain.report.headline.headline_pairs`).
    verdicts : pandas.DataFrame
        ``variant``, ``target``, ``year``, ``value``, ``bound``, ``threshold``, ``met``, ``margin``, ``status``:
        every target's verdict (``Result.targets``, :func:`~supplychain.simulation.targets.evaluate_targets`);
        empty when not given.
    """

    file: str
    scenario: Scenario
    table: pd.DataFrame
    uses: pd.DataFrame
    verdicts: pd.DataFrame = field(default_factory=pd.DataFrame)


OUTCOME_METRICS: Final = ("exposed_share", "traced_share", "shortfall_share", "element_exposed_share")
"""Measures kept for the outcome tables."""
COUNTRIES: Final = ("US", "JP", "EU", "KR", "CN", "ROW")
"""The major consumers shown in the outcome tables, in this order, after the focus countries."""
MAGNETS: Final = "ndfeb_magnet"
"""The headline use the "magnets" columns are named after; a row whose headline use differs names it."""
NEAR: Final = 0.05
"""A published verdict whose value lies within this of its threshold (5 percentage points) is printed with its
margin (:func:`near_threshold`)."""
VERDICT_COLUMNS: Final = ("variant", "target", "year", "value", "bound", "threshold", "met", "margin", "status")


def outcome_table(scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Simulate base and every variant (``rebalance``, the scenario's allocation rule) and keep the outcome rows.

    Returns
    -------
    table, uses, verdicts : pandas.DataFrame
        As :attr:`ScenarioOutcome.table`, :attr:`ScenarioOutcome.uses` and :attr:`ScenarioOutcome.verdicts`.
    """
    from supplychain.simulation.variants import run_variants

    names = ["base", *sorted(scenario.variants)]
    outs = run_variants(scenario, [(None if v == "base" else v, None) for v in names], mode="rebalance",
                        source=SOURCE)
    frames, uses, verdicts = [], [], []
    for variant, out in zip(names, outs, strict=True):
        m = headline_measures(out.measures, SOURCE, OUTCOME_METRICS)
        frames.append(m[["year", "country", "commodity", "metric", "value"]].assign(variant=variant))
        sh = out.shortfall.rename(columns={"demand_t": "demand"})
        uses.append(sh[["year", "country", "commodity", "stage", "demand"]].assign(variant=variant))
        t = out.targets
        if len(t):
            frames.append(pd.DataFrame({"year": t["year"], "country": t["country"], "commodity": t["commodity"],
                                        "metric": "target:" + t["target"].astype(str),
                                        "value": t["met"].map({True: 1.0, False: 0.0}).astype(float),
                                        "variant": variant}))
            verdicts.append(t.assign(variant=variant)[list(VERDICT_COLUMNS)])
    table = pd.concat(frames, ignore_index=True)[["variant", "year", "country", "commodity", "metric", "value"]]
    verdict_table = (pd.concat(verdicts, ignore_index=True) if verdicts
                     else pd.DataFrame(columns=list(VERDICT_COLUMNS)))
    return table, pd.concat(uses, ignore_index=True), verdict_table


def run_scenarios(scenarios: str | Path = "scenarios") -> list[ScenarioOutcome]:
    """Simulate every top-level scenario (rebalance, base and every variant): :func:`outcome_table` of each.

    Parameters
    ----------
    scenarios : str or Path, optional
        The folder (default ``scenarios``); fragments without ``scenario:`` are skipped.

    Returns
    -------
    list of ScenarioOutcome
        In file-name order.

    Raises
    ------
    ScenarioError
        A file does not validate (sources are required).
    SolverError
        A solve fails.
    """
    from supplychain.io import validate_paths

    out = []
    for report in validate_paths(scenarios, require_sources=True):
        if report.error is not None:
            raise report.error
        if report.scenario is None:  # a fragment of the base world
            continue
        out.append(ScenarioOutcome(Path(report.file).name, report.scenario, *outcome_table(report.scenario)))
    return out


def _series(table: pd.DataFrame, country: str, commodity: str, metric: str) -> pd.Series:
    rows = table.loc[table["country"].eq(country) & table["commodity"].eq(commodity) & table["metric"].eq(metric)]
    return rows.groupby("year")["value"].first().sort_index()


def _at(series: pd.Series, year: int) -> float:
    return float(series.get(year, math.nan))


def _arrow(a: float, b: float) -> str:
    return _DASH if math.isnan(a) and math.isnan(b) else f"{pct(a)} → {pct(b)}"


def _peak(series: pd.Series) -> str:
    """Return the largest value and the first year it is reached (:func:`~supplychain.report.answers.peak`)."""
    import numpy as np

    from supplychain.report.answers import Series, peak
    from supplychain.report.fold import SHARE_DIGITS

    top = peak(Series(tuple(int(y) for y in series.index), tuple(float(v) for v in series.to_numpy())))
    if top is None:
        return _DASH
    value, year = top
    if np.round(value, SHARE_DIGITS) <= 0:
        return pct(0.0)
    return f"{pct(value)} in {year}"


def _headlines(outcomes: Sequence[ScenarioOutcome]) -> list[tuple[str, str]]:
    """Return the rows of every scenario's table: (country, headline commodity), focus countries first.

    As the report of the same folder chooses them (:mod:`supplychain.report.answers`): the
    focus countries are the countries any scenario's targets name, else US
    (:func:`~supplychain.report.headline.default_focus`), followed by the rest of
    :data:`COUNTRIES`; each with the commodity it uses furthest down the chain in any
    scenario (:func:`~supplychain.report.headline.headline_pairs`). A country without
    final demand has no row.
    """
    focus = default_focus(t.country for o in outcomes for t in o.scenario.targets.values())
    return headline_pairs([o.uses for o in outcomes], [*focus, *(c for c in COUNTRIES if c not in focus)])


def _scenario_rows(o: ScenarioOutcome, heads: Sequence[tuple[str, str]], left_out: dict[str, str]) -> list[list[str]]:
    base_year = o.scenario.scenario.base_year
    rows = []
    for variant in ["base", *sorted(o.scenario.variants)]:
        t = o.table.loc[o.table["variant"].eq(variant)]
        targets = t.loc[t["metric"].str.startswith("target:") & t["year"].eq(HORIZON), "value"]
        unrepresented = not_representable_in_force(o.scenario, None if variant == "base" else variant)
        left_out.update(unrepresented)
        first = True
        for country, use in heads:
            mag = {m: _series(t, country, use, m) for m in ("exposed_share", "traced_share", "shortfall_share")}
            com = {m: _series(t, country, "ree_compounds", m) for m in ("exposed_share", "shortfall_share")}
            if mag["exposed_share"].empty and com["exposed_share"].empty:
                continue
            row = [f"`{variant}`" if first else "", country if use == MAGNETS else f"{country} (`{use}`)",
                   _arrow(_at(mag["exposed_share"], base_year), _at(mag["exposed_share"], HORIZON)),
                   pct(_at(mag["traced_share"], HORIZON)), _peak(mag["shortfall_share"]),
                   pct(_at(mag["shortfall_share"], HORIZON)),
                   _arrow(_at(com["exposed_share"], base_year), _at(com["exposed_share"], HORIZON)),
                   pct(_at(com["shortfall_share"], HORIZON))]
            if first:
                row += [f"{int((targets == 1.0).sum())}/{len(targets)}" if len(targets) else _DASH,
                        ", ".join(f"`{a}`" for a in unrepresented) or _DASH]
            else:
                row += ["", ""]
            rows.append(row)
            first = False
    return rows


def outcomes_markdown(outcomes: Sequence[ScenarioOutcome],
                      flips: Mapping[str, Mapping[tuple[str, str], tuple[int, int]]] | None = None) -> str:
    """Render the scenario outcomes as Markdown: per scenario, one row per variant and major consumer.

    Parameters
    ----------
    outcomes : sequence of ScenarioOutcome
        From :func:`run_scenarios`.
    flips : mapping, optional
        Per file name, :func:`near_threshold_flips` of that scenario: the near-threshold sentence under its
        table then says how many inputs flip each verdict.

    Returns
    -------
    str
        A heading, the reading guide and one table per scenario, without a final line break.
        Rows: the focus countries, then the other major consumers (:func:`_headlines`).
        For each country's headline use (NdFeB magnets, :data:`MAGNETS`, or the use named beside
        the country) and the USGS compounds aggregate: the exposed share (traced to China plus
        demand unmet) base year → :data:`HORIZON`, the traced China share of what arrives, the
        shortfall at its peak (first year of the peak) and in :data:`HORIZON`; the targets met in
        :data:`HORIZON`; agreements in force that the model cannot represent. ``—`` where a country
        has no demand of a commodity.
    """
    base_years = sorted({o.scenario.scenario.base_year for o in outcomes})
    first = str(base_years[0]) if len(base_years) == 1 else "base year"
    headers = ["variant", "country", f"magnets exposed {first} → {HORIZON}", f"magnets China share {HORIZON}",
               "magnets short, peak", f"magnets short {HORIZON}", f"compounds exposed {first} → {HORIZON}",
               f"compounds short {HORIZON}", f"targets met {HORIZON}", "not representable (in force)"]
    left_out: dict[str, str] = {}
    parts = []
    heads = _headlines(outcomes)
    for o in outcomes:
        rows = _scenario_rows(o, heads, left_out)
        if not rows:
            continue
        rule = o.scenario.response.allocation
        question = f" {md_escape(o.scenario.scenario.question)}" if o.scenario.scenario.question else ""
        near = near_threshold_markdown(o.verdicts, flips=(flips or {}).get(o.file))
        parts.append(f"#### `{o.file}`\n\n*Allocation `{rule}`.*{question}\n\n" + md_table(headers, rows, escape=False)
                     + (f"\n\n{near}" if near else ""))
    intro = ("The `rebalance` response (re-routing within capacities, scarce supply shared by the scenario's "
             "allocation rule, `docs/rebalance.md`) on every top-level scenario, base and every variant, for the "
             "major consumers, the focus countries (those the scenarios' targets name, else US) first. Each row reads "
             "the country's headline use, the commodity it uses furthest down the chain in any scenario (the rule of "
             "the report's answers, `supplychain.report.headline`): NdFeB magnets, else named beside the country. "
             "*Exposed* is the share of what the country planned to use that is either traced to "
             f"{SOURCE} or not delivered (`exposed_share`, `docs/measures.md`): under a ban that starves a country "
             "it rises to 100 %, where the traced *China share* of what arrives falls to 0 %. *Short* is the share "
             "of final demand unmet; its peak is the largest over the years, with the first year it is reached. "
             "Magnets: NdFeB (t product); compounds: the USGS aggregate of rare-earth compounds and metals "
             "(t REO). The last column lists agreements in force whose terms the model cannot represent at all: "
             "a variant that differs from another only by them shows \"not representable\", not \"no effect\".")
    notes = "".join(f"\n\n* `{a}` — {md_escape(text)}" for a, text in sorted(left_out.items()))
    return (f"### Scenario outcomes\n\n{intro}\n\n" + "\n\n".join(parts)
            + (f"\n\nNot representable:{notes}" if notes else ""))


def near_threshold(verdicts: pd.DataFrame, year: int = HORIZON, within: float = NEAR) -> pd.DataFrame:
    r"""Keep the verdicts in ``year`` whose value lies within ``within`` of the threshold.

    A verdict is near its threshold when :math:`|\text{margin}| \le` ``within``, with the margin
    of :func:`~supplychain.simulation.targets.evaluate_targets` (threshold − value for an upper bound,
    value − threshold for a lower one; positive when the value side passes). Verdicts without a value
    (n/a, no data) are left out.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        :attr:`ScenarioOutcome.verdicts`.
    year : int, optional
        The year the tables publish (default :data:`HORIZON`).
    within : float, optional
        The distance, as a share (default :data:`NEAR`, 5 percentage points).

    Returns
    -------
    pandas.DataFrame
        The rows kept, in the order given.

    Examples
    --------
    >>> v = pd.DataFrame({"variant": ["a", "a", "b"], "target": ["t", "t", "t"], "year": [2030, 2029, 2030],
    ...                   "value": [0.24, 0.26, 0.423], "bound": ["max"] * 3, "threshold": [0.25] * 3,
    ...                   "met": [True, False, False], "margin": [0.01, -0.01, -0.173],
    ...                   "status": ["pass", "fail", "fail"]})
    >>> near_threshold(v)["variant"].tolist()
    ['a']
    """
    if not len(verdicts):
        return verdicts
    margin = pd.to_numeric(verdicts["margin"], errors="coerce")
    keep = verdicts["year"].eq(year) & margin.abs().le(within + 1e-12) & verdicts["met"].notna()
    return verdicts.loc[keep]


def _points(margin: float) -> str:
    text = f"{abs(margin) * 100:.1f}"
    return f"{text} point" if text == "1.0" else f"{text} points"


def near_threshold_markdown(verdicts: pd.DataFrame, year: int = HORIZON, within: float = NEAR,
                            flips: Mapping[tuple[str, str], tuple[int, int]] | None = None) -> str:
    """Say every verdict within ``within`` of its threshold in ``year``, with its margin ("" when none).

    One sentence per variant: each such target (those with the same figures together), its verdict, value,
    threshold and margin in percentage points ("passes at 24.0% against at most 25.0%, a margin of 1.0
    point"), and, where ``flips`` gives them (:func:`near_threshold_flips`, keyed by variant and target), how
    many inputs, each moved alone to an end of its range, flip it.

    Raises
    ------
    ValueError
        If a verdict does not follow from its margin: a pass with a negative margin, or a fail with a
        positive one whose status is not a fail on the unmet share (``fail (shortfall)``); the text would
        print a verdict its own figures refute.

    Examples
    --------
    >>> v = pd.DataFrame({"variant": ["a", "b"], "target": ["t", "t"], "year": [2030, 2030], "value": [0.24, 0.27],
    ...                   "bound": ["max", "max"], "threshold": [0.25, 0.25], "met": [True, False],
    ...                   "margin": [0.01, -0.02], "status": ["pass", "fail"]})
    >>> print(near_threshold_markdown(v))  # doctest: +NORMALIZE_WHITESPACE
    *Near the threshold in 2030* (a verdict within 5 percentage points of it). In `a`, `t` passes at 24.0%
    against at most 25.0%, a margin of 1.0 point. In `b`, `t` fails at 27.0% against at most 25.0%, a margin of
    2.0 points.
    """
    near = near_threshold(verdicts, year, within)
    if not len(near):
        return ""
    by_variant: dict[str, dict[tuple[bool, str], list[str]]] = {}
    for rec in near.to_dict("records"):
        met, margin, status = bool(rec["met"]), float(rec["margin"]), str(rec["status"])
        if (met and margin < -1e-12) or (not met and margin > 1e-12 and "shortfall" not in status):
            msg = (f"{rec['variant']}: {rec['target']} {'passes' if met else 'fails'} with a margin of {margin!r} "
                   f"({status}): the verdict does not follow from its value and threshold")
            raise ValueError(msg)
        bound = "at most" if rec["bound"] == "max" else "at least"
        why = " (on its cap of unmet demand)" if not met and margin >= 0 else ""
        flip = (flips or {}).get((str(rec["variant"]), str(rec["target"])))
        turned = "" if flip is None else (f", and {flip[0]} of its {flip[1]} uncertain inputs (a tie counted once), "
                                          "each moved alone to an end of its range, flip the verdict")
        said = (f"{why} at {pct(float(rec['value']))} against {bound} {pct(float(rec['threshold']))}, a margin of "
                f"{_points(margin)}{turned}")
        by_variant.setdefault(str(rec["variant"]), {}).setdefault((met, said), []).append(f"`{rec['target']}`")
    sentences = []
    for variant, groups in by_variant.items():
        parts = []
        for (met, said), targets in groups.items():
            names = targets[0] if len(targets) == 1 else f"{', '.join(targets[:-1])} and {targets[-1]}"
            verb = ("passes" if met else "fails") if len(targets) == 1 else ("pass" if met else "fail")
            parts.append(f"{names} {verb}{said}")
        sentences.append(f"In `{variant}`, " + "; ".join(parts) + ".")
    return (f"*Near the threshold in {year}* (a verdict within {within * 100:g} percentage points of it). "
            + " ".join(sentences))


def count_flips(oat: OATResult, target: TargetSpec, year: int = HORIZON,
                published: float | None = None) -> tuple[int, int]:
    """Count the inputs that, moved alone to either end of their range, turn a target's central verdict.

    The verdict of each end run is the run's rule (:meth:`~supplychain.uncertainty.result.TargetSpec.met`,
    with the unmet share beside it when the target caps it); an end without a value (n/a, failed) turns
    nothing.

    Parameters
    ----------
    oat : OATResult
        A one-at-a-time sweep whose measures include the target's in ``year``.
    target : TargetSpec
        The target.
    year : int, optional
        The year (default :data:`HORIZON`).
    published : float, optional
        The value the tables publish: the sweep's central value must equal it within round-off.

    Returns
    -------
    flips, inputs : int
        The inputs (a tie counted once) whose low or high run has the other verdict, and the inputs moved.

    Raises
    ------
    ValueError
        If the sweep has no row of the target's measure, or its central value is not ``published``
        (the sentence would quote two different runs).
    """
    import numpy as np

    from supplychain.uncertainty.sensitivity import roundoff_equal

    j = target.locate(oat.measures, year)
    if j is None:
        msg = f"{target.target}: the one-at-a-time sweep has no row of its measure in {year}"
        raise ValueError(msg)
    central = oat.central[None, :]
    c = float(central[0, j])
    if published is not None and not bool(roundoff_equal(c, published)):
        msg = f"{target.target}: the one-at-a-time central {c!r} is not the published {published!r}"
        raise ValueError(msg)
    met = bool(target.met(central[:, j], target.shortfall(oat.measures, central, year))[0])
    flips = np.zeros(len(oat.low_values), dtype=bool)
    for ends in (oat.low_values, oat.high_values):
        v = ends[:, j]
        ok = np.isfinite(v)
        flips |= ok & (target.met(v, target.shortfall(oat.measures, ends, year)) != met)
    return int(flips.sum()), len(oat.low_values)


def near_threshold_flips(o: ScenarioOutcome, year: int = HORIZON, within: float = NEAR,
                         workers: int = 1) -> dict[tuple[str, str], tuple[int, int]]:
    """Run a one-at-a-time sweep of every variant with a verdict near its threshold and count what flips it.

    One :func:`~supplychain.uncertainty.sensitivity.one_at_a_time` per variant (``rebalance``, ``year``,
    the near targets' countries and measures), then :func:`count_flips` per near verdict.

    Returns
    -------
    dict
        (variant, target) → (flips, inputs).
    """
    from supplychain.simulation.targets import shortfall_metric, target_measure
    from supplychain.uncertainty.result import target_specs, targets_table
    from supplychain.uncertainty.sensitivity import one_at_a_time

    near = near_threshold(o.verdicts, year, within)
    specs = {t.target: t for t in target_specs(targets_table(o.scenario))}
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for variant, rows in near.groupby("variant", sort=True):
        tspecs = [specs[str(t)] for t in rows["target"]]
        metrics = sorted({m for t in tspecs for m in (target_measure(t), shortfall_metric(target_measure(t)))})
        oat = one_at_a_time(o.scenario, mode="rebalance", variant=None if variant == "base" else str(variant),
                            years=[year], countries=sorted({t.country for t in tspecs}), measures=metrics,
                            workers=workers, quiet=True)
        for t, value in zip(tspecs, rows["value"], strict=True):
            out[(str(variant), t.target)] = count_flips(oat, t, year, published=float(value))
    return out


def not_representable_in_force(scenario: Scenario, variant: str | None) -> dict[str, str]:
    """Agreements in force in a variant that the model represents not at all, with why.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    variant : str or None
        A variant, or None for the file's defaults.

    Returns
    -------
    dict of str to str
        Agreement id → its ``not_representable`` text, for the active agreements with no
        modelled effect (:attr:`~supplychain.schema.model.Agreement.effects` empty), sorted by id.
    """
    from supplychain.simulation.toggles import resolve_toggles

    active = resolve_toggles(scenario, variant=variant).active
    return {a: str(ag.not_representable) for a, ag in sorted(scenario.agreements.items())
            if a in active and ag.not_representable is not None and not ag.effects}


def results_block(published: str, outcomes: str, *more: str) -> str:
    """Join the text between the results markers: the published part in its own markers, then the rest.

    Examples
    --------
    >>> print(results_block("P", "O", "H"))
    <!-- published:start -->
    P
    <!-- published:end -->
    <BLANKLINE>
    H
    <BLANKLINE>
    O
    """
    rest = "\n\n".join(x.strip() for x in (*more, outcomes))
    return f"{PUBLISHED_START}\n{published.strip()}\n{PUBLISHED_END}\n\n{rest}"


# ------------------------------------------------------------------ command line
def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate (or, with ``--check``, verify) the Results tables of ``scenarios/README.md``.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default ``sys.argv[1:]``): ``--check``,
        ``--scenarios DIR`` (default ``scenarios``), ``--readme FILE`` (default
        ``DIR/README.md``).

    Returns
    -------
    int
        0 on success; 1 when ``--check`` finds the published table stale or the
        markers missing; 2 when a scenario fails to load or solve.
    """
    from supplychain.errors import ScenarioError, SolverError
    from supplychain.io.atomic import atomic_write_text

    parser = argparse.ArgumentParser(prog="python -m supplychain.report.scenario_results",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the published-check table in the README is stale")
    parser.add_argument("--scenarios", type=Path, default=Path("scenarios"), help="scenario folder")
    parser.add_argument("--readme", type=Path, default=None, help="README to update (default: SCENARIOS/README.md)")
    args = parser.parse_args(argv)
    readme: Path = args.readme or args.scenarios / "README.md"

    try:
        text = readme.read_text(encoding="utf-8")
        published = published_markdown(args.scenarios)
        if args.check:
            current = extract_between(extract_between(text, RESULTS_START, RESULTS_END),
                                      PUBLISHED_START, PUBLISHED_END)
            if current.strip() != published.strip():
                print(f"{readme}: the published-check table is stale; run `make scenario-results`",
                      file=sys.stderr)
                return 1
            print(f"{readme}: the published-check table is up to date", file=sys.stderr)
            return 0
        extract_between(text, RESULTS_START, RESULTS_END)  # fail before the long runs if markers are missing
        from supplychain.report import uncertainty_prose as unc

        extract_between(text, unc.START, unc.END)
        from supplychain.report.element_tables import element_tables_markdown
        from supplychain.report.hindcast import hindcast, hindcast_markdown

        more = (hindcast_markdown(hindcast(args.scenarios)), element_tables_markdown(args.scenarios))
        runs = run_scenarios(args.scenarios)
        outcomes = outcomes_markdown(runs, {o.file: near_threshold_flips(o) for o in runs})
        text = replace_between(text, unc.START, unc.END, unc.uncertainty_markdown(unc.measure(args.scenarios)))
        atomic_write_text(readme, replace_between(text, RESULTS_START, RESULTS_END,
                                                  results_block(published, outcomes, *more)))
    except MarkerError as err:
        print(f"{readme}: {err}", file=sys.stderr)
        return 1
    except (ScenarioError, SolverError, OSError) as err:
        print(str(err), file=sys.stderr)
        return 2
    print(f"wrote {readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
