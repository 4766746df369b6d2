"""The bundled report as a briefing reader gets it: answers first, reasons, sources once, light, no fetches.

One report of every bundled scenario (``supplychain report scenarios/``) is written once for
the module; the checks read its ``index.html`` as text and through :mod:`html.parser`, and
one test loads it in Debian's headless Chromium (``.ci/install-system-deps`` installs it)
to check that the page never scrolls sideways at 1,400 px.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from supplychain.io import validate_paths
from supplychain.report.answers import Series, _cell, peak
from supplychain.report.html import ScenarioRun, run_scenario, write_report
from supplychain.report.inline_svg import UnsafeSvgError, inline_svg
from supplychain.report.runs import focus_of

REPO = Path(__file__).resolve().parents[1]
MAX_PAGE_BYTES = 2_000_000
"""The bundled report's index.html weighs at most this (issue 19: ≤ 2 MB)."""

needs_dot = pytest.mark.needs_dot


@pytest.fixture(scope="module")
def bundled_runs() -> list[ScenarioRun]:
    reports = validate_paths([REPO / "scenarios"])
    assert reports
    assert all(r.error is None for r in reports)
    return [run_scenario(r.scenario, file=r.file) for r in reports if r.scenario is not None]


@pytest.fixture(scope="module")
def bundled(bundled_runs: list[ScenarioRun], tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which("dot"), "Graphviz 'dot' is not installed: run `make setup`"
    return write_report(bundled_runs, tmp_path_factory.mktemp("bundled") / "report")


class _Page(HTMLParser):
    """Start tags in order (tag, attrs), ids, and the text of every table cell by table."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, dict[str, str]]] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._stack: list[list[list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._stack and self._stack[-1]:
            self._stack[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    @property
    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.starts if "id" in a]


def _page(folder: Path) -> _Page:
    p = _Page()
    p.feed((folder / "index.html").read_text(encoding="utf-8"))
    p.close()
    return p


# ---------------------------------------------------------------------- the page
@needs_dot
def test_answers_come_first_one_per_focus_country(bundled: Path, bundled_runs: list[ScenarioRun]) -> None:
    page = _page(bundled)
    ids = page.ids
    focus = focus_of(bundled_runs)
    assert focus == ["US"], "the bundled targets are all about the United States"
    answers = [i for i in ids if i.startswith("answer-")]
    assert answers == [f"answer-{c.lower()}" for c in focus]
    first_scenario = next(i for i, x in enumerate(ids) if x.startswith("sc-"))
    assert max(ids.index(a) for a in answers) < first_scenario, "answers before any scenario detail"
    raw = (bundled / "index.html").read_text(encoding="utf-8")
    assert "United States: Sintered NdFeB permanent magnets" in raw, "the US answer is about magnets by default"
    details = [a for t, a in page.starts if t == "details"]
    assert len(details) == len(bundled_runs), "every scenario's detail folds"


@needs_dot
def test_answer_rows_every_variant_with_a_peak_year(bundled: Path, bundled_runs: list[ScenarioRun]) -> None:
    page = _page(bundled)
    # the peak column reads the years after the base year (review 4, R-10b: over every year it was 2024 in every row)
    table = next(t for t in page.tables
                 if t and t[0][:2] == ["scenario", "variant"] and "peak after 2024 (year)" in t[1])
    rows = table[2:]
    with_magnets = sum(len(r.results) for r in bundled_runs
                       if ((r.results[0].shortfall["country"] == "US")
                           & (r.results[0].shortfall["commodity"] == "ndfeb_magnet")).any())  # fmt: skip
    assert len(rows) == with_magnets, "one row per scenario × variant that has US magnet use"
    for row in rows:
        assert len(row) == 12, "scenario, variant, 3 × (base year, peak, horizon), targets"
        assert re.fullmatch(r"–|\d+/\d+ pass", row[11]), row[11]
        for peak_cell in (row[3], row[6], row[9]):
            assert re.fullmatch(r"(<1|>99|\d+)% \(20\d\d\)( ‡)?", peak_cell), peak_cell
            assert int(peak_cell.split("(")[1][:4]) > 2024, "the peak after the base year"
    # china_full_ban_2025 base: US magnet users 90 % short in 2030 (11,485 of 12,783 t) while US
    # makers ship 1,000 t to the rest of the world (max-min fair under contracts_first): the
    # shortfall cells say so
    base = next(r for r in rows if r[0] == "china_full_ban_2025")
    assert base[9:11] == ["90% (2030) ‡", "90% ‡"]
    # framework_under_full_ban: US magnets 0 % traced in 2030 and short: the cell is marked, not shaded good
    raw = (bundled / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<td class="unmet" title="[^"]*of demand unmet[^"]*">0%</td>', raw)


@needs_dot
def test_section_headline_marks_unmet_by_the_answers_rule(bundled: Path) -> None:
    # a scenario section's traced share "base → horizon" read while demand goes short at the horizon is
    # marked as the answer's cells are (report.answers.mark_unmet), its note naming the horizon year
    raw = (bundled / "index.html").read_text(encoding="utf-8")
    note = r"(&lt;1|\d+)% of demand unmet in 20\d\d: the traced share counts only what arrives"
    assert re.search(rf'<td class="unmet" title="{note}">\d+% → 0%</td>', raw), "framework under the full ban"
    assert not re.search(r'<td class="unmet" style=', raw), "a marked cell is not shaded on the share scale"


def _md_rows(text: str, first_header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose first header cell is ``first_header``, cells unescaped."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([re.sub(r"\\(.)", r"\1", c.strip()) for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


@needs_dot
def test_summary_md_opens_with_the_pages_answers(bundled: Path) -> None:
    # summary.md carries the answer the page opens with: same heading, same sentence, and the same
    # table cell for cell (the page's text from report.numbers: "96%", "18% (2025)", "0/5 pass"); the
    # page's hatched "unmet" cells carry a † instead. Scenario names are on a group's first row only
    # in both.
    md = (bundled / "summary.md").read_text(encoding="utf-8")
    assert md.index("## United States: Sintered NdFeB permanent magnets") < md.index("## Overview")
    page = _page(bundled)
    html_rows = next(t for t in page.tables
                     if t and t[0][:2] == ["scenario", "variant"] and "peak after 2024 (year)" in t[1])[2:]
    md_rows = _md_rows(md, "scenario")
    assert len(md_rows) == len(html_rows) > 0
    marked = 0
    for mine, theirs in zip(md_rows, html_rows, strict=True):
        marked += sum(c.endswith(" †") for c in mine)
        assert [c.removesuffix(" †") for c in mine] == theirs
    raw = (bundled / "index.html").read_text(encoding="utf-8")
    answer = raw[raw.index('<section class="answer"'):]
    answer = answer[:answer.index("</section>")]
    assert marked == answer.count('<td class="unmet"') > 0, "every unmet cell of the answer is marked, no other"
    others = _md_rows(md, "United States also uses")
    page_others = next(t for t in page.tables if t and t[0][0] == "United States also uses")[1:]
    assert others == page_others


@needs_dot
def test_every_target_row_has_a_reason(bundled: Path) -> None:
    meta = json.loads((bundled / "results.json").read_text(encoding="utf-8"))
    targets = [t for sc in meta["scenarios"] for t in sc["targets"]]
    assert targets, "the bundled scenarios set targets"
    for t in targets:
        assert re.match(r"(passes|fails|no data)\b", t["reason"]), t
        assert re.search(r"\d+(\.\d)?%", t["reason"]), t["reason"]
        assert t["reason"].startswith("passes") == (t["verdict"] == "pass"), t
    page = _page(bundled)
    shown = [row for table in page.tables if table and "reason" in table[0] for row in table[1:]]
    assert len(shown) == len(targets), "every target row of the page has its reason"
    for row in shown:
        assert any(re.match(r"(passes|fails|no data)\b", cell) for cell in row), row


@needs_dot
def test_sources_table_once(bundled: Path, bundled_runs: list[ScenarioRun]) -> None:
    page = _page(bundled)
    tables = [t for t in page.tables if t and "cited by" in t[0]]
    assert len(tables) == 1, "one sources table for every scenario"
    ids = [row[0] for row in tables[0][1:]]
    every = {sid for r in bundled_runs if r.scenario is not None for sid in r.scenario.sources}
    assert set(ids) == every
    assert len(ids) == len(set(ids)), "each source once"
    assert page.ids.count("sources") == 1


@needs_dot
def test_page_parses_light_and_fetches_nothing(bundled: Path) -> None:
    raw = (bundled / "index.html").read_text(encoding="utf-8")
    size = (bundled / "index.html").stat().st_size
    assert size <= MAX_PAGE_BYTES, f"index.html weighs {size:,} bytes"
    page = _page(bundled)
    ids = page.ids
    assert len(ids) == len(set(ids)), "ids are unique, inside the inlined pictures too"
    for tag, attrs in page.starts:
        assert "src" not in attrs, (tag, attrs["src"][:60])
        for key in ("href", "xlink:href"):
            ref = attrs.get(key, "")
            if ref.startswith("#"):
                assert ref[1:] in ids, f"{tag} {key}={ref} points nowhere"
            elif ref:
                assert tag == "a", (tag, key, ref)
                local = re.fullmatch(r"[a-z_]+\.(csv|json|md|xlsx|csv\.gz)", ref)
                assert ref.startswith(("images/", "https://", "http://")) or local, ref
                assert not local or (bundled / ref).is_file(), f"the page links {ref}, which was not written"
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    assert {t for t, _ in page.starts}.isdisjoint({"script", "img", "iframe", "link", "object", "embed"})
    assert not re.search(r"@import|url\((?!#)|@font-face", raw)
    linked = {ref for _, a in page.starts for ref in [a.get("href", "")] if ref.startswith("images/")}
    assert linked
    assert all((bundled / ref).is_file() for ref in linked), "every linked picture was written"
    assert not list((bundled / "images").glob("*.png")), "no PNG unless asked for"


# ---------------------------------------------------------------------- in a browser
def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@needs_dot
def test_page_fits_1400_px_in_chromium(bundled: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("Debian's `chromium` is not on PATH: run `make setup` (.ci/install-system-deps installs it)")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,900"]
    shot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={shot}", (bundled / "index.html").as_uri()], check=True,
                   capture_output=True, timeout=180)  # fmt: skip
    assert _png_size(shot) == (1400, 900)
    # the page forbids scripts (Content-Security-Policy); a copy without that line, every section unfolded,
    # gets a script that writes what it measures into the DOM for --dump-dom
    probe = """<script>
document.querySelectorAll('details').forEach(d => { d.open = true; });
const vw = document.documentElement.clientWidth;
const answer = document.querySelector('section.answer').getBoundingClientRect();
let widest = 0;
document.querySelectorAll('main *').forEach(e => { widest = Math.max(widest, e.getBoundingClientRect().right); });
document.body.setAttribute('data-probe', JSON.stringify({vw: vw, scroll: document.documentElement.scrollWidth,
  answer: answer.right, widest: widest}));
</script></body>"""
    raw = (bundled / "index.html").read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", raw).replace("</body>", probe)
    copy = bundled / "probe.html"
    copy.write_text(page, encoding="utf-8")
    try:
        dom = subprocess.run([*flags, "--dump-dom", copy.as_uri()], check=True, capture_output=True, text=True,
                             timeout=180).stdout  # fmt: skip
    finally:
        copy.unlink()
    m = re.search(r"data-probe=\"([^\"]*)\"", dom)
    assert m, "the probe did not run"
    probe_out = json.loads(m.group(1).replace("&quot;", '"'))
    assert probe_out["vw"] <= 1400
    assert probe_out["answer"] <= probe_out["vw"], f"the answer table is wider than the window: {probe_out}"
    assert probe_out["scroll"] <= probe_out["vw"], f"the page scrolls sideways: {probe_out}"
    assert probe_out["widest"] <= probe_out["vw"] + 0.5, f"something sticks out of the page: {probe_out}"


# ---------------------------------------------------------------------- pieces
def test_peak_is_the_first_year_of_the_largest_value() -> None:
    # shortfall 0, 28 %, 52 %, 54 %, 45 % (US magnets under the full ban with the framework, rounded): 54% in 2027
    s = Series((2024, 2025, 2026, 2027, 2028), (0.0, 0.28, 0.52, 0.54, 0.45))
    assert peak(s) == (0.54, 2027)
    # round-off below 1e-9 is a tie, and the first year wins
    assert peak(Series((2024, 2025), (0.3, 0.3 + 1e-12))) == (0.3, 2024)


def test_zero_china_share_is_not_good_while_demand_is_unmet() -> None:
    short = _cell("traced_share", 0.0, None, 0.52)
    assert short["cls"] == "unmet"
    assert short["bg"] == "", "not shaded on the share scale"
    assert "52%" in short["note"]
    met = _cell("traced_share", 0.0, None, 0.0)
    assert met["cls"] == ""
    assert met["bg"] == "#ffffb2", "0 % with all demand met is the scale's lowest step"
    assert _cell("shortfall_share", 0.3, 2026, 0.3)["text"] == "30% (2026)"


def test_inline_svg_prefixes_ids_and_refuses_scripts() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="720pt" '
           'height="72pt" viewBox="0 0 720 72"><defs><clipPath id="c"><rect/></clipPath></defs>'
           '<g id="node1" class="node"><title>US:x</title><a xlink:title="US · 5 t"><path clip-path="url(#c)" '
           'd="M 0.123456 1.98765"/></a></g><use xlink:href="#c"/></svg>')
    out = str(inline_svg(svg, "fig-a"))
    # the clip path, referred to, is renamed "a" (svg_minify) and prefixed; node1, referred to by nothing, loses its id
    wanted = ('id="fig-a-a"', "url(#fig-a-a)", 'xlink:href="#fig-a-a"', 'xlink:title="US · 5 t"')
    for part in wanted:
        assert part in out, part
    assert "node1" not in out
    assert "<title>" not in out, "Graphviz's node ids are dropped; the tooltip stays"
    assert "max-width:960px" in out, "720 pt = 960 CSS px, never wider than its natural size"
    assert 'd="M0.1 2"' in out
    for bad in ('<svg><script>alert(1)</script></svg>', '<svg><g onload="x()"/></svg>',
                '<svg><a xlink:href="https://example.org/x"/></svg>', '<svg><image href="x.png"/></svg>'):
        with pytest.raises(UnsafeSvgError):
            inline_svg(bad, "p")
    with pytest.raises(ValueError, match="prefix"):
        inline_svg(svg, "1 bad")


@pytest.mark.parametrize("ranked", [True, False])
def test_page_shows_the_star_footnote_only_with_a_starred_share(tmp_path: Path, ranked: bool) -> None:
    """The answer's footnote for a share built on a ranked-source split, on the page itself (review s33).

    The small command-line world with the US's 3,000 t of NdPr oxide written as one ``imports``
    record (China 2/3, Malaysia 1/3: the 2,000 t and 1,000 t of its two flows).
    Written as a ranked-source split (an ``assumption`` starting RANKED-SOURCE SPLIT), the US
    answer's exposure and traced cells carry the star and the page prints, once, the footnote
    ``* import shares assumed from a ranked list ...``; with the same shares from a source, no
    cell is starred and the footnote is absent.
    """
    from supplychain.io import load
    from supplychain.report.numbers import ASSUMED_MARK, ASSUMED_NOTE
    from supplychain.schema.assumptions import ASSUMED_SPLIT

    small = (Path(__file__).parent / "data" / "cli" / "small.yaml").read_text(encoding="utf-8")
    why = f'assumption: "{ASSUMED_SPLIT} (assumption): ranked China, Malaysia"' if ranked else "source: chapter"
    record = ("imports:\n  us_ndpr:\n    {importer: US, commodity: ndpr, year: 2024, remainder_to: MY,\n"
              "     total: {value: 3000, assumption: illustrative},\n"
              f"     partners: {{CN: {{value: 0.6666666666666666, {why}}},\n"
              f"                 MY: {{value: 0.3333333333333333, {why}}}}}}}\n")
    text = (small.replace("../../../schema", str(Path(__file__).parent.parent / "schema"))
            .replace("  cn_us_ndpr:", "  # cn_us_ndpr:").replace("  my_us_ndpr:", "  # my_us_ndpr:")
            .replace("demand:\n", record + "demand:\n", 1))
    if not ranked:
        text = text.replace("scenario:\n", "sources:\n  chapter: {title: A chapter's percentages}\nscenario:\n", 1)
    path = tmp_path / "small.yaml"
    path.write_text(text, encoding="utf-8")
    sc = load(path)
    out = write_report([run_scenario(sc, mode="fixed", file=path.name)], tmp_path / "report", countries=("US",))
    page = (out / "index.html").read_text(encoding="utf-8")
    answer = page.split('class="answer', 1)[1].split("</section>", 1)[0]
    starred = re.findall(r"%(?: \(\d{4}\))? \*</td>", answer)  # a share cell with the mark
    if ranked:
        assert len(starred) == 12  # rows base and no_ban x (exposure, traced) x (base year, peak, horizon)
        assert page.count(f"{ASSUMED_MARK} {ASSUMED_NOTE}.") == 1
    else:
        assert starred == []
        assert ASSUMED_NOTE not in page
