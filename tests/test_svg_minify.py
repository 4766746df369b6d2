"""The report's SVG minifier: the same drawing in fewer bytes (issue 19: the page under 2 MB).

Each rule of :func:`supplychain.report.svg_minify.minify_svg` is checked on a small picture
written by hand, its expected output worked out in the test; then a real matplotlib chart and a
real Graphviz picture are minified and read back as XML: the same texts, tooltips, drawn shapes
and references, in fewer bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from matplotlib.figure import Figure

from supplychain.report.charts import figure_svg
from supplychain.report.dot import render_bytes
from supplychain.report.svg_minify import minify_svg, one_decimal

needs_dot = pytest.mark.needs_dot

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def _svg(body: str, head: str = "") -> str:
    return f'<?xml version="1.0"?>\n<!-- made by hand -->\n<svg {NS}{head}>\n {body}\n</svg>\n'


def test_one_decimal() -> None:
    # 0.1 of a point: 1.2345 → 1.2, 12.96 → 13.0 → "13", -0.04 → -0.0 → "0" (no minus zero)
    assert [one_decimal(x) for x in ("1.2345", "12.96", "-0.04", "-3.25", "7")] == ["1.2", "13", "0", "-3.2", "7"]


def test_ids_kept_only_when_referred_to_and_renamed_in_order() -> None:
    # matplotlib names every group (figure_1, axes_1 …) and refers only to its clip paths and markers
    # (p…, m…): the groups lose their ids and, with nothing left on them, their tags; the clip path
    # defined first becomes "a", the marker "b", and every url(#…) and xlink:href follows
    body = ('<g id="figure_1"><g id="axes_1"><clipPath id="p9f"><rect x="1" y="2" width="3" height="4"/></clipPath>'
            '<defs><path id="m12" d="M 0 0 L 0 3.5"/></defs>'
            '<g clip-path="url(#p9f)"><use xlink:href="#m12" x="5" y="6"/></g></g></g>')
    assert minify_svg(_svg(body)) == (
        f'<svg {NS}><clipPath id="a"><rect x="1" y="2" width="3" height="4"/></clipPath>'
        '<defs><path id="b" d="M0 0L0 3.5"/></defs><g clip-path="url(#a)"><use xlink:href="#b" x="5" y="6"/></g></svg>')


def test_graphviz_groups_lose_titles_and_classes_not_tooltips() -> None:
    # a Graphviz node: <g id class="node"><title>node id</title><g id="a_node1"><a xlink:title=tooltip> …;
    # the title (the node's id, shown by no browser over the tooltip) and the class (no style sheet uses
    # it) go, the groups unwrap, the <a> with its tooltip stays around the shapes
    body = ('<g id="node1" class="node">\n<title>US:magnet</title>\n<g id="a_node1"><a xlink:title="US · 5 t">\n'
            '<polygon fill="#ffffb2" stroke="transparent" points="0,0  10,0 10,10"/>\n'
            '<text text-anchor="middle" x="5" y="5" font-size="9.00">US</text>\n</a>\n</g>\n</g>')
    assert minify_svg(_svg(body)) == (
        f'<svg {NS}><a xlink:title="US · 5 t"><polygon fill="#ffffb2" stroke="transparent" '
        'points="0,0 10,0 10,10"/><text text-anchor="middle" x="5" y="5" font-size="9">US</text></a></svg>')


def test_numbers_paths_colours_and_transforms() -> None:
    # coordinates to 0.1 (184.315776 → 184.3, 63.129089 → 63.1), path commands without spaces and "1 -2" as
    # "1-2" (the minus separates), #ffffff → #fff and #222222 → #222 but #0072b2 kept (pairs differ),
    # rotate(-0 …) is no rotation and goes, rotate(-90 …) stays; viewBox's trailing zeros go, its digits stay
    body = ('<path d="M 51.591412 184.315776 \nL 305.420319 -184.315776 \nz\n" style="fill: #ffffff; stroke: #0072b2"/>'
            '<text style="font-size: 9px; fill: #222222" x="63.129089" y="198.1" '
            'transform="rotate(-0 63.1 198.1)">a</text>'
            '<text x="9.8" y="104.4" transform="rotate(-90 9.8 104.4)">b</text>')
    out = minify_svg(_svg(body, ' width="835.2pt" viewBox="0.00 0.00 835.20 469.44"'))
    assert out == (
        f'<svg {NS} width="835.2pt" viewBox="0 0 835.2 469.44"><path d="M51.6 184.3L305.4-184.3z" '
        'style="fill:#fff;stroke:#0072b2"/><text style="font-size:9px;fill:#222" x="63.1" y="198.1">a</text>'
        '<text x="9.8" y="104.4" transform="rotate(-90 9.8 104.4)">b</text></svg>')


def test_one_font_said_once_and_start_anchor_dropped_only_where_it_is_the_initial_value() -> None:
    # every text in Helvetica: said once on <svg>; text-anchor start is SVG's initial value, dropped,
    # except under a group that sets another anchor (there "start" overrides the inherited "end")
    body = ('<text text-anchor="start" font-family="Helvetica,sans-Serif" x="1">a</text>'
            '<g text-anchor="end"><text text-anchor="start" font-family="Helvetica,sans-Serif" x="2">b</text></g>')
    assert minify_svg(_svg(body)) == (
        f'<svg {NS} font-family="Helvetica,sans-Serif"><text x="1">a</text>'
        '<g text-anchor="end"><text text-anchor="start" x="2">b</text></g></svg>')
    # two families: each text keeps its own
    two = '<text style="font-family: \'DejaVu Sans\'">a</text><text font-family="Times">b</text>'
    assert minify_svg(_svg(two)) == (
        f'<svg {NS}><text style="font-family:\'DejaVu Sans\'">a</text><text font-family="Times">b</text></svg>')


def test_whitespace_metadata_and_empty_texts() -> None:
    # layout whitespace between tags goes, but not next to a <tspan> (there it is a space of the text);
    # metadata and a text with nothing (or one space) to draw go
    body = ('<metadata>\n  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n </metadata>\n'
            ' <text x="1">a <tspan>b</tspan> <tspan>c</tspan>\n</text>\n <text x="2"> </text><text x="3"></text>')
    assert minify_svg(_svg(body)) == f'<svg {NS}><text x="1">a <tspan>b</tspan> <tspan>c</tspan></text></svg>'


def test_a_tag_written_otherwise_is_kept_as_written() -> None:
    # single-quoted attributes are not what Graphviz or matplotlib write: the tag passes untouched,
    # and its element still nests (its closing tag is kept, the bare group around it unwrapped)
    body = "<g><path d='M 0.123 0' id='x'>\n</path></g><g><g id=\"u\"/></g>"
    assert minify_svg(_svg(body)) == f"<svg {NS}><path d='M 0.123 0' id='x'></path></svg>"


def _drawn(root: ET.Element) -> dict[str, int]:
    """How many of each drawing element the picture holds (texts with something to draw)."""
    counts: dict[str, int] = {}
    for el in root.iter():
        tag = el.tag.removeprefix(SVG)
        if tag in ("path", "polygon", "polyline", "ellipse", "rect", "use", "clipPath") or (
                tag == "text" and "".join(el.itertext()).strip()):
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def _same_drawing(raw: str, small: str) -> None:
    before, after = ET.fromstring(raw.encode()), ET.fromstring(small)
    assert _drawn(after) == _drawn(before)
    texts = [["".join(t.itertext()) for t in r.iter(f"{SVG}text") if "".join(t.itertext()).strip()]
             for r in (before, after)]
    assert texts[0] == texts[1]
    tips = [[e.get(f"{XLINK}title") for e in r.iter() if e.get(f"{XLINK}title")] for r in (before, after)]
    assert tips[0] == tips[1]
    ids = {e.get("id") for e in after.iter()} - {None}
    refs = [v.split("#", 1)[1].rstrip(")") for e in after.iter() for v in e.attrib.values()
            if v.startswith(("#", "url(#"))]  # fmt: skip
    assert refs
    assert set(refs) <= ids, "every reference resolves"
    assert len(ids) == len(set(refs)), "no id that nothing refers to"


def test_matplotlib_chart_same_drawing_in_fewer_bytes() -> None:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([2024, 2025, 2026], [0.1, 0.52, 0.3], marker="o", label="base")
    ax.plot([2024, 2025, 2026], [0.0, 0.2, 0.25], linestyle="--", label="deal")
    ax.set_ylabel("share of demand unmet")
    ax.legend()
    raw = figure_svg(fig)
    small = minify_svg(raw)
    _same_drawing(raw, small)
    assert len(small) < 0.6 * len(raw)


@needs_dot
def test_graphviz_picture_same_drawing_in_fewer_bytes() -> None:
    dot = ('digraph g { node [shape=box fontname="Helvetica,sans-Serif"]; '
           'a [label="US magnets" tooltip="US · 5 t"]; b [label="JP" tooltip="JP · 2 t"]; '
           'a -> b [tooltip="5 t" penwidth=2.5]; b -> a [style=dashed] }')
    raw = render_bytes(dot, "svg").decode("utf-8")
    small = minify_svg(raw)
    before, after = ET.fromstring(raw.encode()), ET.fromstring(small)
    assert _drawn(after) == _drawn(before)
    assert [t.text for t in after.iter(f"{SVG}text")] == ["US magnets", "JP"]
    assert [e.get(f"{XLINK}title") for e in after.iter(f"{SVG}a")] == ["US · 5 t", "JP · 2 t", "5 t"]
    assert not any(e.get("id") for e in after.iter()), "Graphviz refers to none of its ids"
    assert len(small) < 0.7 * len(raw)


def test_font_not_hoisted_over_a_text_without_one() -> None:
    # the second text names no family and takes the page's (inherited); said on <svg>, Helvetica would
    # reach it too: each text keeps what it had
    body = '<text font-family="Helvetica">a</text><text>b</text>'
    assert minify_svg(_svg(body)) == f'<svg {NS}><text font-family="Helvetica">a</text><text>b</text></svg>'
