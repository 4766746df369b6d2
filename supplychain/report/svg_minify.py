"""Make a Graphviz or matplotlib SVG picture smaller without changing what it draws.

The report page inlines some fifty pictures and must stay under 2 MB (issue 19), so each picture
is written with what a reader sees and nothing else. :func:`minify_svg` reads the SVG as a stream
of tags (the two programs write well-formed XML with double-quoted attributes; a tag written
otherwise is passed on untouched) and:

* drops what is never drawn: the ``<metadata>`` block, comments, the XML prolog and DOCTYPE,
  Graphviz's ``<title>`` of a graph, node or edge group (the node's id: the tooltip a reader
  hovers stays, as ``xlink:title``), empty or blank ``<text>`` elements, Graphviz's group classes
  (``graph``, ``node``, ``edge``, ``cluster``: no style sheet uses them), and the layout whitespace
  between elements (kept next to a ``<tspan>``, where it is a space in the text);
* keeps an ``id`` only when something in the picture refers to it (``url(#…)``, ``href="#…"``) and
  renames it ``a``, ``b``, … ``z``, ``ba`` … in order of appearance; a ``<g>`` left with no attribute
  (matplotlib's and Graphviz's named groups) is unwrapped, its children kept in place;
* writes numbers shorter: every coordinate, path, transform, stroke width and font size to 0.1 of a
  point or pixel, finer than a screen shows (:func:`one_decimal`), trailing zeros dropped; path data
  without the spaces around its commands; a colour ``#rrggbb`` whose digits come in pairs as ``#rgb``;
* writes style shorter: ``style`` without the spaces around ``:`` and ``;``; the identity
  ``rotate(0 …)`` and ``scale(1 1)`` of a transform dropped; ``text-anchor`` ``start`` (SVG's
  initial value) dropped where no enclosing element sets another; one ``font-family`` named by every
  text said once, on the ``<svg>`` element.

Every step keeps the drawing as it was: the page's screenshots before and after are the same
picture (``docs/report.md``). The result is still a standalone SVG document (namespaces kept), so
a picture copied out of the page opens on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = ["minify_svg", "one_decimal"]

_DROPPED_TEXT: Final = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>[]*(\[[^\]]*\])?>|<!--.*?-->", re.DOTALL)
_TOKEN: Final = re.compile(r"<[^>]*>|[^<]+")
_TAG: Final = re.compile(r'<(/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(/?)>\Z')
_LOOSE_TAG: Final = re.compile(r"<(/?)([A-Za-z][\w:.-]*)")
_TSPAN: Final = re.compile(r"</?tspan\b")
_TEXT_TAG: Final = re.compile(r"<text\b[^>]*>")
_ATTR: Final = re.compile(r'([\w:.-]+)="([^"]*)"')
_REF: Final = re.compile(r'url\(#([^)\s]+)\)|href="#([^"]*)"')
_DECIMAL: Final = re.compile(r"-?\d+\.\d{2,}")
_COLOUR: Final = re.compile(r"#([0-9a-fA-F])\1([0-9a-fA-F])\2([0-9a-fA-F])\3\b")
_PATH_COMMAND: Final = re.compile(r"\s*([MmLlHhVvCcSsQqTtAaZz])\s*")
_SPACE: Final = re.compile(r"\s+")
_SPACE_MINUS: Final = re.compile(r"(?<=[\d.])\s+(?=-)")
_IDENTITY: Final = re.compile(r"\s*(?:rotate\(-?0(?:\s[^)]*)?\)|scale\(1(?:[\s,]+1)?\)|translate\(0(?:[\s,]+0)?\))\s*")
_TRAILING_ZEROS: Final = re.compile(r"(\d)\.0+\b|(\.\d*?)0+\b")
_NUMERIC: Final = frozenset({"x", "y", "x1", "y1", "x2", "y2", "font-size", "stroke-width", "points", "d", "transform"})
"""Attributes whose numbers are written to 0.1 (a clip rectangle's ``width`` and ``height`` are not: its edge
would move by up to 0.05 pt, a shade's difference on the anti-aliased pixels along it)."""
_COLOURED: Final = frozenset({"fill", "stroke", "color", "stop-color", "flood-color"})
_GRAPHVIZ_GROUPS: Final = frozenset({"graph", "node", "edge", "cluster"})
_DROPPED_ELEMENTS: Final = frozenset({"metadata"})


def one_decimal(number: str) -> str:
    """Write a number to 0.1 (of a point or pixel: finer than a screen shows), trailing zeros dropped.

    Examples
    --------
    >>> one_decimal("1.2345"), one_decimal("-0.04"), one_decimal("12.96"), one_decimal("3")
    ('1.2', '0', '13', '3')
    """
    text = f"{float(number):.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _numbers(value: str) -> str:
    """Round every number of two or more decimals in ``value`` to one (:func:`one_decimal`)."""
    return _DECIMAL.sub(lambda m: one_decimal(m.group(0)), value)


def _short_colour(value: str) -> str:
    """``#rrggbb`` written ``#rgb`` where each pair is one digit twice (the same colour)."""
    return _COLOUR.sub(r"#\1\2\3", value)


def _short_name(n: int) -> str:
    """Return the ``n``-th short id: ``a`` … ``z``, ``ba`` … (letters only, so never a number)."""
    out = ""
    while True:
        out = chr(ord("a") + n % 26) + out
        n //= 26
        if n == 0:
            return out


def _declarations(style: str) -> list[tuple[str, str]]:
    """Return the ``property: value`` pairs of a ``style`` attribute, stripped."""
    pairs = []
    for part in style.split(";"):
        key, sep, value = part.partition(":")
        if sep and key.strip():
            pairs.append((key.strip(), value.strip()))
    return pairs


@dataclass
class _Element:
    """An open element on the stack: its name, whether its tags are dropped, what it makes children inherit."""

    name: str
    unwrapped: bool = False
    dropped: bool = False
    sets: frozenset[str] = field(default_factory=frozenset)
    graphviz_group: bool = False


@dataclass
class _Picture:
    """What :func:`minify_svg` learns of the whole picture before it rewrites it."""

    ids: dict[str, str]
    font: str | None


def _survey(text: str) -> _Picture:
    """Find the ids the picture refers to (renamed in order of appearance) and its one font family, if one.

    The font family is said once, on the ``<svg>``, when one family is named and every ``<text>`` names it.
    """
    referred = {a or b for a, b in _REF.findall(text)}
    ids: dict[str, str] = {}
    fonts: set[str] = set()
    for m in _ATTR.finditer(text):
        key, value = m.groups()
        if key == "id" and value in referred and value not in ids:
            ids[value] = _short_name(len(ids))
        elif key == "font-family":
            fonts.add(value)
        elif key == "style":
            fonts.update(v for k, v in _declarations(value) if k == "font-family")
    texts = _TEXT_TAG.findall(text)
    every_text = all("font-family" in t for t in texts)  # else a text takes the page's font, and must keep it
    font = next(iter(fonts)) if len(fonts) == 1 and every_text else None
    return _Picture(ids, font)


def _said_elsewhere(name: str, key: str, value: str, picture: _Picture, inherited: frozenset[str]) -> bool:
    """Whether an attribute goes: the font said on ``<svg>``, an initial ``text-anchor``, a Graphviz group class."""
    return ((key == "font-family" and picture.font is not None)
            or (key == "text-anchor" and value == "start" and "text-anchor" not in inherited)
            or (key == "class" and name == "g" and value in _GRAPHVIZ_GROUPS))  # fmt: skip


def _style(value: str, picture: _Picture, inherited: frozenset[str]) -> str:
    """Rewrite a ``style`` attribute's declarations shorter (module docstring)."""
    out = []
    for key, val in _declarations(value):
        if _said_elsewhere("", key, val, picture, inherited):
            continue
        out.append(f"{key}:{_short_colour(val) if key in _COLOURED else val}")
    return ";".join(out)


def _attributes(name: str, attrs: list[tuple[str, str]], picture: _Picture,
                inherited: frozenset[str]) -> list[tuple[str, str]]:  # fmt: skip
    """Rewrite one element's attributes shorter, in their order (module docstring)."""
    out = []
    for key, value in attrs:
        if key == "id":
            if value not in picture.ids:
                continue
            value = picture.ids[value]
        elif key in ("xlink:href", "href") and value.startswith("#") and value[1:] in picture.ids:
            value = "#" + picture.ids[value[1:]]
        elif key == "style":
            value = _style(value, picture, inherited)
        elif _said_elsewhere(name, key, value, picture, inherited):
            continue
        elif key == "viewBox":
            value = " ".join(_TRAILING_ZEROS.sub(r"\1\2", v).rstrip(".") or "0" for v in value.split())
        elif key in _NUMERIC and name != "svg":
            value = _numbers(value)
            if key == "d":
                value = _SPACE_MINUS.sub("", _SPACE.sub(" ", _PATH_COMMAND.sub(r"\1", value))).strip()
            elif key == "points":
                value = _SPACE.sub(" ", value).strip()
            elif key == "transform":
                value = _IDENTITY.sub(" ", value).strip()
        elif key in _COLOURED:
            value = _short_colour(value)
        if "url(#" in value:
            value = _REF.sub(lambda m: f"url(#{picture.ids.get(m.group(1), m.group(1))})" if m.group(1)
                             else m.group(0), value)  # fmt: skip
        if value or key not in ("style", "transform"):
            out.append((key, value))
    return out


def minify_svg(svg: str) -> str:
    r"""Return ``svg`` with the same drawing in fewer bytes (module docstring).

    Parameters
    ----------
    svg : str
        An SVG document, as Graphviz or matplotlib write it.

    Returns
    -------
    str
        The SVG document: the ``<svg>`` element and what it holds.

    Examples
    --------
    >>> s = ('<?xml version="1.0"?>\n<svg viewBox="0.00 0.00 150.00 30.50">\n <metadata>x</metadata>\n'
    ...      ' <g id="figure_1">\n  <g id="patch_1"><path d="M 1.2345 0.04 \nL 3 -4 \nz" clip-path="url(#p1)"'
    ...      ' style="fill: #ffffff; stroke-width: 0.8"/></g>\n </g>\n <clipPath id="p1"><rect width="1"/></clipPath>'
    ...      '\n <text text-anchor="start" font-family="Arial" transform="rotate(-0 1 2)">a <tspan>b</tspan></text>'
    ...      '<text font-family="Arial"></text>\n</svg>')
    >>> print(minify_svg(s))  # doctest: +NORMALIZE_WHITESPACE
    <svg viewBox="0 0 150 30.5" font-family="Arial"><path d="M1.2 0L3-4z" clip-path="url(#a)"
    style="fill:#fff;stroke-width:0.8"/><clipPath id="a"><rect width="1"/></clipPath><text>a
    <tspan>b</tspan></text></svg>
    """
    text = _DROPPED_TEXT.sub("", svg).strip()
    picture = _survey(text)
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    stack: list[_Element] = []
    for i, token in enumerate(tokens):
        parent = stack[-1] if stack else None
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        loose = _LOOSE_TAG.match(token)
        if loose is None:  # text, or a tag of another kind (CDATA, processing instruction)
            layout = token.isspace() and not _TSPAN.match(after)
            if not (layout or (parent is not None and parent.dropped)):
                out.append(token)
            continue
        name = loose.group(2)
        if loose.group(1):  # a closing tag
            element = stack.pop() if stack else _Element(name)
            if not (element.unwrapped or element.dropped):
                out.append(token)
            continue
        self_closing = token.endswith("/>")
        m = _TAG.match(token)
        attrs = _ATTR.findall(m.group(3)) if m else []
        dropped = (parent is not None and parent.dropped) or name in _DROPPED_ELEMENTS \
            or (name == "title" and parent is not None and parent.graphviz_group) \
            or (name == "text" and "</text>" in (after, "".join(tokens[i + 1 : i + 3]).strip()))  # draws nothing
        inherited = parent.sets if parent is not None else frozenset()
        graphviz_group = name == "g" and any(k == "class" and v in _GRAPHVIZ_GROUPS for k, v in attrs)
        element = _Element(name, dropped=dropped, sets=inherited, graphviz_group=graphviz_group)
        if not dropped and m is None:  # attributes written some other way: the tag is kept as written
            out.append(token)
        elif not dropped:
            attrs = _attributes(name, attrs, picture, inherited)
            if name == "svg" and parent is None and picture.font is not None:
                attrs.append(("font-family", picture.font))
            element.sets = inherited | {k for k, _ in attrs} | {
                d for k, v in attrs if k == "style" for d, _ in _declarations(v)}
            element.unwrapped = name == "g" and not attrs
            if not element.unwrapped:
                body = "".join(f' {k}="{v}"' for k, v in attrs)
                out.append(f"<{name}{body}{'/' if self_closing else ''}>")
        if not self_closing:
            stack.append(element)
    return "".join(out)
