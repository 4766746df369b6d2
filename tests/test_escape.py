"""Escaping of user text for DOT and Graphviz HTML-like labels, checked by rendering with ``dot``."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from supplychain.report.dot import render, to_dot
from supplychain.report.escape import (
    FORBIDDEN_ATTRS,
    Html,
    clean_text,
    dot_quote,
    format_attrs,
    html_label,
    html_text,
    shorten,
)

needs_dot = pytest.mark.needs_dot  # Graphviz `dot` must be installed (`make setup` does it); never skipped

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

HOSTILE_NAMES = {
    "script": "<script>alert(1)</script>",
    "img": '<IMG SRC="/etc/passwd"/>',
    "breakout": '"]; x [image="/etc/pass',
    "html_breakout": "</B></FONT><IMG SRC='/x'/>",
    "escapes": r"a\Nb \G \l \n end\\",
    "entities": "&amp; &lt;b&gt; &#60;",
    "braces": "} -> { subgraph",
}


# ------------------------------------------------------------------ pure functions
def test_clean_text_makes_controls_visible_and_drops_bidi() -> None:
    assert clean_text("a\x00b\x07c\nd\re\x7f") == "a␀b␇c␊d␍e␡"
    assert clean_text("x\u202ey\u2066z") == "xyz"
    assert clean_text("\x85") == "\ufffd"
    assert clean_text("\ud800") == "\ufffd"
    assert clean_text(None) == ""
    assert clean_text(12.5) == "12.5"


def test_dot_quote_disarms_quotes_and_escape_sequences() -> None:
    assert dot_quote('say "hi"') == '"say \\"hi\\""'
    assert dot_quote("a\\Nb") == '"a\\\\Nb"'
    assert dot_quote("line\nbreak") == '"line␊break"'
    # a trailing backslash cannot escape the closing quote
    assert dot_quote("end\\") == '"end\\\\"'


def test_html_text_escapes_markup() -> None:
    assert html_text("<b>&'\"") == "&lt;b&gt;&amp;&#39;&quot;"
    assert isinstance(html_text("x"), Html)


def test_html_label_needs_trusted_markup() -> None:
    assert html_label(Html("<B>x</B>")) == "<<B>x</B>>"
    with pytest.raises(TypeError, match="needs Html markup"):
        html_label("<B>x</B>")  # type: ignore[arg-type]


@pytest.mark.parametrize("attr", sorted(FORBIDDEN_ATTRS | {"IMAGE", "ShapeFile", "URL", "fontnames"}))
def test_format_attrs_refuses_file_and_link_attributes(attr: str) -> None:
    with pytest.raises(ValueError, match="refusing to write Graphviz attribute"):
        format_attrs({attr: "/etc/passwd"})


def test_format_attrs_quotes_plain_strings_even_if_they_look_like_html() -> None:
    assert format_attrs({"label": "<B>x</B>"}) == ' [label="<B>x</B>"]'
    assert format_attrs({"label": Html("<B>x</B>")}) == " [label=<<B>x</B>>]"
    assert format_attrs({"penwidth": 2.0, "constraint": False, "weight": 3, "style": None}) == (
        " [constraint=false, penwidth=2, weight=3]"
    )


def test_shorten() -> None:
    assert shorten("abc", 5) == "abc"
    assert shorten("abcdefgh", 5) == "abc …"
    with pytest.raises(ValueError, match="at least 2"):
        shorten("abc", 1)


# ------------------------------------------------------------------ through dot
def _hostile_network(node_id: str = "mine") -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    names = list(HOSTILE_NAMES.values())
    ids = [node_id] + [f"fac{i}" for i in range(1, len(names))]
    nodes = pd.DataFrame(
        {
            "node": [*ids, "CN:ore"],
            "kind": ["facility"] * len(ids) + ["market"],
            "country": ["CN"] * (len(ids) + 1),
            "commodity": ["ore"] * (len(ids) + 1),
            "stage": ["ore"] * (len(ids) + 1),
            "name": [*names, ""],
        }
    )
    edges = pd.DataFrame(
        {
            "edge": [f"supply.{i}" for i in ids],
            "supplier": ids,
            "buyer": ["CN:ore"] * len(ids),
            "commodity": ["ore"] * len(ids),
            "tonnes": [100.0 + i for i in range(len(ids))],
        }
    )
    return nodes, edges, dict.fromkeys([*ids, "CN:ore"], 1.0)


def _svg_texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()).replace("\xa0", " ") for t in svg.iter(f"{SVG}text")]


def _assert_inert(svg: ET.Element) -> None:
    tags = {el.tag.removeprefix(SVG) for el in svg.iter()}
    assert not tags & {"script", "image", "foreignObject", "iframe", "use"}
    for el in svg.iter():
        for key in el.attrib:
            assert "href" not in key.lower(), (el.tag, key)
            assert not key.lower().startswith("on"), (el.tag, key)


@needs_dot
def test_hostile_names_render_as_literal_text(tmp_path: pytest.TempPathFactory) -> None:
    nodes, edges, traced = _hostile_network()
    dot = to_dot((nodes, edges), traced=traced, title="<script>alert(1)</script> & co", year=2024)
    out = render(dot, tmp_path / "hostile.svg")  # type: ignore[operator]
    svg = ET.parse(out).getroot()
    _assert_inert(svg)
    texts = _svg_texts(svg)
    for key, name in HOSTILE_NAMES.items():
        assert clean_text(name) in texts, f"{key}: {name!r} not drawn literally; got {texts}"
    assert "<script>alert(1)</script> & co" in texts
    raw = out.read_text(encoding="utf-8")
    assert "<script" not in raw
    assert "<img" not in raw.lower()


@needs_dot
def test_escape_sequences_are_not_expanded(tmp_path: pytest.TempPathFactory) -> None:
    nodes, edges, traced = _hostile_network()
    out = render(to_dot((nodes, edges), traced=traced, title=r"T \N \G \E"), tmp_path / "esc.svg")  # type: ignore[operator]
    texts = _svg_texts(ET.parse(out).getroot())
    assert r"T \N \G \E" in texts
    assert r"a\Nb \G \l \n end\\" in texts
    assert not any("supplychain" in t for t in texts), "graph name leaked through \\G"


@needs_dot
def test_hostile_node_ids_and_control_characters(tmp_path: pytest.TempPathFactory) -> None:
    nodes, edges, traced = _hostile_network(node_id='x"];\ny [image="/etc/passwd"]; "\\')
    nodes.loc[0, "name"] = "bell\x07 nul\x00 rtl\u202eend"
    out = render(to_dot((nodes, edges), traced=traced, title="ids"), tmp_path / "ids.svg")  # type: ignore[operator]
    svg = ET.parse(out).getroot()
    _assert_inert(svg)
    texts = _svg_texts(svg)
    assert "bell␇ nul␀ rtlend" in texts
    titles = ["".join(t.itertext()) for t in svg.iter(f"{SVG}title")]
    assert not any(t == "y" for t in titles), "a node was injected through an id"


@needs_dot
def test_png_of_hostile_network(tmp_path: pytest.TempPathFactory) -> None:
    nodes, edges, traced = _hostile_network()
    out = render(to_dot((nodes, edges), traced=traced, title="png"), tmp_path / "h.png")  # type: ignore[operator]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
