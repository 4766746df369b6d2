"""Reading one USGS CSV file: encoding, line endings, headers, blank rows, located rows.

The release's CSV files are UTF-8 with a byte-order mark and CRLF line endings;
some headers carry a stray space (``PROD_EST_ 2024``), one file repeats a header
(``Price_dt`` four times in the titanium-concentrates file) and some end in rows
of empty cells. :func:`read_table` reads any of them into a :class:`Table` whose
rows remember the line they start on, so every figure taken from the release can
cite its file and row.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from supplychain.errors import Problem, ScenarioError
from supplychain.importers.usgs_mcs.cells import Cell, clean_text, parse_cell

__all__ = ["Row", "Table", "clean_header", "read_table"]

_UNDERSCORE_SPACE = re.compile(r"\s*_\s*")


def clean_header(name: str) -> str:
    """Normalise a header: trimmed, no spaces around ``_`` (``PROD_EST_ 2024`` → ``PROD_EST_2024``).

    Examples
    --------
    >>> clean_header(" PROD_EST_ 2024"), clean_header("Exports_Other PGMs_kg")
    ('PROD_EST_2024', 'Exports_Other PGMs_kg')
    """
    return _UNDERSCORE_SPACE.sub("_", clean_text(name))


@dataclass(frozen=True)
class Row:
    """One data row: its first line in the file (1-based; the header is line 1) and its cells by column."""

    line: int
    cells: dict[str, str]

    def text(self, column: str) -> str:
        """Return the cleaned text of a column (see :func:`~supplychain.importers.usgs_mcs.cells.clean_text`)."""
        return clean_text(self.cells.get(column, ""))

    def cell(self, column: str) -> Cell:
        """Return the parsed cell of a column."""
        return parse_cell(self.cells.get(column, ""))


@dataclass(frozen=True)
class Table:
    """A CSV file read with its quirks undone and recorded.

    Attributes
    ----------
    path : Path
        The file.
    columns : tuple of str
        Cleaned header names; a repeated name gets ``#2``, ``#3`` … appended.
    rows : tuple of Row
        Data rows, rows whose cells are all empty left out.
    bom, crlf : bool
        Whether the file had a UTF-8 byte-order mark / CRLF line endings.
    fixes : list of str
        Header repairs made (stray spaces, repeated names) and blank rows dropped.
    """

    path: Path
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    bom: bool = False
    crlf: bool = False
    fixes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file name (how sources cite it)."""
        return self.path.name

    def column_number(self, column: str) -> int:
        """1-based position of a column (for error locations)."""
        return self.columns.index(column) + 1

    def problem(self, line: int, column: str, message: str, hint: str = "") -> Problem:
        """Return a problem located at a row and column of this file."""
        col = self.column_number(column) if column in self.columns else 0
        return Problem(str(self.path), line, col, (column,) if column else (), message, hint)


def _headers(raw: list[str]) -> tuple[tuple[str, ...], list[str]]:
    seen: dict[str, int] = {}
    names: list[str] = []
    fixes: list[str] = []
    for h in raw:
        name = clean_header(h)
        if name != h:
            fixes.append(f"header {h!r} read as {name!r}")
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            fixes.append(f"header {name!r} repeated: occurrence {seen[name]} read as '{name}#{seen[name]}'")
            name = f"{name}#{seen[name]}"
        names.append(name)
    return tuple(names), fixes


def read_table(path: str | Path) -> Table:
    r"""Read a USGS CSV file.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    Table

    Raises
    ------
    ScenarioError
        The file is missing, not UTF-8, or has no header row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes("\ufeffA,PROD_EST_ 2024\r\nx,1\r\n,\r\n".encode())
    >>> t = read_table(p)
    >>> t.columns, t.bom, t.crlf, [r.line for r in t.rows]
    (('A', 'PROD_EST_2024'), True, True, [2])
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([Problem(str(path), 0, 0, (), f"cannot read the file: {exc.strerror or exc}",
                                     "check the folder holds the USGS MCS 2025 data release")]) from None
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(str(path), line, 0, (), "not UTF-8 text",
                                     "the release's CSV files are UTF-8; re-download the file")]) from None
    crlf = "\r\n" in text
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ScenarioError([Problem(str(path), 1, 0, (), "empty file", "expected a header row")]) from None
    columns, fixes = _headers(header)
    rows: list[Row] = []
    start = reader.line_num + 1
    dropped = 0
    for record in reader:
        if any(clean_text(c) for c in record):
            rows.append(Row(start, dict(zip(columns, record, strict=False))))
        else:
            dropped += 1
        start = reader.line_num + 1
    if dropped:
        fixes.append(f"{dropped} row(s) of empty cells left out")
    return Table(path, columns, tuple(rows), bom=bom, crlf=crlf, fixes=fixes)
