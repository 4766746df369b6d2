"""A Markdown summary of a report, for pasting into briefing documents.

:func:`summary_markdown` renders the same view model as the HTML report (plain
dicts built by :mod:`supplychain.report.html`) as GitHub-flavoured Markdown:
the answers the page opens with (one per focus country: :mod:`supplychain.report.answers`),
headings, pipe tables and image links to the PNG files beside it. Every piece of
user text goes through :func:`md_escape`, so a scenario or facility name can
neither break a table nor become a link, an image or raw HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from supplychain.report.answers import SHIPPED_MARK, UNMET_MARK
from supplychain.report.escape import clean_text

__all__ = ["md_escape", "md_table", "summary_markdown"]

_UNMET_NOTE: Final = f"{UNMET_MARK} a traced share of what still arrives while demand goes unmet, not a good result."
"""The note under a table that marks traced shares read while demand goes unmet (the answers, the overview)."""

_SPECIAL: Final = re.compile(r"([\\`*_\[\]#!|~])")
_MARKUP: Final = re.compile(r"<(?=[A-Za-z/!?])|&(?=[A-Za-z#])")
"""What could start raw HTML, an autolink or an entity (``<b``, ``</``, ``<!``, ``<?``, ``&amp;``, ``&#60;``)."""


def md_escape(text: object) -> str:
    r"""Escape text for Markdown with backslashes only: no HTML entities, so ``>99%`` reads as written.

    CommonMark's backslash escapes stop every construct user text could form: a ``<``
    before a letter, ``/``, ``!`` or ``?`` (raw HTML or an autolink), a ``&`` before a
    letter or ``#`` (an entity) are escaped, as are emphasis, code, links, images,
    headings and table pipes. A ``<`` before a digit or a space (``<1%``) and a ``>``
    cannot start any of them and are left alone (user text never starts a line here, so
    a ``>`` cannot open a block quote). Line breaks (shown as ``␊`` by
    :func:`~supplychain.report.escape.clean_text`) cannot end a line or a table row.

    Examples
    --------
    >>> md_escape("a|b <script> [x](y) 1.2k")
    'a\\|b \\<script> \\[x\\](y) 1.2k'
    >>> print(md_escape(">99% <1% & R&D &#60;"))
    >99% <1% & R\&D &\#60;
    """
    s = clean_text(text)
    s = _SPECIAL.sub(r"\\\1", s)
    return _MARKUP.sub(lambda m: "\\" + m.group(0), s)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, escape: bool = True) -> str:
    r"""Build a GitHub-flavoured pipe table (cells escaped unless ``escape=False`` for trusted text).

    Examples
    --------
    >>> print(md_table(["a", "b"], [["1", "x|y"]]))
    | a | b |
    | --- | --- |
    | 1 | x\|y |
    """
    fmt = md_escape if escape else (lambda v: str(v))
    lines = [
        "| " + " | ".join(fmt(h) for h in headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    lines.extend("| " + " | ".join(fmt(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def _answer(a: Mapping[str, Any]) -> list[str]:
    """One focus country's answer as the page opens with it (:func:`~supplychain.report.answers.country_answer`).

    The sentence, the table (scenario, variant, then base year, peak and horizon of each
    measure, then the targets' verdict), the reading note and the other commodities; the
    cells' text is the page's (:mod:`supplychain.report.numbers`), a traced share read
    while demand goes unmet marked :data:`UNMET_MARK`.
    """
    out = [f"## {md_escape(a['country'])}" + (f": {md_escape(a['commodity'])}" if a["commodity"] else ""), ""]
    if not a["rows"]:
        return [*out, f"{md_escape(a['country'])} has no final demand in the scenarios reported.", ""]
    first, last = a["years"].split("–") if a["years"] else ("first year", "last year")
    headers = ["scenario", "variant"]
    for m in a["metrics"]:
        headers += [f"{m} {first}", f"{m} peak after {first} (year)" if a["years"] else f"{m} peak (year)",
                    f"{m} {last}"]
    rows = [[r["scenario"] if r["first"] else "", r["variant"],
             *(c["text"] + (f" {UNMET_MARK}" if c["cls"] == "unmet" else "")
               + (f" {c['mark']}" if c.get("mark") else "") for c in r["cells"]),
             r.get("targets", "–")] for r in a["rows"]]  # fmt: skip
    out += [md_escape(a["sentence"]), "", md_table([*headers, "targets"], rows), "",
            f"Exposure counts what arrives traced to {md_escape(a['source'])} plus demand left unmet, "
            "over planned use. " + _UNMET_NOTE
            + (f" {SHIPPED_MARK} short while part of its own supply of it still goes abroad (the scenario's "
               "\"Shipped abroad while short\")." if a.get("shipped") else "")
            + (f" {a['assumed_note']}" if a.get("assumed_note") else "")
            + (f" {md_escape(a['part_year_note'])}" if a.get("part_year_note") else ""),
            ""]
    if a["others"]:
        rows = [[o["commodity"], o["exposed"], o["shortfall"]] for o in a["others"]]
        out += [md_table([f"{a['country']} also uses", "highest exposure (scenario, variant, year)",
                          "highest shortfall (scenario, variant, year)"], rows), ""]
        if a.get("others_note"):
            out += [md_escape(a["others_note"]), ""]
        if a["others_more"]:
            out += [f"{a['others_more']} more commodities, less exposed, are in `measures.csv`.", ""]
    return out


def _section(sv: Mapping[str, Any]) -> list[str]:
    out = [f"## {md_escape(sv['name'])}", ""]
    if sv.get("question"):
        out += [f"*{md_escape(sv['question'])}*", ""]
    out += [
        f"Years {md_escape(sv['years'])}; exposure to {md_escape(sv['source_country'])}; "
        f"supply response `{md_escape(sv['mode'])}`"
        + (f" (who goes short: allocation `{md_escape(sv['allocation'])}`)" if sv["mode"] == "rebalance" else "")
        + f"; focus year {sv['focus_year']}.",
        "",
    ]
    head = sv["headline"]
    if head["rows"]:
        out += [f"### Headline measures ({md_escape(head['span'])})", ""]
        rows = [[r["label"], r["metric"], *(c["text"] for c in r["cells"])] for r in head["rows"]]
        out += [md_table(["", "measure", *head["variants"]], rows), ""]
        out += [line for note in head.get("notes", []) for line in (md_escape(note), "")]
        out += [line for note in head.get("same", ()) for line in (md_escape(note), "")]
    if sv["targets"]:
        out += ["### Targets", ""]
        rows = [[t["description"], t["variant"], t["value"], t.get("shortfall", "n/a"), t["threshold"],
                 t["verdict"].upper(), t["reason"]] for t in sv["targets"]]  # fmt: skip
        out += [md_table(["target", "variant", "value", "unmet", "threshold", "verdict", "reason"], rows), ""]
    out += ["### Shortfall", ""]
    short = sv["shortfall"]
    if short["rows"]:
        rows = [[s["what"], *s["cells"]] for s in short["rows"]]
        more = f" {short['more']} smaller rows are in `shortfall.csv`." if short.get("more") else ""
        out += [md_table(["country · commodity", *short["variants"]], rows), "", md_escape(short["note"]) + more, ""]
    else:
        out += [md_escape(short["none"]), ""]
    shipped = sv["shipped"]
    if shipped["rows"]:
        out += ["### Shipped abroad while short", ""]
        rows = [[s["what"], *s["cells"]] for s in shipped["rows"]]
        out += [md_table(["country · commodity", *shipped["variants"]], rows), "", md_escape(shipped["note"]), ""]
    limits = sv["limits"]
    if limits["rows"]:
        out += [f"### What limits supply ({sv['focus_year']})", ""]
        rows = [[x["variant"], x["stage"], x["plants"], x["capacity"], x["relief"], x["idle"]] for x in limits["rows"]]
        out += [md_table(["variant", "stage +10%", "plants at capacity", "capacity (+10%)",
                          "unmet demand, all users", "also at capacity, no relief alone"], rows), "",
                md_escape(limits["note"]), ""]
    images = [*sv["graphs"], *sv["charts"]]
    if images:
        out += ["### Figures", ""]
        for img in images:
            out += [f"![{md_escape(img['title'])}](images/{img['png'] or img['svg']})", ""]
    return out


def summary_markdown(view: Mapping[str, Any]) -> str:
    """Render the report view model as Markdown.

    Parameters
    ----------
    view : mapping
        The report view model of :func:`supplychain.report.html.build_view`.

    Returns
    -------
    str
        Markdown text ending with a newline.
    """
    out = [f"# {md_escape(view['title'])}", "", md_escape(view["generator"]), ""]
    for a in view.get("answers", ()):
        out += _answer(a)
    ov = view["overview"]
    if ov["rows"]:
        out += ["## Overview", "", md_table(ov["headers"], ov["rows"]), ""]
        if any(UNMET_MARK in str(c) for row in ov["rows"] for c in row):
            out += [_UNMET_NOTE, ""]
    for sv in view["scenarios"]:
        out += _section(sv)
    return "\n".join(out).rstrip() + "\n"
