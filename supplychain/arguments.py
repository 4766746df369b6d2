"""Checks of the public API's arguments: one error type, located at the argument, with a did-you-mean.

A wrong argument of :func:`~supplychain.api.simulate`, :func:`~supplychain.api.compare`,
:func:`~supplychain.simulation.limits.capacity_limits`, a sweep or a
:class:`~supplychain.api.Result` query method is a :class:`~supplychain.errors.ScenarioError`
(a ``ValueError``), never a bare ``KeyError`` or a silent misreading, so a
notebook that catches ``sc.ScenarioError`` around user input catches every one. Its
problem is located at the argument as the caller wrote it::

    argument mode=: unknown mode 'rebalanced'
        hint: did you mean 'rebalance'?

The command line checks its options itself (located ``<cli>: --option``). An argument of the
wrong type altogether (a dict where a scenario path goes, a name where a
:class:`~supplychain.api.Result` goes) is Python's ``TypeError``, naming what to give instead.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from numbers import Integral
from typing import Any

from supplychain.errors import KeyPath, Problem, ScenarioError, format_path

__all__ = ["after_horizon", "argument_error", "argument_problem", "check_choice", "check_metrics", "check_name",
           "check_year", "check_years", "closest", "read_year"]

_LISTED = 12
"""How many known names a hint lists when none is close."""


def argument_problem(name: str, message: str, hint: str = "", path: KeyPath = ()) -> Problem:
    """Return a problem located at the argument ``name`` (``argument name=``), ``path`` inside it.

    Examples
    --------
    >>> print(argument_problem("toggles", "'maybe' is not on or off", "give True or False", ("deal",)))
    argument toggles=: deal: 'maybe' is not on or off
        hint: give True or False
    """
    return Problem(f"argument {name}=", 0, 0, path, message, hint)


def argument_error(name: str, message: str, hint: str = "", path: KeyPath = ()) -> ScenarioError:
    """Return the :class:`ScenarioError` of one wrong argument (:func:`argument_problem`)."""
    return ScenarioError([argument_problem(name, message, hint, path)])


def closest(word: str, options: Iterable[str]) -> str | None:
    """Return the option a mistyped ``word`` most likely meant, or None.

    In order: the same word in another case, the one option it begins (``home`` →
    ``home_first``), the closest by :func:`difflib.get_close_matches` (cutoff 0.6).

    Examples
    --------
    >>> closest("Fixed", ["fixed", "rebalance"]), closest("home", ["home_first", "proportional"])
    ('fixed', 'home_first')
    >>> closest("exposed", ["exposed_share", "traced_share"]), closest("zzz", ["fixed"]) is None
    ('exposed_share', True)
    """
    import difflib

    known = sorted(set(options))
    lower = {o.lower(): o for o in known}
    if word.lower() in lower:
        return lower[word.lower()]
    starts = [o for o in known if o.lower().startswith(word.lower())] if word else []
    if len(starts) == 1:
        return starts[0]
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return close[0] if close else None


def _hint(word: str, options: Sequence[str], what: str) -> str:
    """``did you mean 'x'?`` or the list of the known ``what``s (the first :data:`_LISTED`)."""
    near = closest(word, options)
    if near is not None:
        return f"did you mean '{near}'?"
    known = sorted(set(options))
    if not known:
        return f"there are no {what}s here"
    listed = ", ".join(known[:_LISTED]) + (f" … ({len(known)} in all)" if len(known) > _LISTED else "")
    return f"known {what}s: {listed}"


def check_name(name: str, value: Any, options: Collection[str], what: str, *, path: KeyPath = ()) -> Problem | None:
    """Return the problem of ``value`` when it is not one of ``options`` (a did-you-mean in the hint), else None.

    Parameters
    ----------
    name : str
        The argument (``variant``, ``country`` …).
    value : object
        What was given.
    options : collection of str
        The names accepted.
    what : str
        What a name is (``variant``, ``measure`` …), for the message.
    path : tuple
        Where in the argument (a key of a mapping argument).

    Examples
    --------
    >>> print(check_name("mode", "rebalanced", ["fixed", "rebalance"], "mode"))
    argument mode=: unknown mode 'rebalanced'
        hint: did you mean 'rebalance'?
    >>> check_name("mode", "fixed", ["fixed", "rebalance"], "mode") is None
    True
    """
    if isinstance(value, str) and value in options:
        return None
    shown = repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__}, not a name)"
    hint = _hint(value, list(options), what) if isinstance(value, str) else _hint("", list(options), what)
    return argument_problem(name, f"unknown {what} {shown}", hint, path)


def check_choice(name: str, value: Any, options: Sequence[str], what: str | None = None) -> str:
    """Return ``value`` if it is one of ``options``, else raise the :class:`ScenarioError` of :func:`check_name`.

    Examples
    --------
    >>> check_choice("mode", "fixed", ("fixed", "rebalance"))
    'fixed'
    >>> check_choice("allocation", "home", ("home_first", "proportional"))
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    argument allocation=: unknown allocation 'home'
        hint: did you mean 'home_first'?
    """
    problem = check_name(name, value, options, what or name)
    if problem is not None:
        raise ScenarioError([problem])
    return str(value)


def check_metrics(metrics: str | Iterable[str] | None, name: str = "metrics",
                  known: Collection[str] | None = None) -> tuple[str, ...] | None:
    """Return the measure names asked for as a tuple, or raise naming every unknown one (with a did-you-mean).

    Parameters
    ----------
    metrics : str or iterable of str or None
        Measure names (one name may be given as a string); None: every measure.
    name : str
        The argument (``metrics`` in ``simulate``/``compare``, ``measures`` in ``run_sweep``).
    known : collection of str, optional
        The names accepted (default :data:`~supplychain.metrics.measures.METRIC_IDS`, the
        catalogue of ``docs/measures.md``).

    Examples
    --------
    >>> check_metrics("exposed_share")
    ('exposed_share',)
    >>> check_metrics(["exposed"])
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    argument metrics=: unknown measure 'exposed'
        hint: did you mean 'exposed_share'?
    """
    if metrics is None:
        return None
    if known is None:
        from supplychain.metrics.measures import METRIC_IDS

        known = METRIC_IDS
    asked = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    problems = [p for m in dict.fromkeys(asked) if (p := check_name(name, m, known, "measure")) is not None]
    if problems:
        raise ScenarioError(problems)
    return asked


def read_year(value: Any, name: str = "year") -> int:
    """Return ``value`` as a year (an integer: ``int`` or a NumPy integer), else raise a :class:`ScenarioError`.

    A string (``"2025"``), a fraction (``2025.5``) or anything else is the caller's slip,
    refused at the argument rather than read as another year or as no year.

    Examples
    --------
    >>> import numpy as np
    >>> read_year(np.int64(2025))
    2025
    >>> read_year("2025")
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    argument year=: '2025' (str) is not a year
        hint: give the year as an integer, e.g. 2025
    """
    if isinstance(value, Integral) and not isinstance(value, bool):
        return int(value)
    raise argument_error(name, f"{value!r} ({type(value).__name__}) is not a year",
                         "give the year as an integer, e.g. 2025")


def check_years(years: int | Iterable[int], base_year: int, horizon: int | None = None, name: str = "years"
                ) -> tuple[int, ...]:
    """Return ``years`` sorted, or raise for one before the base year (or, given ``horizon``, after it).

    One year may be given alone (``years=2025``); each year is read by :func:`read_year`
    (a string or a fraction is refused, not truncated). A year before the base year has no
    data. :func:`~supplychain.api.simulate` may run past the horizon (a scenario whose
    figures reach further: a target read in longer runs); when such a year's tables do not
    balance it reports :func:`after_horizon` instead. A sweep keeps to the scenario's years
    (``horizon`` given).

    Examples
    --------
    >>> check_years([2026, 2025], 2024, 2030), check_years(2025, 2024)
    ((2025, 2026), (2025,))
    >>> check_years([2040], 2024, 2030)
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    argument years=: year 2040 is after the scenario's horizon 2030
        hint: simulate years 2024–2030, or extend `horizon:` in the scenario file (scenario.horizon)
    >>> check_years("2025", 2024)
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    argument years=: '2025' (str) is not a year
        hint: give the year as an integer, e.g. 2025
    """
    if isinstance(years, Integral) or not isinstance(years, Iterable) or isinstance(years, (str, bytes)):
        years = [years]  # type: ignore[list-item]  # one year, or a non-year read_year refuses
    out = tuple(sorted(read_year(y, name) for y in years))
    if not out:
        raise argument_error(name, "no years to simulate", "pass years=[...] or set scenario.base_year/horizon")
    if out[0] < base_year:
        raise argument_error(name, f"year {out[0]} is before the base year {base_year}",
                             "simulate years from the base year on")
    if horizon is not None and out[-1] > horizon:
        raise argument_error(name, f"year {out[-1]} is after the scenario's horizon {horizon}",
                             f"simulate years {base_year}–{horizon}, or extend `horizon:` in the scenario file "
                             "(scenario.horizon)")
    return out


def after_horizon(year: int, base_year: int, horizon: int, err: ScenarioError, name: str = "years"
                  ) -> ScenarioError:
    """Return the one problem of a year after the horizon whose tables do not balance (``err``: their problems).

    Past the horizon a scenario usually has no figures (demand grows on, supply stays at
    the last year's), so every market reads short; the reader is told the year is after
    the horizon, with the first of those problems, not a page of them.

    Examples
    --------
    >>> from supplychain.errors import Problem
    >>> e = ScenarioError([Problem("w.yaml", 3, 5, ("demand", "us"), "market US:x is short in 2040", "add supply")])
    >>> p = after_horizon(2040, 2024, 2030, e).problems[0]
    >>> p.file
    'argument years='
    >>> p.message  # doctest: +ELLIPSIS
    "year 2040 is after the scenario's horizon 2030, and its markets do not balance (1 problem; first: w.yaml:3:5: ..."
    >>> p.hint  # doctest: +ELLIPSIS
    'simulate years 2024–2030, or extend `horizon:` in the scenario file (scenario.horizon) with figures for ...'
    """
    first = err.problems[0]
    shown = f"{first.location}: {format_path(first.path)}: {first.message}" if first.path else (
        f"{first.location}: {first.message}")
    n = len(err.problems)
    return argument_error(name, f"year {year} is after the scenario's horizon {horizon}, and its markets do not "
                                f"balance ({n} problem{'s' if n != 1 else ''}; first: {shown})",
                          f"simulate years {base_year}–{horizon}, or extend `horizon:` in the scenario file "
                          "(scenario.horizon) with figures for the later years")


def check_year(year: Any, years: Sequence[int], name: str = "year") -> int:
    """Return ``year`` if it is one of the simulated ``years``, else raise (:class:`ScenarioError`, not KeyError).

    ``year`` is read by :func:`read_year` (``"2025"`` is refused, not matched against nothing).

    Examples
    --------
    >>> check_year(2040, (2024, 2025))
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    argument year=: year 2040 was not simulated
        hint: give one of the simulated years 2024–2025
    """
    y = read_year(year, name)
    if y in years:
        return y
    span = f"{years[0]}–{years[-1]}" if years else "(none)"
    raise argument_error(name, f"year {y!r} was not simulated", f"give one of the simulated years {span}")
