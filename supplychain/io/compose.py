"""Compose a scenario from its file and the base files it ``extends``.

A scenario file may start from one or more base worlds::

    extends: [../world/base.yaml, ../world/prices.yaml]

Composition rules (also in ``docs/scenario-format.md``):

* Paths are relative to the file that names them. Absolute paths and ``~`` are
  refused.
* ``bundled:NAME`` names a file of the bundled world (``bundled:baseline_2024``
  is ``baseline_2024.yaml`` of the ``scenarios/`` folder shipped with the package,
  :func:`supplychain.io.roots.bundled_root`); ``..`` is refused in NAME.
* Every base must lie inside an *allowed root*: the *confinement root* — the folder
  one level above the top-level file's folder (:data:`ROOT_LEVELS_UP`), so a
  scenario in ``scenarios/us_japan/`` may extend anything under ``scenarios/`` —,
  the bundled world, or an extra root given explicitly (``--path DIR``, the
  ``SUPPLYCHAIN_PATH`` environment variable: :mod:`supplychain.io.roots`). Symbolic
  links are resolved before the check. Callers may pass another ``root``.
* Cycles (``a.yaml → b.yaml → a.yaml``) are reported with the whole chain;
  chains are at most :data:`MAX_EXTENDS_DEPTH` files deep, and all the files
  together hold at most :data:`~supplychain.io.yamlsafe.MAX_NODES` YAML nodes.
* Precedence, lowest first: every file comes after its bases, bases in the
  order listed, depth first. Each file is applied once, at its first place in
  that order, so in a diamond (``child → left, right → root``) ``right`` does
  not re-impose ``root`` over ``left``. This is the order
  ``root, left, right, child``.
* Mappings merge key by key; lists and scalars replace; ``null`` deletes an
  inherited entry. A quantity written as a mapping with ``value`` or ``dist``
  replaces the inherited quantity whole, so a new figure never keeps the old
  figure's ``source``. Every replacement and deletion is recorded as an
  :class:`AppliedOverride`.
* The mark of every merged key path points to the file that provided the value,
  so a problem in an extended file names that file.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Final, Literal

from supplychain.arguments import closest
from supplychain.errors import KeyPath, Problem, ScenarioError, format_path
from supplychain.io.roots import BUNDLED_PREFIX, allowed_roots, bundled_root
from supplychain.io.yamlsafe import MAX_NODES, Mark, YamlDocument, read_yaml_file
from supplychain.schema.types import Quantity

__all__ = [
    "MAX_EXTENDS_DEPTH",
    "ROOT_LEVELS_UP",
    "AppliedOverride",
    "Composition",
    "Provenance",
    "bundled_name",
    "compose_document",
    "compose_file",
    "confinement_root",
    "read_parsed",
]

ROOT_LEVELS_UP: Final = 1
"""How many folders above the top-level file's folder bases may live."""
MAX_EXTENDS_DEPTH: Final = 32
"""Longest chain of files extending one another."""
_QUANTITY_KEYS: Final = frozenset(Quantity.model_fields)


@dataclass(frozen=True)
class AppliedOverride:
    """One value of a base that a later file replaced or deleted.

    Attributes
    ----------
    path : tuple
        Key path of the overridden value.
    action : {"replace", "delete"}
        ``delete`` when the overriding value was ``null``.
    new : Mark
        Where the winning value is written.
    old : Mark
        Where the overridden value was written.
    """

    path: KeyPath
    action: Literal["replace", "delete"]
    new: Mark
    old: Mark

    def __str__(self) -> str:
        verb = "deleted by" if self.action == "delete" else "set by"
        return (
            f"{format_path(self.path)}: {verb} {self.new.file}:{self.new.line} "
            f"(overrides {self.old.file}:{self.old.line})"
        )


@dataclass(eq=False)
class Provenance:
    """Where every value of a composed scenario was written.

    Provenance is metadata, not content: it never takes part in equality, so
    two scenarios with the same content are equal wherever they were read from.

    Attributes
    ----------
    file : str
        Display name of the top-level file.
    files : tuple of str
        Every file read, top-level first.
    marks : dict
        Key path -> :class:`Mark` in the file that provided the value.
    overrides : tuple of AppliedOverride
        Every override applied, in the order of application.
    """

    file: str
    files: tuple[str, ...]
    marks: dict[KeyPath, Mark]
    overrides: tuple[AppliedOverride, ...] = ()

    def mark_for(self, path: KeyPath) -> Mark:
        """Mark of the longest known prefix of `path` (line 0 if none is known)."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return Mark(self.file, 0, 0)

    def locate(self, path: KeyPath) -> tuple[str, int, int]:
        """``(file, line, column)`` of `path` (see :meth:`mark_for`)."""
        mark = self.mark_for(path)
        return mark.file, mark.line, mark.column

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, Provenance)

    __hash__ = None  # type: ignore[assignment]


@dataclass
class _Layer:
    """Plain data with marks: one file's own content, or the merge so far."""

    data: dict[Any, Any]
    marks: dict[KeyPath, Mark]
    overrides: list[AppliedOverride] = field(default_factory=list)


@dataclass(frozen=True)
class Composition:
    """The merged plain data of a scenario and its :class:`Provenance`."""

    data: dict[Any, Any]
    provenance: Provenance


# ------------------------------------------------------------------------ merge
def _subtree(value: Any, path: KeyPath) -> Iterator[KeyPath]:
    """`path` and every key path below it in plain data."""
    stack: list[tuple[Any, KeyPath]] = [(value, path)]
    while stack:
        node, here = stack.pop()
        yield here
        if isinstance(node, dict):
            stack.extend((v, (*here, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*here, i)) for i, v in enumerate(node))


def _take(dst: _Layer, src: _Layer, parent: dict[Any, Any], key: Any, value: Any, path: KeyPath) -> None:
    """Set ``parent[key]`` to a copy of `value` (from `src`), moving the marks below `path`."""
    if key in parent:
        for old in _subtree(parent[key], path):
            dst.marks.pop(old, None)
    parent[key] = copy.deepcopy(value)
    for new in _subtree(value, path):
        if new in src.marks:
            dst.marks[new] = src.marks[new]


def _is_quantity(value: dict[Any, Any]) -> bool:
    """Tell whether a mapping is a whole quantity: `value` or `dist`, and only quantity keys."""
    return ("value" in value or "dist" in value) and all(k in _QUANTITY_KEYS for k in value)


def _mark(layer: _Layer, path: KeyPath) -> Mark:
    for end in range(len(path), -1, -1):
        mark = layer.marks.get(path[:end])
        if mark is not None:
            return mark
    return Mark("?", 0, 0)


def _merge(dst: _Layer, src: _Layer, target: dict[Any, Any], source: dict[Any, Any], path: KeyPath = ()) -> None:
    """Merge `source` (data of `src`) into `target` (data of `dst`) in place, recording overrides."""
    for key, value in source.items():
        here = (*path, key)
        if key not in target:
            _take(dst, src, target, key, value, here)
        elif isinstance(value, dict) and isinstance(target[key], dict) and not _is_quantity(value):
            if here in src.marks:
                dst.marks[here] = src.marks[here]
            _merge(dst, src, target[key], value, here)
        else:
            action: Literal["replace", "delete"] = "delete" if value is None else "replace"
            dst.overrides.append(AppliedOverride(here, action, _mark(src, here), _mark(dst, here)))
            if value is None:
                for gone in _subtree(target.pop(key), here):
                    dst.marks.pop(gone, None)
            else:
                _take(dst, src, target, key, value, here)


# ---------------------------------------------------------------------- extends
def confinement_root(top_level: str | Path) -> Path:
    """Return the folder every base of `top_level` must lie in (see module docs).

    Parameters
    ----------
    top_level : str or Path
        The top-level scenario file.

    Returns
    -------
    Path
        Resolved folder :data:`ROOT_LEVELS_UP` levels above the file's folder.
    """
    root = Path(top_level).resolve().parent
    for _ in range(ROOT_LEVELS_UP):
        root = root.parent
    return root


def _is_absolute(text: str) -> bool:
    return (
        PurePosixPath(text).is_absolute()
        or PureWindowsPath(text).is_absolute()
        or bool(PureWindowsPath(text).drive)
        or text.startswith("~")
    )


def _near_names(folder: Path, name: str) -> str:
    from supplychain.schema.references import did_you_mean

    try:
        return did_you_mean(name, [p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml")])
    except OSError:
        return ""


def bundled_name(entry: str) -> tuple[str | None, str]:
    """Return the file of the bundled world that ``bundled:NAME`` names, relative to it, or None and a hint.

    ``.yaml`` is added when NAME has no suffix; NAME must stay inside the bundled world
    (:func:`~supplychain.io.roots.bundled_root`). The one reading of ``bundled:`` for
    ``extends`` and for :func:`supplychain.io.load.load`.

    Examples
    --------
    >>> bundled_name("bundled:baseline_2024")
    ('baseline_2024.yaml', '')
    >>> bundled_name("bundled:baseline_2042")
    (None, "did you mean 'bundled:baseline_2024'?")
    >>> bundled_name("bundled:Baseline_2024.yml")
    (None, "did you mean 'bundled:baseline_2024.yaml'?")

    The hint is in the form the caller wrote (``bundled:NAME``, with a suffix only if NAME had one).
    """
    name = entry.removeprefix(BUNDLED_PREFIX).strip()
    parts = PurePosixPath(name).parts
    if not name or _is_absolute(name) or ".." in parts or "\\" in name:
        return None, "write bundled:<file> with a path inside the bundled world, e.g. bundled:baseline_2024"
    suffixed = bool(PurePosixPath(name).suffix)
    if not suffixed:
        name += ".yaml"
    home = bundled_root()
    if not (home / name).is_file():
        files = sorted(p.name for p in home.glob("*.yaml"))
        near = closest(PurePosixPath(name).name, files)
        if near is None:
            return None, f"the bundled world has: {', '.join(PurePosixPath(f).stem for f in files)}"
        return None, f"did you mean '{BUNDLED_PREFIX}{near if suffixed else PurePosixPath(near).stem}'?"
    return name, ""


def _own_layer(doc: YamlDocument) -> _Layer:
    data = doc.data if isinstance(doc.data, dict) else {}
    return _Layer({k: v for k, v in data.items() if k != "extends"}, doc.marks)


class _Composer:
    """Walks a file and its bases depth first, collecting every problem.

    ``order`` receives each file's own layer after the layers of its bases.
    """

    def __init__(self, root: Path | None, extra: tuple[Path, ...] = (),
                 parsed: dict[tuple[Path, str], YamlDocument] | None = None) -> None:
        self.root = root
        self.extra = extra
        self.parsed = parsed
        self.problems: list[Problem] = []
        self.seen: set[Path] = set()
        self.chain: list[tuple[Path, str]] = []
        self.order: list[tuple[str, _Layer]] = []
        self.nodes = 0

    def problem(self, doc: YamlDocument, path: KeyPath, message: str, hint: str = "") -> None:
        mark = doc.mark_for(path)
        self.problems.append(Problem(mark.file, mark.line, mark.column, path, message, hint))

    def visit_file(self, path: Path, display: str) -> None:
        self.seen.add(path)
        try:
            doc = read_parsed(path, display, self.parsed)
        except ScenarioError as err:
            self.problems.extend(err.problems)
            return
        self.chain.append((path, display))
        self.visit(doc, path.parent)
        self.chain.pop()

    def visit(self, doc: YamlDocument, folder: Path | None) -> None:
        self.nodes += doc.nodes
        for index, entry in enumerate(self.entries(doc)):
            if self.nodes > MAX_NODES:
                hint = "split the scenario, or aggregate small entities (docs/limits.md)"
                self.problem(doc, ("extends", index), f"the scenario and its bases hold more than {MAX_NODES:,} YAML "
                                                      "nodes (values, mappings and lists)", hint)  # fmt: skip
                break
            base = self.base(doc, folder, ("extends", index), entry)
            if base is not None and base[0] not in self.seen:
                self.visit_file(*base)
        self.order.append((doc.file, _own_layer(doc)))

    def entries(self, doc: YamlDocument) -> list[Any]:
        value = doc.data.get("extends") if isinstance(doc.data, dict) else None
        if value is None:
            return []
        if not isinstance(value, list):
            hint = "write a list of paths relative to this file, e.g. extends: [../world/base.yaml]"
            self.problem(doc, ("extends",), "extends must be a list of file paths", hint)
            return []
        return value

    def base(self, doc: YamlDocument, folder: Path | None, where: KeyPath, entry: Any) -> tuple[Path, str] | None:
        """Check one ``extends`` entry; return the base's resolved path and display name."""
        if not isinstance(entry, str) or not entry.strip():
            self.problem(doc, where, "extends entries must be file paths", "write e.g. ../world/base.yaml")
        elif entry.startswith(BUNDLED_PREFIX):
            return self.bundled(doc, where, entry)
        elif _is_absolute(entry):
            hint = "write the path relative to this file, e.g. ../world/base.yaml"
            self.problem(doc, where, f"absolute path {entry!r} is not allowed in extends", hint)
        elif folder is None:
            hint = "load the scenario from a file (supplychain.io.load) or pass base_dir to load_text"
            self.problem(doc, where, "extends needs the folder of the file to resolve paths", hint)
        else:
            return self.resolve(doc, folder, where, entry)
        return None

    def bundled(self, doc: YamlDocument, where: KeyPath, entry: str) -> tuple[Path, str] | None:
        """Resolve ``bundled:NAME`` in the bundled world (:func:`bundled_name`)."""
        name, hint = bundled_name(entry)
        if name is None:
            self.problem(doc, where, f"{entry!r} is not a file of the bundled world", hint)
            return None
        home = bundled_root()
        found = self.resolve(doc, home, where, name, roots=[home])
        if found is None:
            return None
        return found[0], BUNDLED_PREFIX + found[0].relative_to(home.resolve()).as_posix()

    def resolve(self, doc: YamlDocument, folder: Path, where: KeyPath, entry: str,
                roots: list[Path] | None = None) -> tuple[Path, str] | None:
        if "\x00" in entry:
            self.problem(doc, where, "extends path contains a NUL character", "write the file's path as plain text")
            return None
        try:
            return self._resolve(doc, folder, where, entry, roots)
        except (OSError, RuntimeError) as err:  # RuntimeError: a symbolic link loop (Path.resolve, Python < 3.13)
            reason = "a symbolic link loop" if isinstance(err, RuntimeError) else (err.strerror or str(err))
            hint = "point extends at a .yaml file (not through a looping or broken link)"
            self.problem(doc, where, f"cannot resolve extends path {entry!r}: {reason}", hint)
            return None

    def _resolve(self, doc: YamlDocument, folder: Path, where: KeyPath, entry: str,
                 roots: list[Path] | None) -> tuple[Path, str] | None:
        target = (folder / entry).resolve()
        own = self.root if self.root is not None else folder.resolve()
        allowed = roots if roots is not None else allowed_roots(own, self.extra)
        chain = [p for p, _ in self.chain]
        if not any(target.is_relative_to(r) for r in allowed):
            shown = ", ".join(os.fspath(r) for r in allowed)
            hint = (f"bases must lie inside {shown}; move the base file there, or allow its folder with "
                    "--path DIR (or SUPPLYCHAIN_PATH)")
            self.problem(doc, where, f"extends path {entry!r} escapes the scenario folder tree", hint)
        elif target in chain:
            names = [d for _, d in self.chain[chain.index(target) :]]
            names.append(names[0])
            self.problem(doc, where, "extends cycle: " + " → ".join(names), "remove one of these extends entries")
        elif len(self.chain) >= MAX_EXTENDS_DEPTH:
            hint = "flatten the chain: extend the files you need directly"
            self.problem(doc, where, f"extends chain is deeper than {MAX_EXTENDS_DEPTH} files", hint)
        elif target.exists() and not target.is_file():
            kind = "a folder" if target.is_dir() else "not a regular file (a named pipe, device or socket)"
            self.problem(doc, where, f"base {entry!r} is {kind}", "extend a .yaml file")
        elif not target.is_file():
            hint = _near_names(target.parent, target.name) or "check the path (relative to this file)"
            self.problem(doc, where, f"base file {entry!r} not found", hint)
        else:
            if doc.file.startswith(BUNDLED_PREFIX) and roots is None:  # a bundled file's own bases
                home = bundled_root().resolve()
                if target.is_relative_to(home):
                    return target, BUNDLED_PREFIX + target.relative_to(home).as_posix()
            return target, os.path.normpath(Path(doc.file).parent / entry)
        return None


def read_parsed(path: Path, display: str, parsed: dict[tuple[Path, str], YamlDocument] | None) -> YamlDocument:
    """Read a file, or return it from `parsed` (filled as files are read; ``None``: always read).

    Composition only reads a document (values are deep-copied into the merged data), so one
    read serves every scenario that extends the file. `path` is resolved.
    """
    if parsed is None:
        return read_yaml_file(path, display_name=display)
    doc = parsed.get((path, display))
    if doc is None:
        doc = parsed[(path, display)] = read_yaml_file(path, display_name=display)
    return doc


def _finish(composer: _Composer, doc: YamlDocument) -> Composition:
    if composer.problems:
        raise ScenarioError(composer.problems)
    merged = _Layer({}, {})
    for _, layer in composer.order:
        _merge(merged, layer, merged.data, layer.data)
    data = merged.data
    if isinstance(doc.data, dict) and "extends" in doc.data:
        data = {"extends": copy.deepcopy(doc.data["extends"]), **data}  # a read document is never shared
        for path in _subtree(doc.data["extends"], ("extends",)):
            if path in doc.marks:
                merged.marks[path] = doc.marks[path]
    if () in doc.marks:
        merged.marks[()] = doc.marks[()]
    files = (doc.file, *(name for name, _ in composer.order if name != doc.file))
    return Composition(data, Provenance(doc.file, files, merged.marks, tuple(merged.overrides)))


def compose_file(path: str | Path, *, display_name: str | None = None, root: str | Path | None = None,
                 extra_roots: tuple[Path, ...] = ()) -> Composition:
    """Read a scenario file and merge the bases it extends.

    Parameters
    ----------
    path : str or Path
        The top-level scenario file.
    display_name : str, optional
        Name used in marks and problems (default: `path` as given).
    root : str or Path, optional
        Confinement root for bases (default: :func:`confinement_root`).
    extra_roots : tuple of Path
        Further folders bases may lie in (resolved; :func:`supplychain.io.roots.extra_roots`).

    Returns
    -------
    Composition
        Merged plain data (not yet validated) and its provenance.

    Raises
    ------
    ScenarioError
        Every problem found in any file read: YAML problems, bad ``extends``
        entries, paths escaping the root, missing bases and cycles.
    """
    display = display_name if display_name is not None else os.fspath(path)
    doc = read_yaml_file(path, display_name=display)
    return compose_document(doc, folder=Path(path).parent, root=root, top_level=path, extra_roots=extra_roots)


def compose_document(
    doc: YamlDocument,
    *,
    folder: str | Path | None,
    root: str | Path | None = None,
    top_level: str | Path | None = None,
    extra_roots: tuple[Path, ...] = (),
    parsed: dict[tuple[Path, str], YamlDocument] | None = None,
) -> Composition:
    """Merge the bases that an already-read document extends.

    Parameters
    ----------
    doc : YamlDocument
        The top-level document.
    folder : str or Path or None
        Folder its ``extends`` paths are relative to; ``None`` refuses ``extends``.
    root : str or Path, optional
        Confinement root (default: one level above `folder`, or above
        `top_level`'s folder when given).
    top_level : str or Path, optional
        Path of the file `doc` was read from (to detect cycles back to it).
    extra_roots : tuple of Path
        Further folders bases may lie in, besides the root and the bundled world.
    parsed : dict, optional
        Documents already read, by resolved path and display name (:func:`read_parsed`):
        several scenarios validated together read a base they share once.

    Returns
    -------
    Composition
        Merged plain data and its provenance.

    Raises
    ------
    ScenarioError
        As :func:`compose_file`.
    """
    resolved_root: Path | None = None
    if root is not None:
        resolved_root = Path(root).resolve()
    elif top_level is not None:
        resolved_root = confinement_root(top_level)
    elif folder is not None:
        resolved_root = confinement_root(Path(folder) / "_")
    composer = _Composer(resolved_root, tuple(extra_roots), parsed)
    if top_level is not None:
        composer.chain.append((Path(top_level).resolve(), doc.file))
        composer.seen.add(Path(top_level).resolve())
    composer.visit(doc, Path(folder) if folder is not None else None)
    return _finish(composer, doc)
