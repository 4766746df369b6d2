r"""Who goes short under each allocation rule: the range printed beside a ``rebalance`` shortfall figure.

Under the ``rebalance`` response the *allocation rule* decides which users absorb a shortage
(``docs/rebalance.md``, "Allocation rules"); it is an assumption, not an observation. Where it
binds, a country's shortfall share is the world's rationing level under that rule rather than
a result of the country's own supply: in ``china_full_ban_2025.yaml``, ``full_ban``, 2030, the
US is 90 % short of magnets under ``contracts_first``, 87 % under ``proportional`` and
``max_delivery``, 92 % under ``home_first``, while every rule delivers the same tonnes in all.
So the figures a reader sees first (the report's answers, ``supplychain run``'s table) carry
the range over the other rules, and whether the world's total moves with the rule.

For a run (scenario, toggles) and a pair (country *c*, commodity *k*) in year *y*, each rule
*r* gives

* the pair's shortfall share :math:`\sigma^r_{c,k,y} = z_{c,k,y} / D_{c,k,y}`, and
* the tonnes of *k* delivered to every user in the world,
  :math:`T^r_{k,y} = \sum_u (D_u - z_u)` over the users *u* of *k*.

The rules only split what re-routing can deliver; where :math:`T^r` is the same for every rule
(within :data:`SAME_TOTAL`, relative), the sentence says the world's total is fixed and only who
goes short moves. Each rule is one :func:`~supplychain.api.simulate` of the same scenario and
toggles with ``allocation=r`` (years from the base year to *y*: later years cannot change *y*),
read by :func:`outcome` — the one reading of a result, also applied to the run at hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from supplychain.report.dot_style import format_tonnes
from supplychain.report.numbers import format_percent

if TYPE_CHECKING:
    from supplychain.api import Result
    from supplychain.schema.model import Scenario

__all__ = ["SAME_TOTAL", "RuleOutcome", "RuleRange", "focus_ranges", "outcome", "rule_outcomes", "rules_text",
           "same_total"]

SAME_TOTAL: Final = 1e-6
"""Delivered totals of two rules within this share of the larger count as the same (LP round-off)."""


@dataclass(frozen=True)
class RuleOutcome:
    r"""One allocation rule's outcome for a pair in a year.

    Attributes
    ----------
    rule : str
        The allocation rule (:data:`~supplychain.simulation.rationing.RULES`).
    share : float
        The pair's shortfall share :math:`z / D`.
    delivered : float
        Tonnes of the commodity delivered to every user in the world that year, :math:`\sum_u (D_u - z_u)`.
    unit : str
        The commodity's unit (``t NdFeB product``).
    """

    rule: str
    share: float
    delivered: float
    unit: str


@dataclass(frozen=True)
class RuleRange:
    """A pair's shortfall under the run's own allocation rule and under each other rule, in one year.

    Attributes
    ----------
    country, commodity : str
        The pair.
    year : int
        The year of the figure.
    own : RuleOutcome
        The run's own rule.
    others : tuple of RuleOutcome
        The other rules (:func:`rule_outcomes`), in :data:`~supplychain.simulation.rationing.RULES` order.
    """

    country: str
    commodity: str
    year: int
    own: RuleOutcome
    others: tuple[RuleOutcome, ...]

    def text(self) -> str:
        """Say it in words (:func:`rules_text`)."""
        return rules_text(self.own, self.others)

    def record(self) -> dict[str, object]:
        """Give the figures of :meth:`text` as a JSON-ready mapping (``run --format json``, ``allocation_rules``).

        ``country``, ``commodity``, ``year``, ``unit``, ``rule`` (the run's own), ``rules`` (one
        ``{rule, shortfall_share, delivered}`` per rule, the run's own first), ``same_total``
        (:func:`same_total`) and ``text``.

        Examples
        --------
        >>> own = RuleOutcome("contracts_first", 0.9, 200.0, "t")
        >>> RuleRange("US", "x", 2030, own, (RuleOutcome("home_first", 1.0, 200.0, "t"),)).record()["rules"]
        [{'rule': 'contracts_first', 'shortfall_share': 0.9, 'delivered': 200.0}, \
{'rule': 'home_first', 'shortfall_share': 1.0, 'delivered': 200.0}]
        """
        return {"country": self.country, "commodity": self.commodity, "year": self.year, "unit": self.own.unit,
                "rule": self.own.rule,
                "rules": [{"rule": o.rule, "shortfall_share": o.share, "delivered": o.delivered}
                          for o in (self.own, *self.others)],
                "same_total": same_total((self.own, *self.others)), "text": self.text()}  # fmt: skip


def outcome(result: Result, year: int, country: str, commodity: str) -> RuleOutcome | None:
    """Read a pair's shortfall share and the world's delivered tonnes of its commodity from a ``rebalance`` result.

    ``None`` when the pair has no final demand that year.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> sh = pd.DataFrame({"year": 2030, "country": ["US", "JP"], "commodity": "x", "unit": "t",
    ...                    "demand": [100.0, 50.0], "shortfall": [90.0, 10.0], "shortfall_share": [0.9, 0.2]})
    >>> outcome(SimpleNamespace(shortfall=sh, allocation="proportional"), 2030, "US", "x")
    RuleOutcome(rule='proportional', share=0.9, delivered=50.0, unit='t')
    """
    sh = result.shortfall
    sh = sh[(sh["year"] == year) & (sh["commodity"].astype(str) == commodity)]
    own = sh[(sh["country"].astype(str) == country) & (sh["demand"] > 0)]
    if own.empty:
        return None
    delivered = float((sh["demand"] - sh["shortfall"]).sum())
    unit = str(own["unit"].iloc[0]) if "unit" in own.columns else "t"
    return RuleOutcome(str(result.allocation), float(own["shortfall_share"].iloc[0]), delivered, unit)


def rule_outcomes(scenario: Scenario, year: int, country: str, commodity: str, rules: Sequence[str], *,
                  toggles: Mapping[str, bool]) -> list[RuleOutcome]:  # fmt: skip
    """Simulate the run once per rule and read each (:func:`outcome`): one :func:`~supplychain.api.simulate` each.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    year : int
        The year of the figure; years from the base year to it are simulated.
    country, commodity : str
        The pair.
    rules : sequence of str
        The rules to simulate (those other than the run's own).
    toggles : mapping of str to bool
        Every toggle's state in the run (:attr:`ToggleState.states
        <supplychain.simulation.toggles.ToggleState.states>`): the variant or overrides reproduced.

    Returns
    -------
    list of RuleOutcome
        In the order of ``rules``; a rule whose run has no demand of the pair gives none.
    """
    from supplychain.api import simulate

    years = [y for y in scenario.years if y <= year]
    found = []
    for rule in rules:
        r = simulate(scenario, years=years, toggles=dict(toggles), allocation=rule,  # type: ignore[arg-type]
                     metrics=("shortfall_share",))
        got = outcome(r, year, country, commodity)
        if got is not None:
            found.append(got)
    return found


def focus_ranges(result: Result, scenario: Scenario, years: Sequence[int], countries: Sequence[str]) -> list[RuleRange]:
    """Each focus country short of its headline commodity: its shortfall under every allocation rule.

    For each country's headline pair (:func:`~supplychain.report.headline.headline_pairs`) the
    year of ``years`` with its largest shortfall share (the earliest of equal ones), when demand
    goes unmet then, of a ``rebalance`` run: the run simulated once per other rule with the same
    toggles (:func:`rule_outcomes`). Nothing under ``fixed``. ``run``'s lines under its table and its
    JSON key ``allocation_rules`` are both read from this.
    """
    from supplychain.report.headline import headline_pairs
    from supplychain.simulation.rationing import RULES

    if result.mode != "rebalance":
        return []
    used = result.shortfall
    used = used[(used["demand"] > 0) & used["year"].isin(list(years))]
    found = []
    for country, commodity in headline_pairs(used, list(countries)):
        part = used[(used["country"] == country) & (used["commodity"] == commodity)]
        part = part.sort_values(["shortfall_share", "year"], ascending=[False, True], kind="stable")
        if part.empty or not float(part["shortfall_share"].iloc[0]) > 1e-9:
            continue
        year = int(part["year"].iloc[0])
        own = outcome(result, year, country, commodity)
        if own is None:
            continue
        others = rule_outcomes(scenario, year, country, commodity, [r for r in RULES if r != result.allocation],
                               toggles=result.toggle_state.states)  # fmt: skip
        found.append(RuleRange(country, commodity, year, own, tuple(others)))
    return found


def same_total(outcomes: Sequence[RuleOutcome]) -> bool:
    """Whether every rule delivers the same world total: all within :data:`SAME_TOTAL` of the largest.

    Examples
    --------
    >>> same_total([RuleOutcome("a", 0.5, 200.0, "t"), RuleOutcome("b", 0.9, 200.0001, "t")])
    True
    >>> same_total([RuleOutcome("a", 0.5, 200.0, "t"), RuleOutcome("b", 0.9, 180.0, "t")])
    False
    """
    top = max(o.delivered for o in outcomes)
    return top - min(o.delivered for o in outcomes) <= SAME_TOTAL * max(abs(top), 1.0)


def _rules(outcomes: Sequence[RuleOutcome], share: float) -> str:
    return ", ".join(o.rule for o in outcomes if format_percent(o.share) == format_percent(share))


def rules_text(own: RuleOutcome, others: Sequence[RuleOutcome]) -> str:
    """Say the shortfall under the other rules, and whether the world's delivered total moves with the rule.

    Shares are compared as printed (:func:`~supplychain.report.numbers.format_percent`); totals
    within :data:`SAME_TOTAL` of each other are the same. Empty without other rules.

    Examples
    --------
    >>> own = RuleOutcome("contracts_first", 0.898, 223384.0, "t NdFeB product")
    >>> print(rules_text(own, [RuleOutcome("home_first", 0.922, 223384.0, "t NdFeB product"),
    ...                        RuleOutcome("proportional", 0.866, 223384.0, "t NdFeB product"),
    ...                        RuleOutcome("max_delivery", 0.866, 223384.0, "t NdFeB product")]))
    87% (proportional, max_delivery) to 92% (home_first) under the other allocation rules; every rule delivers \
the same 223k t NdFeB product worldwide: the rule moves who goes short, not the world's total
    >>> print(rules_text(own, [RuleOutcome("proportional", 0.8981, 200000.0, "t NdFeB product")]))
    the same under the other allocation rule (proportional); the world's total delivered moves with the rule: \
200k t NdFeB product (proportional) against 223k t (contracts_first)
    """
    if not others:
        return ""
    lo = min(others, key=lambda o: o.share)
    hi = max(others, key=lambda o: o.share)
    rule_s = "rules" if len(others) > 1 else "rule"
    if format_percent(lo.share) == format_percent(hi.share) == format_percent(own.share):
        shares = f"the same under the other allocation {rule_s} ({', '.join(o.rule for o in others)})"
    elif format_percent(lo.share) == format_percent(hi.share):
        shares = f"{format_percent(lo.share)} under the other allocation {rule_s} ({_rules(others, lo.share)})"
    else:
        shares = (f"{format_percent(lo.share)} ({_rules(others, lo.share)}) to {format_percent(hi.share)} "
                  f"({_rules(others, hi.share)}) under the other allocation {rule_s}")
    every = [own, *others]
    if same_total(every):
        total = (f"every rule delivers the same {format_tonnes(own.delivered, own.unit)} worldwide: the rule moves "
                 "who goes short, not the world's total")
    else:
        few = min(every, key=lambda o: o.delivered)
        most = max(every, key=lambda o: o.delivered)
        total = (f"the world's total delivered moves with the rule: {format_tonnes(few.delivered, few.unit)} "
                 f"({few.rule}) against {format_tonnes(most.delivered, 't')} ({most.rule})")
    return f"{shares}; {total}"
