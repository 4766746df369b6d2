"""Text of the network pictures: node and flow labels, tooltips, node attributes, the key and heading.

Every user string goes through :mod:`supplychain.report.escape`. Up to 40 flows
every flow is labelled with its tonnes; beyond, only the ones that changed, are
5 % of the largest flow or bring a quarter of their buyer's supply (every flow
keeps a tooltip with its tonnes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import pandas as pd

from supplychain.report.dot_style import (
    NO_DATA_FILL,
    SHARE_BINS,
    STATUS_STYLES,
    country_name,
    format_change,
    format_share,
    format_tonnes,
    share_bin,
)
from supplychain.report.escape import Html, clean_text, html_text, shorten, wrap_words
from supplychain.report.fold import _Drawn, _Group
from supplychain.report.headline import source_phrase

_BOX: Final = '<TD FIXEDSIZE="TRUE" WIDTH="18" HEIGHT="8"></TD>'
_SHAPE_KEY: Final = (
    (f'<TABLE STYLE="rounded" BORDER="1" CELLBORDER="0" CELLPADDING="1"><TR>{_BOX}</TR></TABLE>', "mine or plant"),
    (f'<TABLE BORDER="1" CELLBORDER="0" CELLPADDING="1"><TR>{_BOX}</TR></TABLE>', "country pool (output + imports)"),
    (
        '<TABLE BORDER="1" CELLBORDER="1" CELLPADDING="0" CELLSPACING="2"><TR>'
        '<TD FIXEDSIZE="TRUE" WIDTH="14" HEIGHT="5"></TD></TR></TABLE>',
        "final demand",
    ),
    (
        f'<TABLE STYLE="dashed" BORDER="1" CELLBORDER="0" CELLPADDING="1"><TR>{_BOX}</TR></TABLE>',
        "'Other' (small, folded)",
    ),
)
_SHORT_FILL: Final = "#e0e0e0"
"""Fill of a final use that gets less than in the baseline (not on the share scale: see :func:`_use_short`)."""
_SHORT_LINE: Final = "#b42318"
"""Frame and text colour of that use."""
_SHORT_KEY: Final = (
    f'<TABLE BORDER="2" COLOR="{_SHORT_LINE}" BGCOLOR="{_SHORT_FILL}" CELLBORDER="0" CELLPADDING="1"><TR>{_BOX}</TR>'
    "</TABLE>",
    "final use short of the baseline",
)
_LABEL_ALL: Final = 40
"""Up to this many drawn flows every flow is labelled with its tonnes."""
_LABEL_SHARE: Final = 0.25
"""Beyond :data:`_LABEL_ALL` flows, label a flow that brings this share of its buyer's inflow …"""
_LABEL_OF_MAX: Final = 0.05
"""… or is this share of the largest flow drawn."""


def _display_name(grp: _Group, names: Mapping[str, str]) -> tuple[str, str]:
    """(first line, second line) of a node label, unescaped."""
    commodity = names.get(grp.commodity, grp.commodity.replace("_", " "))
    if grp.other:
        countries = sorted({m.split(":")[0] for m in grp.members if ":" in m})
        n = len(countries) or len(grp.members)
        return f"Other · {commodity}", f"{n} countr{'y' if n == 1 else 'ies'}"
    if grp.kind == "use":
        return f"{country_name(grp.country, names)}", f"demand · {commodity}"
    if grp.kind == "stock":
        return f"{country_name(grp.country, names)}", f"stock · {commodity}"
    if grp.kind == "surplus":  # not the market of the same name (review 4, R-10e): what nobody there takes
        return f"{country_name(grp.country, names)} (destination not given)", f"surplus · {commodity}"
    if grp.kind == "facility":
        name = grp.name or names.get(grp.id, grp.id.replace("_", " "))
        return name, f"{grp.country} · {commodity}"
    plants = [m for m in grp.members if m != grp.id]
    line2 = commodity
    if len(plants) == 1:
        line2 += f" · incl. {names.get(plants[0], plants[0])}"
    elif plants:
        line2 += f" · incl. {len(plants)} plants"
    return country_name(grp.country, names), line2


def _node_label(first: str, second: str, d: _Drawn, diff: bool, unit: str, source: str) -> Html:
    top = html_text(shorten(clean_text(first), 34))
    mid = '<BR/>'.join(html_text(line) for line in wrap_words(clean_text(second), 34))
    amount = format_tonnes(d.tonnes, unit)
    share = f"{format_share(d.share)} {source}"
    if diff and format_tonnes(d.before, unit) != amount:
        amount = format_change(d.before, d.tonnes, unit)
    if diff and _share_changed(d):
        share = f"{format_share(d.share_before)} → {format_share(d.share)} {source}"
    bottom = html_text(f"{amount} · {share}")
    return Html(f'<B>{top}</B><BR/><FONT POINT-SIZE="9">{mid}</FONT><BR/><FONT POINT-SIZE="9">{bottom}</FONT>')


def _share_changed(d: _Drawn) -> bool:
    a, b = d.share, d.share_before
    if math.isfinite(a) and math.isfinite(b):
        return abs(a - b) >= 0.005
    return math.isfinite(a) != math.isfinite(b)


def _edge_label(tonnes: float, before: float, status: str, diff: bool, unit: str = "t") -> str:
    """Label of a drawn flow, in its commodity's unit (``unit``: ``t``, ``kg`` …)."""
    if status == "blocked":
        return f"blocked · {format_tonnes(before, unit)}" if math.isfinite(before) and before > 0 else "blocked"
    if status == "new":
        return f"new · {format_tonnes(tonnes, unit)}"
    if status == "deal":
        return f"deal · {format_tonnes(tonnes, unit)}"
    if diff and math.isfinite(before) and abs(before - tonnes) > 1e-9 * max(1.0, abs(before)):
        return format_change(before, tonnes, unit)
    return format_tonnes(tonnes, unit)


def _grid(cells: Sequence[str], ncols: int) -> str:
    """Lay out (sample, text) cell pairs row by row, ``ncols`` pairs per row."""
    rows = []
    for i in range(0, len(cells), ncols):
        rows.append("<TR>" + "".join(cells[i : i + ncols]) + "</TR>")
    return "".join(rows)


def _key_table(heading: str, body: str, colspan: int, cellpadding: int = 1) -> str:
    """Wrap key rows in a borderless table with a bold heading row."""
    return (
        f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="{cellpadding}">'
        f'<TR><TD COLSPAN="{colspan}" ALIGN="LEFT"><FONT POINT-SIZE="11"><B>{html_text(heading)}</B></FONT></TD></TR>'
        f"{body}</TABLE>"
    )


def _legend(diff: bool, statuses: Iterable[str], has_traced: bool, source: str) -> str:
    """Build the key: colour scale, line styles and box shapes, side by side (HTML table markup)."""
    steps = [
        f'<TD BGCOLOR="{b.fill}" BORDER="1" COLOR="#737373" WIDTH="48">'
        f'<FONT COLOR="{b.font}" POINT-SIZE="9">{html_text(b.label)}</FONT></TD>'
        for b in SHARE_BINS
    ]
    if not has_traced:
        steps.append(
            f'<TD BGCOLOR="{NO_DATA_FILL}" BORDER="1" WIDTH="48"><FONT POINT-SIZE="9">not computed</FONT></TD>'
        )
    note = html_text(f"share of a node's material mined or processed in {source_phrase(source)} at any upstream stage")
    colour = _key_table(
        f"Fill: traced {source} share",
        f'<TR>{"".join(steps)}</TR>'
        f'<TR><TD COLSPAN="{len(steps)}" ALIGN="LEFT"><FONT POINT-SIZE="8">{note}</FONT></TD></TR>',
        len(steps),
        cellpadding=2,
    )
    present = set(statuses)
    shown = ["normal", *(s for s in STATUS_STYLES if s != "normal" and (s in present or (diff and s == "blocked")))]
    gap = '<TD WIDTH="10"> </TD>'
    flow_cells = []
    for s in shown:
        st = STATUS_STYLES[s]
        flow_cells.append(
            f'<TD ALIGN="RIGHT"><FONT COLOR="{st.color}"><B>{html_text(st.sample)}</B></FONT></TD>'
            f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9">{html_text(st.legend)}</FONT></TD>{gap}'
        )
    box_cells = [
        f'<TD>{sample}</TD><TD ALIGN="LEFT"><FONT POINT-SIZE="9">{html_text(text)}</FONT></TD>{gap}'
        for sample, text in (*_SHAPE_KEY, *((_SHORT_KEY,) if diff else ()))
    ]
    flows = _key_table("Lines: flows", _grid(flow_cells, 2), 6)
    boxes = _key_table("Boxes", _grid(box_cells, 2), 6)
    spacer = '<TD WIDTH="24"> </TD>'
    cells = [f'<TD ALIGN="LEFT" VALIGN="TOP">{t}</TD>' for t in (colour, flows, boxes)]
    return f"<TR>{cells[0]}{spacer}{cells[1]}{spacer}{cells[2]}</TR>"


def _heading(
    title: str,
    year: int | None,
    commodity: Sequence[str],
    diff: str | None,
    names: Mapping[str, str],
    chain_of: tuple[str, str] | None,
    legend: str,
    notes: Sequence[str],
    footnote: str | None = None,
) -> Html:
    """Title, subtitle, key, folding notes and ``footnote`` (its last line) as one HTML-like table (the graph label)."""
    sub = []
    if year is not None:
        sub.append(str(year))
    if commodity:
        sub.append("chain of " + ", ".join(names.get(c, c) for c in commodity))
    if chain_of is not None:
        country, what = chain_of
        sub.append(f"only what ends in the use of {names.get(what, what)} in {country_name(country, names)}")
    if diff:
        sub.append(diff)
    rows = [
        f'<TR><TD COLSPAN="5" ALIGN="LEFT"><FONT POINT-SIZE="18"><B>{html_text(shorten(clean_text(title), 90))}'
        "</B></FONT></TD></TR>"
    ]
    if sub:
        subtitle = html_text(" · ".join(sub))
        rows.append(f'<TR><TD COLSPAN="5" ALIGN="LEFT"><FONT POINT-SIZE="12">{subtitle}</FONT></TD></TR>')
    rows.append(legend)
    if notes:
        text = "Folded for legibility: " + "; ".join(notes) + "."
        rows.append(f'<TR><TD COLSPAN="5" ALIGN="LEFT"><FONT POINT-SIZE="9"><I>{html_text(text)}</I></FONT></TD></TR>')
    if footnote:
        text = "".join(f'{html_text(line)}<BR ALIGN="LEFT"/>' for line in wrap_words(clean_text(footnote), 90, lines=3))
        rows.append(f'<TR><TD COLSPAN="5" ALIGN="LEFT"><FONT POINT-SIZE="9"><I>{text}</I></FONT></TD></TR>')
    return Html('<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2">' + "".join(rows) + "</TABLE>")


def _labelled(edges: pd.DataFrame) -> dict[tuple[str, str, str, str], bool]:
    """Which drawn flows get a tonnes label.

    Up to :data:`_LABEL_ALL` flows, all of them. Beyond, a flow is labelled when it
    changed (any status but ``normal``), is at least :data:`_LABEL_OF_MAX` of the
    largest flow drawn, or brings at least :data:`_LABEL_SHARE` of its buyer's
    inflow of that commodity; the others show their tonnes in the tooltip only.
    """
    keys = list(zip(edges["supplier"], edges["buyer"], edges["commodity"], edges["status"], strict=True))
    if len(edges) <= _LABEL_ALL:
        return dict.fromkeys(keys, True)
    size = edges["size"]
    in_tot = edges.groupby(["buyer", "commodity"])["size"].transform("sum")
    big = (size >= _LABEL_OF_MAX * size.max()) | (size >= _LABEL_SHARE * in_tot) | (edges["status"] != "normal")
    return dict(zip(keys, big.to_numpy(dtype=bool).tolist(), strict=True))


def _use_short(grp: _Group, d: _Drawn, diff: bool) -> float:
    """Share of a final use's baseline tonnes not delivered in a diff view (0 elsewhere).

    ``1 − after / before`` for a use node whose delivery fell; the baseline of the same year
    stands for the planned use, as in :mod:`supplychain.metrics.exposure`.

    Examples
    --------
    >>> use = _Group("US:m:use", "use", "US", "m", "magnet", "US m use")
    >>> _use_short(use, _Drawn(1700.0, 13000.0, 0.0, 0.91), True)
    0.869...
    >>> _use_short(use, _Drawn(1700.0, 13000.0, 0.0, 0.91), False)
    0.0
    """
    if not diff or grp.kind != "use" or not (math.isfinite(d.before) and d.before > 0):
        return 0.0
    return max(0.0, 1.0 - d.tonnes / d.before) if d.tonnes < d.before * (1 - 1e-9) else 0.0


def _node_attrs(grp: _Group, d: _Drawn, names: Mapping[str, str], diff: bool, unit: str,
                source: str) -> dict[str, object]:  # fmt: skip
    first, second = _display_name(grp, names)
    b = share_bin(d.share)
    fill, font = (b.fill, b.font) if b else (NO_DATA_FILL, "#222222")
    styles = ["filled"]
    if grp.kind == "facility" and not grp.other:
        styles.append("rounded")
    if grp.other:
        styles.append("dashed")
    attrs: dict[str, object] = {
        "label": _node_label(first, second, d, diff, unit, source),
        "fillcolor": fill,
        "fontcolor": font,
        "color": "#404040",
        "style": ",".join(styles),
        "tooltip": _node_tooltip(grp, d, first, second, unit, source),
    }
    short = _use_short(grp, d, diff)
    if short > 0:  # a low traced share of what still arrives is no good result: grey box, red frame, the gap said
        attrs.update(fillcolor=_SHORT_FILL, fontcolor="#222222", color=_SHORT_LINE, penwidth=2.5)
        attrs["label"] = Html(f'{attrs["label"]}<BR/><FONT POINT-SIZE="9" COLOR="{_SHORT_LINE}">'
                              f'<B>{html_text(format_share(short))} short of the baseline</B></FONT>')  # fmt: skip
        attrs["tooltip"] = f"{attrs['tooltip']} — {format_share(short)} short of the baseline"
    if grp.kind == "use":
        attrs["peripheries"] = 2
    elif grp.kind == "stock":
        attrs["shape"] = "cylinder"
    return attrs


def _node_tooltip(grp: _Group, d: _Drawn, first: str, second: str, unit: str, source: str) -> str:
    text = f"{first} — {second} — {format_tonnes(d.tonnes, unit)} — traced {source} share {format_share(d.share)}"
    if len(grp.members) > 1:
        shown = ", ".join(grp.members[:12]) + (" …" if len(grp.members) > 12 else "")
        text += f" — includes: {shown}"
    return shorten(clean_text(text), 400)

