"""Graphviz pictures: golden DOT text, determinism, folding, diff view and rendering.

Regenerate the golden files after an intended change of the drawing with::

    SUPPLYCHAIN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_report_dot.py
"""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from supplychain.report import dot as dotmod
from supplychain.report.dot import (
    STATUS_STYLES,
    GraphvizNotFoundError,
    RenderError,
    picture_tables,
    render,
    share_bin,
    to_dot,
)

GOLDEN = Path(__file__).parent / "golden"
needs_dot = pytest.mark.needs_dot  # Graphviz `dot` must be installed (`make setup` does it); never skipped

NAMES = {"ore": "REE concentrate", "oxide": "NdPr oxide", "metal": "NdPr metal", "magnet": "NdFeB magnets"}
STAGE = {"ore": "ore", "oxide": "oxide", "metal": "metal", "magnet": "magnet"}


def small_network() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Two chains into US NdPr oxide demand: Australia → Malaysia (0 % China) and China (100 %).

    US pool traced share = (1 000 t × 0 + 2 000 t × 1) / 3 000 t = 2/3.
    """
    nodes = pd.DataFrame(
        [
            ("mt_weld", "facility", "AU", "ore", "Mt Weld", 12000.0),
            ("bayan_obo", "facility", "CN", "ore", "Bayan Obo", 200000.0),
            ("AU:ore", "market", "AU", "ore", "", 0.0),
            ("CN:ore", "market", "CN", "ore", "", 0.0),
            ("lynas_my", "facility", "MY", "oxide", "Lynas Malaysia", 0.0),
            ("cn_sep", "facility", "CN", "oxide", "China separation", 0.0),
            ("MY:oxide", "market", "MY", "oxide", "", 0.0),
            ("CN:oxide", "market", "CN", "oxide", "", 0.0),
            ("US:oxide", "market", "US", "oxide", "", 0.0),
            ("US:oxide:use", "use", "US", "oxide", "", 0.0),
            ("CN:oxide:use", "use", "CN", "oxide", "", 0.0),
        ],
        columns=["node", "kind", "country", "commodity", "name", "primary"],
    )
    nodes["stage"] = nodes["commodity"].map(STAGE)
    edges = pd.DataFrame(
        [
            ("supply.mt_weld.ore", "mt_weld", "AU:ore", "ore", 12000.0),
            ("supply.bayan_obo.ore", "bayan_obo", "CN:ore", "ore", 200000.0),
            ("input.lynas_my.ore", "AU:ore", "lynas_my", "ore", 12000.0),
            ("input.cn_sep.ore", "CN:ore", "cn_sep", "ore", 200000.0),
            ("supply.lynas_my.oxide", "lynas_my", "MY:oxide", "oxide", 1000.0),
            ("supply.cn_sep.oxide", "cn_sep", "CN:oxide", "oxide", 50000.0),
            ("flows.my_us", "MY:oxide", "US:oxide", "oxide", 1000.0),
            ("flows.cn_us", "CN:oxide", "US:oxide", "oxide", 2000.0),
            ("use.US:oxide", "US:oxide", "US:oxide:use", "oxide", 3000.0),
            ("use.CN:oxide", "CN:oxide", "CN:oxide:use", "oxide", 48000.0),
        ],
        columns=["edge", "supplier", "buyer", "commodity", "tonnes"],
    )
    traced = pd.Series(
        {
            "mt_weld": 0.0, "bayan_obo": 1.0, "AU:ore": 0.0, "CN:ore": 1.0, "lynas_my": 0.0, "cn_sep": 1.0,
            "MY:oxide": 0.0, "CN:oxide": 1.0, "US:oxide": 2 / 3, "US:oxide:use": 2 / 3, "CN:oxide:use": 1.0,
        }
    )  # fmt: skip
    return nodes, edges, traced


def banned_flows(edges: pd.DataFrame) -> pd.DataFrame:
    """``Result.flows``-like table: China → US blocked, Malaysia → US raised by a deal."""
    flows = edges.rename(columns={"tonnes": "baseline_t"})
    flows["simulated_t"] = flows["baseline_t"]
    flows["status"] = "normal"
    flows.loc[flows["edge"] == "flows.cn_us", ["simulated_t", "status"]] = [0.0, "blocked"]
    flows.loc[flows["edge"] == "flows.my_us", ["simulated_t", "status"]] = [1800.0, "deal"]
    flows.loc[flows["edge"] == "use.US:oxide", ["simulated_t", "status"]] = [1800.0, "reduced"]
    return flows


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SUPPLYCHAIN_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"DOT text differs from {path}; rerun with SUPPLYCHAIN_UPDATE_GOLDEN=1 if intended"


# ------------------------------------------------------------------------ golden
def test_golden_small_network() -> None:
    nodes, edges, traced = small_network()
    dot = to_dot((nodes, edges), traced=traced, title="Small network", year=2024, names=NAMES, source="China")
    _check_golden("small_network.dot", dot.source)


def test_golden_diff_from_result_flows() -> None:
    nodes, edges, traced = small_network()
    after = traced.copy()
    after[["US:oxide", "US:oxide:use"]] = 0.0
    dot = to_dot(
        (nodes, banned_flows(edges)), traced=after, compare_traced=traced, title="Ban", year=2026, names=NAMES,
        source="China",
    )
    _check_golden("small_diff.dot", dot.source)


def test_final_use_short_of_the_baseline_is_not_shaded_as_safe() -> None:
    # the ban cuts US oxide use from 3.0k t to 1.8k t: 1 − 1.8/3.0 = 40 % short; its traced share of what
    # still arrives is 0 %, which must not read as the scale's "0–5 %" (pale yellow)
    nodes, edges, traced = small_network()
    after = traced.copy()
    after[["US:oxide", "US:oxide:use"]] = 0.0
    dot = to_dot((nodes, banned_flows(edges)), traced=after, compare_traced=traced, title="Ban", year=2026)
    line = next(x for x in dot.source.splitlines() if x.strip().startswith('"US:oxide:use" ['))
    assert 'fillcolor="#e0e0e0"' in line
    assert 'color="#b42318"' in line
    assert "40% short of the baseline" in line
    assert "final use short of the baseline" in dot.source, "the key says what the grey box means"
    plain = to_dot((nodes, edges), traced=traced, title="t", year=2024).source
    assert "short of the baseline" not in plain, "no such box or key outside a diff view"


def test_source_does_not_depend_on_row_order_or_input_kind() -> None:
    nodes, edges, traced = small_network()
    a = to_dot((nodes, edges), traced=traced, title="t", year=2024).source
    b = to_dot(
        (nodes.sample(frac=1, random_state=1), edges.sample(frac=1, random_state=2)),
        traced=traced.sample(frac=1, random_state=3),
        title="t",
        year=2024,
    ).source
    g = nx.MultiDiGraph()
    for row in nodes.to_dict("records"):
        g.add_node(row["node"], **row)
    for row in edges.to_dict("records"):
        g.add_edge(row["supplier"], row["buyer"], key=row["edge"], **row)
    c = to_dot(g, traced=traced, title="t", year=2024).source
    assert a == b == c


# ------------------------------------------------------------------ drawing rules
def test_stages_are_ordered_columns() -> None:
    nodes, edges, traced = small_network()
    src = to_dot((nodes, edges), traced=traced, title="t").source
    clusters = re.findall(r'subgraph "cluster_(\w+)"', src)
    assert clusters == ["ore", "oxide", "use"]
    ranks = re.findall(r"\{rank=same; \"(__col_\d+_\d+)\"; ([^}]*)\}", src)
    cols = dict(ranks)
    assert '"mt_weld"' in cols["__col_0_0"]
    assert '"AU:ore"' in cols["__col_0_1"]
    assert '"US:oxide"' in cols["__col_1_2"], "the importing pool sits right of the exporting pools"
    assert '"US:oxide:use"' in cols["__col_5_0"]


def test_colour_bins_and_pen_widths() -> None:
    nodes, edges, traced = small_network()
    src = to_dot((nodes, edges), traced=traced, title="t", source="China").source
    china = share_bin(1.0)
    clean = share_bin(0.0)
    assert china is not None
    assert clean is not None
    assert re.search(rf'"cn_sep" \[[^\]]*fillcolor="{china.fill}"', src)
    assert re.search(rf'"lynas_my" \[[^\]]*fillcolor="{clean.fill}"', src)
    widths = {
        m[0]: float(m[1]) for m in re.findall(r'"(\S+)" -> "\S+" \[[^\]]*penwidth=([\d.]+)', src)
    }
    assert widths["bayan_obo"] == 8.0  # the largest flow
    assert widths["MY:oxide"] < widths["CN:oxide"] < widths["bayan_obo"]
    assert "67% China" in src  # US pool: 2/3 traced, see small_network


def test_diff_view_styles() -> None:
    nodes, edges, traced = small_network()
    src = to_dot((nodes, banned_flows(edges)), traced=traced, title="t").source
    blocked = STATUS_STYLES["blocked"]
    line = next(ln for ln in src.splitlines() if '"CN:oxide" -> "US:oxide"' in ln)
    assert f'color="{blocked.color}"' in line
    assert 'style="dashed"' in line
    assert "blocked · 2.0k t" in line
    line = next(ln for ln in src.splitlines() if '"MY:oxide" -> "US:oxide"' in ln)
    assert f'color="{STATUS_STYLES["deal"].color}"' in line
    assert 'style="bold"' in line
    assert "deal · 1.8k t" in line
    line = next(ln for ln in src.splitlines() if '"US:oxide" -> "US:oxide:use"' in ln)
    assert "3.0k → 1.8k t" in line
    assert "changes against the baseline" in src


def test_changed_reads_the_flows_the_picture_draws() -> None:
    """``PictureTables.changed`` decides from the flows what the picture's subtitle then says."""
    nodes, edges, traced = small_network()
    ban = banned_flows(edges)  # China → US oxide blocked, Malaysia → US raised by a deal
    # only Mt Weld's output reduced: a plant → its own pool flow, which folding into the AU pool hides
    mt_weld = ban.assign(simulated_t=ban["baseline_t"], status="normal")
    mt_weld.loc[mt_weld["edge"] == "supply.mt_weld.ore", ["simulated_t", "status"]] = [11000.0, "reduced"]
    cases = [
        (ban, {}, True),
        (ban, {"chain_of": ("CN", "oxide")}, False),  # the blocked flow ends in US use, not China's
        (ban.assign(simulated_t=ban["baseline_t"], status="normal"), {}, False),
        (mt_weld, {}, True),
        (mt_weld, {"max_nodes": 7, "focus_countries": ["US"]}, False),
    ]
    for flows, kw, expected in cases:
        assert picture_tables((nodes, flows), **kw).changed is expected, kw
        src = to_dot((nodes, flows), traced=traced, title="t", **kw).source
        assert "changes against the baseline" in src, kw
        assert ("no flow changes against" not in src) is expected, kw


def test_compare_to_derives_status_from_tonnes() -> None:
    nodes, edges, traced = small_network()
    after = edges.copy()
    after.loc[after["edge"] == "flows.cn_us", "tonnes"] = 0.0
    after.loc[after["edge"] == "flows.my_us", "tonnes"] = 500.0
    after = pd.concat(
        [after, pd.DataFrame([{"edge": "flows.au_us", "supplier": "AU:ore", "buyer": "US:oxide",
                               "commodity": "ore", "tonnes": 10.0}])],
        ignore_index=True,
    )  # fmt: skip
    src = to_dot((nodes, after), compare_to=(nodes, edges), traced=traced, title="t").source
    lines = {ln.split(" [")[0].strip(): ln for ln in src.splitlines() if " -> " in ln}
    assert 'style="dashed"' in lines['"CN:oxide" -> "US:oxide"']
    assert STATUS_STYLES["reduced"].color in lines['"MY:oxide" -> "US:oxide"']
    assert "new · 10 t" in lines['"AU:ore" -> "US:oxide"']


def test_folding_respects_max_nodes_and_focus() -> None:
    nodes, edges, traced = small_network()
    src = to_dot((nodes, edges), traced=traced, title="t", max_nodes=7, focus_countries=["US"]).source
    drawn = set(re.findall(r'^\t\t"([^"_][^"]*)" \[', src, flags=re.M))
    assert len(drawn) <= 7
    assert {"US:oxide", "US:oxide:use"} <= drawn
    assert "mt_weld" not in drawn, "plants fold into their country's pool"
    assert "AU:ore" in drawn
    assert "incl. Mt Weld" in src
    assert "Folded for legibility" in src


def test_large_nodes_are_never_folded_into_other() -> None:
    nodes, edges, traced = small_network()
    src = to_dot((nodes, edges), traced=traced, title="t", max_nodes=4).source
    drawn = set(re.findall(r'^\t\t"([^"_][^"]*)" \[', src, flags=re.M))
    assert {"CN:ore", "CN:oxide", "CN:oxide:use"} <= drawn, "max_nodes is a target, not a reason to hide China"


def test_folding_into_other() -> None:
    nodes, edges, traced = small_network()
    # ten small Australian-style suppliers into the US pool
    extra_nodes, extra_edges = [], []
    for i in range(10):
        c = f"X{i}"
        extra_nodes.append({"node": f"{c}:oxide", "kind": "market", "country": c, "commodity": "oxide",
                            "stage": "oxide", "name": "", "primary": 10.0})
        extra_edges.append({"edge": f"flows.{c}", "supplier": f"{c}:oxide", "buyer": "US:oxide",
                            "commodity": "oxide", "tonnes": 10.0})  # fmt: skip
    n2 = pd.concat([nodes, pd.DataFrame(extra_nodes)], ignore_index=True)
    e2 = pd.concat([edges, pd.DataFrame(extra_edges)], ignore_index=True)
    src = to_dot((n2, e2), traced=traced, title="t", max_nodes=12).source
    assert '"other:market:oxide:oxide"' in src
    assert "Other · oxide" in src
    assert "10 countries" in src
    drawn = set(re.findall(r'^\t\t"([^"_][^"]*)" \[', src, flags=re.M))
    assert len(drawn) <= 12


def test_folding_does_not_depend_on_round_off() -> None:
    """Two equal importers, one of them larger by four units in the last place: the same picture.

    AA and ZZ each take 2,000 t of Malaysian oxide (40 % of Malaysia's 5,000 t: too large for
    the share-based fold) and ~1 % of the oxide tonnes, so with ``max_nodes=8`` the last
    step folds them, smallest first, into one "Other" node. Their sizes tie; which one the
    LP's round-off makes larger must not decide the order (or the membership) of the fold.
    """
    nodes, edges, traced = small_network()
    extra = pd.DataFrame([(f"{c}:oxide", "market", c, "oxide", "", 0.0) for c in ("AA", "ZZ")],
                         columns=["node", "kind", "country", "commodity", "name", "primary"])  # fmt: skip
    extra["stage"] = extra["commodity"].map(STAGE)
    n2 = pd.concat([nodes, extra], ignore_index=True)
    tr = pd.concat([traced, pd.Series({"AA:oxide": 0.0, "ZZ:oxide": 0.0})])
    bumped = 2000.0 * (1 + 4e-16)
    assert bumped != 2000.0

    def picture(t_aa: float, t_zz: float) -> str:
        more = pd.DataFrame([("flows.my_aa", "MY:oxide", "AA:oxide", "oxide", t_aa),
                             ("flows.my_zz", "MY:oxide", "ZZ:oxide", "oxide", t_zz)],
                            columns=["edge", "supplier", "buyer", "commodity", "tonnes"])  # fmt: skip
        e2 = pd.concat([edges, more], ignore_index=True)
        return to_dot((n2, e2), traced=tr, title="t", max_nodes=8).source

    src = picture(2000.0, bumped)
    assert "includes: AA:oxide, ZZ:oxide" in src
    assert picture(bumped, 2000.0) == src


def test_commodity_filter() -> None:
    nodes, edges, traced = small_network()
    extra = pd.DataFrame([{"node": "JP:magnet", "kind": "market", "country": "JP", "commodity": "magnet",
                           "stage": "magnet", "name": "", "primary": 5.0}])  # fmt: skip
    src = to_dot((pd.concat([nodes, extra]), edges), traced=traced, title="t", commodity="ore").source
    assert '"JP:magnet"' not in src
    assert '"US:oxide:use"' in src  # downstream of ore
    with pytest.raises(ValueError, match=r"commodity 'lead' is not in the graph; it has: magnet, ore, oxide"):
        to_dot((pd.concat([nodes, extra]), edges), traced=traced, title="t", commodity="lead")


def test_input_errors() -> None:
    nodes, edges, traced = small_network()
    with pytest.raises(TypeError, match="expected a networkx graph or a"):
        to_dot([nodes, edges], traced=traced, title="t")
    with pytest.raises(ValueError, match="no tonnes column"):
        to_dot((nodes, edges.drop(columns="tonnes")), traced=traced, title="t")
    with pytest.raises(ValueError, match="max_nodes must be at least 4"):
        to_dot((nodes, edges), traced=traced, title="t", max_nodes=2)


def test_nodes_without_flows_are_not_drawn() -> None:
    nodes, edges, traced = small_network()
    extra = pd.DataFrame([{"node": "future_plant", "kind": "facility", "country": "AU", "commodity": "oxide",
                           "stage": "oxide", "name": "Not built yet", "primary": 0.0}])  # fmt: skip
    src = to_dot((pd.concat([nodes, extra]), edges), traced=traced, title="t").source
    assert "future_plant" not in src


def test_untraced_nodes_are_white_with_a_legend_entry() -> None:
    nodes, edges, _ = small_network()
    src = to_dot((nodes, edges), traced=None, title="t").source
    assert "not computed" in src
    assert 'fillcolor="#ffffff"' in src


# -------------------------------------------------------------------- rendering
@needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png", ".dot"])
def test_render_formats(tmp_path: Path, suffix: str) -> None:
    nodes, edges, traced = small_network()
    out = render(to_dot((nodes, edges), traced=traced, title="t"), tmp_path / f"sub/g{suffix}")
    data = out.read_bytes()
    if suffix == ".png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    elif suffix == ".svg":
        root = ET.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    else:
        assert data.startswith(b"digraph supplychain {")
    assert not list(tmp_path.joinpath("sub").glob(".*tmp")), "no temporary file left behind"


@needs_dot
def test_dot_accepts_the_source_without_warnings() -> None:
    nodes, edges, traced = small_network()
    for dot in (
        to_dot((nodes, edges), traced=traced, title="t", year=2024, names=NAMES),
        to_dot((nodes, banned_flows(edges)), traced=traced, title="t", max_nodes=5),
        to_dot((nodes, edges), traced=None, title="t"),
    ):
        proc = subprocess.run(["dot", "-Tsvg"], input=dot.source.encode(), capture_output=True, check=False)
        assert proc.returncode == 0
        assert proc.stderr.decode() == "", proc.stderr.decode()


def test_many_flows_label_only_the_large_or_changed_ones() -> None:
    nodes, edges, traced = small_network()
    small = pd.DataFrame(
        [{"edge": f"flows.x{i}", "supplier": f"X{i}:oxide", "buyer": "US:oxide", "commodity": "oxide",
          "tonnes": 1.0 + i} for i in range(45)]
    )  # fmt: skip
    pools = pd.DataFrame([{"node": f"X{i}:oxide", "kind": "market", "country": f"X{i}", "commodity": "oxide",
                           "stage": "oxide", "name": "", "primary": 0.0} for i in range(45)])  # fmt: skip
    both = (pd.concat([nodes, pools], ignore_index=True), pd.concat([edges, small], ignore_index=True))
    src = to_dot(both, traced=traced, title="t", max_nodes=200).source
    line = next(ln for ln in src.splitlines() if ln.startswith('\t"X0:oxide" -> "US:oxide"'))
    assert "label=" not in line.replace("tooltip=", "")
    assert "1.0 t" in line, "the tonnes stay in the tooltip"
    line = next(ln for ln in src.splitlines() if ln.startswith('\t"CN:oxide" -> "CN:oxide:use"'))
    assert 'label="48k t"' in line


def test_trade_hops_share_one_column_and_flat_flows_use_xlabels() -> None:
    nodes, edges, traced = small_network()
    reexport = pd.DataFrame([{"node": "CA:oxide", "kind": "market", "country": "CA", "commodity": "oxide",
                              "stage": "oxide", "name": "", "primary": 0.0}])  # fmt: skip
    hop = pd.DataFrame([{"edge": "flows.us_ca", "supplier": "US:oxide", "buyer": "CA:oxide", "commodity": "oxide",
                         "tonnes": 100.0}])  # fmt: skip
    src = to_dot((pd.concat([nodes, reexport]), pd.concat([edges, hop])), traced=traced, title="t").source
    ranks = dict(re.findall(r"\{rank=same; \"(__col_\d+_\d+)\"; ([^}]*)\}", src))
    assert '"CA:oxide"' in ranks["__col_1_2"], "a second trade hop stays in the importers' column"
    line = next(ln for ln in src.splitlines() if '"US:oxide" -> "CA:oxide"' in ln)
    assert "constraint=false" in line
    assert 'xlabel="100 t"' in line


def test_simplified_fallback_source() -> None:
    nodes, edges, traced = small_network()
    src = to_dot((nodes, edges), traced=traced, title="t").source
    simple = dotmod._simplified(src)
    assert 'subgraph "cluster_' not in simple
    assert 'subgraph "stage_ore"' in simple
    edge_lines = [ln for ln in simple.splitlines() if " -> " in ln and "invis" not in ln]
    assert all(" label=" not in ln for ln in edge_lines)
    assert all("xlabel=" in ln for ln in edge_lines)
    line = '\t"a" -> "b" [label="1 t", tooltip="p, label=q \\" , label=r"]\n'
    assert dotmod._simplified(line) == '\t"a" -> "b" [xlabel="1 t", tooltip="p, label=q \\" , label=r"]\n'
    html = '\t"a" -> "b" [label=<x label=y>]\n'
    assert dotmod._simplified(html) == '\t"a" -> "b" [xlabel=<x label=y>]\n'


def test_render_retries_with_the_simplified_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str] = []

    def flaky(source: str, fmt: str, timeout: float) -> bytes:
        calls.append(source)
        if len(calls) == 1:
            msg = "Graphviz 'dot' failed (exit 1): triangulation failed"
            raise RenderError(msg)
        return b"<svg/>"

    monkeypatch.setattr(dotmod, "_run_dot", flaky)
    nodes, edges, traced = small_network()
    out = render(to_dot((nodes, edges), traced=traced, title="t"), tmp_path / "g.svg")
    assert out.read_bytes() == b"<svg/>"
    assert 'subgraph "cluster_' in calls[0]
    assert 'subgraph "cluster_' not in calls[1]


def test_render_without_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dotmod.shutil, "which", lambda _: None)
    nodes, edges, traced = small_network()
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        render(to_dot((nodes, edges), traced=traced, title="t"), tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    # a .dot file needs no Graphviz
    assert render(to_dot((nodes, edges), traced=traced, title="t"), tmp_path / "g.dot").exists()


def test_render_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"use a \.svg, \.png or \.dot file name"):
        render("digraph {}", tmp_path / "g.jpeg")


@needs_dot
def test_render_reports_dot_errors(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="Graphviz 'dot' failed"):
        render("digraph { a -> }", tmp_path / "g.svg")
    assert not list(tmp_path.iterdir())


def _aggregate_by_definition(edges: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """The group sums of ``report.fold._aggregate_edges`` as pandas defines them, group by group."""
    e = edges.assign(supplier=edges["supplier"].map(mapping), buyer=edges["buyer"].map(mapping))
    e = e[e["supplier"] != e["buyer"]]
    return (e.groupby(["supplier", "buyer", "commodity", "status"], sort=True, dropna=False)
            .agg(tonnes=("tonnes", "sum"), before=("before", lambda s: s.sum(min_count=1)), n=("edge", "size"),
                 edge=("edge", "min"))
            .reset_index())


@pytest.mark.parametrize("seed", range(4))
def test_folded_edges_sum_as_each_group_on_its_own(seed: int) -> None:
    # The pictures fold nodes into groups and sum their edges: bit for bit the sums of each group
    # taken on its own (Series.sum, NaN skipped, NaN when every `before` is: f→x has none), the
    # smallest edge id. 300 edges in ~30 groups of fractional tonnes, whose sums round differently
    # in another order (pandas' grouped sum, compensated, differs in every seed).
    from supplychain.report.fold import _aggregate_edges

    rng = np.random.default_rng(seed)
    n = 300
    edges = pd.DataFrame({
        "edge": [f"e{i:03d}" for i in rng.permutation(n)], "supplier": rng.choice(list("abcdef"), n),
        "buyer": rng.choice(list("abcde"), n), "commodity": "k", "tonnes": rng.integers(0, 10**9, n) / 997,
        "before": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 10**9, n) / 997),
        "status": rng.choice(np.array(["kept", "new", None], dtype=object), n)})
    edges.loc[(edges["supplier"] == "f") & edges["buyer"].isin(["a", "b"]), "before"] = np.nan  # f → x
    mapping = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "e", "f": "f"}
    got = _aggregate_edges(edges, mapping)
    pd.testing.assert_frame_equal(got, _aggregate_by_definition(edges, mapping), check_exact=True)
    assert got["before"].isna().any()
    assert got["n"].max() > 8  # groups long enough for NumPy's pairwise sum


def test_a_surplus_node_is_not_named_as_its_market() -> None:
    # review 4, R-10e: "United States · Other separated oxides 9.7k t" was the market and, below it, its
    # surplus node (what nobody there takes) under the same name; the surplus node now says so.
    from supplychain.report.fold import _Group
    from supplychain.report.labels import _display_name

    names = {"US": "United States", "oxide": "Other oxides"}
    market = _Group("US:oxide", "market", "US", "oxide", "oxide", "")
    surplus = _Group("US:oxide:surplus", "surplus", "US", "oxide", "oxide", "")
    assert _display_name(market, names) == ("United States", "Other oxides")
    assert _display_name(surplus, names) == ("United States (destination not given)", "surplus · Other oxides")
