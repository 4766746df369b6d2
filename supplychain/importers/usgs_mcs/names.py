"""Names in the USGS release: typos, fused footnote digits and countries.

* **Typos** in commodity and production-type names ("Gemanium", "Mine poduction",
  "grosss weight", "ilmentite", "Ferosilicon") are corrected by :func:`fix_typos`,
  so the importer's catalogue names things as USGS meant them.
* **Footnote digits fused into names**: the antimony world row reads
  ``World total (rounded) 10`` (footnote 10) and two Fig2 source lists end in
  ``China3`` (footnote 3). :func:`split_footnote` returns the name and the digits.
* **Countries** are turned into ISO 3166-1 alpha-2 codes by :func:`country_code`
  (USGS short names such as "Burma" and "Congo (Kinshasa)" included); "Other
  Countries" becomes the region ``ROW``; a parenthesised qualifier ("Brazil
  (beneficiated)") is kept apart.
"""

from __future__ import annotations

import re

import pycountry

from supplychain.importers.usgs_mcs.cells import clean_text

__all__ = ["OTHER", "TYPOS", "WORLD", "country_code", "fix_typos", "split_footnote", "split_qualifier"]

TYPOS: dict[str, str] = {
    "Gemanium": "Germanium",
    "poduction": "production",
    "grosss": "gross",
    "ilmentite": "ilmenite",
    "Ferosilicon": "Ferrosilicon",
}
"""Misspellings in the release and their corrections (whole words)."""

_TYPO = re.compile(r"\b(" + "|".join(map(re.escape, TYPOS)) + r")\b")
_FUSED = re.compile(r"^(.*?[A-Za-z)])\s?(\d{1,2})$")
_QUALIFIER = re.compile(r"^(.*?)\s*\((.*)\)$")

WORLD = "WORLD"
"""Code returned for a world-total row."""
OTHER = "ROW"
"""Code returned for "Other Countries" (the rest of the world, a region in scenarios)."""

_ALIASES: dict[str, str] = {
    "Burma": "MM",
    "Congo (Kinshasa)": "CD",
    "Congo (Brazzaville)": "CG",
    "Korea, Republic of": "KR",
    "Republic of Korea": "KR",
    "Korea, North": "KP",
    "Russia": "RU",
    "Turkey": "TR",
    "Côte d’Ivoire": "CI",
    "United States": "US",
}


def fix_typos(text: str) -> str:
    """Correct the release's known misspellings.

    Examples
    --------
    >>> fix_typos("Mine poduction, grosss weight"), fix_typos("Gemanium")
    ('Mine production, gross weight', 'Germanium')
    """
    return _TYPO.sub(lambda m: TYPOS[m[1]], clean_text(text))


def split_footnote(name: str) -> tuple[str, str]:
    """Split footnote digits fused onto the end of a name.

    Examples
    --------
    >>> split_footnote("World total (rounded) 10"), split_footnote("China3"), split_footnote("Canada")
    (('World total (rounded)', '10'), ('China', '3'), ('Canada', ''))
    """
    text = clean_text(name)
    m = _FUSED.match(text)
    return (m[1].strip(), m[2]) if m else (text, "")


def split_qualifier(name: str) -> tuple[str, str]:
    """Split a trailing parenthesised qualifier off a country name.

    Examples
    --------
    >>> split_qualifier("Brazil (beneficiated)"), split_qualifier("Congo (Kinshasa)")
    (('Brazil', 'beneficiated'), ('Congo (Kinshasa)', ''))
    """
    text = clean_text(name)
    if text in _ALIASES:
        return text, ""
    m = _QUALIFIER.match(text)
    return (m[1], m[2]) if m else (text, "")


def country_code(name: str) -> str | None:
    """ISO alpha-2 code of a USGS country name; ``WORLD`` for a world total, ``ROW`` for other countries.

    Returns
    -------
    str or None
        None when the name is not a country (the caller reports it).

    Examples
    --------
    >>> [country_code(n) for n in ("Russia ", "Burma", "China3", "Other Countries", "World total (rounded) 10")]
    ['RU', 'MM', 'CN', 'ROW', 'WORLD']
    >>> country_code("Atlantis") is None
    True
    """
    text, _ = split_footnote(name)
    text, _ = split_qualifier(text)
    low = text.lower()
    if low.startswith("world total"):
        return WORLD
    if low.startswith("other countries"):
        return OTHER
    if text in _ALIASES:
        return _ALIASES[text]
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None
