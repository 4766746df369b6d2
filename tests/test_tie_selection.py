"""A sweep's parameter selection (``parameters=`` / ``exclude=``, ``--param``) takes a tie whole.

A tie is one fact drawn once for all its members. Split by a selection, one member is drawn while
another stays at its central value: two versions of the fact in one sample. Hand-worked world
(2024, ``exposure`` mode, no stock, no other supply of concentrate anywhere):

* Malaysia's mine (capacity 2,000 t) runs at utilisation ``U ~ uniform(0.25, 0.75)`` (central 0.5)
  and exports all of it to the US: ``T ~ uniform(500, 1500)`` t (central 1,000), the two tied
  (``my_output``). One shared ``u`` gives ``U = 0.25 + 0.5 u`` and ``T = 500 + 1000 u``, so the
  mine makes ``2000 U = 500 + 1000 u = T``: every sample balances.
* Split, ``T`` central (1,000 t) and ``U`` drawn: the mine makes ``2000 U`` < 1,000 t whenever
  ``U < 0.5`` (``u < 1/2``), and Malaysia's concentrate market is short with nothing to cover it: about
  half the samples fail (10 of 20 at seed 3 on main, either way round: ``T`` drawn above 1,000 t with
  ``U`` central fails as well).
* An untied Australian flow of another commodity (``ore``, 1,000-3,000 t out of a 3,000 t mine) is
  sampled whatever the selection does to the tie.

Taken whole: excluding ``T`` holds ``U`` at its central value too (both central: 1,000 t made, 1,000 t
sent), and naming ``T`` samples ``U`` with it; ``info["tie_selection"]`` and a line of
``SweepResult.caveats()`` (printed by ``supplychain sweep``) say which members came along.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from typer.testing import CliRunner

from supplychain.cli.app import app
from supplychain.io import load_text
from supplychain.schema.model import Scenario
from supplychain.schema.types import Quantity
from supplychain.uncertainty import run_sweep
from supplychain.uncertainty.sampling import Parameter, SamplingSpec, TieChange
from supplychain.uncertainty.sensitivity import TIE_LABEL, one_at_a_time

REPO = Path(__file__).resolve().parent.parent

WORLD = """scenario: {name: Tied export, base_year: 2024, horizon: 2024, source_country: MY}
commodities:
  conc: {name: Concentrate, stage: ore, basis: t REO}
  ore: {name: Other ore, stage: ore, basis: t}
facilities:
  my_mine:
    {name: MY mine, country: MY, kind: mine, output: conc, capacity: {value: 2000, assumption: illustrative},
     utilisation: {value: 0.5, dist: uniform, low: 0.25, high: 0.75, tie: my_output, assumption: illustrative}}
  au_mine:
    {name: AU mine, country: AU, kind: mine, output: ore, capacity: {value: 3000, assumption: illustrative},
     utilisation: {value: 1, assumption: illustrative}}
flows:
  my_us:
    {supplier: MY, buyer: US, commodity: conc, year: 2024,
     tonnes: {value: 1000, dist: uniform, low: 500, high: 1500, tie: my_output, assumption: illustrative}}
  au_us:
    {supplier: AU, buyer: US, commodity: ore, year: 2024,
     tonnes: {dist: uniform, low: 1000, high: 3000, assumption: illustrative}}
"""
UTIL, TONNES, AU = "facilities.my_mine.utilisation", "flows.my_us.tonnes", "flows.au_us.tonnes"
N, SEED = 20, 3


def world() -> Scenario:
    return load_text(WORLD, "tied_export.yaml")


def test_excluding_one_member_holds_the_whole_tie_at_central_and_no_sample_fails() -> None:
    r = run_sweep(world(), samples=N, seed=SEED, mode="exposure", exclude=["flows.my_us.*"], on_error="nan",
                  cache=False, quiet=True)  # fmt: skip
    assert r.failures.empty  # on main 10 of 20 samples: U drawn below 0.5 with T held at 1,000 t
    assert list(r.inputs.columns) == [AU]  # U and T both at their central values; the untied flow still drawn
    assert r.info["ties"] == {}
    assert r.info["tie_selection"] == [{"tie": "my_output", "action": "dropped", "by": [TONNES], "members": [UTIL]}]
    assert r.caveats()[0] == (
        "A tie is sampled or held whole, never split (one fact, drawn once for all its inputs): tie my_output held "
        f"at its central values (excluded: {TONNES}; held with it: {UTIL}).")


def test_naming_one_member_samples_the_whole_tie_together() -> None:
    r = run_sweep(world(), samples=N, seed=SEED, mode="exposure", parameters=["flows.my_us.*"], on_error="nan",
                  cache=False, quiet=True)  # fmt: skip
    assert r.failures.empty  # on main 10 of 20: T drawn above the 1,000 t the mine makes at U = 0.5
    assert list(r.inputs.columns) == [UTIL, TONNES]  # the untied flow stays central
    # one u: U = 0.25 + 0.5 u, T = 500 + 1000 u, so the mine's 2000 U equals T in every sample
    np.testing.assert_allclose(2000 * r.inputs[UTIL], r.inputs[TONNES], rtol=1e-12)
    assert r.inputs[TONNES].min() < 1000 < r.inputs[TONNES].max()  # both sides of the central value drawn
    assert r.info["ties"] == {"my_output": [UTIL, TONNES]}
    assert r.info["tie_selection"] == [{"tie": "my_output", "action": "added", "by": [TONNES], "members": [UTIL]}]
    assert "tie my_output sampled (selected: flows.my_us.tonnes; sampled with it: " \
           "facilities.my_mine.utilisation)" in r.caveats()[0]
    # drawn as in the full sweep: a tie's draws depend on (seed, tie, sample) alone
    full = run_sweep(world(), samples=N, seed=SEED, mode="exposure", cache=False, quiet=True)
    np.testing.assert_array_equal(full.inputs[[UTIL, TONNES]].to_numpy(), r.inputs.to_numpy())
    assert full.info["tie_selection"] == []
    assert not any(line.startswith("A tie is sampled or held whole") for line in full.caveats())


def test_select_takes_ties_whole_and_excluding_wins() -> None:
    q = Quantity(dist="uniform", low=1, high=3)
    t = q.model_copy(update={"tie": "t"})
    spec = SamplingSpec((Parameter(("a", "x"), "quantity", t), Parameter(("b", "x"), "quantity", q),
                         Parameter(("c", "x"), "quantity", t), Parameter(("c", "y"), "quantity", q)))
    assert spec.select().names == ["a.x", "b.x", "c.x", "c.y"]
    assert spec.select().tie_changes == ()
    named = spec.select(["c.*"])  # c.x brings a.x, its tie-mate; b.x untied stays out
    assert named.names == ["a.x", "c.x", "c.y"]
    assert named.tie_changes == (TieChange("t", "added", ("c.x",), ("a.x",)),)
    dropped = spec.select(exclude=["c.*"])  # c.x excluded holds a.x with it
    assert dropped.names == ["b.x"]
    assert dropped.tie_changes == (TieChange("t", "dropped", ("c.x",), ("a.x",)),)
    # named and excluded: excluding wins, over the whole tie
    both = spec.select(["a.*", "b.*"], exclude=["c.x"])
    assert both.names == ["b.x"]
    assert both.tie_changes == (TieChange("t", "dropped", ("c.x",), ("a.x",)),)
    # the patterns alone already take the tie whole (or leave it whole): nothing to say
    assert spec.select(["a.*", "c.*"]).tie_changes == ()
    assert spec.select(["b.*"]).tie_changes == ()
    assert spec.select(["b.*"], exclude=["c.x"]).tie_changes == ()  # a.x was not chosen either
    assert spec.select(exclude=["a.*", "c.x"]).tie_changes == ()


def test_one_at_a_time_moves_the_whole_tie_when_one_member_is_named() -> None:
    r = one_at_a_time(world(), mode="exposure", parameters=["flows.my_us.*"], quiet=True)
    rank = r.ranking(metric="direct_import_share", country="US", commodity="conc", year=2024)
    assert rank["parameter"].tolist() == [f"{TIE_LABEL}my_output"]
    assert rank["members"].tolist() == [[UTIL, TONNES]]
    assert r.info["tie_selection"] == [{"tie": "my_output", "action": "added", "by": [TONNES], "members": [UTIL]}]


def test_sweep_command_says_which_members_a_tie_brought(tmp_path: Path) -> None:
    path = tmp_path / "tied_export.yaml"
    path.write_text(WORLD, encoding="utf-8")
    out = CliRunner().invoke(app, ["sweep", str(path), "-n", str(N), "-s", str(SEED), "--mode", "exposure",
                                   "--param", "flows.my_us.*", "--no-cache", "-q"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "failed" not in out.output
    text = " ".join(out.output.split())
    assert ("A tie is sampled or held whole, never split (one fact, drawn once for all its inputs): tie my_output "
            f"sampled (selected: {TONNES}; sampled with it: {UTIL}).") in text


def test_bundled_path_to_2030_without_its_processes_has_no_failed_sample() -> None:
    # Excluding processes.* alone holds the Lynas SEGH yield (processes.separation_lynas) at its central 0.1
    # while the feed-limited heavy-RE circuit tied to it (lynas_segh_basis) would be drawn above the 89.2 t of
    # Dy oxide that yield's SEGH carries: on main every sample fails (Malaysia's SEGH market short in 2026-2030).
    r = run_sweep(REPO / "scenarios" / "path_to_2030.yaml", samples=4, seed=7, mode="exposure", years=[2030],
                  countries=["US"], exclude=["processes.*"], on_error="nan", cache=False, quiet=True)  # fmt: skip
    assert r.failures.empty
    (change,) = r.info["tie_selection"]
    assert (change["tie"], change["action"]) == ("lynas_segh_basis", "dropped")
    assert change["by"] == ["processes.separation_lynas.outputs.ree_heavy_compound"]
    assert change["members"] == [f"facilities.lynas_malaysia_hre.production[{y}]" for y in range(2026, 2031)]
    assert not any(c.startswith("facilities.lynas_malaysia_hre.production") for c in r.inputs.columns)


def test_an_exposure_sweep_names_only_the_tied_toggles_it_samples() -> None:
    # A tie of two toggles: `flow_deal` switches a flow (it acts on the unshocked network), `ban_deal` a policy (it
    # does not: an exposure sweep does not sample it). Naming `flow_deal` brings `ban_deal` into a fixed/rebalance
    # sweep, said as such; an exposure sweep samples `flow_deal` alone and says nothing was added.
    from supplychain.uncertainty.montecarlo import sweep_spec

    flow = {"supplier": "CN", "buyer": "US", "commodity": "x", "year": 2024}
    sc = Scenario.model_validate({
        "scenario": {"name": "tied toggles", "base_year": 2024},
        "flows": {"a": {**flow, "tonnes": 10}, "b": {**flow, "supplier": "AU", "tonnes": 5}},
        "policies": {"ban": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["x"]},
                             "start": "2024-06-01"}},
        "toggles": {
            "flow_deal": {"controls": ["b"], "default": False, "probability": 0.5, "tie": "deals"},
            "ban_deal": {"controls": ["ban"], "default": False, "probability": 0.3, "tie": "deals"}},
    })  # fmt: skip
    common: dict[str, Any] = {"toggles": {}, "variant": None, "parameters": ["toggles.flow_deal"], "exclude": ()}
    fixed = sweep_spec(sc, mode="fixed", **common)
    assert fixed.names == ["toggles.ban_deal", "toggles.flow_deal"]
    assert fixed.tie_changes == (TieChange("deals", "added", ("toggles.flow_deal",), ("toggles.ban_deal",)),)
    exposure = sweep_spec(sc, mode="exposure", **common)
    assert exposure.names == ["toggles.flow_deal"]
    assert exposure.tie_changes == ()
    held = sweep_spec(sc, mode="exposure", **{**common, "parameters": None, "exclude": ["toggles.ban_deal"]})
    assert held.names == []  # held whole: flow_deal at its default (off) with ban_deal
    assert held.tie_changes == (TieChange("deals", "dropped", ("toggles.ban_deal",), ("toggles.flow_deal",)),)
    # excluding `flow_deal` holds the tie whole: a fixed sweep says `ban_deal` is held with it; an exposure sweep,
    # which would not have sampled `ban_deal` anyway, names nothing held (review s37, D-10; on main it said
    # "held with it: toggles.ban_deal")
    exclude: dict[str, Any] = {**common, "parameters": None, "exclude": ["toggles.flow_deal"]}
    assert sweep_spec(sc, mode="fixed", **exclude).tie_changes == (
        TieChange("deals", "dropped", ("toggles.flow_deal",), ("toggles.ban_deal",)),)
    alone = sweep_spec(sc, mode="exposure", **exclude)
    assert alone.names == []
    assert alone.tie_changes == ()
