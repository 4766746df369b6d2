r"""Generate the "Results" tables of ``scenarios/README.md`` (``make scenario-results``).

Two Markdown tables are written between ``<!-- results:start -->`` and
``<!-- results:end -->`` in the README:

* **published vs computed** — every check of
  :data:`~supplychain.report.published.PUBLISHED_CHECKS` on the baseline
  (``baseline_2024.yaml``, 2024), nested in its own markers
  ``<!-- published:start -->`` / ``<!-- published:end -->``;
* **scenario outcomes** — for every top-level scenario in the folder (files with a
  ``scenario:`` section), :func:`supplychain.api.compare` in ``rebalance`` mode
  (base and every variant): the US's traced China share and shortfall share in the
  base year and :data:`HORIZON` for the target commodities (or
  :data:`DEFAULT_COMMODITIES` when a scenario has no targets), and the targets met
  in :data:`HORIZON`.

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from supplychain.report.markdown import md_escape, md_table
from supplychain.report.published import BASELINE_FILE, PUBLISHED_CHECKS, SOURCE, YEAR, Check, evaluate
from supplychain.schema.model import Scenario

__all__ = [
    "DEFAULT_COMMODITIES",
    "HORIZON",
    "PUBLISHED_END",
    "PUBLISHED_START",
    "RESULTS_END",
    "RESULTS_START",
    "MarkerError",
    "ScenarioOutcome",
    "extract_between",
    "main",
    "not_representable_in_force",
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
COUNTRY: Final = "US"
"""The country whose outcomes are tabulated."""
DEFAULT_COMMODITIES: Final = ("ndfeb_magnet", "ree_compounds", "ndpr_oxide")
"""Commodities shown for scenarios without targets (and the column order)."""
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
def published_table(measures: pd.DataFrame, checks: tuple[Check, ...] = PUBLISHED_CHECKS) -> str:
    """Render the published-vs-computed section as Markdown (a pure function of the measures table).

    Parameters
    ----------
    measures : pandas.DataFrame
        ``compute_measures(baseline, YEAR, source=SOURCE)`` of ``scenarios/baseline_2024.yaml``.
    checks : tuple of Check, optional
        The checks (default :data:`~supplychain.report.published.PUBLISHED_CHECKS`).

    Returns
    -------
    str
        A heading, one explanatory sentence and the table (columns check, published,
        source, computed, difference, within tolerance), without a final line break.
    """
    rows = [
        [f"{md_escape(r.check.what)} (`{r.check.id}`)", pct(r.check.published), md_escape(r.check.source),
         pct(r.computed), signed_pct(r.difference), "yes" if r.ok else "**no**"]
        for r in evaluate(measures, checks)
    ]
    table = md_table(["check", "published", "source", "computed", "difference", "within tolerance"], rows,
                     escape=False)
    intro = (f"Baseline `{BASELINE_FILE}`, year {YEAR}, exposure to {SOURCE}. Difference = computed − published"
             " (percentage points); tolerances are absolute, on shares, and set per check.")
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
    from supplychain.io import load
    from supplychain.metrics.measures import compute_measures

    baseline = load(Path(scenarios) / BASELINE_FILE, require_sources=True)
    return published_table(compute_measures(baseline, YEAR, source=SOURCE))


# ------------------------------------------------------------------ scenario outcomes
@dataclass(frozen=True)
class ScenarioOutcome:
    """The :func:`supplychain.api.compare` table of one scenario file.

    Attributes
    ----------
    file : str
        The file name (e.g. ``path_to_2030.yaml``).
    scenario : Scenario
        The loaded scenario.
    table : pandas.DataFrame
        ``compare(scenario, mode="rebalance")``.
    """

    file: str
    scenario: Scenario
    table: pd.DataFrame


def _commodities(scenario: Scenario) -> list[str]:
    found = [t.commodity for t in scenario.targets.values() if t.country == COUNTRY]
    return list(dict.fromkeys(found)) or list(DEFAULT_COMMODITIES)


def run_scenarios(scenarios: str | Path = "scenarios") -> list[ScenarioOutcome]:
    """Run :func:`supplychain.api.compare` (rebalance, base and every variant) on every top-level scenario.

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
    from supplychain.api import compare
    from supplychain.io import validate_paths

    out = []
    for report in validate_paths(scenarios, require_sources=True):
        if report.error is not None:
            raise report.error
        if report.scenario is None:  # a fragment of the base world
            continue
        table = compare(report.scenario, source=SOURCE, mode="rebalance")
        out.append(ScenarioOutcome(Path(report.file).name, report.scenario, table))
    return out


def _one(table: pd.DataFrame, year: int, commodity: str, metric: str) -> float:
    rows = table.loc[table["year"].eq(year) & table["country"].eq(COUNTRY) & table["commodity"].eq(commodity)
                     & table["metric"].eq(metric), "value"]
    return float(rows.iloc[0]) if len(rows) == 1 else math.nan


def _arrow(a: float, b: float) -> str:
    return _DASH if math.isnan(a) and math.isnan(b) else f"{pct(a)} → {pct(b)}"


def outcomes_markdown(outcomes: Sequence[ScenarioOutcome]) -> str:
    """Render the scenario-outcome section as Markdown: one row per scenario and variant.

    Parameters
    ----------
    outcomes : sequence of ScenarioOutcome
        From :func:`run_scenarios`.

    Returns
    -------
    str
        A heading, one explanatory sentence and the table, without a final line break.
        Cells are "base year → :data:`HORIZON`"; ``—`` where a scenario does not report
        a commodity; targets met as ``n/m`` (``—`` without targets).
    """
    columns = list(DEFAULT_COMMODITIES)
    for o in outcomes:
        columns.extend(c for c in _commodities(o.scenario) if c not in columns)
    base_years = sorted({o.scenario.scenario.base_year for o in outcomes})
    first = str(base_years[0]) if len(base_years) == 1 else "base year"
    headers = ["scenario", "variant"]
    for c in columns:
        headers += [f"`{c}` China share {first} → {HORIZON}", f"`{c}` shortfall {first} → {HORIZON}"]
    headers += [f"targets met {HORIZON}", "not representable (in force)"]
    rows = []
    left_out: dict[str, str] = {}
    for o in outcomes:
        shown = set(_commodities(o.scenario))
        base_year = o.scenario.scenario.base_year
        for variant in ["base", *sorted(o.scenario.variants)]:
            t = o.table.loc[o.table["variant"].eq(variant)]
            row = [f"`{o.file}`", f"`{variant}`"]
            for c in columns:
                if c not in shown:
                    row += [_DASH, _DASH]
                    continue
                for metric in ("traced_share", "shortfall_share"):
                    row.append(_arrow(_one(t, base_year, c, metric), _one(t, HORIZON, c, metric)))
            targets = t.loc[t["metric"].str.startswith("target:") & t["year"].eq(HORIZON), "value"]
            row.append(f"{int((targets == 1.0).sum())}/{len(targets)}" if len(targets) else _DASH)
            unrepresented = not_representable_in_force(o.scenario, None if variant == "base" else variant)
            left_out.update(unrepresented)
            row.append(", ".join(f"`{a}`" for a in unrepresented) or _DASH)
            rows.append(row)
    table = md_table(headers, rows, escape=False)
    intro = (f"`compare(scenario, mode=\"rebalance\")` on every top-level scenario, base and every variant; "
             f"{COUNTRY} figures, traced share of {SOURCE}. Commodities: the scenario's targets, or "
             + ", ".join(f"`{c}`" for c in DEFAULT_COMMODITIES) + " when it has none. A traced share is 0 when "
             "nothing Chinese arrives: read it together with the shortfall share. The last column lists the "
             "agreements in force whose terms the model cannot represent at all: a variant that differs from "
             "another only by them shows \"not representable\", not \"no effect\".")
    notes = "".join(f"\n\n* `{a}` — {md_escape(text)}" for a, text in sorted(left_out.items()))
    return f"### Scenario outcomes\n\n{intro}\n\n{table}" + (f"\n\nNot representable:{notes}" if notes else "")


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


def results_block(published: str, outcomes: str) -> str:
    """Join the text between the results markers: the published part in its own markers, then the outcomes.

    Examples
    --------
    >>> print(results_block("P", "O"))
    <!-- published:start -->
    P
    <!-- published:end -->
    <BLANKLINE>
    O
    """
    return f"{PUBLISHED_START}\n{published.strip()}\n{PUBLISHED_END}\n\n{outcomes.strip()}"


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
        outcomes = outcomes_markdown(run_scenarios(args.scenarios))
        atomic_write_text(readme, replace_between(text, RESULTS_START, RESULTS_END,
                                                  results_block(published, outcomes)))
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
