"""``supplychain sweep``: Monte Carlo over a scenario's uncertain inputs, with an optional tornado chart.

A thin layer over :func:`supplychain.uncertainty.montecarlo.run_sweep` and
:func:`supplychain.uncertainty.sensitivity.one_at_a_time`; only :mod:`typer` is
imported at module level so ``supplychain --help`` stays fast.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from supplychain.cli.checks import check_ids, check_output, check_year_options
from supplychain.cli.common import echo, fail, freeze_imports, print_table, print_warnings, warn
from supplychain.cli.options import PathOption

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from supplychain.errors import Problem
    from supplychain.uncertainty.result import SweepResult

__all__ = ["sweep"]

MAX_ROWS = 40
"""Summary rows printed before the table is cut (the full table goes to ``--output``)."""
MAX_FAILURES_SHOWN = 10
"""Failed samples listed with their inputs (all of them are in the result and NaN in ``--output``)."""


def _parse_years(text: str) -> list[tuple[int, int]]:
    """``2030`` → [(2030, 2030)]; ``2024,2030`` → two; ``2025-2030`` → [(2025, 2030)] (not expanded yet)."""
    spans: list[tuple[int, int]] = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            spans.append((int(lo), int(hi) if sep else int(lo)))
    except ValueError:
        fail(f"--years must be years such as 2030, 2024,2030 or 2025-2030, not {text!r}")
    bad = [f"{lo}-{hi}" for lo, hi in spans if hi < lo]
    if bad:
        fail(f"--years {bad[0]} runs backwards; write the first year first")
    return spans


def _years_in(spans: list[tuple[int, int]], years: list[int], text: str) -> list[int]:
    """Expand ``spans`` within the scenario's ``years``; a year outside them is an error that says so."""
    first, last = years[0], years[-1]
    for lo, hi in spans:
        if lo < first or hi > last:
            fail(f"--years {text} reaches outside the scenario's years {first}–{last}")
    return sorted({y for lo, hi in spans for y in range(lo, hi + 1)})


def _targets_rows(summary: pd.DataFrame, result: SweepResult) -> pd.DataFrame:
    """Rows of the summary for the targets' countries and commodities, in the years the targets are checked.

    Every measure of those pairs is shown (the target's own metric, its shortfall, the traced
    share …), so a probability can be read next to what drives it.
    """
    import numpy as np

    first: dict[tuple[str, str], int] = {}  # each pair from the earliest `by` of its targets
    for c, k, by in zip(result.targets["country"], result.targets["commodity"], result.targets["by"], strict=True):
        first[(c, k)] = min(int(by), first.get((c, k), int(by)))
    keys = zip(summary["country"], summary["commodity"], summary["year"], strict=True)
    mask = np.fromiter(((c, k) in first and int(y) >= first[(c, k)] for c, k, y in keys), dtype=bool,
                       count=len(summary))
    return summary[mask]


def _focus_rows(summary: pd.DataFrame, country: str) -> pd.DataFrame:
    """Rows of the summary for ``country``'s final uses (those with a shortfall row) in the last year."""
    last = summary["year"] == summary["year"].max()
    mine = last & (summary["country"] == country)
    uses = set(summary.loc[mine & (summary["metric"] == "shortfall_share"), "commodity"])
    rows: pd.DataFrame = summary[mine & summary["commodity"].isin(uses)]
    return rows


CENTRAL_AT = "central_at"
"""Column of the summary table: the percentile of the samples at which the central run falls."""
CENTRAL_NOTE = ("central = every input at its central value; central_at = where it falls among the samples "
                "(P50 in the middle)")
"""Words of the summary's title on the central run."""
EXPORTER_COLUMN = "net_exporter"
"""Column of the summary table: the share of samples in which a country is a net exporter (its NIR rows)."""
EXPORTER_LABEL = "E"
"""USGS's label of a net exporter's net import reliance, in the summary's statistics (as in ``run``'s json and csv)."""


def exporter_note() -> str:
    """Return the note printed under the summary when a net import reliance row has net-exporter samples.

    What a net exporter is: :data:`~supplychain.report.numbers.NET_EXPORTER_MEANING`. A
    function, not a constant, so ``supplychain --help`` does not import the report's formats.
    """
    from supplychain.report.numbers import NET_EXPORTER_MEANING

    return (f"{EXPORTER_LABEL}: the country {NET_EXPORTER_MEANING} in every sample (in the central run, for "
            f"central), so its USGS net import reliance is not defined; {EXPORTER_COLUMN}: the share of the samples "
            "in which it does, the net import reliance figures being over the others (n)")


def _exporter_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Show net exporters in the summary's net import reliance rows instead of "n/a".

    A row whose every computed sample is a net exporter (``n`` 0, ``n_exporter`` > 0)
    reads :data:`EXPORTER_LABEL` in its statistics; a central run that is one, in
    ``central``. The share of the computed samples that are net exporters
    (``n_exporter / (n + n_exporter)``) fills :data:`EXPORTER_COLUMN`; the statistics
    stay those of the other samples. Without any net-exporter sample the table is
    unchanged (and has no such column).

    Returns
    -------
    (pandas.DataFrame, list of str)
        The table (without ``n_exporter``) and the columns now holding text that reads as
        numbers (to align right).
    """
    import numpy as np

    from supplychain.report.numbers import format_cell, format_percent, is_share

    exporters = table["n_exporter"].to_numpy(dtype=int) if "n_exporter" in table.columns else None
    table = table.drop(columns="n_exporter", errors="ignore")
    if exporters is None or not exporters.any():
        return table, []
    n = table["n"].to_numpy(dtype=int)
    stats = [c for c in table.columns if c in ("central", "mean") or (c.startswith("p") and c[1:].isdigit())]
    shares = [is_share(str(m)) for m in table["metric"]]
    out = table.astype(dict.fromkeys(stats, object))
    for col in stats:
        values = table[col].to_numpy(dtype=float)
        out[col] = [EXPORTER_LABEL if e > 0 and (k == 0 or col == "central") and not np.isfinite(v)
                    else format_cell(float(v), share=share)
                    for v, e, k, share in zip(values, exporters, n, shares, strict=True)]  # fmt: skip
    out.insert(list(out.columns).index("n") + 1, EXPORTER_COLUMN,
               [format_percent(e / (e + k)) if e > 0 else "" for e, k in zip(exporters, n, strict=True)])
    return out, [*stats, EXPORTER_COLUMN]


SAME_COLUMN = "samples"
"""Column of the summary table that marks a measure whose samples are all equal."""
SAME_LABEL = "all equal"
"""Its text."""
TARGET_NA_NOTE: Final = ("n_na: samples whose measure is n/a (a share of nothing: no consumption, no imports, "
                         "nothing arriving), counted as not met.")
"""The line under the targets' table when a target has samples without a value."""

TARGET_NIR_NA_NOTE: Final = ("A net import reliance is also n/a where the scenario records no use of the commodity in "
                             "that country (label \"use not recorded\": its apparent consumption is a surplus; "
                             "docs/measures.md, section 2).")
"""Added to :data:`TARGET_NA_NOTE` when a net import reliance target has such samples."""

SAME_NOTE = ("all equal: every sample gives the same value (round-off, at most 1e-9, aside), so no sampled input "
             "moves this measure and its P5–P95 is no spread (what is uncertain about it is not sampled)")
"""Note printed under the summary when a row's samples are all equal."""


def _all_equal(values: np.ndarray) -> np.ndarray:
    """Tell per measure (column) whether its finite samples are all equal, with at least two of them.

    Equal within round-off: the largest and the smallest finite sample pass
    :func:`~supplychain.uncertainty.sensitivity.roundoff_equal` (``max − min ≤ 1e-9 · max(1, |max|, |min|)``),
    the rule by which the one-at-a-time sweep gives an input no swing; a measure no sampled input
    reaches can still differ in the last bits (the same sums taken in another order).
    """
    import numpy as np

    from supplychain.uncertainty.sensitivity import roundoff_equal

    finite = np.isfinite(values)
    with np.errstate(all="ignore"):
        hi = np.where(finite, values, -np.inf).max(axis=0, initial=-np.inf)
        lo = np.where(finite, values, np.inf).min(axis=0, initial=np.inf)
    out: np.ndarray = (finite.sum(axis=0) >= 2) & roundoff_equal(lo, hi)
    return out


def _summary_table(result: SweepResult) -> pd.DataFrame:
    """Return the summary the sweep prints: ``central_at`` as ``P<k>`` and the :data:`SAME_COLUMN` mark.

    A row whose samples are all equal (:func:`_all_equal`) reads one value in every statistic:
    its mean and percentiles are its P50 (the samples differ in the last bits only, and a mean of
    0.83499999… beside percentiles of 0.835 would print 83 % beside 84 %); a central run equal to
    it within the same round-off (:func:`~supplychain.uncertainty.sensitivity.roundoff_equal`) reads
    that value too, at P50 (every sample equals it: ``central_rank`` 0.5). The Python API's
    :meth:`~supplychain.uncertainty.result.SweepResult.summary` keeps the exact values.
    """
    import numpy as np

    from supplychain.uncertainty.sensitivity import roundoff_equal

    summary = result.summary()
    same = _all_equal(result.values)
    if same.any():
        stats = [c for c in summary.columns if c == "mean" or (c.startswith("p") and c[1:].replace(".", "").isdigit())]
        one = summary["p50"].to_numpy(dtype=float)
        for col in stats:
            summary[col] = np.where(same, one, summary[col].to_numpy(dtype=float))
        central = summary["central"].to_numpy(dtype=float)
        at = same & np.isfinite(central) & roundoff_equal(central, one)
        summary["central"] = np.where(at, one, central)
        summary["central_rank"] = np.where(at, 0.5, summary["central_rank"].to_numpy(dtype=float))
    summary["central_rank"] = [f"P{round(100 * r)}" if math.isfinite(r) else "" for r in summary["central_rank"]]
    summary = summary.rename(columns={"central_rank": CENTRAL_AT})
    summary[SAME_COLUMN] = np.where(same, SAME_LABEL, "")
    return summary


HIDDEN_SPREAD_SHOWN = 3
"""Rows named in the note on spreads the table's precision hides (:func:`_hidden_spread_note`)."""


def _hidden_spread_note(rows: pd.DataFrame) -> str:
    """Say which printed rows put the central run at P0 or P100 of a spread the table's digits do not show.

    A row (not all equal) whose ``central``, ``p5`` and ``p95`` print alike (:func:`~supplychain.report.
    numbers.format_cell`) but whose ``central_at`` is ``P0`` or ``P100`` reads as a contradiction; the
    note gives the central and the nearer end of the samples with enough decimals to tell them apart
    (:func:`~supplychain.report.numbers.format_apart`, in per cent for a share). "" when no row is so.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["ree_compounds"],
    ...     "metric": ["exposed_share"], "central": [0.716302], "p5": [0.716303], "p95": [0.7181],
    ...     "central_at": ["P0"], "samples": [""]})
    >>> _hidden_spread_note(rows)  # doctest: +NORMALIZE_WHITESPACE
    'central_at P0 or P100 beside equal-looking figures: the samples differ from the central run by less than
    the table shows (2030 US ree_compounds exposed_share: central 71.6302%, P5 71.6303%)'
    """
    from supplychain.report.numbers import format_apart, format_cell, is_share

    found: list[str] = []
    for rec in rows.to_dict("records"):
        if rec.get(SAME_COLUMN) or rec.get(CENTRAL_AT) not in ("P0", "P100"):
            continue
        share = is_share(str(rec["metric"]))
        c, lo, hi = (float(rec[k]) for k in ("central", "p5", "p95"))
        if not all(map(math.isfinite, (c, lo, hi))):
            continue
        if not format_cell(c, share=share) == format_cell(lo, share=share) == format_cell(hi, share=share):
            continue
        end, name = (lo, "P5") if rec[CENTRAL_AT] == "P0" else (hi, "P95")
        scale, unit = (100.0, "%") if share else (1.0, "")
        a, b = format_apart(scale * c, scale * end)
        found.append(f"{rec['year']} {rec['country']} {rec['commodity']} {rec['metric']}: central {a}{unit}, "
                     f"{name} {b}{unit}")
    if not found:
        return ""
    more = len(found) - HIDDEN_SPREAD_SHOWN
    listed = "; ".join(found[:HIDDEN_SPREAD_SHOWN]) + (f"; {more} more" if more > 0 else "")
    return ("central_at P0 or P100 beside equal-looking figures: the samples differ from the central run by less "
            f"than the table shows ({listed})")


TORNADO_ROWS = 15
"""Rows of the one-at-a-time ranking printed under ``--tornado`` (the chart draws as many: ``top``)."""
TORNADO_MORE = ("the command line prints and draws these only; every row: Python API "
                "supplychain.one_at_a_time(...).ranking(metric=..., country=..., commodity=..., year=...)")
"""Where the ranking's rows beyond :data:`TORNADO_ROWS` are (``--output`` writes the Monte Carlo samples)."""


def _check_tornado_selection(measure: str, commodity: str | None, commodities: set[str], elements: set[str]) -> None:
    """Fail, before anything is swept, when ``--commodity`` cannot name a row of ``--measure``.

    An element measure (``element_exposed_share``, ``element_dependence``, … ; its ``commodity`` column
    holds an element key, ``Dy``) needs an element key; any other measure a commodity id. The
    value-weighted ``element_dependence_value`` (its key is the keys joined, ``NdPr+Dy+Tb``) is not checked here.
    """
    if commodity is None or measure == "element_dependence_value":
        return
    if measure.startswith("element_") and commodity not in elements:
        fail(f"--tornado: {measure} is per element key, not per commodity; use --commodity "
             f"{' or '.join(sorted(elements)) or '(no element key is declared)'} (the commodities' `content:` keys)")
    if not measure.startswith("element_") and commodity not in commodities:
        fail(f"--tornado: {commodity!r} is an element key; {measure} is per commodity (use an element_* measure, "
             "e.g. element_exposed_share, for an element)")


def _span_text(years: list[int]) -> str:
    """``2024–2025`` (or ``2030``, or ``2024, 2030``) for the years a sweep ran."""
    if not years:
        return "no year"
    if len(years) == 1:
        return str(years[0])
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(map(str, years))


def _print_targets(targets: pd.DataFrame, result: SweepResult, span_text: str) -> None:
    """Print the probability of each target in the years it is checked, and say which ones have none.

    A target is checked in the swept years on or after its ``by`` (``required``), the same
    rule as the measures table (:func:`_targets_rows`); a target with no such year gets a
    line saying so, not a probability of years it is not checked in. A checked year whose
    measure the sweep did not compute says why.
    """
    checked = targets[targets["required"]]
    if len(checked):
        # samples whose measure is n/a (n_na; a net exporter's NIR: n_exporter): counted as not met
        na = [c for c in ("n_na", "n_exporter") if checked[c].any()]
        print_table(
            checked[["target", "year", "threshold", "probability", *na, "central_met"]],
            "Probability that each target is met, in the years it is checked (every year: Python API "
            "SweepResult.target_probability())", shares=("threshold", "probability"),
        )
        metric = dict(zip(result.targets["target"], result.targets["metric"], strict=True))
        nir_na = checked[(checked["n_na"] > 0) & checked["target"].map(metric).eq("net_import_reliance")]
        if "n_na" in na:
            echo(TARGET_NA_NOTE + (f" {TARGET_NIR_NA_NOTE}" if len(nir_na) else ""))
    by = dict(zip(result.targets["target"], result.targets["by"], strict=True))
    for t in sorted(set(targets["target"]) - set(checked["target"])):
        echo(f"target {t} is checked from {int(by[t])}; this sweep runs {span_text}: no probability")
    missing = checked[(checked["n"] == 0) & (checked["n_na"] == 0) & (checked["n_exporter"] == 0)]  # not computed
    if len(missing):
        spec = result.targets.set_index("target")
        mode = result.info.get("mode", "")
        for t in dict.fromkeys(missing["target"]):
            row = spec.loc[t]
            echo(f"target {t}: its measure ({row['metric']}, {row['country']}, {row['commodity']}) is not "
                 f"computed in this sweep (mode {mode}): no probability")


def _print_toggle_split(result: SweepResult) -> None:
    """Print, per target in the years it is checked, its probability with each sampled toggle on and off.

    Only the toggles that move it (both states sampled, the two probabilities differ:
    :meth:`~supplychain.uncertainty.result.SweepResult.target_probability_by_toggle`); a line counts the rest.
    """
    split = result.target_probability_by_toggle()
    split = split[split["required"]]
    if split.empty:
        return
    moving = split[split["moves"]]
    if len(moving):
        table = moving[["target", "year", "toggle", "p_on", "p_met_on", "p_met_off", "n_on", "n_off"]].rename(
            columns={"p_on": "P(on)", "p_met_on": "P(met | on)", "p_met_off": "P(met | off)"})
        print_table(table, "Probability that each target is met, by sampled toggle: with it on and off (the "
                    "probability above mixes the two at P(on); over n_on and n_off samples, a gap of a few points "
                    "can be sampling noise)", shares=("P(on)", "P(met | on)", "P(met | off)"))
    still = len(split) - len(moving)
    if still:
        echo(f"{still} target-year-toggle pair{'s' if still != 1 else ''} with the same probability on and off "
             "(or one state never sampled, or a toggle that cannot act) not shown")


def _report_failures(result: SweepResult) -> None:
    """Say how many samples could not be computed and list the first, with their inputs."""
    failures = result.failures
    if failures.empty:
        return
    warn(f"{len(failures):,} of {result.n:,} samples could not be computed; they are left out of the statistics "
         "(n counts the samples used) and are NaN in --output")  # fmt: skip
    print_table(failures.head(MAX_FAILURES_SHOWN), "Samples that could not be computed (inputs and reason)",
                max_rows=MAX_FAILURES_SHOWN)  # fmt: skip


def sweep(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario file (YAML).", show_default=False)],
    samples: Annotated[int, typer.Option("--samples", "-n", min=1, help="Number of Monte Carlo samples.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Random seed (same seed → same numbers).")] = 1,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="Supply response: rebalance (the default, as in run and compare) | fixed (simulate), "
            "or exposure (the unshocked network).",
        ),
    ] = "rebalance",
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=0,
                          help="Local worker processes (0 = one per CPU, as in compare and report; 1 = in this "
                               "process); the numbers are the same for any number.")
    ] = 0,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            help="Run on a Dask cluster: dask://HOST:PORT (needs supplychain\\[dask]).",
            show_default=False,
        ),
    ] = None,
    chunk_size: Annotated[
        int | None, typer.Option("--chunk-size", min=1, help="Samples per task (default: sized automatically).")
    ] = None,
    toggle: Annotated[
        list[str] | None,
        typer.Option("--toggle", "-t", metavar="NAME=on|off", help="Fix a toggle (not sampled); repeatable."),
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="Apply a named variant's toggles.")] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", metavar="GLOB",
                     help="Sample only matching inputs (e.g. 'flows.*') and the rest of their ties; repeatable."),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Source country of the exposure (default: scenario's).")
    ] = None,
    measure: Annotated[
        str | None, typer.Option("--measure", "-m", help="Metric to show and chart (e.g. traced_share); the table "
                                 "shows only it (the targets' own rows stay in the targets' table).")
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help="Country to show and chart.")] = None,
    commodity: Annotated[
        str | None,
        typer.Option("--commodity", help="Commodity to show and chart, or an element key (Dy, NdPr: the commodities' "
                     "content keys) for the element_* measures."),
    ] = None,
    years: Annotated[
        str | None,
        typer.Option("--years", metavar="Y1,Y2|Y1-Y2", help="Years to run (default: base year to horizon)."),
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="Year of the tornado chart (default: last year).")] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write every sample's measures (tidy) to FILE.parquet or FILE.csv.",
            show_default=False,
        ),
    ] = None,
    tornado: Annotated[
        Path | None,
        typer.Option(
            "--tornado",
            help="Also run one-at-a-time sweeps and save a tornado chart (.svg/.png/.pdf); they run first, so "
            "a --measure/--country/--commodity/--year they cannot read stops before the Monte Carlo.",
            show_default=False,
        ),
    ] = None,
    span: Annotated[str, typer.Option("--span", help="Tornado low/high: bounds | p5-p95.")] = "bounds",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute even when a cached result exists.")] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Cache folder (default: $SUPPLYCHAIN_CACHE_DIR or .supplychain-cache).",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    path: PathOption = None,
) -> None:
    r"""Monte Carlo sweep of a scenario's uncertain inputs; print P5/P50/P95 per measure.

    Every quantity with a distribution (uniform, triangular, normal, choice) and
    every toggle with a probability is sampled; the same seed gives the same
    numbers on any number of workers or on a Dask cluster. Results are cached
    under .supplychain-cache/ (a re-run is instant; any change recomputes; a cache
    that cannot be written is a warning). A sample that cannot be computed (e.g.
    sampled flows that leave a market short) is listed with its inputs and left
    out of the statistics; the sweep goes on.

    Example:

        supplychain sweep scenarios/baseline_2024.yaml --mode exposure --years 2024 --samples 500 --seed 7

        supplychain sweep scenarios/baseline_2024.yaml -m traced_share --country US \
            --commodity ndpr_oxide --tornado tornado.svg
    """
    if mode not in ("fixed", "rebalance", "exposure"):
        fail(f"--mode must be fixed, rebalance or exposure, not {mode!r}")
    if span not in ("bounds", "p5-p95"):
        fail(f"--span must be bounds or p5-p95, not {span!r}")
    year_spans = _parse_years(years) if years is not None else None
    if output is not None and output.suffix.lower() not in (".parquet", ".csv"):
        fail(f"--output must end in .parquet or .csv, not {output.name!r}")
    if tornado is not None:
        if tornado.suffix.lower() not in (".svg", ".png", ".pdf"):
            fail(f"--tornado must end in .svg, .png or .pdf, not {tornado.name!r}")
        if measure is None:
            fail("--tornado needs --measure (and usually --country and --commodity) to choose what to chart")

    from supplychain.parallel.executors import MIN_CHUNK
    from supplychain.parallel.processes import start_worker_server

    # local workers: their server imports the package now, beside ours, when the sweep surely makes two chunks
    # (more than MIN_CHUNK samples, whatever a sample costs: chunk_bounds); a smaller one may run in this process
    if workers != 1 and executor is None and samples > MIN_CHUNK:
        start_worker_server()

    from supplychain.io.cache import SweepCache
    from supplychain.io.load import load
    from supplychain.metrics.measures import METRIC_IDS
    from supplychain.schema.countries import require_codes
    from supplychain.simulation.toggles import check_cli_names, parse_toggle_args
    from supplychain.uncertainty.montecarlo import run_sweep
    from supplychain.uncertainty.sensitivity import one_at_a_time

    freeze_imports()
    for target in (output, tornado):
        check_output(target)  # a folder, a device or a folder that cannot be written: refused now, not after the sweep
    toggles = parse_toggle_args(toggle or [])
    warned: list[Problem] = []
    sc = load(scenario, extra_roots=path or (), warnings=warned)
    print_warnings(warned, scenario)
    check_cli_names(sc, toggles=toggles, variants=[variant] if variant else [])
    require_codes(sc, [source] if source else [], ("--source",), origin="<cli>")
    require_codes(sc, [country] if country else [], ("--country",), origin="<cli>", extra=["WORLD"])
    year_list = _years_in(year_spans, sc.years, str(years)) if year_spans is not None else None
    if year is not None:
        check_year_options("--year", [year], year_list or sc.years)
    check_ids("--measure", [measure] if measure else [], METRIC_IDS, "measure")  # a typo costs no sweep
    from supplychain.schema.references import element_keys

    elements = element_keys(sc)
    check_ids("--commodity", [commodity] if commodity else [], [*sc.commodities, *elements],
              "commodity or element key of this scenario")
    if tornado is not None:
        _check_tornado_selection(str(measure), commodity, set(sc.commodities), elements)
    cache: bool | SweepCache = False if no_cache else SweepCache.default(cache_dir)
    select: dict[str, Any] = {
        "measures": [measure] if measure else None,
        "countries": [country] if country else None,
        "commodities": [commodity] if commodity else None,
    }
    common: dict[str, Any] = {
        "mode": mode,
        "years": year_list,
        "source": source,
        "toggles": toggles,
        "variant": variant,
        "parameters": param or None,
        "executor": executor,
        "workers": workers,
        "quiet": quiet,
        "progress": None if sys.stderr.isatty() else "lines",  # a log or a pipe gets a line per tenth, not nothing
        **select,
    }
    oat = None
    chosen: dict[str, Any] = {}
    if tornado is not None:  # before the Monte Carlo: a selection the ranking cannot read costs no sweep
        oat = one_at_a_time(sc, span=span, **common)  # type: ignore[arg-type]
        where: dict[str, Any] = {"metric": measure, "country": country, "commodity": commodity, "year": year}
        if source is not None:
            where["source_country"] = source
        chosen = {k: v for k, v in where.items() if v is not None}
        try:
            oat.ranking(**chosen)
        except KeyError as err:
            fail(f"--tornado: {err.args[0] if err.args else err}; narrow or change --measure/--country/--commodity/"
                 "--year (nothing was swept)")
    result = run_sweep(sc, samples=samples, seed=seed, chunk_size=chunk_size, cache=cache, on_error="nan", **common)
    info = result.info
    timing = (
        "from cache"
        if info.get("cached")
        else f"{info['wall_seconds']:.2f} s, {info['samples_per_second']:,.0f} samples/s on {info['executor']}"
    )
    swept = sorted({int(y) for y in result.measures["year"]}) if len(result.measures) else list(year_list or sc.years)
    span_text = _span_text(swept)
    inert: dict[str, str] = info.get("inert") or {}
    inputs = f"{info['parameters']} uncertain inputs"
    if inert:
        inputs += f" ({info['parameters'] - len(inert)} can act in {span_text}, {len(inert)} cannot: listed below)"
    fixed_text = ", ".join(f"{t}={'on' if on else 'off'}" for t, on in toggles.items())
    world = "".join([f", variant {variant}" if variant else "", f", toggles fixed {fixed_text}" if toggles else "",
                     f", source {source}" if source else ""])  # which world the table is of, in a pasted table too
    echo(f"sweep {sc.scenario.name!r}{world}: {samples} samples, seed {seed}, mode {mode}, {inputs} "
         f"({info['model']}); {timing}")
    if info["parameters"] == 0:
        echo("note: the scenario has no uncertain inputs; every sample equals the central run", err=True)
    ties: dict[str, list[str]] = info.get("ties") or {}
    if ties:
        echo("Tied draws (one draw per sample moves all of a tie's inputs together): "
             + ", ".join(f"{name} ({len(members)} input{'s' if len(members) != 1 else ''})"
                         for name, members in ties.items()))
    if inert:
        echo(f"Sampled but cannot act in {span_text} (they move no measure of this sweep):")
        for name, why in inert.items():
            echo(f"  {name}: {why}")
    _report_failures(result)

    from supplychain.report.numbers import is_share

    summary = _summary_table(result)
    # n_na: the samples whose measure is n/a (a share of nothing), left out of the statistics
    hidden = ("source_country", "partner", "stage", "unit", "sd", "n_nan",
              *(() if summary["n_na"].any() else ("n_na",)))
    keep = [c for c in summary.columns if c not in hidden]
    if "partner" in summary.columns:
        summary = summary[summary["partner"] == ""]
    title = f"Measures over the samples ({CENTRAL_NOTE})"
    targets = result.target_probability()
    checked = targets[targets["required"]]
    every = f"({CENTRAL_NOTE}; every measure: --output, or narrow with --measure/--country/--commodity/--years)"
    asked = {"metric": measure, "country": country, "commodity": commodity}
    for col, value in asked.items():  # the targets' own rows, always swept, stay in the targets' table
        if value is not None and col in summary.columns:
            summary = summary[summary[col] == value]
    if not (measure or country or commodity or year_spans):
        rows = _targets_rows(summary, result) if len(checked) else summary.iloc[:0]
        if len(rows):
            summary = rows
            title = ("Measures over the samples: the targets' countries and commodities in the years they are "
                     f"checked {every}")
        elif len(summary):
            from supplychain.report.headline import DEFAULT_COUNTRY

            why = "no target is checked in the swept years" if len(targets) else "no targets"
            summary, title = _focus_rows(summary, DEFAULT_COUNTRY), (
                f"Measures over the samples: the final uses of {DEFAULT_COUNTRY} ({why}) in "
                f"{int(summary['year'].max())} {every}")
    if summary.empty:
        echo(f"No measure matches the selection in {span_text} (mode {mode}); every measure: --output")
    else:
        if not (summary[SAME_COLUMN] == SAME_LABEL).any():  # a column of blanks reads like a missing count
            keep = [c for c in keep if c != SAME_COLUMN]
        shown, text_columns = _exporter_rows(summary[keep])
        print_table(shown, title,
                    max_rows=MAX_ROWS, more_hint="narrow with --measure/--country/--commodity or use --output",
                    share_rows=[is_share(str(m)) for m in summary["metric"]] if "metric" in summary.columns else None,
                    right=text_columns)
        if text_columns:
            echo(exporter_note())
        if (summary[SAME_COLUMN] == SAME_LABEL).any():
            echo(SAME_NOTE)
        if hidden_note := _hidden_spread_note(summary.head(MAX_ROWS)):
            echo(hidden_note)
    for line in result.caveats():  # next to the percentiles: what they mix, where ranges are cut
        echo(line)
    if len(targets):
        _print_targets(targets, result, span_text)
        _print_toggle_split(result)
    if output is not None:
        written = result.save(output)
        echo(f"wrote {written} ({result.n * len(result.measures):,} rows)", err=True)
    if tornado is not None and oat is not None:
        oat.tornado(tornado, **chosen)
        split = oat.moving(**chosen)  # as the tornado draws them
        print_table(
            split.rows[["rank", "parameter", "input_low", "input_high", "value_low", "value_high", "swing"]],
            f"What matters most for {measure} (one at a time)",
            max_rows=TORNADO_ROWS, shares=("value_low", "value_high", "swing") if is_share(measure or "") else (),
            more_hint=TORNADO_MORE,
        )
        for label, members in zip(split.rows["parameter"].head(TORNADO_ROWS), split.rows["members"].head(TORNADO_ROWS),
                                  strict=True):
            if len(members) > 1:
                echo(f"{label}: its {len(members)} inputs move together, each to its own low, then its own high "
                     f"(one draw of the tie; input_low/input_high –): {', '.join(members)}")
        if split.still:
            echo(f"{split.still} input{'s' if split.still != 1 else ''} with no effect (swing 0, round-off "
                 "included) not shown")
        if split.not_evaluable:
            n = split.not_evaluable
            echo(f"{n} input{'s' if n != 1 else ''} not evaluable at one end (the low or high run has no value) "
                 "not shown")
        echo(f"wrote {tornado}", err=True)
