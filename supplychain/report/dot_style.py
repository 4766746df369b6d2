"""Styles and text formats of the network pictures: colour scale, line styles, tonnes, shares, names.

The traced China share is drawn on a six-step yellow → dark-red scale
(:data:`SHARE_BINS`, the 25 % break matching the policy target); flow statuses
map to colours and line styles (:data:`STATUS_STYLES`); :func:`format_tonnes`,
:func:`format_change` and :func:`format_share` write the numbers the pictures,
charts and report tables show, and :func:`country_name`/:func:`names_of` their
display names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import pycountry

if TYPE_CHECKING:
    from supplychain.schema.model import Scenario

__all__ = [
    "NO_DATA_FILL",
    "SHARE_BINS",
    "STATUS_STYLES",
    "ShareBin",
    "country_name",
    "format_change",
    "format_share",
    "format_tonnes",
    "names_of",
    "share_bin",
]

_MIN_PEN: Final = 0.8
"""Thinnest flow line, in points."""
_MAX_PEN: Final = 8.0
"""Widest flow line, in points."""


# ----------------------------------------------------------------- colour scale
@dataclass(frozen=True)
class ShareBin:
    """One step of the traced-share colour scale: shares in ``[low, high)`` (the last step includes 1)."""

    low: float
    """Lower bound (inclusive)."""
    high: float
    """Upper bound (exclusive, except for the last bin)."""
    fill: str
    """Fill colour (hex)."""
    font: str
    """Text colour that reads on ``fill``."""
    label: str
    """Legend text."""


SHARE_BINS: Final[tuple[ShareBin, ...]] = (
    ShareBin(0.00, 0.05, "#ffffb2", "#222222", "0–5 %"),
    ShareBin(0.05, 0.25, "#fed976", "#222222", "5–25 %"),
    ShareBin(0.25, 0.50, "#feb24c", "#222222", "25–50 %"),
    ShareBin(0.50, 0.75, "#fd8d3c", "#222222", "50–75 %"),
    ShareBin(0.75, 0.95, "#e31a1c", "#ffffff", "75–95 %"),
    ShareBin(0.95, 1.00, "#99000d", "#ffffff", "95–100 %"),
)
"""Six sequential steps (ColorBrewer YlOrRd); the 25 % break matches the policy target."""

NO_DATA_FILL: Final = "#ffffff"
"""Fill of a node whose traced share is unknown."""


def share_bin(share: float) -> ShareBin | None:
    """Return the colour step of a traced share, or ``None`` when the share is unknown (NaN).

    Examples
    --------
    >>> share_bin(0.3).label
    '25–50 %'
    >>> share_bin(1.0).label
    '95–100 %'
    >>> share_bin(float("nan")) is None
    True
    """
    if share is None or not math.isfinite(share):
        return None
    s = min(max(share, 0.0), 1.0)
    for b in SHARE_BINS:
        if b.low <= s < b.high:
            return b
    return SHARE_BINS[-1]


# ------------------------------------------------------------------- line styles
@dataclass(frozen=True)
class _EdgeStyle:
    color: str
    style: str
    legend: str
    sample: str


STATUS_STYLES: Final[Mapping[str, _EdgeStyle]] = {
    "normal": _EdgeStyle("#525252", "solid", "flow (width ∝ √tonnes)", "━━━"),
    "blocked": _EdgeStyle("#2166ac", "dashed", "blocked (baseline width)", "╺ ╺ ╺"),
    "reduced": _EdgeStyle("#4292c6", "solid", "reduced", "━━━"),
    "rerouted": _EdgeStyle("#762a83", "solid", "re-routed / increased", "━━━"),
    "deal": _EdgeStyle("#1a9850", "bold", "enabled by a deal", "━━━"),
    "new": _EdgeStyle("#1a9850", "bold", "new flow (new capacity)", "━━━"),
}
"""Colour, Graphviz style and legend text per flow status (``Result.flows.status``)."""


# --------------------------------------------------------------------- formats
_STEP_UP: Final = {"g": "kg", "kg": "t"}
"""Units of mass a compact figure moves up from once it reaches a thousand of them (1,000 kg is 1 t)."""


def _step_up(value: float, unit: str) -> tuple[float, str]:
    """Return the factor and unit ``value`` reads in compactly: kilograms (grams) from 999.5 up as tonnes (kilograms).

    A basis is a unit of mass and what it weighs (``kg Ga``, :mod:`supplychain.schema.units`);
    only the first word changes, by a factor of a thousand a step: 14,000 kg Ga is 14 t Ga
    (as every other chain prints tonnes), not "14k kg Ga".

    Examples
    --------
    >>> _step_up(14_000.0, "kg Ga"), _step_up(850.0, "kg Ga"), _step_up(2e6, "g"), _step_up(5e3, "t REO")
    ((0.001, 't Ga'), (1.0, 'kg Ga'), (1e-06, 't'), (1.0, 't REO'))
    """
    first, _, rest = unit.partition(" ")
    factor = 1.0
    while first in _STEP_UP and math.isfinite(value) and abs(value) * factor >= 999.5:
        factor, first = factor / 1e3, _STEP_UP[first]
    return factor, f"{first} {rest}" if rest else first


def format_tonnes(tonnes: float, unit: str = "t") -> str:
    """Format tonnes compactly: ``850 t``, ``1.3k t``, ``45k t``, ``1.2M t``.

    Examples
    --------
    >>> [format_tonnes(x) for x in (0, 0.04, 7.25, 850, 1294, 45455, 1_250_000)]
    ['0 t', '<0.1 t', '7.2 t', '850 t', '1.3k t', '45k t', '1.2M t']

    Each unit starts where the rounding of the one below would reach it, so that the same
    tonnes up to round-off print alike (999.9999 and 1000.0001 are both ``1.0k t``, not
    ``1000 t`` and ``1.0k t``):

    >>> [format_tonnes(x) for x in (9.94, 9.96, 999.4, 999.9999, 1000.0001, 9949, 9951)]
    ['9.9 t', '10 t', '999 t', '1.0k t', '1.0k t', '9.9k t', '10k t']

    A quantity in kilograms (grams) reads in tonnes (kilograms) from a thousand up (:func:`_step_up`),
    never as "14k kg":

    >>> [format_tonnes(x, "kg Ga") for x in (850, 2426.4, 14_000, 750_000)]
    ['850 kg Ga', '2.4 t Ga', '14 t Ga', '750 t Ga']
    """
    if tonnes is None or not math.isfinite(tonnes):
        return "–"
    factor, unit = _step_up(tonnes, unit)
    tonnes *= factor
    a = abs(tonnes)
    if a == 0:
        text = "0"
    elif a < 0.05:
        text = "<0.1"
    elif a < 9.95:
        text = f"{tonnes:.1f}"
    elif a < 999.5:
        text = f"{tonnes:.0f}"
    elif a < 9950:
        text = f"{tonnes / 1e3:.1f}k"
    elif a < 999_500:
        text = f"{tonnes / 1e3:.0f}k"
    else:
        text = f"{tonnes / 1e6:.1f}M"
    return f"{text} {unit}"


def format_change(before: float, after: float, unit: str = "t") -> str:
    """Format a change of tonnes with the unit once: ``9.5k → 2.5k t``.

    Both ends in the unit the larger reads in (:func:`_step_up`).

    Examples
    --------
    >>> format_change(9500, 2500)
    '9.5k → 2.5k t'
    >>> format_change(9500, 500, "kg Ga")
    '9.5 → 0.5 t Ga'
    """
    factor, shown = _step_up(max((abs(x) for x in (before, after) if x is not None and math.isfinite(x)),
                                 default=0.0), unit)
    a = format_tonnes(before * factor if before is not None else before, shown).removesuffix(f" {shown}")
    b = format_tonnes(after * factor if after is not None else after, shown)
    return f"{a} → {b}"


def format_share(share: float) -> str:
    """Format a share in [0, 1] as a whole percentage (``<1%`` and ``>99%`` at the ends).

    Examples
    --------
    >>> [format_share(x) for x in (0.0, 0.004, 0.254, 0.996, 1.0)]
    ['0%', '<1%', '25%', '>99%', '100%']
    >>> format_share(float("nan"))
    'n/a'
    """
    if share is None or not math.isfinite(share):
        return "n/a"
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{share * 100:.0f}%"


def _finite(x: Any) -> float:
    """``float(x)``, or NaN where ``x`` is not a number."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return math.nan
    return f


def _pen(tonnes: float, tmax: float) -> float:
    """Edge pen width: grows with the square root of tonnes, clamped to 0.8–8 pt."""
    if tmax <= 0 or not math.isfinite(tonnes):
        return _MIN_PEN
    w = _MIN_PEN + (_MAX_PEN - _MIN_PEN) * math.sqrt(max(tonnes, 0.0) / tmax)
    return round(min(max(w, _MIN_PEN), _MAX_PEN), 2)


# ----------------------------------------------------------------------- names
_SHORT_COUNTRY: Final = {
    "CD": "DR Congo",
    "EU": "European Union",
    "GB": "United Kingdom",
    "KR": "South Korea",
    "RU": "Russia",
    "ROW": "Rest of world",
    "TW": "Taiwan",
}


def country_name(code: str, names: Mapping[str, str] | None = None) -> str:
    """Display name of a country or region code: ``names`` first, then a short common name.

    Examples
    --------
    >>> country_name("US"), country_name("VN"), country_name("ROW"), country_name("XX")
    ('United States', 'Vietnam', 'Rest of world', 'XX')
    >>> country_name("EU", {"EU": "EU-27"})
    'EU-27'
    """
    if names and code in names:
        return names[code]
    if code in _SHORT_COUNTRY:
        return _SHORT_COUNTRY[code]
    if len(code) == 2:
        c = pycountry.countries.get(alpha_2=code)
        if c is not None:
            return str(getattr(c, "common_name", None) or c.name)
    return code


def short_country_name(code: str, names: Mapping[str, str] | None = None) -> str:
    """Return a country's short common name, for lists of several: :func:`country_name` before the scenario's name.

    A scenario may name a region at length ("European Union (demand region; …)"); a list of
    five such names does not read. Codes without a common name keep the scenario's.

    Examples
    --------
    >>> names = {"EU": "European Union (demand region)", "KR": "Korea, Republic of", "XA": "Region A"}
    >>> [short_country_name(c, names) for c in ("EU", "KR", "JP", "XA", "XX")]
    ['European Union', 'South Korea', 'Japan', 'Region A', 'XX']
    """
    common = country_name(code)
    return common if common != code else country_name(code, names)


def pair_name(country: str, commodity: str, names: Mapping[str, str]) -> str:
    """``United States · NdPr oxide``: a country and one of its commodities, by their display names."""
    return f"{country_name(country, names)} · {names.get(commodity, commodity.replace('_', ' '))}"


def names_of(scenario: Scenario | None) -> dict[str, str]:
    """Display names of a scenario's facilities, commodities, countries, regions, groups and projects.

    Parameters
    ----------
    scenario : Scenario or None
        The scenario (``None`` gives an empty mapping).

    Returns
    -------
    dict of str to str
        Id → display name, for the ``names`` argument of :func:`to_dot` and the charts.
    """
    if scenario is None:
        return {}
    out: dict[str, str] = {}
    out.update({k: v.name for k, v in scenario.facilities.items()})
    out.update({k: v.name for k, v in scenario.commodities.items()})
    out.update({k: v.name for k, v in scenario.countries.items() if v.name})
    out.update({k: v.name for k, v in scenario.regions.items()})
    out.update({k: v.name for k, v in scenario.groups.items() if v.name})
    for aid, ag in scenario.agreements.items():
        if ag.investment is not None:
            for pid, proj in ag.investment.projects.items():
                out[f"{aid}.{pid}"] = proj.name or f"{ag.name}: {pid}"
    return out
