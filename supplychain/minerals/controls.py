"""US shortfall and exposure per critical mineral under China's export controls, in both response modes.

:func:`controls_table` simulates a scenario's variants (by default every variant
of ``scenarios/china_controls_all_minerals.yaml``) with the ``fixed`` response
(trade patterns kept, blocked tonnes lost) and the ``rebalance`` response (the
LP re-routes through spare capacity), and returns one row per mode, variant,
year and commodity of the US: demand, shortfall, and the direct and traced China
shares of what arrives. The two modes bound the answer (docs/domain.md, "Supply
response after a shock").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from supplychain.io.load import as_scenario
from supplychain.metrics.exposure import shortfall_share
from supplychain.schema.model import Scenario
from supplychain.schema.units import commodity_units
from supplychain.simulation.run import Mode
from supplychain.simulation.variants import run_variants

__all__ = ["CONTROLS_COLUMNS", "controls_section", "controls_summary", "controls_table"]

CONTROLS_COLUMNS = ("mode", "variant", "year", "commodity", "unit", "demand", "shortfall", "shortfall_share",
                    "direct_import_share", "traced_share")
"""Columns of :func:`controls_table` (``demand`` and ``shortfall`` in the commodity's ``unit``: kg Ga, t Sb …)."""


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
        the country's final use (given demand, or the residual use of what
        production and trade leave where USGS withholds consumption).
    """
    scenario = as_scenario(scenario)
    units = commodity_units(scenario)
    names = list(variants) if variants is not None else ["base", *sorted(scenario.variants)]
    runs = [(None if v == "base" else v, dict(toggles) if toggles else None) for v in names]
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
            t["unit"] = t["commodity"].map(dict(units)).fillna("t")
            t.insert(0, "variant", variant)
            t.insert(0, "mode", mode)
            frames.append(t)
    table = pd.concat(frames, ignore_index=True)[list(CONTROLS_COLUMNS)]
    return table.sort_values(["mode", "variant", "year", "commodity"], kind="stable").reset_index(drop=True)


def controls_summary(table: pd.DataFrame, year: int, variant: str = "base") -> pd.DataFrame:
    """Put the two modes side by side: one row per commodity of a year and variant.

    Returns
    -------
    DataFrame
        ``commodity``, ``unit`` and ``<metric>_<mode>`` columns for ``shortfall_share``,
        ``shortfall`` and ``traced_share``, sorted by the fixed-mode shortfall
        share (largest first).
    """
    t = table[(table["year"] == year) & (table["variant"] == variant)]
    wide = t.pivot_table(index=["commodity", "unit"], columns="mode",
                         values=["shortfall_share", "shortfall", "traced_share"], aggfunc="first")
    wide.columns = [f"{pair[0]}_{pair[1]}" for pair in wide.columns]
    wide = wide.reset_index()
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
