r"""Say when a harsher variant shows a lower exposed share than a milder one (``compare`` and the report).

Under ``rebalance`` a ban frees the non-source supply the source used to absorb and the
re-routing sends it to the users left short, so a country's *secure* tonnes (planned use met
from outside the source) can rise as the ban deepens while what it loses is counted once:
``exposed_share`` = 1 − ``secure_share`` then *falls* (docs/measures.md §3b, "Exposure can
fall as the shock deepens"). A reader comparing variants on the exposed share would read the
harsher one as the safer. This module finds such pairs and words one note.

"Harsher" is decided by the world's shortfall, never by a variant's name: for commodity *k*
in year *y*, variant *A* is harsher than *B* when more of *k*'s final demand is unmet worldwide,

.. math:: S_A(k, y) > S_B(k, y) + \varepsilon\,\max(1, S_B(k, y)),
          \qquad S_v(k, y) = \sum_c \text{shortfall}_v(c, k, y),

and the exposure falls for country *c* when :math:`e_A(c,k,y) < e_B(c,k,y) - \varepsilon`
(:math:`\varepsilon` = :data:`TOLERANCE`, above the LP's round-off).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd

from supplychain.report.numbers import format_percent

__all__ = ["TOLERANCE", "exposure_falls", "exposure_falls_note", "world_shortfall"]

TOLERANCE: Final = 1e-6
"""Smallest difference in a share (and relative difference in the world's shortfall) that counts."""

_COLUMNS = ["country", "commodity", "year", "harsher", "milder", "exposed_harsher", "exposed_milder",
            "short_harsher", "short_milder"]


def world_shortfall(shortfall: pd.DataFrame) -> pd.DataFrame:
    """Sum a shortfall table over countries: ``variant``, ``year``, ``commodity``, ``shortfall``.

    ``shortfall`` is :attr:`Result.shortfall <supplychain.api.Result.shortfall>`
    (``demand``, ``delivered``, ``shortfall`` in the commodity's unit; a ``variant`` column): the
    ``shortfall`` column of :func:`~supplychain.simulation.world.world_balance`.

    Examples
    --------
    >>> s = pd.DataFrame({"variant": ["v"] * 2, "year": [2025] * 2, "country": ["US", "JP"],
    ...                   "commodity": ["m"] * 2, "demand": [100.0, 20.0], "delivered": [50.0, 10.0],
    ...                   "shortfall": [50.0, 10.0]})
    >>> world_shortfall(s).values.tolist()
    [['v', 2025, 'm', 60.0]]
    """
    from supplychain.simulation.world import world_balance

    out = world_balance(shortfall)
    return pd.DataFrame(out[["variant", "year", "commodity", "shortfall"]])


def exposure_falls(measures: pd.DataFrame, world: pd.DataFrame) -> pd.DataFrame:
    r"""Find each (country, commodity, year) whose exposed share is lower in a harsher variant than in a milder one.

    Parameters
    ----------
    measures : pandas.DataFrame
        Tidy measures of several variants (``variant``, ``year``, ``country``, ``commodity``,
        ``metric``, ``value``; a ``partner`` column, if any, keeps its empty rows): the
        ``exposed_share`` rows are read, the largest where a key has several.
    world : pandas.DataFrame
        :func:`world_shortfall` of the same variants.

    Returns
    -------
    pandas.DataFrame
        One row per (country, commodity, year, harsher, milder) pair with
        :math:`S_h > S_m` (more unmet worldwide, beyond the tolerance) and
        :math:`e_h < e_m - \varepsilon`: ``exposed_harsher``, ``exposed_milder``,
        ``short_harsher``, ``short_milder`` (the world's shortfall of the commodity),
        the largest fall first.

    Examples
    --------
    The tiny world of ``tests/test_exposure_falls.py``: under the ban the US gets 50 t of 100 t, all
    from Japan (exposed (0 + 50)/100 = 0.5), 50 t unmet worldwide; with no ban all 100 t come from
    China (exposed 1.0), nothing unmet:

    >>> m = pd.DataFrame({"variant": ["base", "no_ban"], "year": [2025] * 2, "country": ["US"] * 2,
    ...                   "commodity": ["m"] * 2, "metric": ["exposed_share"] * 2, "value": [0.5, 1.0]})
    >>> w = pd.DataFrame({"variant": ["base", "no_ban"], "year": [2025] * 2, "commodity": ["m"] * 2,
    ...                   "shortfall": [50.0, 0.0]})
    >>> r = exposure_falls(m, w).iloc[0]
    >>> r["harsher"], r["milder"], float(r["exposed_harsher"]), float(r["exposed_milder"])
    ('base', 'no_ban', 0.5, 1.0)
    """
    rows = measures[measures["metric"] == "exposed_share"]
    if "partner" in rows.columns:
        rows = rows[rows["partner"].fillna("").astype(str) == ""]
    rows = rows.dropna(subset=["value"])
    if rows.empty or world.empty:
        return pd.DataFrame(columns=_COLUMNS)
    e = rows.groupby(["variant", "year", "country", "commodity"], as_index=False)["value"].max()
    e = e.merge(world, on=["variant", "year", "commodity"], how="inner")
    pairs = e.merge(e, on=["year", "country", "commodity"], suffixes=("_h", "_m"))
    harsher = pairs["shortfall_h"] > pairs["shortfall_m"] + TOLERANCE * pairs["shortfall_m"].clip(lower=1.0)
    falls = pairs["value_h"] < pairs["value_m"] - TOLERANCE
    found = pairs[harsher & falls]
    out = pd.DataFrame({
        "country": found["country"], "commodity": found["commodity"], "year": found["year"],
        "harsher": found["variant_h"], "milder": found["variant_m"],
        "exposed_harsher": found["value_h"], "exposed_milder": found["value_m"],
        "short_harsher": found["shortfall_h"], "short_milder": found["shortfall_m"]})
    drop = out["exposed_milder"] - out["exposed_harsher"]
    order = drop.sort_values(ascending=False, kind="stable").index
    return out.loc[order, _COLUMNS].reset_index(drop=True)


def exposure_falls_note(measures: pd.DataFrame, world: pd.DataFrame, units: Mapping[str, str] | None = None) -> str:
    """Word :func:`exposure_falls` as one note ("" when no harsher variant shows a lower exposed share).

    The note names the largest fall and counts the others; ``units`` gives each commodity's unit
    (default ``t``).

    Examples
    --------
    >>> m = pd.DataFrame({"variant": ["base", "no_ban"], "year": [2025] * 2, "country": ["US"] * 2,
    ...                   "commodity": ["m"] * 2, "metric": ["exposed_share"] * 2, "value": [0.5, 1.0]})
    >>> w = pd.DataFrame({"variant": ["base", "no_ban"], "year": [2025] * 2, "commodity": ["m"] * 2,
    ...                   "shortfall": [50.0, 0.0]})
    >>> print(exposure_falls_note(m, w))  # doctest: +NORMALIZE_WHITESPACE
    Exposure falls where more is unmet: US m 2025 is 50% exposed under base, where 50 t is unmet
    worldwide, against 100% under no_ban (0 t unmet). A deeper ban frees supply from outside the source
    that the re-routing sends to the short, so the secure share rises while what is lost counts once:
    compare severities on the shortfall share (docs/measures.md §3b).
    """
    found = exposure_falls(measures, world)
    if found.empty:
        return ""
    top = found.iloc[0]
    unit = (units or {}).get(str(top["commodity"]), "t")
    more = len(found) - 1
    others = f" ({more} more such comparison{'s' if more != 1 else ''})" if more else ""
    return (f"Exposure falls where more is unmet: {top['country']} {top['commodity']} {int(top['year'])} is "
            f"{format_percent(top['exposed_harsher'])} exposed under {top['harsher']}, where "
            f"{top['short_harsher']:,.0f} {unit} is unmet worldwide, against "
            f"{format_percent(top['exposed_milder'])} under {top['milder']} ({top['short_milder']:,.0f} {unit} "
            f"unmet){others}. A deeper ban frees supply from outside the source that the re-routing sends to "
            "the short, so the secure share rises while what is lost counts once: compare severities on the "
            "shortfall share (docs/measures.md §3b).")
