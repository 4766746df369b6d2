r"""Hindcast: the 2025 licensing episode against China's observed monthly magnet exports.

The tool works at annual resolution; an export licence with approved share ``a``, a
delay of ``d`` months from ``start``, a share ``s`` shipped during it and catch-up ``u`` blocks
(``supplychain.simulation.policies``)

.. math:: b = (1 − s)(1 − u)\, φ(D) + (1 − a)\, φ(P \setminus D)

of a year's flow, ``D`` the first ``d`` months of the period ``P``. The same formula
read month by month (``φ_m`` the share of month ``m`` covered) gives each month's
open share ``o_m`` (:func:`monthly_factor`: ``s`` in D, ``a`` after it, and the held
volume ``u (1 − s) Σ φ_m(D)`` released evenly from ``release_lag_months`` after the licences), which
spreads the tool's annual result over the calendar:

.. math:: x_m = A \, \frac{o_m}{\sum_{m'} o_{m'}}

with ``A`` the tool's 2025 China → US magnet flow with the licences (the ``documented``
run, ``fixed`` response). ``Σ_m x_m = A``: the monthly path *is* the tool's answer, only
spread over the months. ``A`` also carries the year's other events (MP's halt of sales to
China cuts China's feed, and so its exports), which the licence calendar does not time.
It is compared with China's customs data for the months our sources give
(``scenarios/world/data/china_magnet_exports_us_2025.csv``).

The same is done for China's magnet exports to **every destination**
(``scenarios/world/data/china_magnet_exports_2025.csv``): the tool's China → US flow spread by
No. 18's US calendar plus its China → other destinations flow spread by No. 18's own (``cn_mofcom_no18``),
against the months and the January–October total the data give.

*In-sample and out of sample.* The US licence's parameters (``share_approved``, ``delay_months``,
``shipped_during_delay``) were read from the US months, and No. 18's ``share_approved``, ``catch_up`` and
``release_lag_months`` for other destinations from the totals of June, July, September and October minus the
US (``world/policies.yaml``): on those months the hindcast is in-sample, it shows the annual model and its
calendar reproduce the episode, not that it would have predicted it. No parameter was read from the US August
(computed from September's month-on-month change) nor from the totals of January–May and August, which only
the January–October total contains: those are out of sample.
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
from supplychain.simulation.calendar import Interval
from supplychain.simulation.calendar import _month_overlap as _month_share
from supplychain.simulation.policies import LicenceCalendar, licence_calendar

__all__ = ["ALL_FILE", "DATA_FILE", "POLICY", "POLICY_OTHERS", "SCENARIO_FILE", "Hindcast", "hindcast",
           "hindcast_markdown", "monthly_factor", "observed_all_destinations", "observed_exports"]

SCENARIO_FILE: Final = "china_licensing_2025.yaml"
"""The scenario whose ``documented`` variant is hindcast."""
POLICY: Final = "cn_mofcom_no18_us"
"""The licence that covers NdFeB magnets to the US (No. 57 lists no magnet element; No. 18 has its own US share)."""
POLICY_OTHERS: Final = "cn_mofcom_no18"
"""The licence that covers NdFeB magnets to every other destination."""
DATA_FILE: Final = Path("world") / "data" / "china_magnet_exports_us_2025.csv"
"""Observed exports to the US, relative to the scenario folder."""
ALL_FILE: Final = Path("world") / "data" / "china_magnet_exports_2025.csv"
"""Observed exports to every destination (months and the January–October total), relative to the scenario folder."""
US_2024_BOUND_T: Final = 400.0
"""'>400 t per month to the US in 2024' (the May row of :data:`DATA_FILE`): the one observed bound on the US rate."""
IN_SAMPLE_ALL: Final = (6, 7, 9, 10)
"""Months of the all-destination series No. 18's other-destination parameters were read from."""
YEAR: Final = 2025


def monthly_factor(policy: ExportLicensing, year: int) -> np.ndarray:
    r"""Share of each month's flow that a licence lets through, the annual blocked share read month by month.

    With the licence's calendar (:func:`~supplychain.simulation.policies.licence_calendar`: D the delay,
    L = P \\ D the licensed rest, R ⊂ L the release, a approved, s shipped during D, u the catch-up released in
    this year) and ``φ_m`` the share of month m an interval covers:

    .. math:: o_m = 1 - (1 - s)\, φ_m(D) - (1 - a)\, φ_m(L) + u\, H \, \frac{φ_m(R)}{\sum_{m'} φ_{m'}(R)},
       \qquad H = (1 - s) \sum_{m'} φ_{m'}(D)

    the held volume H (in months of flow) released evenly over the release months of the year.
    ``Σ_m o_m / 12 = 1 − b``, the year's open share of :func:`~supplychain.simulation.policies.apply_policies`.

    Parameters
    ----------
    policy : ExportLicensing
        Start, end, ``share_approved``, ``delay_months``, ``catch_up``, ``shipped_during_delay`` and
        ``release_lag_months`` (central values).
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

    def share(iv: Interval | None) -> np.ndarray:
        return np.array([_month_share(*iv, year, m) for m in months]) if iv else np.zeros(12)

    held, lic, rel = share(cal.held), share(cal.licensed), share(cal.released)
    out = 1.0 - (1.0 - cal.shipped) * held - (1.0 - cal.approved) * lic
    if cal.catch_up > 0 and rel.sum() > 0:
        out += cal.catch_up * (1.0 - cal.shipped) * held.sum() * rel / rel.sum()
    return out


def observed_exports(scenarios: str | Path = "scenarios") -> pd.DataFrame:
    """China's observed monthly magnet exports to the US (``month``, ``observed_t``, ``source_url``)."""
    raw = pd.read_csv(Path(scenarios) / DATA_FILE, comment="#")
    month = raw["period"].astype(str).str.slice(5, 7).astype(int)
    return pd.DataFrame({"month": month, "observed_t": raw["quantity_t"].astype(float),
                         "source_url": raw["source_url"].astype(str)}).sort_values("month").reset_index(drop=True)


def observed_all_destinations(scenarios: str | Path = "scenarios") -> tuple[pd.DataFrame, pd.DataFrame]:
    """China's observed magnet exports to every destination.

    Returns
    -------
    months : pandas.DataFrame
        ``month``, ``observed_t`` (the rows with a single month).
    spans : pandas.DataFrame
        ``first``, ``last`` (months), ``observed_t``, ``change_yoy`` (the cumulative rows, ``YYYY-MM..YYYY-MM``).
    """
    raw = pd.read_csv(Path(scenarios) / ALL_FILE, comment="#", dtype={"period": str})
    span = raw["period"].str.contains("..", regex=False)
    single = raw.loc[~span]
    months = pd.DataFrame({"month": single["period"].str.slice(5, 7).astype(int),
                           "observed_t": single["quantity_t"].astype(float)}).sort_values("month")
    cum = raw.loc[span]
    spans = pd.DataFrame({"first": cum["period"].str.slice(5, 7).astype(int),
                          "last": cum["period"].str.slice(14, 16).astype(int),
                          "observed_t": cum["quantity_t"].astype(float),
                          "change_yoy": cum["change_yoy"].astype(float)})
    return months.reset_index(drop=True), spans.reset_index(drop=True)


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
    share_approved, delay_months, shipped_during_delay : float
        The US licence's parameters (central values) that shape the calendar.
    all_destinations : pandas.DataFrame
        China → every destination: ``month``, ``model_t``, ``observed_t`` (NaN where not observed),
        ``in_sample`` (a month a parameter was read from).
    all_spans : pandas.DataFrame
        The cumulative observations (``first``, ``last``, ``observed_t``, ``change_yoy``) with ``model_t``, the
        model over the same months, and ``out_of_sample_observed_t`` / ``out_of_sample_model_t``, the same
        span without the in-sample months.
    all_2024_t, all_annual_t, others_baseline_t, others_annual_t : float
        The tool's China → every destination flow in 2024 and 2025 (with the licences), and its China → other
        destinations flow in the 2025 baseline and with the licences.
    others_calendar : LicenceCalendar
        No. 18's 2025 calendar for other destinations (delay, share shipped during it, release).
    """

    monthly: pd.DataFrame
    baseline_t: float
    annual_t: float
    flow_2024_t: float
    share_approved: float
    delay_months: float
    shipped_during_delay: float
    all_destinations: pd.DataFrame
    all_spans: pd.DataFrame
    all_2024_t: float
    all_annual_t: float
    others_baseline_t: float
    others_annual_t: float
    others_calendar: LicenceCalendar

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
    others = scenario.policies[POLICY_OTHERS]
    assert isinstance(others, ExportLicensing)
    res = simulate(scenario, variant="documented", mode="fixed", years=[YEAR - 1, YEAR])
    f = res.flows
    cn = f.loc[f["commodity"].eq("ndfeb_magnet") & f["supplier_country"].eq("CN") & f["buyer_country"].ne("CN")]
    to_us = cn["buyer_country"].eq("US")
    by_year = cn.loc[to_us].groupby("year")[["baseline", "simulated"]].sum()  # t NdFeB product (the magnets' unit)
    rest = cn.loc[~to_us].groupby("year")[["baseline", "simulated"]].sum()
    base = float(by_year["baseline"].get(YEAR, np.nan))
    annual = float(by_year["simulated"].get(YEAR, np.nan))
    annual_others = float(rest["simulated"].get(YEAR, np.nan))
    # the tool's 2025 flow spread over the months by the licence calendar: every other 2025 effect
    # (MP's halt of sales to China cuts China's feed) is in the annual flow, not in the calendar
    factor = monthly_factor(policy, YEAR)
    us_months = annual * factor / factor.sum()
    monthly = pd.DataFrame({"month": np.arange(1, 13), "model_t": us_months})
    obs = observed_exports(scenarios)
    monthly = monthly.merge(obs[["month", "observed_t"]], on="month", how="left")
    # every destination: the US months plus the other destinations' flow spread by No. 18's own calendar
    f_others = monthly_factor(others, YEAR)
    seen, spans = observed_all_destinations(scenarios)
    every = pd.DataFrame({"month": np.arange(1, 13), "model_t": us_months + annual_others * f_others / f_others.sum()})
    every = every.merge(seen, on="month", how="left")
    every["in_sample"] = every["month"].isin(IN_SAMPLE_ALL)
    model_t, oos_obs, oos_model = [], [], []
    for first, last, observed in spans[["first", "last", "observed_t"]].itertuples(index=False):
        inside = every["month"].between(first, last)
        held_out = inside & ~every["in_sample"]
        model_t.append(float(every.loc[inside, "model_t"].sum()))
        oos_model.append(float(every.loc[held_out, "model_t"].sum()))
        oos_obs.append(float(observed) - float(every.loc[inside & every["in_sample"], "observed_t"].sum()))
    spans = spans.assign(model_t=model_t, out_of_sample_observed_t=oos_obs, out_of_sample_model_t=oos_model)
    us_2024 = float(by_year["simulated"].get(YEAR - 1, np.nan))
    return Hindcast(monthly=monthly, baseline_t=base, annual_t=annual, flow_2024_t=us_2024,
                    share_approved=policy.share_approved.central, delay_months=policy.delay,
                    shipped_during_delay=policy.shipped_during_delay.central, all_destinations=every, all_spans=spans,
                    all_2024_t=us_2024 + float(rest["simulated"].get(YEAR - 1, np.nan)),
                    all_annual_t=annual + annual_others, others_baseline_t=float(rest["baseline"].get(YEAR, np.nan)),
                    others_annual_t=annual_others, others_calendar=licence_calendar(others, YEAR))


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
        f"**In-sample:** `share_approved` ({h.share_approved:g}), `delay_months` ({h.delay_months:g}) and "
        f"`shipped_during_delay` ({h.shipped_during_delay:g}, May's tonnes) were read from these monthly exports "
        "(all but August, computed from September's month-on-month change, which no parameter was read from), "
        "so this shows that the annual model and its calendar reproduce the episode, "
        f"not that they predicted it. The US reference the approvals are read against ({h.flow_2024_t / 12:,.0f} t "
        "a month, the tool's 2024 flow) is not an observation: it is the 2020 US share of China's magnet exports "
        f"times the 2024 total; against the sources' '>{US_2024_BOUND_T:,.0f} t per month to the US in 2024' the "
        f"same months give approvals {_approvals_at_bound(h)}.\n\n" + _all_destinations_markdown(h)
    )


def _approvals_at_bound(h: Hindcast) -> str:
    """Read the US months the approvals came from against :data:`US_2024_BOUND_T`, capped at 1."""
    o = h.observed
    seen = o.loc[o["month"].isin(IN_SAMPLE_ALL), "observed_t"].to_numpy(dtype=float)
    shares = np.minimum(seen / US_2024_BOUND_T, 1)
    return ", ".join(f"{x:.2g}" for x in shares)


def _all_destinations_markdown(h: Hindcast) -> str:
    """Render the out-of-sample check: China's magnet exports to every destination."""
    e = h.all_destinations
    rows = []
    for m, x, y, ins in e[["month", "model_t", "observed_t", "in_sample"]].itertuples(index=False):
        seen = not np.isnan(y)
        rows.append([calendar.month_abbr[int(m)], f"{x:,.0f}", f"{y:,.0f}" if seen else "—",
                     f"{x - y:+,.0f}" if seen else "—", ("in-sample" if ins else "out of sample") if seen else ""])
    table = md_table(["2025", "model (t)", "observed (t)", "model − observed (t)", ""], rows)
    spans = []
    for first, last, observed, yoy, model, oos_obs, oos_model in h.all_spans[
            ["first", "last", "observed_t", "change_yoy", "model_t", "out_of_sample_observed_t",
             "out_of_sample_model_t"]].to_numpy(dtype=float).tolist():
        months = f"{calendar.month_abbr[int(first)]}–{calendar.month_abbr[int(last)]}"
        held = ", ".join(calendar.month_abbr[m] for m in range(int(first), int(last) + 1) if m not in IN_SAMPLE_ALL)
        ref = h.all_2024_t * (last - first + 1) / 12
        spans.append(
            f"Over {months} 2025 the tool gives {model:,.0f} t against {observed:,.0f} t observed "
            f"(ratio {model / observed:.2f}; {model / ref - 1:+.1%} on its 2024 rate against "
            f"{yoy:+.1%} y/y observed). Without the in-sample months ({held}: no parameter was read from "
            f"them) it gives {oos_model:,.0f} t against {oos_obs:,.0f} t (ratio {oos_model / oos_obs:.2f}).")
    loss = 1 - h.others_annual_t / h.others_baseline_t
    sp = h.all_spans
    gap = float(sp["out_of_sample_model_t"].sum() / sp["out_of_sample_observed_t"].sum()) if len(sp) else 0.0
    return (
        "**Out of sample: every destination.** The same run's China → every destination NdFeB flow "
        f"({h.all_annual_t:,.0f} t in 2025 against {h.all_2024_t:,.0f} t in 2024): the US months above plus the "
        f"other destinations' flow ({h.others_annual_t:,.0f} t, {loss:.0%} below their 2025 baseline) spread by "
        f"No. 18's own calendar (`{POLICY_OTHERS}`: approvals, delay, `shipped_during_delay` and `catch_up`, the "
        "backlog held during the delay that ships later, released evenly from `release_lag_months` after the "
        "licences), against China's "
        f"customs totals (`world/data/china_magnet_exports_2025.csv`).\n\n{table}\n\n" + " ".join(spans) +
        " June, July, September and October are in-sample: No. 18's approvals, catch-up and the release's start "
        "for other destinations were read from them (June shows no export above the 2024 rate, July does: the "
        f"model releases the backlog evenly from {_day(h.others_calendar.released)}); the share that ships during "
        f"the delay ({h.others_calendar.shipped:.1%}) from the US May. The model passes only that share of the "
        f"covered exports during the delay ({_day(h.others_calendar.held)} to {_day(h.others_calendar.held, 1)}), "
        "while the January–October total leaves more for the unobserved months than that allows: "
        "the annual losses the licences book for 2025 are upper bounds" + (
            f" (over the out-of-sample months the model ships {1 - gap:.0%} less than observed)." if gap else ".")
    )


def _day(iv: Interval | None, end: int = 0) -> str:
    """Write the first (``end`` 0) or last day of an interval as '4 June'; '—' for none."""
    day = iv[end] if iv is not None else None
    return "—" if day is None else f"{day.day} {calendar.month_name[day.month]}"


def _worst(observed: pd.DataFrame) -> str:
    gap = observed["model_t"].to_numpy(dtype=float) - observed["observed_t"].to_numpy(dtype=float)
    months = observed["month"].to_numpy(dtype=int)
    hi, lo = int(np.argmax(gap)), int(np.argmin(gap))
    return (f"{calendar.month_name[months[hi]]} ({gap[hi]:+,.0f} t) and "
            f"{calendar.month_name[months[lo]]} ({gap[lo]:+,.0f} t)")
