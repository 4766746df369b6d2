"""How numbers read in every table people see: the command line, the report, Markdown, notebooks, Excel.

One set of rules, so a share reads the same in ``supplychain run`` as on the page:

* **Shares are percentages** (:func:`format_percent`): ``0.8657`` → ``87%``, with
  ``<1%`` and ``>99%`` at the ends (:func:`~supplychain.report.dot_style.format_share`,
  the report's format).
* **Quantities in plain digits** (:func:`format_number`): thousands separators,
  four significant digits below 1,000, never scientific notation (``21,450``, not
  ``2.145e+04``).
* **Round-off is zero**: a value within :data:`ROUND_OFF` of zero (spare capacity
  ``1.819e-12``) prints as ``0``.
* **Workbook cells keep their numbers** (:func:`excel_format`): the Excel format of a cell
  shows a quantity with :func:`format_number`'s decimals (:func:`quantity_decimals`) and a
  share to its first significant digit, so a value that is not 0 never reads 0.
* **CSV files for machines** (:func:`csv_number`): full precision to the micro-unit,
  plain decimals (``1374620.5``, not ``1.37462e+06``), round-off as ``0``.
* **"E" says what it means**: USGS net import reliance is not defined for a net
  exporter; the measure's ``label`` is ``"E"`` and tables show :data:`NET_EXPORTER`.

Examples
--------
>>> format_number(21453.2), format_number(1.819e-12), format_percent(0.8657)
('21,453', '0', '87%')
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, SupportsFloat, cast

from supplychain.report.dot_style import format_share

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ASSUMED_MARK", "ASSUMED_NOTE", "EXCEL_KINDS", "NET_EXPORTER", "NET_EXPORTER_MEANING", "ROUND_OFF",
           "SHARE_COLUMNS", "assumed_commodity", "assumed_percent", "assumed_split_note", "csv_number",
           "display_frame", "excel_format", "format_apart", "format_cell", "format_number", "format_percent",
           "format_points", "is_share", "measure_text", "quantity_decimals", "snap"]

ROUND_OFF: Final = 1e-6
"""Values within this of zero are the solver's round-off and shown as 0 (``supplychain.simulation.run.TOL``)."""

NET_EXPORTER: Final = "net exporter"
"""What a cell shows where net import reliance is labelled ``"E"`` (see :data:`NET_EXPORTER_MEANING`)."""

NET_EXPORTER_MEANING: Final = "exports more than it imports (net imports I − E ± ΔS below zero)"
"""What a "net exporter" does, in every sentence that says it: "the country …" (run, sweep, report, workbook, notebook).

USGS net import reliance (I − E ± ΔS) / AC is left undefined (label ``"E"``) where net
imports I − E ± ΔS are below zero (``docs/measures.md``, section 2). Exports exceed
*imports*, not use: a producer making 100 t, importing 20 t and exporting 50 t is one,
though it uses 70 t.
"""

ASSUMED_MARK: Final = "*"
"""Mark of a share built on import shares assumed from a ranked list of sources (RANKED-SOURCE SPLIT)."""

ASSUMED_NOTE: Final = ("import shares assumed from a ranked list of sources (RANKED-SOURCE SPLIT, no percentages "
                       "published): every share built on them is an order of magnitude, read to the whole percent")
"""The footnote of an :data:`ASSUMED_MARK`, after the mark, in every output: ``run``, the report (Markdown and
HTML), the atlas's controls table (the rule: :func:`~supplychain.schema.assumptions.assumed_split`)."""

SHARE_COLUMNS: Final = frozenset({"utilisation", "net_import_reliance", "element_dependence",
                                  "direct_share_of_consumption", "probability"})
"""Columns holding shares (besides every name ending in ``share``): shown as percentages."""

_DIGITS: Final = 4
"""Significant digits of a quantity below 1,000."""


def is_share(name: str) -> bool:
    """Tell whether a column or metric name holds a share in [0, 1] (shown as a percentage).

    Examples
    --------
    >>> [is_share(n) for n in ("traced_share", "shortfall_share", "utilisation", "demand", "target:x")]
    [True, True, True, False, False]
    >>> is_share("US ndpr_oxide exposed_share"), is_share("US Dy element_dependence")  # the last word counts
    (True, True)
    """
    return name.endswith("share") or name.rsplit(" ", 1)[-1] in SHARE_COLUMNS


def snap(value: float) -> float:
    """Return ``value``, or 0 within :data:`ROUND_OFF` of zero (the solver's round-off).

    Examples
    --------
    >>> snap(1.819e-12), snap(-2.5)
    (0.0, -2.5)
    """
    return 0.0 if abs(value) < ROUND_OFF else value


def format_number(value: Any) -> str:
    """Format a quantity for a table: plain digits, thousands separators, round-off as 0.

    Values of 1,000 and more are whole numbers with separators; smaller ones keep four
    significant digits (trailing zeros dropped). Nothing is ever written in scientific
    notation; NaN and None are an en dash.

    Examples
    --------
    >>> [format_number(x) for x in (4e4, 2.145e4, 1.819e-12, -1547.4, 24.7600, 2.0444, 0.09927, 0.000123)]
    ['40,000', '21,450', '0', '-1,547', '24.76', '2.044', '0.09927', '0.000123']
    >>> import pandas as pd
    >>> format_number(float("nan")), format_number(None), format_number(pd.NA), format_number(3), format_number(-1e-9)
    ('–', '–', '–', '3', '0')
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):  # pandas' NA and NaT are missing values; text stays text
        return "–" if type(value).__name__ in ("NAType", "NaTType") else str(value)
    if not math.isfinite(x):
        return "–" if math.isnan(x) else ("∞" if x > 0 else "-∞")
    x = snap(x)
    if x == 0:
        return "0"
    decimals = quantity_decimals(x)
    if decimals == 0:
        return f"{x:,.0f}"
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def quantity_decimals(value: float) -> int:
    r"""Return the decimals a quantity is shown with: none from 999.5 on, else :data:`_DIGITS` significant digits.

    :math:`d = \max(0, 3 - \lfloor \log_{10} |x| \rfloor)` for :math:`0 < |x| < 999.5`, 0 otherwise (zero and
    round-off, :func:`snap`, included): the one rule of :func:`format_number` (text tables) and
    :func:`excel_format` (the workbook's cells). A non-zero :math:`|x| \ge 10^{-d}`, so it never reads 0.

    Examples
    --------
    >>> [quantity_decimals(x) for x in (21453.2, 999.5, 999.4, 24.76, 0.386, 0.000123, 0.0, 1e-9)]
    [0, 0, 1, 2, 4, 7, 0, 0]
    """
    x = abs(snap(float(value)))
    if x == 0 or x >= 999.5:
        return 0
    return max(0, _DIGITS - 1 - math.floor(math.log10(x)))


def _first_digit_decimals(value: float, least: int) -> int:
    r"""Return the decimals that show a number's first significant digit, at least ``least``.

    :math:`\max(l, -\lfloor \log_{10} |x| \rfloor)`; ``least`` for 0.
    """
    x = abs(float(value))
    return least if x == 0 else max(least, -math.floor(math.log10(x)))


EXCEL_KINDS: Final = ("quantity", "percent", "points")
"""What a workbook cell holds (:func:`excel_format`): a quantity in its unit, a share, or percentage points."""


def excel_format(value: Any, kind: str = "quantity") -> str:
    r"""Return the Excel number format of a workbook cell: a non-zero value never reads 0.

    * ``quantity`` (tonnes, kilograms, in the row's unit): thousands separators and the decimals of
      :func:`quantity_decimals` — as :func:`format_number` prints it, trailing zeros kept
      (``#,##0``, ``#,##0.0000`` for 0.386 t);
    * ``percent`` (a share, 0–1): ``0.0%``, with more decimals where the share is below 0.1 %,
      enough for its first significant digit (:math:`\max(1, -\lfloor \log_{10} 100|x| \rfloor)`:
      ``0.03%``, never ``0.0%`` for a share that is not 0);
    * ``points`` (percentage points, already × 100): ``0.0" pt"``, more decimals alike.

    Round-off (:func:`snap`: within :data:`ROUND_OFF` of 0) and what is not a finite number take the
    plain format of the kind (a cell written empty or as text).

    Examples
    --------
    >>> [excel_format(x) for x in (21453.2, 24.76, 0.386, 0.0, 1e-9)]
    ['#,##0', '#,##0.00', '#,##0.0000', '#,##0', '#,##0']
    >>> [excel_format(x, "percent") for x in (0.8657, 0.0003, 0.0)], excel_format(-0.004, "points")
    (['0.0%', '0.00%', '0.0%'], '0.000" pt"')
    """
    try:
        x = snap(float(value))
    except (TypeError, ValueError):
        x = 0.0
    if not math.isfinite(x):
        x = 0.0
    if kind == "quantity":
        d = quantity_decimals(x)
        return "#,##0" + ("." + "0" * d if d else "")
    if kind == "percent":
        return f"0.{'0' * _first_digit_decimals(100 * x, 1)}%"
    if kind == "points":
        return f'0.{"0" * _first_digit_decimals(x, 1)}" pt"'
    msg = f"kind {kind!r} is none of {', '.join(EXCEL_KINDS)}"
    raise ValueError(msg)


_APART_DECIMALS: Final = 6
"""Most decimals :func:`format_apart` adds: a difference below 10⁻⁶ is the solver's round-off (:data:`ROUND_OFF`)."""


def format_apart(a: float, b: float) -> tuple[str, str]:
    r"""Format two quantities compared in one message so that they read different when they differ.

    :func:`format_number` each; if the two texts are equal but the values differ by more than
    :data:`ROUND_OFF`, both get :math:`k = \lceil -\log_{10} |a - b| \rceil` decimals (at least 1, at
    most :data:`_APART_DECIMALS`, more while they still read alike) with thousands separators,
    ``f"{x:,.{k}f}"``: the gap's first digit shows, so the two read as far apart as they are. Used
    where a message states two totals and the gap between them ("outflow … exceeds inflow … by 0.3 t").

    Examples
    --------
    A market 0.3 t short at 12,345.9 t out against 12,345.6 t in: both are "12,346" to five
    figures, one decimal tells them apart.

    >>> format_apart(12345.9, 12345.6)
    ('12,345.9', '12,345.6')
    >>> format_apart(999.96, 999.94), format_apart(150.0, 100.0), format_apart(5.0, 5.0 + 1e-9)
    (('999.96', '999.94'), ('150', '100'), ('5', '5'))
    """
    fa, fb = format_number(a), format_number(b)
    if fa != fb or not abs(float(a) - float(b)) > ROUND_OFF:
        return fa, fb
    gap = max(1, math.ceil(-math.log10(abs(float(a) - float(b)))))
    for k in range(min(gap, _APART_DECIMALS), _APART_DECIMALS + 1):
        fa, fb = f"{float(a):,.{k}f}", f"{float(b):,.{k}f}"
        if fa != fb:
            break
    return fa, fb


def csv_number(value: object) -> str:
    """Format a float for a CSV file: six decimals at most, trailing zeros dropped, never an exponent.

    The ``float_format`` of :meth:`pandas.DataFrame.to_csv` for the report's tables: a
    spreadsheet or ``pandas.read_csv`` reads the same number back to 1e-6 of the unit
    (tonnes, kilograms), shares keep six decimals, and round-off below :data:`ROUND_OFF`
    is written ``0``.

    Examples
    --------
    >>> [csv_number(x) for x in (1374620.5, 1.819e-12, 0.8657142857, 40000.0, -2.5e-7, 13.1121)]
    ['1374620.5', '0', '0.865714', '40000', '0', '13.1121']
    """
    text = f"{snap(float(cast(SupportsFloat, value))):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_percent(value: Any) -> str:
    """Format a share as a whole percentage, the report's way (round-off as ``0%``, NaN as ``n/a``).

    Examples
    --------
    >>> [format_percent(x) for x in (0.8657, 1.819e-12, 0.004, 0.996, 1.0, None)]
    ['87%', '0%', '<1%', '>99%', '100%', 'n/a']
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return format_share(snap(x) if math.isfinite(x) else x)


def format_points(value: Any) -> str:
    r"""Format a difference of two shares in percentage points, one decimal (NaN as ``n/a``).

    A target's margin is its threshold less its value, :math:`m = \theta - x` (``max`` targets):
    25 % less 18.7 % is 6.3 points, not "6 %" of anything.

    Examples
    --------
    >>> [format_points(x) for x in (0.0631, -0.154, 1e-12, None)]
    ['6.3 pt', '−15.4 pt', '0.0 pt', 'n/a']
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(x):
        return "n/a"
    text = f"{abs(snap(x)) * 100:.1f} pt"
    return f"−{text}" if snap(x) < 0 and text != "0.0 pt" else text


def assumed_percent(value: Any) -> str:
    """Format a share built on a ranked-source split: :func:`format_percent`, then :data:`ASSUMED_MARK`.

    The one rounding of a starred share (:func:`~supplychain.schema.assumptions.assumed_split`):
    the report's cells and ``run``'s table (whose starred commodity stands for its row's shares)
    print :func:`format_percent`, the controls table this; so 0.996 reads ``>99%*``, never ``100%*``
    beside a ``>99%`` elsewhere.

    Examples
    --------
    >>> [assumed_percent(x) for x in (0.75, 0.996, 1.0, 0.004)]
    ['75%*', '>99%*', '100%*', '<1%*']
    """
    return f"{format_percent(value)}{ASSUMED_MARK}"


def assumed_commodity(country: str, commodity: str, assumed: Mapping[str, Collection[str]]) -> str:
    """Star a country's commodity whose import shares are a ranked-source split: ``gallium*``, else unchanged.

    ``assumed``: each country's such commodities (:func:`~supplychain.schema.assumptions.assumed_split`).
    The mark stands for every share of the row it names (direct import, traced, exposed). The one
    rule of ``run``'s table and ``compare``'s rows.

    Examples
    --------
    >>> assumed_commodity("US", "gallium", {"US": {"gallium"}}), assumed_commodity("JP", "gallium", {"US": {"gallium"}})
    ('gallium*', 'gallium')
    """
    return f"{commodity}{ASSUMED_MARK}" if commodity in assumed.get(country, ()) else commodity


def assumed_split_note(pairs: Iterable[tuple[str, str]], assumed: Mapping[str, Collection[str]]) -> str | None:
    """Name the (country, commodity) pairs shown whose import shares are a ranked-source split, under the footnote.

    The note is the one of every output (:data:`ASSUMED_NOTE`), with the starred commodities by
    country in the order shown (:func:`assumed_commodity`); ``None`` when none is starred.

    Examples
    --------
    >>> assumed_split_note([("US", "magnet"), ("US", "gallium"), ("US", "gallium")], {"US": {"gallium"}})[-28:]
    'whole percent (US: gallium).'
    >>> assumed_split_note([("US", "magnet")], {"US": {"gallium"}}) is None
    True
    """
    rows = list(pairs)
    named = {country: list(dict.fromkeys(k for c, k in rows if c == country and k in coms))
             for country, coms in assumed.items()}
    parts = [f"{country}: {', '.join(coms)}" for country, coms in named.items() if coms]
    return f"{ASSUMED_MARK} {ASSUMED_NOTE} ({'; '.join(parts)})." if parts else None


def measure_text(value: Any, label: Any = None, *, share: bool = True) -> str:
    """Format a measure's value, or its label: ``"E"`` (net exporter) reads :data:`NET_EXPORTER`.

    Examples
    --------
    >>> measure_text(0.31, None), measure_text(float("nan"), "E"), measure_text(12.5, "", share=False)
    ('31%', 'net exporter', '12.5')
    """
    if isinstance(label, str) and label:
        return NET_EXPORTER if label == "E" else label
    return format_percent(value) if share else format_number(value)


def format_cell(value: Any, *, share: bool = False) -> str:
    """Format one table cell: a share as a percentage, a number as :func:`format_number`, text as is.

    Examples
    --------
    >>> format_cell(0.25, share=True), format_cell(2030), format_cell(True), format_cell("US")
    ('25%', '2030', 'yes', 'US')
    """
    if isinstance(value, str):
        return value
    if share and not isinstance(value, bool) and value is not None:
        return format_percent(value)
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return format_number(value)


def display_frame(df: pd.DataFrame, shares: Collection[str] | None = None, *,
                  share_rows: Sequence[bool] | None = None) -> pd.DataFrame:
    """Return ``df`` with every cell formatted as text (:func:`format_cell`).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    shares : collection of str, optional
        Columns that hold shares (default: every column :func:`is_share` recognises).
    share_rows : sequence of bool, optional
        Rows whose every float cell is a share (a long table of measures: the rows whose
        ``metric`` is a share), one flag per row.

    Returns
    -------
    pandas.DataFrame
        The same shape, every cell a string.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"year": [2030], "spare": [1.819e-12], "shortfall_share": [0.8657]})
    >>> display_frame(df).iloc[0].tolist()
    ['2030', '0', '87%']
    >>> long = pd.DataFrame({"metric": ["traced_share", "element_use"], "mean": [0.25, 2500.0]})
    >>> display_frame(long, share_rows=[True, False])["mean"].tolist()
    ['25%', '2,500']
    """
    chosen = {str(c) for c in df.columns if is_share(str(c))} if shares is None else set(shares)
    rows = [False] * len(df) if share_rows is None else [bool(r) for r in share_rows]
    out = df.copy().astype(object)
    for col in df.columns:
        share = str(col) in chosen
        floats = df[col].dtype.kind == "f"
        out[col] = [format_cell(v, share=share or (floats and row)) for v, row in zip(df[col].tolist(), rows,
                                                                                      strict=True)]
    return out
