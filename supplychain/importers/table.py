"""Streaming delimited text files (CSV, tab-separated, gzip) with located problems.

A trade file is read row by row with the standard :mod:`csv` module, so memory
stays bounded whatever its size. The header names the columns; each canonical
column accepts the aliases of the layouts we know (Comtrade's API and legacy
headers differ). Bad values become :class:`~supplychain.errors.Problem` records
located ``file:line:column`` (the column is the character position of the field),
collected up to :data:`MAX_PROBLEMS` and raised together.

While it is read, the file is hashed (SHA-256 of the bytes on disk, gzip or not),
so generated fragments can name exactly the file they came from.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Final, cast

from supplychain.errors import Problem, ScenarioError

__all__ = ["MAX_PROBLEMS", "Column", "CsvTable", "ProblemLog", "read_small_table"]

MAX_PROBLEMS: Final = 20
"""Located problems listed per run; the rest are counted in one last problem."""

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Column:
    """A canonical column and the header names it may have."""

    name: str
    aliases: tuple[str, ...]
    required: bool = True


class _Hashing(io.RawIOBase):
    """A raw reader that hashes and counts the bytes it passes on."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.sha256.update(memoryview(buffer)[:n])
        self.size += n
        return int(n)

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass
class ProblemLog:
    """Problems of one run: the first :data:`MAX_PROBLEMS` located, the rest counted."""

    problems: list[Problem] = field(default_factory=list)
    more: int = 0

    def add(self, problem: Problem) -> None:
        """Keep ``problem`` (or count it past the limit)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        """Raise one :class:`ScenarioError` listing every problem kept (and how many more there were)."""
        if not self.problems:
            return
        problems = list(self.problems)
        if self.more:
            last = self.problems[-1]
            problems.append(Problem(last.file, last.line + 1, 0, (), f"... and {self.more} more problem(s) not listed",
                                    "fix the ones above first; the rest are usually the same mistake"))
        raise ScenarioError(problems)


def _resolve_header(header: Sequence[str], columns: Sequence[Column], display: str, what: str) -> dict[str, int]:
    """Canonical column → field position; every missing required column is a problem at line 1."""
    names = {h.strip(): i for i, h in enumerate(header)}
    index: dict[str, int] = {}
    missing = []
    for col in columns:
        found = next((names[a] for a in col.aliases if a in names), None)
        if found is not None:
            index[col.name] = found
        elif col.required:
            missing.append(col)
    if missing:
        shown = ",".join(h.strip() for h in header[:12]) + (",..." if len(header) > 12 else "")
        raise ScenarioError([Problem(display, 1, 1, (col.name,), f"missing column '{col.aliases[0]}' (header: {shown})",
                                     f"expected {what}") for col in missing])  # fmt: skip
    return index


def _field_column(fields: Sequence[str], index: int, delimiter: str) -> int:
    """1-based character column of field ``index`` (exact for unquoted fields)."""
    return 1 + sum(len(f) + len(delimiter) for f in fields[:index])


class CsvTable:
    """One delimited text file, open for streaming.

    Parameters
    ----------
    path : str or Path
        The file (``.gz`` is decompressed on the fly).
    columns : sequence of Column
        Canonical columns to find in the header.
    log : ProblemLog
        Where problems go.
    what : str
        What the file should be, for hints (``a BACI data file (t,i,j,k,v,q)``).
    display : str, optional
        Name used in problems (default: the path as given).

    Attributes
    ----------
    index : dict
        Canonical name → field position, for the columns found.
    header : list of str
        The header as written.
    delimiter : str
        ``,`` or tab, from the header line.

    Raises
    ------
    ScenarioError
        The file cannot be read, is empty, or lacks a required column (all
        missing columns listed, with the header found).
    """

    def __init__(
        self, path: str | Path, columns: Sequence[Column], log: ProblemLog, what: str, display: str | None = None
    ) -> None:
        self.path = Path(path)
        self.display = display or str(path)
        self.log = log
        try:
            raw = self.path.open("rb")
        except OSError as err:
            raise ScenarioError([Problem(self.display, 0, 0, (), f"cannot read: {err.strerror or err}",
                                         "check the path of the file you downloaded")]) from None  # fmt: skip
        self._hashing = _Hashing(raw)
        buffered: IO[bytes] = io.BufferedReader(self._hashing, buffer_size=1 << 20)
        if self.path.suffix == ".gz":
            buffered = cast(IO[bytes], gzip.GzipFile(fileobj=buffered, mode="rb"))
        self._text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="replace", newline="")
        try:
            first = self._text.readline()
        except (OSError, EOFError, gzip.BadGzipFile) as err:
            self.close()
            raise ScenarioError([Problem(self.display, 0, 0, (), f"cannot read: {err}", "is the file complete?")]) \
                from None
        if not first.strip():
            self.close()
            raise ScenarioError([Problem(self.display, 1, 1, (), "the file is empty", f"expected {what}")])
        self.delimiter = "\t" if first.count("\t") > first.count(",") else ","
        self.header = next(csv.reader([first], delimiter=self.delimiter))
        try:
            self.index = _resolve_header(self.header, columns, self.display, what)
        except ScenarioError:
            self.close()
            raise
        self._reader = csv.reader(self._text, delimiter=self.delimiter)

    def rows(self) -> Iterator[list[str]]:
        """Yield the fields of every non-blank data row; :attr:`line` is the current row's line.

        Rows with too few fields for the columns found are problems, not rows.
        """
        need = max(self.index.values()) + 1
        try:
            for fields in self._reader:
                if len(fields) < need:
                    if any(f.strip() for f in fields):
                        self.log.add(Problem(self.display, self.line, 1, (), f"expected {len(self.header)} fields, "
                                             f"got {len(fields)}", "is the line cut short, or a delimiter missing?"))
                    continue
                yield fields
        except (csv.Error, OSError, EOFError, gzip.BadGzipFile) as err:
            problem = Problem(self.display, self.line, 0, (), f"cannot read further: {err}", "is the file complete?")
            self.log.add(problem)

    @property
    def line(self) -> int:
        """1-based line of the row :meth:`rows` yielded last (the header is line 1)."""
        return self._reader.line_num + 1

    def problem(self, fields: Sequence[str], column: str, message: str, hint: str = "") -> None:
        """Log a problem with the value of canonical ``column`` in the current row."""
        index = self.index[column]
        header = self.header[index].strip()
        self.log.add(Problem(self.display, self.line, _field_column(fields, index, self.delimiter), (header,),
                             message, hint))  # fmt: skip

    @property
    def sha256(self) -> str:
        """SHA-256 of the bytes read so far (the whole file once :meth:`rows` is exhausted)."""
        return self._hashing.sha256.hexdigest()

    @property
    def size(self) -> int:
        """Bytes read so far."""
        return self._hashing.size

    def drain(self) -> None:
        """Read the rest of the file (so :attr:`sha256` covers it)."""
        while self._text.read(1 << 20):
            pass

    def close(self) -> None:
        """Close the file."""
        self._text.close()

    def __enter__(self) -> CsvTable:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def read_small_table(
    path: str | Path, columns: Sequence[Column], what: str, display: str | None = None
) -> list[dict[str, str]]:
    """Read a small lookup table (BACI's country or product codes) as dicts of canonical columns.

    The bytes are decoded as UTF-8, or as Windows-1252 when they are not UTF-8
    (older BACI tables). Raises as :class:`CsvTable`.
    """
    name = display or str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ScenarioError([Problem(name, 0, 0, (), f"cannot read: {err.strerror or err}",
                                     f"expected {what}")]) from None  # fmt: skip
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ScenarioError([Problem(name, 1, 1, (), "the file is empty", f"expected {what}")])
    delimiter = "\t" if lines[0].count("\t") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    index = _resolve_header(next(reader), columns, name, what)
    out = []
    for fields in reader:
        if fields and any(f.strip() for f in fields):
            out.append({key: fields[i].strip() if i < len(fields) else "" for key, i in index.items()})
    return out
