"""Tied draws (``tie:``): one uncertain fact drawn once for every quantity that states it.

The members of a tie share one uniform draw ``u`` per sample (``tie_draws``), and each
quantity is its own distribution's inverse CDF at ``u``; a toggle is on when ``u`` is
below its probability. Parameters drawn on their own keep the numbers they had before
ties existed (the same generator outputs), so scenarios without a tie are unchanged.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from supplychain.errors import ScenarioError, format_path
from supplychain.io import load, load_text
from supplychain.schema.model import Scenario
from supplychain.schema.references import check_references, check_warnings
from supplychain.schema.types import Quantity
from supplychain.uncertainty.montecarlo import run_sweep
from supplychain.uncertainty.sampling import (
    Parameter,
    SamplingSpec,
    apply,
    draw,
    find_parameters,
    inverse_cdf,
    parameter_stream,
    tie_draws,
)

REPO = Path(__file__).resolve().parent.parent
SEED = 11


def tri(low: float, mode: float, high: float, tie: str | None = None) -> Quantity:
    return Quantity(dist="triangular", low=low, mode=mode, high=high, tie=tie)


def q(name: str, quantity: Quantity) -> Parameter:
    return Parameter((name, "x"), "quantity", quantity)


# ------------------------------------------------------------ the shared draw, by hand
def test_two_tied_triangles_are_each_inverse_cdf_at_one_shared_u() -> None:
    r"""Hand-worked: A ~ triangular(0, 1, 2) and B ~ triangular(10, 10, 40), tied as ``t``.

    The triangular CDF is :math:`F(x) = (x-l)^2 / ((h-l)(m-l))` for :math:`x \le m` and
    :math:`1 - (h-x)^2 / ((h-l)(h-m))` above, so its inverse at ``u`` is
    :math:`l + \sqrt{u (h-l)(m-l)}` for :math:`u \le (m-l)/(h-l)`, else :math:`h - \sqrt{(1-u)(h-l)(h-m)}`.

    * A (l=0, m=1, h=2, cut 1/2): :math:`\sqrt{2u}` for u ≤ 1/2, else :math:`2 - \sqrt{2(1-u)}`;
    * B (l=m=10, h=40, cut 0): :math:`40 - 30\sqrt{1-u}`.

    The shared ``u`` of sample k is the k-th number of the tie's stream: NumPy's PCG64 seeded
    with ``SeedSequence(seed, spawn_key=(h,))``, h the first 8 bytes (little-endian) of
    SHA-256("tie:t"), read here without the library's helpers.
    """
    n = 400
    h = int.from_bytes(hashlib.sha256(b"tie:t").digest()[:8], "little")
    u = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(h,))).random(n)
    a = np.where(u <= 0.5, np.sqrt(2 * u), 2 - np.sqrt(2 * (1 - u)))
    b = 40 - 30 * np.sqrt(1 - u)

    spec = SamplingSpec((q("a", tri(0, 1, 2, tie="t")), q("b", tri(10, 10, 40, tie="t"))))
    df = draw(spec, n, SEED)
    np.testing.assert_allclose(df["a.x"], a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["b.x"], b, rtol=0, atol=1e-12)
    # one u: the two CDFs agree sample by sample, and the ranks are the same (Spearman 1)
    fa = np.where(df["a.x"] <= 1, df["a.x"] ** 2 / 2, 1 - (2 - df["a.x"]) ** 2 / 2)
    fb = 1 - (40 - df["b.x"]) ** 2 / 900
    np.testing.assert_allclose(fa, fb, atol=1e-12)
    assert stats.spearmanr(df["a.x"], df["b.x"]).statistic == pytest.approx(1.0)
    # the draw of sample 0, by hand at a u chosen here: u = 0.125 -> A = 0.5, B = 40 - 30 sqrt(0.875)
    assert inverse_cdf(tri(0, 1, 2), np.array([0.125]))[0] == pytest.approx(0.5)
    assert inverse_cdf(tri(10, 10, 40), np.array([0.125]))[0] == pytest.approx(40 - 30 * math.sqrt(0.875))


def test_a_tied_quantity_keeps_its_distribution() -> None:
    """B ~ triangular(10, 10, 40) tied: its mean is (10 + 10 + 40) / 3 = 20, sd sqrt(900/18) = 7.07.

    Over 20,000 samples the standard error of the mean is 7.07 / sqrt(20000) = 0.05; the bound is 5 of them.
    """
    spec = SamplingSpec((q("a", tri(0, 1, 2, tie="t")), q("b", tri(10, 10, 40, tie="t"))))
    b = draw(spec, 20_000, SEED)["b.x"]
    assert abs(b.mean() - 20) < 0.25
    assert b.min() >= 10
    assert b.max() <= 40


def test_every_distribution_is_monotone_in_the_shared_draw() -> None:
    """Uniform, triangular, normal (open and truncated) and choice tied: a larger u never gives a smaller value."""
    members = {
        "u": Quantity(dist="uniform", low=1, high=3, tie="t"),
        "tr": Quantity(dist="triangular", low=0, mode=5, high=6, tie="t"),
        "n": Quantity(dist="normal", value=0, sd=1, tie="t"),
        "nt": Quantity(dist="normal", value=10, sd=2, low=8, tie="t"),
        # written out of order, weighted: the ranks follow the values, not the written order
        "c": Quantity(dist="choice", choices=[5, 1, 3], weights=[0.2, 0.5, 0.3], tie="t"),
    }
    spec = SamplingSpec(tuple(q(k, v) for k, v in members.items()))
    df = draw(spec, 2000, SEED)
    order = np.argsort(tie_draws(SEED, "t", 2000))
    for name in spec.names:
        assert (np.diff(df[name].to_numpy()[order]) >= 0).all(), name
    assert df["nt.x"].min() >= 8
    # choice: P(1) = 0.5, P(3) = 0.3, P(5) = 0.2 as written (u < 0.5 -> 1, u < 0.8 -> 3, else 5)
    u = tie_draws(SEED, "t", 2000)
    np.testing.assert_array_equal(df["c.x"], np.where(u < 0.5, 1.0, np.where(u < 0.8, 3.0, 5.0)))


def test_tied_toggles_switch_together() -> None:
    """Toggles p = 0.3 and 0.6 tied: on when the shared u < p, so the first on implies the second on."""
    data: dict[str, Any] = {
        "scenario": {"name": "t", "base_year": 2024},
        "policies": {"ban": {"type": "export_ban", "country": "CN", "start": "2025-01-01"}},
        "toggles": {
            "a": {"controls": ["ban"], "probability": 0.3, "tie": "switch"},
            "b": {"controls": ["ban"], "probability": 0.6, "tie": "switch"},
        },
    }
    df = draw(Scenario.model_validate(data), 500, SEED)
    u = tie_draws(SEED, "switch", 500)
    np.testing.assert_array_equal(df["toggles.a"], u < 0.3)
    np.testing.assert_array_equal(df["toggles.b"], u < 0.6)
    assert not (df["toggles.a"] & ~df["toggles.b"]).any()


# ------------------------------------------------------------------- reproducibility
def test_tied_draws_do_not_move_when_other_parameters_come_and_go() -> None:
    """The tie's draws depend on (seed, tie name, sample number) only."""
    a, b = q("a", tri(0, 1, 2, tie="t")), q("b", tri(10, 10, 40, tie="t"))
    base = draw(SamplingSpec((a, b)), 50, SEED)
    other = q("c", Quantity(dist="uniform", low=0, high=1))
    other_tie = q("d", Quantity(dist="uniform", low=0, high=1, tie="s"))
    wider = draw(SamplingSpec((other, b, other_tie, a)), 50, SEED)
    pd.testing.assert_frame_equal(wider[["a.x", "b.x"]], base)
    # one member on its own (a sweep that selects it) keeps its draws
    pd.testing.assert_series_equal(draw(SamplingSpec((b,)), 50, SEED)["b.x"], base["b.x"])
    # the first 20 samples of a sweep of 50 are the sweep of 20
    pd.testing.assert_frame_equal(draw(SamplingSpec((a, b)), 20, SEED), base.iloc[:20])
    # another seed or another tie name is another draw
    assert not draw(SamplingSpec((a, b)), 50, SEED + 1).equals(base)
    renamed = (q("a", tri(0, 1, 2, tie="t2")), q("b", tri(10, 10, 40, tie="t2")))
    assert not draw(SamplingSpec(renamed), 50, SEED).equals(base)


def test_parameters_drawn_on_their_own_keep_the_generators_numbers() -> None:
    """Untied draws are what NumPy's and SciPy's samplers give on the parameter's stream (as before ties)."""
    n = 300
    cases = {
        "u": (Quantity(dist="uniform", low=2, high=7), lambda r: r.uniform(2, 7, n)),
        "t": (Quantity(dist="triangular", low=1, mode=4, high=5), lambda r: r.triangular(1, 4, 5, n)),
        "tl": (Quantity(dist="triangular", low=1, mode=1, high=5), lambda r: r.triangular(1, 1, 5, n)),
        "th": (Quantity(dist="triangular", low=1, mode=5, high=5), lambda r: r.triangular(1, 5, 5, n)),
        "n": (Quantity(dist="normal", value=3, sd=2), lambda r: r.normal(3, 2, n)),
        "nt": (Quantity(dist="normal", value=3, sd=2, low=0, high=5),
               lambda r: stats.truncnorm.rvs(-1.5, 1.0, loc=3, scale=2, size=n, random_state=r)),
        "c": (Quantity(dist="choice", choices=[3, 1, 2], weights=[0.5, 0.25, 0.25]),
              lambda r: r.choice(np.array([3.0, 1.0, 2.0]), size=n, p=np.array([0.5, 0.25, 0.25]))),
    }  # fmt: skip
    spec = SamplingSpec(tuple(q(k, v) for k, (v, _) in cases.items()))
    df = draw(spec, n, SEED)
    for k, (_, sampler) in cases.items():
        expected = sampler(parameter_stream(SEED, (k, "x")))
        np.testing.assert_array_equal(df[f"{k}.x"].to_numpy(), expected, err_msg=k)


# ------------------------------------------------------------------------ listings
def test_tables_and_descriptions_name_the_tie() -> None:
    spec = SamplingSpec((q("a", tri(0, 1, 2, tie="t")), q("b", tri(10, 10, 40))))
    table = spec.table()
    assert table["tie"].tolist() == ["t", ""]
    assert table["distribution"].tolist() == ["triangular(0, 1, 2), tie t", "triangular(10, 10, 40)"]
    assert spec.ties == {"t": ["a.x"]}


def test_apply_clears_the_tie_of_a_patched_quantity() -> None:
    s = Scenario.model_validate({
        "scenario": {"name": "t", "base_year": 2024},
        "flows": {"f": {"supplier": "CN", "buyer": "US", "commodity": "c", "year": 2024,
                        "tonnes": {"dist": "uniform", "low": 1, "high": 2, "tie": "t", "source": "s"}}},
    })  # fmt: skip
    t = apply(s, {"flows.f.tonnes": 1.5}).flows["f"].tonnes
    assert (t.value, t.dist, t.tie, t.source) == (1.5, None, None, "s")
    Quantity.model_validate(t.model_dump())  # a patched quantity is a valid deterministic one


# ------------------------------------------------------------------------ validation
HEAD = """scenario: {name: t, base_year: 2024, horizon: 2025}
commodities:
  ore: {name: Ore, stage: ore}
facilities:
  mine:
    name: Mine
    country: US
    kind: mine
    output: ore
    capacity: {value: 20, assumption: "test"}
    production:
"""


def test_a_tie_on_a_quantity_without_a_distribution_is_an_error() -> None:
    text = HEAD + ("      2024: {value: 10, tie: out}\n"
                   "      2025: {value: 10, dist: uniform, low: 5, high: 15, tie: out}\n")  # fmt: skip
    with pytest.raises(ScenarioError) as info:
        load_text(text, "s.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.column) == ("s.yaml", 12, 7)
    assert format_path(problem.path) == "facilities.mine.production[2024]"
    assert problem.message == "`tie: out` on a quantity without a distribution: there is no draw to share"
    assert problem.hint == "add the range it shares (`dist:` with its bounds), or remove `tie:`"


def test_a_tie_of_quantities_and_toggles_is_an_error() -> None:
    text = HEAD + ("      2024: {value: 10, dist: uniform, low: 5, high: 15, tie: out}\n"
                   "      2025: {value: 10, dist: uniform, low: 5, high: 15, tie: out}\n"
                   "toggles:\n"
                   "  t1: {controls: [mine], probability: 0.5, tie: out}\n")  # fmt: skip
    with pytest.raises(ScenarioError) as info:
        load_text(text, "s.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("s.yaml", 15)
    assert format_path(problem.path) == "toggles.t1.tie"
    assert problem.message == ("tie 'out' joins a toggle to a quantity (facilities.mine.production[2024]): "
                               "a tie holds quantities or toggles, not both")
    assert "give the toggles their own tie name" in problem.hint


@pytest.mark.parametrize(
    ("toggle", "message", "hint"),
    [
        ("{controls: [mine], tie: out}", "`tie: out` on a toggle without a `probability`: it is not drawn",
         "add `probability:` (the chance it is on), or remove `tie:`"),
        ("{controls: [mine], probability: {value: 0.5, dist: uniform, low: 0.2, high: 0.8, tie: out}}",
         "`tie` on a toggle's probability: the draw a toggle shares is its on/off draw",
         "move `tie: out` up to the toggle itself"),
    ],
)
def test_a_toggle_tie_needs_a_drawn_toggle(toggle: str, message: str, hint: str) -> None:
    text = HEAD + f"      2024: 10\ntoggles:\n  t1: {toggle}\n"
    with pytest.raises(ScenarioError) as info:
        load_text(text, "s.yaml")
    (problem,) = info.value.problems
    assert format_path(problem.path) == "toggles.t1"
    assert (problem.message, problem.hint) == (message, hint)


def test_a_tie_with_one_member_is_a_warning(run_cli: Any, write: Any) -> None:
    text = HEAD + ("      2024: {value: 10, dist: uniform, low: 5, high: 15, tie: out}\n"
                   "      2025: {value: 10, dist: uniform, low: 5, high: 15, tie: outt}\n")  # fmt: skip
    s = load_text(text, "s.yaml")
    assert check_references(s) == []
    warnings = check_warnings(s)
    assert [(format_path(p.path), p.message, p.hint) for p in warnings] == [
        ("facilities.mine.production[2024].tie", "tie 'out' has one member: nothing shares its draw",
         "did you mean 'outt'?"),
        ("facilities.mine.production[2025].tie", "tie 'outt' has one member: nothing shares its draw",
         "did you mean 'out'?"),
    ]  # fmt: skip
    result = run_cli("validate", write("s.yaml", text))
    assert result.returncode == 0, result.stderr
    assert "warn " in result.stdout + result.stderr
    assert "s.yaml:12:" in result.stdout + result.stderr
    assert "tie 'out' has one member: nothing shares its draw" in result.stdout + result.stderr


# --------------------------------------------------------------- the bundled world
def cn_output(sc: Scenario) -> pd.DataFrame:
    """China's mine output the sample's scenario holds in 2026 and 2030 (what a run reads)."""
    prod = sc.facilities["cn_mining"].production
    return pd.DataFrame({"year": [2026, 2030], "metric": ["cn_mine_output"] * 2,
                         "value": [prod[2026].central, prod[2030].central]})


def test_path_to_2030_sweep_draws_china_output_once_for_every_year() -> None:
    """China's undocumented output (USGS fn14) is one fact: high in every year of a sample or low in every year.

    Each year is triangular(path, path, path x 300,000 / 270,000) with mode = low, so a sample at u is
    path x (1 + (1/9)(1 − sqrt(1 − u))): the same fraction of its range in every year, and the 2026 and
    2030 figures the sweep's model reads have rank correlation 1.
    """
    s = load(REPO / "scenarios" / "path_to_2030.yaml")
    spec = find_parameters(s)
    years = [p for p in spec if p.name.startswith("facilities.cn_mining.production")]
    assert [p.name[-5:-1] for p in years] == [str(y) for y in range(2024, 2031)]
    assert {p.tie for p in years} == {"cn_undocumented_output"}

    r = run_sweep(s, samples=30, seed=SEED, model=cn_output, cache=False, quiet=True, workers=1)
    y26, y30 = r.measure(metric="cn_mine_output", year=2026), r.measure(metric="cn_mine_output", year=2030)
    assert stats.spearmanr(y26, y30).statistic == pytest.approx(1.0)
    assert y26.nunique() == 30
    u = tie_draws(SEED, "cn_undocumented_output", 30)
    for p in years:
        lo, hi = p.quantity.low, p.quantity.high
        assert lo is not None
        assert hi is not None
        frac = (r.inputs[p.name] - lo) / (hi - lo)
        np.testing.assert_allclose(frac, 1 - np.sqrt(1 - u), atol=1e-9, err_msg=p.name)


def test_bundled_magnet_demand_growth_is_one_draw_for_every_region() -> None:
    """The IEA's rate is the world's, applied to every region alike: every region's sampled growth is equal."""
    s = load(REPO / "scenarios" / "path_to_2030.yaml")
    spec = find_parameters(s)
    growth = [p.name for p in spec if p.name.endswith("_magnets.growth")]
    assert len(growth) == 6
    assert spec.ties["magnet_demand_growth"] == growth
    df = draw(spec, 40, SEED)[growth]
    assert (df.nunique(axis=1) == 1).all()
    assert df.iloc[:, 0].nunique() == 40


def test_bundled_no18_physical_shares_are_one_draw_for_both_destinations() -> None:
    """What share of an aggregate is No. 18 elements does not depend on where the ship goes: the US policy and the
    rest-of-world policy draw each share together. The magnet coverage is 1 for both, not sampled (session 36,
    D-8: May 2025's 46 t are read once, as ``shipped_during_delay``)."""
    s = load(REPO / "scenarios" / "path_to_2030.yaml")
    spec = find_parameters(s)
    df = draw(spec, 40, SEED)
    assert "no18_magnet_coverage" not in spec.ties
    assert not [n for n in spec.names if n.endswith("covers.coverage.ndfeb_magnet")]
    for tie, key in [("no18_other_reo_share", "other_reo"), ("no18_compounds_share", "ree_compounds")]:
        pair = [f"policies.{p}.covers.coverage.{key}" for p in ("cn_mofcom_no18", "cn_mofcom_no18_us")]
        assert spec.ties[tie] == pair
        assert (df[pair[0]] == df[pair[1]]).all()
        assert df[pair[0]].nunique() == 40


def test_bundled_fund_projects_draw_cost_and_lead_time_once() -> None:
    """Review #5, R-12: what a greenfield RE mine (separation plant) costs and takes is one unknown read from the same
    comparables for the US-Japan fund's three mines (two plants): identical ranges, so identical draws per sample."""
    s = load(REPO / "scenarios" / "path_to_2030.yaml")
    spec = find_parameters(s)
    df = draw(spec, 40, SEED)
    base = "agreements.us_jp_framework.investment.projects"
    for tie, projects, field in [
        ("fund_mine_capex", ("au_mine", "my_mine", "vn_mine"), "capital_intensity_usd_per_tpa"),
        ("fund_mine_lead", ("au_mine", "my_mine", "vn_mine"), "lead_time_years"),
        ("fund_separation_capex", ("jp_separation", "us_separation"), "capital_intensity_usd_per_tpa"),
        ("fund_separation_lead", ("jp_separation", "us_separation"), "lead_time_years"),
    ]:
        names = [f"{base}.{p}.{field}" for p in projects]
        assert spec.ties[tie] == names
        assert (df[names].nunique(axis=1) == 1).all()
        assert df[names[0]].nunique() > 1


def test_bundled_myanmar_undercount_holds_in_every_year() -> None:
    """Review #5, R-14: the mirror statistic's undercount is one fact for every year the 2024 figure is held flat:
    2024-2030 drawn together (31,000-43,000 t each), the later years' central value the flat path (31,000 t)."""
    s = load(REPO / "scenarios" / "path_to_2030.yaml")
    spec = find_parameters(s)
    names = [f"facilities.mm_mining.production[{y}]" for y in range(2024, 2031)]
    assert spec.ties["mm_undercount"] == names
    assert all(s.facilities["mm_mining"].production[y].central == 31000 for y in range(2024, 2031))
    df = draw(spec, 40, SEED)[names]
    assert (df.nunique(axis=1) == 1).all()
    assert df.iloc[:, 0].between(31000, 43000).all()
    assert df.iloc[:, 0].nunique() == 40


# ------------------------------------------------------------------ files and the CLI
MINIMAL = REPO / "tests" / "data" / "minimal" / "base.yaml"
TIED_CHILD = """extends: [minimal.yaml]
flows:
  cn_us_oxide:
    tonnes: {value: 2000, dist: uniform, low: 1800, high: 2000, tie: us_oxide, assumption: "test"}
demand:
  us_ndpr:
    tonnes: {value: 2000, dist: uniform, low: 1800, high: 2000, tie: us_oxide, assumption: "test"}
"""


def test_a_child_file_ties_a_base_quantity_by_writing_only_the_tie(write: Any) -> None:
    """``{tie: NAME}`` has neither ``value`` nor ``dist``: it merges into the base's quantity (scenario-format.md)."""
    write("minimal.yaml", MINIMAL.read_text(encoding="utf-8"))
    base = write("base.yaml", TIED_CHILD.replace(", tie: us_oxide", ""))
    child = write("child.yaml", f"extends: [{base.name}]\nflows:\n  cn_us_oxide:\n    tonnes: {{tie: us_oxide}}\n"
                                "demand:\n  us_ndpr:\n    tonnes: {tie: us_oxide}\n")
    s = load(child)
    t = s.flows["cn_us_oxide"].tonnes
    assert (t.dist, t.low, t.high, t.tie, t.assumption) == ("uniform", 1800, 2000, "us_oxide", "test")
    assert find_parameters(s).ties == {"us_oxide": ["demand.us_ndpr.tonnes", "flows.cn_us_oxide.tonnes"]}


def test_sweep_command_names_the_ties(write: Any) -> None:
    from typer.testing import CliRunner

    from supplychain.cli.app import app

    write("minimal.yaml", MINIMAL.read_text(encoding="utf-8"))
    path = write("tied.yaml", TIED_CHILD)
    res = CliRunner().invoke(app, ["sweep", str(path), "-n", "4", "--mode", "exposure", "--years", "2024",
                                   "--no-cache", "-q"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "2 uncertain inputs" in res.output
    assert "Tied draws (one draw per sample moves all of a tie's inputs together): us_oxide (2 inputs)" in res.output
