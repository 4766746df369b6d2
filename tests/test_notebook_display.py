"""What a notebook shows: Result and Scenario summaries, inline pictures, a tidy compare (issue 19, item 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import supplychain as sc
from supplychain.api import Result
from supplychain.errors import ScenarioError
from supplychain.report.notebook import Picture, headline_table

SMALL = Path(__file__).parent / "data" / "cli" / "small.yaml"
SCI = re.compile(r"\d[eE][+-]?\d")


@pytest.fixture(scope="module")
def result() -> Result:
    return sc.simulate(SMALL, mode="rebalance")


def test_result_html_shows_the_headline_measures(result: Result) -> None:
    # Small world: the US uses 3,000 t REO of NdPr oxide a year, 2,000 t from China and 1,000 t from Malaysia
    # (fed by Australian concentrate). China's ban (from 2025-09-01) blocks the 2,000 t; Malaysia's plant is at
    # capacity, so nothing replaces them: shortfall 2,000 / 3,000 = 67 % from 2026 (the first full year) to 2030;
    # 2025 loses 4 months: 2,000 × 4/12 = 667 t (22 %). Before the ban the traced China share is 2,000 / 3,000.
    page = result._repr_html_()
    assert "Headline measures" in page
    row = headline_table(result).set_index(["country", "commodity"]).loc[("US", "ndpr")]
    assert row["exposed share 2024"] == "67%"
    assert row["traced China share 2024"] == "67%"
    assert row["traced China share 2030"] == "0%"  # nothing arrives from China…
    assert row["exposed share 2030"] == "67%"  # …but the unmet demand counts as exposed
    assert row["shortfall 2030"] == "67% (2,000 t REO)"
    assert row["peak shortfall"] == "67% in 2026 (2,000 t REO)"
    for text in row:
        assert text in page
    assert "us_ndpr_25" in page
    assert "fail" in page  # 67 % exposed > 25 %
    assert not SCI.search(page)


def test_result_html_escapes_text(result: Result) -> None:
    from dataclasses import replace

    evil = replace(result, scenario="<script>alert(1)</script>")
    page = evil._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_scenario_repr_is_compact() -> None:
    world = sc.load(SMALL)
    text = repr(world)
    assert text.startswith("Scenario(name='Small test world', years=2024–2030")
    assert len(text) < 200
    page = world._repr_html_()
    assert "Small test world" in page
    assert "2024–2030" in page
    assert "no_ban" in page  # the variant
    assert "cn_ban (export_ban, CN)" in page  # the policy
    assert "us_ndpr_25 (US ndpr exposed_share ≤ 25% by 2030)" in page
    assert len(page) < 3000


def test_draw_returns_an_inline_picture(result: Result, tmp_path: Path) -> None:
    pic = result.draw(2026, country="US")
    assert isinstance(pic, Picture)
    assert "ndpr" in pic.source
    svg = pic._repr_svg_()
    assert "<svg" in svg
    assert "blocked" in svg  # China's flow to the US, drawn as blocked against the baseline
    assert pic.save(tmp_path / "net.dot").read_text(encoding="utf-8") == pic.source
    base = result.draw(2024, commodity="ndpr", baseline=True)
    assert "blocked" not in base.source
    with pytest.raises(ScenarioError, match="argument year=: year 2040 was not simulated"):
        result.draw(2040)
    with pytest.raises(ScenarioError, match="no final demand"):
        result.draw(2026, country="AU")


def test_draw_of_a_country_and_a_commodity_is_the_chain_into_its_use(result: Result) -> None:
    """The report's chain picture: only what ends in the US's use of NdPr oxide.

    Small world, 2024: China's and Japan's own NdPr use are drawn with the whole commodity,
    not in the US chain (the Chinese separation plant and Malaysia's, fed by Australia, are).
    """
    whole = result.draw(2024, commodity="ndpr", baseline=True).source
    chain = result.draw(2024, country="US", commodity="ndpr", baseline=True).source
    for node in ('"CN:ndpr:use"', '"JP:ndpr:use"'):
        assert node in whole
        assert node not in chain
    for node in ('"US:ndpr:use"', '"cn_sep"', '"my_sep"', '"au_mine"'):
        assert node in chain
    with pytest.raises(ValueError, match="AU has no use or pool of 'ndpr'"):
        result.draw(2024, country="AU", commodity="ndpr")


def test_compare_is_tidy_and_keeps_solver_work_aside() -> None:
    table = sc.compare(SMALL)
    assert list(table.columns) == ["variant", "year", "country", "commodity", "metric", "value"]
    solver = table.attrs["solver"]
    assert set(solver) == {"base", "no_ban"}
    assert all(v["seconds"] >= 0 and v["iterations"] >= 0 for v in solver.values())


def test_nbconvert_exports_executed_display_to_html(tmp_path: Path) -> None:
    """The dev environment has what `jupyter nbconvert --to html --execute` needs (nbconvert, a kernel)."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import supplychain as sc\nsc.load({str(SMALL)!r})")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "Scenario: Small test world" in html  # the compact summary, not the model dump
    assert "2 commodities, 4 facilities, 4 flows" in html  # counts of tests/data/cli/small.yaml


def test_traced_by_node_colours_the_pictures_by_the_traced_share(result: Result) -> None:
    from supplychain.report import notebook
    from supplychain.report.figures import result_tables, traced_by_node

    # Small world in 2030: the US pool takes 2,000 t REO from China and 1,000 t from Malaysia in the baseline
    # (traced 2,000 / 3,000), nothing from China under the ban (traced 0); China's own pool is all Chinese
    nodes, edges = result_tables(result, 2030)
    before = traced_by_node(None, "CN", nodes, edges, "baseline")
    after = traced_by_node(None, "CN", nodes, edges, "simulated")
    assert before["US:ndpr"] == pytest.approx(2 / 3)
    assert after["US:ndpr"] == pytest.approx(0.0)
    assert before["CN:ndpr"] == after["CN:ndpr"] == pytest.approx(1.0)
    assert before["my_sep"] == 0.0
    # the notebook module's exported name is the same function, imported on use
    assert notebook.traced_by_node(None, "CN", nodes, edges, "baseline").equals(before)
