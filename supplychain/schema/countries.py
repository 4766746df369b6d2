"""Country, region and group codes given by a user: known, or an error with a did-you-mean.

Wherever a country is named — ``--source``, ``--country``, ``simulate(source=...)``,
``compute_measures(source=...)``, a sweep's ``countries=`` — it is an ISO 3166-1
alpha-2 code (``CN``) or the code of a region or group the scenario declares
(``ROW``, ``ASEAN``). Anything else would select nothing and report every share
as 0, so it is refused by :func:`check_codes`, with a hint that reads the common
mistakes: a country name (``China`` → ``CN``), an alpha-3 code (``USA`` → ``US``),
lower case, ``UK`` for ``GB``, or a near miss of a code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache

import pycountry

from supplychain.arguments import argument_problem
from supplychain.errors import KeyPath, Problem, ScenarioError
from supplychain.schema.model import Scenario
from supplychain.schema.types import ISO_COUNTRIES

__all__ = ["ALIASES", "check_codes", "code_hint", "known_codes", "require_codes"]

ALIASES: dict[str, str] = {"UK": "GB", "EL": "GR"}
"""Codes in common use that are not ISO 3166-1 alpha-2 (the United Kingdom, Greece in EU usage)."""


def known_codes(scenario: Scenario | None, extra: Iterable[str] = ()) -> set[str]:
    """ISO alpha-2 codes, the scenario's regions and groups, and ``extra`` (e.g. ``WORLD``)."""
    codes = set(ISO_COUNTRIES) | set(extra)
    if scenario is not None:
        codes |= set(scenario.regions) | set(scenario.groups)
    return codes


@cache
def _names() -> dict[str, str]:
    """Lower-case country names (short, common, official) → alpha-2 code."""
    out: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            name = getattr(c, attr, None)
            if name:
                out.setdefault(str(name).lower(), str(c.alpha_2))
    return out


def _iso_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return f" ({country.name})" if country is not None else ""


def code_hint(code: str, known: Iterable[str], default: str = "") -> str:
    """Return a did-you-mean for an unknown code, or ``default``.

    Examples
    --------
    >>> known = known_codes(None, ["ASEAN"])
    >>> code_hint("China", known), code_hint("USA", known), code_hint("asean", known)
    ("did you mean 'CN' (China)?", "did you mean 'US' (United States)?", "did you mean 'ASEAN'?")
    >>> code_hint("UK", known), code_hint("CNHk", known)
    ("did you mean 'GB' (United Kingdom)?", "did you mean 'CN' (China)?")
    """
    known = set(known)
    candidate = ALIASES.get(code.upper())
    if candidate is None:
        upper = {k.upper(): k for k in known}
        candidate = upper.get(code.upper())
    if candidate is None:
        try:
            candidate = str(pycountry.countries.lookup(code).alpha_2)
        except LookupError:
            candidate = None
    if candidate is None:
        names = _names()
        close = difflib.get_close_matches(code.lower(), list(names), n=1, cutoff=0.8)
        candidate = names[close[0]] if close else None
    if candidate is None:
        close = difflib.get_close_matches(code, sorted(known), n=1, cutoff=0.6)
        candidate = close[0] if close else None
    if candidate is None or candidate not in known:
        return default
    return f"did you mean '{candidate}'{_iso_name(candidate)}?"


def check_codes(
    scenario: Scenario | None,
    codes: Iterable[str],
    where: KeyPath,
    *,
    origin: str | None = None,
    extra: Iterable[str] = (),
) -> list[Problem]:
    r"""Problems for the codes that are no country, region or group of the scenario.

    Parameters
    ----------
    scenario : Scenario or None
        Declares regions and groups.
    codes : iterable of str
        The codes given.
    where : tuple
        The option or argument they were given as, e.g. ``("--source",)`` or ``("source",)``.
    origin : str, optional
        ``<cli>`` (then ``where`` is the option); default: an argument of the Python API, the
        problem located ``argument source=`` (:func:`~supplychain.arguments.argument_problem`).
    extra : iterable of str
        Further codes accepted here (``WORLD`` for world-level measure rows).

    Returns
    -------
    list of Problem

    Examples
    --------
    >>> [str(p) for p in check_codes(None, ["CN", "China"], ("--source",), origin="<cli>")]
    ["<cli>: --source: unknown country, region or group code 'China'\n    hint: did you mean 'CN' (China)?"]
    """
    known = known_codes(scenario, extra)
    declared = sorted((set(scenario.regions) | set(scenario.groups)) if scenario is not None else set())
    default = "give an ISO 3166-1 alpha-2 code such as 'CN' or 'US'"
    if declared:
        default += f", or one of the scenario's regions and groups: {', '.join(declared)}"
    def problem(c: str) -> Problem:
        message, hint = f"unknown country, region or group code '{c}'", code_hint(c, known, default)
        if origin is None and where:
            return argument_problem(str(where[0]), message, hint, where[1:])
        return Problem(origin or "<api>", 0, 0, where, message, hint)

    return [problem(c) for c in codes if c not in known]


def require_codes(
    scenario: Scenario | None,
    codes: Iterable[str],
    where: KeyPath,
    *,
    origin: str | None = None,
    extra: Iterable[str] = (),
) -> None:
    """Raise :class:`ScenarioError` listing every unknown code (:func:`check_codes`).

    Examples
    --------
    >>> require_codes(None, ["USA"], ("source",))
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    argument source=: unknown country, region or group code 'USA'
        hint: did you mean 'US' (United States)?
    """
    problems = check_codes(scenario, codes, where, origin=origin, extra=extra)
    if problems:
        raise ScenarioError(problems)
