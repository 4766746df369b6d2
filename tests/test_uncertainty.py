"""Tests of supplychain.uncertainty: sampling, Monte Carlo driver, cache, sensitivity, progress.

Most tests use small *pure model functions* defined here (a scenario in, a tidy
measures table out), so the statistics can be checked against distributions
known in closed form. Tests against the real engine are at the end.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from supplychain.io import cache as cache_mod
from supplychain.parallel.progress import progress_bar
from supplychain.schema.model import Scenario
from supplychain.schema.types import Quantity
from supplychain.uncertainty import SweepCache, cache_key
from supplychain.uncertainty.montecarlo import SampleError, normalise_measures, run_sweep
from supplychain.uncertainty.sampling import (
    Parameter,
    SamplingSpec,
    apply,
    draw,
    find_parameters,
    parameter_stream,
    parse_path,
)
from supplychain.uncertainty.sensitivity import one_at_a_time, toggle_grid, tornado_chart


# ----------------------------------------------------------------- fixtures
def flow(tonnes: Any, supplier: str = "CN", buyer: str = "US", commodity: str = "ndpr_oxide") -> dict[str, Any]:
    return {"supplier": supplier, "buyer": buyer, "commodity": commodity, "year": 2024, "tonnes": tonnes}


def make_scenario(**overrides: Any) -> Scenario:
    """A toy scenario: three uncertain flows, one toggle with a probability, one target."""
    data: dict[str, Any] = {
        "scenario": {"name": "toy", "base_year": 2024, "horizon": 2025},
        "flows": {
            "cn_us": flow({"dist": "uniform", "low": 100, "high": 300}),
            "au_us": flow({"dist": "triangular", "low": 10, "mode": 20, "high": 60}, supplier="AU"),
            "my_us": flow({"dist": "normal", "value": 50, "sd": 10, "low": 30, "high": 90}, supplier="MY"),
            "jp_us": flow({"dist": "choice", "choices": [0, 5, 10], "weights": [0.2, 0.3, 0.5]}, supplier="JP"),
            "fixed": flow(7.0, supplier="VN"),
        },
        "policies": {
            "cn_ban": {"type": "export_ban", "country": "CN", "start": "2025-01-01"},
        },
        "toggles": {
            "ban": {"controls": ["cn_ban"], "default": False, "probability": 0.3},
            "other": {"controls": ["cn_ban"], "default": True},
        },
        "targets": {
            "us_25": {"country": "US", "commodity": "ndpr_oxide", "metric": "direct_share", "max": 0.8, "by": 2025},
        },
    }
    data.update(overrides)
    return Scenario.model_validate(data)


def toy_measures(sc: Scenario) -> pd.DataFrame:
    """Pure model: China's direct share of US imports; a ban halves CN tonnes in 2025.

    Also reports the CN tonnes themselves, a linear function of the uniform input.
    """
    rows = []
    for year in (2024, 2025):
        cn = sc.flows["cn_us"].tonnes.central
        if year == 2025 and sc.toggles["ban"].default:
            cn = cn / 2
        total = cn + sum(f.tonnes.central for k, f in sc.flows.items() if k != "cn_us")
        base = {"year": year, "country": "US", "commodity": "ndpr_oxide", "stage": "oxide", "source_country": "CN"}
        rows.append({**base, "metric": "direct_import_share", "value": cn / total, "unit": "share"})
        rows.append({**base, "metric": "cn_tonnes", "value": cn, "unit": "t"})
    return pd.DataFrame(rows)


def linear_measure(sc: Scenario) -> pd.DataFrame:
    """y = 3·cn_us − 1·au_us + 0.5·my_us + 10·[ban]: the OAT ranking is known in closed form."""
    f = sc.flows
    y = 3 * f["cn_us"].tonnes.central - f["au_us"].tonnes.central + 0.5 * f["my_us"].tonnes.central
    y += 10.0 * sc.toggles["ban"].default
    return pd.DataFrame({"year": [2024], "country": ["US"], "metric": ["y"], "value": [y]})


def failing_measure(sc: Scenario) -> pd.DataFrame:
    if sc.flows["cn_us"].tonnes.central > 250:
        msg = "too much"
        raise ValueError(msg)
    return linear_measure(sc)


@pytest.fixture(scope="module")
def toy() -> Scenario:
    return make_scenario()


# ----------------------------------------------------------------- sampling
def test_find_parameters_records_paths_kinds_and_skips_fixed_toggles(toy: Scenario) -> None:
    spec = find_parameters(toy)
    assert spec.names == [
        "flows.au_us.tonnes",
        "flows.cn_us.tonnes",
        "flows.jp_us.tonnes",
        "flows.my_us.tonnes",
        "toggles.ban",
    ]
    assert spec["toggles.ban"].kind == "toggle"
    assert spec["flows.cn_us.tonnes"].path == ("flows", "cn_us", "tonnes")
    assert find_parameters(toy, fixed_toggles=["ban"]).names[-1] == "flows.my_us.tonnes"
    with pytest.raises(KeyError, match="no uncertain parameter named 'nope'"):
        spec["nope"]
    with pytest.raises(ValueError, match=r"no uncertain parameter matches 'flow\.\*'"):
        spec.select(["flow.*"])
    assert spec.select(["flows.*"], exclude=["*.jp_us.*"]).names == [
        "flows.au_us.tonnes",
        "flows.cn_us.tonnes",
        "flows.my_us.tonnes",
    ]


def test_find_parameters_walks_lists_and_integer_keys() -> None:
    sc = Scenario.model_validate(
        {
            "scenario": {"name": "x", "base_year": 2024},
            "facilities": {
                "mp": {
                    "name": "MP",
                    "country": "US",
                    "kind": "mine",
                    "output": "ore",
                    "owners": [{"name": "A", "country": "US", "stake": {"dist": "uniform", "low": 0.1, "high": 0.2}}],
                    "production": {2024: {"dist": "uniform", "low": 1, "high": 2}},
                }
            },
        }
    )
    spec = find_parameters(sc)
    assert spec.names == ["facilities.mp.owners[0].stake", "facilities.mp.production[2024]"]
    assert parse_path(spec.names[1]) == ("facilities", "mp", "production", 2024)
    patched = apply(sc, {"facilities.mp.owners[0].stake": 0.15, "facilities.mp.production[2024]": 1.5})
    assert patched.facilities["mp"].owners[0].stake.value == 0.15
    assert patched.facilities["mp"].production[2024].value == 1.5
    assert sc.facilities["mp"].production[2024].dist == "uniform"  # the input is not changed


def test_apply_patches_values_keeps_provenance_and_shares_untouched_branches(toy: Scenario) -> None:
    patched = apply(toy, {"flows.cn_us.tonnes": 123.0, "toggles.ban": True})
    q = patched.flows["cn_us"].tonnes
    assert (q.value, q.dist, q.low, q.high, q.central) == (123.0, None, None, None, 123.0)
    assert patched.toggles["ban"].default is True
    assert patched.toggles["ban"].probability is None
    assert patched.flows["au_us"] is toy.flows["au_us"]
    assert patched.policies is toy.policies
    assert find_parameters(patched).names == ["flows.au_us.tonnes", "flows.jp_us.tonnes", "flows.my_us.tonnes"]
    with pytest.raises(KeyError, match=r"flows\.nope does not exist"):
        apply(toy, {"flows.nope.tonnes": 1.0})
    with pytest.raises(KeyError, match="neither a quantity nor a toggle"):
        apply(toy, {"flows.cn_us.year": 2020})
    with pytest.raises(ValueError, match="not a key path"):
        parse_path("flows..[x")


def test_draw_is_reproducible_and_streams_are_independent_of_other_parameters(toy: Scenario) -> None:
    spec = find_parameters(toy)
    a = draw(spec, 500, seed=7)
    pd.testing.assert_frame_equal(a, draw(spec, 500, seed=7))
    assert not a.equals(draw(spec, 500, seed=8))
    # Dropping a parameter does not change the others; the first k of n samples are a sweep of k.
    sub = draw(spec.select(["flows.cn_us.tonnes"]), 200, seed=7)
    np.testing.assert_array_equal(sub["flows.cn_us.tonnes"].to_numpy(), a["flows.cn_us.tonnes"].to_numpy()[:200])
    pd.testing.assert_frame_equal(draw(spec, 123, seed=7), a.iloc[:123])
    # Different parameters get different streams.
    assert not np.allclose(a["flows.cn_us.tonnes"].rank(), a["flows.au_us.tonnes"].rank())
    assert a.dtypes["toggles.ban"] == np.dtype(bool)
    assert a.index.name == "sample"
    with pytest.raises(ValueError, match="non-negative"):
        parameter_stream(-1, "x")


def test_distributions_match_their_definitions() -> None:
    n = 20_000
    # Bounds of a quantile estimate: 5 standard errors, se = sqrt(p(1-p)/n) / f(x_p).
    uni = draw(find_parameters(make_scenario()), n, seed=11)
    x = uni["flows.cn_us.tonnes"]
    assert x.between(100, 300).all()
    assert abs(x.mean() - 200) < 5 * (200 / math.sqrt(12)) / math.sqrt(n)

    tri = uni["flows.au_us.tonnes"]
    ref_tri = stats.triang(c=(20 - 10) / 50, loc=10, scale=50)
    assert tri.between(10, 60).all()
    assert abs(tri.mean() - ref_tri.mean()) < 5 * ref_tri.std() / math.sqrt(n)
    assert stats.kstest(tri, ref_tri.cdf).pvalue > 1e-3

    nor = uni["flows.my_us.tonnes"]
    ref_nor = stats.truncnorm((30 - 50) / 10, (90 - 50) / 10, loc=50, scale=10)
    assert nor.between(30, 90).all()
    assert abs(nor.mean() - ref_nor.mean()) < 5 * ref_nor.std() / math.sqrt(n)
    assert stats.kstest(nor, ref_nor.cdf).pvalue > 1e-3

    ch = uni["flows.jp_us.tonnes"].value_counts(normalize=True).sort_index()
    assert list(ch.index) == [0.0, 5.0, 10.0]
    for p_hat, p in zip(ch, [0.2, 0.3, 0.5], strict=True):
        assert abs(p_hat - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_bernoulli_toggle_frequency_matches_probability(toy: Scenario) -> None:
    n = 20_000
    on = draw(find_parameters(toy), n, seed=3)["toggles.ban"]
    assert abs(on.mean() - 0.3) < 5 * math.sqrt(0.3 * 0.7 / n)


def test_uncertain_toggle_probability_is_drawn_first() -> None:
    sc = make_scenario(
        toggles={"ban": {"controls": ["cn_ban"], "probability": {"dist": "uniform", "low": 0.0, "high": 0.5}}}
    )
    spec = find_parameters(sc)
    assert "toggles.ban.probability" not in spec.names  # part of the toggle, not a separate parameter
    n = 20_000
    on = draw(spec, n, seed=5)["toggles.ban"]
    assert abs(on.mean() - 0.25) < 5 * math.sqrt(0.25 * 0.75 / n)  # marginal = E[p]


def test_parameter_span_and_description() -> None:
    q = Quantity(dist="normal", value=10, sd=2)
    p = Parameter(("a",), "quantity", q)
    assert p.span() == pytest.approx((10 - 1.96 * 2, 10 + 1.96 * 2))
    assert p.span("p5-p95") == pytest.approx(stats.norm(10, 2).ppf([0.05, 0.95]))
    tri = Parameter(("b",), "quantity", Quantity(dist="triangular", low=0, mode=0, high=1))
    lo, hi = tri.span("p5-p95")
    ref = stats.triang(c=0, loc=0, scale=1).ppf([0.05, 0.95])
    assert (lo, hi) == pytest.approx(tuple(ref))
    assert tri.describe() == "triangular(0, 0, 1)"
    ch = Parameter(("c",), "quantity", Quantity(dist="choice", choices=[3, 1, 2], weights=[0.5, 0.04, 0.46]))
    assert ch.span() == (1.0, 3.0)
    assert ch.span("p5-p95") == (2.0, 3.0)
    table = SamplingSpec((p, tri, ch)).table()
    assert list(table["parameter"]) == ["a", "b", "c"]


# ------------------------------------------------------------- Monte Carlo
def test_run_sweep_quantiles_of_a_uniform_input_passed_linearly(toy: Scenario) -> None:
    n = 2000
    r = run_sweep(toy, samples=n, seed=1, model=toy_measures, cache=False, quiet=True)
    s = r.summary().set_index(["year", "metric"])
    row = s.loc[(2024, "cn_tonnes")]
    # cn_tonnes = U(100, 300): P50 ≈ 200 with se(median) = (b − a) / (2·sqrt(n)) = 200 / (2·sqrt(n)).
    se50 = 200 / (2 * math.sqrt(n))
    assert abs(row["p50"] - 200) < 5 * se50
    # P5 ≈ 110, P95 ≈ 290, se = sqrt(p(1 − p)/n) · (b − a).
    se5 = math.sqrt(0.05 * 0.95 / n) * 200
    assert abs(row["p5"] - 110) < 5 * se5
    assert abs(row["p95"] - 290) < 5 * se5
    assert abs(row["mean"] - 200) < 5 * (200 / math.sqrt(12)) / math.sqrt(n)
    assert row["central"] == 200
    assert row["n"] == n
    assert row["n_nan"] == 0
    assert row["unit"] == "t"
    # The values are the inputs, exactly (the model is the identity on this input).
    np.testing.assert_array_equal(
        r.measure(year=2024, metric="cn_tonnes").to_numpy(), r.inputs["flows.cn_us.tonnes"].to_numpy()
    )
    assert r.info["cached"] is False
    assert r.info["samples"] == n


def test_target_probability_matches_direct_count(toy: Scenario) -> None:
    r = run_sweep(toy, samples=2000, seed=2, model=toy_measures, cache=False, quiet=True)
    tp = r.target_probability().set_index("year")
    share25 = r.measure(year=2025, metric="direct_import_share").to_numpy()
    assert tp.loc[2025, "probability"] == pytest.approx(np.mean(share25 <= 0.8))
    assert bool(tp.loc[2025, "required"]) is True
    assert bool(tp.loc[2024, "required"]) is False
    assert tp.loc[2025, "n"] == 2000
    # With the ban drawn in ~30 % of samples the 2025 probability is higher than 2024's.
    assert tp.loc[2025, "probability"] > tp.loc[2024, "probability"]


def test_samples_table_is_tidy_and_saves(toy: Scenario, tmp_path: Path) -> None:
    r = run_sweep(toy, samples=5, seed=1, model=toy_measures, cache=False, quiet=True)
    t = r.samples
    assert len(t) == 5 * len(r.measures)
    assert list(t.columns[:6]) == ["sample", *r.inputs.columns]
    assert {"metric", "year", "value"} <= set(t.columns)
    assert r.save(tmp_path / "s.parquet").is_file()
    back = pd.read_csv(r.save(tmp_path / "s.csv"))
    assert len(back) == len(t)
    with pytest.raises(ValueError, match=r"use a \.parquet or \.csv"):
        r.save(tmp_path / "s.xlsx")


def test_sample_errors_name_the_sample(toy: Scenario) -> None:
    with pytest.raises(SampleError, match=r"sample \d+ failed: ValueError: too much"):
        run_sweep(toy, samples=50, seed=1, model=failing_measure, cache=False, quiet=True)


def test_invalid_arguments_are_clear_errors(toy: Scenario) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_sweep(toy, samples=0, seed=1, model=toy_measures, cache=False)
    with pytest.raises(ValueError, match="non-negative"):
        run_sweep(toy, samples=1, seed=-1, model=toy_measures, cache=False)
    with pytest.raises(ValueError, match="no uncertain parameter matches"):
        run_sweep(toy, samples=1, seed=1, parameters=["flows.zz*"], model=toy_measures, cache=False)
    with pytest.raises(ValueError, match="duplicate key rows"):
        normalise_measures(pd.DataFrame({"metric": ["a", "a"], "value": [1.0, 2.0]}))


def test_fixed_toggles_and_excluded_parameters_are_not_sampled(toy: Scenario) -> None:
    r = run_sweep(
        toy, samples=20, seed=1, model=toy_measures, toggles={"ban": True}, exclude=["*.jp_us.*"], cache=False,
        quiet=True,
    )  # fmt: skip
    assert "toggles.ban" not in r.inputs.columns
    assert "flows.jp_us.tonnes" not in r.inputs.columns
    assert r.info["parameters"] == 3


# ------------------------------------------------------------------ cache
def test_cache_serves_identical_results_and_never_stale(toy: Scenario, tmp_path: Path) -> None:
    store = SweepCache(tmp_path / "cache")
    first = run_sweep(toy, samples=300, seed=4, model=toy_measures, cache=store, quiet=True)
    again = run_sweep(toy, samples=300, seed=4, model=toy_measures, cache=store, quiet=True)
    assert (first.info["cached"], again.info["cached"]) == (False, True)
    np.testing.assert_array_equal(first.values, again.values)
    pd.testing.assert_frame_equal(first.inputs, again.inputs)
    pd.testing.assert_frame_equal(first.measures, again.measures)
    pd.testing.assert_frame_equal(first.summary(), again.summary())

    # A changed input (a bound of one distribution) is a new key: recomputed, different numbers.
    data = toy.model_dump(mode="json", exclude_none=True)
    data["flows"]["cn_us"]["tonnes"]["high"] = 400
    changed = Scenario.model_validate(data)
    fresh = run_sweep(changed, samples=300, seed=4, model=toy_measures, cache=store, quiet=True)
    assert fresh.info["cached"] is False
    assert fresh.inputs["flows.cn_us.tonnes"].max() > 300
    # So are another seed, another sample count and other options.
    for kwargs in ({"seed": 5}, {"samples": 301}, {"measures": ["cn_tonnes"]}):
        opts: dict[str, Any] = {"samples": 300, "seed": 4, **kwargs}
        assert run_sweep(toy, model=toy_measures, cache=store, quiet=True, **opts).info["cached"] is False
    # Atomic writes leave no temporary files behind.
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_cache_key_depends_on_code_version(toy: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    k1 = cache_key(toy, seed=1, samples=2, options={})
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: "other code")
    assert cache_key(toy, seed=1, samples=2, options={}) != k1


def test_damaged_cache_entry_is_a_miss(toy: Scenario, tmp_path: Path) -> None:
    store = SweepCache(tmp_path)
    r = run_sweep(toy, samples=10, seed=1, model=toy_measures, cache=store, quiet=True)
    entry = next(tmp_path.rglob("values.parquet"))
    entry.write_bytes(b"not parquet")
    assert store.load(r.info["key"]) is None
    again = run_sweep(toy, samples=10, seed=1, model=toy_measures, cache=store, quiet=True)
    assert again.info["cached"] is False
    np.testing.assert_array_equal(r.values, again.values)
    assert store.clear() == 1


def test_default_cache_folder_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SUPPLYCHAIN_CACHE_DIR", str(tmp_path / "c"))
    assert SweepCache.default().directory == tmp_path / "c"
    monkeypatch.delenv("SUPPLYCHAIN_CACHE_DIR")
    assert SweepCache.default().directory == Path(".supplychain-cache")


# ------------------------------------------------------------ sensitivity
def test_one_at_a_time_ranking_is_the_known_one(toy: Scenario, tmp_path: Path) -> None:
    r = one_at_a_time(toy, model=linear_measure, quiet=True)
    rank = r.ranking(metric="y")
    # Swings: 3·(300 − 100) = 600; 10 (toggle); 1·(60 − 10) = 50; 0.5·(90 − 30) = 30; jp_us does not enter.
    assert list(rank["parameter"]) == [
        "flows.cn_us.tonnes",
        "flows.au_us.tonnes",
        "flows.my_us.tonnes",
        "toggles.ban",
        "flows.jp_us.tonnes",
    ]
    assert list(rank["swing"]) == pytest.approx([600, 50, 30, 10, 0])
    central = 3 * 200 - 20 + 0.5 * 50
    assert rank["value_central"].iloc[0] == pytest.approx(central)
    au = rank.set_index("parameter").loc["flows.au_us.tonnes"]
    assert (au["value_low"], au["value_high"]) == pytest.approx((central + 10, central - 40))
    assert rank.attrs["measure"]["metric"] == "y"
    fig = r.tornado(tmp_path / "t.svg", metric="y")
    assert (tmp_path / "t.svg").read_text().lstrip().startswith("<?xml")
    assert len(fig.axes[0].get_yticklabels()) == 4  # flows.jp_us.tonnes has no effect and is not drawn
    assert "1 input with no effect not shown" in fig.axes[0].get_xlabel()
    tornado_chart(rank, tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"use \.svg, \.png or \.pdf"):
        tornado_chart(rank, tmp_path / "t.txt")
    with pytest.raises(KeyError, match="no measure matches"):
        r.ranking(metric="zzz")


def test_one_at_a_time_percentile_span(toy: Scenario) -> None:
    r = one_at_a_time(toy, model=linear_measure, span="p5-p95", parameters=["flows.cn_us.tonnes"], quiet=True)
    rank = r.ranking(metric="y")
    assert rank["swing"].iloc[0] == pytest.approx(3 * (290 - 110))


def test_toggle_grid_runs_every_combination(toy: Scenario) -> None:
    g = toggle_grid(toy, ["ban", "other"], model=toy_measures, quiet=True)
    assert len(g.inputs) == 4
    assert "raised" not in g.info  # rows are combinations, not samples: only run_sweep reports raised outputs
    assert g.inputs.to_dict("list") == {"ban": [False, False, True, True], "other": [False, True, False, True]}
    t = g.table(metric="cn_tonnes", year=2025)
    assert list(t["value"]) == [200, 200, 100, 100]
    met = g.target_table()
    assert set(met["target"]) == {"us_25"}
    assert len(met) == 4 * 2
    with pytest.raises(ValueError, match="unknown toggle"):
        toggle_grid(toy, ["nope"], model=toy_measures)


# --------------------------------------------------------------- progress
def test_progress_silent_when_not_a_tty_and_callable_receives_updates(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(10) as bar:  # pytest's captured stderr is not a TTY: silent
        bar.advance(10)
    assert capsys.readouterr().err == ""
    seen: list[tuple[int, int]] = []
    r = run_sweep(
        make_scenario(), samples=100, seed=1, model=linear_measure, cache=False, chunk_size=40,
        progress=lambda d, t: seen.append((d, t)),
    )  # fmt: skip
    assert seen[-1] == (100, 100)  # the samples (the central run goes first, before the bar)
    assert r.n == 100
    with pytest.raises(ValueError, match="unknown progress display"), progress_bar(1, kind="fancy"):
        pass


def test_rich_progress_writes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(3, "demo", kind="rich") as bar:
        bar.advance(3)
    assert "demo" in capsys.readouterr().err


# ------------------------------------------------- the real engine: fast path
def mini_world(**changes: Any) -> dict[str, Any]:
    """A small balanced REE world (2024 observed, 2025 from capacity × utilisation) with uncertain inputs.

    US imports of NdPr oxide come from China, Malaysia, Japan (which separates
    nothing: its supply is allocated from producers' spare output) and the rest
    of the world; mine output, a concentrate flow, the import split, demand and
    its growth are uncertain.
    """
    data: dict[str, Any] = {
        "scenario": {"name": "mini REE world", "base_year": 2024, "horizon": 2025},
        "regions": {"ROW": {"name": "Rest of world"}},
        "commodities": {
            "ree_concentrate": {"name": "REE concentrate", "stage": "ore", "basis": "t REO"},
            "ndpr_oxide": {"name": "NdPr oxide", "stage": "oxide", "basis": "t REO"},
        },
        "processes": {"separation": {"inputs": {"ree_concentrate": 5.0}, "outputs": {"ndpr_oxide": 1.0}}},
        "facilities": {
            "cn_mine": {"name": "CN mines", "country": "CN", "kind": "mine", "output": "ree_concentrate",
                        "production": {2024: {"dist": "triangular", "low": 262000, "mode": 270000, "high": 280000}},
                        "capacity": 290000, "utilisation": {"dist": "uniform", "low": 0.93, "high": 0.99}},
            "us_mine": {"name": "Mountain Pass", "country": "US", "kind": "mine", "output": "ree_concentrate",
                        "production": {2024: {"dist": "uniform", "low": 42000, "high": 48000}},
                        "capacity": 45000, "utilisation": 1.0},
            "au_mine": {"name": "Mt Weld", "country": "AU", "kind": "mine", "output": "ree_concentrate",
                        "production": {2024: 13000}, "capacity": 14000, "utilisation": 0.95},
            "cn_sep": {"name": "CN separation", "country": "CN", "kind": "separation", "process": "separation",
                       "production": {2024: 55000}, "capacity": 60000, "utilisation": 0.9},
            "my_sep": {"name": "Lynas Malaysia", "country": "MY", "kind": "separation", "process": "separation",
                       "production": {2024: {"dist": "uniform", "low": 2400, "high": 2600}}, "capacity": 3000,
                       "utilisation": 0.8},
        },
        "flows": {
            "us_cn": flow({"dist": "uniform", "low": 30000, "high": 40000}, "US", "CN", "ree_concentrate"),
            "au_lynas": flow(12000, "AU", "my_sep", "ree_concentrate"),
        },
        "imports": {
            "us_oxide": {"importer": "US", "commodity": "ndpr_oxide", "year": 2024,
                         "total": {"dist": "normal", "value": 10000, "sd": 800, "low": 8000, "high": 12000},
                         "partners": {"CN": {"dist": "uniform", "low": 0.6, "high": 0.8}, "MY": 0.13, "JP": 0.06}},
        },
        "demand": {
            "us": {"country": "US", "commodity": "ndpr_oxide", "year": 2024,
                   "tonnes": {"dist": "uniform", "low": 9000, "high": 11000}, "growth": 0.05},
            "jp": {"country": "JP", "commodity": "ndpr_oxide", "year": 2024, "tonnes": 5000,
                   "growth": {"dist": "uniform", "low": 0.0, "high": 0.1}},
            "row": {"country": "ROW", "commodity": "ndpr_oxide", "year": 2024, "tonnes": 500},
        },
        "stockpiles": {"jp": {"country": "JP", "commodity": "ndpr_oxide", "year": 2024, "tonnes": 800}},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01"}},
        "toggles": {"ban": {"controls": ["cn_ban"], "default": False, "probability": 0.5}},
        "targets": {"us_25": {"country": "US", "commodity": "ndpr_oxide", "metric": "traced_share", "max": 0.25,
                              "by": 2025}},
    }  # fmt: skip
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def world() -> Scenario:
    return Scenario.model_validate(mini_world())


def one_year_world(**changes: Any) -> dict[str, Any]:
    """:func:`mini_world` in its base year only, the ban from 2024-09-01, rationed ``proportional``.

    The compiled paths (exposure kernel, compiled rebalance) do not carry the base year's trade
    pattern to later years, nor compute ``contracts_first``'s floors: they apply to a base-year
    sweep under the other allocation rules, and this world is what their tests run on.
    """
    data = mini_world(**changes)
    data["scenario"] = {**data["scenario"], "horizon": 2024}
    data["policies"] = {"cn_ban": {**data["policies"]["cn_ban"], "start": "2024-09-01"}}
    data["targets"] = {"us_25": {**data["targets"]["us_25"], "by": 2024}}
    data["response"] = {"allocation": "proportional"}
    return data


@pytest.fixture(scope="module")
def base_world() -> Scenario:
    return Scenario.model_validate(one_year_world())


def test_the_compiled_paths_say_why_they_do_not_apply(world: Scenario) -> None:
    # later years carry the base year's trade pattern, which the compiled kernel does not: each
    # sample is simulated, and the sweep says so
    r = run_sweep(world, samples=2, seed=1, mode="exposure", cache=False, quiet=True)
    assert r.info["fast_path"].startswith("the compiled path does not carry the base year's trade pattern")
    # the supply response runs simulate per sample, and the per-sample path gives each sample what
    # simulate() gives
    one = Scenario.model_validate(one_year_world())
    r2 = run_sweep(one, samples=3, seed=1, mode="rebalance", cache=False, quiet=True)
    assert r2.info["fast_path"] == "mode 'rebalance' runs the supply response (simulate) per sample"
    assert r2.info["model"] == "simulate(mode='rebalance') per sample"
    from supplychain.api import simulate
    from supplychain.uncertainty.sampling import apply

    row = r2.inputs.iloc[1]
    alone = simulate(apply(one, {str(k): float(v) for k, v in row.items() if not str(k).startswith("toggles.")}),
                     toggles={"ban": bool(row["toggles.ban"])})
    m = alone.measures.query("country == 'US' and commodity == 'ndpr_oxide' and metric == 'shortfall_share'")
    col = r2.measures.query("country == 'US' and commodity == 'ndpr_oxide' and metric == 'shortfall_share'").index
    assert r2.values[1, col[0]] == pytest.approx(float(m["value"].iloc[0]), abs=1e-9)


def test_fast_path_reproduces_compute_measures_sample_by_sample(base_world: Scenario) -> None:
    world = base_world
    fast = run_sweep(world, samples=8, seed=3, mode="exposure", cache=False, quiet=True)
    assert fast.info["fast_path"] == "used"
    assert "toggles.ban" not in fast.inputs.columns  # toggles do not act on the unshocked network
    slow = run_sweep(world, samples=8, seed=3, mode="exposure", fast=False, cache=False, quiet=True)
    assert slow.info["fast_path"] == "disabled (fast=False)"
    pd.testing.assert_frame_equal(fast.inputs, slow.inputs)
    pd.testing.assert_frame_equal(fast.measures.drop(columns="central"), slow.measures.drop(columns="central"))
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-12, atol=1e-12)
    assert set(fast.measures["metric"]) == {
        "traced_share", "direct_import_share", "direct_share_of_consumption", "net_import_reliance",
    }  # fmt: skip
    # Japan separates nothing: its oxide is allocated from China and Malaysia, so the US traced share
    # is above its direct share from China.
    us = fast.summary().query("country == 'US' and commodity == 'ndpr_oxide' and year == 2024").set_index("metric")
    assert us.loc["traced_share", "central"] > us.loc["direct_import_share", "central"] == pytest.approx(0.7)


def test_fast_path_evaluates_the_runs_layout_on_every_kind_of_row() -> None:
    """The kernel evaluates the layout a run evaluates: a sweep over every kind of row equals the per-sample path.

    China's mines run at capacity × utilisation (both sampled: nameplate × ramp-up share 1 ×
    utilisation), the US import remainder goes to a listed partner (China: its row is
    total × (share + remainder), once a limit of the kernel), Japan's stock is given in months
    of its sampled demand with a sampled release share. Each sample's tables are those of
    ``build_tables`` on the patched scenario: every measure within 1e-9.
    """
    data = one_year_world()
    cn = data["facilities"]["cn_mine"]
    cn["production"] = {}
    cn["capacity"] = {"dist": "uniform", "low": 280000, "high": 300000}
    data["imports"]["us_oxide"]["remainder_to"] = "CN"
    data["demand"]["jp"]["tonnes"] = {"dist": "uniform", "low": 4500, "high": 5500}
    data["stockpiles"]["jp"] = {"country": "JP", "commodity": "ndpr_oxide", "year": 2024, "months_of_cover": 2,
                                "max_release_share": {"dist": "uniform", "low": 0.2, "high": 0.6}}
    sc = Scenario.model_validate(data)
    fast = run_sweep(sc, samples=30, seed=5, mode="exposure", on_error="nan", cache=False, quiet=True)
    slow = run_sweep(sc, samples=30, seed=5, mode="exposure", on_error="nan", fast=False, cache=False, quiet=True)
    assert fast.info["fast_path"] == "used"
    sampled = {"facilities.cn_mine.capacity", "facilities.cn_mine.utilisation", "demand.jp.tonnes",
               "stockpiles.jp.max_release_share", "imports.us_oxide.partners.CN"}
    assert sampled <= set(fast.inputs.columns)
    assert fast.failures.empty
    assert slow.failures.empty
    pd.testing.assert_frame_equal(fast.measures.drop(columns="central"), slow.measures.drop(columns="central"))
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-9, atol=1e-12)


def test_a_layout_restricted_to_what_varies_gives_the_full_evaluation(base_world: Scenario) -> None:
    # the kernel computes only the facility rows a sampled number feeds; the others keep their
    # central tonnes: the same numbers as evaluating every row
    from supplychain.graph.layout import year_layout

    lay = year_layout(base_world, 2024)
    vary = np.array([i for i, p in enumerate(lay.paths) if p[:2] in (("flows", "us_cn"), ("facilities", "my_sep"))])
    q = np.repeat(lay.central[None], 5, axis=0)
    q[:, vary] *= np.linspace(0.9, 1.1, 5)[:, None]
    full = lay.evaluate(q)
    part = lay.varying(vary)
    assert 0 < len(part.pair_row) < len(lay.pair_row)
    np.testing.assert_array_equal(part.evaluate(q, lay.evaluate(lay.central[None]).tonnes[0]).tonnes, full.tonnes)


def test_fast_path_results_do_not_depend_on_chunking(base_world: Scenario) -> None:
    world = base_world
    a = run_sweep(world, samples=500, seed=9, mode="exposure", cache=False, quiet=True)
    b = run_sweep(world, samples=500, seed=9, mode="exposure", cache=False, quiet=True, chunk_size=37)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.info["fast_path"] == "used"
    assert a.info["chunks"] == 4  # 501 rows (samples + central run), 4 chunks per worker
    assert b.info["chunks"] == 14


def test_fast_path_falls_back_when_it_cannot_patch_an_input() -> None:
    data = one_year_world()
    data["processes"]["separation"]["inputs"]["ree_concentrate"] = {"dist": "uniform", "low": 5.0, "high": 5.5}
    sc = Scenario.model_validate(data)
    r = run_sweep(sc, samples=2, seed=1, mode="exposure", cache=False, quiet=True)
    assert r.info["fast_path"].startswith("the fast path cannot patch processes.separation.inputs.ree_concentrate")
    assert r.info["model"] == "compute_measures per sample"
    other = run_sweep(sc, samples=2, seed=1, mode="exposure", measures="all", parameters=["flows.*"], cache=False,
                      quiet=True)  # fmt: skip
    assert other.info["fast_path"] == "metrics (all) are not computed by the fast path"


def test_samples_the_tables_refuse_fail_the_same_way_on_both_paths() -> None:
    data = one_year_world()
    # Lynas Malaysia uses 12,000 t of concentrate; a direct flow above that is refused by build_tables.
    data["flows"]["au_lynas"]["tonnes"] = {"dist": "uniform", "low": 11000, "high": 13000}
    sc = Scenario.model_validate(data)
    with pytest.raises(SampleError, match=r"sample \d+ failed: 2024: flows out of \(or into\) a facility exceed"):
        run_sweep(sc, samples=50, seed=1, mode="exposure", cache=False, quiet=True)
    fast = run_sweep(sc, samples=6, seed=1, mode="exposure", on_error="nan", cache=False, quiet=True)
    slow = run_sweep(sc, samples=6, seed=1, mode="exposure", on_error="nan", fast=False, cache=False, quiet=True)
    assert fast.info["fast_path"] == "used"
    assert list(fast.failures["sample"]) == list(slow.failures["sample"])
    assert len(fast.failures) > 0
    assert "but flows into it total" in slow.failures["reason"].iloc[0]
    assert np.isnan(fast.values[fast.failures["sample"].to_numpy()]).all()
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-12, atol=1e-12)


def reexport_world(**changes: Any) -> Scenario:
    """China mines 80–120 t of ore and sends 60 t to Germany, which uses 20 t; Japan needs 30 t.

    At China's central 100 t its 40 t of spare output cover Japan (step 3a); in the samples
    where China mines less than 90 t the rest of Japan's need is taken from Germany's
    surplus (step 3b: re-exports), which the compiled kernel once lacked (it then called
    the sample short, or drew Japan's stock instead).
    """
    data: dict[str, Any] = {
        "scenario": {"name": "re-exports", "base_year": 2024, "source_country": "CN"},
        "commodities": {"ore": {"name": "ore", "stage": "ore"}},
        "facilities": {"cn": {"name": "CN mine", "country": "CN", "kind": "mine", "output": "ore",
                              "production": {2024: {"dist": "uniform", "low": 80, "high": 120}}}},
        "flows": {"cn_de": flow(60, "CN", "DE", "ore")},
        "demand": {"de": {"country": "DE", "commodity": "ore", "year": 2024, "tonnes": 20},
                   "jp": {"country": "JP", "commodity": "ore", "year": 2024, "tonnes": 30}},
    }  # fmt: skip
    data.update(changes)
    return Scenario.model_validate(data)


@pytest.mark.parametrize("stock", [None, 100])
def test_fast_path_allocates_reexports_as_the_per_sample_path(stock: float | None) -> None:
    stocks = {"jp": {"country": "JP", "commodity": "ore", "year": 2024, "tonnes": stock}} if stock else {}
    sc = reexport_world(stockpiles=stocks)
    fast = run_sweep(sc, samples=40, seed=1, mode="exposure", cache=False, quiet=True)
    slow = run_sweep(sc, samples=40, seed=1, mode="exposure", fast=False, cache=False, quiet=True)
    assert fast.info["fast_path"] == "used"
    assert fast.failures.empty
    assert slow.failures.empty
    np.testing.assert_allclose(fast.values, slow.values, rtol=1e-12, atol=1e-12)
    # samples below 90 t needed step 3b: Japan's ore then comes partly through Germany, still all
    # Chinese when traced (drawing Japan's stock instead would make part of it Japanese)
    cn = fast.inputs["facilities.cn.production[2024]"].to_numpy()
    col = fast.measures.index[fast.measures["country"].eq("JP") & fast.measures["metric"].eq("traced_share")][0]
    assert (cn < 90).sum() >= 3
    np.testing.assert_allclose(fast.values[:, col], 1.0)


def test_fixed_mode_simulates_each_sample_and_checks_targets(world: Scenario) -> None:
    r = run_sweep(world, samples=3, seed=2, mode="fixed", countries=["US"], cache=False, quiet=True)
    assert r.info["model"] == "simulate(mode='fixed') per sample"
    assert "toggles.ban" in r.inputs.columns
    assert {"traced_share", "shortfall_share"} <= set(r.measures["metric"])
    tp = r.target_probability().set_index("year")
    assert tp.loc[2025, "n"] == 3
    assert tp.loc[2025, "probability"] == 0.0  # the toy world is far from a 25 % traced share


def test_one_at_a_time_on_the_engine_ranks_the_china_import_share_first(base_world: Scenario) -> None:
    r = one_at_a_time(base_world, mode="exposure", quiet=True)
    assert r.info["fast_path"] == "used"
    assert "raised" not in r.info  # rows are OAT runs, not samples: only run_sweep reports raised outputs
    rank = r.ranking(metric="direct_import_share", country="US", commodity="ndpr_oxide", year=2024)
    assert rank["parameter"].iloc[0] == "imports.us_oxide.partners.CN"
    assert rank["swing"].iloc[0] == pytest.approx(0.2)  # 0.6 … 0.8 of the imports, one for one
    assert rank["swing"].iloc[1] < 0.1  # demand moves it only through allocated imports


# ------------------------------------------------------------------------ CLI
@pytest.fixture
def world_file(tmp_path: Path) -> Path:
    import yaml

    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(mini_world(), sort_keys=False), encoding="utf-8")
    return path


def cli(*args: str | Path) -> Any:
    from typer.testing import CliRunner

    from supplychain.cli.app import app

    return CliRunner().invoke(app, ["sweep", *map(str, args)])


def test_cli_sweep_prints_summary_writes_output_and_reuses_the_cache(world_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "samples.parquet"
    args = [world_file, "--samples", "40", "--seed", "5", "--mode", "exposure", "--cache-dir", tmp_path / "c",
            "--country", "US", "--output", out, "--quiet"]  # fmt: skip
    first = cli(*args)
    assert first.exit_code == 0, first.output
    assert "40 samples, seed 5, mode exposure" in first.output
    assert "samples/s" in first.output
    assert "traced_share" in first.output
    assert "Probability that each target is met" in first.output
    table = pd.read_parquet(out)
    assert set(table["country"]) == {"US"}
    assert table["sample"].nunique() == 40
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert "from cache" in again.output


def test_cli_tornado(world_file: Path, tmp_path: Path) -> None:
    svg = tmp_path / "tornado.svg"
    res = cli(world_file, "-n", "10", "--mode", "exposure", "--no-cache", "--measure", "direct_import_share",
              "--country", "US", "--commodity", "ndpr_oxide", "--year", "2024", "--tornado", svg, "-q")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert svg.read_text().lstrip().startswith("<?xml")
    assert "imports.us_oxide.partners.CN" in res.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mode", "sideways"], "--mode must be fixed, rebalance or exposure"),
        (["--output", "x.xlsx"], "--output must end in .parquet or .csv"),
        (["--tornado", "t.svg"], "--tornado needs --measure"),
        (["--tornado", "t.gif", "--measure", "traced_share"], "--tornado must end in .svg, .png or .pdf"),
        (["--toggle", "nope=on"], "unknown toggle 'nope'"),
        (["--toggle", "ban"], "malformed toggle 'ban'"),
        (["--param", "zzz*"], "no uncertain parameter matches 'zzz\\*'"),
        (["--executor", "mpi://x"], "unknown executor 'mpi://x'"),
        (["--years", "20x0"], "--years must be years such as 2030"),
    ],
)
def test_cli_user_errors_are_clean_messages(world_file: Path, extra: list[str], message: str) -> None:
    res = cli(world_file, "-n", "2", "--no-cache", "-q", *extra)
    assert res.exit_code == 1
    assert re.search(message, res.output), res.output
    assert "Traceback" not in res.output


def test_cli_missing_file_and_help(tmp_path: Path) -> None:
    res = cli(tmp_path / "nope.yaml", "-q")
    assert res.exit_code == 1
    assert "error:" in res.output
    assert "nope.yaml" in res.output
    helptext = cli("--help")
    assert helptext.exit_code == 0
    assert "supplychain sweep scenarios/" in helptext.output


def test_targets_on_metrics_without_a_source_country_are_found() -> None:
    sc = make_scenario(targets={
        "nir": {"country": "US", "commodity": "ndpr_oxide", "metric": "net_import_reliance", "max": 0.9, "by": 2024},
    })  # fmt: skip

    def nir(s: Scenario) -> pd.DataFrame:
        v = s.flows["cn_us"].tonnes.central / 300
        return pd.DataFrame({"year": [2024], "country": ["US"], "commodity": ["ndpr_oxide"],
                             "metric": ["net_import_reliance"], "source_country": [""], "value": [v]})  # fmt: skip

    r = run_sweep(sc, samples=400, seed=1, model=nir, cache=False, quiet=True)
    tp = r.target_probability().iloc[0]
    assert tp["n"] == 400
    # value = U(100, 300) / 300 ≤ 0.9  ⇔  tonnes ≤ 270: probability 0.85
    assert abs(tp["probability"] - 0.85) < 5 * math.sqrt(0.85 * 0.15 / 400)
    assert bool(tp["central_met"]) is True


def test_a_commissioning_year_is_sampled_in_whole_years() -> None:
    # A new US separation plant of 1,000 t/yr NdPr oxide (5 t of concentrate per t, from the US
    # mine's spare output) commissioned in 2025 or in 2026 (choice). In 2025 it adds 1,000 t of
    # US-separated oxide to the US market when commissioned in 2025 and nothing when in 2026, so
    # the US traced China share of 2025 differs between the two draws and nowhere else.
    data = mini_world()
    data["facilities"]["us_sep"] = {
        "name": "New US separation", "country": "US", "kind": "separation", "process": "separation",
        "capacity": 1000, "utilisation": 1.0,
        "commissioning_year": {"value": 2025, "dist": "choice", "choices": [2025, 2026], "assumption": "test"}}
    scenario = Scenario.model_validate(data)
    assert "facilities.us_sep.commissioning_year" in find_parameters(scenario).names
    r = run_sweep(scenario, samples=12, seed=5, mode="exposure", years=[2025], countries=["US"],
                  measures=["traced_share"], parameters=["facilities.us_sep.*"], cache=False, quiet=True)
    assert r.info["model"] == "compute_measures per sample"  # a later year: the per-sample path
    year = r.inputs["facilities.us_sep.commissioning_year"]
    assert set(year) == {2025.0, 2026.0}
    share = r.measure(metric="traced_share", country="US", commodity="ndpr_oxide", year=2025)
    early, late = share[year == 2025.0], share[year == 2026.0]
    assert early.nunique() == 1  # the only sampled input
    assert late.nunique() == 1
    assert float(early.iloc[0]) < float(late.iloc[0]) - 1e-6  # US-separated oxide dilutes the Chinese share


def test_a_sampled_year_is_rounded_to_the_nearest_whole_year() -> None:
    # A triangular lead time samples non-whole values; the facility reads floor(x + 0.5).
    from supplychain.schema.model import Facility
    from supplychain.uncertainty.sampling import apply

    data = mini_world()
    data["facilities"]["us_sep"] = {
        "name": "New US separation", "country": "US", "kind": "separation", "process": "separation",
        "capacity": 1000, "utilisation": 1.0, "commissioning_year": 2025,
        "ramp_up_years": {"value": 1, "dist": "triangular", "low": 0, "mode": 1, "high": 2, "assumption": "test"}}
    scenario = Scenario.model_validate(data)
    patched = apply(scenario, {"facilities.us_sep.ramp_up_years": 1.49})
    f: Facility = patched.facilities["us_sep"]
    assert f.ramp_years == 1
    assert apply(scenario, {"facilities.us_sep.ramp_up_years": 1.5}).facilities["us_sep"].ramp_years == 2


SMALL = Path(__file__).resolve().parent / "data" / "cli" / "small.yaml"


@pytest.mark.parametrize("narrow", [{}, {"measures": ["traced_share"], "countries": ["JP"]}], ids=["default", "narrow"])
def test_every_target_gets_its_probability_however_the_sweep_is_narrowed(narrow: dict[str, Any]) -> None:
    # small.yaml's target us_ndpr_25 reads the US exposed share of NdPr oxide (≤ 25 % by 2030).
    # Under China's ban (from September 2025) `fixed` cuts CN's 2,000 t to the US and nothing
    # re-routes: the US gets MY's 1,000 t (from Australian ore, 0 % China) of its 3,000 t.
    # exposed share = (traced × delivered + unmet) / demand = (0 × 1,000 + 2,000) / 3,000 = 2/3 in
    # 2030 > 25 %: the target fails in every sample (the file has no uncertain input).
    # The default measures (SWEEP_METRICS) do not include exposed_share and the narrowed sweep
    # keeps only JP's traced share: the target's own rows are kept all the same.
    from supplychain.io import load

    r = run_sweep(load(SMALL), samples=2, seed=1, mode="fixed", cache=False, quiet=True, **narrow)
    exposed = r.measure(year=2030, country="US", commodity="ndpr", metric="exposed_share").to_numpy()
    np.testing.assert_allclose(exposed, [2 / 3, 2 / 3], rtol=1e-12)
    tp = r.target_probability().set_index("year")
    assert tp.loc[2030, "probability"] == 0.0
    assert bool(tp.loc[2030, "central_met"]) is False
    assert tp.loc[2030, "n"] == 2
    if narrow:
        kept = r.measures[["metric", "country"]].drop_duplicates()
        assert set(map(tuple, kept.to_numpy())) == {("traced_share", "JP"), ("exposed_share", "US")}


def test_sweep_command_opens_with_the_targets_measures_and_their_probability() -> None:
    # The same sweep as above from the command line: the first table holds the target's
    # country and commodity (US NdPr oxide) in the year it is checked (2030) only, the
    # second each target's probability in that year (the exposed share 2/3 > 25 %: 0 %).
    from typer.testing import CliRunner

    from supplychain.cli.app import app

    result = CliRunner().invoke(app, ["sweep", str(SMALL), "-n", "2", "--mode", "fixed", "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    first, second = result.output.split("Probability that each target is met")
    body = [line for line in first.splitlines() if line.startswith("│")]
    assert body
    assert all(" 2030 " in line and " US " in line and " ndpr " in line for line in body)
    assert any("exposed_share" in line and " 67% " in line for line in body)
    rows = [line for line in second.splitlines() if line.startswith("│")]
    assert len(rows) == 1
    assert all(f" {cell} " in rows[0] for cell in ("us_ndpr_25", "2030", "0%"))


def test_sweep_command_without_targets_opens_with_the_us_final_uses(tmp_path: Path) -> None:
    # small.yaml without its target: the US is the default focus and NdPr oxide its one final use,
    # so the summary shows that pair's measures in the last year (2030) and nothing else.
    from typer.testing import CliRunner

    from supplychain.cli.app import app

    text = SMALL.read_text(encoding="utf-8")
    path = tmp_path / "no_targets.yaml"
    path.write_text(text[: text.index("targets:")], encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", str(path), "-n", "2", "--mode", "fixed", "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    assert "the final uses of US (no targets) in 2030" in result.output
    body = [line for line in result.output.splitlines() if line.startswith("│")]
    assert body
    assert all(" 2030 " in line and " US " in line and " ndpr " in line for line in body)
    assert any("shortfall_share" in line and " 67% " in line for line in body)  # 2,000 of 3,000 t unmet


def test_the_summary_says_where_the_central_run_falls_among_the_samples() -> None:
    from supplychain.uncertainty.result import SweepResult

    # Measure a: central 0.3; samples 0.1, 0.3, 0.5, 0.7 → one below, one tied (half), two above:
    # (1 + 0.5) / 4 = 0.375. Measure b: central 0.9 above every sample (one NaN, left out) → 3/3 = 1.
    # Measure c: no central value → NaN.
    measures = pd.DataFrame({"year": [2030] * 3, "country": ["US"] * 3, "commodity": ["x"] * 3,
                             "metric": ["traced_share", "shortfall_share", "exposed_share"], "unit": ["share"] * 3,
                             "central": [0.3, 0.9, np.nan]})
    values = np.array([[0.1, 0.2, 0.1], [0.3, np.nan, 0.2], [0.5, 0.4, 0.3], [0.7, 0.6, 0.4]])
    result = SweepResult(pd.DataFrame(index=pd.RangeIndex(4, name="sample")), measures, values, pd.DataFrame())
    rank = result.summary()["central_rank"].tolist()
    assert rank[:2] == pytest.approx([0.375, 1.0])
    assert math.isnan(rank[2])
