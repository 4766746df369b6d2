"""A stock covers its holder's users of the commodity: final use and the holder's plants (s34 diff review G-1).

A stockpile of an intermediate (Japan's JOGMEC holding NdPr oxide that its magnet makers use) is drawn to cover
the input its holder's plants of the next stage would have received but did not because of the shock, in both
responses, with the release cap and ledger of a final-use stock; the plants' extra output reaches their buyers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from supplychain.api import simulate
from supplychain.io import load_text
from supplychain.schema.model import Scenario
from supplychain.schema.references import check_stock_users

HERE = Path(__file__).parent

WORLD = """scenario: {name: Intermediate stock, base_year: 2024, horizon: 2026}
commodities:
  ndpr: {name: NdPr oxide, stage: oxide, basis: t REO, family: rare_earths, elements: [Nd, Pr]}
  dy: {name: Dy oxide, stage: oxide, basis: t REO, family: rare_earths, elements: [Dy]}
  magnet: {name: NdFeB magnet, stage: magnet, basis: t product, family: rare_earths, elements: [Nd, Pr, Dy]}
processes:
  mag:
    inputs: {ndpr: {value: 1, assumption: "test"}%(dy_input)s}
    outputs: {magnet: {value: 1, assumption: reference output}}
facilities:
  cn_sep: {name: China separation, country: CN, kind: aggregate, output: ndpr,
           capacity: {value: 1000, assumption: test}, utilisation: {value: 1, assumption: test}}
  jp_mag: {name: Japan magnets, country: JP, kind: magnet, process: mag,
           capacity: {value: 600, assumption: test}, utilisation: {value: 1, assumption: test}}
%(dy_facilities)s
flows:
  cn_jp: {supplier: CN, buyer: JP, commodity: ndpr, year: 2024, tonnes: {value: 600, assumption: test}}
%(dy_flows)s
demand:
  cn: {country: CN, commodity: ndpr, year: 2024, tonnes: {value: 400, assumption: test}}
  jp: {country: JP, commodity: magnet, year: 2024, tonnes: {value: 600, assumption: test}}
%(dy_demand)s
policies:
  ban: {type: export_ban, name: China bans oxide exports, country: CN, covers: {commodities: [ndpr, dy]},
        start: 2025-01-01, assumption: test}
%(stock)s
"""

STOCK = """stockpiles:
  jogmec: {country: JP, commodity: ndpr, year: 2025, quantity: 1000, max_release_share: 0.5}
"""

DY = {
    "dy_input": ", dy: {value: 0.1, assumption: test}",
    "dy_facilities": """  cn_dy: {name: China Dy, country: CN, kind: aggregate, output: dy,
          capacity: {value: 100, assumption: test}, utilisation: {value: 1, assumption: test}}
  au_dy: {name: Australian Dy, country: AU, kind: aggregate, output: dy,
          capacity: {value: 30, assumption: test}, utilisation: {value: 1, assumption: test}}""",
    "dy_flows": """  cn_jp_dy: {supplier: CN, buyer: JP, commodity: dy, year: 2024,
             tonnes: {value: 30, assumption: test}}
  au_jp_dy: {supplier: au_dy, buyer: JP, commodity: dy, year: 2024,
             tonnes: {value: 30, assumption: test}}""",
    "dy_demand": "  cn_dy: {country: CN, commodity: dy, year: 2024, tonnes: {value: 70, assumption: test}}",
}


def world(stock: bool = True, dy: bool = False) -> Scenario:
    parts = DY if dy else dict.fromkeys(DY, "")
    return load_text(WORLD % {**parts, "stock": STOCK if stock else ""}, base_dir=HERE)


def magnets_short(res: object) -> dict[int, float]:
    sf = res.shortfall  # type: ignore[attr-defined]
    sel = sf[sf["node"] == "JP:magnet:use"]
    return dict(zip(sel["year"].tolist(), sel["shortfall"].tolist(), strict=True))


@pytest.mark.parametrize("mode", ["fixed", "rebalance"])
def test_an_oxide_stock_feeds_its_holders_magnet_plant(mode: str) -> None:
    # Japan's magnet plant makes 600 t of magnets from 600 t of NdPr oxide (1 t a t), all of it from China,
    # whose export ban is in force all of 2025 and 2026; Japan has no final use of the oxide. Without the
    # stock the plant gets nothing: 600 t of magnets short each year.
    # The 1,000 t oxide stock, max_release_share 0.5, covers the plant's lost input, 600 t a year:
    #   2025: R = 0.5 x 1,000 = 500 -> draw 500, plant makes 500, magnets short 600 - 500 = 100, level 500
    #   2026: R = 0.5 x 500 = 250   -> draw 250, plant makes 250, magnets short 350, level 250
    # The gap arises over the whole year (the ban is in force all year): the release lasts
    # 12 x 500 / 600 = 10 months -> 2025-10; 12 x 250 / 600 = 5 -> 2026-05.
    assert magnets_short(simulate(world(stock=False), mode=mode)) == {2024: 0.0, 2025: 600.0, 2026: 600.0}
    res = simulate(world(), mode=mode)
    st = res.stocks.set_index("year")
    assert st["gap"].tolist() == [pytest.approx(600.0)] * 2
    assert st["draw"].tolist() == [pytest.approx(500.0), pytest.approx(250.0)]
    assert st["level_end"].tolist() == [pytest.approx(500.0), pytest.approx(250.0)]
    assert st["runs_out_month"].tolist() == ["2025-10", "2026-05"]
    assert magnets_short(res) == {2024: 0.0, 2025: pytest.approx(100.0), 2026: pytest.approx(350.0)}
    # the release is a flow into Japan's oxide market, and on into the plant (the market's flows close)
    f = res.flows[res.flows["year"] == 2025].set_index("edge")["simulated"]
    assert f["stockpiles.release.JP:ndpr"] == pytest.approx(500.0)
    assert f["input.jp_mag.ndpr"] == pytest.approx(500.0)
    assert f["supply.jp_mag.magnet"] == pytest.approx(500.0)


@pytest.mark.parametrize("mode", ["fixed", "rebalance"])
def test_a_plant_short_of_another_input_draws_only_what_it_can_use(mode: str) -> None:
    # As above, and the plant also needs 0.1 t of Dy oxide a t (60 t: 30 t from China, banned, 30 t from
    # Australia). With half its Dy the plant can make at most 300 t of magnets, so the NdPr stock can be used
    # for 300 t only: draw 300 of the 500 releasable in 2025, magnets short 600 - 300 = 300, level 700.
    # The plant lost 600 t of oxide; offered all of it, it keeps what it can use with its other inputs, its gap
    # (stocks.plant_kept, one rule for both responses):
    # fixed: the propagation runs again with the 600 t on its input and the plant runs at its scarcest input,
    #   min(1, 30/60) = 0.5: it takes 300 (the Leontief reading G = min(1, 30/60) x 600 - 0 = 300);
    # rebalance: the LP's inputs all scale with the plant's activity, so its flows cannot tell which input was
    #   short; the re-solve with the LP's draw open up to 600 draws what the plant can turn into magnets, 300.
    # The year's release of 500 covers the 300 t gap: 300 drawn, and it lasts the year: runs_out_month '' (not
    # 12 x 500 / 600 = 10 months, 2025-10, as were the stock asked for the 600 the plant could not use).
    res = simulate(world(dy=True), mode=mode, years=[2024, 2025])
    row = res.stocks.set_index("year").loc[2025]
    assert row["gap"] == pytest.approx(300.0)
    assert row["runs_out_month"] == ""
    assert row["draw"] == pytest.approx(300.0)
    assert row["level_end"] == pytest.approx(700.0)
    assert magnets_short(res)[2025] == pytest.approx(300.0)


def test_the_warning_is_only_for_a_stock_nobody_at_home_uses() -> None:
    # Japan's magnet plant takes NdPr oxide: the oxide stock has a user, no warning. A US oxide stock
    # (no US final use of the oxide, no US plant taking it) is never drawn: warned.
    assert check_stock_users(world()) == []
    text = WORLD % {**dict.fromkeys(DY, ""), "stock": STOCK + """  us: {country: US, commodity: ndpr, year: 2025,
       quantity: 10}
"""}
    problems = check_stock_users(load_text(text, base_dir=HERE))
    assert [p.message for p in problems] == [
        "stockpile us: US has no final demand of ndpr and no plant that takes it, and a stock is drawn only for its "
        "holder's users"]


def test_a_stock_drawn_for_the_holders_plants_is_not_exported() -> None:
    # rebalance. Add a Japanese separation plant making 100 t of NdPr oxide, all of it sold to Korea, whose other
    # 300 t come from China (banned); Korea's final use is 400 t. In the re-solve the stock's draw joins
    # Japan's oxide market; Korea is short 300 of 400 t and Japan's magnets 600 of 600, so a tonne sent to Korea
    # lowers the rationed share 1/400 > 1/600: were a draw domestic supply in the re-export row, the LP would
    # ship it. It is not (a stock is national): Japan's exports stay at 100 t (its own output), Korea stays
    # 300 t short, and the plant gets the 500 t released (magnets short 100 t), as without Korea.
    # (With the draw counted as domestic supply, 140 t of the stock went to Korea.) China's separation makes
    # 1,300 t: 400 for its own use, 600 for Japan and 300 for Korea at baseline.
    text = WORLD % {**dict.fromkeys(DY, ""), "stock": STOCK}
    korea = load_text(text.replace("flows:\n", """flows:
  jp_kr: {supplier: jp_sep, buyer: KR, commodity: ndpr, year: 2024, tonnes: {value: 100, assumption: test}}
  cn_kr: {supplier: CN, buyer: KR, commodity: ndpr, year: 2024, tonnes: {value: 300, assumption: test}}
""").replace("demand:\n", """demand:
  kr: {country: KR, commodity: ndpr, year: 2024, tonnes: {value: 400, assumption: test}}
""").replace("facilities:\n", """facilities:
  jp_sep: {name: Japan separation, country: JP, kind: aggregate, output: ndpr,
           capacity: {value: 100, assumption: test}, utilisation: {value: 1, assumption: test}}
""").replace("value: 1000, assumption: test}, utilisation", "value: 1300, assumption: test}, utilisation"),
        base_dir=HERE)
    res = simulate(korea, mode="rebalance", years=[2024, 2025])
    f = res.flows[(res.flows["year"] == 2025) & (res.flows["commodity"] == "ndpr")]
    to_kr = f[(f["supplier_country"] == "JP") & (f["buyer_country"] == "KR")]["simulated"].sum()
    assert to_kr == pytest.approx(100.0)
    sf = res.shortfall[res.shortfall["year"] == 2025].set_index("node")["shortfall"]
    assert sf["KR:ndpr:use"] == pytest.approx(300.0)
    assert sf["JP:magnet:use"] == pytest.approx(100.0)
    assert res.stocks.set_index("year").loc[2025, "draw"] == pytest.approx(500.0)


def _with_separator(stock: bool, country: str, flows: str) -> Scenario:
    """The world above with a 100 t separator in ``country``, Korea's 400 t use of oxide, China's 550 t to Japan and
    350 t to Korea, and ``flows`` between (the separator's and the re-export)."""
    text = WORLD % {**dict.fromkeys(DY, ""), "stock": STOCK if stock else ""}
    sep = country.lower()
    return load_text(text.replace(
        "  cn_jp: {supplier: CN, buyer: JP, commodity: ndpr, year: 2024, tonnes: {value: 600, assumption: test}}",
        "  cn_jp: {supplier: CN, buyer: JP, commodity: ndpr, year: 2024, tonnes: {value: 550, assumption: test}}\n"
        + flows
        + "\n  cn_kr: {supplier: CN, buyer: KR, commodity: ndpr, year: 2024, tonnes: {value: 350, assumption: test}}",
    ).replace("demand:\n", """demand:
  kr: {country: KR, commodity: ndpr, year: 2024, tonnes: {value: 400, assumption: test}}
""").replace("facilities:\n", f"""facilities:
  {sep}_sep: {{name: {country} separation, country: {country}, kind: aggregate, output: ndpr,
           capacity: {{value: 100, assumption: test}}, utilisation: {{value: 1, assumption: test}}}}
""").replace("value: 1000, assumption: test}, utilisation", "value: 1300, assumption: test}, utilisation"),
        base_dir=HERE)


def _displaced(stock: bool) -> Scenario:
    """The world above with a Japanese separator selling 100 t into Japan's oxide market, which re-exports 50 t."""
    return _with_separator(stock, "JP", """\
  sep_jp: {supplier: jp_sep, buyer: JP, commodity: ndpr, year: 2024, tonnes: {value: 100, assumption: test}}
  jp_kr: {supplier: JP, buyer: KR, commodity: ndpr, year: 2024, tonnes: {value: 50, assumption: test}}""")


@pytest.mark.parametrize("allocation", ["contracts_first", "proportional"])
def test_a_stock_does_not_free_its_holders_own_output_for_export(allocation: str) -> None:
    # rebalance (s35 diff review D-2). Japan's oxide market gets 550 t from China (banned 2025) and 100 t from a
    # Japanese separator, and sells 600 t to Japan's magnet plant and 50 t to Korea (whose other 350 t come
    # from China; Korea's use is 400 t). Without the stock, 2025: the market's 100 t are shared over its
    # buyers as at baseline (contracts_first: the fixed response's floors, 600 : 50), Korea gets
    # e = 100 x 50 / 650 = 7.692 t, the plant 92.308 t: Korea short 400 - 7.692 = 392.308, magnets short
    # 600 - 92.308 = 507.692.
    # With the stock (R = 500, the plant's gap 507.692 -> draw 500) the stock replaces, at home, oxide the
    # plant took from Japan's own output; with Japan's exports free in the re-solve that oxide went to Korea
    # instead (Korea got 100 t, short 300: the stock crossed the border by substitution). Held at the first
    # solve's, Japan's exports stay e: Korea is as short as without the stock, and the plant gets
    # (100 - e) + 500 = 592.308 t: magnets short 600 - 592.308 = 7.692 t.
    bare = simulate(_displaced(False), mode="rebalance", years=[2024, 2025], allocation=allocation)
    res = simulate(_displaced(True), mode="rebalance", years=[2024, 2025], allocation=allocation)

    def exported(r: object) -> float:
        f = r.flows  # type: ignore[attr-defined]
        f = f[(f["year"] == 2025) & (f["commodity"] == "ndpr")]
        return float(f[(f["supplier_country"] == "JP") & (f["buyer_country"] == "KR")]["simulated"].sum())

    def short(r: object) -> pd.Series:
        sf = r.shortfall  # type: ignore[attr-defined]
        return sf[sf["year"] == 2025].set_index("node")["shortfall"]

    e = exported(bare)
    if allocation == "contracts_first":
        assert e == pytest.approx(100.0 * 50.0 / 650.0)
        assert short(bare)["JP:magnet:use"] == pytest.approx(600.0 - (100.0 - e))
    assert exported(res) == pytest.approx(e)
    assert short(res)["KR:ndpr:use"] == pytest.approx(short(bare)["KR:ndpr:use"])
    assert short(res)["KR:ndpr:use"] == pytest.approx(400.0 - e)
    assert res.stocks.set_index("year").loc[2025, "draw"] == pytest.approx(500.0)
    assert short(res)["JP:magnet:use"] == pytest.approx(600.0 - (100.0 - e) - 500.0)


@pytest.mark.parametrize("mode", ["fixed", "rebalance"])
def test_a_stock_is_not_drawn_for_a_plant_whose_output_cannot_be_sold(mode: str) -> None:
    # s35 diff review D-8. Japan's magnet plant sells its 600 t to the US (no Japanese use of magnets), and
    # Japan bans magnet exports from 2025 while China bans the oxide: the plant lost all its oxide, a gap of
    # 600 t, but whatever it made would be unsold. Offered its 500 t share it keeps none (fixed: its input is
    # cut back to 0 with its unsellable output; rebalance: the re-solve draws 0), so its gap is 0
    # (stocks.plant_need) and nothing is drawn: the stock stays at 1,000 t, and no release edge carries
    # tonnes that reach nobody (before, fixed drew 500 t into Japan's oxide market that went nowhere).
    text = WORLD % {**dict.fromkeys(DY, ""), "stock": STOCK}
    text = text.replace(
        "  jp: {country: JP, commodity: magnet, year: 2024, tonnes: {value: 600, assumption: test}}",
        "  us: {country: US, commodity: magnet, year: 2024, tonnes: {value: 600, assumption: test}}",
    ).replace("flows:\n", "flows:\n  jp_us: {supplier: jp_mag, buyer: US, commodity: magnet, year: 2024, "
                          "tonnes: {value: 600, assumption: test}}\n"
    ).replace("policies:\n", "policies:\n  jp_ban: {type: export_ban, name: JP bans magnet exports, country: JP, "
                             "covers: {commodities: [magnet]}, start: 2025-01-01, assumption: test}\n")
    res = simulate(load_text(text, base_dir=HERE), mode=mode, years=[2024, 2025])
    row = res.stocks.set_index("year").loc[2025]
    assert row["gap"] == pytest.approx(0.0)
    assert row["draw"] == pytest.approx(0.0)
    assert row["level_end"] == pytest.approx(1000.0)
    f = res.flows[res.flows["year"] == 2025]
    assert f.loc[f["edge"].str.startswith("stockpiles.release"), "simulated"].sum() == pytest.approx(0.0)


def test_a_stock_does_not_free_its_holders_imports_for_others() -> None:
    # rebalance, the other side of D-2. Japan's plant buys 550 t of oxide from China (banned 2025) and 50 t from
    # Korea, whose market gets 350 t from China and 100 t from a Korean separator and whose use is 400 t.
    # Without the stock, 2025: Korea's 100 t are shared over its buyers as at baseline (contracts_first: the
    # fixed response's floors, 50 : 400): Japan gets i = 100 x 50 / 450 = 11.111 t, Korea's use 88.889 t,
    # short 311.111; magnets short 600 - 11.111 = 588.889.
    # With the stock (R = 500 against the plant's gap 588.889: draw 500), a free re-solve let the stock replace
    # Japan's Korean oxide (Korea kept it: short 300, magnets short 100). Held at the first solve's, Japan's
    # imports stay i: Korea is as short as without the stock, and the plant gets i + 500 = 511.111 t,
    # magnets short 600 - 511.111 = 88.889.
    def korea(stock: bool) -> Scenario:
        return _with_separator(stock, "KR", """\
  kr_jp: {supplier: KR, buyer: JP, commodity: ndpr, year: 2024, tonnes: {value: 50, assumption: test}}
  sep_kr: {supplier: kr_sep, buyer: KR, commodity: ndpr, year: 2024, tonnes: {value: 100, assumption: test}}""")

    i = 100.0 * 50.0 / 450.0
    for stock, magnets in ((False, 600.0 - i), (True, 600.0 - i - 500.0)):
        res = simulate(korea(stock), mode="rebalance", years=[2024, 2025])
        f = res.flows[(res.flows["year"] == 2025) & (res.flows["commodity"] == "ndpr")]
        assert f[(f["supplier_country"] == "KR") & (f["buyer_country"] == "JP")]["simulated"].sum() == pytest.approx(i)
        sf = res.shortfall[res.shortfall["year"] == 2025].set_index("node")["shortfall"]
        assert sf["KR:ndpr:use"] == pytest.approx(400.0 - (100.0 - i))
        assert sf["JP:magnet:use"] == pytest.approx(magnets)


def _bound_world(limit: str) -> Scenario:
    """The magnet-plant world with a 400 t oxide stock (share 0.5) and the plant able to use only 300 t of oxide.

    ``limit`` ``dy``: half its Dy (30 of 60 t) comes from Australia, the rest is banned; ``sale``: it sells 300 t
    of its magnets at home and 300 t to the US, and Japan bans magnet exports from 2025.
    """
    stock = STOCK.replace("quantity: 1000", "quantity: 400")
    if limit == "dy":
        return load_text(WORLD % {**DY, "stock": stock}, base_dir=HERE)
    text = WORLD % {**dict.fromkeys(DY, ""), "stock": stock}
    text = text.replace(
        "  jp: {country: JP, commodity: magnet, year: 2024, tonnes: {value: 600, assumption: test}}",
        "  jp: {country: JP, commodity: magnet, year: 2024, tonnes: {value: 300, assumption: test}}\n"
        "  us: {country: US, commodity: magnet, year: 2024, tonnes: {value: 300, assumption: test}}",
    ).replace("flows:\n", "flows:\n  jp_us: {supplier: jp_mag, buyer: US, commodity: magnet, year: 2024, "
                          "tonnes: {value: 300, assumption: test}}\n"
    ).replace("policies:\n", "policies:\n  jp_ban: {type: export_ban, name: JP bans magnet exports, country: JP, "
                             "covers: {commodities: [magnet]}, start: 2025-01-01, assumption: test}\n")
    return load_text(text, base_dir=HERE)


@pytest.mark.parametrize("limit", ["dy", "sale"])
@pytest.mark.parametrize("mode", ["fixed", "rebalance"])
def test_a_plant_that_takes_its_whole_share_has_as_gap_only_what_it_can_use(mode: str, limit: str) -> None:
    # s36. Japan's magnet plant (1 t of NdPr oxide a t of magnets, 600 t at baseline) loses all its Chinese
    # oxide in 2025 (ban in force all year): it lost 600 t. But it can use only 300 t: with half its Dy
    # (limit "dy": 30 of the 60 t it needs, 0.1 t a t) it makes at most 300 t of magnets; or (limit "sale")
    # it can sell only 300 t, Japan's own use, its 300 t to the US being banned. The stock, 400 t at share
    # 0.5, releases R = 200 t, less than the plant can use: the plant takes all 200 t it is offered.
    # What the stock can replace is 300 t, so the gap is 300 t (one rule for both responses: the plant is
    # offered its whole lost input, 600 t, and its gap is what it keeps of it, stocks.plant_kept):
    #   draw = min(400, 300, 200) = 200, level 200, magnets made 200 (short: "dy" 600 - 200 = 400;
    #   "sale" Japan 300 - 200 = 100, the US 300, as without the stock);
    #   the gap arises all year: the release lasts 12 x 200 / 300 = 8 months -> "2025-08".
    # Before, a plant that took its whole share kept its lost input, 600 t, as its gap (rebalance, "dy";
    # both responses, "sale"): the release lasted 12 x 200 / 600 = 4 months -> "2025-04", dated from
    # 300 t the stock could never replace.
    res = simulate(_bound_world(limit), mode=mode, years=[2024, 2025])
    row = res.stocks.set_index("year").loc[2025]
    assert row["gap"] == pytest.approx(300.0)
    assert row["draw"] == pytest.approx(200.0)
    assert row["level_end"] == pytest.approx(200.0)
    assert row["runs_out_after_months"] == pytest.approx(12.0 * 200.0 / 300.0)
    assert row["runs_out_month"] == "2025-08"
    sf = res.shortfall[res.shortfall["year"] == 2025].set_index("node")["shortfall"]
    if limit == "dy":
        assert sf["JP:magnet:use"] == pytest.approx(400.0)
    else:
        assert sf["JP:magnet:use"] == pytest.approx(100.0)
        assert sf["US:magnet:use"] == pytest.approx(300.0)
