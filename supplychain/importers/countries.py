"""Country codes of trade data mapped to ISO 3166-1 alpha-2.

BACI and UN Comtrade number countries with UN M49 codes, which are ISO 3166-1
numeric codes except for a few areas that the statistics define their own way.
A code is resolved in this order:

1. an aggregate (:data:`AGGREGATES`: ``0`` World, ``97`` European Union) is no
   country: its rows would count trade twice and are skipped;
2. a code the statistics define differently from ISO (:data:`SPECIAL`), such as
   ``490`` "Other Asia, nes" — in Comtrade and BACI practice Taiwan — or ``842``
   for the USA (ISO 840);
3. the ISO alpha-2 or alpha-3 code given beside it (BACI's country table,
   Comtrade's ``reporterISO`` / ``partnerISO``), when ISO knows it;
4. the code read as an ISO numeric code (pycountry, the Debian iso-codes data);
5. otherwise unmapped — historical areas (Belgium-Luxembourg 58, USSR 810,
   Czechoslovakia 200, Serbia and Montenegro 891, Netherlands Antilles 530 …) and
   "nes" areas (899 Areas, nes; 568 Other Europe, nes …). Their rows are skipped
   and listed, never guessed.

Hong Kong (344) and Macao (446) are their own ISO codes; ``fold`` (``--fold
HK=CN``) counts them as China, as USGS does for its import sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import pycountry

from supplychain.schema.types import ISO_COUNTRIES

__all__ = ["AGGREGATES", "SPECIAL", "CountryResolver", "Resolution", "parse_fold", "resolve_code"]

AGGREGATES: Final[Mapping[int, str]] = {0: "World", 97: "European Union"}
"""Codes of aggregates (not countries): ``0`` World, ``97`` the EU as a Comtrade reporter."""

SPECIAL: Final[Mapping[int, tuple[str, str]]] = {
    490: ("TW", "Other Asia, nes: in UN Comtrade and BACI practice Taiwan (ISO 158)"),
    842: ("US", "USA (M49 trade code 842; ISO 840)"),
    251: ("FR", "France, with Monaco (M49 trade code 251; ISO 250)"),
    381: ("IT", "Italy, with San Marino (M49 trade code 381; ISO 380)"),
    579: ("NO", "Norway, with Svalbard and Jan Mayen (M49 trade code 579; ISO 578)"),
    699: ("IN", "India (M49 trade code 699; ISO 356)"),
    757: ("CH", "Switzerland, with Liechtenstein (M49 trade code 757; ISO 756)"),
    280: ("DE", "Fed. Rep. of Germany before 1991 (ISO 276 today)"),
}
"""Codes whose trade-statistics meaning differs from ISO 3166-1 numeric: code → (alpha-2, why)."""

Kind = Literal["iso", "special", "aggregate", "unmapped"]


@dataclass(frozen=True)
class Resolution:
    """What a country code resolved to.

    Attributes
    ----------
    iso2 : str or None
        ISO 3166-1 alpha-2 code (after folding), or None for aggregates and unmapped codes.
    kind : {"iso", "special", "aggregate", "unmapped"}
        How it was resolved (see the module docstring).
    note : str
        Why, for special codes and aggregates.
    """

    iso2: str | None
    kind: Kind
    note: str = ""


def _iso_alpha3(code: str) -> str | None:
    country = pycountry.countries.get(alpha_3=code.upper()) if len(code) == 3 else None
    return None if country is None else str(country.alpha_2)


def _iso_numeric(code: int) -> str | None:
    country = pycountry.countries.get(numeric=f"{code:03d}") if 0 < code < 1000 else None
    return None if country is None else str(country.alpha_2)


def resolve_code(code: int, *, iso2: str = "", iso3: str = "") -> Resolution:
    """Resolve one trade-statistics country code to ISO 3166-1 alpha-2.

    Parameters
    ----------
    code : int
        UN M49 trade code (BACI ``i``/``j``, Comtrade ``reporterCode``/``partnerCode``).
    iso2, iso3 : str, optional
        ISO codes given beside it in the data (may be empty or non-ISO, e.g. ``S19``).

    Returns
    -------
    Resolution

    Examples
    --------
    >>> resolve_code(490, iso3="S19")
    Resolution(iso2='TW', kind='special', note='Other Asia, nes: in UN Comtrade and BACI practice Taiwan (ISO 158)')
    >>> resolve_code(344).iso2, resolve_code(156, iso2="CN").kind, resolve_code(0).kind, resolve_code(810).kind
    ('HK', 'iso', 'aggregate', 'unmapped')
    """
    if code in AGGREGATES:
        return Resolution(None, "aggregate", f"{AGGREGATES[code]} (an aggregate, not a country)")
    if code in SPECIAL:
        special, why = SPECIAL[code]
        return Resolution(special, "special", why)
    given = iso2.strip().upper()
    found = given if given in ISO_COUNTRIES else _iso_alpha3(iso3.strip()) or _iso_numeric(code)
    return Resolution(found, "iso") if found else Resolution(None, "unmapped")


def parse_fold(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse ``FROM=TO`` pairs of ISO alpha-2 codes (``HK=CN``).

    Raises
    ------
    ValueError
        For a malformed pair or a code ISO does not know.

    Examples
    --------
    >>> parse_fold(["HK=CN", "mo=cn"])
    {'HK': 'CN', 'MO': 'CN'}
    """
    out: dict[str, str] = {}
    for item in items:
        src, sep, dst = item.partition("=")
        pair = (src.strip().upper(), dst.strip().upper())
        if not sep or any(code not in ISO_COUNTRIES for code in pair):
            msg = f"--fold takes FROM=TO with ISO alpha-2 codes (HK=CN), not {item!r}"
            raise ValueError(msg)
        out[pair[0]] = pair[1]
    return out


@dataclass
class CountryResolver:
    """Resolves codes once each, folds them and remembers names for the unmapped list.

    Attributes
    ----------
    iso2, iso3, names : dict
        Per code, what the data's own tables say (BACI's country table, Comtrade's
        ISO and description columns); filled by the readers.
    fold : dict
        ISO alpha-2 → the code it is counted as (``{"HK": "CN"}``).
    """

    iso2: dict[int, str] = field(default_factory=dict)
    iso3: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    fold: dict[str, str] = field(default_factory=dict)
    _cache: dict[int, Resolution] = field(default_factory=dict, repr=False)

    def learn(self, code: int, *, iso2: str = "", iso3: str = "", name: str = "") -> None:
        """Record what the data says about ``code`` (first word wins; empty values are ignored)."""
        if code in self._cache:
            return
        if iso2:
            self.iso2.setdefault(code, iso2)
        if iso3:
            self.iso3.setdefault(code, iso3)
        if name:
            self.names.setdefault(code, name)

    def __call__(self, code: int) -> Resolution:
        """Resolve ``code`` (cached), then fold."""
        hit = self._cache.get(code)
        if hit is None:
            hit = resolve_code(code, iso2=self.iso2.get(code, ""), iso3=self.iso3.get(code, ""))
            if hit.iso2 in self.fold:
                folded = self.fold[hit.iso2]
                hit = Resolution(folded, hit.kind, f"{hit.note}; counted as {folded}".lstrip("; "))
            self._cache[code] = hit
        return hit

    def name(self, code: int) -> str:
        """Return the data's name for ``code`` (or ``code N``)."""
        return self.names.get(code) or AGGREGATES.get(code) or f"code {code}"
