"""Hardened YAML reading for scenario files.

Scenario files are plain data, so this reader accepts only plain data. It walks the
event stream of :class:`yaml.SafeLoader` (the libyaml ``CSafeLoader`` when available)
and builds dicts and lists itself, without recursion, so that:

* no tag is ever constructed: every tag except ``!!str``/``!!map``/``!!seq`` is refused;
* anchors, aliases and ``<<`` merge keys are refused (no "billion laughs");
* duplicate keys, bool/null/float keys and complex keys are reported;
* plain scalars follow YAML 1.2 core-like rules: ``NO``, ``on``, ``017``, ``0x1F``,
  ``1:30``, ``1_000`` and ``2025-09-01`` stay strings; NaN, infinity, over-long
  integers and overflowing floats are reported;
* nesting deeper than :data:`MAX_DEPTH` is reported, never a RecursionError;
* more than :data:`MAX_NODES` nodes (scalars, mappings and lists) stop the reader
  at once, so work and memory stay bounded whatever the file holds;
* tabs, UTF-16/UTF-32 files and numbers that round to zero (``1e-999``) are
  reported in plain words;
* every mapping key and list item gets a 1-based :class:`Mark`.

Every problem found in one pass is raised together in one :class:`ScenarioError`.
"""

from __future__ import annotations

import math
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)

from supplychain.errors import KeyPath, Problem, ScenarioError
from supplychain.io.roots import bundled_root

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "Mark",
    "YamlDocument",
    "parse_yaml_text",
    "read_yaml_file",
]

MAX_FILE_BYTES: Final = 50 * 1024 * 1024
"""Largest file :func:`read_yaml_file` will read."""
MAX_DEPTH: Final = 64
"""Deepest nesting of mappings and lists (the top-level mapping is level 1)."""
MAX_INT_DIGITS: Final = 18
"""Longest integer literal accepted (it always fits a signed 64-bit integer)."""
MAX_NODES: Final = 2_000_000
"""Most YAML nodes (scalars, mappings, lists) one file — or a scenario with its bases — may hold.

Reading costs about 4 µs and 0.25 KB per node on the development machine
(``docs/limits.md``), so a file is refused at this cap within about 10 s and 0.6 GB;
a scenario at :data:`supplychain.io.load.MAX_ENTITIES` holds about 1.3 million.
"""

_Pos = tuple[int, int]  # 1-based (line, column)
_What = tuple[str, str]  # (message, hint)

_LOADER: Final[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE: Final = "tag:yaml.org,2002:"
_TAG_KINDS: Final = ((ScalarEvent, "str"), (MappingStartEvent, "map"), (SequenceStartEvent, "seq"))
_ALLOWED_TAGS: Final = {(kind, _CORE + name) for kind, name in _TAG_KINDS}
_CONSTANTS: Final[dict[str, Any]] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_MAY_RESOLVE: Final = frozenset("0123456789+-.nNiI")
_INT_RE: Final = re.compile(r"[-+]?[0-9]+")
_FLOAT_RE: Final = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NONFINITE_RE: Final = re.compile(r"[-+]?\.?(?:nan|inf|infinity)", re.IGNORECASE)
_NON_PRINTABLE_RE: Final = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MAX_CHAR_PROBLEMS: Final = 20

_NOT_TEXT: Final = ("not a text file (UTF-8 YAML expected)", "save the file as UTF-8 text")
_NONFINITE: Final = ("NaN and infinity are not allowed", "write a finite number, or leave the value out if unknown")
_TOO_LONG: Final = (f"integer too long (more than {MAX_INT_DIGITS} digits)", "use a larger unit or write it as 1.5e21")
_OVERFLOW: Final = ("number too large (it would be infinity)", "use a larger unit")
_UNDERFLOW: Final = ("number too small (it would be 0)", "write 0 if you mean zero, or use a smaller unit")
_TAB: Final = "tab character where YAML allows only spaces"
_TAB_HINT: Final = "replace the tab with spaces (YAML never indents with tabs)"
_ANCHOR: Final = ("YAML anchors and aliases are not supported; write the value out", "repeat the value instead")
_MERGE: Final = ("YAML merge keys (<<) are not supported; write the value out", "copy the keys into this mapping")
_COMPLEX_KEY: Final = ("mapping keys must be plain names, not lists or mappings", "use a name or a year as the key")
_KEY_TYPE: Final = ("keys must be names or years", "quote the key if you mean text, e.g. 'true': or 'null':")
_TOO_DEEP: Final = (f"nested deeper than {MAX_DEPTH} levels", "flatten the structure")
_SYNTAX_HINT: Final = "check indentation and quoting near here"


@dataclass(frozen=True)
class Mark:
    """A position in a file: the file name as given, 1-based line and column."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class YamlDocument:
    """Plain data read from YAML, with the position of every node.

    Attributes
    ----------
    data : Any
        Insertion-ordered dicts, lists, str, int, float, bool and None.
    marks : dict
        Key path -> :class:`Mark`. Mapping values are marked at their key, list
        items at their start; ``()`` is the root.
    file : str
        The file name used in marks and problems.
    nodes : int
        How many YAML nodes the file holds (see :data:`MAX_NODES`).
    """

    data: Any
    marks: dict[KeyPath, Mark]
    file: str
    nodes: int = 0

    def mark_for(self, path: KeyPath) -> Mark:
        """Return the mark of the longest known prefix of `path`.

        Parameters
        ----------
        path : tuple of str or int
            Key path, possibly deeper than any node (e.g. a pydantic error location).

        Returns
        -------
        Mark
            The closest known position; the root mark (else line 1, column 1)
            when no prefix of `path` is known.
        """
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return Mark(self.file, 1, 1)


def _resolve_plain(text: str) -> tuple[Any, _What | None]:
    """Resolve an untagged plain scalar; return (value, problem or None)."""
    if text in _CONSTANTS:
        return _CONSTANTS[text], None
    if text[0] not in _MAY_RESOLVE:
        return text, None
    if _INT_RE.fullmatch(text):
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits[0] == "0":
            return text, None  # neither octal 15 nor silently 17
        return (text, _TOO_LONG) if len(digits) > MAX_INT_DIGITS else (int(text), None)
    if _FLOAT_RE.fullmatch(text):
        number = float(text)
        if math.isinf(number):
            return text, _OVERFLOW
        if number == 0 and any(c in "123456789" for c in text.partition("e")[0].partition("E")[0]):
            return text, _UNDERFLOW
        return number, None
    return (text, _NONFINITE) if _NONFINITE_RE.fullmatch(text) else (text, None)


def _line_col(text: str, offset: int) -> _Pos:
    """Return the 1-based line and column of character `offset` in `text`."""
    line = text.count("\n", 0, offset) + text.count("\r", 0, offset) - text.count("\r\n", 0, offset)
    start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    return line + 1, offset - start + 1


def _pos(ymark: Any) -> _Pos:
    """Return the 1-based position of a PyYAML mark (0-based), (1, 1) if missing."""
    return (ymark.line + 1, ymark.column + 1) if ymark is not None else (1, 1)


class _Frame:
    """An open mapping or list while composing."""

    __slots__ = ("container", "drop", "key", "path", "pos", "record", "seen")

    def __init__(self, container: dict[Any, Any] | list[Any], path: KeyPath, record: bool, pos: _Pos) -> None:
        self.container = container
        self.path = path
        self.record = record  # record marks of children (False inside keys and dropped values)
        self.pos = pos
        self.key: str | int | None = None  # None: the next node is a key
        self.drop = False  # the value of the current key is discarded
        self.seen: dict[str | int, int] = {}  # key -> line where first defined


class _Composer:
    """Build plain data and marks from YAML events, without recursion."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.marks: dict[KeyPath, Mark] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.root_empty = False
        self.documents = 0
        self.nodes = 0
        self.libyaml_too_deep = False  # libyaml stopped at its own nesting limit (1000)

    def add(self, pos: _Pos, path: KeyPath, what: _What) -> None:
        self.problems.append(Problem(self.file, pos[0], pos[1], path, what[0], what[1]))

    def run(self, text: str, loader_class: Any) -> bool:
        """Consume the whole stream; return False when stopped early by a problem."""
        loader = loader_class(text)
        try:
            while loader.check_event():
                if not self.feed(loader.get_event()):
                    return False
        finally:
            loader.dispose()
        return True

    def feed(self, event: Event) -> bool:
        if isinstance(event, ScalarEvent | CollectionStartEvent | AliasEvent):
            self.nodes += 1
            if self.nodes > MAX_NODES:
                what = (f"more than {MAX_NODES:,} YAML nodes (values, mappings and lists)",
                        "split the scenario into several files, or aggregate small entities (docs/limits.md)")
                self.add(_pos(event.start_mark), self.stack[-1].path if self.stack else (), what)
                return False
        if isinstance(event, ScalarEvent):
            self.scalar(event)
        elif isinstance(event, CollectionStartEvent):
            return self.start(event, isinstance(event, MappingStartEvent))
        elif isinstance(event, CollectionEndEvent):
            frame = self.stack.pop()
            self.deliver(frame.container, frame.pos, _COMPLEX_KEY)
        elif isinstance(event, AliasEvent):
            pos = _pos(event.start_mark)
            self.add(pos, self.slot(pos)[0], _ANCHOR)
            self.deliver(f"*{event.anchor}", pos, None)  # a string, so an alias key is reported once
        elif isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                what = ("more than one YAML document in the file", "remove the second '---' and what follows")
                self.add(_pos(event.start_mark), (), what)
                return False
        return True

    def slot(self, pos: _Pos) -> tuple[KeyPath, bool]:
        """Place a new node: return (its path, whether it is a mapping key); record its mark."""
        if not self.stack:
            self.marks[()] = Mark(self.file, *pos)
            return (), False
        top = self.stack[-1]
        if isinstance(top.container, list):
            path = (*top.path, len(top.container))
            if top.record:
                self.marks[path] = Mark(self.file, *pos)
            return path, False
        if top.key is None:
            return top.path, True
        return (*top.path, top.key), False

    def check_props(self, event: ScalarEvent | CollectionStartEvent, pos: _Pos, path: KeyPath) -> None:
        if event.anchor is not None:
            self.add(pos, path, _ANCHOR)
        tag = event.tag
        if tag is not None and tag != "!" and (type(event), tag) not in _ALLOWED_TAGS:
            shown = tag.replace(_CORE, "!!", 1)
            self.add(pos, path, (f"tags are not allowed (found {shown})", "remove the tag; quote text values"))

    def scalar(self, event: ScalarEvent) -> None:
        pos = _pos(event.start_mark)
        path, is_key = self.slot(pos)
        self.check_props(event, pos, path)
        text = event.value
        value: Any = text
        plain = event.tag is None and event.implicit[0]
        if plain:
            value, problem = _resolve_plain(text)
            if problem is not None:
                self.add(pos, path, problem)
            if not self.stack and text == "":
                self.root_empty = True
        self.deliver(value, pos, _MERGE if is_key and plain and text == "<<" else None)

    def start(self, event: CollectionStartEvent, is_map: bool) -> bool:
        pos = _pos(event.start_mark)
        path, is_key = self.slot(pos)
        self.check_props(event, pos, path)
        if len(self.stack) >= MAX_DEPTH:
            self.add(pos, path, _TOO_DEEP)
            return False
        top = self.stack[-1] if self.stack else None
        record = top is None or (top.record and not top.drop and not is_key)
        self.stack.append(_Frame({} if is_map else [], path, record, pos))
        return True

    def deliver(self, value: Any, pos: _Pos, bad_key: _What | None) -> None:
        """Hand a finished node to its parent; `bad_key` is the problem if it is a mapping key."""
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.container, list):
            top.container.append(value)
        elif top.key is None:
            self.take_key(top, value, pos, bad_key)
        else:
            if not top.drop:
                top.container[top.key] = value
            top.key, top.drop = None, False

    def take_key(self, top: _Frame, key: Any, pos: _Pos, bad_key: _What | None) -> None:
        if bad_key is None and (key is None or isinstance(key, bool | float)):
            bad_key = _KEY_TYPE
        if bad_key is not None:
            self.add(pos, top.path, bad_key)
            top.key, top.drop = str(key) if isinstance(key, str | int) else "?", True
            return
        top.key = key
        first = top.seen.get(key)
        if first is not None:
            message = f"duplicate key {key!r} (first defined at line {first})"
            self.add(pos, (*top.path, key), (message, "remove or rename one of the two"))
            top.drop = True
            return
        top.seen[key] = pos[0]
        if top.record:
            self.marks[(*top.path, key)] = Mark(self.file, *pos)

    def syntax_error(self, err: yaml.MarkedYAMLError, text: str) -> None:
        message = err.problem or err.context or "invalid YAML"
        if err.context and err.problem and err.context_mark:
            line, col = _pos(err.context_mark)
            message = f"{err.problem} ({err.context} at line {line}, column {col})"
        path = self.stack[-1].path if self.stack else ()
        mark = err.problem_mark or err.context_mark
        at = getattr(mark, "index", None)
        if "tab" in message or (isinstance(at, int) and text[at : at + 1] == "\t"):
            self.add(_pos(mark), path, (f"{_TAB} ({message})", _TAB_HINT))
        else:
            self.add(_pos(mark), path, (message, _SYNTAX_HINT))

    def check_root(self) -> None:
        if self.documents == 0 or self.root_empty:
            self.add((1, 1), (), ("file is empty", "a scenario needs at least one section"))
        elif not isinstance(self.root, dict):
            root = self.marks[()]
            hint = "start the file with section names such as 'facilities:' at column 1"
            self.add((root.line, root.column), (), ("top level must be a mapping of sections", hint))


def _text_problems(text: str, file: str) -> list[Problem]:
    """Find binary content and raw control characters before parsing."""
    problems: list[Problem] = []
    for match in _NON_PRINTABLE_RE.finditer(text):
        line, col = _line_col(text, match.start())
        code = ord(match.group())
        if code == 0 or 0xD800 <= code <= 0xDFFF:
            return [Problem(file, line, col, (), *_NOT_TEXT)]
        if len(problems) < _MAX_CHAR_PROBLEMS:
            hint = f'remove it, or write it escaped inside double quotes: "\\x{code:02x}"'
            problems.append(Problem(file, line, col, (), f"raw control character U+{code:04X} is not allowed", hint))
    return problems


def _compose(text: str, file: str, loader: Any) -> _Composer:
    """Compose `text` with the event parser of `loader`; problems are left in the result."""
    composer = _Composer(file)
    try:
        if composer.run(text, loader):
            composer.check_root()
    except yaml.MarkedYAMLError as err:
        composer.libyaml_too_deep = loader is not yaml.SafeLoader and "nesting depth" in str(err.problem)
        composer.syntax_error(err, text)
    except yaml.YAMLError as err:  # e.g. a ReaderError, which has no line
        composer.add((1, 1), (), (f"invalid YAML: {err}", _SYNTAX_HINT))
    except RecursionError:  # not expected: composing is iterative
        composer.add((1, 1), (), _TOO_DEEP)
    return composer


def parse_yaml_text(text: str, *, file: str = "<string>") -> YamlDocument:
    r"""Parse YAML text into plain data with marks.

    Parameters
    ----------
    text : str
        The YAML source (never a path). A leading byte-order mark is ignored.
    file : str, optional
        Name used in marks and problems.

    Returns
    -------
    YamlDocument
        The data (its top level is always a dict) and the mark of every node.

    Raises
    ------
    ScenarioError
        Listing every problem found: syntax errors, tags, anchors, aliases, merge
        keys, duplicate or invalid keys, NaN/infinity, over-long numbers, too deep
        nesting, control characters, several documents, an empty document or a
        top level that is not a mapping.

    Examples
    --------
    >>> doc = parse_yaml_text("region:\n  code: NO\n  size: 017\n  share: 0.5\n")
    >>> doc.data
    {'region': {'code': 'NO', 'size': '017', 'share': 0.5}}
    >>> doc.mark_for(("region", "share", "value"))
    Mark(file='<string>', line=4, column=3)
    """
    text = text.removeprefix("\ufeff")
    problems = _text_problems(text, file)
    if problems:
        raise ScenarioError(problems)
    composer = _compose(text, file, _LOADER)
    if composer.libyaml_too_deep:  # find the first node deeper than MAX_DEPTH, where the Python parser stops
        composer = _compose(text, file, yaml.SafeLoader)
    if composer.problems:
        raise ScenarioError(composer.problems)
    return YamlDocument(composer.root, composer.marks, file, composer.nodes)


def _file_error(file: str, message: str, hint: str) -> ScenarioError:
    return ScenarioError([Problem(file, 0, 0, (), message, hint)])


def _not_found_hint(path: Path) -> str:
    """Check the path; a scenario that ships with supplychain is loaded by name (``bundled:NAME``, any folder).

    Examples
    --------
    >>> _not_found_hint(Path("/nowhere/china_full_ban_2025.yaml"))  # doctest: +ELLIPSIS
    "check the path (relative to ...); did you mean 'bundled:china_full_ban_2025' (shipped with supplychain)?"
    """
    where = f"check the path (relative to {Path.cwd()})"
    try:
        shipped = (bundled_root() / path.name).is_file() and path.suffix in (".yaml", ".yml")
    except (OSError, ValueError):
        shipped = False
    if shipped:
        return f"{where}; did you mean 'bundled:{path.stem}' (shipped with supplychain)?"
    return f"{where}, or load a scenario shipped with supplychain by name: bundled:NAME (e.g. bundled:path_to_2030)"


def _read_bytes(path: Path, file: str) -> bytes:
    """Read a regular file of at most MAX_FILE_BYTES, or raise ScenarioError."""
    too_big = (f"file is larger than {MAX_FILE_BYTES // 2**20} MB", "split the scenario into several files")
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise _file_error(file, "is a directory, not a file", "give the path of a .yaml file")
        if not stat.S_ISREG(info.st_mode):
            raise _file_error(file, "not a regular file", "give the path of a .yaml file")
        if info.st_size > MAX_FILE_BYTES:
            raise _file_error(file, *too_big)
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except ScenarioError:  # raised above (a folder, not a regular file, too big): not a read error
        raise
    except FileNotFoundError:
        raise _file_error(file, "file not found", _not_found_hint(path)) from None
    except PermissionError:
        raise _file_error(file, "permission denied", "check the file's read permission") from None
    except (OSError, ValueError) as err:  # ValueError: e.g. a NUL in the path
        raise _file_error(file, f"cannot read the file: {err}", "check the path") from None
    if len(data) > MAX_FILE_BYTES:  # grew after stat
        raise _file_error(file, *too_big)
    return data


_WIDE_BOMS: Final = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
                     (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"))  # fmt: skip


def _wide_encoding(data: bytes) -> str:
    """``"UTF-16"``/``"UTF-32"`` when ``data`` looks like text in that encoding (a BOM, or ASCII with NULs), else ""."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    head = data[:64]
    if len(head) < 8 or not any(head):
        return ""

    def zeros(*starts: int, step: int) -> bool:
        return not any(any(head[i::step]) for i in starts)

    if zeros(1, 2, 3, step=4) or zeros(0, 1, 2, step=4):
        return "UTF-32"
    return "UTF-16" if zeros(1, step=2) or zeros(0, step=2) else ""


def _decode(data: bytes, file: str) -> str:
    """Decode UTF-8 (a BOM is fine); a NUL byte or invalid UTF-8 is a located problem."""
    wide = _wide_encoding(data)
    if wide:
        hint = f"save the file as UTF-8 (e.g. iconv -f {wide} -t UTF-8 FILE > NEW.yaml)"
        raise ScenarioError([Problem(file, 0, 0, (), f"file is {wide} text; scenario files are UTF-8", hint)])
    bad = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = err.start if bad < 0 else min(bad, err.start)
        text = ""
    if bad >= 0:
        prefix = data[:bad].decode("utf-8", "replace").removeprefix("\ufeff")
        line, col = _line_col(prefix, len(prefix))
        raise ScenarioError([Problem(file, line, col, (), *_NOT_TEXT)])
    return text


def read_yaml_file(path: str | Path, *, display_name: str | None = None) -> YamlDocument:
    """Read a YAML file into plain data with marks.

    Parameters
    ----------
    path : str or Path
        The file to read: UTF-8 text of at most :data:`MAX_FILE_BYTES`.
    display_name : str, optional
        Name to use in marks and problems instead of ``str(path)``.

    Returns
    -------
    YamlDocument
        See :func:`parse_yaml_text`.

    Raises
    ------
    ScenarioError
        When the file cannot be read (missing, a directory, not a regular file, no
        permission, too large: line and column are 0, the problem concerns the whole
        file), is not UTF-8 text, or its content is invalid (see :func:`parse_yaml_text`).
    """
    file = display_name if display_name is not None else str(path)
    return parse_yaml_text(_decode(_read_bytes(Path(path), file), file), file=file)
