"""Variants that give the same numbers: found once, said the same way by ``compare`` and the report.

A variant *gives the same numbers as* an earlier one when every value the two share differs by
at most :data:`SAME_TOL` (both n/a counts as equal, n/a against a number as different). Each
variant is compared, in the order shown, with the first variant of every group found so far
and joins the first group it matches; the note names the toggles whose states differ between
the group's variants and its first one, so "the toggles they differ by change none of these
numbers" is read from the runs, not written by hand.

Under the ``fixed`` response an agreement's preference and its investment projects do not act
(``fixed`` keeps the baseline's trade pattern and leaves new capacity idle: ``docs/rebalance.md``,
"What is not modelled"); only its exemptions lift a restriction. Where every toggle a group differs by
controls agreements only, the note says so under ``fixed``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from supplychain.schema.model import Scenario

__all__ = ["SAME_TOL", "SameAs", "agreement_toggles", "same_as", "same_notes"]

SAME_TOL: Final = 1e-6
"""Largest difference of two values still read as the same number: a millionth of a share, far below the
0.1 percentage point the tables print and well above the solver's round-off (1e-9)."""


@dataclass(frozen=True)
class SameAs:
    """Variants that give the same numbers as an earlier one.

    Attributes
    ----------
    variants : tuple of str
        The variants equal to ``like``, in the order shown.
    like : str
        The first variant of the group.
    largest : float
        Largest absolute difference of any shared value between ``like`` and one of ``variants``.
    toggles : tuple of str
        Toggles whose state differs between one of ``variants`` and ``like`` (sorted).
    agreements_only : bool
        Whether every one of ``toggles`` controls agreements and nothing else (False without toggles).
    """

    variants: tuple[str, ...]
    like: str
    largest: float
    toggles: tuple[str, ...]
    agreements_only: bool


def _largest_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a − b| over the entries; both n/a count as 0, n/a against a number as infinite."""
    na, nb = np.isnan(a), np.isnan(b)
    d = np.where(na & nb, 0.0, np.where(na | nb, np.inf, np.abs(a - b)))
    return float(d.max()) if d.size else 0.0


def agreement_toggles(scenario: Scenario) -> set[str]:
    """Toggles that control at least one agreement and nothing but agreements.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> sc = Scenario.model_validate({"scenario": {"name": "t", "base_year": 2024},
    ...     "policies": {"ban": {"type": "export_ban", "country": "CN", "start": 2025}},
    ...     "toggles": {"t": {"controls": ["ban"]}}})
    >>> agreement_toggles(sc)
    set()
    """
    from supplychain.simulation.toggles import controlled_entities, switched_off_entities

    off = switched_off_entities(scenario)
    return {t for t, entities in controlled_entities(scenario).items()
            if entities and all(section == "agreements" for section, _ in [*entities, *off.get(t, [])])}


def same_as(values: pd.DataFrame, key: Sequence[str], order: Sequence[str],
            states: Mapping[str, Mapping[str, bool]], agreements: set[str] | frozenset[str] = frozenset(),
            tol: float = SAME_TOL) -> list[SameAs]:
    """Group the variants of a tidy table whose values are all the same.

    Parameters
    ----------
    values : DataFrame
        Columns ``variant``, ``value`` and ``key``: one row per variant and key.
    key : sequence of str
        Columns that identify a value (year, country, commodity, metric, ...).
    order : sequence of str
        The variants in the order shown; the first of each group is the one the others are "like".
    states : mapping
        Variant → toggle → on/off (a variant without states differs by no toggle).
    agreements : set of str
        Toggles that control agreements only (:func:`agreement_toggles`).
    tol : float
        Largest difference read as the same number (:data:`SAME_TOL`).

    Returns
    -------
    list of SameAs
        One entry per group of two or more variants, in the order of their first variant.

    Examples
    --------
    A and C differ by 1e-8 (same), B by 0.1 in one value (different):

    >>> import pandas as pd
    >>> t = pd.DataFrame({"variant": ["A", "A", "B", "B", "C", "C"], "k": [1, 2] * 3,
    ...                   "value": [0.5, 0.2, 0.6, 0.2, 0.50000001, 0.2]})
    >>> g = same_as(t, ["k"], ["A", "B", "C"], {"A": {"x": False}, "B": {"x": True}, "C": {"x": True}})
    >>> [(s.like, s.variants, f"{s.largest:.0e}", s.toggles) for s in g]
    [('A', ('C',), '1e-08', ('x',))]
    """
    if values.empty:
        return []
    wide = values.groupby([*key, "variant"], dropna=False, sort=False)["value"].first().unstack("variant")
    shown = [v for v in dict.fromkeys(order) if v in wide.columns]
    groups: list[tuple[str, list[str], list[float]]] = []
    for v in shown:
        col = wide[v].to_numpy(dtype=float)
        for like, members, largest in groups:
            d = _largest_difference(wide[like].to_numpy(dtype=float), col)
            if d <= tol:
                members.append(v)
                largest.append(d)
                break
        else:
            groups.append((v, [], []))
    out = []
    for like, members, largest in groups:
        if not members:
            continue
        base = states.get(like, {})
        differ = sorted({t for m in members for t, on in states.get(m, {}).items() if base.get(t, on) != on})
        out.append(SameAs(tuple(members), like, max(largest), tuple(differ),
                          bool(differ) and all(t in agreements for t in differ)))
    return out


def _number(x: float) -> str:
    return "0" if x == 0 else f"{x:.1g}" if math.isfinite(x) else "n/a"


def same_notes(groups: Sequence[SameAs], mode: str, what: str = "numbers") -> list[str]:
    """Say, one sentence per group, which variants give the same numbers as which, and why.

    Parameters
    ----------
    groups : sequence of SameAs
        From :func:`same_as`.
    mode : str
        The supply response of the runs (``fixed`` adds why agreements cannot act).
    what : str
        What the numbers are ("numbers", "headline measures", ...).

    Examples
    --------
    >>> g = SameAs(("framework",), "licensing_only", 0.0, ("us_japan_framework",), True)
    >>> print(same_notes([g], "fixed")[0])  # doctest: +NORMALIZE_WHITESPACE
    framework gives the same numbers as licensing_only (largest difference 0): the toggle it differs by
    (us_japan_framework) changes none of them. Under the fixed response an agreement's preference and
    investment projects do not act (they re-route trade and use new capacity only under rebalance); only
    its exemptions can.
    >>> same_notes([SameAs(("base",), "framework", 0.0, (), False)], "rebalance")
    ['base gives the same numbers as framework (largest difference 0): the same toggle states.']
    """
    out = []
    for g in groups:
        many = len(g.variants) > 1
        text = (f"{', '.join(g.variants)} give{'' if many else 's'} the same {what} as {g.like} "
                f"(largest difference {_number(g.largest)}): ")
        if not g.toggles:
            text += "the same toggle states."
        else:
            plural = len(g.toggles) > 1
            text += (f"the toggle{'s' if plural else ''} {'they' if many else 'it'} differ{'' if many else 's'} by "
                     f"({', '.join(g.toggles)}) change{'' if plural else 's'} none of them.")
        if mode == "fixed" and g.agreements_only:
            text += (" Under the fixed response an agreement's preference and investment projects do not act "
                     "(they re-route trade and use new capacity only under rebalance); only its exemptions can.")
        out.append(text)
    return out
