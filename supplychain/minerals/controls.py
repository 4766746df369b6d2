"""US shortfall and exposure per critical mineral under China's export controls, in both response modes.

:func:`controls_table` simulates a scenario's variants (by default every variant
of ``scenarios/china_controls_all_minerals.yaml``) with the ``fixed`` response
(trade patterns kept, blocked tonnes lost) and the ``rebalance`` response (the
LP re-routes through spare capacity), and returns one row per mode, variant,
year and commodity of the US: demand, shortfall, and the direct and traced China
shares of what arrives. The two modes bound the answer (docs/domain.md, "Supply
response after a shock").

A commodity a policy in force covers that the US trades but has no demand of in the
world — where USGS withholds US consumption (tungsten, tellurium, lithium …), the importer
writes none — gets a row too, with no demand or shortfall and ``note`` "not evaluated: US
consumption withheld (W) in USGS's release" (the atlas's reason,
:func:`~supplychain.importers.usgs_mcs.computed_nir`): what the US receives of it ends in
its market's surplus, which no response protects, so a loss of it is no shortfall
(:mod:`supplychain.simulation.uncounted`). It is listed, not left out.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from supplychain.importers.usgs_mcs import Release, computed_nir, load_catalogue, read_release, us_figures
from supplychain.io.load import as_scenario
from supplychain.metrics.exposure import shortfall_share
from supplychain.minerals.atlas import bundled_release
from supplychain.schema.assumptions import assumed_split
from supplychain.schema.model import Scenario
from supplychain.schema.units import commodity_units
from supplychain.simulation.run import Mode, RunOutput
from supplychain.simulation.tables import PUBLIC_NAMES
from supplychain.simulation.uncounted import live_policies, uncounted_uses, unused_markets
from supplychain.simulation.variants import run_variants

__all__ = ["CONTROLS_COLUMNS", "NOT_EVALUATED", "controls_section", "controls_summary", "controls_table",
           "not_evaluated_note"]

CONTROLS_COLUMNS = ("mode", "variant", "year", "commodity", "unit", "demand", "shortfall", "shortfall_share",
                    "direct_import_share", "traced_share", "assumed_split", "note")
"""Columns of :func:`controls_table` (``demand`` and ``shortfall`` in the commodity's ``unit``: kg Ga, t Sb …;
``assumed_split`` True where the country's import shares are a ranked-source split, so the direct and traced
shares are an order of magnitude (:func:`~supplychain.schema.assumptions.assumed_split`); ``note`` says why a row is
not evaluated, else empty)."""

NOT_EVALUATED = "not evaluated"
"""How a ``note`` of :func:`controls_table` begins: the commodity's loss cannot be counted."""


@functools.lru_cache(maxsize=1)
def _release() -> Release:
    files = sorted({s.salient.file for s in load_catalogue().commodities.values() if s.salient})
    return read_release(bundled_release(), salient_files=files)


def not_evaluated_note(commodity: str, country: str = "US") -> str:
    """Say why a covered commodity without the country's demand is not evaluated.

    For the US and a commodity of the USGS catalogue whose consumption the bundled release
    does not give as a number, the reason the atlas gives (``computed_nir``'s label); else
    that the scenario has no final demand of it.

    Examples
    --------
    >>> not_evaluated_note("tungsten")
    "not evaluated: US consumption withheld (W) in USGS's release"
    >>> not_evaluated_note("zirconium")
    "not evaluated: US consumption given only as <100000 in USGS's release"
    >>> not_evaluated_note("tungsten", "JP")
    'not evaluated: no final demand of it by JP in the scenario'
    """
    spec = load_catalogue().commodities.get(commodity)
    if country == "US" and spec is not None and spec.salient is not None:
        nir = computed_nir(us_figures(_release(), spec))
        if nir.method == "not computed" and nir.label.startswith("consumption"):
            return f"{NOT_EVALUATED}: US {nir.label} in USGS's release"
        if nir.method == "not computed" and nir.label.startswith("no consumption"):
            return f"{NOT_EVALUATED}: no US consumption in USGS's release"
    return f"{NOT_EVALUATED}: no final demand of it by {country} in the scenario"


def controls_table(
    scenario: Scenario | str | Path,
    *,
    variants: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    toggles: Mapping[str, bool] | None = None,
    modes: Sequence[Mode] = ("fixed", "rebalance"),
    country: str = "US",
    source: str = "CN",
) -> pd.DataFrame:
    """Simulate shortfall and China exposure of one country per commodity, variant, year and response mode.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario (e.g. ``scenarios/china_controls_all_minerals.yaml``).
    variants : sequence of str, optional
        Variants to run (default: ``base`` and every variant of the scenario).
    years : sequence of int, optional
        Years (default: the scenario's; later years keep the last data year's pattern).
    toggles : mapping of str to bool, optional
        Toggle overrides applied to every variant (e.g. ``{"cn_us_ban_all": True}``).
    modes : sequence of {"fixed", "rebalance"}
        Supply responses.
    country, source : str
        Whose shortfall, and exposure to whom.

    Returns
    -------
    DataFrame
        :data:`CONTROLS_COLUMNS`; ``shortfall_share = shortfall / demand`` of
        the country's final demand. A commodity a policy in force in the run covers
        that the country trades but has no demand of (USGS withholds its US consumption:
        the world's US use of it is only the surplus that production and trade leave,
        which a policy can cut without any shortfall) has NaN demand, shortfall and
        shortfall share and the ``note`` of :func:`not_evaluated_note`.
    """
    scenario = as_scenario(scenario)
    units = commodity_units(scenario)
    names = list(variants) if variants is not None else ["base", *sorted(scenario.variants)]
    runs = [(None if v == "base" else v, dict(toggles) if toggles else None) for v in names]
    assumed = assumed_split(scenario, country)
    frames = []
    for mode in modes:
        outs = run_variants(scenario, runs, mode=mode, years=years, source=source)
        for variant, run in zip(names, outs, strict=True):
            s = run.shortfall
            s = s[s["country"] == country].groupby(["year", "commodity"], as_index=False)[
                ["demand_t", "shortfall_t"]].sum().rename(columns={"demand_t": "demand", "shortfall_t": "shortfall"})
            m = run.measures
            m = m[(m["country"] == country) & m["metric"].isin(["direct_import_share", "traced_share"])]
            wide = m.pivot_table(index=["year", "commodity"], columns="metric", values="value", aggfunc="first")
            wide = wide.reindex(columns=["direct_import_share", "traced_share"]).reset_index()
            t = s.merge(wide, on=["year", "commodity"], how="left")
            t["shortfall_share"] = shortfall_share(t["shortfall"], t["demand"])  # n/a (NaN) without demand
            t["note"] = ""
            extra = _not_evaluated(scenario, run, t, country)
            if not extra.empty:
                t = pd.concat([t, extra.merge(wide, on=["year", "commodity"], how="left")], ignore_index=True)
            t["unit"] = t["commodity"].map(dict(units)).fillna("t")
            t["assumed_split"] = t["commodity"].isin(assumed)
            t.insert(0, "variant", variant)
            t.insert(0, "mode", mode)
            frames.append(t)
    table = pd.concat(frames, ignore_index=True)[list(CONTROLS_COLUMNS)]
    return table.sort_values(["mode", "variant", "year", "commodity"], kind="stable").reset_index(drop=True)


def _not_evaluated(scenario: Scenario, run: RunOutput, table: pd.DataFrame, country: str) -> pd.DataFrame:
    """Rows of the commodities a policy in force in the year covers that ``country`` imports unused, per year."""
    rows = []

    def tables(year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        return run.nodes[year], run.flows[run.flows["year"] == year].rename(columns=PUBLIC_NAMES["flows"])

    for year in run.years:
        live = live_policies(scenario, run.toggles.active, year, year)  # in force in the row's year
        traded = {(c, k) for c, k in unused_markets(tables, [year]) if c == country}
        demanded = {(country, str(k)) for k in table.loc[table["year"] == year, "commodity"]}
        rows += [(year, k) for _c, k, _p in uncounted_uses(scenario, live, traded, demanded, [country])]
    return pd.DataFrame({"year": [y for y, _ in rows], "commodity": [k for _, k in rows], "demand": np.nan,
                         "shortfall": np.nan, "shortfall_share": np.nan,
                         "note": [not_evaluated_note(k, country) for _, k in rows]})


def controls_summary(table: pd.DataFrame, year: int, variant: str = "base") -> pd.DataFrame:
    """Put the two modes side by side: one row per commodity of a year and variant.

    Returns
    -------
    DataFrame
        ``commodity``, ``unit`` and ``<metric>_<mode>`` columns for ``shortfall_share``,
        ``shortfall`` and ``traced_share``, ``assumed_split`` and ``note`` (a not-evaluated row's reason),
        sorted by the fixed-mode shortfall share (largest first; not-evaluated rows last).
    """
    t = table[(table["year"] == year) & (table["variant"] == variant)]
    # unstack, not pivot_table: a not-evaluated row (NaN shortfall in every mode) stays
    wide = pd.DataFrame(t.groupby(["commodity", "unit", "mode"])[["shortfall", "shortfall_share", "traced_share"]]
                        .first().unstack("mode"))
    wide.columns = [f"{pair[0]}_{pair[1]}" for pair in wide.columns]
    wide = wide.reset_index()
    if "note" in t.columns:
        notes = t.groupby("commodity")["note"].agg(lambda n: next((x for x in n if x), ""))
        wide["note"] = wide["commodity"].map(notes).fillna("")
    if "assumed_split" in t.columns:
        wide["assumed_split"] = wide["commodity"].map(t.groupby("commodity")["assumed_split"].any()).fillna(False)
    key = "shortfall_share_fixed" if "shortfall_share_fixed" in wide.columns else wide.columns[1]
    return wide.sort_values([key, "commodity"], ascending=[False, True], kind="stable").reset_index(drop=True)


def controls_section(
    scenario: Scenario | str | Path,
    *,
    year: int | None = None,
    variant: str = "base",
    toggles: Mapping[str, bool] | None = None,
) -> tuple[str, pd.DataFrame]:
    """Caption and :func:`controls_summary` of one year and variant, both modes (what ``atlas --controls`` shows).

    Parameters
    ----------
    scenario : Scenario or path
        The scenario.
    year : int, optional
        Year shown (default: the scenario's last; a later year is simulated too).
    variant : str
        ``base`` or a variant of the scenario.
    toggles : mapping of str to bool, optional
        Toggle overrides (as in :func:`controls_table`).

    Returns
    -------
    (str, DataFrame)
        For :func:`~supplychain.minerals.render.atlas_markdown` and ``atlas_html``'s ``controls``.
    """
    name = Path(scenario).name if isinstance(scenario, str | Path) else scenario.scenario.name
    scenario = as_scenario(scenario)
    shown = year if year is not None else scenario.years[-1]
    years = sorted({*scenario.years, shown})
    table = controls_table(scenario, variants=[variant], years=years, toggles=toggles)
    switched = "".join(f", {k}={'on' if v else 'off'}" for k, v in (toggles or {}).items())
    caption = (f"{name}, variant {variant}{switched}, {shown}: US shortfall and traced China share per mineral, "
               "fixed and rebalance responses")
    return caption, controls_summary(table, shown, variant)
