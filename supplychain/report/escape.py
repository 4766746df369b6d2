r"""Escaping of user text: every text output, DOT source and Graphviz HTML-like labels.

:func:`clean_text` is the one function that makes user text safe to show: the
command line's messages and tables, the HTML and Markdown reports, progress bars
and DOT files all pass user text through it, so an escape sequence written into
an id or a name (``"\e]0;X\a\e[2J"``) can neither clear a terminal nor set its
title, and a right-to-left override cannot make a page read differently from
what it holds. Every string that reaches a DOT file from a scenario (facility
names, country and commodity ids, titles) passes through this module. The rules:

* **Visible, inert text.** Control characters (C0, DEL) become their Unicode
  "control picture" (``\x07`` → ``␇``), C1 controls and unpaired surrogates
  become ``�``, and bidirectional overrides (which can make text read
  differently from what it is) are removed. A newline in a name is shown as
  ``␊``, never as a line break.
* **Quoted DOT strings.** :func:`dot_quote` doubles every backslash and escapes
  every double quote, so Graphviz escape sequences (``\N``, ``\G``, ``\l`` …)
  cannot leak from user text: ``a\Nb`` is drawn as the six characters
  ``a\Nb``, not as the node's name.
* **HTML-like labels.** :func:`html_text` escapes ``&``, ``<``, ``>``, ``"`` and
  ``'``, so a name such as ``<IMG SRC="/etc/passwd"/>`` is drawn as text and can
  never become an element. Graphviz also expands ``\N``-style escapes inside
  HTML-like labels (after decoding entities, so ``&#92;`` would not help), so
  backslashes are doubled there too. Markup is only ever assembled by this package, from
  escaped pieces, and marked as :class:`Html`.
* **No file references.** :func:`format_attrs` accepts only the attributes in
  :data:`ALLOWED_ATTRS`; ``image``, ``shapefile``, ``imagepath``, ``fontpath``,
  ``stylesheet``, ``URL``/``href`` and friends are refused outright, whatever
  their value.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Mapping
from typing import Final

__all__ = [
    "ALLOWED_ATTRS",
    "FORBIDDEN_ATTRS",
    "Html",
    "clean_text",
    "dot_quote",
    "format_attrs",
    "html_label",
    "html_text",
    "shorten",
    "wrap_words",
]

FORBIDDEN_ATTRS: Final = frozenset(
    {"image", "imagepath", "imagescale", "shapefile", "fontpath", "stylesheet", "url", "href", "target", "id"}
)
"""Graphviz attributes that can read local files or emit links; never written (compared lower-case)."""

ALLOWED_ATTRS: Final = frozenset(
    {
        "arrowhead",
        "arrowsize",
        "bgcolor",
        "color",
        "compound",
        "concentrate",
        "constraint",
        "dir",
        "fillcolor",
        "fixedsize",
        "fontcolor",
        "fontname",
        "fontsize",
        "forcelabels",
        "height",
        "label",
        "labeljust",
        "labelloc",
        "margin",
        "minlen",
        "newrank",
        "nodesep",
        "outputorder",
        "pad",
        "penwidth",
        "peripheries",
        "rank",
        "rankdir",
        "ranksep",
        "shape",
        "splines",
        "style",
        "tooltip",
        "weight",
        "width",
        "xlabel",
    }
)
"""The only attribute names :func:`format_attrs` will write."""

_BIDI: Final = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
_TRANSLATE: Final[dict[int, str]] = {
    **{c: chr(0x2400 + c) for c in range(0x20)},
    0x7F: "\u2421",
    **dict.fromkeys(range(128, 160), "�"),
    **{ord(c): "" for c in _BIDI},
}
_KEEP_LINES: Final[dict[int, str]] = {**_TRANSLATE, ord("\n"): "\n", ord("\t"): "\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")


class Html(str):
    """Trusted Graphviz HTML-like markup, assembled by this package from escaped parts.

    Only values of this type are written as ``<...>`` labels by :func:`format_attrs`;
    a plain ``str`` is always written as a quoted, escaped string.
    """

    __slots__ = ()


def clean_text(text: object, *, newlines: bool = False) -> str:
    r"""Make any value safe, visible plain text.

    Parameters
    ----------
    text : object
        Any value; ``None`` becomes the empty string, others are ``str()``-ed.
    newlines : bool, default False
        Keep line feeds and tabs (multi-line messages, HTML text); otherwise
        they are shown as ``␊`` and ``␉`` too.

    Returns
    -------
    str
        NFC-normalised text in which C0 controls and DEL are shown as Unicode
        control pictures, C1 controls and lone surrogates as U+FFFD, and
        bidirectional controls are removed.

    Examples
    --------
    >>> clean_text("Lynas\nMalaysia\x00")
    'Lynas␊Malaysia␀'
    >>> clean_text("\x1b]0;X\x07\x1b[2J \u202eevil", newlines=True)
    '␛]0;X␇␛[2J evil'
    >>> clean_text("two\nlines", newlines=True)
    'two\nlines'
    >>> clean_text(None)
    ''
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    s = _SURROGATE.sub("\ufffd", s)
    return unicodedata.normalize("NFC", s.translate(_KEEP_LINES if newlines else _TRANSLATE))


def shorten(text: str, width: int = 48) -> str:
    """Cut ``text`` to at most ``width`` characters at a word boundary, ending with an ellipsis when cut.

    A single word longer than ``width`` is cut inside (there is no boundary to cut at).

    Examples
    --------
    >>> shorten("Mountain Pass Mine and Processing Facility", 20)
    'Mountain Pass Mine …'
    >>> shorten("NdPr oxide · incl. China separation (national aggregate)", 44)
    'NdPr oxide · incl. China separation …'
    >>> shorten("Supercalifragilistic", 10)
    'Supercal …'
    """
    if width < 2:
        msg = f"width must be at least 2, got {width}"
        raise ValueError(msg)
    if len(text) <= width:
        return text
    head = text[: width - 1]
    cut = head.rfind(" ")
    if cut <= 0:
        return text[: width - 2].rstrip() + " …"
    return head[:cut].rstrip(" ·,;:–-") + " …"


def wrap_words(text: str, width: int, lines: int = 2) -> list[str]:
    """Break ``text`` into at most ``lines`` lines of about ``width`` characters, only between words.

    What does not fit in ``lines`` lines ends the last line with an ellipsis
    (:func:`shorten`), so a long name is never cut in the middle of a word that carries
    its meaning.

    Examples
    --------
    >>> wrap_words("NdPr oxide · incl. China separation (national aggregate)", 30)
    ['NdPr oxide · incl. China', 'separation (national aggregate)']
    >>> wrap_words("a b c d e f g h", 3, lines=2)
    ['a b', 'c d …']
    """
    parts = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]
    if len(parts) > lines:
        parts = [*parts[: lines - 1], shorten(" ".join(parts[lines - 1 :]), width + 2)]
    return parts


def dot_quote(text: object) -> str:
    r"""Quote text as a DOT double-quoted string with no escape sequences left active.

    Parameters
    ----------
    text : object
        Text to quote (cleaned with :func:`clean_text` first).

    Returns
    -------
    str
        The quoted string, including the surrounding double quotes.

    Notes
    -----
    In DOT ``escString`` attributes (``label``, ``tooltip``) a backslash starts an
    escape (``\n``, ``\l``, ``\N`` …); doubling it makes dot draw one literal
    backslash. ``"`` is written as ``\"``. Line breaks cannot occur: they were
    turned into ``␊`` by :func:`clean_text`.

    Examples
    --------
    >>> print(dot_quote('say "hi" \\N'))
    "say \"hi\" \\N"
    """
    s = clean_text(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def html_text(text: object) -> Html:
    r"""Escape text for use inside a Graphviz HTML-like label.

    Markup characters become entities and backslashes are doubled (Graphviz
    expands ``\N``, ``\G`` … in HTML-like labels too).

    Examples
    --------
    >>> html_text('<IMG SRC="x"/> & co')
    '&lt;IMG SRC=&quot;x&quot;/&gt; &amp; co'
    >>> print(html_text("a\\Nb"))
    a\\Nb
    """
    s = clean_text(text).replace("\\", "\\\\")
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Html(s.replace('"', "&quot;").replace("'", "&#39;"))


def html_label(markup: Html) -> str:
    """Wrap trusted markup as a DOT HTML-like label value (``<...>``).

    Raises
    ------
    TypeError
        If ``markup`` is a plain ``str`` rather than :class:`Html`.
    """
    if not isinstance(markup, Html):
        msg = "html_label needs Html markup built from html_text(); got a plain str"
        raise TypeError(msg)
    return f"<{markup}>"


def _format_value(value: object) -> str:
    if isinstance(value, Html):
        return html_label(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return dot_quote(value)


def format_attrs(attrs: Mapping[str, object]) -> str:
    r"""Format a DOT attribute list ``[k=v, …]`` from an allow-list of attribute names.

    Parameters
    ----------
    attrs : mapping
        Attribute name → value. ``str`` values are quoted with :func:`dot_quote`,
        :class:`Html` values become HTML-like labels, numbers are written plainly,
        ``None`` values are skipped. Keys are written in sorted order.

    Returns
    -------
    str
        ``" [a=..., b=...]"`` (with a leading space), or ``""`` when empty.

    Raises
    ------
    ValueError
        If an attribute is not in :data:`ALLOWED_ATTRS` (in particular any of
        :data:`FORBIDDEN_ATTRS`, which can reference local files).

    Examples
    --------
    >>> format_attrs({"label": 'a"b', "penwidth": 1.5})
    ' [label="a\\"b", penwidth=1.5]'
    """
    parts: list[str] = []
    for key in sorted(attrs):
        value = attrs[key]
        if value is None:
            continue
        if key.lower() in FORBIDDEN_ATTRS or key not in ALLOWED_ATTRS:
            msg = f"refusing to write Graphviz attribute {key!r}: not in the allow-list"
            raise ValueError(msg)
        parts.append(f"{key}={_format_value(value)}")
    return f" [{', '.join(parts)}]" if parts else ""
