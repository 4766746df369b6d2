"""The headline: how many of the 50 critical minerals the US relies on imports for, against the claims.

The press analysis the project follows opens with two claims: the US "depends on
foreign suppliers for about 80 % of its strategic metals" and "of 50 minerals
officially rated critical, 30 are imported entirely". USGS (MCS 2025) counts 12
of the 50 as 100 % net import reliant in 2024. :func:`headline` counts the same
from an :func:`~supplychain.minerals.atlas.atlas` — from the published values and
from the values recomputed from the salient figures (published where they cannot
be recomputed) — and :func:`headline_lines` says which claim the data supports.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["ARTICLE_FULLY", "ARTICLE_SHARE", "USGS_FULLY", "USGS_MORE_THAN_HALF", "Claim", "Headline", "headline",
           "headline_lines"]


@dataclass(frozen=True)
class Claim:
    """A published figure and where it was read."""

    what: str
    value: float
    source: str
    confidence: str


USGS_FULLY = Claim(
    "critical minerals (2022 list) 100 % net import reliant in 2024", 12,
    "USGS MCS 2025, as reported by Livemint (2025-04-03): 'of the 50 critical minerals the US identified in 2022, "
    "it was 100% reliant on imports for 12'", "high")
USGS_MORE_THAN_HALF = Claim(
    "further critical minerals more than 50 % net import reliant in 2024", 28,
    "USGS MCS 2026 as relayed by NewsTarget (2026-02-08): '20 critical minerals still had net import reliance "
    "above 50%, down from 28 in 2024'", "low: a secondary relay; read here as in addition to the 12")
ARTICLE_SHARE = Claim(
    "'the US depends on foreign suppliers for about 80 % of its strategic metals'", 0.80,
    "press analysis 'US mineral diplomacy: Washington looks east for a substitute for China' (November 2025)",
    "as quoted")
ARTICLE_FULLY = Claim(
    "'of 50 minerals officially rated critical, 30 are imported entirely'", 30,
    "press analysis 'US mineral diplomacy: Washington looks east for a substitute for China' (November 2025)",
    "as quoted")


@dataclass(frozen=True)
class Headline:
    """Counts over the 50 minerals of the 2022 list."""

    listed: int
    fully: int
    """100 % reliant: recomputed where the figures allow, else published."""
    more_than_half: int
    """More than 50 % reliant, the fully reliant included (same basis)."""
    fully_published: int
    more_than_half_published: int
    unknown: tuple[str, ...]
    """Minerals without a usable figure (neither recomputed nor published)."""
    differences: tuple[str, ...]
    """Minerals whose recomputed class differs from the published one, with the reason."""


def headline(frame: pd.DataFrame) -> Headline:
    """Count the 2022 list's minerals by reliance class.

    Parameters
    ----------
    frame : DataFrame
        An :func:`~supplychain.minerals.atlas.atlas` (any order).

    Returns
    -------
    Headline

    Examples
    --------
    >>> from supplychain.minerals.atlas import atlas
    >>> h = headline(atlas())
    >>> h.listed, h.fully_published, h.more_than_half_published - h.fully_published
    (50, 12, 28)
    """
    rows = frame[frame["list"] == "2022"]
    computed = rows["nir_class"]
    published = rows["nir_class_published"]
    diff = rows[computed != published]
    differences = tuple(
        f"{r.name}: recomputed {r.nir_computed:.1%} ({r.nir_computed_note}), published {r.nir_published}"
        for r in diff.itertuples())
    return Headline(
        listed=len(rows),
        fully=int((computed == "100%").sum()),
        more_than_half=int(computed.isin(["100%", ">50%"]).sum()),
        fully_published=int((published == "100%").sum()),
        more_than_half_published=int(published.isin(["100%", ">50%"]).sum()),
        unknown=tuple(rows.loc[computed == "unknown", "name"].str.lower()),
        differences=differences,
    )


def _same(count: int, claim: Claim) -> str:
    return "equal to" if count == claim.value else f"NOT equal to ({count})"


def headline_lines(h: Headline) -> list[str]:
    """Say the summary in words: the counts, USGS's counts, the article's claims and which the data supports.

    Examples
    --------
    >>> h = Headline(50, 11, 40, 12, 40, ("hafnium",), ())
    >>> print(headline_lines(h)[2].split(":")[1])
     NOT supported — 12 are (USGS
    """
    share = h.more_than_half_published / h.listed
    fully_ok = abs(h.fully_published - ARTICLE_FULLY.value) <= 2
    share_ok = abs(share - ARTICLE_SHARE.value) <= 0.05
    lines = [
        f"Of the {h.listed} critical minerals (2022 list) the US was fully import-reliant in 2024 for {h.fully} and "
        f"more than half for {h.more_than_half} (recomputed from the salient figures where they allow it); "
        f"from the published values: {h.fully_published} and {h.more_than_half_published}.",
        f"USGS: 100 % for {USGS_FULLY.value:g} of the 50 ({_same(h.fully_published, USGS_FULLY)} the count from "
        f"the published values) and more than 50 % for {USGS_MORE_THAN_HALF.value:g} more "
        f"({_same(h.more_than_half_published - h.fully_published, USGS_MORE_THAN_HALF)} it; confidence "
        f"{USGS_MORE_THAN_HALF.confidence}).",
        f"The article's {ARTICLE_FULLY.what}: {'supported' if fully_ok else 'NOT supported'} — "
        f"{h.fully_published} are (USGS: {USGS_FULLY.value:g}).",
        f"The article's {ARTICLE_SHARE.what}: {'supported' if share_ok else 'NOT supported'} if read as the share "
        f"of critical minerals more than half import-reliant — {h.more_than_half_published} of {h.listed} = "
        f"{share:.0%} (the release has no tonnage-weighted share of 'strategic metals').",
    ]
    if h.differences:
        lines.append("Recomputed and published classes differ for: " + "; ".join(h.differences) + ".")
    if h.unknown:
        lines.append(f"{len(h.unknown)} of the {h.listed} have no net import reliance in the release "
                     f"({', '.join(h.unknown)}); they are in neither count.")
    return lines
