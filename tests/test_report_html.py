"""The HTML report: files, sections, escaping of hostile text, no external fetches, atomic writes; charts; CLI."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from subprocess import CompletedProcess

import matplotlib as mpl
import pandas as pd
import pytest

from supplychain.io import load
from supplychain.report import charts
from supplychain.report import html as report_html
from supplychain.report.html import MARKER, ReportError, ScenarioRun, run_scenario, safe_url, write_report
from supplychain.report.markdown import md_escape, md_table
from supplychain.schema.model import Target

needs_dot = pytest.mark.needs_dot  # Graphviz `dot` must be installed (`make setup` does it); never skipped

EVIL = "<script>alert(1)</script>"

SCENARIO = f"""
scenario:
  name: "REE {EVIL} test"
  question: "Does the US reach 25 % by 2027? {EVIL}"
  base_year: 2024
  horizon: 2027
sources:
  usgs: {{title: "USGS MCS 2025", publisher: USGS, year: 2025, url: "https://pubs.usgs.gov/mcs2025.pdf"}}
  hostile: {{title: "Hostile <b>link</b>", url: "javascript:alert(1)"}}
regions:
  ROW: {{name: Rest of world}}
commodities:
  concentrate: {{name: REE concentrate, stage: ore, basis: t REO, family: rare_earths, elements: [Nd, Pr]}}
  ndpr_oxide: {{name: NdPr oxide, stage: oxide, basis: t REO, family: rare_earths, elements: [Nd, Pr]}}
processes:
  separation: {{inputs: {{concentrate: 5.0}}, outputs: {{ndpr_oxide: 1.0}}}}
facilities:
  bayan_obo: {{name: Bayan Obo, country: CN, kind: mine, output: concentrate, capacity: 200000,
               production: {{2024: 200000}}, utilisation: 1.0}}
  mt_weld: {{name: Mt Weld, country: AU, kind: mine, output: concentrate, capacity: 20000,
             production: {{2024: 12000}}, utilisation: 0.6}}
  cn_sep: {{name: "{EVIL}", country: CN, kind: separation, process: separation, capacity: 50000,
            production: {{2024: 40000}}, utilisation: 0.8}}
  lynas_my: {{name: Lynas Malaysia, country: MY, kind: separation, process: separation, capacity: 4000,
              production: {{2024: 2400}}, utilisation: 0.6}}
flows:
  au_my: {{supplier: AU, buyer: lynas_my, commodity: concentrate, year: 2024, tonnes: 12000}}
  cn_us: {{supplier: CN, buyer: US, commodity: ndpr_oxide, year: 2024, tonnes: 2000}}
  my_us: {{supplier: MY, buyer: US, commodity: ndpr_oxide, year: 2024, tonnes: 800}}
  my_jp: {{supplier: MY, buyer: JP, commodity: ndpr_oxide, year: 2024, tonnes: 1600}}
  cn_jp: {{supplier: CN, buyer: JP, commodity: ndpr_oxide, year: 2024, tonnes: 3000}}
demand:
  us: {{country: US, commodity: ndpr_oxide, year: 2024, tonnes: 2800}}
  jp: {{country: JP, commodity: ndpr_oxide, year: 2024, tonnes: 4600}}
  cn: {{country: CN, commodity: ndpr_oxide, year: 2024, tonnes: 35000}}
policies:
  cn_ban: {{type: export_ban, country: CN, covers: {{families: [rare_earths]}}, start: 2025-09-01}}
toggles:
  ban: {{controls: [cn_ban], default: false, description: "China bans REE exports {EVIL}"}}
variants:
  china_ban: {{description: "Ban {EVIL}", toggles: {{ban: on}}}}
targets:
  us_25:
    description: "Traced China share of US NdPr oxide ≤ 25% by 2026 {EVIL}"
    country: US
    commodity: ndpr_oxide
    max: 0.25
    by: 2026
"""


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scn") / "hostile.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(scenario_file: Path) -> ScenarioRun:
    return run_scenario(load(scenario_file), file=str(scenario_file))


@pytest.fixture(scope="module")
def report_dir(run: ScenarioRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which("dot"), "Graphviz 'dot' is not installed: run `make setup` (apt-get install graphviz)"
    return write_report([run], tmp_path_factory.mktemp("out") / "report", title=f"Report {EVIL}")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs.append((tag, k, v or ""))
            if k == "id" and v:
                self.ids.append(v)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8"))
    c.close()
    return c


# ---------------------------------------------------------------------- the report
def test_report_files(report_dir: Path) -> None:
    names = {p.name for p in report_dir.iterdir()}
    assert {"index.html", "summary.md", "measures.csv", "shortfall.csv", "flows.csv.gz", "targets.csv",
            "results.json", "images", MARKER} <= names  # fmt: skip
    images = sorted((report_dir / "images").iterdir())
    assert any("network-baseline" in p.name for p in images), "the whole baseline network is a linked file"
    assert any("chain-baseline" in p.name for p in images)
    assert any("chain-china-ban" in p.name for p in images)
    assert not [p for p in images if p.suffix == ".png"], "PNGs only on request (png=True)"
    for p in images:
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p
        else:
            ET.parse(p)
    measures = pd.read_csv(report_dir / "measures.csv")
    assert measures.columns[0] == "scenario"
    assert set(measures["variant"]) == {"base", "china_ban"}
    assert not list(report_dir.parent.glob(".report.*")), "temporary folders were left behind"


def test_html_parses_with_every_section(report_dir: Path) -> None:
    page = _parse(report_dir / "index.html")
    slug = "hostile"
    expected = {f"sc-{slug}"} | {
        f"sc-{slug}-{part}"
        for part in ("summary", "toggles", "measures", "targets", "shortfall", "graphs", "charts")
    } | {"sources", "contents", "answer-us"}
    assert expected <= set(page.ids)
    assert f"sc-{slug}-sources" not in page.ids, "sources are listed once, for every scenario"
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    text = " ".join(page.text)
    assert "PASS" in text or "FAIL" in text
    assert "China bans REE exports" in text


def test_no_unescaped_user_text(report_dir: Path) -> None:
    raw = (report_dir / "index.html").read_text(encoding="utf-8")
    assert "<script" not in raw.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    page = _parse(report_dir / "index.html")
    assert "script" not in page.tags
    assert f"REE {EVIL} test" in " ".join(page.text), "the title is shown as text"
    assert not any(k.startswith("on") for _, k, _ in page.attrs), "no event handler attributes"
    md = (report_dir / "summary.md").read_text(encoding="utf-8")
    assert re.search(r"(?<!\\)<(script|/script)", md) is None, "every tag opener backslash-escaped"
    assert "\\<script>alert(1)\\</script>" in md
    assert re.search(r"&(lt|gt|amp|quot|#[0-9]+);", md) is None, "no HTML entities in Markdown"


@needs_dot
def test_hostile_facility_name_inside_embedded_svg(report_dir: Path) -> None:
    raw = (report_dir / "index.html").read_text(encoding="utf-8")
    graphs = re.findall(r"<svg\b.*?</svg>", raw, flags=re.DOTALL)
    assert graphs, "pictures are inlined as <svg> (their tooltips work)"
    assert "<img" not in raw
    found = False
    for svg in graphs:
        root = ET.fromstring(svg)
        tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
        assert not tags & {"script", "foreignObject", "image"}
        texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
        found |= any(EVIL in t for t in texts)
    assert found, "the facility name is drawn as literal text in a network picture"


def test_no_external_fetches(report_dir: Path) -> None:
    raw = (report_dir / "index.html").read_text(encoding="utf-8")
    page = _parse(report_dir / "index.html")
    for tag, key, value in page.attrs:
        if key == "src":
            assert value.startswith("data:"), (tag, value[:60])
        if key == "href":
            assert tag == "a", (tag, value)
            assert not value.lower().startswith(("javascript:", "data:", "file:")), value
    assert "link" not in page.tags
    assert not re.search(r"@import|url\((?!#)|@font-face", raw), "only url(#id) references within a picture"
    local = [v for _, k, v in page.attrs if k in ("href", "xlink:href") and v.startswith("#")]
    assert not [v for v in local if v[1:] not in page.ids], "every reference inside a picture finds its id"
    assert "javascript:" not in [v for _, k, v in page.attrs if k == "href"]
    external = [v for tag, k, v in page.attrs if k == "href" and v.startswith("http")]
    assert external == ["https://pubs.usgs.gov/mcs2025.pdf"], "only the sources table links out"
    assert "Content-Security-Policy" in raw


def test_targets_and_verdicts(report_dir: Path) -> None:
    meta = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    (sc,) = meta["scenarios"]
    verdicts = {(t["variant"], t["verdict"]) for t in sc["targets"]}
    assert ("base", "fail") in verdicts  # the baseline US pool is ~70 % Chinese
    assert sc["focus_year"] == 2026
    targets = pd.read_csv(report_dir / "targets.csv")
    assert set(targets["variant"]) == {"base", "china_ban"}
    raw = (report_dir / "index.html").read_text(encoding="utf-8")
    assert 'class="badge fail">FAIL<' in raw


def test_part_year_figures_are_footnoted(report_dir: Path) -> None:
    # review 4, R-10(a): the ban is in force from 2025-09-01, 4 of 2025's 12 months, in variant china_ban only;
    # its 2025 shortfall is an annual average, and the Shortfall table says so.
    summary = (report_dir / "summary.md").read_text(encoding="utf-8")
    assert "Part-year figures: 2025: cn\\_ban in force 4 of 12 months (china\\_ban); annual average." in summary


def test_results_json_is_strict(report_dir: Path) -> None:
    text = (report_dir / "results.json").read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def test_bare_results_are_grouped_by_scenario(run: ScenarioRun, tmp_path: Path) -> None:
    assert shutil.which("dot"), "Graphviz 'dot' is not installed: run `make setup` (apt-get install graphviz)"
    out = write_report(list(run.results), tmp_path / "r", title="bare")
    page = _parse(out / "index.html")
    assert "answer-us" in page.ids, "the answer for the default focus country"
    assert any(i.endswith("-summary") for i in page.ids)


# ---------------------------------------------------------------- atomic writes
@needs_dot
def test_png_and_whole_networks_on_request(run: ScenarioRun, tmp_path: Path) -> None:
    out = write_report(run, tmp_path / "r", png=True, full_networks=True)
    images = {p.name for p in (out / "images").iterdir()}
    svgs = {n[:-4] for n in images if n.endswith(".svg")}
    assert {n[:-4] for n in images if n.endswith(".png")} == svgs, "with png=True every picture has its PNG"
    whole = [n for n in svgs if "-network-" in n]
    assert any("network-baseline" in n for n in whole)
    assert any("network-china-ban" in n for n in whole), "each variant's whole network, with full_networks=True"
    raw = (out / "index.html").read_text(encoding="utf-8")
    for name in whole:
        assert f'href="images/{name}.svg"' in raw, f"the page links {name}"
    assert raw.count("<svg") == len(svgs) - len(whole), "every other picture is inlined once"


@needs_dot
def test_answers_for_the_countries_asked_first(run: ScenarioRun, tmp_path: Path) -> None:
    out = write_report(run, tmp_path / "r", countries=("JP", "US"), commodity="ndpr_oxide")
    page = _parse(out / "index.html")
    answers = [i for i in page.ids if i.startswith("answer-")]
    assert answers == ["answer-jp", "answer-us"]
    first_scenario = min(page.ids.index(i) for i in page.ids if i.startswith("sc-"))
    assert page.ids.index("answer-us") < first_scenario
    text = " ".join(page.text)
    assert "Japan: NdPr oxide" in text
    # Japan's NdPr oxide in 2024 (the data year): 3,000 t from China (separated from Bayan Obo ore: 100 %
    # Chinese) and 1,600 t from Malaysia (Lynas, fed by Mt Weld ore: 0%), all demand met, so exposure =
    # traced share = 3000 / 4600 = 65.2 % → "65%", the first cell of the base row
    raw = (out / "index.html").read_text(encoding="utf-8")
    section = raw[raw.index('id="answer-jp"') : raw.index('id="answer-us"')]
    first_row = re.search(r"<td>base</td>\s*<td[^>]*>([^<]*)</td>", section)
    assert first_row is not None
    assert first_row.group(1) == "65%"


def test_refuses_to_replace_a_folder_that_is_not_a_report(run: ScenarioRun, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(ReportError, match="refusing to replace it"):
        write_report([run], target)
    assert (target / "thesis.docx").read_text(encoding="utf-8") == "precious"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ReportError, match="is not a folder"):
        write_report([run], tmp_path / "file")


@needs_dot
def test_files_footer_links_what_was_written(report_dir: Path) -> None:
    """The "Files" footer links exactly the files written beside the page, and each link resolves.

    Written at the top of the folder (full_measures=False): summary.md, tables.xlsx, measures.csv, shortfall.csv,
    flows.csv.gz, targets.csv, limits.csv, results.json — the page (index.html), the manifest (hidden) and the
    images/ folder are not listed. On main the footer linked ``flows.csv`` (the file is ``flows.csv.gz``) and
    neither ``tables.xlsx`` nor ``limits.csv``.
    """
    c = _parse(report_dir / "index.html")
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    footer = html[html.index('id="files"'):html.index("</footer>")]
    linked = re.findall(r'href="([^"]+)"', footer)
    on_disk = sorted(p.name for p in report_dir.iterdir() if p.is_file() and p.name not in {"index.html", MARKER})
    assert sorted(linked) == on_disk
    assert linked == ["summary.md", "tables.xlsx", "measures.csv", "shortfall.csv", "flows.csv.gz", "targets.csv",
                      "limits.csv", "results.json"]  # fmt: skip
    assert report_html.written_files(report_dir) == linked
    local = [v for tag, k, v in c.attrs if tag == "a" and k == "href" and not v.startswith(("#", "http"))]
    assert local
    assert [v for v in local if not (report_dir / v).is_file()] == [], "every local link of the page resolves"


def test_files_footer_lists_measures_full(run: ScenarioRun, tmp_path: Path) -> None:
    """With ``full_measures=True`` the page links ``measures_full.csv.gz`` too (it is written, so it is listed)."""
    out = write_report([run], tmp_path / "r", full_measures=True)
    footer = (out / "index.html").read_text(encoding="utf-8").split('id="files"')[1]
    assert 'href="measures_full.csv.gz"' in footer
    assert (out / "measures_full.csv.gz").is_file()


def test_failure_leaves_the_previous_report(run: ScenarioRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = write_report([run], tmp_path / "r")
    before = (out / "index.html").read_bytes()

    def boom(folder: Path, *args: object) -> None:
        (folder / "index.html").write_text("half", encoding="utf-8")
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(report_html, "_write_tree", boom)
    with pytest.raises(OSError, match="disk full"):
        write_report([run], out)
    assert (out / "index.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"], "no temporary folder left behind"


def test_nothing_to_report(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="nothing to report"):
        write_report([], tmp_path / "r")
    with pytest.raises(TypeError, match="cannot report on a int"):
        write_report([1], tmp_path / "r")  # type: ignore[list-item]


# ------------------------------------------------------------------ small helpers
def test_safe_url() -> None:
    assert safe_url("http://x.org/a") == "http://x.org/a"
    assert safe_url("JavaScript:alert(1)") is None
    assert safe_url("//evil.org/x") is None
    assert safe_url(None) is None


def test_csv_cells_cannot_start_formulas() -> None:
    df = pd.DataFrame({"name": ["=HYPERLINK(1)", "+1", "ok"], "value": [-1.0, 2.0, 3.0]})
    out = report_html._csv_safe(df)
    assert out["name"].tolist() == ["'=HYPERLINK(1)", "'+1", "ok"]
    assert out["value"].tolist() == [-1.0, 2.0, 3.0]


def test_markdown_escaping() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("![x](file:///etc/passwd)") == "\\!\\[x\\](file:///etc/passwd)"
    table = md_table(["h"], [["x\ny"]])
    assert table.splitlines()[-1] == "| x␊y |"


# ------------------------------------------------------------------------ charts
def _measures() -> pd.DataFrame:
    rows = []
    for variant, values in {"base": [0.7, 0.7, 0.7], "ban": [0.7, 0.3, 0.1]}.items():
        for year, v in zip((2024, 2025, 2026), values, strict=True):
            rows.append({"year": year, "country": "US", "commodity": "ndpr_oxide", "metric": "traced_share",
                         "value": v, "variant": variant, "source_country": "CN"})  # fmt: skip
            rows.append({"year": year, "country": "US", "commodity": "ndpr_oxide", "metric": "direct_import_share",
                         "value": v * 0.9, "variant": variant, "source_country": "CN"})  # fmt: skip
    return pd.DataFrame(rows)


def test_shortfall_panels_share_a_y_range_that_fits_every_panel() -> None:
    # The panels share their y axis. Its range was frozen at the first panel's data (20%), so a second
    # variant's 100 % shortfall was drawn off the top of every panel. The range must cover the largest
    # drawn share (100%) in every panel, and a long series name must be wrapped to fit the legend.
    long = "European Union (demand region; Estonia modelled separately as EE)"
    short = pd.DataFrame({"year": [2024, 2025] * 2, "country": [long] * 4, "commodity": "magnet",
                          "shortfall": [0.0, 20.0, 0.0, 100.0], "shortfall_share": [0.0, 0.2, 0.0, 1.0],
                          "variant": ["deal", "deal", "ban", "ban"]})  # fmt: skip
    fig = charts.shortfall_chart(short, names={long: long})
    for ax in fig.axes:
        if ax.axison:
            assert ax.get_ylim()[1] >= 1.0
    label = fig.legends[0].get_texts()[0].get_text()
    assert "\n" in label
    assert label.replace("\n  ", " ") == f"{long} · magnet"


def test_charts_render_without_leaking_state(tmp_path: Path) -> None:
    before = dict(mpl.rcParams)
    backend = mpl.get_backend()
    fig = charts.share_chart(_measures(), country="US", commodity="ndpr_oxide",
                             targets=[charts.TargetLine(0.25, 2026, metric="traced_share")], metric="traced_share")
    short = pd.DataFrame({"year": [2024, 2025], "country": "US", "commodity": "ndpr_oxide",
                          "shortfall": [0.0, 500.0], "shortfall_share": [0.0, 0.2], "variant": "ban"})  # fmt: skip
    cap = pd.DataFrame({"year": [2024, 2025, 2024, 2025], "country": ["US", "US", "CN", "CN"],
                        "commodity": "magnet", "capacity": [1000.0, 3000.0, 5000.0, 5000.0]})  # fmt: skip
    figures = [
        fig,
        charts.shortfall_chart(short),
        charts.capacity_additions_chart(cap),
        charts.shortfall_chart(short.assign(shortfall_share=0.0)),
        charts.capacity_additions_chart(cap[:0]),
    ]
    for i, f in enumerate(figures):
        png = charts.save_figure(f, tmp_path / f"c{i}.png")
        svg = charts.save_figure(f, tmp_path / f"c{i}.svg")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        ET.parse(svg)
    assert dict(mpl.rcParams) == before
    assert mpl.get_backend() == backend
    again = charts.share_chart(_measures(), country="US", commodity="ndpr_oxide",
                               targets=[charts.TargetLine(0.25, 2026, metric="traced_share")],
                               metric="traced_share")  # fmt: skip
    fresh = charts.share_chart(_measures(), country="US", commodity="ndpr_oxide",
                               targets=[charts.TargetLine(0.25, 2026, metric="traced_share")],
                               metric="traced_share")  # fmt: skip
    assert charts.figure_svg(again) == charts.figure_svg(fresh), "SVG output is deterministic"
    with pytest.raises(ValueError, match=r"use a \.svg or \.png file name"):
        charts.save_figure(fig, tmp_path / "c.pdf")


def test_a_target_line_is_drawn_only_against_the_measure_it_reads() -> None:
    # A full ban: nothing Chinese arrives (traced 0 %) and 52 % of planned use is unmet, so the
    # exposed share (traced share of what arrives x delivered + unmet, of planned use) is 0 x 0.48
    # + 0.52 = 52 %. A 25 % target on the exposed share (a scenario target's default metric) drawn
    # against the traced line would read "met" (0 <= 25 %); it fails (52 % > 25 %). The chart
    # refuses that pairing, and with metric="exposed_share" draws the 52 % the target reads.
    m = pd.DataFrame({"year": [2026] * 3, "country": "US", "commodity": "ndfeb_magnet", "variant": "ban",
                      "metric": ["traced_share", "exposed_share", "direct_import_share"],
                      "value": [0.0, 0.52, 0.0], "source_country": "CN"})
    target = Target(country="US", commodity="ndfeb_magnet", max=0.25, by=2026)
    line = charts.TargetLine.of(target)
    assert (line.value, line.by, line.kind, line.metric) == (0.25, 2026, "max", "exposed_share")
    with pytest.raises(ValueError, match="reads exposed_share, but this chart draws traced_share"):
        charts.share_chart(m, country="US", commodity="ndfeb_magnet", targets=[line], metric="traced_share")
    fig = charts.share_chart(m, country="US", commodity="ndfeb_magnet", targets=[line], metric="exposed_share")
    solid = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == "exposed")
    assert list(solid.get_ydata()) == [0.52]
    traced = charts.TargetLine.of(Target(country="US", commodity="ndfeb_magnet", metric="traced_share", max=0.25,
                                         by=2026))
    fig = charts.share_chart(m, country="US", commodity="ndfeb_magnet", targets=[traced], metric="traced_share")
    assert [ln.get_label() for ln in fig.axes[0].get_lines()][:2] == ["traced", "direct"]
    with pytest.raises(ValueError, match="draws one of exposed_share, traced_share"):
        charts.share_chart(m, country="US", commodity="ndfeb_magnet", metric="shortfall_share")


def test_a_ban_and_no_ban_with_the_same_exposed_share_differ_at_a_glance() -> None:
    # G-13, the bundled full-ban chart in 2026: under the ban nothing Chinese arrives (traced 0 %) and 88 % of the
    # US's planned magnets are unmet, exposed = 0 x 0.12 + 0.88 = 88 %; without it 89 % of what arrives is
    # traced to China and nothing is unmet, exposed = 89 %. The thick lines lie together; the ban's unmet part is
    # shaded from 0.88 - 0.88 = 0 (the axis) up to its line, the no-ban variant has no band.
    m = pd.DataFrame({"year": [2026] * 4 + [2027] * 4, "country": "US", "commodity": "ndfeb_magnet",
                      "variant": ["ban", "ban", "no_ban", "no_ban"] * 2,
                      "metric": ["exposed_share", "shortfall_share"] * 4,
                      "value": [0.88, 0.88, 0.89, 0.0, 0.90, 0.90, 0.91, 0.0]})
    m = pd.concat([m, m[m["metric"] == "exposed_share"].assign(metric="traced_share",
                                                                value=[0.0, 0.89, 0.0, 0.91])])
    m["source_country"] = "CN"
    m.loc[m["metric"] == "shortfall_share", "source_country"] = ""  # as Result.measures has it
    fig = charts.share_chart(m, country="US", commodity="ndfeb_magnet")
    bands = [c for c in fig.axes[0].patches if c.get_label() == "unmet"]
    assert len(bands) == 1  # the ban's only
    ys = bands[0].get_xy()[:, 1]
    assert min(ys) == pytest.approx(0.0)
    assert max(ys) == pytest.approx(0.90)
    assert bands[0].get_facecolor()[:3] == pytest.approx(mpl.colors.to_rgb(charts.VARIANT_COLOURS[0]))
    measure_legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "shaded: unmet demand" in measure_legend
    from supplychain.report.figures import share_caption

    assert "Shaded below the thick line: its unmet part (shortfall share); no band, nothing unmet." in share_caption(
        "China")


def test_share_chart_keeps_coinciding_variants_visible() -> None:
    # "deal off" is identical to "base" in every year: drawn once, and the legend says so.
    # "base" and "ban" meet in 2024 only: both drawn, each with its own marker, the earlier
    # wider and underneath, so neither hides the other where they meet.
    m = pd.concat([_measures(), _measures().query("variant == 'base'").assign(variant="deal off")])
    fig = charts.share_chart(m, country="US", commodity="ndpr_oxide")
    ax = fig.axes[0]
    traced = [line for line in ax.get_lines() if line.get_label() == "traced"]
    assert len(traced) == 2
    assert traced[0].get_marker() != traced[1].get_marker()
    assert traced[0].get_linewidth() > traced[1].get_linewidth()
    assert traced[0].get_zorder() < traced[1].get_zorder()
    variant_legend = ax.get_legend()  # the other legend, "measure", is the figure's, under the axes
    assert variant_legend.get_title().get_text() == "variant"
    assert [t.get_text() for t in variant_legend.get_texts()] == ["base\n= deal off", "ban"]
    assert [h.get_marker() for h in variant_legend.legend_handles] == [line.get_marker() for line in traced]


def test_share_chart_without_data_says_so() -> None:
    fig = charts.share_chart(_measures(), country="JP", commodity="ndpr_oxide")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("no exposed, traced or direct share" in t for t in texts)


def test_share_chart_draws_the_exposed_share_thick_traced_thin_and_the_target_on_it() -> None:
    # A full ban from 2025 (review 4, R-5): in 2024 the US gets 70 % of its magnets traced to China and
    # no shortfall, so exposed = traced = 0.7 and direct 0.6. In 2026 nothing Chinese arrives (traced
    # 0 %, direct 0 %) and 90 % of planned use is unmet: exposed = (0 x 0.1 + 0.9) / 1 = 0.9. The chart
    # used to draw only the traced line, which falls to 0 %; the exposed line must be the thick one, at
    # 0.7 and 0.9, the traced thin, the direct dashed, and a 25 % aim on the exposed share drawn on it.
    m = pd.DataFrame({"year": [2024, 2026] * 3, "country": "US", "commodity": "ndfeb_magnet", "variant": "ban",
                      "metric": ["exposed_share"] * 2 + ["traced_share"] * 2 + ["direct_import_share"] * 2,
                      "value": [0.7, 0.9, 0.7, 0.0, 0.6, 0.0], "source_country": "CN"})  # fmt: skip
    aim = charts.TargetLine.of(Target(country="US", commodity="ndfeb_magnet", max=0.25, by=2030))
    fig = charts.share_chart(m, country="US", commodity="ndfeb_magnet", targets=[aim])
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert [float(v) for v in lines["exposed"].get_ydata()] == [0.7, 0.9]
    assert [float(v) for v in lines["traced"].get_ydata()] == [0.7, 0.0]
    assert [float(v) for v in lines["direct"].get_ydata()] == [0.6, 0.0]
    assert lines["exposed"].get_linewidth() > lines["traced"].get_linewidth()
    assert lines["exposed"].get_linestyle() == lines["traced"].get_linestyle() == "-"
    assert lines["direct"].get_linestyle() == "--"
    assert [float(v) for v in lines["target ≤ 25% by 2030"].get_ydata()] == [0.25]  # the aim's marker, at 2030
    measure_legend = fig.legends[0]
    texts = [t.get_text() for t in measure_legend.get_texts()]
    assert texts[0].startswith("exposed: traced + unmet demand")
    assert texts[1].startswith("traced: of what arrives")
    assert texts[-1] == "target on the exposed share"


def test_report_share_chart_draws_the_scenario_target_on_the_exposed_share(run: ScenarioRun) -> None:
    # The fixture's target (US NdPr oxide <= 25 % by 2026) reads exposed_share, the default of a target:
    # the report's chart used to draw the traced share and so drew no target at all.
    from supplychain.report.dot_style import names_of
    from supplychain.report.figures import _chart_images
    from supplychain.report.tables import _concat

    measures = _concat(run.results, "measures")
    images = _chart_images(run, "s", names_of(run.scenario), measures, _concat(run.results, "shortfall"),
                           _concat(run.results, "utilisation"), [("US", "ndpr_oxide")])  # fmt: skip
    share = next(i for i in images if "-share-" in i.stem)
    assert share.caption.startswith("Thick line: exposed share")
    assert "Dotted: the scenario's target on the exposed share." in share.caption
    svg = share.svg.decode()
    assert "target ≤ 25% by 2026" in svg
    assert "exposed: traced + unmet demand" in svg


def test_percent_ticks_keep_a_decimal_on_half_steps() -> None:
    # review 4, R-6: 2.5 % gridlines were labelled "0, 2, 5, 8, 10, 12, 15, 18 %" (2.5 rounded half to even)
    short = pd.DataFrame({"year": [2024, 2025, 2026], "country": "US", "commodity": "magnet",
                          "shortfall": [0.0, 181.0, 90.0], "shortfall_share": [0.0, 0.181, 0.09],
                          "variant": "documented"})  # fmt: skip
    fig = charts.shortfall_chart(short)
    ax = fig.axes[0]
    assert isinstance(ax.yaxis.get_major_formatter(), charts.PercentTicks)
    steps = [0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175]
    assert charts.PercentTicks().format_ticks(steps) == ["0.0%", "2.5%", "5.0%", "7.5%", "10.0%", "12.5%", "15.0%",
                                                         "17.5%"]  # fmt: skip
    assert charts.PercentTicks().format_ticks([0.0, 0.05, 0.1]) == ["0%", "5%", "10%"]
    assert charts.wrap_id("full_ban_with_us_2025_measures", 24) == "full_ban_with_us_2025_\n  measures"


def test_capacity_by_year() -> None:
    nodes = pd.DataFrame({"kind": ["facility", "facility"], "country": ["US", "US"], "commodity": ["m", "m"],
                          "stage": ["magnet", "magnet"], "capacity": [1000.0, 500.0]})  # fmt: skip
    out = charts.capacity_by_year({2025: nodes, 2024: nodes.iloc[:1]})
    assert out.to_dict("records") == [
        {"year": 2024, "country": "US", "commodity": "m", "stage": "magnet", "capacity": 1000.0},
        {"year": 2025, "country": "US", "commodity": "m", "stage": "magnet", "capacity": 1500.0},
    ]


# --------------------------------------------------------------------------- CLI
@needs_dot
def test_cli_report(run_cli: Callable[..., CompletedProcess[str]], scenario_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(scenario_file, folder / "one.yaml")
    (folder / "fragment.yaml").write_text("commodities: {}\n", encoding="utf-8")
    res = run_cli("report", folder, "--output", tmp_path / "out", "--mode", "fixed", "--png",
                  "--country", "JP", "--commodity", "ndpr_oxide")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "wrote" in res.stdout
    meta = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert [s["slug"] for s in meta["scenarios"]] == ["one"]
    assert meta["scenarios"][0]["mode"] == "fixed"
    assert any(p.endswith(".png") for p in meta["scenarios"][0]["images"]), "--png writes PNGs"
    assert 'id="answer-jp"' in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    res = run_cli("report", folder, "--output", tmp_path / "out2", "--commodity", "unobtainium")
    assert res.returncode == 1
    assert "--commodity 'unobtainium' is not a commodity of any scenario given" in res.stderr
    assert not (tmp_path / "out2").exists()


def test_cli_report_on_workers_writes_what_one_process_writes(
    run_cli: Callable[..., CompletedProcess[str]], scenario_file: Path, tmp_path: Path
) -> None:
    """Two scenarios simulated and drawn on two worker processes: the same files, byte for byte."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(scenario_file, folder / "one.yaml")
    text = scenario_file.read_text(encoding="utf-8")
    (folder / "two.yaml").write_text(text.replace("name:", "name: Two -", 1), encoding="utf-8")
    outs = {}
    for w in ("1", "2"):
        res = run_cli("report", folder, "--output", tmp_path / f"out{w}", "--workers", w)
        assert res.returncode == 0, res.stderr
        outs[w] = tmp_path / f"out{w}"
    for name in ("index.html", "summary.md", "results.json", "measures.csv", "shortfall.csv", "targets.csv"):
        assert (outs["1"] / name).read_bytes() == (outs["2"] / name).read_bytes(), name
    meta = json.loads((outs["2"] / "results.json").read_text(encoding="utf-8"))
    assert [s["slug"] for s in meta["scenarios"]] == ["one", "two"]


def test_cli_report_errors(run_cli: Callable[..., CompletedProcess[str]], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: {name: x}\n", encoding="utf-8")
    res = run_cli("report", bad, "--output", tmp_path / "out")
    assert res.returncode == 1
    assert "base_year" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()
    res = run_cli("report", bad, "--output", tmp_path / "out", "--mode", "sideways")
    assert res.returncode == 1
    assert "--mode must be fixed or rebalance" in res.stderr
    assert "Traceback" not in res.stderr


@needs_dot
def test_cli_graph(run_cli: Callable[..., CompletedProcess[str]], scenario_file: Path, tmp_path: Path) -> None:
    res = run_cli("graph", scenario_file, "--toggle", "ban=on", "--year", "2026", "--output", tmp_path / "g.svg")
    assert res.returncode == 0, res.stderr
    root = ET.parse(tmp_path / "g.svg").getroot()
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "blocked" in texts
    assert "changes against the baseline" in texts
    res = run_cli("graph", scenario_file, "--baseline", "--commodity", "ndpr_oxide", "-o", tmp_path / "b.png")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = run_cli("graph", scenario_file, "--compare-toggle", "ban", "-o", tmp_path / "c.dot")
    assert res.returncode == 0, res.stderr
    assert "changes against ban=off" in (tmp_path / "c.dot").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.jpeg"], "use a .svg, .png or .dot file name"),
        (["-t", "ban=maybe", "-o", "x.svg"], "expected on/off"),
        (["-t", "nope=on", "-o", "x.svg"], "unknown toggle 'nope'"),
        (["--year", "1999", "-o", "x.svg"], "outside the scenario's years 2024–2027"),
        (["--commodity", "lead", "-o", "x.svg"], "--commodity 'lead' is not a commodity of this scenario"),
        (["--compare-toggle", "zzz", "-o", "x.svg"], "unknown toggle 'zzz' for --compare-toggle"),
        (["--baseline", "--compare-toggle", "ban", "-o", "x.svg"], "not both"),
    ],
)
def test_cli_graph_errors(
    run_cli: Callable[..., CompletedProcess[str]], scenario_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    res = run_cli("graph", scenario_file, *args, cwd=tmp_path)
    assert res.returncode == 1
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert not list(tmp_path.glob("x.*"))


def test_peak_shortfall_year_does_not_depend_on_round_off() -> None:
    """The report's "35% in 2026" is the first year of the peak; shares equal to 9 decimals are one peak.

    US shortfall shares 0.35 (2026), 0.35 + 3·10⁻¹² (2027), 0.35 + 10⁻¹² (2028), rows out of
    year order: a plain argmax says 2027, which a different LP start turned into 2026 or 2028
    (the bundled report once changed so). The first year of the peak is 2026; a real peak,
    0.36 in 2029, wins.
    """
    from types import SimpleNamespace

    from supplychain.report.tables import _shortfall_table

    def table(shares: dict[int, float]) -> str:
        s = pd.DataFrame({"year": list(shares), "country": "US", "commodity": "ndpr_oxide", "variant": "base",
                          "shortfall": 100.0, "shortfall_share": list(shares.values())})
        run = SimpleNamespace(results=[SimpleNamespace(variant="base", mode="fixed")], fixed_shortfall=None)
        return str(_shortfall_table(run, s, {})["rows"][0]["cells"][0])  # type: ignore[arg-type]

    tied = {2028: 0.35 + 1e-12, 2026: 0.35, 2027: 0.35 + 3e-12}
    assert " in 2026 " in table(tied)
    assert " in 2029 " in table({**tied, 2029: 0.36})


def test_target_reason_is_the_deciding_year() -> None:
    from supplychain.report.tables import _verdicts

    rows = pd.DataFrame({
        "target": ["t", "t", "t"], "variant": ["base"] * 3, "year": [2028, 2029, 2030],
        "value": [0.2, 0.4, 0.3], "threshold": [0.25] * 3, "bound": ["max"] * 3,
        "met": [True, False, False], "margin": [0.05, -0.15, -0.05],
        "reason": ["passes: a", "fails: exposed share 40% > 25% in 2029", "fails: b"],
    })  # fmt: skip
    (v,) = _verdicts(ScenarioRun(None, ()), rows)
    assert v["verdict"] == "fail"
    assert v["reason"] == "fails: exposed share 40% > 25% in 2029", "the worst failing year decides"
    assert v["margin"] == "−15.0 pt", "25 % less 40 % is 15 percentage points below, not a percent of anything"
    passing = rows.assign(met=True, margin=[0.05, 0.01, 0.02], reason=["p28", "p29", "p30"])
    (v,) = _verdicts(ScenarioRun(None, ()), passing)
    assert (v["verdict"], v["reason"]) == ("pass", "p29"), "else the year with the least margin"
