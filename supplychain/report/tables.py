"""The tables of the HTML report: headline measures, target verdicts, shortfall, toggles (plain dicts)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from supplychain.report.answers import (
    RESPONSE_GAP,
    RESPONSE_WORDS,
    Peak,
    mark_unmet,
    shortfall_peak,
    shows_fixed,
    worst_peak,
)
from supplychain.report.blockers import other_blockers, others_note, with_others_text
from supplychain.report.dot_style import _finite, format_share, format_tonnes, pair_name, share_bin, short_country_name
from supplychain.report.escape import clean_text
from supplychain.report.headline import HEADLINE_METRICS, labelled, metric_labels, source_name
from supplychain.report.numbers import format_percent, format_points, measure_text
from supplychain.report.runs import ScenarioRun
from supplychain.simulation.uncounted import rebalance_caveat

if TYPE_CHECKING:
    from supplychain.api import Result

SECTION_METRICS: Final = (*HEADLINE_METRICS, *labelled(("direct_import_share", "net_import_reliance")))
"""A scenario section's headline rows: the one headline's measures (:mod:`supplychain.report.headline`), then the
first-hop ones (``{source}``: :func:`~supplychain.report.headline.metric_labels`)."""
_MAX_SHORTFALL_ROWS: Final = 12
MAX_NAMED: Final = 5
"""The overview's peak shortfall names at most this many countries reaching it; the rest are counted."""


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", clean_text(text).lower()).strip("-")[:40] or "scenario"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _pct_cell(value: float, label: str = "", *, shade: bool = False) -> dict[str, str]:
    """Build a percentage cell; a labelled value (net import reliance ``"E"``) shows what the label means."""
    if label:
        return {"text": measure_text(value, label), "bg": "", "fg": ""}
    b = share_bin(value) if shade else None
    return {"text": format_percent(value), "bg": b.fill if b else "", "fg": b.font if b else ""}


def _concat(results: Sequence[Result], attr: str) -> pd.DataFrame:
    """Stack ``attr`` of every result, with ``variant``; no rows but its columns when none has rows (the CSV header)."""
    every: list[pd.DataFrame] = [getattr(r, attr) for r in results]
    every = [
        f if "variant" in f.columns else f.assign(variant=r.variant) for f, r in zip(every, results, strict=True)
    ]
    frames = [f for f in every if not f.empty]
    if not frames:
        return every[0].iloc[:0] if every else pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _headline(run: ScenarioRun, measures: pd.DataFrame, year0: int, year1: int,
              names: Mapping[str, str], pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:  # fmt: skip
    variants = [r.variant for r in run.results]
    rows: list[dict[str, Any]] = []
    src = run.results[0].source
    if measures.empty:
        return {"variants": variants, "span": f"{year0} → {year1}", "rows": rows}
    m = measures
    if "partner" in m.columns:
        m = m[m["partner"].isna() | (m["partner"].astype(str) == "")]
    labels = metric_labels(SECTION_METRICS, source_name([src], names))
    for country, commodity in pairs:
        first = len(rows)
        for metric, label in labels:
            sel = m[(m["country"] == country) & (m["commodity"] == commodity) & (m["metric"] == metric)]
            if metric in ("exposed_share", "traced_share", "direct_import_share") and "source_country" in sel.columns:
                sel = sel[sel["source_country"].astype(str) == src]
            if sel.empty:
                continue
            cells = []
            for v in variants:
                part = sel[sel["variant"] == v]
                texts = []
                last: dict[str, str] = {"bg": "", "fg": ""}
                for y in (year0, year1):
                    row = part[part["year"] == y]
                    if row.empty:
                        texts.append("–")
                        continue
                    lab = str(row["label"].iloc[0]) if "label" in row.columns and pd.notna(row["label"].iloc[0]) else ""
                    cell = _pct_cell(_finite(row["value"].iloc[0]), lab if lab in ("E",) else "",
                                     shade=metric == "traced_share")  # fmt: skip
                    texts.append(cell["text"])
                    last = cell
                out = {"text": " → ".join(texts), "bg": last["bg"], "fg": last["fg"], "cls": "", "note": ""}
                if metric == "traced_share":  # a low traced share while demand goes unmet is no good result
                    gap = m[(m["country"] == country) & (m["commodity"] == commodity) & (m["variant"] == v)
                            & (m["metric"] == "shortfall_share") & (m["year"] == year1)]["value"]  # fmt: skip
                    if not gap.empty:
                        mark_unmet(out, float(gap.max()), year1)
                cells.append(out)
            rows.append({"label": pair_name(country, commodity, names), "metric": label, "cells": cells, "span": 0})
        if len(rows) > first:
            rows[first]["span"] = len(rows) - first  # the pair's name spans its measures
    notes = _exporter_notes(m, variants, year1, src, names, pairs)
    return {"variants": variants, "span": f"{year0} → {year1}", "rows": rows, "notes": notes}


def _exporter_notes(m: pd.DataFrame, variants: Sequence[str], year: int, src: str, names: Mapping[str, str],
                    pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Sentences for the pairs that, in ``year``, import from the source while being net exporters.

    :func:`~supplychain.report.headline.import_share_note` per pair and variant, for the rows
    :func:`~supplychain.report.headline.exporter_imports` picks (``run``'s rule too); variants
    with the same sentence share it (named in brackets).
    """
    from supplychain.report.headline import exporter_imports, import_share_note

    rows = exporter_imports(m[m["year"] == year], src, pairs)
    found: dict[str, list[str]] = {}
    for country, commodity in pairs:
        for v in variants:
            if (key := (str(v), int(year), country, commodity)) in rows:
                text = import_share_note(f"{pair_name(country, commodity, names)}, {year}", source_name([src], names),
                                         *rows[key])
                found.setdefault(text, []).append(v)
    return [f"{text} ({', '.join(vs)})" if len(variants) > 1 else text for text, vs in found.items()]


def same_numbers(run: ScenarioRun, measures: pd.DataFrame) -> list[str]:
    """Say, under the headline and shortfall tables, which variants' every measure equals an earlier variant's.

    Compared on every row of the runs' measures (:func:`supplychain.report.same.same_as`), not only those
    shown; said by :func:`supplychain.report.same.same_notes`, as under ``compare``'s table.
    """
    from supplychain.report.same import agreement_toggles, same_as, same_notes

    if measures.empty or "variant" not in measures.columns:
        return []
    states = {r.variant: {str(t): st == "on" for t, st in zip(r.toggles.get("toggle", []), r.toggles.get("state", []),
                                                              strict=True)}
              for r in run.results}  # fmt: skip
    key = [c for c in measures.columns if c not in ("value", "variant", "scenario")]
    agreements = agreement_toggles(run.scenario) if run.scenario is not None else set()
    groups = same_as(measures, key, [r.variant for r in run.results], states, agreements)
    mode = run.results[0].mode if run.results else "rebalance"
    return same_notes(groups, mode, "measures")


def _verdicts(run: ScenarioRun, targets: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if targets.empty:
        return out
    defs = run.scenario.targets if run.scenario is not None else {}
    for (tid, variant), part in targets.groupby(["target", "variant"], sort=False):
        part = part.sort_values("year")
        t = defs.get(str(tid))
        met = part["met"]
        known = part[met.notna()]
        fails = known[known["met"] == False]  # noqa: E712 - object column of True/False/None
        # the reason of the year that decides: the worst failing year, else the year with the least margin
        decisive = fails if not fails.empty else known if not known.empty else part
        reason = ""
        if not decisive.empty and "reason" in decisive.columns:
            margins = np.nan_to_num(decisive["margin"].to_numpy(dtype=float), nan=np.inf)
            worst = decisive.iloc[int(np.argmin(margins))]
            reason = str(worst["reason"])
        # a year whose measure is n/a (a share of nothing) is not evaluable: never a silent pass
        undefined = part[part["status"].eq("n/a")] if "status" in part.columns else part.iloc[:0]
        if known.empty and undefined.empty:
            verdict, detail = "no data", "the measure was not computed"
        elif fails.empty and not undefined.empty:
            years = ", ".join(str(int(y)) for y in undefined["year"])
            verdict, detail = "n/a", f"not evaluable in {years} (the measure is n/a)"
            reason = str(undefined["reason"].iloc[0]) if "reason" in undefined.columns else reason
        elif fails.empty:
            verdict = "pass"
            detail = f"holds in every year {int(known['year'].min())}–{int(known['year'].max())}"
        else:
            verdict = "fail"
            years = ", ".join(str(int(y)) for y in fails["year"])
            detail = f"fails in {years}"
        reason = reason or detail
        first = part.iloc[0]
        bound = str(first.get("bound", "max"))
        sign = "≤" if bound == "max" else "≥"
        out.append({
            "id": str(tid),
            "description": (t.description if t is not None and t.description else str(tid)),
            "variant": str(variant),
            "year": int(first["year"]),
            "value": format_percent(_finite(first["value"])),
            # the share of demand unmet beside the value: a ban can lower the exposed share (docs/measures.md §3b)
            "shortfall": format_percent(_finite(first["shortfall_share"])) if "shortfall_share" in first else "n/a",
            "threshold": f"{sign} {format_percent(_finite(first['threshold']))}",
            "margin": format_points(_finite(known["margin"].min())) if not known.empty else "n/a",
            "verdict": verdict,
            "detail": detail,
            "reason": reason,
        })  # fmt: skip
    order = {r.variant: i for i, r in enumerate(run.results)}
    return sorted(out, key=lambda r: (r["id"], order.get(r["variant"], 99)))


def _peak_text(part: pd.DataFrame) -> tuple[float, str]:
    """Return one pair's and variant's peak shortfall share and its text: "46% in 2025 (6.8k t in all)"."""
    top = shortfall_peak(part)
    share, year = top if top is not None else (float("nan"), int(part["year"].min()))
    unit = str(part["unit"].iloc[0]) if "unit" in part.columns else "t"  # one commodity: one unit
    return share, f"{format_percent(share)} in {year} ({format_tonnes(float(part['shortfall'].sum()), unit)} in all)"


def _positive(shortfall: pd.DataFrame | None) -> pd.DataFrame:
    """Return the rows of a shortfall table with demand left unmet (an empty frame for none)."""
    if shortfall is None or shortfall.empty or "shortfall" not in shortfall.columns:
        return pd.DataFrame(columns=["country", "commodity", "variant", "year", "shortfall", "shortfall_share"])
    return shortfall[shortfall["shortfall"] > 0]


def peak_text(top: Peak | None, names: Mapping[str, str], beside: Peak | None = None) -> str:
    """Say a :func:`~supplychain.report.answers.worst_peak`: "18% (Japan, United States · Magnets, 2025)".

    Every pair reaching the peak is named (countries by :func:`short_country_name`, in alphabetical
    order; pairs of one commodity and year share it), at most :data:`MAX_NAMED` countries and then
    "+N more". ``beside``: the peak this one follows (a ``fixed`` bound after the ``rebalance`` peak),
    whose countries, or single commodity, are not repeated. ``"none"`` for no peak.

    Examples
    --------
    >>> from supplychain.report.answers import Peak
    >>> tie = Peak(0.18, tuple((c, "m", 2025) for c in ("US", "JP", "EU", "KR", "ROW", "TW")))
    >>> peak_text(tie, {"m": "Magnets"})
    '18% (European Union, Japan, Rest of world, South Korea, Taiwan · Magnets, 2025; +1 more)'
    >>> peak_text(Peak(0.32, (("US", "m", 2025),)), {}, beside=tie), peak_text(None, {})
    ('32% (United States, 2025)', 'none')
    """
    if top is None:
        return "none"
    groups: dict[tuple[str, int], list[str]] = {}
    for country, commodity, year in top.where:
        groups.setdefault((commodity, year), []).append(short_country_name(country, names))
    same_countries = beside is not None and {c for c, _, _ in beside.where} == {c for c, _, _ in top.where}
    same_commodity = beside is not None and len({k for _, k, _ in beside.where} | {k for _, k, _ in top.where}) == 1
    parts, left = [], MAX_NAMED
    for (commodity, year), countries in groups.items():
        shown = sorted(countries)[:left]
        left -= len(shown)
        if not shown:
            continue
        what = [] if same_countries else [", ".join(shown)]
        what += [] if same_commodity else [names.get(commodity, commodity.replace("_", " "))]
        parts.append(", ".join(w for w in (" · ".join(what), str(year)) if w))
    more = len(top.where) - (MAX_NAMED - left)
    parts += [f"+{more} more"] if more > 0 else []
    return f"{format_share(top.share)} ({'; '.join(parts)})"


def _other_blockers(run: ScenarioRun, names: Mapping[str, str]) -> dict[str, list[tuple[str, str, str]]]:
    """Return each variant's measures of countries other than the source that block flows (:mod:`.blockers`)."""
    return {str(getattr(r, "variant", "")): other_blockers(r, getattr(run, "scenario", None), names)
            for r in run.results}


def worst_shortfall_text(run: ScenarioRun, shortfall: pd.DataFrame, variant: str, names: Mapping[str, str],
                         focus: str | None = None) -> str:  # fmt: skip
    """Say the peak shortfall of one variant (:func:`peak_text`), then the ``fixed`` response's own where larger.

    The overview's "peak shortfall". The ``fixed`` peak (of the same variant, over every pair:
    :func:`~supplychain.report.answers.worst_peak`, the one rule) follows where it is at least
    :data:`RESPONSE_GAP` larger, naming its pairs only where they differ from the ``rebalance``
    peak's, and the measures of other countries its run carries (:mod:`.blockers`). With ``focus``
    (the section's focus commodity) whose own ``fixed`` peak is not that one, the focus commodity's
    follows too ("; fixed, Magnets: 10% (United States, 2027)"), by the same rule against its own
    ``rebalance`` peak: a gallium bound must not hide the rare-earth one of a rare-earth scenario.

    Examples
    --------
    ``18% (European Union, Japan, Rest of world, South Korea, United States · Magnets, 2025); fixed:
    32% (United States, 2025)``: five countries equally short when re-routed; the United States
    worst when not.
    """
    mine = next((r for r in run.results if getattr(r, "variant", None) == variant), None)
    scenario = getattr(run, "scenario", None)

    def bound_text(rows: pd.DataFrame, fixed_rows: pd.DataFrame) -> tuple[str, Any] | None:
        top = worst_peak(rows)
        bound = worst_peak(fixed_rows)
        if bound is None or not shows_fixed(bound.share, top.share if top is not None else None):
            return None
        where = [k for _, k, _ in bound.where]
        others = other_blockers(mine, scenario, names, where) if mine is not None else []
        return f"{peak_text(bound, names, beside=top)}{with_others_text(others)}", bound

    own = shortfall[shortfall["variant"] == variant] if not shortfall.empty else shortfall
    top = worst_peak(own)
    text = peak_text(top, names)
    fixed = run.fixed_shortfall
    if fixed is not None and not fixed.empty:  # set only under rebalance (run_scenario)
        fv = fixed[fixed["variant"] == variant]
        found = bound_text(own, fv)
        if found is not None:
            text = f"{text}; fixed: {found[0]}"
        if focus is not None and (found is None or focus not in {k for _, k, _ in found[1].where}):
            part = bound_text(own[own["commodity"] == focus] if not own.empty else own, fv[fv["commodity"] == focus])
            if part is not None:
                text = f"{text}; fixed, {names.get(focus, focus)}: {part[0]}"
    return text


def _shortfall_table(run: ScenarioRun, shortfall: pd.DataFrame, names: Mapping[str, str]) -> dict[str, Any]:
    """Peak shortfall per country · commodity (rows) and variant (columns): "46 % in 2025, 6.8k t in all".

    The table says which supply response it shows. Beside a ``rebalance`` cell, the ``fixed``
    response's peak of the same runs (:attr:`ScenarioRun.fixed_shortfall`) follows where it is at
    least :data:`RESPONSE_GAP` larger ("0% ...; fixed: 56.5% in 2025 ..."), so a best case with
    no shortfall is not read as the only answer; a pair short under either response has a row.
    A ``fixed`` figure names, by country code, the other countries' measures of its commodity's
    family its run carries (:mod:`.blockers`); the note under the table names what those measures
    block, built from the measures the table's shown cells name (one rule: no note when no
    cell names one, so a rare-earth measure is never named under a gallium-only table).
    """
    variants = [r.variant for r in run.results]
    mode = run.results[0].mode if run.results else "rebalance"
    s = _positive(shortfall)
    f = _positive(run.fixed_shortfall)  # set only under rebalance (run_scenario)
    table: dict[str, Any] = {"variants": variants, "rows": [], "more": 0}
    both = pd.concat([s, f], ignore_index=True) if not f.empty else s
    compared = False
    others = _other_blockers(run, names) if not f.empty else {}
    scenario = getattr(run, "scenario", None)
    blocking = ({(str(getattr(r, "variant", "")), k): {p for p, _, _ in other_blockers(r, scenario, names, [k])}
                 for r in run.results for k in set(f["commodity"].astype(str))} if others else {})  # fmt: skip
    attached: dict[str, list[tuple[str, str, str]]] = {}  # the other measures the rows shown name, by variant
    if not both.empty:
        worst = both.groupby(["country", "commodity"])["shortfall_share"].max().sort_values(ascending=False,
                                                                                             kind="stable")
        rows = []
        for country, commodity in worst.index:
            part = s[(s["country"] == country) & (s["commodity"] == commodity)]
            bound = f[(f["country"] == country) & (f["commodity"] == commodity)]
            cells, shown = [], not part.empty  # a pair short only under fixed, by less than the gap: no row
            named: dict[str, list[tuple[str, str, str]]] = {}  # the other measures its cells name, by variant
            for v in variants:
                pv, fv = part[part["variant"] == v], bound[bound["variant"] == v]
                share, text = _peak_text(pv) if not pv.empty else (0.0, "none")
                if not fv.empty:
                    fixed_share, fixed_text = _peak_text(fv)
                    if shows_fixed(fixed_share, share):
                        mine = [b for b in others.get(v, []) if b[0] in blocking.get((v, str(commodity)), set())]
                        text, shown, named[v] = f"{text}; fixed: {fixed_text}{with_others_text(mine)}", True, mine
                cells.append(text)
            if shown:
                rows.append(({"what": pair_name(str(country), str(commodity), names), "cells": cells}, named))
        for _, named in rows[:_MAX_SHORTFALL_ROWS]:
            for v, mine in named.items():
                have = attached.setdefault(v, [])
                have += [b for b in mine if b not in have]
        table["rows"] = [row for row, _ in rows[:_MAX_SHORTFALL_ROWS]]
        table["more"] = max(0, len(rows) - _MAX_SHORTFALL_ROWS)
        compared = any("; fixed: " in c for r in table["rows"] for c in r["cells"])
    table["note"] = (f"Peak share of final demand not met under the {mode} response ({RESPONSE_WORDS[mode]}), "
                     "the year of the peak, and the tonnes missing over all years."
                     + (f" Where the fixed response ({RESPONSE_WORDS['fixed']}) leaves at least "
                        f"{RESPONSE_GAP * 100:g} percentage points more of demand unmet, its peak follows "
                        "(\"fixed:\")." if compared else ""))  # fmt: skip
    if compared:
        order = {v: [b[0] for b in found] for v, found in others.items()}  # largest first (other_blockers)
        note = others_note({v: sorted(attached[v], key=lambda b: order[v].index(b[0]))  # the table's column order
                            for v in variants if v in attached}, source_name([r.source for r in run.results], names))
        table["note"] += f" {note}" if note else ""
    table["none"] = (f"No shortfall in any variant under the {mode} response"
                     + (", nor under the fixed response." if run.fixed_shortfall is not None
                        else "."))  # fmt: skip
    scenario = getattr(run, "scenario", None)  # a stand-in run may carry results only
    caveat = rebalance_caveat(scenario) if scenario is not None and mode == "rebalance" else None
    if caveat:
        table["note"] += " " + caveat
        table["none"] += " " + caveat
    uncounted = _not_evaluated(run)
    if uncounted:
        table["note"] += " " + uncounted
        table["none"] += " " + uncounted
    world = _world_note(run, shortfall, names)
    if world and table["rows"]:
        table["note"] += " " + world
    raised = _raised_note(run, names)
    if raised:
        table["note"] += " " + raised
        table["none"] += " " + raised
    return table


def _world_note(run: ScenarioRun, shortfall: pd.DataFrame, names: Mapping[str, str]) -> str:
    """Say what a commodity's users lack in all where it adds to the rows (:func:`~.engine_notes.world_short_note`).

    The rows are :func:`~supplychain.simulation.world.world_short`'s kept by
    :func:`~supplychain.simulation.world.beyond_country_rows` (the table shows every country); under
    ``rebalance`` with a Pareto efficient rule :data:`~.engine_notes.WORLD_RULE_NOTE` follows, once.
    """
    from supplychain.report.engine_notes import WORLD_RULE_NOTE, world_short_note, world_shortage
    from supplychain.simulation.world import beyond_country_rows, world_balance, world_short

    if shortfall.empty or not run.results or not {"demand", "delivered", "shortfall"} <= set(shortfall.columns):
        return ""  # a stand-in run may carry shares only
    first = run.results[0]
    short = beyond_country_rows(world_short(world_balance(shortfall)), shortfall)
    if "variant" in short.columns:  # ties name the first variant of the section (base first), not the first by name
        order = {str(getattr(r, "variant", "")): i for i, r in enumerate(run.results)}
        short = short.iloc[short["variant"].map(lambda v: order.get(str(v), len(order))).argsort(kind="stable")]
    mode, allocation = str(getattr(first, "mode", "rebalance")), getattr(first, "allocation", None)
    note = world_short_note(short, mode, allocation, names)
    return f"{note} {WORLD_RULE_NOTE}" if note and world_shortage(mode, allocation) else note


def _raised_note(run: ScenarioRun, names: Mapping[str, str]) -> str:
    """Say that the base network raised outputs above their paths (the same in every variant of a scenario)."""
    from supplychain.report.engine_notes import raised_note

    raised = getattr(run.results[0], "raised", None) if run.results else None  # a stand-in run may carry none
    if raised is None or raised.empty:
        return ""
    return raised_note(raised, names)


def _not_evaluated(run: ScenarioRun) -> str:
    """Join the variants' :func:`~supplychain.simulation.uncounted.not_evaluated_lines`, each line once."""
    from supplychain.simulation.uncounted import not_evaluated_lines

    scenario = getattr(run, "scenario", None)
    if scenario is None:
        return ""
    lines = [line for r in run.results for line in not_evaluated_lines(r, scenario, r.years)]
    return " ".join(dict.fromkeys(lines))


def _changed_toggles(toggles: pd.DataFrame) -> str:
    """``ban=on, deal=on``: the toggles a run set away from the file's defaults."""
    if toggles.empty or not {"toggle", "state"} <= set(toggles.columns):
        return "–"
    changed = toggles
    if "set_by" in toggles.columns:
        changed = toggles[toggles["set_by"].astype(str) != "default"]
    if changed.empty:
        return "all at their defaults"
    return ", ".join(f"{t}={st}" for t, st in zip(changed["toggle"], changed["state"], strict=True))


