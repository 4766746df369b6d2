"""The US-China truce of November 2025 lifts No. 18 on China's exports to the US (review #4, R-9).

path_to_2030's Dy and Tb aims are met only while No. 18 is held in force to 2030 at its 2025 approval
rates; the truce's general licences (``whitehouse_us_cn_truce_2025``) are the documented alternative, a
toggle (``us_cn_truce``) and a variant in ``china_licensing_2025.yaml`` and ``path_to_2030.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import supplychain as sc

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def truce() -> pd.DataFrame:
    r = sc.simulate(SCENARIOS / "china_licensing_2025.yaml", variant="documented_truce", mode="fixed")
    a = r.attribution
    return a[(a["commodity"] == "ndfeb_magnet") & (a["supplier_country"] == "CN")]


def test_the_truce_lifts_no18_on_chinas_magnets_to_the_us_from_december_2025(truce: pd.DataFrame) -> None:
    # No. 18 to the US: in force from 2025-04-04, the first 2 months with no licences (delay), then 23 % of
    # the flow refused (approved share 0.77). Months of 2025 by days (calendar: a month's fraction is its
    # days in force over its days):
    #   delay     2025-04-04 .. 06-03 = 27/30 (April) + 1 (May) + 3/30 (June)          = 2.0 months
    #   licensed  2025-06-04 .. 11-30 = 27/30 (June) + 5 (July-November)              = 5.9 months
    #   lifted    2025-12-01 .. 12-31 by the truce (exempted)                          = 1.0 month
    # blocked share b = (2.0 + (1 - 0.77) x 5.9) / 12 = (2.0 + 1.357) / 12 = 0.279750
    # (without the truce the licensed months run to December: (2.0 + 0.23 x 6.9) / 12 = 0.298917).
    us = truce[truce["buyer_country"] == "US"].set_index("year")
    assert us.loc[2025, "policy"] == "cn_mofcom_no18_us"
    assert us.loc[2025, "blocked_share"] == pytest.approx((2.0 + 0.23 * 5.9) / 12, abs=1e-9)
    assert us.loc[2025, "exempted_by"] == "us_cn_truce_2025"
    # from 2026 the whole year is lifted: nothing blocked, all of the policy's share exempted
    for year in range(2026, 2031):
        assert us.loc[year, "blocked_share"] == 0.0
        assert us.loc[year, "exempted_share"] == 1.0


def test_the_truce_leaves_no18_on_every_other_destination(truce: pd.DataFrame) -> None:
    # No. 18 elsewhere (approved 0.92, catch-up 0.53 of the 2.0 months held, review #5 R-9):
    # 2025 b = ((1 - 0.53) x 2.0 + 0.08 x 6.9) / 12 = (0.94 + 0.552) / 12 = 0.124333; 2026 on 0.08.
    others = truce[truce["buyer_country"] != "US"]
    assert set(others["policy"]) == {"cn_mofcom_no18"}
    assert (others["exempted_share"] == 0.0).all()
    b2025 = others.loc[others["year"] == 2025, "blocked_share"]
    assert b2025.to_numpy() == pytest.approx(((1 - 0.53) * 2.0 + 0.08 * 6.9) / 12, abs=1e-6)
    assert others.loc[others["year"] == 2026, "blocked_share"].to_numpy() == pytest.approx(0.08)


def test_the_truce_is_a_variant_of_the_path_to_2030_and_off_by_default() -> None:
    s = sc.load(SCENARIOS / "path_to_2030.yaml")
    assert s.toggles["us_cn_truce"].default is False
    assert s.variants["all_deals_truce"].toggles["us_cn_truce"] is True
    # the same toggles as all_deals but for the truce
    rest = dict(s.variants["all_deals_truce"].toggles)
    rest.pop("us_cn_truce")
    assert rest == dict(s.variants["all_deals"].toggles)
