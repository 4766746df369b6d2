"""Who gets a short producer's idle capacity is the allocation rule's choice (s37 review G-10).

Under a full Ga/Ge ban the review found Korea, 75 % short of gallium itself, running its plant at
capacity and shipping 77 % of it abroad (``contracts_first``; every country 75.0 % short, before USGS's
"other countries" capacity was in the world), while ``home_first`` left Korea 0 % short and the US 84.1 %
(docs/rebalance.md has the figures with every capacity). The same in a two-country world worked by hand:

China makes 200 t (70 t its own use, 50 t to Korea, 80 t to Japan); Korea's plant made 30 t in 2024
of its 100 t capacity (utilisation 0.3, held); Korea's demand is 80 t (its 30 t and China's 50 t),
Japan's 80 t (China's). China bans every export from 1 January 2025. Outside China only Korea's
capacity is left: 100 t for 160 t of demand.

* ``fixed``: outputs and the trade pattern stay: Korea keeps its 30 t, short 50/80 = **62.5 %**;
  Japan gets nothing, **100 %**.
* ``rebalance``, ``contracts_first``: Korea's plant runs at 100 t (70 t restarted); the floors are
  the ``fixed`` shortfalls (50 t, 80 t) and do not bind; the rest is max-min fair: both users short
  the same share s with 80 (1 − s) + 80 (1 − s) = 100, s = 60/160 = **37.5 %**: Korea keeps 50 t
  and ships **50 t** to Japan while itself 37.5 % short (``shipped_while_short``).
* ``proportional`` and ``max_delivery`` (every split delivers 100 t; the tie broken max-min fair):
  the same 37.5 % each.
* ``home_first``: Korea's output serves Korea first: 80 t at home (**0 %** short), the 20 t left to
  Japan, short (80 − 20)/80 = **75 %**; nothing is shipped while short.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import supplychain as sc

IDLE = """\
scenario: {name: Idle capacity of a short producer, base_year: 2024, horizon: 2025}
commodities:
  m: {name: Gallium, stage: metal, basis: t Ga, family: gallium}
facilities:
  cn_plant: {name: China plant, country: CN, kind: aggregate, output: m, capacity: 200, utilisation: 1}
  kr_plant: {name: Korea plant, country: KR, kind: aggregate, output: m, capacity: 100,
             production: {2024: 30}, utilisation: 0.3}
flows:
  cn_kr: {supplier: cn_plant, buyer: KR, commodity: m, year: 2024, tonnes: 50}
  cn_jp: {supplier: cn_plant, buyer: JP, commodity: m, year: 2024, tonnes: 80}
demand:
  cn: {country: CN, commodity: m, year: 2024, tonnes: 70}
  kr: {country: KR, commodity: m, year: 2024, tonnes: 80}
  jp: {country: JP, commodity: m, year: 2024, tonnes: 80}
policies:
  cn_ban: {type: export_ban, country: CN, covers: {families: [gallium]}, start: 2025-01-01, share_blocked: 1.0}
toggles:
  ban: {controls: [cn_ban], default: on}
"""

CASES = [  # mode, rule, Korea short, Japan short, Korea → Japan (t), Korea's output (t)
    ("fixed", None, 50 / 80, 1.0, 0.0, 30.0),
    ("rebalance", "contracts_first", 60 / 160, 60 / 160, 50.0, 100.0),
    ("rebalance", "proportional", 60 / 160, 60 / 160, 50.0, 100.0),
    ("rebalance", "max_delivery", 60 / 160, 60 / 160, 50.0, 100.0),
    ("rebalance", "home_first", 0.0, 60 / 80, 20.0, 100.0),
]


@pytest.mark.parametrize(("mode", "rule", "kr", "jp", "shipped", "made"), CASES)
def test_each_rule_splits_a_short_producers_idle_capacity_as_worked_by_hand(
        write: Callable[..., Path], mode: str, rule: str | None, kr: float, jp: float, shipped: float,
        made: float) -> None:
    r = sc.simulate(write("idle.yaml", IDLE), mode=mode, allocation=rule)  # type: ignore[arg-type]
    short = r.shortfall.query("year == 2025").set_index("country")["shortfall_share"]
    assert (short["KR"], short["JP"], short["CN"]) == pytest.approx((kr, jp, 0.0), abs=1e-9)
    flows = r.flows.query("year == 2025 and supplier_country == 'KR' and buyer_country == 'JP'")
    assert flows["simulated"].sum() == pytest.approx(shipped, abs=1e-9)
    out = r.utilisation.query("year == 2025 and facility == 'kr_plant'")["output"]
    assert out.item() == pytest.approx(made, abs=1e-9)
    while_short = r.shipped_while_short().query("year == 2025 and country == 'KR'")
    if rule == "contracts_first":  # Korea ships 50 t to Japan while 37.5 % short: the table says so
        assert while_short[["destination", "shipped"]].values.tolist() == [["JP", pytest.approx(50.0)]]
    if rule == "home_first":
        assert while_short.empty
