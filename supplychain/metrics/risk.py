"""Supply risk after the EU JRC criticality method (2017 guidelines, EUR 28654).

docs/domain.md, "Measures of exposure", item 6::

    SR = [HHI_WGI,GS · IR/2 + HHI_WGI,sourcing · (1 − IR/2)] · (1 − EoL_RIR) · SI_SR
    HHI_WGI = Σ_c s_c² · WGI_c · t_c

Scaling used here (state of verification below):

* ``s_c`` — supply shares as **fractions** (Σ s_c = 1), *not* percentages: the
  global supply ("GS") mix is world production of the commodity by country; the
  sourcing mix is the assessed country's actual supply (domestic production plus
  imports by partner), as JRC's "EU sourcing";
* ``WGI_c`` — Worldwide Governance Indicators rescaled to **0–10, 10 = poorest
  governance**. Scenarios store it as ``countries.<code>.wgi`` in [0, 1] (1 =
  poorest); we use ``WGI_c = 10 · wgi``;
* ``t_c`` — JRC's trade-related factor, 1 without restrictions and above 1 for
  export restrictions; scenarios store the increment in
  ``countries.<code>.trade_restriction`` ∈ [0, 1], so ``t_c = 1 +
  trade_restriction``. (JRC's values below 1 for countries with an EU trade
  agreement cannot be expressed by that field.);
* ``IR`` — import reliance as a fraction in [0, 1]: the net import reliance of
  :func:`~supplychain.metrics.trade.net_import_reliance`, 0 for a net exporter (label
  ``"E"``); where it is not computed for another reason (label
  :data:`~supplychain.metrics.trade.UNRECORDED_USE`: apparent consumption is a residual,
  not a use) there is no ``IR`` and so no supply risk;
* ``EoL_RIR`` — end-of-life recycling input rate: recycled output in the country
  (``facilities.<id>.recycled_share`` × production) over its supply
  (production + imports), clipped to [0, 1];
* ``SI_SR`` — substitution index for supply risk, in [0, 1]; **default 1** (no
  substitute) unless given.

So ``HHI_WGI`` and ``SR`` lie on 0–10 (or above 10 with trade restrictions), and
JRC's criticality threshold is ``SR ≥ 1``.

*Verification.* The text of EUR 28654 itself could not be read while writing this
module (only its front matter was available). The scaling above — fractional
shares, WGI on 0–10 with 10 the worst, a multiplicative ``t_c`` of 1 without
restrictions, ``IR/2`` weights and a threshold of 1 — agrees with independent
public implementations of the 2017 method; treat it as *cross-checked, not
verified against the primary text*.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["hhi_wgi", "jrc_supply_risk", "supply_risk_table"]


def hhi_wgi(shares: Mapping[str, float] | pd.Series, wgi: Mapping[str, float],
            trade_restriction: Mapping[str, float] | None = None) -> float:
    """Governance-weighted HHI of a supply mix, ``Σ_c s_c² · WGI_c · t_c``.

    Parameters
    ----------
    shares : mapping or Series
        Country -> quantity or share; normalised to fractions summing to 1.
    wgi : mapping
        Country -> governance in [0, 1], 1 = poorest (scaled ×10 to JRC's 0–10).
    trade_restriction : mapping, optional
        Country -> ``t_c − 1`` in [0, 1] (default 0 for every country).

    Returns
    -------
    float
        On 0–10 without trade restrictions.

    Raises
    ------
    KeyError
        When a country with a positive share has no WGI.

    Examples
    --------
    Two suppliers, 70 % from a country with scaled WGI 6 (``wgi = 0.6``) under an
    export restriction ``t = 1.2``, 30 % from one with WGI 2:
    ``0.7² · 6 · 1.2 + 0.3² · 2 · 1 = 3.528 + 0.18 = 3.708``.

    >>> round(hhi_wgi({"CN": 70, "AU": 30}, {"CN": 0.6, "AU": 0.2}, {"CN": 0.2}), 6)
    3.708
    """
    ser = pd.Series(shares, dtype="float64")
    ser = ser[ser > 0]
    total = float(ser.sum())
    if total <= 0:
        return 0.0
    t = trade_restriction or {}
    out = 0.0
    for country, x in ser.items():
        s = x / total
        out += s * s * 10.0 * float(wgi[str(country)]) * (1.0 + float(t.get(str(country), 0.0)))
    return out


def jrc_supply_risk(hhi_wgi_gs: float, hhi_wgi_sourcing: float, import_reliance: float,
                    eol_rir: float = 0.0, si_sr: float = 1.0) -> float:
    """JRC supply risk of a raw material for an assessed country.

    Parameters
    ----------
    hhi_wgi_gs : float
        :func:`hhi_wgi` of the global supply mix.
    hhi_wgi_sourcing : float
        :func:`hhi_wgi` of the country's sourcing mix.
    import_reliance : float
        ``IR`` in [0, 1].
    eol_rir : float, default 0
        End-of-life recycling input rate in [0, 1].
    si_sr : float, default 1
        Substitution index for supply risk in [0, 1] (1 = no substitute).

    Returns
    -------
    float
        ``SR = [HHI_GS · IR/2 + HHI_sourcing · (1 − IR/2)] · (1 − EoL_RIR) · SI_SR``
        (docs/domain.md item 6; JRC 2017, EUR 28654). Critical when ``SR ≥ 1``.

    Examples
    --------
    >>> jrc_supply_risk(4.0, 2.0, 1.0)
    3.0
    >>> round(jrc_supply_risk(4.0, 2.0, 0.5, eol_rir=0.1, si_sr=0.9), 4)
    2.025
    """
    for name, v in (("import_reliance", import_reliance), ("eol_rir", eol_rir), ("si_sr", si_sr)):
        if not 0.0 <= v <= 1.0:
            msg = f"{name} must be in [0, 1], got {v!r}"
            raise ValueError(msg)
    half = import_reliance / 2.0
    return (hhi_wgi_gs * half + hhi_wgi_sourcing * (1.0 - half)) * (1.0 - eol_rir) * si_sr


def supply_risk_table(
    summary: pd.DataFrame,
    sourcing: pd.DataFrame,
    world: pd.DataFrame,
    nir: pd.DataFrame,
    wgi: Mapping[str, float],
    trade_restriction: Mapping[str, float] | None = None,
    recycled: Mapping[tuple[str, str], float] | None = None,
    si_sr: float | Mapping[str, float] = 1.0,
) -> pd.DataFrame:
    """Supply risk per country and commodity, where the inputs allow.

    Parameters
    ----------
    summary : DataFrame
        :func:`~supplychain.metrics.trade.trade_summary`.
    sourcing : DataFrame
        ``country, commodity, partner, tonnes`` of a country's supply by partner (domestic
        production under the country itself, plus imports), positive tonnes only.
    world : DataFrame
        ``commodity, partner, tonnes`` of world production by producing country, positive only.
    nir : DataFrame
        :func:`~supplychain.metrics.trade.net_import_reliance`: ``value`` and ``label``, indexed
        by ``(country, commodity)``. ``IR`` is the value, 0 where the label is ``"E"`` (a net
        exporter); a NaN with any other label (``"use not recorded"``) gives no row.
    wgi, trade_restriction : mapping
        Country -> [0, 1] (module docstring).
    recycled : mapping, optional
        ``(country, commodity)`` -> recycled output in tonnes.
    si_sr : float or mapping, default 1
        Substitution index, one value or per commodity (default 1 for missing).

    Returns
    -------
    DataFrame
        ``country, commodity, value, hhi_wgi_gs, hhi_wgi_sourcing, ir, eol_rir,
        si_sr``; a row only where every country with a positive share in both
        mixes has a WGI, the country has apparent consumption and ``IR`` is known.
    """
    rows = []
    world_mix: dict[str, dict[str, float]] = {}
    for rec in world.to_dict("records"):
        world_mix.setdefault(str(rec["commodity"]), {})[str(rec["partner"])] = float(rec["tonnes"])
    mixes: dict[tuple[str, str], dict[str, float]] = {}
    for rec in sourcing.to_dict("records"):
        mixes.setdefault((str(rec["country"]), str(rec["commodity"])), {})[str(rec["partner"])] = float(rec["tonnes"])
    nir_value = {(str(r["country"]), str(r["commodity"])): 0.0 if r["label"] == "E" else float(r["value"])
                 for r in nir.reset_index().to_dict("records")}
    supply_of = {(str(r["country"]), str(r["commodity"])): float(r["production"]) + float(r["imports"])
                 for r in summary.reset_index().to_dict("records")}
    recycled_of = dict(recycled) if recycled is not None else {}
    for (country, commodity), mix in sorted(mixes.items()):
        gs = world_mix.get(commodity)
        if gs is None or np.isnan(nir_value.get((country, commodity), np.nan)):
            continue
        if not (set(gs) | set(mix)) <= set(wgi):
            continue
        ir = nir_value[(country, commodity)]
        supply = supply_of.get((country, commodity), 0.0)
        rec_t = recycled_of.get((country, commodity), 0.0)
        eol = float(np.clip(rec_t / supply, 0.0, 1.0)) if supply > 0 else 0.0
        si = float(si_sr.get(str(commodity), 1.0)) if isinstance(si_sr, Mapping) else float(si_sr)
        h_gs = hhi_wgi(gs, wgi, trade_restriction)
        h_src = hhi_wgi(mix, wgi, trade_restriction)
        rows.append({"country": country, "commodity": commodity,
                     "value": jrc_supply_risk(h_gs, h_src, ir, eol, si), "hhi_wgi_gs": h_gs,
                     "hhi_wgi_sourcing": h_src, "ir": ir, "eol_rir": eol, "si_sr": si})
    return pd.DataFrame(rows, columns=["country", "commodity", "value", "hhi_wgi_gs", "hhi_wgi_sourcing", "ir",
                                       "eol_rir", "si_sr"])
