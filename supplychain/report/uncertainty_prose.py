r"""Generate the uncertainty figures of ``scenarios/README.md`` ("Scenario notes", ``path_to_2030``).

The text between ``<!-- uncertainty:start -->`` and ``<!-- uncertainty:end -->`` quotes a
Monte Carlo sweep and a one-at-a-time sweep of ``path_to_2030.yaml``; it is written by
``make scenario-results`` (:func:`supplychain.report.scenario_results.main`) from
:func:`measure` and :func:`uncertainty_markdown`, so the figures are the code's, not
typed in:

* the US traced China share of NdFeB magnets in :data:`YEAR` over :data:`SAMPLES` samples
  (``rebalance``, seed :data:`SEED`): the central run, P5, P50, P95, mean and where the central
  run falls (``central_rank``, :meth:`~supplychain.uncertainty.result.SweepResult.summary`);
* that share's mean over the samples grouped by the 10X metal line's lead time
  (:data:`LEAD_TIME`, whole years) and by Vulcan's toggle (:data:`VULCAN`: mean with it on
  minus mean with it off);
* in how many samples the base network raised outputs above their paths, what the sweep's
  percentiles mix (its sampled toggles) and which ranges are cut at an engine limit
  (:meth:`~supplychain.uncertainty.result.SweepResult.caveats`, as ``supplychain sweep`` prints them);
* the number of inputs with a swing on that share and on the USGS aggregate's in a
  one-at-a-time sweep (:meth:`~supplychain.uncertainty.sensitivity.OATResult.moving`,
  round-off counted as no swing), and apart the inputs not evaluable at one end.

The sentences that are not figures are checked by :func:`figures`, which raises
:class:`ClaimError` when one does not hold for the sweeps (so ``make scenario-results`` fails
rather than printing it): the central lead time is the shortest sampled, Vulcan is off in the
central run, and the lead time has the largest one-at-a-time swing on the magnets' share.

Examples
--------
>>> f = Figures(inputs=3, central=0.38, mean=0.56, p5=0.28, p50=0.57, p95=0.79, central_rank=0.285,
...             by_lead={3: 0.46, 4: 0.57}, vulcan_gap=0.07, moving_magnets=2, moving_compounds=1)
>>> text = uncertainty_markdown(f)
>>> "57.0% at the median (P5 28.0%, P95 79.0%; mean 56.0%;" in text, "at P28 of the sweep: 28.5% of the" in text
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from supplychain.uncertainty.result import SweepResult
    from supplychain.uncertainty.sensitivity import OATResult

__all__ = ["END", "LEAD_TIME", "SAMPLES", "SCENARIO", "SEED", "START", "VULCAN", "YEAR", "ClaimError", "Figures",
           "figures", "measure", "uncertainty_markdown"]

START: Final = "<!-- uncertainty:start -->"
END: Final = "<!-- uncertainty:end -->"
SCENARIO: Final = "path_to_2030.yaml"
SAMPLES: Final = 200
SEED: Final = 7
YEAR: Final = 2030
COUNTRY: Final = "US"
MAGNETS: Final = "ndfeb_magnet"
COMPOUNDS: Final = "ree_compounds"
LEAD_TIME: Final = "agreements.us_dod_mp_2025.investment.projects.mp_10x_metal.lead_time_years"
"""The 10X metal line's lead time (years from the DoD agreement to commissioning)."""
VULCAN: Final = "toggles.us_osc_vulcan"
"""Vulcan's loan (on with p = 0.5)."""


class ClaimError(ValueError):
    """A sentence of the README's uncertainty text does not hold for the sweeps (:func:`figures`)."""


@dataclass(frozen=True)
class Figures:
    """The numbers the README quotes (shares as fractions)."""

    inputs: int
    central: float
    mean: float
    p5: float
    p50: float
    p95: float
    central_rank: float
    by_lead: dict[int, float]
    vulcan_gap: float
    moving_magnets: int
    moving_compounds: int
    not_evaluable_magnets: int = 0
    not_evaluable_compounds: int = 0
    lead_tie: str = ""
    """The tie the lead time is drawn with ("" when drawn on its own): the one-at-a-time sweep swings it whole."""
    caveats: tuple[str, ...] = ()
    """In how many samples outputs were raised, what the percentiles mix and where ranges are cut
    (:meth:`~supplychain.uncertainty.result.SweepResult.caveats`, the lines ``supplychain sweep`` prints beside its
    table)."""


def figures(sweep: SweepResult, oat: OATResult) -> Figures:
    r"""Read :class:`Figures` off a sweep and a one-at-a-time sweep of the scenario.

    ``by_lead``: the mean of the samples' magnet share per whole-year lead time
    (:func:`~supplychain.schema.types.nearest_year`, :math:`\lfloor x + 0.5 \rfloor`, as the model
    reads a sampled year); ``vulcan_gap``: the mean with Vulcan on minus the mean with it off (NaN
    when one group is empty); ``moving_*``: inputs whose one-at-a-time swing is non-zero (round-off
    is zero; a tie is one input, :func:`~supplychain.uncertainty.sensitivity.oat_inputs`), ``not_evaluable_*``:
    those whose swing is NaN (:meth:`~supplychain.uncertainty.sensitivity.OATResult.moving`); ``lead_tie``: the
    tie of :data:`LEAD_TIME`, whose bar is then the tie's.

    Raises
    ------
    ClaimError
        If a sentence of :func:`uncertainty_markdown` that is not a figure does not hold: the
        central lead time is above a sampled one, Vulcan is on in the central run, or the lead
        time (with its tie, when it has one) is not the input with the largest one-at-a-time swing on the
        magnets' share.
    """
    import math

    import numpy as np

    from supplychain.schema.types import nearest_year

    key = {"metric": "traced_share", "country": COUNTRY, "year": YEAR}
    summary = sweep.summary()
    row = summary[(summary["metric"] == "traced_share") & (summary["country"] == COUNTRY)
                  & (summary["commodity"] == MAGNETS) & (summary["year"] == YEAR)
                  & (summary["source_country"] == "CN")].iloc[0]
    v = sweep.measure(commodity=MAGNETS, source_country="CN", **key).to_numpy(dtype=float)
    drawn = sweep.inputs[LEAD_TIME].to_numpy(dtype=float)
    lead = np.array([nearest_year(x) for x in drawn], dtype=int)
    on = sweep.inputs[VULCAN].to_numpy(dtype=bool)
    gap = float(v[on].mean() - v[~on].mean()) if on.any() and (~on).any() else math.nan
    magnets, compounds = oat.moving(commodity=MAGNETS, **key), oat.moving(commodity=COMPOUNDS, **key)

    central = {p.name: p.central for p in oat.spec}
    if LEAD_TIME in central and len(drawn) and float(central[LEAD_TIME]) > drawn.min():
        msg = (f"the central lead time {central[LEAD_TIME]} is not the shortest sampled ({drawn.min()}): "
               "'delays only push later' does not hold")
        raise ClaimError(msg)
    if central.get(VULCAN, False):
        msg = "Vulcan is on in the central run: 'Vulcan's loans off' does not hold"
        raise ClaimError(msg)
    top = magnets.rows["parameter"].iloc[0] if len(magnets.rows) else None
    lead_bar = oat.label_of(LEAD_TIME) if LEAD_TIME in central else LEAD_TIME  # its tie's bar when it is tied
    if top != lead_bar:
        msg = f"the largest one-at-a-time swing on the US magnets is {top}, not {lead_bar}"
        raise ClaimError(msg)
    lead_tie = (oat.spec[LEAD_TIME].tie or "") if LEAD_TIME in central else ""
    return Figures(inputs=len(sweep.inputs.columns), central=float(row["central"]), mean=float(row["mean"]),
                   p5=float(row["p5"]), p50=float(row["p50"]), p95=float(row["p95"]),
                   central_rank=float(row["central_rank"]),
                   by_lead={int(y): float(v[lead == y].mean()) for y in sorted(set(lead.tolist()))},
                   vulcan_gap=gap, moving_magnets=len(magnets.rows), moving_compounds=len(compounds.rows),
                   not_evaluable_magnets=magnets.not_evaluable, not_evaluable_compounds=compounds.not_evaluable,
                   lead_tie=lead_tie, caveats=tuple(sweep.caveats()))


def measure(scenarios: str | Path = "scenarios") -> Figures:
    """Run the two sweeps the README quotes (minutes) and read their :class:`Figures`."""
    from supplychain.io.load import load
    from supplychain.uncertainty import run_sweep
    from supplychain.uncertainty.sensitivity import one_at_a_time

    world = load(Path(scenarios) / SCENARIO)
    sweep = run_sweep(world, samples=SAMPLES, seed=SEED, mode="rebalance", cache=False, quiet=True)
    oat = one_at_a_time(world, mode="rebalance", years=[YEAR], countries=[COUNTRY], quiet=True)
    return figures(sweep, oat)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _not_evaluable(n: int) -> str:
    return f" ({n} more not evaluable at one end: the low or high run has no value)" if n else ""


def _with_tie(tie: str) -> str:
    return f" (with the rest of its tie `{tie}`, drawn as one)" if tie else ""


def uncertainty_markdown(f: Figures) -> str:
    """Write the README's text between :data:`START` and :data:`END`.

    Every figure is read off :class:`Figures`; the other sentences are checked by :func:`figures`.
    """
    leads = ", ".join(f"{y} years {_pct(m)}" for y, m in f.by_lead.items())
    rank = round(100 * f.central_rank)
    return (
        f"A one-at-a-time sweep of `path_to_2030` ({f.inputs} inputs; rebalance, {YEAR}, US) gives a swing to "
        f"{f.moving_magnets} inputs on the traced China share of US magnets{_not_evaluable(f.not_evaluable_magnets)} "
        f"and to {f.moving_compounds} on the USGS aggregate{_not_evaluable(f.not_evaluable_compounds)}, "
        "the members of a `tie:` swung together as one input "
        "(`one_at_a_time(load(\"scenarios/path_to_2030.yaml\"), mode=\"rebalance\", "
        f"years=[{YEAR}], countries=[\"US\"])`, `.moving(metric=\"traced_share\", country=\"US\", "
        "commodity=...)`, rows with `swing > 0`; a swing of round-off, at most 1e-9, counts as none).\n\n"
        f"**The central run falls at P{rank} of the sweep: {100 * f.central_rank:.1f}% of the samples give a lower "
        "share** (ties counted half).\n`central` sets every input to its "
        "`value`: for the projects that is the announced schedule, the shortest lead time of their\n"
        "`choice` (delays only push later), and Vulcan's loans off.\n"
        f"In {SAMPLES} samples of `path_to_2030` (rebalance, seed {SEED}) the US traced China share of magnets "
        f"in {YEAR} is {_pct(f.central)} in the central run — the figure the tables above publish — and "
        f"{_pct(f.p50)} at the median (P5 {_pct(f.p5)}, P95 {_pct(f.p95)}; mean {_pct(f.mean)}; `central_rank` "
        f"{f.central_rank:.3f}; the sweep table's `central_at`). The input with the largest "
        f"one-at-a-time swing is the 10X metal line's lead time{_with_tie(f.lead_tie)}: samples with {leads} on "
        f"average; Vulcan on adds {100 * f.vulcan_gap:.1f} points on average (it feeds on Chinese NdPr metal, "
        "`docs/rebalance.md`, \"What is not modelled\"). Generated by `make scenario-results` "
        "(`supplychain.report.uncertainty_prose`: `run_sweep(\"scenarios/path_to_2030.yaml\", "
        f"samples={SAMPLES}, seed={SEED})`, `.summary()`, and `.measure(...)` grouped by the samples' inputs)."
        + "".join(f"\n{line}" for line in f.caveats)
    )
