"""The US-China truce of November 2025 lifts No. 18 on China's exports to the US (review #4, R-9), for its
documented year; its renewal is one draw that also decides No. 57's and the Ga/Ge ban's return (review #5, R-1).

path_to_2030's Dy and Tb aims are met only while No. 18 applies to the US at its 2025 approval rates;
the truce's general licences (``whitehouse_us_cn_truce_2025``) lift it from 2025-12-01 to 2026-11-09
(toggle ``us_cn_truce``); after that either the truce is renewed (``us_cn_truce_renewed`` on: the
licences go on, No. 57 and the Ga/Ge ban stay suspended) or it lapses (off: the licences end and both return).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import supplychain as sc
from supplychain.simulation.toggles import resolve_toggles
from supplychain.uncertainty import draw, find_parameters

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
RETURNS = {"cn_mofcom_no57_resumed", "cn_gage_us_ban_resumed"}


@pytest.fixture(scope="module")
def truce() -> pd.DataFrame:
    r = sc.simulate(SCENARIOS / "china_licensing_2025.yaml", variant="documented_truce", mode="fixed",
                    toggles={"us_cn_truce_renewed": True})
    a = r.attribution
    return a[(a["commodity"] == "ndfeb_magnet") & (a["supplier_country"] == "CN")]


@pytest.fixture(scope="module")
def lapsed() -> pd.DataFrame:
    r = sc.simulate(SCENARIOS / "china_licensing_2025.yaml", variant="documented_truce", mode="fixed")
    return r.attribution


def test_the_truce_lifts_no18_on_chinas_magnets_to_the_us_from_december_2025(truce: pd.DataFrame) -> None:
    # No. 18 to the US: in force from 2025-04-04, the first 2.23 months with no licences (to June 4 +
    # round(0.23 x 30) = 7 days: licences from June 11; delay: 6.9 % of the flow ships all the same,
    # shipped_during_delay, no catch-up), then 23 % of the flow refused (approved share 0.77). Months of 2025 by
    # days (calendar: a month's fraction is its days in force over its days):
    #   delay     2025-04-04 .. 06-10 = 27/30 (April) + 1 (May) + 10/30 (June)         = 2.233333 months
    #   licensed  2025-06-11 .. 11-30 = 20/30 (June) + 5 (July-November)              = 5.666667 months
    #   lifted    2025-12-01 .. 12-31 by the truce (exempted)                          = 1.0 month
    # blocked share b = ((1 - 0.069) x 2.233333 + (1 - 0.77) x 5.666667) / 12 = (2.079233 + 1.303333) / 12
    # = 0.281881 (without the truce the licensed months run to December: (2.079233 + 0.23 x 6.666667) / 12
    # = 0.301047).
    us = truce[truce["buyer_country"] == "US"].set_index("year")
    assert us.loc[2025, "policy"] == "cn_mofcom_no18_us"
    assert us.loc[2025, "blocked_share"] == pytest.approx((0.931 * (2 + 7 / 30) + 0.23 * (5 + 2 / 3)) / 12,
                                                          abs=1e-9)
    assert us.loc[2025, "exempted_by"] == "us_cn_truce_2025"
    # renewed: from 2026 the whole year is lifted (the documented year to 2026-11-09, the renewal from
    # 2026-11-10): nothing blocked, all of the policy's share exempted
    for year in range(2026, 2031):
        assert us.loc[year, "blocked_share"] == 0.0
        assert us.loc[year, "exempted_share"] == 1.0


def test_the_truce_leaves_no18_on_every_other_destination(truce: pd.DataFrame) -> None:
    # No. 18 elsewhere (approved 0.92; 6.9 % shipped during the delay, catch-up 0.59 of the 0.931 x 2.233333
    # = 2.079233 months held, released from July 1, in 2025: review #5 R-9, session 36):
    # 2025 b = ((1 - 0.069)(1 - 0.59) x 2.233333 + 0.08 x 6.666667) / 12 = (0.852486 + 0.533333) / 12 = 0.115485;
    # 2026 on 0.08.
    others = truce[truce["buyer_country"] != "US"]
    assert set(others["policy"]) == {"cn_mofcom_no18"}
    assert (others["exempted_share"] == 0.0).all()
    b2025 = others.loc[others["year"] == 2025, "blocked_share"]
    assert b2025.to_numpy() == pytest.approx(((1 - 0.069) * (1 - 0.59) * (2 + 7 / 30) + 0.08 * (6 + 2 / 3)) / 12,
                                                abs=1e-6)
    assert others.loc[others["year"] == 2026, "blocked_share"].to_numpy() == pytest.approx(0.08)


def test_when_the_truce_lapses_no18_and_no57_come_back_in_november_2026(lapsed: pd.DataFrame) -> None:
    # documented_truce: the licences lift No. 18 to the US 2026-01-01 .. 11-09 = 10 months + 9/30 (November)
    # = 10.3 months; the rest, 1.7 months, No. 18 is back at its approved share 0.77 (its delay ran in 2025):
    #   blocked b = 0.23 x 1.7 / 12 = 0.0325833, exempted 10.3 / 12 = 0.858333; from 2027 b = 0.23.
    a = lapsed[(lapsed["commodity"] == "ndfeb_magnet") & (lapsed["supplier_country"] == "CN")]
    us = a[(a["buyer_country"] == "US")].set_index("year")
    assert us.loc[2026, "blocked_share"] == pytest.approx(0.23 * 1.7 / 12, abs=1e-9)
    assert us.loc[2026, "exempted_share"] == pytest.approx(10.3 / 12, abs=1e-9)
    for year in range(2027, 2031):
        assert us.loc[year, "blocked_share"] == pytest.approx(0.23, abs=1e-12)
        assert us.loc[year, "exempted_share"] == 0.0
    # ... and No. 57 takes effect (2026-11-10), which it never does when the truce is renewed
    assert set(lapsed.loc[lapsed["policy"] == "cn_mofcom_no57_resumed", "year"]) == set(range(2026, 2031))
    renewed = sc.simulate(SCENARIOS / "china_licensing_2025.yaml", variant="documented_truce", mode="fixed",
                          toggles={"us_cn_truce_renewed": True})
    assert "cn_mofcom_no57_resumed" not in set(renewed.attribution["policy"])


def test_one_toggle_decides_the_renewal_and_the_returns() -> None:
    s = sc.load(SCENARIOS / "path_to_2030.yaml")
    # central run = the documented terms: the truce's year, then it lapses and both controls return
    assert s.toggles["us_cn_truce"].default is True
    assert s.toggles["us_cn_truce"].probability is None
    assert s.toggles["us_cn_truce_renewed"].default is False
    central = resolve_toggles(s)
    assert central.active >= RETURNS
    assert "us_cn_truce_2026" in central.inactive
    renewed = resolve_toggles(s, overrides={"us_cn_truce_renewed": True})
    assert renewed.inactive >= RETURNS
    assert renewed.active >= {"us_cn_truce_2025", "us_cn_truce_2026"}
    # all_deals_truce is all_deals with the truce renewed
    assert s.variants["all_deals_truce"].toggles["us_cn_truce_renewed"] is True
    rest = dict(s.variants["all_deals_truce"].toggles)
    rest.pop("us_cn_truce_renewed")
    assert rest == dict(s.variants["all_deals"].toggles)


def test_no_sample_has_the_truce_renewed_and_a_control_back() -> None:
    # The sweep draws the event once: us_cn_truce_renewed (p 0.5); the returns are not drawn on their own.
    s = sc.load(SCENARIOS / "path_to_2030.yaml")
    spec = find_parameters(s)
    drawn = {str(p.path[-1]) for p in spec.toggles}
    assert "us_cn_truce_renewed" in drawn
    assert not drawn & {"us_cn_truce", "cn_61_62_return", "cn_gage_us_ban_return"}
    samples = draw(spec, 200, 3)
    col = "toggles.us_cn_truce_renewed"
    assert 0 < samples[col].astype(bool).sum() < 200  # both worlds are sampled
    for _, row in samples.iterrows():
        states = {str(c).split(".")[-1]: bool(v) for c, v in row.items() if str(c).startswith("toggles.")}
        st = resolve_toggles(s, overrides=states)
        back = RETURNS & st.active
        if states["us_cn_truce_renewed"]:
            assert not back
            assert "us_cn_truce_2026" in st.active
        else:
            assert back == RETURNS
            assert "us_cn_truce_2026" in st.inactive
