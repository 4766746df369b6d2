"""Dates to shares of a calendar year at annual resolution.

A measure in force for part of a year weighs by the months it covers: a ban
from 1 September counts for September to December, 4/12 of that year
(docs/domain.md, "Policies and deals"). Partial months count by their days:
a ban from 16 April (30-day month) weighs (15/30 + 8)/12 in its first year.

Intervals are closed: ``start`` is the first day in force, ``end`` the last
(``None`` = open-ended), as in the scenario language.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Literal, TypeVar

__all__ = ["Interval", "NeverInForce", "month_spans", "months_in_force", "never_in_force", "offtake_span",
           "subtract", "year_fraction", "year_fraction_of", "year_periods"]

K = TypeVar("K", bound=Hashable)

Interval = tuple[dt.date, dt.date | None]
"""A closed date interval ``(start, end)``; ``end=None`` means open-ended."""


def _month_overlap(start: dt.date, end: dt.date | None, year: int, month: int) -> float:
    """Share of one calendar month covered by the closed interval [start, end]."""
    ndays = _cal.monthrange(year, month)[1]
    first = dt.date(year, month, 1)
    last = dt.date(year, month, ndays)
    lo = max(start, first)
    hi = last if end is None else min(end, last)
    if hi < lo:
        return 0.0
    days = (hi - lo).days + 1
    return 1.0 if days == ndays else days / ndays


@lru_cache(maxsize=4096)
def months_in_force(start: dt.date, end: dt.date | None, year: int) -> float:
    """Months of ``year`` the closed interval [start, end] covers.

    Parameters
    ----------
    start : datetime.date
        First day in force.
    end : datetime.date or None
        Last day in force; ``None`` for open-ended.
    year : int
        Calendar year.

    Returns
    -------
    float
        Σ over the 12 months of (days covered / days in the month), in [0, 12].
        Whole months count exactly 1, so whole-month intervals give whole numbers.

    Notes
    -----
    A pure function of immutable arguments, asked for the same few periods every year of every
    sample: its last 4096 answers are kept (``functools.lru_cache``).

    Examples
    --------
    >>> months_in_force(dt.date(2025, 9, 1), None, 2025)
    4.0
    >>> months_in_force(dt.date(2025, 9, 1), None, 2026)
    12.0
    >>> months_in_force(dt.date(2025, 4, 16), dt.date(2025, 4, 30), 2025)
    0.5
    """
    if start.year > year or (end is not None and end.year < year):
        return 0.0
    return sum(_month_overlap(start, end, year, m) for m in range(1, 13))


def year_fraction(start: dt.date, end: dt.date | None, year: int) -> float:
    """Share of a calendar year a measure is in force, at annual resolution.

    Parameters
    ----------
    start : datetime.date
        First day in force.
    end : datetime.date or None
        Last day in force (inclusive); ``None`` for open-ended.
    year : int
        Calendar year.

    Returns
    -------
    float
        φ = (months in force) / 12 ∈ [0, 1], partial months counted as
        (days covered / days in that month).

    Notes
    -----
    Months rather than days are the unit so that a measure from the first of a
    month weighs a round number of twelfths: 2025-09-01 → 4/12 exactly (docs/domain.md).

    Examples
    --------
    >>> year_fraction(dt.date(2025, 9, 1), None, 2025) == 4 / 12
    True
    >>> year_fraction(dt.date(2025, 9, 1), None, 2024)
    0.0
    >>> year_fraction(dt.date(2024, 1, 1), dt.date(2025, 6, 30), 2025)
    0.5
    """
    return months_in_force(start, end, year) / 12.0


NeverInForce = Literal["after", "before", "empty"]
"""Why an interval is in force in none of some years: it starts after the last, ended before the first, or
is empty (it ends before it starts, e.g. an offtake from a year after its agreement's end)."""


def never_in_force(start: dt.date, end: dt.date | None, first: int, last: int) -> NeverInForce | None:
    """Tell why the closed interval [start, end] is in force in none of the years ``first`` … ``last``.

    The one rule of "never in force in these years", for validation's warning
    (:func:`~supplychain.schema.references.check_years_in_force`), the sweep's inert inputs
    (:func:`~supplychain.uncertainty.sampling.inert_parameters`) and the policies a run counts
    as in force (:func:`~supplychain.simulation.uncounted.live_policies`).

    Parameters
    ----------
    start : datetime.date
        First day in force.
    end : datetime.date or None
        Last day in force; ``None`` for open-ended.
    first, last : int
        The years looked at (inclusive).

    Returns
    -------
    {"after", "before", "empty"} or None
        None when φ(y) = :func:`year_fraction` (start, end, y) > 0 for some y in
        ``first`` … ``last``; otherwise ``"after"`` (``start.year > last``), ``"before"``
        (``end.year < first``) or ``"empty"`` (``end < start``).

    Examples
    --------
    >>> never_in_force(dt.date(2030, 12, 1), None, 2024, 2030) is None
    True
    >>> never_in_force(dt.date(2052, 1, 1), None, 2024, 2030), never_in_force(dt.date(2020, 1, 1),
    ...     dt.date(2023, 6, 30), 2024, 2030), never_in_force(dt.date(2029, 1, 1), dt.date(2027, 12, 31), 2024, 2030)
    ('after', 'before', 'empty')
    """
    if any(months_in_force(start, end, year) > 0 for year in range(first, last + 1)):
        return None
    if start.year > last:
        return "after"
    if end is not None and end.year < first:
        return "before"
    return "empty"


def offtake_span(start: dt.date, end: dt.date | None, start_year: int) -> Interval:
    """Return the days an offtake commits: its agreement's ``[start, end]`` from 1 January of ``start_year`` on.

    :func:`~supplychain.simulation.agreements.offtake_bounds` commits t/yr × φ(y), φ the
    agreement's year fraction, in the years y ≥ ``start_year``: φ > 0 in exactly the years this
    span is in force in, so :func:`never_in_force` of it is the one rule of an offtake that never
    commits a tonne, for validation's warning and the sweep's inert inputs.

    Examples
    --------
    >>> offtake_span(dt.date(2024, 1, 1), dt.date(2027, 12, 31), 2029)
    (datetime.date(2029, 1, 1), datetime.date(2027, 12, 31))
    >>> never_in_force(*offtake_span(dt.date(2024, 1, 1), dt.date(2027, 12, 31), 2029), 2024, 2030)
    'empty'
    """
    return max(start, dt.date(start_year, 1, 1)), end


def _clip(iv: Interval, year: int) -> tuple[dt.date, dt.date] | None:
    start, end = iv
    lo = max(start, dt.date(year, 1, 1))
    hi = dt.date(year, 12, 31) if end is None else min(end, dt.date(year, 12, 31))
    return None if hi < lo else (lo, hi)


def subtract(base: Interval, holes: Iterable[Interval], year: int) -> list[tuple[dt.date, dt.date]]:
    """Parts of ``base`` within ``year`` not covered by any of ``holes``.

    Parameters
    ----------
    base : Interval
        Interval to cut.
    holes : iterable of Interval
        Intervals removed from it (e.g. the periods an exemption is in force).
    year : int
        Calendar year; every piece is clipped to it.

    Returns
    -------
    list of (date, date)
        Disjoint closed intervals, in date order.

    Examples
    --------
    >>> subtract((dt.date(2025, 1, 1), None), [(dt.date(2025, 7, 1), None)], 2025)
    [(datetime.date(2025, 1, 1), datetime.date(2025, 6, 30))]
    """
    clipped = _clip(base, year)
    if clipped is None:
        return []
    pieces = [clipped]
    for hole in holes:
        h = _clip(hole, year)
        if h is None:
            continue
        out: list[tuple[dt.date, dt.date]] = []
        for lo, hi in pieces:
            if h[1] < lo or h[0] > hi:
                out.append((lo, hi))
                continue
            if h[0] > lo:
                out.append((lo, h[0] - dt.timedelta(days=1)))
            if h[1] < hi:
                out.append((h[1] + dt.timedelta(days=1), hi))
        pieces = out
    return pieces


def month_spans(intervals: Iterable[Interval], year: int) -> list[tuple[float, float]]:
    r"""Return the union of ``intervals`` within ``year``, as spans of months counted from 1 January.

    Each merged piece ``[lo, hi]`` (dates; pieces that overlap or touch are one) becomes
    ``(a, b)`` with :math:`a` the months of the year before ``lo`` and :math:`b - a` the months
    the piece covers (:func:`months_in_force`: partial months by their days), so
    :math:`\sum (b - a) = 12 \varphi` with :math:`\varphi` the union's year fraction.

    Examples
    --------
    >>> month_spans([(dt.date(2025, 9, 1), None)], 2025)
    [(8.0, 12.0)]
    >>> month_spans([(dt.date(2025, 3, 1), dt.date(2025, 4, 30)), (dt.date(2025, 4, 1), dt.date(2025, 5, 31)),
    ...              (dt.date(2025, 10, 1), None), (dt.date(2024, 1, 1), dt.date(2024, 12, 31))], 2025)
    [(2.0, 5.0), (9.0, 12.0)]
    """
    pieces = sorted(c for iv in intervals if (c := _clip(iv, year)) is not None)
    merged: list[tuple[dt.date, dt.date]] = []
    for lo, hi in pieces:
        if merged and lo <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    first = dt.date(year, 1, 1)
    out = []
    for lo, hi in merged:
        a = months_in_force(first, lo - dt.timedelta(days=1), year) if lo > first else 0.0
        out.append((a, a + months_in_force(lo, hi, year)))
    return out


def year_fraction_of(pieces: Sequence[Interval], year: int) -> float:
    """Year fraction of a union of disjoint intervals (Σ of their fractions).

    Examples
    --------
    >>> year_fraction_of([(dt.date(2025, 1, 1), dt.date(2025, 3, 31))], 2025)
    0.25
    """
    return sum(months_in_force(s, e, year) for s, e in pieces) / 12.0


def year_periods(intervals: Mapping[K, Interval], year: int) -> list[tuple[frozenset[K], float]]:
    r"""Split ``year`` into the periods in which the same ``intervals`` are in force.

    The year is cut at every first day and every day after a last day of the intervals;
    each piece has the set of keys whose interval covers it and its year fraction
    (:func:`year_fraction_of`). Pieces with the same set are one period (their fractions
    added), so the weights :math:`w_p` sum to 1 and a key in force for φ of the year is in
    periods whose weights sum to φ.

    Parameters
    ----------
    intervals : mapping of key to Interval
        Closed intervals ``(start, end)`` (``end=None``: open-ended), e.g. agreements' periods.
    year : int
        Calendar year.

    Returns
    -------
    list of (frozenset, float)
        ``(keys in force, weight)``, periods of positive weight, in order of first day.

    Examples
    --------
    >>> periods = year_periods({"a": (dt.date(2025, 7, 1), None), "b": (dt.date(2025, 10, 1), None)}, 2025)
    >>> [(sorted(k), w) for k, w in periods]
    [([], 0.5), (['a'], 0.25), (['a', 'b'], 0.25)]
    >>> year_periods({"a": (dt.date(2024, 1, 1), None)}, 2025)
    [(frozenset({'a'}), 1.0)]
    """
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    cuts = {first}
    clipped = {k: c for k, iv in intervals.items() if (c := _clip(iv, year)) is not None}
    for lo, hi in clipped.values():
        cuts.add(lo)
        if hi < last:
            cuts.add(hi + dt.timedelta(days=1))
    starts = sorted(cuts)
    weights: dict[frozenset[K], float] = {}
    for lo, nxt in zip(starts, [*starts[1:], last + dt.timedelta(days=1)], strict=True):
        hi = nxt - dt.timedelta(days=1)
        keys = frozenset(k for k, (a, b) in clipped.items() if a <= lo and hi <= b)
        weights[keys] = weights.get(keys, 0.0) + year_fraction_of([(lo, hi)], year)
    return [(k, w) for k, w in weights.items() if w > 0]
