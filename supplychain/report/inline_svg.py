"""SVG pictures inlined into the report page: ids made unique per picture, sized to the page.

An ``<svg>`` written into the page (rather than an ``<img>``) keeps its hover tooltips
(Graphviz writes a node's or flow's ``tooltip`` as ``xlink:title``) and its text
selectable. Every picture on the page then shares one id space: :func:`inline_svg` writes the
picture shorter (:func:`~supplychain.report.svg_minify.minify_svg`: the ids nothing refers to
dropped, the others renamed ``a``, ``b`` …), then prefixes every ``id`` and every reference to
one (``url(#…)``, ``href="#…"``, ``xlink:href="#…"``) with a prefix unique to the picture, and
makes the picture scale down to the page width (``width:100%`` with the natural width as
``max-width``, the ``viewBox`` kept), so a network never makes the page scroll sideways.

The SVG comes from Graphviz and matplotlib, which escape the user text they draw;
as a second guard the picture is refused when it holds an element or attribute that
could run script or load something (``script``, ``foreignObject``, ``image``,
``on…=`` handlers, a reference that is not ``#local``). The page's
Content-Security-Policy forbids scripts as a third.
"""

from __future__ import annotations

import re
from typing import Final

import markupsafe

from supplychain.report.svg_minify import minify_svg

__all__ = ["UnsafeSvgError", "inline_svg", "natural_width"]

_ID: Final = re.compile(r'\bid="([^"]+)"')
_URL_REF: Final = re.compile(r"url\(#([^)\s]+)\)")
_HREF: Final = re.compile(r'\b((?:xlink:)?href)="([^"]*)"')
_UNSAFE_TAG: Final = re.compile(r"<\s*(script|foreignObject|image|iframe|object|embed|use\b[^>]*href=\"[^#])",
                                re.IGNORECASE)
_HANDLER: Final = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
_SVG_OPEN: Final = re.compile(r"<svg\b[^>]*>", re.DOTALL)
_SIZE: Final = re.compile(r'\s(width|height)="([\d.]+)(pt|px)?"')


class UnsafeSvgError(ValueError):
    """An SVG picture holds something that could run script or fetch a resource."""


def natural_width(svg: str) -> float | None:
    """Width of the picture in CSS pixels (``pt`` × 96/72), from the ``<svg>`` element.

    Examples
    --------
    >>> natural_width('<svg width="72pt" height="10pt"></svg>'), natural_width("<svg></svg>")
    (96.0, None)
    """
    head = _SVG_OPEN.search(svg)
    if head is None:
        return None
    for key, value, unit in _SIZE.findall(head.group(0)):
        if key == "width":
            return float(value) * (96 / 72 if unit == "pt" else 1.0)
    return None


def inline_svg(svg: bytes | str, prefix: str, *, label: str = "") -> markupsafe.Markup:
    r"""Return ``svg`` ready to be written into an HTML page (module docstring).

    Parameters
    ----------
    svg : bytes or str
        An SVG document from Graphviz or matplotlib.
    prefix : str
        Unique on the page (letters, digits, ``-``); every id becomes ``{prefix}-{id}``.
    label : str, optional
        Accessible name of the picture (``aria-label``, escaped).

    Returns
    -------
    markupsafe.Markup
        The ``<svg>`` element.

    Raises
    ------
    UnsafeSvgError
        The picture holds a script, an embedded object, an event handler or a link
        that is not to an id within the picture.
    ValueError
        ``prefix`` holds other characters than letters, digits and ``-``, or ``svg``
        has no ``<svg>`` element.

    Examples
    --------
    >>> s = ('<?xml version="1.0"?><svg width="150pt" height="30pt" viewBox="0 0 150 30"><g id="node1">'
    ...      '<clipPath id="c1"><rect/></clipPath><a xlink:title="x"><path d="M 1.2345 0.04" clip-path="url(#c1)"/>'
    ...      '</a></g></svg>')
    >>> print(inline_svg(s, "p1"))  # doctest: +NORMALIZE_WHITESPACE
    <svg style="width:100%;height:auto;max-width:200px" viewBox="0 0 150 30"><clipPath id="p1-a"><rect/></clipPath><a
    xlink:title="x"><path d="M1.2 0" clip-path="url(#p1-a)"/></a></svg>
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", prefix):
        msg = f"an SVG id prefix is letters, digits and '-', starting with a letter; got {prefix!r}"
        raise ValueError(msg)
    text = minify_svg(svg.decode("utf-8") if isinstance(svg, bytes) else svg)
    if _UNSAFE_TAG.search(text) or _HANDLER.search(text):
        msg = "the SVG picture holds a script, an embedded object or an event handler; it is not inlined"
        raise UnsafeSvgError(msg)
    for _, ref in _HREF.findall(text):
        if not ref.startswith("#"):
            msg = f"the SVG picture links to {ref[:60]!r}; only links within the picture are inlined"
            raise UnsafeSvgError(msg)
    head = _SVG_OPEN.search(text)
    if head is None:
        msg = "not an SVG picture: no <svg> element"
        raise ValueError(msg)
    width = natural_width(text)
    size = ' style="width:100%;height:auto' + (f";max-width:{round(width)}px" if width else "") + '"'
    if label:
        size += f' role="img" aria-label="{markupsafe.escape(label)}"'
    tag = _SIZE.sub("", head.group(0)).replace("<svg", "<svg" + size, 1)
    text = text[: head.start()] + tag + text[head.end() :]
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = _URL_REF.sub(lambda m: f"url(#{prefix}-{m.group(1)})", text)
    text = _HREF.sub(lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)[1:]}"', text)
    return markupsafe.Markup(text)  # SVG from Graphviz/matplotlib, checked above
