"""Charts for the report: the source country's share over time, shortfall, capacity additions.

Every function builds a :class:`matplotlib.figure.Figure` on the Agg canvas
without :mod:`matplotlib.pyplot`, so no global figure registry, backend switch
or rcParams change leaks into the caller's session; style settings are applied
inside :func:`matplotlib.rc_context`. :func:`save_figure` writes ``.svg`` or
``.png`` (chosen by suffix) atomically, and :func:`figure_svg` returns the SVG
text for embedding. SVG output is deterministic (fixed hash salt, no date).

The input tables follow ``docs/architecture.md``: the tidy measures table
(``year, country, commodity, metric, value, variant, source_country …``), the
shortfall table (``year, country, commodity, shortfall_t, shortfall_share,
variant``) and the node tables per year (``kind, country, commodity, stage,
capacity``).
"""

from __future__ import annotations

import io
import math
import os
import re
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator

from supplychain.io.atomic import atomic_write
from supplychain.report.dot_style import country_name

if TYPE_CHECKING:
    from supplychain.schema.model import Target

__all__ = [
    "CHINA_COLOUR",
    "VARIANT_COLOURS",
    "PercentTicks",
    "TargetLine",
    "capacity_additions_chart",
    "capacity_by_year",
    "figure_png",
    "figure_svg",
    "save_figure",
    "share_chart",
    "shortfall_chart",
    "wrap_id",
]

VARIANT_COLOURS: Final = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
"""Okabe–Ito palette (readable with colour-vision deficiency), one colour per variant."""

VARIANT_MARKERS: Final = ("o", "s", "^", "D", "v", "P", "X", "*")
"""One marker per variant, so that variants stay apart where their lines coincide (and in grey print)."""

_SERIES_DASHES: Final = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)))
"""Line patterns of the shortfall chart's series, so that coinciding lines stay apart."""

CHINA_COLOUR: Final = "#b2182b"
"""China is always drawn in this red in country breakdowns."""

_OTHER_COLOURS: Final = ("#4d4d4d", "#2166ac", "#1a9850", "#762a83", "#e08214", "#35978f", "#8c510a", "#c51b7d",
                         "#5aae61", "#9970ab", "#bababa")  # fmt: skip

_STYLE: Final[dict[str, Any]] = {
    "font.size": 9,
    "font.family": "DejaVu Sans",
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#e0e0e0",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.fonttype": "none",
    "svg.hashsalt": "supplychain",
    "figure.dpi": 100,
    "savefig.dpi": 150,
}
_DIRECT: Final = ("direct_import_share", "direct_share")
_METADATA: Final = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None}}


SHARE_CHART_METRICS: Final = ("exposed_share", "traced_share")
"""The measures :func:`share_chart` draws as its main (thick) line; the direct share is dashed."""

_LINES: Final[dict[str, tuple[str, Any, float, str]]] = {
    # metric: (legend label, line style, width, measure legend text)
    "exposed_share": ("exposed", "-", 2.2, "exposed: traced + unmet demand,\nof planned use"),
    "traced_share": ("traced", "-", 0.9, "traced: of what arrives\n(any upstream stage)"),
    "direct_share": ("direct", "--", 1.2, "direct: first-hop imports"),
}
"""How :func:`share_chart` draws each measure (docs/measures.md §3, §3b, §1)."""


def wrap_id(text: str, width: int) -> str:
    """Wrap a variant or scenario id for a legend at underscores, spaces and commas, never inside a word.

    Examples
    --------
    >>> print(wrap_id("full_ban_with_us_2025_measures", 16))
    full_ban_with_
      us_2025_measures
    >>> wrap_id("base", 16)
    'base'
    """
    lines: list[str] = []
    line = ""
    for token in re.split(r"(?<=[_ ,])", text):
        if line and len(line) + len(token) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    lines.append(line.rstrip())
    return "\n  ".join(lines)


@dataclass(frozen=True)
class TargetLine:
    """A goal drawn on a share chart: at most (or at least) ``value`` of ``metric`` from year ``by`` on.

    A target line is drawn only on a chart of the measure it reads (:func:`share_chart`
    refuses it on another): a target on the exposed share drawn against the traced share
    would read a ban that starves the country (traced share 0) as "target met".
    """

    value: float
    """Threshold as a share in [0, 1]."""
    by: int
    """First year the goal must hold."""
    kind: Literal["max", "min"] = "max"
    """``max``: pass when the share is at most ``value``; ``min``: at least."""
    label: str = ""
    """Annotation text (default: "target ≤ 25% by 2030")."""
    metric: str = "exposed_share"
    """The measure the goal reads (a scenario target's default, ``exposed_share``: unmet demand counts as exposed)."""

    @classmethod
    def of(cls, target: Target, label: str = "") -> TargetLine:
        """Return the line of a scenario's target: its threshold, year, direction and metric.

        Examples
        --------
        >>> from supplychain.schema.model import Target
        >>> TargetLine.of(Target(country="US", commodity="ndfeb_magnet", max=0.25, by=2030))
        TargetLine(value=0.25, by=2030, kind='max', label='', metric='exposed_share')
        >>> TargetLine.of(Target(country="US", commodity="ndfeb", metric="direct_share", max=0.5, by=2030)).metric
        'direct_import_share'
        """
        from supplychain.simulation.targets import target_measure

        value = target.max if target.max is not None else target.min if target.min is not None else 0.0
        return cls(value, target.by, "max" if target.max is not None else "min", label, target_measure(target))

    @property
    def text(self) -> str:
        """The legend text."""
        if self.label:
            return self.label
        sign = "≤" if self.kind == "max" else "≥"
        return f"target {sign} {self.value * 100:.0f}% by {self.by}"


class PercentTicks(Formatter):
    """Percent tick labels of a share axis: whole percents when every tick is one, else one decimal on all.

    A step of 2.5 % printed with no decimal read "0, 2, 5, 8, 10, 12 %" (2.5 rounded half to even),
    so a value on the 17.5 % line seemed to sit on "18 %".

    Examples
    --------
    >>> PercentTicks().format_ticks([0.0, 0.025, 0.05, 0.075])
    ['0.0%', '2.5%', '5.0%', '7.5%']
    >>> PercentTicks().format_ticks([0.0, 0.2, 0.4])
    ['0%', '20%', '40%']
    """

    def __call__(self, x: float, pos: int | None = None) -> str:
        """Return one value's label (whole percent when it is one)."""
        return self.format_ticks([x])[0]

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        """Return the labels of all ticks, with one decimal on every one when any is not a whole percent."""
        whole = all(abs(v * 100 - round(v * 100)) < 1e-6 for v in values)
        return [f"{v * 100:.{0 if whole else 1}f}%" for v in values]


@contextmanager
def _style() -> Iterator[None]:
    with mpl.rc_context(cast(Any, _STYLE)):
        yield


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _empty(fig: Figure, title: str, message: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#525252")
    ax.set_axis_off()
    return fig


def _year_axis(ax: Any, nbins: int | Literal["auto"] = "auto") -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=nbins))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:.0f}"))


def _variant_order(frame: pd.DataFrame) -> list[str]:
    if "variant" not in frame.columns:
        return [""]
    return list(dict.fromkeys(frame["variant"].fillna("").astype(str)))


def _variant_col(frame: pd.DataFrame) -> pd.Series:
    if "variant" not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index)
    return frame["variant"].fillna("").astype(str)


def _same_series(sel: pd.DataFrame, vcol: pd.Series) -> list[list[str]]:
    """Group variants whose traced and direct series are identical (to 10⁻⁹) in every year.

    A group is drawn once, in the colour of its first variant, and the legend names the
    others (``base`` / ``= no_memoranda, ban_kept``): several variants often leave one
    country's share unchanged, and lines drawn over each other would hide all but the last.
    """
    table = sel.assign(_v=vcol).pivot_table(index="_v", columns=["metric", "year"], values="value", aggfunc="mean")
    groups: list[list[str]] = []
    keys: list[np.ndarray] = []
    for variant in _variant_order(sel):
        row = table.loc[variant].to_numpy(dtype=float)
        for g, key in zip(groups, keys, strict=True):
            if np.allclose(row, key, rtol=0.0, atol=1e-9, equal_nan=True):
                g.append(variant)
                break
        else:
            groups.append([variant])
            keys.append(row)
    return groups


# -------------------------------------------------------------------- share
def share_chart(
    measures: pd.DataFrame,
    *,
    country: str,
    commodity: str,
    source_country: str = "CN",
    targets: Sequence[TargetLine] = (),
    title: str | None = None,
    names: Mapping[str, str] | None = None,
    metric: str = "exposed_share",
) -> Figure:
    """Draw the source country's share by year, a colour per variant: main measure thick, traced thin, direct dashed.

    With ``metric="exposed_share"`` (the default) the thick line is the exposed share,
    traced share plus unmet demand, of planned use (docs/measures.md §3b): under a ban
    that starves a country it rises to 100 % where the traced share, a share of what still
    arrives, falls to 0 or n/a. The traced share is drawn thin beside it, the direct
    (first-hop import) share dashed. The unmet part is shaded: a band of the variant's
    colour hangs from its exposed line ``e`` down by its ``shortfall_share`` ``s`` (final
    demand not met), from ``max(0, e − s)`` to ``e``, so a ban that starves the country
    (exposure all shortfall) fills down to the axis while the same exposed share with
    nothing unmet has no band (the full-ban chart: ``full_ban`` 88 %, all unmet, beside
    ``no_ban`` 89 %, all traced). With ``metric="traced_share"`` the traced share is
    the thick line and no exposed share or band is drawn.

    Variants whose series are identical in every year are drawn once and named together
    in the legend (``base`` / ``= framework``); variants that meet in some years are drawn
    wider underneath, narrower on top, so that none hides another.

    Parameters
    ----------
    measures : DataFrame
        Tidy measures (``year, country, commodity, metric, value`` and optionally
        ``variant``, ``source_country``); rows with metric `metric`, ``traced_share``
        and ``direct_import_share`` (or ``direct_share``) are drawn; ``shortfall_share`` rows
        shade the unmet part under the exposed line.
    country, commodity : str
        Whose exposure, in which commodity.
    source_country : str, default "CN"
        Exposure to whom (rows with another ``source_country`` are ignored).
    targets : sequence of TargetLine
        Goals drawn as a dotted line at their threshold with a marker at their ``by`` year;
        each must read `metric` (:attr:`TargetLine.metric`).
    title : str, optional
        Chart title (default: "{source} share · {country} · {commodity}", with display names).
    names : mapping, optional
        Display names of country and commodity ids.
    metric : {"exposed_share", "traced_share"}, default "exposed_share"
        The thick line: the exposed share (traced share plus unmet demand, of planned use),
        the default measure of a scenario's targets, or the traced share (of what arrives).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        A target reads another measure than `metric`, or `metric` is not one the chart draws.

    Examples
    --------
    >>> m = pd.DataFrame({"year": [2024, 2025] * 3, "country": "US", "commodity": "ndpr_oxide",
    ...                   "metric": ["exposed_share"] * 2 + ["traced_share"] * 2 + ["direct_share"] * 2,
    ...                   "value": [0.8, 0.9, 0.8, 0.0, 0.7, 0.0]})
    >>> fig = share_chart(m, country="US", commodity="ndpr_oxide", targets=[TargetLine(0.25, 2030)])
    >>> [(ln.get_label(), [float(v) for v in ln.get_ydata()]) for ln in fig.axes[0].get_lines()][:3]
    [('exposed', [0.8, 0.9]), ('traced', [0.8, 0.0]), ('direct', [0.7, 0.0])]
    >>> short = pd.DataFrame({"year": [2024, 2025], "country": "US", "commodity": "ndpr_oxide",
    ...                       "metric": "shortfall_share", "value": [0.0, 0.9]})
    >>> band = share_chart(pd.concat([m, short]), country="US", commodity="ndpr_oxide").axes[0].patches[0]
    >>> band.get_label(), [[round(float(v), 2) for v in xy] for xy in band.get_xy()][:4]
    ('unmet', [[2024.0, 0.8], [2025.0, 0.0], [2025.0, 0.9], [2024.0, 0.8]])
    >>> fig.legends[0].get_title().get_text(), fig.axes[0].get_legend().get_title().get_text()
    ('measure', 'variant')
    >>> share_chart(m, country="US", commodity="ndpr_oxide", targets=[TargetLine(0.25, 2030)],
    ...             metric="traced_share")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: target ≤ 25% by 2030 reads exposed_share, but this chart draws traced_share: pass ...
    """
    if metric not in SHARE_CHART_METRICS:
        msg = f"share_chart draws one of {', '.join(SHARE_CHART_METRICS)}, not {metric!r}"
        raise ValueError(msg)
    for t in targets:
        if t.metric != metric:
            msg = (f"{t.text} reads {t.metric}, but this chart draws {metric}: pass metric={t.metric!r} "
                   "(a target is drawn only against the measure it reads)")
            raise ValueError(msg)
    # what is drawn, thickest first: the main measure, the traced share beside the exposed one, the direct share
    drawn = list(dict.fromkeys([metric, "traced_share", "direct_share"]))
    styles = {m: _LINES[m] for m in drawn}
    if metric == "traced_share":  # the traced share as the main line: drawn as thick as the exposed one would be
        styles["traced_share"] = ("traced", "-", _LINES["exposed_share"][2], "traced (any upstream stage)")
    names = names or {}
    title = title or (f"{country_name(source_country, names)} share · {country_name(country, names)} · "
                      f"{names.get(commodity, commodity)}")
    sel = measures[
        (measures["country"] == country)
        & (measures["commodity"] == commodity)
        & measures["metric"].isin([*drawn, *_DIRECT])
    ]
    sel = sel.assign(metric=sel["metric"].where(~sel["metric"].isin(_DIRECT), "direct_share"))
    if "source_country" in sel.columns:
        sel = sel[sel["source_country"].fillna(source_country) == source_country]
    if "partner" in sel.columns:
        sel = sel[sel["partner"].isna() | (sel["partner"].astype(str) == "")]
    unmet = _unmet(measures, country, commodity) if metric == "exposed_share" else sel.iloc[:0]
    present = set(sel["metric"])
    finite = np.isfinite(pd.to_numeric(sel["value"], errors="coerce"))
    undefined = sel[~finite]  # a share with nothing to take it of (no imports, nothing arriving): n/a
    sel = sel[finite]
    with _style():
        vcol = _variant_col(sel)
        groups = _same_series(sel, vcol) if not sel.empty else []
        legend_lines = sum(len(g) + 2 for g in groups)  # a variant's name (often wrapped) and its "= others"
        # the variant legend stands right of the axes: the figure is as tall as it needs, the measures below
        fig = _new_figure(7.2, max(3.2, 0.14 * legend_lines + 0.9) + 0.8)
        if sel.empty:
            labels = [styles[m][0] for m in drawn]
            what = ", ".join(labels[:-1]) + " or " + labels[-1]
            return _empty(fig, title, f"no {what} share for this country and commodity")
        ax = fig.add_subplot()
        marked = next(m for m in drawn if m in set(sel["metric"]))  # the main line, else the first one drawn
        variant_handles = []
        banded = False
        for i, group in enumerate(groups):
            colour = VARIANT_COLOURS[i % len(VARIANT_COLOURS)]
            marker = VARIANT_MARKERS[i % len(VARIANT_MARKERS)]
            # lines of different variants may still meet in some years: earlier ones are drawn
            # a little wider underneath, later ones on top, each with its own marker
            under = len(groups) - 1 - i
            for m in drawn:
                part = sel[(vcol == group[0]) & (sel["metric"] == m)].groupby("year")["value"].mean()
                if part.empty:
                    continue
                part = part.sort_index()
                label, style, width, _ = styles[m]
                main = m == metric
                # markers on the main line only: they tell variants apart where lines meet, and the page
                # inlines every chart (three marked lines per variant made it heavier than its cap)
                ax.plot(part.index, part.to_numpy(), linestyle=style, color=colour,
                        lw=width + (1.2 if main else 0.5) * under, marker=marker if m == marked else "",
                        ms=3.5 + 1.5 * under, label=label, zorder=2 + i)
            shaded = _band(sel[(vcol == group[0]) & (sel["metric"] == metric)],
                           unmet[_variant_col(unmet) == group[0]] if not unmet.empty else unmet)
            if shaded is not None:  # the unmet part of the exposed share, hanging from its line
                years, low, high = shaded  # one polygon (a plain SVG path: the page inlines every chart)
                ax.fill(np.concatenate([years, years[::-1]]), np.concatenate([low, high[::-1]]), color=colour,
                        alpha=0.16, lw=0, zorder=1, label="unmet", clip_on=False)  # within the axes: 0 ≤ share ≤ 1
                banded = True
            na = undefined[_variant_col(undefined) == group[0]] if not undefined.empty else undefined
            for year, metrics in na.groupby("year")["metric"]:
                gone = [styles[m][0] for m in drawn if m in set(metrics)]
                what = "n/a" if len(gone) == len(present) else f"{'/'.join(gone)} n/a"
                ax.annotate(what, (year, 0.0), xytext=(0, 3 + 9 * i), textcoords="offset points", ha="center",
                            va="bottom", fontsize=7, color=colour, zorder=5)
            label = wrap_id(group[0] or "scenario", 24)
            if len(group) > 1:
                label += "\n" + wrap_id("= " + ", ".join(group[1:]), 24)
            variant_handles.append(Line2D([], [], color=colour, lw=2.5, marker=marker, ms=5, label=label))
        for t in targets:
            ax.axhline(t.value, ls=":", color="#252525", lw=1.2)
            ax.plot([t.by], [t.value], marker="v" if t.kind == "max" else "^", color="#252525", ms=7, zorder=5,
                    label=t.text)
            ax.annotate(t.text, (0.01, t.value), xycoords=("axes fraction", "data"), xytext=(0, 4),
                        textcoords="offset points", ha="left", va="bottom", fontsize=8, color="#252525",
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85})  # fmt: skip
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentTicks())
        _year_axis(ax)
        ax.set_title(title)
        ax.set_ylabel("share")
        ax.legend(handles=variant_handles, title="variant", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        style_handles: list[Artist] = [Line2D([], [], color="#252525", lw=styles[m][2], ls=styles[m][1],
                                              label=styles[m][3]) for m in drawn if m in present]  # fmt: skip
        if banded:
            style_handles.insert(1, Patch(facecolor="#252525", alpha=0.16, lw=0,
                                          label="shaded: unmet demand"))
        if targets:
            style_handles.append(Line2D([], [], color="#252525", lw=1.2, ls=":", marker="v",
                                        label=f"target on the {styles[metric][0]} share"))
        if not undefined.empty:
            style_handles.append(Line2D([], [], ls="none", label="n/a: no share (nothing arrives;\n"
                                                                 "direct: no imports)"))
        fig.legend(handles=style_handles, title="measure", loc="outside lower left", ncols=2, fontsize=7)
    return fig


def _unmet(measures: pd.DataFrame, country: str, commodity: str) -> pd.DataFrame:
    """Return the pair's finite ``shortfall_share`` rows (a share of demand: no source country, no partner)."""
    rows = measures[(measures["metric"] == "shortfall_share") & (measures["country"] == country)
                    & (measures["commodity"] == commodity)]  # fmt: skip
    if "partner" in rows.columns:
        rows = rows[rows["partner"].isna() | (rows["partner"].astype(str) == "")]
    return pd.DataFrame(rows[np.isfinite(pd.to_numeric(rows["value"], errors="coerce"))])


def _band(exposed: pd.DataFrame, unmet: pd.DataFrame) -> tuple[Any, Any, Any] | None:
    """Years, ``max(0, e − s)`` and ``e``: the unmet part under a variant's exposed line; None when nothing is unmet.

    ``exposed`` and ``unmet``: one variant's ``exposed_share`` (e) and ``shortfall_share`` (s)
    rows, by year (the mean of duplicate rows, as the lines); years with both only.

    Examples
    --------
    >>> e = pd.DataFrame({"year": [2024, 2025, 2026], "value": [0.9, 0.9, 0.5]})
    >>> s = pd.DataFrame({"year": [2024, 2025, 2026], "value": [0.0, 0.9, 0.7]})
    >>> [list(map(float, a)) for a in _band(e, s)]
    [[2024.0, 2025.0, 2026.0], [0.9, 0.0, 0.0], [0.9, 0.9, 0.5]]
    >>> _band(e, s.assign(value=0.0)) is None
    True
    """
    if exposed.empty or unmet.empty:
        return None
    both = pd.concat([exposed.groupby("year")["value"].mean().rename("e"),
                      unmet.groupby("year")["value"].mean().rename("s")], axis=1).dropna().sort_index()  # fmt: skip
    if both.empty or not (both["s"] > 1e-9).any():
        return None
    high = both["e"].to_numpy(dtype=float)
    return both.index.to_numpy(dtype=float), np.maximum(0.0, high - both["s"].to_numpy(dtype=float)), high


# ----------------------------------------------------------------- shortfall
def _first(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def shortfall_chart(
    shortfall: pd.DataFrame,
    *,
    title: str = "Shortfall by country and commodity",
    names: Mapping[str, str] | None = None,
    max_series: int = 8,
) -> Figure:
    """Shortfall as a share of demand by year: one panel per variant, one line per country · commodity.

    Parameters
    ----------
    shortfall : DataFrame
        ``year, country, commodity`` with ``shortfall_share`` (or ``share``) and
        ``shortfall`` (the quantity, in the commodity's unit); optional ``variant``.
    title : str
        Figure title.
    names : mapping, optional
        Display names of country and commodity ids.
    max_series : int, default 8
        Draw the series with the largest peak shortfall; the rest are named in a note.

    Returns
    -------
    matplotlib.figure.Figure
        Says "no shortfall" when every value is zero.
    """
    names = names or {}
    share_col = _first(shortfall, ("shortfall_share", "share"))
    tonnes_col = _first(shortfall, ("shortfall", "shortfall_t", "tonnes"))
    with _style():
        if share_col is None or shortfall.empty or "year" not in shortfall.columns:
            return _empty(_new_figure(6.4, 2.0), title, "no shortfall computed")
        df = shortfall.assign(
            _share=pd.to_numeric(shortfall[share_col], errors="coerce"),  # n/a (no demand): a gap, not 0
            _t=pd.to_numeric(shortfall[tonnes_col], errors="coerce").fillna(0.0) if tonnes_col else np.nan,
            _variant=_variant_col(shortfall),
            _series=shortfall["country"].map(lambda c: country_name(str(c), names)).astype(str)
            + " · "
            + shortfall["commodity"].map(lambda c: names.get(c, c)).astype(str),
        )
        if not (df["_share"] > 0).any():
            return _empty(_new_figure(6.4, 1.6), title, "no shortfall in any year or variant")
        peak = df.groupby("_series")["_share"].max().sort_values(ascending=False)
        peak = peak[peak > 0]
        keep = list(peak.index[:max_series])
        hit = df.groupby("_variant", sort=False)["_share"].max()
        variants = [v for v in dict.fromkeys(df["_variant"]) if hit[v] > 0]
        quiet = [v or "shortfall" for v in dict.fromkeys(df["_variant"]) if hit[v] <= 0]
        ncols = min(3, len(variants))
        nrows = math.ceil(len(variants) / ncols)
        width = 3.6 * ncols + 0.8
        # legend labels wrapped to half the figure's width (two columns of ~11 characters per inch at 8 pt)
        wrap = max(24, int(width * 11 / 2) - 4)
        label = {s: textwrap.fill(s, width=wrap, subsequent_indent="  ") for s in keep}
        lines = [label[s].count("\n") + 1 for s in keep]
        legend_rows = sum(max(lines[i : i + 2]) for i in range(0, len(lines), 2))
        fig = _new_figure(width, 2.4 * nrows + 0.6 + 0.16 * legend_rows)
        axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
        colours = {s: VARIANT_COLOURS[i % len(VARIANT_COLOURS)] for i, s in enumerate(keep)}
        dashes = {s: _SERIES_DASHES[i % len(_SERIES_DASHES)] for i, s in enumerate(keep)}
        for k, variant in enumerate(variants):
            ax = axes[k // ncols][k % ncols]
            part = df[df["_variant"] == variant]
            for s in keep:
                line = part[part["_series"] == s].groupby("year")["_share"].max().sort_index()
                if not line.empty:
                    # lines only (markers on every point of every panel made the SVG of a ten-variant
                    # scenario 150 kB, and the page inlines it); a dash pattern per series keeps lines
                    # that coincide apart
                    ax.plot(line.index, line.to_numpy(), linestyle=dashes[s], lw=1.4, color=colours[s],
                            label=label[s])
            ax.set_title(wrap_id(variant or "shortfall", 40), fontsize=9)
            ax.yaxis.set_major_formatter(PercentTicks())
            _year_axis(ax, nbins=4)  # a few labelled years: narrow panels must not overprint
        # the panels share one y axis: its range is set once all are drawn (setting it per panel
        # froze it at the first panel's data and cut off larger shortfalls in later panels)
        axes[0][0].set_ylim(0, 1.05 * float(df.loc[df["_series"].isin(keep), "_share"].max()))
        for k in range(len(variants), nrows * ncols):
            axes[k // ncols][k % ncols].set_axis_off()
        axes[0][0].set_ylabel("share of demand unmet")
        handles, labels = axes[0][0].get_legend_handles_labels()
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="outside lower center", ncols=min(2, len(labels)), fontsize=8)
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=10)
        notes = []
        if quiet:
            notes.append(f"no shortfall in: {', '.join(quiet)}")
        dropped = len(peak) - len(keep)
        if dropped > 0:
            notes.append(f"{dropped} smaller series not drawn (see shortfall.csv)")
        if notes:
            fig.supxlabel("; ".join(notes), x=0.01, ha="left", fontsize=7, color="#525252")
    return fig


# ----------------------------------------------------------------- capacity
def capacity_by_year(node_tables: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """Capacity of facilities by year, country, commodity and stage from per-year node tables.

    Parameters
    ----------
    node_tables : mapping of int to DataFrame
        Year → node table (``kind, country, commodity, stage, capacity``).

    Returns
    -------
    DataFrame
        ``year, country, commodity, stage, capacity`` (per year, in the reference output's
        unit; facilities with unknown capacity are left out), sorted.

    Examples
    --------
    >>> n = pd.DataFrame({"kind": ["facility", "market"], "country": ["US", "US"], "commodity": ["m", "m"],
    ...                   "stage": ["magnet", "magnet"], "capacity": [1000.0, float("nan")]})
    >>> capacity_by_year({2025: n}).to_dict("records")
    [{'year': 2025, 'country': 'US', 'commodity': 'm', 'stage': 'magnet', 'capacity': 1000.0}]
    """
    parts = []
    for year, nodes in sorted(node_tables.items()):
        if nodes.empty or "capacity" not in nodes.columns:
            continue
        fac = nodes[(nodes["kind"] == "facility") & pd.to_numeric(nodes["capacity"], errors="coerce").notna()]
        g = fac.groupby(["country", "commodity", "stage"], as_index=False)["capacity"].sum()
        parts.append(g.assign(year=int(year)))
    if not parts:
        return pd.DataFrame(columns=["year", "country", "commodity", "stage", "capacity"])
    out = pd.DataFrame(pd.concat(parts, ignore_index=True)[["year", "country", "commodity", "stage", "capacity"]])
    return out.sort_values(["year", "country", "commodity"]).reset_index(drop=True)


def _country_colours(countries: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    for c in countries:
        if c == "CN":
            out[c] = CHINA_COLOUR
        else:
            out[c] = _OTHER_COLOURS[i % len(_OTHER_COLOURS)]
            i += 1
    return out


def capacity_additions_chart(
    capacity: pd.DataFrame,
    *,
    title: str = "Capacity added since the base year",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Capacity added (or closed) against the first year, stacked by country, one panel per commodity.

    Parameters
    ----------
    capacity : DataFrame
        ``year, country, commodity, capacity`` and optionally ``unit`` (the commodity's
        basis; ``t`` when absent): each panel is titled with its unit per year.
    title : str
        Figure title.
    names : mapping, optional
        Display names of country and commodity ids.

    Returns
    -------
    matplotlib.figure.Figure
        Says "no capacity change" when nothing changes.
    """
    names = names or {}
    with _style():
        if capacity.empty:
            return _empty(_new_figure(6.4, 1.6), title, "no capacity data")
        wide = capacity.pivot_table(
            index=["commodity", "country"], columns="year", values="capacity", aggfunc="sum", fill_value=0.0
        )
        base = wide.columns.min()
        added = wide.sub(wide[base], axis=0).drop(columns=base)
        added = added.loc[(added.abs() > 1e-9).any(axis=1)] if not added.empty else added
        if added.empty:
            return _empty(_new_figure(6.4, 1.6), title, f"no capacity change after {base}")
        commodities = sorted(added.index.get_level_values(0).unique())
        units = capacity["unit"] if "unit" in capacity.columns else pd.Series("t", index=capacity.index)
        unit_of = {str(k): str(u).split(maxsplit=1)[0] for k, u in zip(capacity["commodity"], units, strict=True)}
        countries = sorted(added.index.get_level_values(1).unique(), key=lambda c: (c != "CN", c))
        colours = _country_colours(countries)
        ncols = min(3, len(commodities))
        nrows = math.ceil(len(commodities) / ncols)
        fig = _new_figure(3.2 * ncols + 1.4, 2.5 * nrows + 0.4)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for k, com in enumerate(commodities):
            ax = axes[k // ncols][k % ncols]
            block = added.loc[com]
            years = np.array(block.columns, dtype=int)
            pos = np.zeros(len(years))
            neg = np.zeros(len(years))
            for c in countries:
                if c not in block.index:
                    continue
                vals = block.loc[c].to_numpy(dtype=float)
                up, down = np.clip(vals, 0, None), np.clip(vals, None, 0)
                label = country_name(c, names)
                ax.bar(years, up, bottom=pos, color=colours[c], width=0.7, label=label)
                if (down < 0).any():
                    ax.bar(years, down, bottom=neg, color=colours[c], width=0.7, hatch="//", alpha=0.7)
                pos += up
                neg += down
            ax.axhline(0, color="#525252", lw=0.8)
            ax.set_title(f"{names.get(com, com)} ({unit_of.get(com, 't')}/yr)", fontsize=9)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v / 1000:g}k" if abs(v) >= 1000 else f"{v:g}"))
            _year_axis(ax)
        for k in range(len(commodities), nrows * ncols):
            axes[k // ncols][k % ncols].set_axis_off()
        axes[0][0].set_ylabel("capacity added")
        handles, labels = [], []
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="outside right center", title="country")
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=10)
    return fig


# -------------------------------------------------------------------- output
def figure_svg(fig: Figure) -> str:
    """Return the figure as SVG text (deterministic: fixed ids, no date).

    Examples
    --------
    >>> fig = _new_figure(2, 1)
    >>> figure_svg(fig).lstrip().startswith("<?xml")
    True
    """
    buf = io.StringIO()
    with _style():
        fig.savefig(buf, format="svg", metadata=_METADATA["svg"])
    return buf.getvalue()


def figure_png(fig: Figure) -> bytes:
    """Return the figure as PNG bytes."""
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format="png", metadata=_METADATA["png"])
    return buf.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write the figure to ``path`` as ``.svg`` or ``.png`` (by suffix), atomically.

    Raises
    ------
    ValueError
        If the suffix is neither ``.svg`` nor ``.png``.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".svg":
        data = figure_svg(fig).encode("utf-8")
    elif suffix == ".png":
        data = figure_png(fig)
    else:
        msg = f"cannot tell the image format from {out.name!r}: use a .svg or .png file name"
        raise ValueError(msg)
    return atomic_write(out, lambda tmp: tmp.write_bytes(data))
