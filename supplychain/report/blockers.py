"""The measures of countries other than the source that block flows in a run: named beside a ``fixed`` figure.

Under the ``fixed`` response nothing is re-routed, so a cut to the source country's own imports
(MP Materials' halt of its concentrate sales to China, a US measure) propagates pro rata down the
source's chain to every buyer of its products (docs/rebalance.md, "`fixed`: patterns stay, losses
propagate"). A ``fixed`` shortfall of a run is then not the source's measures' alone: the report
names, next to it, the other countries' measures in force in that run that block flows, with the
largest quantity each blocks in a year (the run's attribution table, ``Result.attribution``:
``blocked`` = :math:`B_e f^0_e` per policy, edge and year).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from supplychain.report.dot_style import country_name, format_tonnes

if TYPE_CHECKING:
    from supplychain.api import Result
    from supplychain.schema.model import Scenario

__all__ = ["other_blockers", "others_note", "with_others_text"]


def other_blockers(result: Result, scenario: Scenario | None, names: Mapping[str, str] | None = None,
                   commodities: Iterable[str] | None = None) -> list[tuple[str, str, str]]:  # fmt: skip
    """Name the measures of countries outside the run's source that block flows in the run, largest first.

    Parameters
    ----------
    result : Result
        One run (one variant); its ``attribution`` table has ``policy, imposed_by, commodity,
        unit, year, blocked``.
    scenario : Scenario or None
        For the source's members (a group) and the commodities' names.
    names : mapping, optional
        Display names of countries and commodities.
    commodities : iterable of str, optional
        The commodities of the figure: only measures blocking a commodity of one of their
        families (``commodities.<id>.family``; the commodity itself without one) are named, so
        that a rare-earth measure is not named beside a gallium shortfall. ``None``: every one.

    Returns
    -------
    list of (str, str, str)
        (policy id, its country's code, "us_mp_china_halt_2025 (United States; up to 45k t REO of
        Rare-earth mineral concentrate a year)"): per policy with a positive ``blocked`` in some
        year, its commodity with the largest quantity blocked in one year (summed over that
        commodity's edges), ordered by that quantity.
    """
    from supplychain.metrics.measures import resolve_source

    names = names or {}
    a = getattr(result, "attribution", None)  # a stand-in result (tests) may carry none
    if a is None or a.empty or "imposed_by" not in a.columns:
        return []
    a = a[a["blocked"] > 0]
    if a.empty:
        return []
    source = resolve_source(scenario, result.source, a["imposed_by"].astype(str).unique())
    a = a[~a["imposed_by"].astype(str).isin(source)]
    if commodities is not None:
        kinds = scenario.commodities if scenario is not None else {}

        def family(k: str) -> str:
            spec = kinds.get(k)
            return str(spec.family) if spec is not None and spec.family else k

        wanted = {family(k) for k in commodities}
        a = a[[family(str(k)) in wanted for k in a["commodity"]]]
    if a.empty:
        return []
    per_year = pd.DataFrame(a.groupby(["policy", "imposed_by", "commodity", "unit", "year"],
                                      as_index=False)["blocked"].sum())  # fmt: skip
    top = per_year.sort_values("blocked", ascending=False, kind="stable").drop_duplicates("policy")
    return [(str(p), str(c), f"{p} ({country_name(str(c), names)}; up to {format_tonnes(float(q), str(u))} of "
                     f"{names.get(str(k), str(k))} a year)")
            for p, c, k, u, q in zip(top["policy"], top["imposed_by"], top["commodity"], top["unit"], top["blocked"],
                                     strict=True)]  # fmt: skip


def with_others_text(blockers: list[tuple[str, str, str]]) -> str:
    """Say, after a ``fixed`` figure, whose other measures it also carries: their countries (empty when none).

    Country codes, short enough for a table of ten variants; the note under the table names the
    measures (:func:`others_note`).

    Examples
    --------
    >>> with_others_text([("us_halt", "US", "us_halt (...)"), ("my_ban", "MY", "my_ban (...)")])
    ' (with US, MY measures in force)'
    >>> with_others_text([])
    ''
    """
    codes = list(dict.fromkeys(c for _, c, _ in blockers))
    return f" (with {', '.join(codes)} measures in force)" if codes else ""


def others_note(blockers: Mapping[str, list[tuple[str, str, str]]], source: str) -> str:
    """Say, under a table of ``fixed`` figures, what each variant's other measures block (empty when none).

    ``blockers``: :func:`other_blockers` by variant; ``source``: the source's display name.

    Examples
    --------
    >>> h = ("h", "US", "h (US; up to 1k t a year)")
    >>> print(others_note({"a": [h], "b": [h], "c": []}, "China"))  # doctest: +NORMALIZE_WHITESPACE
    A "fixed:" figure also carries what measures of countries other than China block in the same run: nothing
    is re-routed around them, so a cut to China's own imports reaches every buyer of its products pro rata
    (docs/rebalance.md). a, b: h (US; up to 1k t a year).
    """
    by_text: dict[str, list[str]] = {}
    for variant, found in blockers.items():
        if found:
            by_text.setdefault("; ".join(text for _, _, text in found), []).append(variant)
    if not by_text:
        return ""
    parts = [f"{', '.join(variants)}: {text}" for text, variants in by_text.items()]
    return ("A \"fixed:\" figure also carries what measures of countries other than " + source + " block in the "
            "same run: nothing is re-routed around them, so a cut to " + source + "'s own imports reaches every "
            "buyer of its products pro rata (docs/rebalance.md). " + " ".join(p + "." for p in parts))
