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

or, as much being unmet in both (:math:`|S_A - S_B| \le \varepsilon \max(1, S_B)`, often nothing),
when more of *k*'s trade is blocked worldwide, :math:`B_A(k, y) > B_B(k, y) + \varepsilon\,\max(1, B_B(k, y))`
with :math:`B_v(k, y) = \sum_e x^0_e\,b_e` over *k*'s trade edges (baseline tonnes times the share the
policies block, :func:`~supplychain.simulation.world.flow_sums`). The exposure falls for country *c* when
:math:`e_A(c,k,y) < e_B(c,k,y) - \varepsilon` (:math:`\varepsilon` = :data:`TOLERANCE`, above the LP's
round-off).

Where the runs' flows are given, the note names the supplier that replaced the blocked supply: the
country *s* (not *c*, not the source) whose simulated trade flows of *k* into *c* rise most from the
milder run to the harsher, :math:`\arg\max_s \bigl(x_A(s \to c) - x_B(s \to c)\bigr)` (a rise above
:math:`\varepsilon \max(1, \cdot)`). Under ``rebalance`` the response treats every supplier the
policies do not block as available to every buyer at no cost (docs/rebalance.md, "What is not
modelled"): the named supplier is where the model found the tonnes, not a judgement that it would sell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from supplychain.report.numbers import format_percent
from supplychain.simulation.world import world_balance

__all__ = ["TOLERANCE", "exposure_falls", "exposure_falls_note", "world_shortfall"]

TOLERANCE: Final = 1e-6
"""Smallest difference in a share (and relative difference in the world's shortfall) that counts."""

_COLUMNS = ["country", "commodity", "year", "harsher", "milder", "exposed_harsher", "exposed_milder",
            "short_harsher", "short_milder", "by", "blocked_harsher", "blocked_milder", "replaced_by", "replaced"]


def world_shortfall(shortfall: pd.DataFrame, blocked: pd.DataFrame | None = None) -> pd.DataFrame:
    r"""Build the table :func:`exposure_falls` reads: ``variant``, ``year``, ``commodity``, ``shortfall``, ``blocked``.

    ``shortfall`` is the shortfall table summed over countries, :math:`S_v(k, y)`: the ``shortfall``
    column of :func:`~supplychain.simulation.world.world_balance` of
    :attr:`Result.shortfall <supplychain.api.Result.shortfall>` (``demand``, ``delivered``, ``shortfall``
    in the commodity's unit; a ``variant`` column). ``blocked`` is :math:`B_v(k, y)`, the tonnes the
    policies blocked on each commodity's trade (the ``blocked`` table of
    :func:`~supplychain.simulation.world.flow_sums` of the same runs, merged on variant, year and
    commodity); NaN for a commodity without trade, and everywhere without ``blocked`` (or with it empty).
    The one place the table is built (``compare``'s workers and the report's page).

    Examples
    --------
    >>> s = pd.DataFrame({"variant": ["v"] * 2, "year": [2025] * 2, "country": ["US", "JP"],
    ...                   "commodity": ["m"] * 2, "demand": [100.0, 20.0], "delivered": [50.0, 10.0],
    ...                   "shortfall": [50.0, 10.0]})
    >>> world_shortfall(s).values.tolist()
    [['v', 2025, 'm', 60.0, nan]]
    >>> b = pd.DataFrame({"variant": ["v"], "year": [2025], "commodity": ["m"], "blocked": [30.0]})
    >>> world_shortfall(s, b).values.tolist()
    [['v', 2025, 'm', 60.0, 30.0]]
    """
    out = pd.DataFrame(world_balance(shortfall)[["variant", "year", "commodity", "shortfall"]])
    if blocked is None or blocked.empty:
        return out.assign(blocked=np.nan)
    return out.merge(blocked, on=["variant", "year", "commodity"], how="left")


def exposure_falls(measures: pd.DataFrame, world: pd.DataFrame, inflows: pd.DataFrame | None = None,
                   source: str | None = None) -> pd.DataFrame:
    r"""Find each (country, commodity, year) whose exposed share is lower in a harsher variant than in a milder one.

    Parameters
    ----------
    measures : pandas.DataFrame
        Tidy measures of several variants (``variant``, ``year``, ``country``, ``commodity``,
        ``metric``, ``value``; a ``partner`` column, if any, keeps its empty rows): the
        ``exposed_share`` rows are read, the largest where a key has several.
    world : pandas.DataFrame
        :func:`world_shortfall` of the same variants: a pair unmet alike is compared on the tonnes
        ``blocked`` (never where they are NaN).
    inflows : pandas.DataFrame, optional
        The runs' trade into each country by partner (:func:`~supplychain.simulation.world.flow_sums`):
        to name the supplier that replaced the blocked supply.
    source : str, optional
        The country exposure is measured to (never named as the replacement).

    Returns
    -------
    pandas.DataFrame
        One row per (country, commodity, year, harsher, milder) pair with
        :math:`S_h > S_m` (more unmet worldwide, beyond the tolerance; ``by`` ``"unmet"``) or
        :math:`S_h \approx S_m` and :math:`B_h > B_m` (more blocked; ``by`` ``"blocked"``), and
        :math:`e_h < e_m - \varepsilon`: ``exposed_harsher``, ``exposed_milder``,
        ``short_harsher``, ``short_milder`` (the world's shortfall of the commodity),
        ``blocked_harsher``, ``blocked_milder`` (NaN without a ``blocked`` column), ``replaced_by``
        (the partner whose flows into the country rise most, "" when none rises or no ``inflows``) and
        ``replaced`` (its rise, tonnes), the largest fall first.

    Examples
    --------
    The tiny world of ``tests/test_exposure_falls.py``: under the ban the US gets 50 t of 100 t, all
    from Japan (exposed (0 + 50)/100 = 0.5), 50 t unmet worldwide; with no ban all 100 t come from
    China (exposed 1.0), nothing unmet:

    >>> m = pd.DataFrame({"variant": ["base", "no_ban"], "year": [2025] * 2, "country": ["US"] * 2,
    ...                   "commodity": ["m"] * 2, "metric": ["exposed_share"] * 2, "value": [0.5, 1.0]})
    >>> w = pd.DataFrame({"variant": ["base", "no_ban"], "year": [2025] * 2, "commodity": ["m"] * 2,
    ...                   "shortfall": [50.0, 0.0], "blocked": float("nan")})
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
    more_unmet = _more(pairs["shortfall_h"], pairs["shortfall_m"])
    alike = ~more_unmet & ~_more(pairs["shortfall_m"], pairs["shortfall_h"])
    more_blocked = alike & _more(pairs["blocked_h"], pairs["blocked_m"])
    falls = pairs["value_h"] < pairs["value_m"] - TOLERANCE
    found = pairs[(more_unmet | more_blocked) & falls]
    out = pd.DataFrame({
        "country": found["country"], "commodity": found["commodity"], "year": found["year"],
        "harsher": found["variant_h"], "milder": found["variant_m"],
        "exposed_harsher": found["value_h"], "exposed_milder": found["value_m"],
        "short_harsher": found["shortfall_h"], "short_milder": found["shortfall_m"],
        "by": more_unmet[found.index].map({True: "unmet", False: "blocked"}),
        "blocked_harsher": found["blocked_h"], "blocked_milder": found["blocked_m"]})
    out = _replacements(out, inflows, source)
    drop = out["exposed_milder"] - out["exposed_harsher"]
    order = drop.sort_values(ascending=False, kind="stable").index
    return out.loc[order, _COLUMNS].reset_index(drop=True)


def _more(a: pd.Series, b: pd.Series) -> pd.Series:
    r"""Whether ``a`` exceeds ``b`` beyond the tolerance, :math:`a > b + \varepsilon \max(1, b)` (NaN: never)."""
    out: pd.Series = (a > b + TOLERANCE * b.clip(lower=1.0)).fillna(False).astype(bool)
    return out


def _replacements(found: pd.DataFrame, inflows: pd.DataFrame | None, source: str | None) -> pd.DataFrame:
    """Add ``replaced_by`` and ``replaced``: the partner whose trade into the country rises most, harsher − milder."""
    found = found.assign(replaced_by="", replaced=0.0)
    if inflows is None or inflows.empty or found.empty:
        return found
    key = ["year", "country", "commodity"]
    into = inflows[inflows["supplier"] != (source or "")]  # flow_sums' inflows cross borders only
    h = found.reset_index().merge(into.rename(columns={"variant": "harsher"}), on=[*key, "harsher"])
    both = h.merge(into.rename(columns={"variant": "milder", "tonnes": "before"}), on=[*key, "milder", "supplier"],
                   how="left")
    both["rise"] = both["tonnes"] - both["before"].fillna(0.0)
    both = both[both["rise"] > TOLERANCE * both["before"].fillna(0.0).clip(lower=1.0)]
    if both.empty:
        return found
    top = both.sort_values(["index", "rise", "supplier"], ascending=[True, False, True], kind="stable")
    top = top.drop_duplicates("index").set_index("index")
    found.loc[top.index, "replaced_by"] = top["supplier"].astype(str)
    found.loc[top.index, "replaced"] = top["rise"].astype(float)
    return found


def exposure_falls_note(measures: pd.DataFrame, world: pd.DataFrame, units: Mapping[str, str] | None = None,
                        inflows: pd.DataFrame | None = None, source: str | None = None) -> str:
    """Word :func:`exposure_falls` as one note ("" when no harsher variant shows a lower exposed share).

    The note names the largest fall, the supplier that replaced the blocked supply (with ``inflows``)
    and counts the others; ``units`` gives each commodity's unit (default ``t``).

    Examples
    --------
    >>> m = pd.DataFrame({"variant": ["base", "no_ban"], "year": [2025] * 2, "country": ["US"] * 2,
    ...                   "commodity": ["m"] * 2, "metric": ["exposed_share"] * 2, "value": [0.5, 1.0]})
    >>> w = pd.DataFrame({"variant": ["base", "no_ban"], "year": [2025] * 2, "commodity": ["m"] * 2,
    ...                   "shortfall": [50.0, 0.0], "blocked": float("nan")})
    >>> print(exposure_falls_note(m, w))  # doctest: +NORMALIZE_WHITESPACE
    Exposure falls where more is unmet: US m 2025 is 50% exposed under base, where 50 t is unmet
    worldwide, against 100% under no_ban (0 t unmet). A deeper ban frees supply from outside the source
    that the re-routing sends to the short, so the secure share rises while what is lost counts once:
    compare severities on the shortfall share (docs/measures.md §3b).

    Nothing unmet in either, 30 t blocked under ``ban`` and Russia's 30 t replacing China's:

    >>> w = w.assign(shortfall=0.0, blocked=[30.0, 0.0])
    >>> f = pd.DataFrame({"variant": ["base", "no_ban", "no_ban"], "year": 2025, "country": "US",
    ...                   "commodity": "m", "supplier": ["RU", "CN", "RU"], "tonnes": [30.0, 30.0, 0.0]})
    >>> print(exposure_falls_note(m, w, inflows=f, source="CN"))  # doctest: +NORMALIZE_WHITESPACE
    Exposure falls where more is blocked: US m 2025 is 50% exposed under base, where 30 t of trade is
    blocked worldwide, against 100% under no_ban (0 t blocked), as much unmet in both (0 t). RU's trade into
    US rises by 30 t: it replaced the blocked supply, and the response takes every supplier the policies do
    not block as available at no cost (docs/rebalance.md). Compare severities on the shortfall share and the
    tonnes blocked, not on the exposed share (docs/measures.md §3b).
    """
    found = exposure_falls(measures, world, inflows, source)
    if found.empty:
        return ""
    top = found.iloc[0]
    unit = (units or {}).get(str(top["commodity"]), "t")
    more = len(found) - 1
    others = f" ({more} more such comparison{'s' if more != 1 else ''})" if more else ""
    head = f"{top['country']} {top['commodity']} {int(top['year'])} is {format_percent(top['exposed_harsher'])} " \
           f"exposed under {top['harsher']}, where "
    by = (f" {top['replaced_by']}'s trade into {top['country']} rises by {top['replaced']:,.0f} {unit}: it replaced "
          "the blocked supply, and the response takes every supplier the policies do not block as available at no "
          "cost (docs/rebalance.md).") if top["replaced_by"] else ""
    if top["by"] == "blocked":
        return (f"Exposure falls where more is blocked: {head}{top['blocked_harsher']:,.0f} {unit} of trade is "
                f"blocked worldwide, against {format_percent(top['exposed_milder'])} under {top['milder']} "
                f"({top['blocked_milder']:,.0f} {unit} blocked), as much unmet in both "
                f"({top['short_harsher']:,.0f} {unit}){others}.{by} Compare severities on the shortfall share and "
                "the tonnes blocked, not on the exposed share (docs/measures.md §3b).")
    return (f"Exposure falls where more is unmet: {head}{top['short_harsher']:,.0f} {unit} is unmet worldwide, "
            f"against {format_percent(top['exposed_milder'])} under {top['milder']} ({top['short_milder']:,.0f} "
            f"{unit} unmet){others}. A deeper ban frees supply from outside the source that the re-routing sends "
            "to the short, so the secure share rises while what is lost counts once: compare severities on the "
            f"shortfall share (docs/measures.md §3b).{by}")
