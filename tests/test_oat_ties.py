"""One-at-a-time sensitivity swings a tie as ONE input (G-9): every member to its own low/high together."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supplychain.schema.model import Scenario
from supplychain.uncertainty.sampling import draw, find_parameters, inverse_cdf
from supplychain.uncertainty.sensitivity import TIE_LABEL, one_at_a_time, tornado_chart


def tied_world() -> Scenario:
    """Three flows to the US: a ~ uniform(0, 10) and b ~ triangular(2, 2, 8) one fact (tie ``t``), c ~ uniform(4, 6).

    Two toggles of one tie ``deals`` (p = 0.5 and 0.3) and one drawn on its own (p = 0.5).
    """
    flow = {"supplier": "CN", "buyer": "US", "commodity": "x", "year": 2024}
    return Scenario.model_validate({
        "scenario": {"name": "tied", "base_year": 2024},
        "flows": {
            "a": {**flow, "tonnes": {"dist": "uniform", "low": 0, "high": 10, "tie": "t"}},
            "b": {**flow, "supplier": "AU", "tonnes": {"value": 2, "dist": "triangular", "low": 2, "mode": 2,
                                                       "high": 8, "tie": "t"}},
            "c": {**flow, "supplier": "MY", "tonnes": {"dist": "uniform", "low": 4, "high": 6}}},
        "toggles": {
            "d1": {"controls": ["c"], "default": False, "probability": 0.5, "tie": "deals"},
            "d2": {"controls": ["c"], "default": False, "probability": 0.3, "tie": "deals"},
            "d3": {"controls": ["c"], "default": False, "probability": 0.5}},
    })


def total(sc: Scenario) -> pd.DataFrame:
    """y = a + b + c + 100·[d1] + 10·[d2] + 1·[d3]: the one-at-a-time swings are known in closed form."""
    y = sum(f.tonnes.central for f in sc.flows.values())
    y += 100.0 * sc.toggles["d1"].default + 10.0 * sc.toggles["d2"].default + 1.0 * sc.toggles["d3"].default
    return pd.DataFrame({"year": [2024], "metric": ["y"], "value": [y]})


def test_a_tie_is_one_bar_with_every_member_at_its_own_bounds() -> None:
    # Central: a = 5 (uniform's midpoint), b = 2 (its value), c = 5, toggles off: y = 12.
    # span="bounds": the tie t moves a and b together: low a = 0, b = 2 -> y = 0 + 2 + 5 = 7; high a = 10, b = 8 ->
    #   y = 10 + 8 + 5 = 23; swing 16. (On main a alone swung 10 and b alone 6: two bars, a case no sample
    #   holds, for the draw puts both at the same quantile u.)
    # c alone: 4 -> 11, 6 -> 13; swing 2.
    # The tie deals: both off -> 12, both on -> 12 + 100 + 10 = 122; swing 110 (on main: 100 and 10).
    # d3 alone: off 12, on 13; swing 1.
    r = one_at_a_time(tied_world(), model=total, quiet=True)
    rank = r.ranking(metric="y")
    assert rank["parameter"].tolist() == [f"{TIE_LABEL}deals", f"{TIE_LABEL}t", "flows.c.tonnes", "toggles.d3"]
    assert rank["swing"].tolist() == pytest.approx([110.0, 16.0, 2.0, 1.0])
    row = rank.set_index("parameter").loc[f"{TIE_LABEL}t"]
    assert (row["value_low"], row["value_central"], row["value_high"]) == pytest.approx((7.0, 12.0, 23.0))
    assert row["members"] == ["flows.a.tonnes", "flows.b.tonnes"]
    assert row["distribution"] == "2 inputs drawn together, tie t"
    assert math.isnan(row["input_low"])  # each member is at its own value
    assert math.isnan(row["input_high"])
    c = rank.set_index("parameter").loc["flows.c.tonnes"]
    assert (c["input_low"], c["input_high"], c["members"]) == (4.0, 6.0, ["flows.c.tonnes"])
    assert r.label_of("flows.b.tonnes") == f"{TIE_LABEL}t"
    assert r.label_of("flows.c.tonnes") == "flows.c.tonnes"
    assert (r.info["parameters"], r.info["inputs"]) == (6, 4)  # 2·4 + 1 = 9 runs, not 2·6 + 1 = 13
    assert r.low_values.shape == (4, 1)


def test_a_tie_at_p5_p95_is_one_draw_at_u_005_and_095() -> None:
    # span="p5-p95": one draw u = 0.05 (low) and u = 0.95 (high) for every member of t:
    #   a = 0 + u·10: 0.5 and 9.5;
    #   b = triangular(2, 2, 8), mode at the low end, so h − √((1 − u)(h − m)(h − l)) = 8 − 6√(1 − u):
    #   8 − 6√0.95 = 2.151924 and 8 − 6√0.05 = 6.658359;
    #   y low = 0.5 + 2.151924 + 5 = 7.651924, high = 9.5 + 6.658359 + 5 = 21.158359, swing 13.506435.
    r = one_at_a_time(tied_world(), model=total, span="p5-p95", parameters=["flows.*"], quiet=True)
    row = r.ranking(metric="y").set_index("parameter").loc[f"{TIE_LABEL}t"]
    lo_b, hi_b = 8 - 6 * math.sqrt(0.95), 8 - 6 * math.sqrt(0.05)
    assert (row["value_low"], row["value_high"]) == pytest.approx((0.5 + lo_b + 5, 9.5 + hi_b + 5))
    assert row["swing"] == pytest.approx(13.506435, abs=1e-6)
    # ... which is where a sweep's draw puts both members for that u (the tie's shared uniform)
    spec = find_parameters(tied_world())
    for u, want in ((0.05, (0.5, lo_b)), (0.95, (9.5, hi_b))):
        got = [float(inverse_cdf(spec[f"flows.{k}.tonnes"].quantity, np.array([u]))[0]) for k in "ab"]
        assert got == pytest.approx(want)
    sample = draw(spec, 50, seed=3)
    qa = (sample["flows.a.tonnes"] / 10).to_numpy()  # a's quantile is the draw's u
    assert sample["flows.b.tonnes"].to_numpy() == pytest.approx(8 - 6 * np.sqrt(1 - qa))


def test_the_tornado_draws_one_labelled_bar_per_tie(tmp_path: Path) -> None:
    r = one_at_a_time(tied_world(), model=total, quiet=True)
    fig = tornado_chart(r.ranking(metric="y"), tmp_path / "t.svg")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["toggles.d3", "flows.c.tonnes", f"{TIE_LABEL}t", f"{TIE_LABEL}deals"]  # largest on top
    notes = {t.get_text() for t in fig.axes[0].texts}
    assert {"all low", "all high", "all on"} <= notes
