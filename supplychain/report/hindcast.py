r"""Hindcast: the 2025 licensing episode against China's observed monthly magnet exports to the US.

The tool works at annual resolution; an export licence with approved share ``a`` and a
delay of ``d`` months from ``start`` blocks (``supplychain.simulation.policies``)

.. math:: b = φ(D) + (1 − a)\, φ(P \setminus D)

of a year's flow, ``D`` the first ``d`` months of the period ``P``. The same formula
read month by month (``φ_m`` the share of month ``m`` covered) gives each month's
open share ``o_m = 1 − φ_m(D) − (1 − a)\, φ_m(P \setminus D)``, which spreads the tool's
annual result over the calendar:

.. math:: x_m = A \, \frac{o_m}{\sum_{m'} o_{m'}}

with ``A`` the tool's 2025 China → US magnet flow with the licences (the ``documented``
run, ``fixed`` response). ``Σ_m x_m = A``: the monthly path *is* the tool's answer, only
spread over the months. ``A`` also carries the year's other events (MP's halt of sales to
China cuts China's feed, and so its exports), which the licence calendar does not time.
It is compared with China's customs data for the months our sources give
(``scenarios/world/data/china_magnet_exports_us_2025.csv``).

*Caveat.* The licence parameters (``share_approved``, ``delay_months``) were
read from these same monthly exports (``world/policies.yaml``), so this hindcast is
in-sample: it shows the annual model and its calendar reproduce the episode, not that
it would have predicted it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from supplychain.report.markdown import md_table
from supplychain.schema.model import ExportLicensing, Scenario
from supplychain.simulation.calendar import _month_overlap as _month_share
from supplychain.simulation.policies import licence_calendar

__all__ = ["DATA_FILE", "POLICY", "SCENARIO_FILE", "Hindcast", "hindcast", "hindcast_markdown", "monthly_factor",
           "observed_exports"]

SCENARIO_FILE: Final = "china_licensing_2025.yaml"
"""The scenario whose ``documented`` variant is hindcast."""
POLICY: Final = "cn_mofcom_no18_us"
"""The licence that covers NdFeB magnets to the US (No. 57 lists no magnet element; No. 18 has its own US share)."""
DATA_FILE: Final = Path("world") / "data" / "china_magnet_exports_us_2025.csv"
"""Observed exports, relative to the scenario folder."""
YEAR: Final = 2025


def monthly_factor(policy: ExportLicensing, year: int) -> np.ndarray:
    r"""Share of each month's flow that a licence lets through, the annual blocked share read month by month.

    With the licence's calendar (:func:`~supplychain.simulation.policies.licence_calendar`: D the delay,
    L = P \\ D the licensed rest, a approved, u the catch-up released in this year) and ``φ_m`` the share of
    month m an interval covers:

    .. math:: o_m = 1 - φ_m(D) - (1 - a)\, φ_m(L) + u\, H \, \frac{φ_m(L)}{\sum_{m'} φ_{m'}(L)},
       \qquad H = \sum_{m'} φ_{m'}(D)

    the held volume H (in months of flow) released evenly over the licensed months of the year.
    ``Σ_m o_m / 12 = 1 − b``, the year's open share of :func:`~supplychain.simulation.policies.apply_policies`.

    Parameters
    ----------
    policy : ExportLicensing
        Start, end, ``share_approved``, ``delay_months`` and ``catch_up`` (central values).
    year : int
        Calendar year.

    Returns
    -------
    ndarray, shape (12,)
        January … December.

    Examples
    --------
    No. 18 from 2025-04-04, 2 months' delay, 75 % approved: April 3/30 open,
    May closed, June 3 days closed then 75 %, July on 75 %.

    >>> p = ExportLicensing(type="export_licensing", country="CN", start="2025-04-04",
    ...                     share_approved=0.75, delay_months=2)
    >>> monthly_factor(p, 2025)[2:7].round(4).tolist()
    [1.0, 0.1, 0.0, 0.675, 0.75]
    """
    cal = licence_calendar(policy, year)
    months = range(1, 13)
    held = np.array([_month_share(*cal.held, year, m) for m in months]) if cal.held else np.zeros(12)
    lic = np.array([_month_share(*cal.licensed, year, m) for m in months]) if cal.licensed else np.zeros(12)
    out = 1.0 - held - (1.0 - cal.approved) * lic
    if cal.catch_up > 0 and lic.sum() > 0:
        out += cal.catch_up * held.sum() * lic / lic.sum()
    return out


def observed_exports(scenarios: str | Path = "scenarios") -> pd.DataFrame:
    """China's observed monthly magnet exports to the US (``month``, ``observed_t``, ``source_url``)."""
    raw = pd.read_csv(Path(scenarios) / DATA_FILE, comment="#")
    month = raw["period"].astype(str).str.slice(5, 7).astype(int)
    return pd.DataFrame({"month": month, "observed_t": raw["quantity_t"].astype(float),
                         "source_url": raw["source_url"].astype(str)}).sort_values("month").reset_index(drop=True)


@dataclass(frozen=True)
class Hindcast:
    """The tool's 2025 China → US magnet flow against the observed months.

    Attributes
    ----------
    monthly : pandas.DataFrame
        ``month``, ``model_t`` (every month), ``observed_t`` (NaN where not observed).
    baseline_t : float
        ``F``: the tool's 2025 flow without licences.
    annual_t : float
        The tool's 2025 flow with the documented licences (``fixed`` response).
    flow_2024_t : float
        The tool's 2024 China → US flow (from the 2024 trade data).
    share_approved, delay_months : float
        The licence's parameters (central values) that shape the calendar.
    """

    monthly: pd.DataFrame
    baseline_t: float
    annual_t: float
    flow_2024_t: float
    share_approved: float
    delay_months: float

    @property
    def observed(self) -> pd.DataFrame:
        """The months with an observation."""
        return self.monthly.dropna(subset=["observed_t"])

    @property
    def ratio(self) -> float:
        """Σ model / Σ observed over the observed months."""
        o = self.observed
        return float(o["model_t"].sum() / o["observed_t"].sum())

    @property
    def mean_absolute_error(self) -> float:
        """Mean of |model − observed| over the observed months, t per month."""
        o = self.observed
        return float((o["model_t"] - o["observed_t"]).abs().mean())


def hindcast(scenarios: str | Path = "scenarios") -> Hindcast:
    """Run the ``documented`` variant of :data:`SCENARIO_FILE` (``fixed``) and spread 2025 over the months.

    Raises
    ------
    ScenarioError
        The scenario does not load.
    """
    from supplychain.api import simulate
    from supplychain.io import load

    scenario: Scenario = load(Path(scenarios) / SCENARIO_FILE, require_sources=True)
    policy = scenario.policies[POLICY]
    assert isinstance(policy, ExportLicensing)
    res = simulate(scenario, variant="documented", mode="fixed", years=[YEAR - 1, YEAR])
    f = res.flows
    cn_us = f.loc[f["commodity"].eq("ndfeb_magnet") & f["supplier_country"].eq("CN") & f["buyer_country"].eq("US")]
    by_year = cn_us.groupby("year")[["baseline", "simulated"]].sum()  # t NdFeB product (the magnets' unit)
    base = float(by_year["baseline"].get(YEAR, np.nan))
    annual = float(by_year["simulated"].get(YEAR, np.nan))
    # the tool's 2025 flow spread over the months by the licence calendar: every other 2025 effect
    # (MP's halt of sales to China cuts China's feed) is in the annual flow, not in the calendar
    factor = monthly_factor(policy, YEAR)
    monthly = pd.DataFrame({"month": np.arange(1, 13), "model_t": annual * factor / factor.sum()})
    obs = observed_exports(scenarios)
    monthly = monthly.merge(obs[["month", "observed_t"]], on="month", how="left")
    return Hindcast(monthly, base, annual, float(by_year["simulated"].get(YEAR - 1, np.nan)),
                    policy.share_approved.central, policy.delay)


def hindcast_markdown(h: Hindcast) -> str:
    """Render the README section: the monthly table and how close the tool comes."""
    months = h.monthly["month"].to_numpy(dtype=int)
    model = h.monthly["model_t"].to_numpy(dtype=float)
    seen = h.monthly["observed_t"].to_numpy(dtype=float)
    rows = [[calendar.month_abbr[m], f"{x:,.1f}", "—" if np.isnan(y) else f"{y:,.1f}",
             "—" if np.isnan(y) else f"{x - y:+,.1f}"] for m, x, y in zip(months, model, seen, strict=True)]
    o = h.observed
    table = md_table(["2025", "model (t)", "observed (t)", "model − observed (t)"], rows)
    return (
        "### Hindcast: the 2025 licensing episode\n\n"
        f"`{SCENARIO_FILE}`, variant `documented`, `fixed` response: China → US NdFeB magnets in 2025, "
        f"the tool's annual flow ({h.annual_t:,.0f} t with the licences and the year's other events, "
        f"{h.baseline_t:,.0f} t in the baseline, before any 2025 event) spread "
        f"over the months by the licence calendar (`supplychain.report.hindcast`), against China's customs "
        f"data (`world/data/china_magnet_exports_us_2025.csv`).\n\n{table}\n\n"
        f"Over the {len(o)} observed months the tool gives {o['model_t'].sum():,.0f} t against "
        f"{o['observed_t'].sum():,.0f} t observed (ratio {h.ratio:.2f}); mean absolute error "
        f"{h.mean_absolute_error:,.0f} t a month; the largest gaps are {_worst(o)}. "
        f"In the baseline the tool sends {h.baseline_t:,.0f} t to the US in 2025 against "
        f"{h.flow_2024_t:,.0f} t in 2024 (the 2024 trade pattern carried to 2025's production and demand, "
        "`graph/pattern.py`). "
        f"**In-sample:** `share_approved` ({h.share_approved:g}) and `delay_months` ({h.delay_months:g}) were read "
        "from these monthly exports, so this shows that the annual model and its calendar reproduce the episode, "
        "not that they predicted it."
    )


def _worst(observed: pd.DataFrame) -> str:
    gap = observed["model_t"].to_numpy(dtype=float) - observed["observed_t"].to_numpy(dtype=float)
    months = observed["month"].to_numpy(dtype=int)
    hi, lo = int(np.argmax(gap)), int(np.argmin(gap))
    return (f"{calendar.month_name[months[hi]]} ({gap[hi]:+,.0f} t) and "
            f"{calendar.month_name[months[lo]]} ({gap[lo]:+,.0f} t)")
