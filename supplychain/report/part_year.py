"""Footnotes on part-year figures: a year in which a policy of the run starts or ends is an annual average.

A policy in force for part of a year blocks the share φ = months in force / 12 of its year's
flows (:func:`~supplychain.simulation.calendar.year_fraction`, docs/domain.md), so the year's
shortfall and shares are averages over the year: a full ban from 1 September leaves a country
"33 % short" in 2025 that is 100 % short from September to December. Every table that shows such
a year says so, once per year: ``run``'s and the report's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from typing import TYPE_CHECKING

from supplychain.schema.model import ExportLicensing
from supplychain.simulation.calendar import months_in_force

if TYPE_CHECKING:
    from supplychain.schema.model import Scenario

__all__ = ["part_year_notes", "variants_part_year_notes"]


def _months(m: float) -> str:
    """Say a number of months to one decimal, a whole number without it (4, 8.9)."""
    return f"{round(m, 1):g}"


def part_year_notes(scenario: Scenario, active: Set[str], years: Iterable[int]) -> list[str]:
    """Return one footnote per year in which a policy switched on starts or ends in mid-year.

    Parameters
    ----------
    scenario : Scenario
        Its policies' ``start``, ``end`` and (a licensing regime's) ``delay_months``.
    active : set of str
        The run's policies switched on (``Result.toggle_state.active``).
    years : iterable of int
        The years the table shows.

    Returns
    -------
    list of str
        "2025: cn_ree_full_ban_2025 in force 4 of 12 months; annual average", each policy in
        force for 0 < m < 12 months of the year (:func:`~supplychain.simulation.calendar.months_in_force`),
        a licensing regime with its months without licences; years ascending, policies by id.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "policies": {
    ...     "ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01", "covers": {}},
    ...     "old": {"type": "export_ban", "country": "CN", "start": "2020-01-01", "end": "2024-12-31",
    ...             "covers": {}}}})
    >>> part_year_notes(s, {"ban", "old"}, [2024, 2025, 2026])
    ['2025: ban in force 4 of 12 months; annual average']
    """
    notes = []
    for year in sorted(set(years)):
        parts = []
        for pid in sorted(set(active) & set(scenario.policies)):
            pol = scenario.policies[pid]
            m = months_in_force(pol.start, pol.end, year)
            if not 0.0 < m < 12.0 - 1e-9:
                continue
            text = f"{pid} in force {_months(m)} of 12 months"
            delay = pol.delay if isinstance(pol, ExportLicensing) else 0.0
            if delay > 0 and pol.start.year == year:
                text += f" (the first {_months(min(delay, m))} with no licences granted)"
            parts.append(text)
        if parts:
            notes.append(f"{year}: {', '.join(parts)}; annual average{'s' if len(parts) > 1 else ''}")
    return notes


def variants_part_year_notes(scenario: Scenario | None, runs: Sequence[tuple[str, Set[str]]],
                             years: Iterable[int]) -> str:  # fmt: skip
    """Join the :func:`part_year_notes` of several variants into one footnote, each note once.

    ``runs``: (variant, active policies) per variant; a note that holds in some variants only
    names them. Empty without a part year.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "policies": {
    ...     "ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01", "covers": {}}}})
    >>> variants_part_year_notes(s, [("base", set()), ("full_ban", {"ban"})], [2025])
    'Part-year figures: 2025: ban in force 4 of 12 months; annual average (full_ban).'
    """
    if scenario is None:
        return ""
    years = list(years)
    found: dict[str, list[str]] = {}
    for variant, active in runs:
        for note in part_year_notes(scenario, active, years):
            found.setdefault(note, []).append(variant)
    if not found:
        return ""
    every = len(runs)
    lines = [note + ("" if len(vs) == every else f" ({', '.join(vs)})")
             for note, vs in sorted(found.items(), key=lambda kv: kv[0][:4])]  # by year, stable
    return "Part-year figures: " + "; ".join(lines) + "."
