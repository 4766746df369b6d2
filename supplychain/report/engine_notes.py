"""Say what the engine did that the tables alone do not show: raised outputs, a world short, one optimum.

Three sentences, each worded once here and printed by ``run`` and the report (and, for the
last, the workbook, the network pictures and ``compare``):

* :func:`raised_note` — after the base year the base network raised country aggregates' output
  above their paths to meet demand the paths leave short, within capacities that are
  assumptions (:mod:`supplychain.graph.spare`, :attr:`Result.raised <supplychain.api.Result>`);
  :func:`sweep_raised_note` says it of a sweep's samples (``supplychain sweep``,
  :meth:`SweepResult.caveats <supplychain.uncertainty.result.SweepResult.caveats>`);
* :func:`world_short_note` — what a commodity's users lack in all, said to be the world's
  shortage only under ``rebalance`` with a Pareto efficient rule (:mod:`supplychain.simulation.world`);
  :data:`WORLD_RULE_NOTE` says once that the rule then decides who bears it, not its size;
* :data:`ONE_OPTIMUM` — a plant's output under ``rebalance`` is one of several equally good
  allocations: the shortfalls and every objective level are unique, which plant makes the
  tonnes is the tie-break's choice (docs/rebalance.md, "What is unique and what is not");
  :data:`ONE_OPTIMUM_SHARES` says it under ``compare``'s table, of the shares read from the
  flows (:func:`shares_note`), :data:`ONE_OPTIMUM_PICTURE` under a network picture.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple

import numpy as np
import pandas as pd

from supplychain.report.numbers import format_apart, format_number, format_percent

__all__ = ["ONE_OPTIMUM", "ONE_OPTIMUM_PICTURE", "ONE_OPTIMUM_SHARES", "TIE_FREE_METRICS", "WORLD_RULE_NOTE",
           "picture_note", "raised_note", "shares_note", "sweep_raised_note", "world_short_note", "world_shortage",
           "world_title"]

ONE_OPTIMUM: Final = ("Plant outputs under rebalance are one of several equally good allocations: where plants could "
                      "make the same tonnes, the larger runs first (a tie-break, not a prediction); shortfalls and "
                      "every objective level are unique (docs/rebalance.md, \"What is unique and what is not\").")
"""The footnote under every table of plant rows of a ``rebalance`` run (``run``, the report, the workbook)."""

ONE_OPTIMUM_PICTURE: Final = ("Plant outputs under rebalance are one of several equally good allocations: which "
                              "plant makes the tonnes is a tie-break (docs/rebalance.md, \"What is unique and what is "
                              "not\").")
""":data:`ONE_OPTIMUM` made short: the last line of a ``rebalance`` network picture's heading (:func:`picture_note`)."""

ONE_OPTIMUM_SHARES: Final = ("Direct import, traced and exposure shares (and the targets on them) follow which "
                             "supplier ships the tonnes, which the tie-break settles as it does which plant makes "
                             "them: a difference between runs in these rows may come from the tie-break, not from "
                             "what the runs set. " + ONE_OPTIMUM)
""":data:`ONE_OPTIMUM` said of the shares a ``rebalance`` comparison shows (``compare``, :func:`shares_note`).

Which supplier ships a tonne is a tie wherever suppliers deviate alike from the baseline (analyst review #8, U-11:
under the US–Japan framework the US's China share of compounds is 70.7–81.5 % over five draws of random tie
ranks, with the same shortfalls; scenarios/README.md), so a share of the flows is one of several optima; the
shortfall rows (:data:`TIE_FREE_METRICS`) are not."""

TIE_FREE_METRICS: Final = frozenset({"shortfall_share", "element_shortfall_share"})
"""Measures of a ``rebalance`` run the tie-break cannot move: every user's shortfall is an optimum of a level above it
(docs/rebalance.md, "What is unique and what is not"). Every other measure reads the flows (who ships, traced
upstream) or the trade totals they sum to."""

WORLD_RULE_NOTE: Final = ("Under rebalance every allocation rule but home_first leaves no tonne unused that could "
                          "reach a short user: where a commodity's users draw only on its own supply, the rule "
                          "decides who bears a world shortage, not its size; home_first holds short countries' "
                          "exports home and can leave more unmet, and where users compete with plants that convert "
                          "the commodity the total can move with the rule (the allocation-rule line says whether "
                          "it does; docs/outputs.md, \"World balance\").")
"""The footnote once under a ``rebalance`` run's world rows (``run``, the report): the rule moves who, not how much."""

SPARE_DOC: Final = "docs/measures.md, \"Later years: spare capacity meets demand above the paths\""


class _LargestRaise(NamedTuple):
    """The largest raise of a table of raised outputs and its figures as the notes print them."""

    row: pd.Series
    """The row with the largest :math:`\\text{raised} - \\text{path}` (the first such, in table order)."""
    up: str
    """The raise, ``raised`` − ``path``, formatted (:func:`~supplychain.report.numbers.format_number`)."""
    raised: str
    """The raised output, formatted apart from ``path`` (:func:`~supplychain.report.numbers.format_apart`)."""
    path: str
    """The path, formatted apart from ``raised``."""
    capacity: str | None
    """The capacity, formatted; ``None`` when not known (NaN)."""


def _largest_raise(raised: pd.DataFrame) -> _LargestRaise:
    r"""Pick the row of ``raised`` (not empty) with the largest raise and format its figures for a note.

    The raise is :math:`\text{raised} - \text{path}` (ties: the first row). Figures are the
    project's table numbers (:func:`~supplychain.report.numbers.format_number`: four significant
    digits below 1,000, so a small raise does not read as 0), and the output and its path are
    formatted apart (:func:`~supplychain.report.numbers.format_apart`), so a raise shows in them too.
    The one choice of :func:`raised_note` and :func:`sweep_raised_note`.

    Examples
    --------
    A raise of 0.4 t of gallium on a path of 12 t, and one of 0.3 t on 77,937 t:

    >>> r = pd.DataFrame({"facility": ["cn_ga", "cn_sep"], "path": [12.0, 77937.0], "raised": [12.4, 77937.3],
    ...                   "capacity": [12.5, float("nan")]})
    >>> big = _largest_raise(r)
    >>> big.row["facility"], big.up, big.raised, big.path, big.capacity
    ('cn_ga', '0.4', '12.4', '12', '12.5')
    >>> b = _largest_raise(r.iloc[1:])
    >>> b.up, b.raised, b.path, b.capacity
    ('0.3', '77,937.3', '77,937.0', None)
    """
    up = (raised["raised"] - raised["path"]).to_numpy(dtype=float)
    top = raised.iloc[int(np.argmax(up))]
    made, path = format_apart(float(top["raised"]), float(top["path"]))
    cap = float(top["capacity"])
    return _LargestRaise(top, format_number(float(top["raised"]) - float(top["path"])), made, path,
                        format_number(cap) if np.isfinite(cap) else None)


def raised_note(raised: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """Say in one sentence that outputs were raised above their paths ("" when none was).

    ``raised`` is :attr:`Result.raised <supplychain.api.Result>` (``year``, ``facility``,
    ``commodity``, ``unit`` (default ``t`` without the column), ``path``, ``raised``, ``capacity``,
    ``assumed``); ``names`` display names of facilities and commodities (default
    their ids). The sentence names the largest raise (``raised − path``) and counts the other
    facility-years.

    Examples
    --------
    >>> r = pd.DataFrame({"year": [2030, 2029], "facility": ["cn_mag", "cn_mag"], "commodity": ["mag"] * 2,
    ...                   "path": [100.0, 100.0], "raised": [130.0, 110.0], "capacity": [150.0] * 2,
    ...                   "assumed": [True, True]})
    >>> print(raised_note(r))  # doctest: +NORMALIZE_WHITESPACE
    Outputs raised above their paths: cn_mag makes 130 t of mag in 2030 against a path of 100 t (capacity
    150 t, an assumption), and 1 more facility-year; demand the paths leave short is met from spare
    capacity, so these outputs are the model's, not a projection's (docs/measures.md, "Later years: spare
    capacity meets demand above the paths").
    """
    if raised.empty:
        return ""
    big = _largest_raise(raised)
    top = big.row
    unit = str(top["unit"]) if "unit" in raised.columns else "t"
    cap_text = (f"capacity {big.capacity} {unit}" + (", an assumption" if bool(top["assumed"]) else "")
                if big.capacity is not None else "capacity unknown")
    more = len(raised) - 1
    others = f", and {more} more facility-year{'s' if more != 1 else ''}" if more else ""
    name = names or {}
    return (f"Outputs raised above their paths: {name.get(str(top['facility']), top['facility'])} makes "
            f"{big.raised} {unit} of {name.get(str(top['commodity']), top['commodity'])} in "
            f"{int(top['year'])} against a path of {big.path} {unit} "
            f"({cap_text}){others}; demand the paths leave short is met from spare capacity, so these outputs "
            f"are the model's, not a projection's ({SPARE_DOC}).")


def sweep_raised_note(raised: pd.DataFrame | None, computed: int, *, central: bool = False) -> str:
    r"""Say in one sentence in how many of a sweep's samples outputs were raised above their paths.

    ``raised`` is :attr:`SweepResult.raised <supplychain.uncertainty.result.SweepResult>` (the
    columns of :attr:`Result.raised <supplychain.api.Result>` with ``sample`` first); ``computed`` the
    samples computed (the sweep's less those that failed); ``central`` whether the central run raised
    too. The sentence counts the samples :math:`N` with a row (a raise anywhere in the network, not
    only in the swept commodities' chains: the names let the reader judge), names the countries and their
    commodities, and the largest raise, :math:`\max (\text{raised} - \text{path})` in its
    commodity's unit, with its capacity and whether that figure is an assumption (no ``source``) or
    sourced. "" when no sample raised (and the central run did not) or ``raised`` is ``None`` (a
    custom measure function: not known).

    Examples
    --------
    >>> r = pd.DataFrame({"sample": [3, 3, 8], "year": [2030, 2030, 2029], "facility": ["cn_mag", "cn_met", "cn_mag"],
    ...                   "country": ["CN"] * 3, "commodity": ["mag", "metal", "mag"], "unit": ["t"] * 3,
    ...                   "path": [100.0, 50.0, 100.0], "raised": [130.0, 55.0, 110.0],
    ...                   "capacity": [150.0, 60.0, 150.0], "assumed": [True, False, True]})
    >>> print(sweep_raised_note(r, 20))  # doctest: +NORMALIZE_WHITESPACE
    In 2 of 20 samples the base network raised output above its path to meet demand the paths leave short (CN:
    mag, metal; largest raise 30 t of mag: cn_mag in 2030, sample 3, 130 against a path of 100, capacity 150,
    an assumption): in those samples part of what users receive is made in capacity beyond the paths, so their
    outputs are the model's, not a projection's (SweepResult.raised; docs/measures.md, "Later years: spare
    capacity meets demand above the paths").
    >>> sweep_raised_note(r.iloc[:0], 20)
    ''
    """
    if raised is None or (raised.empty and not central):
        return ""
    if raised.empty:
        return (f"No sample raised output above its path, but the central run did ({SPARE_DOC}; "
                "supplychain run prints it).")
    big = _largest_raise(raised)
    top = big.row
    unit = str(top["unit"])
    n = int(raised["sample"].nunique())
    where = "; ".join(f"{c}: {', '.join(sorted(set(g['commodity'].astype(str))))}"
                      for c, g in raised.groupby("country", sort=True))
    assumed = "an assumption" if bool(top["assumed"]) else "sourced"
    if bool(raised["assumed"].all()) and len(raised) > 1:
        assumed += ", as every capacity raised into"
    cap_text = f"capacity {big.capacity}, {assumed}" if big.capacity is not None else "capacity unknown"
    too = "; the central run too" if central else ""
    return (f"In {n} of {computed} samples the base network raised output above its path to meet demand the paths "
            f"leave short ({where}; largest raise {big.up} {unit} of {top['commodity']}: "
            f"{top['facility']} in {int(top['year'])}, sample {int(top['sample'])}, {big.raised} "
            f"against a path of {big.path}, {cap_text}{too}): in those samples part of what users "
            "receive is made in capacity beyond the paths, so their outputs are the model's, not a projection's "
            f"(SweepResult.raised; {SPARE_DOC}).")


def picture_note(mode: str, *, baseline: bool = False) -> str | None:
    """Return the footnote of a network picture: :data:`ONE_OPTIMUM_PICTURE` for a ``rebalance`` run's flows.

    ``None`` under ``fixed`` (the kept pattern is unique) and for a picture of the baseline network
    (``baseline``: no policy, no LP; its outputs are the base network's).

    Examples
    --------
    >>> picture_note("rebalance") == ONE_OPTIMUM_PICTURE, picture_note("fixed")
    (True, None)
    >>> picture_note("rebalance", baseline=True) is None
    True
    """
    return ONE_OPTIMUM_PICTURE if mode == "rebalance" and not baseline else None


def shares_note(metrics: Iterable[str], mode: str, *, exact: bool = True) -> str | None:
    """Return the footnote of a comparison's table: :data:`ONE_OPTIMUM_SHARES` where a share of the flows is shown.

    ``metrics`` are the measure ids of the rows shown (``target:<id>`` rows read a measure shown beside them);
    the note when one is not in :data:`TIE_FREE_METRICS`, of a ``rebalance`` run whose levels are each optimised
    (``exact``: not ``--objective weighted``, whose one solve does not make the shortfalls unique either, as
    ``run`` drops :data:`ONE_OPTIMUM` there). ``None`` under ``fixed`` (the kept pattern: no LP, no tie-break).

    Examples
    --------
    >>> shares_note(["traced_share", "shortfall_share"], "rebalance") == ONE_OPTIMUM_SHARES
    True
    >>> shares_note(["traced_share"], "fixed"), shares_note(["shortfall_share", "target:t"], "rebalance")
    (None, None)
    >>> shares_note(["traced_share"], "rebalance", exact=False) is None
    True
    """
    if mode != "rebalance" or not exact:
        return None
    routed = [m for m in metrics if m not in TIE_FREE_METRICS and not str(m).startswith("target:")]
    return ONE_OPTIMUM_SHARES if routed else None


def world_shortage(mode: str, allocation: str | None) -> bool:
    """Whether a run's summed shortfall is the world's shortage: ``rebalance`` with a Pareto efficient rule.

    Every rule but ``home_first``.

    :mod:`supplychain.simulation.world`: under ``fixed`` the kept pattern, under ``home_first`` the held exports, may
    strand supply that reaches no short user.
    """
    return mode == "rebalance" and allocation != "home_first"


def world_short_note(short: pd.DataFrame, mode: str, allocation: str | None = None,
                     names: Mapping[str, str] | None = None) -> str:
    """Say in one sentence what a commodity's users lack in all ("" when ``short`` is empty).

    ``short`` holds the rows of :func:`~supplychain.simulation.world.world_balance` where the
    world is short (:func:`~supplychain.simulation.world.world_short`, kept where they add to the
    country rows: :func:`~supplychain.simulation.world.beyond_country_rows`); the sentence names the
    largest share (and its variant, where ``short`` has a ``variant`` column); ``names`` gives
    commodities' display names (default their ids). Only under ``rebalance`` with a Pareto efficient
    rule (every rule but ``home_first``) is the sum the world's shortage under the run's bans and
    capacities; ``home_first`` holds short countries' exports home and ``fixed`` keeps the trade
    pattern, so there the sum is what the users lack, part of which may be supply the rule holds or
    the pattern strands (:mod:`supplychain.simulation.world`). Who bears a world shortage, and
    whether the rule moves its size, is :data:`WORLD_RULE_NOTE`'s, said once under the table.

    Examples
    --------
    >>> s = pd.DataFrame({"year": [2025], "commodity": ["m"], "unit": ["t"], "demand": [200.0],
    ...                   "delivered": [100.0], "shortfall": [100.0], "shortfall_share": [0.5]})
    >>> print(world_short_note(s, "rebalance", "proportional"))  # doctest: +NORMALIZE_WHITESPACE
    The world is short of m in 2025: its users demand 200 t and 100 t reach them, 100 t (50%) short under
    the run's bans and capacities (docs/outputs.md, "World balance").
    >>> print(world_short_note(s, "fixed"))  # doctest: +NORMALIZE_WHITESPACE
    Under the fixed response, users of m get 100 t less than they demand in 2025 (200 t demanded, 100 t
    reach them, 50%; the trade pattern kept: part may be supply the pattern strands, which rebalance
    re-routes) (docs/outputs.md, "World balance").
    """
    if short.empty:
        return ""
    r = short.sort_values(["shortfall_share", "shortfall"], ascending=False, kind="stable")
    top = r.iloc[0]
    unit = str(top["unit"])
    under = f" under {top['variant']}" if "variant" in r.columns else ""
    commodity = (names or {}).get(str(top["commodity"]), top["commodity"])
    demand, delivered = f"{float(top['demand']):,.0f} {unit}", f"{float(top['delivered']):,.0f} {unit}"
    lack, share = f"{float(top['shortfall']):,.0f} {unit}", format_percent(float(top["shortfall_share"]))
    doc = "(docs/outputs.md, \"World balance\")."
    if world_shortage(mode, allocation):
        return (f"The world is short of {commodity} in {int(top['year'])}{under}: its users demand {demand} and "
                f"{delivered} reach them, {lack} ({share}) short under the run's bans and capacities {doc}")
    why = ("home_first, which holds short countries' exports home: part may be supply the other rules deliver"
           if mode == "rebalance" else "the trade pattern kept: part may be supply the pattern strands, which "
           "rebalance re-routes")
    return (f"Under {_response(mode)}, users of {commodity} get {lack} less than they demand in {int(top['year'])}"
            f"{under} ({demand} demanded, {delivered} reach them, {share}; {why}) {doc}")


def _response(mode: str) -> str:
    """Name what bears a summed shortage that is not the world's: ``rebalance``'s home_first rule, or ``fixed``."""
    return "the home_first rule" if mode == "rebalance" else "the fixed response"


def world_title(mode: str, allocation: str | None = None) -> str:
    """Title of ``run``'s table of world rows: "the world is short" only where the sum is the world's shortage."""
    if world_shortage(mode, allocation):
        return "World balance: commodities the world is short of (every user; each row's unit)"
    return f"Unmet demand summed over every user under {_response(mode)} (not the world's shortage; each row's unit)"
