"""The tables of the HTML report: headline measures, target verdicts, shortfall, toggles (plain dicts)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from supplychain.report.answers import mark_unmet
from supplychain.report.dot_style import _finite, format_tonnes, pair_name, share_bin
from supplychain.report.escape import clean_text
from supplychain.report.fold import SHARE_DIGITS
from supplychain.report.headline import HEADLINE_METRICS, metric_labels, source_name
from supplychain.report.numbers import format_percent, measure_text
from supplychain.report.runs import ScenarioRun

if TYPE_CHECKING:
    from supplychain.api import Result

SECTION_METRICS: Final = (
    *HEADLINE_METRICS,
    ("direct_import_share", "direct import share from {source}"),
    ("net_import_reliance", "net import reliance"),
)
"""A scenario section's headline rows: the one headline's measures (:mod:`supplychain.report.headline`), then the
first-hop ones (``{source}``: :func:`~supplychain.report.headline.metric_labels`)."""
_MAX_SHORTFALL_ROWS: Final = 12


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
    frames = [getattr(r, attr) for r in results]
    frames = [
        f if "variant" in f.columns else f.assign(variant=r.variant) for f, r in zip(frames, results, strict=True)
    ]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
    return {"variants": variants, "span": f"{year0} → {year1}", "rows": rows}


def _verdicts(run: ScenarioRun, targets: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if targets.empty:
        return out
    defs = run.scenario.targets if run.scenario is not None else {}
    for (tid, variant), part in targets.groupby(["target", "variant"], sort=False):
        part = part.sort_values("year")
        t = defs.get(str(tid))
        passed = part["passed"]
        known = part[passed.notna()]
        fails = known[known["passed"] == False]  # noqa: E712 - object column of True/False/None
        # the reason of the year that decides: the worst failing year, else the year with the least margin
        decisive = fails if not fails.empty else known if not known.empty else part
        reason = ""
        if not decisive.empty and "reason" in decisive.columns:
            margins = np.nan_to_num(decisive["margin"].to_numpy(dtype=float), nan=np.inf)
            worst = decisive.iloc[int(np.argmin(margins))]
            reason = str(worst["reason"])
        if known.empty:
            verdict, detail = "no data", "the measure was not computed"
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
            "threshold": f"{sign} {format_percent(_finite(first['threshold']))}",
            "margin": format_percent(_finite(known["margin"].min())) if not known.empty else "n/a",
            "verdict": verdict,
            "detail": detail,
            "reason": reason,
        })  # fmt: skip
    order = {r.variant: i for i, r in enumerate(run.results)}
    return sorted(out, key=lambda r: (r["id"], order.get(r["variant"], 99)))


def _shortfall_table(run: ScenarioRun, shortfall: pd.DataFrame, names: Mapping[str, str]) -> dict[str, Any]:
    """Peak shortfall per country · commodity (rows) and variant (columns): "46 % in 2025, 6.8k t in all"."""
    variants = [r.variant for r in run.results]
    table: dict[str, Any] = {"variants": variants, "rows": []}
    if shortfall.empty or "shortfall" not in shortfall.columns:
        return table
    s = shortfall[shortfall["shortfall"] > 0]
    if s.empty:
        return table
    worst = s.groupby(["country", "commodity"])["shortfall_share"].max().sort_values(ascending=False, kind="stable")
    for country, commodity in worst.index[:_MAX_SHORTFALL_ROWS]:
        part = s[(s["country"] == country) & (s["commodity"] == commodity)]
        cells = []
        for v in variants:
            pv = part[part["variant"] == v]
            if pv.empty:
                cells.append("none")
                continue
            # the first year of the peak: shares equal to round-off (35 % in 2026, 2027, 2028) are one peak
            pv = pv.sort_values("year", kind="stable")
            peak = pv.iloc[int(np.argmax(np.round(pv["shortfall_share"].to_numpy(dtype=float), SHARE_DIGITS)))]
            unit = str(pv["unit"].iloc[0]) if "unit" in pv.columns else "t"  # one commodity: one unit
            total = format_tonnes(float(pv["shortfall"].sum()), unit)
            cells.append(f"{format_percent(_finite(peak['shortfall_share']))} in {int(peak['year'])} ({total} in all)")
        table["rows"].append({"what": pair_name(str(country), str(commodity), names), "cells": cells})
    table["more"] = max(0, len(worst) - _MAX_SHORTFALL_ROWS)
    return table


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


