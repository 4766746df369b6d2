"""Footnotes on part-year figures: a year in which a policy or agreement of the run starts or ends is an average.

A policy in force for part of a year blocks the share φ = months in force / 12 of its year's
flows (:func:`~supplychain.simulation.calendar.year_fraction`, docs/domain.md), so the year's
shortfall and shares are averages over the year: a full ban from 1 September leaves a country
"33 % short" in 2025 that is 100 % short from September to December. An agreement in force for
part of a year acts on the same share of it (it lifts a policy for the months it is in force:
the US–China truce from 1 December 2025 lifts No. 18 for the US for 1 of 2025's 12 months), so
its year is an average too. Every table that shows such a year says so, once per year: ``run``'s
and the report's.
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
    """Return one footnote per year in which a policy or agreement switched on starts or ends in mid-year.

    Parameters
    ----------
    scenario : Scenario
        Its policies' and agreements' ``start``, ``end`` and (a licensing regime's) ``delay_months``.
    active : set of str
        The run's policies and agreements switched on (``Result.toggle_state.active``).
    years : iterable of int
        The years the table shows.

    Returns
    -------
    list of str
        "2025: cn_ree_full_ban_2025 in force 4 of 12 months; annual average", each policy in
        force for 0 < m < 12 months of the year (:func:`~supplychain.simulation.calendar.months_in_force`),
        a licensing regime with its months without licences, then each such agreement ("agreement
        us_cn_truce_2025 in force 1 of 12 months"); years ascending, policies then agreements by id.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "policies": {
    ...     "ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01", "covers": {}},
    ...     "old": {"type": "export_ban", "country": "CN", "start": "2020-01-01", "end": "2024-12-31",
    ...             "covers": {}}},
    ...     "agreements": {"truce": {"name": "Truce", "parties": ["US", "CN"], "start": "2025-12-01",
    ...                              "lifts": ["ban"]}}})
    >>> part_year_notes(s, {"ban", "old"}, [2024, 2025, 2026])
    ['2025: ban in force 4 of 12 months; annual average']
    >>> part_year_notes(s, {"ban", "truce"}, [2025])
    ['2025: ban in force 4 of 12 months, agreement truce in force 1 of 12 months; annual averages']
    """
    notes = []
    for year in sorted(set(years)):
        parts = [text for _, text in _parts(scenario, active, year)]
        if parts:
            notes.append(f"{year}: {', '.join(parts)}; annual average{'s' if len(parts) > 1 else ''}")
    return notes


def _parts(scenario: Scenario, active: Set[str], year: int) -> list[tuple[tuple[int, str], str]]:
    """((0 policy | 1 agreement, id), its text) per measure switched on in force 0 < m < 12 months of ``year``."""
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
        parts.append(((0, pid), text))
    for aid in sorted(set(active) & set(scenario.agreements)):
        agr = scenario.agreements[aid]
        m = months_in_force(agr.start, agr.end, year)
        if 0.0 < m < 12.0 - 1e-9:
            parts.append(((1, aid), f"agreement {aid} in force {_months(m)} of 12 months"))
    return parts


def variants_part_year_notes(scenario: Scenario | None, runs: Sequence[tuple[str, Set[str]]],
                             years: Iterable[int]) -> str:  # fmt: skip
    """Join the :func:`part_year_notes` of several variants into one footnote, each measure once per year.

    ``runs``: (variant, active policies and agreements) per variant; a measure in force for part of
    a year in some variants only names them after it, or, when more than half, the others ("(not in
    no_ban)"). Empty without a part year.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "policies": {
    ...     "ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01", "covers": {}},
    ...     "halt": {"type": "export_ban", "country": "US", "start": "2025-04-16", "covers": {}}}})
    >>> variants_part_year_notes(s, [("base", {"halt"}), ("full_ban", {"ban", "halt"})], [2025])
    'Part-year figures: 2025: ban in force 4 of 12 months (full_ban), halt in force 8.5 of 12 months; annual averages.'
    """
    if scenario is None:
        return ""
    names = [variant for variant, _ in runs]
    lines = []
    for year in sorted(set(years)):
        found: dict[tuple[int, str], tuple[str, list[str]]] = {}
        for variant, active in runs:
            for key, text in _parts(scenario, active, year):
                found.setdefault(key, (text, []))[1].append(variant)
        if found:
            items = [_joined(text, _which(vs, names)) for _, (text, vs) in sorted(found.items())]  # policies first
            lines.append(f"{year}: {', '.join(items)}; annual average{'s' if len(items) > 1 else ''}")
    return ("Part-year figures: " + "; ".join(lines) + ".") if lines else ""


def _joined(text: str, which: str) -> str:
    """``text`` and its variants, one parenthesis: "… (the first 2 with no licences granted; not in no_controls)".

    Examples
    --------
    >>> _joined("x in force 8.9 of 12 months (the first 2 with no licences granted)", " (not in b)")
    'x in force 8.9 of 12 months (the first 2 with no licences granted; not in b)'
    >>> _joined("y in force 4 of 12 months", " (a)")
    'y in force 4 of 12 months (a)'
    """
    if which and text.endswith(")"):
        return f"{text[:-1]}; {which.strip()[1:]}"
    return text + which


def _which(variants: Sequence[str], every: Sequence[str]) -> str:
    """`` (a, b)``: the variants a measure holds in; `` (not in c)`` for more than half; empty for all.

    Examples
    --------
    >>> _which(["a"], ["a", "b", "c"]), _which(["a", "b"], ["a", "b", "c"]), _which(["a", "b", "c"], ["a", "b", "c"])
    (' (a)', ' (not in c)', '')
    """
    if len(variants) == len(every):
        return ""
    if len(variants) > len(every) / 2:
        return f" (not in {', '.join(v for v in every if v not in variants)})"
    return f" ({', '.join(variants)})"
