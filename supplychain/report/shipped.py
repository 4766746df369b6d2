"""Shipped abroad while short: the report's words and table for a short country's supply that still goes abroad.

:meth:`~supplychain.api.Result.shipped_while_short` finds the tonnes; here they become
a scenario section's table (focus countries × variants, :func:`shipped_table`) with a note
saying why the response ships them (:data:`SHIPPED_WHY`, by mode or allocation rule), and the
hover note of an answer's shortfall cell (:func:`shipped_text`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from supplychain.engine.check import years_text
from supplychain.report.dot_style import _finite, country_name, format_tonnes, pair_name
from supplychain.report.numbers import format_percent

if TYPE_CHECKING:
    from supplychain.report.runs import ScenarioRun

__all__ = ["SHIPPED_WHY", "shipped_table", "shipped_text"]

SHIPPED_WHY: Final[dict[str, str]] = {
    "fixed": "Under the fixed response every buyer keeps its share of what a supplier still has, so a country that is "
             "short goes on exporting in proportion.",
    "contracts_first": "Under the contracts_first rule a country's users are guaranteed what they get under the fixed "
                       "response, not first call on the supply in their country: beyond that, supply goes to the users "
                       "short of the largest share wherever they are, so a country less short than others goes on "
                       "exporting while short (the home_first rule forbids it). Where an agreement grants a preference "
                       "(status deal) a party's extra supply serves "
                       "its own users and its partners first, max-min fair among them, but never leaves a party's "
                       "users shorter than without the preference: a partner is served while the party's own users "
                       "are short only where they would be as short without it.",
    "home_first": "Under the home_first rule a country exports while its own users are short only under committed "
                  "offtakes; it keeps the inputs its own plants turn into the commodity too, and exports only what "
                  "they cannot use.",
    "proportional": "Under the proportional rule every user of a commodity loses the same share, so supply goes on "
                    "crossing borders to users as short as the exporter's own.",
    "max_delivery": "Under the max_delivery rule the most tonnes are delivered, and users are rationed max-min "
                    "fair among the outcomes that deliver the most.",
}
"""Why a response ships a short country's supply abroad, by mode (``fixed``) or allocation rule."""
_MAX_SHIPPED_PARTS: Final = 3


def shipped_text(part: pd.DataFrame, year: int, names: Mapping[str, str]) -> str:
    """Say where a short country's supply went: ``71% short in 2030; 688 t REO to Japan (deal)``.

    ``part`` holds one country and commodity's rows of
    :func:`~supplychain.simulation.shipped.shipped_while_short`; the text is about ``year`` when it
    has rows, else the year the most was shipped, and names the other years: ``…; 1.9k t REO
    shipped: Japan 1.2k t (new), Rest of world 717 t (reduced); also 2025–2029``.
    """
    by_year = part.groupby("year")["shipped"].sum()  # sorted by year
    years = [int(y) for y in by_year.index]
    shown = year if year in years else years[int(np.argmax(by_year.to_numpy()))]
    at = part[part["year"] == shown]
    unit = str(at["unit"].iloc[0])
    text = f"{format_percent(_finite(at['shortfall_share'].iloc[0]))} short in {shown}; "
    if len(at) == 1:
        text += (f"{format_tonnes(float(at['shipped'].iloc[0]), unit)} to "
                 f"{country_name(str(at['destination'].iloc[0]), names)} ({at['status'].iloc[0]})")
    else:
        short_unit = unit.split()[0]  # the total names the basis (t REO), each part only the measure
        where = [f"{country_name(str(d), names)} {format_tonnes(float(t), short_unit)} ({st})"
                 for d, st, t in zip(at["destination"], at["status"], at["shipped"], strict=True)]
        if len(where) > _MAX_SHIPPED_PARTS:
            where = [*where[:_MAX_SHIPPED_PARTS], f"{len(where) - _MAX_SHIPPED_PARTS} more"]
        text += f"{format_tonnes(float(at['shipped'].sum()), unit)} shipped: {', '.join(where)}"
    others = [y for y in years if y != shown]
    return text + (f"; also {years_text(others)}" if others else "")


def shipped_table(run: ScenarioRun, names: Mapping[str, str], countries: Sequence[str], year: int) -> dict[str, Any]:
    """Focus countries' supply shipped abroad while their own users are short (rows) per variant (columns)."""
    variants = [r.variant for r in run.results]
    base = run.results[0]
    rule = "fixed" if base.mode == "fixed" else base.allocation
    note = (f"Supply of a country that crosses a border in a year its own users of that commodity are short, "
            f"or that its own running plants turn into it (a feed: the short share is the fed commodity's), "
            f"in {year} (else the year the most is shipped), by destination and flow status (deal: a flow an "
            f"agreement exempted, committed or favoured; new: a route without baseline tonnes; normal, reduced, "
            f"rerouted: a baseline trade at, below or above its baseline). "
            f"{SHIPPED_WHY.get(rule, '')} Every flow is in flows.csv.gz.")
    table: dict[str, Any] = {"variants": variants, "rows": [], "note": note}
    s = pd.concat([r.shipped_while_short() for r in run.results], ignore_index=True)
    s = s[s["country"].isin(list(countries))]
    for (country, feed_of, commodity), part in s.groupby(["country", "feed_of", "commodity"], sort=True):
        cells = [shipped_text(pv, year, names) if not (pv := part[part["variant"] == v]).empty else "–"
                 for v in variants]  # fmt: skip
        what = pair_name(str(country), str(commodity), names)
        if feed_of:  # the share is the short commodity's: say which
            what += f" (a feed of {names.get(str(feed_of), str(feed_of).replace('_', ' '))})"
        table["rows"].append({"what": what, "cells": cells})
    return table
