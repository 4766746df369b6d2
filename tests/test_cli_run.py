"""End-to-end tests of ``supplychain run`` and ``supplychain compare`` (subprocess, like a user)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "cli"


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supplychain", *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_run_json_has_metric_records() -> None:
    proc = cli("run", DATA / "small.yaml", "--format", "json", "--year", "2024", "--year", "2026")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["years"] == [2024, 2026]
    assert doc["metrics"], "no metric records"
    for key in ("country", "commodity", "stage", "year", "metric", "value"):
        assert key in doc["metrics"][0]
    us = [r for r in doc["metrics"] if r["country"] == "US" and r["metric"] == "traced_share"
          and r["commodity"] == "ndpr" and r["year"] == 2024 and not r.get("partner")]  # fmt: skip
    # 2024: the US gets 2,000 t of NdPr oxide from China and 1,000 t from Malaysia,
    # whose separation plant runs on Australian concentrate (traced share 0), and makes
    # none itself -> traced share = (2000*1 + 1000*0) / 3000 = 2/3.
    assert us
    assert us[0]["value"] == pytest.approx(2 / 3)
    assert {r["year"] for r in doc["metrics"]} == {2024, 2026}


def test_run_table_prints_targets_and_headline() -> None:
    proc = cli("run", DATA / "small.yaml", "--year", "2030")
    assert proc.returncode == 0, proc.stderr
    assert "traced_share" in proc.stdout
    assert "us_ndpr_25" in proc.stdout


def test_run_json_has_the_response_tables() -> None:
    """``run --format json`` holds what the response did: shortfall, re-routed flows, gainers, plants, solver.

    Hand-worked for 2026 (the ban from 1 Sep 2025 is in force all year). Trade keeps the 2024
    pattern (same volumes): China 2,000 t to the US, Malaysia 1,000 t each to the US and Japan.
    China's 2,000 t are blocked; outside China only Malaysia makes NdPr oxide, 2,000 t at
    capacity, all still delivered, against 3,000 + 1,000 t of US and Japanese demand: 2,000 t
    short in all. Under ``contracts_first`` (the default) nobody is worse off than under
    ``fixed`` and no tonne is freed, so the US keeps its 1,000 t (2,000 t short) and Japan its
    1,000 t. China's own 8,000 t are met from its 10,000 t plant.
    """
    proc = cli("run", DATA / "small.yaml", "--format", "json", "--year", "2026")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    short = [r for r in doc["shortfall"] if r["year"] == 2026]
    assert sum(r["shortfall"] for r in short) == pytest.approx(2000.0)
    assert {r["country"]: r["shortfall"] for r in short if r["shortfall"] > 0} == {"US": pytest.approx(2000.0)}
    assert doc["allocation"] == "contracts_first"
    flows = doc["flows"]
    assert flows, "no re-routed flow"
    assert {r["status"] for r in flows} <= {"blocked", "reduced", "rerouted", "new", "deal"}
    assert all(r["year"] == 2026 for r in flows)
    blocked = {(r["supplier"], r["buyer"]): r["change"] for r in flows if r["status"] == "blocked"}
    assert blocked == {("CN:ndpr", "US:ndpr"): pytest.approx(-2000.0)}
    plants = {r["facility"]: r for r in doc["utilisation"]}
    assert set(plants) == {"cn_mine", "au_mine", "cn_sep", "my_sep"}
    assert plants["my_sep"]["output"] == pytest.approx(2000.0)
    assert plants["my_sep"]["utilisation"] == pytest.approx(1.0)
    assert "gainers" in doc
    assert doc["stocks"] == []
    # the solver of every simulated year (2024-2026): the base year from scratch, the others warm
    assert [(r["year"], r["warm"]) for r in doc["solver"]] == [(2024, False), (2025, True), (2026, True)]
    # the allocation-rule range of the text's line: the US is 2,000/3,000 short under contracts_first; under
    # the other rules Malaysia's 2,000 t go to 4,000 t of US and Japanese demand alike (Malaysia has no users
    # of its own to keep them for under home_first): 50 % each, the US 1,500 t short. Every rule delivers the
    # same 10,000 t worldwide: China's 8,000 t plus Malaysia's 2,000 t.
    (rules,) = doc["allocation_rules"]
    assert (rules["country"], rules["commodity"], rules["year"], rules["unit"], rules["rule"]) == (
        "US", "ndpr", 2026, "t REO", "contracts_first")
    assert {r["rule"]: r["shortfall_share"] for r in rules["rules"]} == {
        "contracts_first": pytest.approx(2 / 3), "home_first": pytest.approx(0.5),
        "proportional": pytest.approx(0.5), "max_delivery": pytest.approx(0.5)}
    assert [r["delivered"] for r in rules["rules"]] == [pytest.approx(10000.0)] * 4
    assert rules["same_total"] is True
    assert rules["text"].startswith("50% under the other allocation rules (home_first, proportional, max_delivery)")
    table = cli("run", DATA / "small.yaml", "--year", "2026")
    assert f"US ndpr 67% short in 2026 under contracts_first; {rules['text']} (docs/rebalance.md" in table.stdout
    fixed = cli("run", DATA / "small.yaml", "--format", "json", "--year", "2026", "--mode", "fixed")
    assert json.loads(fixed.stdout)["allocation_rules"] == []


def test_run_table_prints_the_response() -> None:
    proc = cli("run", DATA / "small.yaml", "--year", "2026")
    assert proc.returncode == 0, proc.stderr
    for title in ("Unmet demand", "Flows changed by the response", "Re-routing LP: 2024 from scratch"):
        assert title in proc.stdout
    assert "Suppliers whose exports grew: no supplier's exports grew in 2026." in proc.stdout
    fixed = cli("run", DATA / "small.yaml", "--year", "2026", "--mode", "fixed")
    assert fixed.returncode == 0, fixed.stderr
    assert "Unmet demand" in fixed.stdout
    assert "Re-routing LP" not in fixed.stdout  # nothing solved


def test_check_targets_exits_3_when_missed(tmp_path: Path) -> None:
    # With the ban off, the US keeps importing all its NdPr oxide from China: traced
    # share 1 > 0.25 in 2030, so the target fails and --check-targets exits 3.
    proc = cli("run", DATA / "small.yaml", "--toggle", "china_ban=off", "--check-targets", "--format", "csv",
               "--output", tmp_path / "m.csv")  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "missed" in proc.stderr
    assert (tmp_path / "m.csv").read_text().startswith("year") or "metric" in (tmp_path / "m.csv").read_text()


def test_run_without_check_targets_exits_0_when_missed() -> None:
    proc = cli("run", DATA / "small.yaml", "--toggle", "china_ban=off", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert "traced_share" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--toggle", "china_bann=on"], r"<cli>: --toggle\.china_bann: unknown toggle 'china_bann'\n"
                                        r"\s+hint: did you mean 'china_ban'"),
        (["--variant", "nope", "--toggle", "x=on"],
         r"2 problems found:\n<cli>: --toggle\.x: unknown toggle 'x'[\s\S]*<cli>: --variant\.nope: unknown variant"),
        (["--toggle", "china_ban=maybe"], r"china_ban=maybe"),
        (["--year", "1999"], r"--year 1999 is outside"),
        (["--format", "xml"], r"--format must be one of"),
        (["--mode", "magic"], r"--mode must be fixed or rebalance"),
        (["--objective", "fastest"], r"--objective must be lexicographic or weighted"),
        (["--blocks", "-1"], r"--blocks must be 0 \(one LP\), 1 \(block by block\) or the number of threads"),
    ],
)
def test_run_user_errors_are_clean(args: list[str], message: str) -> None:
    proc = cli("run", DATA / "small.yaml", *args)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    import re

    assert re.search(message, proc.stderr), proc.stderr


def test_run_blocks_and_objective_options_reach_the_solver() -> None:
    # --blocks solves the LP chain by chain (same optima as one LP: every measure equal);
    # the weighted objective solves once with weights, and on this small world (no costs,
    # no stocks, shortfall the only trade-off) gives the same shortfall share.
    def measures(*extra: str) -> dict[tuple[str, ...], float]:
        proc = cli("run", DATA / "small.yaml", "--format", "json", "--year", "2026", *extra)
        assert proc.returncode == 0, proc.stderr
        return {(r["country"], r["commodity"], r["metric"], str(r.get("partner") or "")): r["value"]
                for r in json.loads(proc.stdout)["metrics"]}

    one_lp = measures()
    for extra in (["--blocks", "1"], ["--blocks", "2"]):
        got = measures(*extra)
        assert got.keys() == one_lp.keys()
        for k, v in one_lp.items():  # null: a share of nothing (n/a), the same in both
            assert got[k] == (None if v is None else pytest.approx(v, rel=1e-7, abs=1e-9)), (extra, k)
    weighted = measures("--objective", "weighted")
    short = {k: v for k, v in one_lp.items() if k[2] == "shortfall_share"}
    assert short
    assert {k: weighted[k] for k in short} == pytest.approx(short, abs=1e-9)


def test_run_missing_file_is_clean(tmp_path: Path) -> None:
    proc = cli("run", tmp_path / "nope.yaml")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "nope.yaml" in proc.stderr


def test_compare_prints_variants_side_by_side(tmp_path: Path) -> None:
    proc = cli("compare", DATA / "small.yaml", "--year", "2030", "--output", tmp_path / "c.csv")
    assert proc.returncode == 0, proc.stderr
    assert "no_ban" in proc.stdout
    assert "base" in proc.stdout
    text = (tmp_path / "c.csv").read_text()
    assert text.splitlines()[0] == "scenario,mode,allocation,source,variant,year,country,commodity,metric,kind,value"


def test_compare_accepts_blocks_and_objective() -> None:
    plain = cli("compare", DATA / "small.yaml", "--year", "2030")
    blocks = cli("compare", DATA / "small.yaml", "--year", "2030", "--blocks", "2", "--objective", "lexicographic")
    assert blocks.returncode == 0, blocks.stderr
    assert blocks.stdout == plain.stdout  # the same table: same optima, rounded for print
    # the weighted objective is approximate (it may leave more demand unmet): both titles say so
    for command in ("compare", "run"):
        weighted = cli(command, DATA / "small.yaml", "--year", "2030", "--objective", "weighted")
        assert weighted.returncode == 0, weighted.stderr
        assert "objective weighted: approximate" in " ".join(weighted.stdout.split()), command
        assert "objective weighted" not in plain.stdout


def test_compare_grid_runs_every_combination() -> None:
    proc = cli("compare", DATA / "small.yaml", "--grid", "china_ban", "--year", "2030")
    assert proc.returncode == 0, proc.stderr
    assert "china_ban=on" in proc.stdout
    assert "china_ban=off" in proc.stdout


def test_compare_names_unknown_grid_toggles_and_variants_at_their_option() -> None:
    proc = cli("compare", DATA / "small.yaml", "--grid", "china_bann")
    assert proc.returncode == 1
    assert "<cli>: --grid.china_bann: unknown toggle 'china_bann'" in proc.stderr
    assert "did you mean 'china_ban'" in proc.stderr
    proc = cli("compare", DATA / "small.yaml", "--variant", "base", "--variant", "nope")
    assert proc.returncode == 1
    assert "<cli>: --variant.nope: unknown variant 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_run_reads_the_ranked_split_without_the_importer() -> None:
    """``run`` of a scenario with starred (ranked-source) shares imports neither the USGS importer nor the report.

    baseline_2024's US germanium and gallium are on a ranked-source split: the star and its
    note are read from the scenario's records (``schema.assumptions``) and the note's text from
    ``report.numbers``; importing the importer package or the report's answers (networkx, via
    its limits) cost ``run`` ~0.15 s over the import floor (issue 23).
    """
    root = Path(__file__).resolve().parent.parent
    code = ("import sys\nfrom supplychain.cli.app import app\n"
            f"sys.argv = ['supplychain', 'run', {str(root / 'scenarios' / 'baseline_2024.yaml')!r}]\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('supplychain.importers.usgs_mcs', 'supplychain.report.answers',"
            " 'supplychain.minerals') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "germanium*" in proc.stdout  # the star is there
    assert "LOADED []" in proc.stdout


def test_the_console_script_imports_only_the_command_it_runs() -> None:
    """``supplychain run …`` (:func:`supplychain.cli.main`) makes the application of ``run`` alone (issue 23).

    The other commands' modules are not imported, and ``run --help`` reads as in the application
    of every command (:data:`supplychain.cli.app.app`).
    """
    root = Path(__file__).resolve().parent.parent
    others = sorted(f"supplychain.cli.{m}" for m in ("compare", "sweep", "report", "graph", "atlas", "validate",
                                                     "schema", "importers"))
    code = ("import sys\nfrom supplychain.cli import main\n"
            f"sys.argv = ['supplychain', 'run', {str(root / 'scenarios' / 'baseline_2024.yaml')!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', [m for m in {others!r} if m in sys.modules])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "germanium*" in proc.stdout
    assert "LOADED []" in proc.stdout
    helps = [subprocess.run([sys.executable, "-c", f"import sys\nsys.argv = ['supplychain', 'run', '--help']\n{run}"],
                            capture_output=True, text=True, check=False).stdout
             for run in ("from supplychain.cli import main\nmain()",
                         "from supplychain.cli.app import app\napp(prog_name='supplychain')")]
    assert "Usage: supplychain run [OPTIONS]" in helps[0]
    assert helps[0] == helps[1]
