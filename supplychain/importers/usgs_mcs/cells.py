"""Cells of the USGS MCS data release: numbers, withheld values, bounds and ranges.

USGS writes more than numbers into its numeric columns. Every cell is read into a
:class:`Cell` that keeps the text it came from and says what kind of value it is:

=============  ==================================  =======================================
``kind``       cell text (examples)                meaning
=============  ==================================  =======================================
``number``     ``60000``, ``"1,270,000"``, ``2.5``  a figure (thousands separators removed)
``withheld``   ``W``                               withheld to avoid disclosing company data
``na``         ``NA``                              not available
``exporter``   ``E``                               net exporter (net import reliance only)
``bound``      ``<25``, ``>50``, ``>95``,          an open bound: the figure is above or
               ``">90000000"``, ``"<100,000"``     below the number (``relation`` says which)
``negligible`` ``Less than ½ unit.``               below half the unit shown (USGS footnote)
``blank``      empty, spaces                       no entry
``text``       ``xx``, ``Small``                   anything else (kept, never a number)
=============  ==================================  =======================================

Non-breaking spaces (U+00A0) count as spaces. Parsing never guesses: a bound is
not turned into its number and a withheld cell never becomes zero.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Cell", "CellKind", "clean_text", "parse_cell"]

CellKind = Literal["number", "withheld", "na", "exporter", "bound", "negligible", "blank", "text"]

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^[+-]?\.\d+$")
_BOUND = re.compile(r"^(<|>|≤|≥)\s*(.+)$")
_NEGLIGIBLE = re.compile(r"^less than\s*(?:½|1/2)\s*unit\.?$", re.IGNORECASE)
_FLAGS: dict[str, CellKind] = {"W": "withheld", "NA": "na", "E": "exporter"}


def clean_text(text: str) -> str:
    r"""Strip a cell: non-breaking spaces become spaces, runs of spaces one space, ends trimmed.

    Examples
    --------
    >>> clean_text("United\xa0States  and Canada ")
    'United States and Canada'
    """
    return " ".join(text.replace("\u00a0", " ").split())


@dataclass(frozen=True)
class Cell:
    """One parsed cell.

    Attributes
    ----------
    text : str
        The cleaned cell text (see :func:`clean_text`).
    kind : CellKind
        What the cell holds (table in the module docstring).
    value : float
        The number for ``number`` and ``bound`` cells, else NaN.
    relation : str
        ``"<"`` or ``">"`` for a bound, else ``""``.
    """

    text: str
    kind: CellKind
    value: float = math.nan
    relation: str = ""

    @property
    def is_number(self) -> bool:
        """True for a plain figure (not a bound, flag or text)."""
        return self.kind == "number"

    def label(self) -> str:
        """How the cell reads in a table: the number, ``>50``, ``W``, ``NA``, ``E`` or ``—``.

        Examples
        --------
        >>> parse_cell(">50").label(), parse_cell("1,300").label(), parse_cell("").label()
        ('>50', '1300', '—')
        """
        if self.kind == "number":
            return f"{self.value:g}" if abs(self.value) < 1e15 else str(self.value)
        if self.kind == "bound":
            return f"{self.relation}{self.value:g}"
        return {"blank": "—", "negligible": "<0.5"}.get(self.kind, self.text)


def _number(text: str) -> float | None:
    t = text.replace(" ", "")
    if not _NUMBER.match(t):
        return None
    return float(t.replace(",", ""))


def parse_cell(raw: str) -> Cell:
    """Read one cell of a USGS CSV.

    Parameters
    ----------
    raw : str
        The cell as read by :mod:`csv`.

    Returns
    -------
    Cell
        Never raises: text that is not a number, flag or bound is a ``text`` cell.

    Examples
    --------
    >>> parse_cell("1,270,000").value
    1270000.0
    >>> c = parse_cell(">90000000"); (c.kind, c.relation, c.value)
    ('bound', '>', 90000000.0)
    >>> parse_cell('"<100,000"'.strip('"')).label()
    '<100000'
    >>> [parse_cell(t).kind for t in ("W", "NA", "E", " ", "xx", "Less than ½ unit.")]
    ['withheld', 'na', 'exporter', 'blank', 'text', 'negligible']
    """
    text = clean_text(raw)
    if not text:
        return Cell(text, "blank")
    if text in _FLAGS:
        return Cell(text, _FLAGS[text])
    if _NEGLIGIBLE.match(text):
        return Cell(text, "negligible")
    value = _number(text)
    if value is not None:
        return Cell(text, "number", value)
    bound = _BOUND.match(text)
    if bound:
        value = _number(bound[2])
        if value is not None:
            relation = {"≤": "<", "≥": ">"}.get(bound[1], bound[1])
            return Cell(text, "bound", value, relation)
    return Cell(text, "text")
