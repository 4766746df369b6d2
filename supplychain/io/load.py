"""Load a scenario: read, compose ``extends``, validate, check references.

The pipeline of :func:`load`::

    read_yaml_file ─▶ compose (extends, merge, marks) ─▶ Scenario.model_validate
        ─▶ cross-reference rules (+ citations with ``require_sources``)

Every problem of every file is collected and raised once as a
:class:`~supplychain.errors.ScenarioError`, each located at file:line:column.
Pydantic's error records are translated into plain words: ``unknown key
'capacty'`` with a did-you-mean hint, ``missing required key 'name'``, the
allowed values of a choice, the ``type`` options of a policy.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from supplychain.errors import KeyPath, Problem, ScenarioError
from supplychain.io.compose import AppliedOverride, Composition, Provenance, compose_document, compose_file
from supplychain.io.roots import extra_roots as _extra_roots
from supplychain.io.yamlsafe import parse_yaml_text, read_yaml_file
from supplychain.schema.model import _CONTROL_PATTERN, Scenario
from supplychain.schema.references import check_references, did_you_mean, problem_at
from supplychain.schema.types import Quantity, t_named_keys

__all__ = [
    "FileReport",
    "applied_overrides",
    "as_scenario",
    "load",
    "load_text",
    "problem_at",
    "problems_from_validation",
    "validate_paths",
]

_PATTERNS: Final = {
    r"^[A-Za-z][A-Za-z0-9_\-]{0,79}$": (
        "invalid id",
        "ids start with a letter, then letters, digits, '_' or '-' (at most 80 characters)",
    ),
    r"^[A-Z][A-Z0-9_]{1,15}$": (
        "invalid country code",
        "use an ISO 3166-1 alpha-2 code in capitals such as 'US', or a declared region/group code",
    ),
    r"^[A-Z][a-z]?$": ("invalid element symbol", "write a chemical symbol such as 'Nd' or 'Dy'"),
    _CONTROL_PATTERN: (
        "invalid entity reference",
        "give an id, or section.id (e.g. facilities.mp_10x) where the id is used in two sections",
    ),
}
_BOUNDS: Final = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "above"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "below"),
}
_GONE: Final = object()


# --------------------------------------------------------------- type walking
def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` from a type."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _tags(tp: Any) -> dict[str, type[BaseModel]]:
    """``type`` tag -> model, for a union of tagged models (else empty)."""
    out: dict[str, type[BaseModel]] = {}
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return out
    for arg in typing.get_args(tp):
        field = arg.model_fields.get("type") if isinstance(arg, type) and issubclass(arg, BaseModel) else None
        if field is not None:
            out.update(dict.fromkeys(typing.get_args(field.annotation), arg))
    return out


def _field_of(model: type[BaseModel], key: str) -> str:
    """Return the attribute a key of a file sets: itself, or the field whose unit-neutral key it is."""
    neutral = {new: old for old, new in t_named_keys(model).items()}
    return neutral.get(key, key)


def _keys(model: type[BaseModel]) -> list[str]:
    """Every key a file may write for ``model``: field names, with unit-neutral keys beside their older names."""
    return sorted({*model.model_fields, *t_named_keys(model).values()})


def _child_type(tp: Any, part: str | int) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(_field_of(tp, str(part)))
        return _unwrap(field.annotation) if field is not None else None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    if origin is list and args:
        return _unwrap(args[0])
    return None


@dataclass
class _Located:
    """Where a pydantic error points: data path, input node, types around it."""

    path: KeyPath
    owner: type[BaseModel] | None  # model whose field the last part names
    tp: Any  # expected type at the location
    is_key: bool


def _locate(loc: tuple[str | int, ...], data: Any, model: type[BaseModel] = Scenario) -> _Located:
    path: list[str | int] = []
    node: Any = data
    tp: Any = model
    owner: type[BaseModel] | None = None
    is_key = False
    for part in loc:
        if part == "[key]":
            is_key = True
            continue
        tags = _tags(tp)
        if isinstance(part, str) and part in tags:
            tp = tags[part]
            continue
        owner = tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None
        tp = _child_type(tp, part)
        if isinstance(node, dict):
            node = node.get(part, _GONE)
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
    return _Located(tuple(path), owner, tp, is_key)


# -------------------------------------------------------------------- messages
def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else type(value).__name__


def _field_hint(owner: type[BaseModel] | None, key: str) -> str:
    field = owner.model_fields.get(_field_of(owner, key)) if owner is not None else None
    doc = (field.description or "").split("\n")[0] if field is not None else ""
    return f"add `{key}:` ({doc.rstrip('.')})" if doc else f"add `{key}:`"


def _options(expected: str) -> list[str]:
    return [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",") if o.strip()]


def _is_number_text(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def _type_message(kind: str, value: Any) -> tuple[str, str]:
    what = {"float": "a number", "int": "a whole number", "string": "text", "bool": "true or false",
            "list": "a list", "dict": "a mapping", "model": "a mapping"}[kind]  # fmt: skip
    hint = ""
    if kind in ("float", "int") and _is_number_text(value):
        hint = "remove the quotes around the number"
    elif kind == "string" and isinstance(value, int | float | bool):
        hint = f"quote it if you mean text: '{value}'"
    elif kind == "model" and value is None:
        hint = "null only deletes an entry inherited through `extends`; give the entry's fields"
    return f"expected {what}, got {_describe(value)}", hint


def _humanize(err: ErrorDetails, where: _Located) -> tuple[str, str]:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    key = str(where.path[-1]) if where.path else ""
    if kind == "extra_forbidden":
        fields = _keys(where.owner) if where.owner is not None else []
        renamed = t_named_keys(where.owner) if where.owner is not None else {}
        pair = {**renamed, **{new: old for old, new in renamed.items()}}
        if key in pair:
            new, old = (pair[key], key) if key in renamed else (key, pair[key])
            return (f"give either `{new}` or `{old}` (its older name, for commodities in t), not both",
                    f"keep `{new}`: the figure in the commodity's unit")
        return f"unknown key '{key}'", did_you_mean(key, fields, f"allowed keys: {', '.join(fields)}")
    if kind == "missing":
        return f"missing required key '{key}'", _field_hint(where.owner, key)
    if kind == "literal_error":
        options = _options(str(ctx.get("expected", "")))
        return f"{value!r} is not allowed; expected one of: {', '.join(options)}", did_you_mean(str(value), options)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        options = sorted(_tags(where.tp)) or _options(str(ctx.get("expected_tags", "")))
        listed = ", ".join(options)
        if kind == "union_tag_not_found":
            return f"missing key 'type' (one of: {listed})", "add e.g. `type: export_ban`"
        tag = str(ctx.get("tag", ""))
        return f"unknown type '{tag}'; expected one of: {listed}", did_you_mean(tag, options)
    if kind == "string_pattern_mismatch":
        label, hint = _PATTERNS.get(str(ctx.get("pattern")), ("invalid value", f"must match {ctx.get('pattern')}"))
        return f"{label} '{value}'", hint
    if kind in ("model_type", "model_attributes_type") and where.tp is Quantity:
        hint = "remove the quotes around the number" if _is_number_text(value) else "write e.g. 45000 or {value: 45000}"
        return f"expected a number or a {{value: ..., source: ...}} mapping, got {_describe(value)}", hint
    if kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        return f"must be {words} {ctx.get(name)}, got {value!r}", ""
    if kind.endswith("_type") and kind.split("_")[0] in ("float", "int", "string", "bool", "list", "dict", "model"):
        return _type_message(kind.split("_")[0], value)
    if kind == "model_attributes_type":
        return _type_message("model", value)
    if kind in ("int_from_float", "int_parsing"):
        return f"expected a whole number, got {_describe(value)}", ""
    if kind == "string_too_short":
        return "must not be empty", ""
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} entries, got {ctx.get('actual_length')}", ""
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message, ""


def problems_from_validation(
    exc: ValidationError, data: Any, provenance: Provenance, model: type[BaseModel] = Scenario
) -> list[Problem]:
    """Translate a pydantic error into located, human-readable problems.

    Parameters
    ----------
    exc : ValidationError
        Raised by ``model.model_validate(data)``.
    data : Any
        The plain data that was validated (to tell data keys from union tags).
    provenance : Provenance
        Marks of the composed data.
    model : type, optional
        The model validated (default :class:`~supplychain.schema.model.Scenario`;
        other YAML inputs, such as the HS mapping of :mod:`supplychain.importers`, pass theirs).

    Returns
    -------
    list of Problem
        One per distinct (path, message), in pydantic's order.
    """
    seen: set[tuple[KeyPath, str]] = set()
    problems = []
    for err in exc.errors(include_url=False):
        where = _locate(tuple(err["loc"]), data, model)
        message, hint = _humanize(err, where)
        if where.is_key and not message.startswith("invalid"):
            message = f"key {err.get('input')!r}: {message}"
        if (where.path, message) in seen:
            continue
        seen.add((where.path, message))
        file, line, column = provenance.locate(where.path)
        problems.append(Problem(file, line, column, where.path, message, hint))
    return problems


# ------------------------------------------------------------------------- load
def _validate(composition: Composition, require_sources: bool) -> Scenario:
    try:
        scenario = Scenario.model_validate(composition.data)
    except ValidationError as exc:
        raise ScenarioError(problems_from_validation(exc, composition.data, composition.provenance)) from None
    scenario._provenance = composition.provenance
    problems = check_references(scenario, require_sources=require_sources)
    if problems:
        raise ScenarioError(problems)
    return scenario


def load(path: str | Path, *, require_sources: bool = False, root: str | Path | None = None,
         extra_roots: Iterable[str | os.PathLike[str]] = ()) -> Scenario:
    """Load a scenario file, with the bases it extends.

    Parameters
    ----------
    path : str or Path
        The scenario file. Problems name it as given.
    require_sources : bool, optional
        Also require a ``source`` or ``assumption`` on every figure written.
    root : str or Path, optional
        Folder every ``extends`` base must lie in (default: one level above the
        file's folder; see :mod:`supplychain.io.compose`). The bundled world
        (``extends: [bundled:baseline_2024]``) is always allowed.
    extra_roots : iterable of path, optional
        Further folders bases may lie in (``--path DIR``), besides those of the
        ``SUPPLYCHAIN_PATH`` environment variable (:mod:`supplychain.io.roots`).

    Returns
    -------
    Scenario
        Validated, frozen; its provenance is kept for :func:`problem_at` and
        :func:`applied_overrides`.

    Raises
    ------
    ScenarioError
        Listing every problem in every file, each with file:line:column.

    Examples
    --------
    >>> s = load("tests/data/minimal/child.yaml")
    >>> s.scenario.name
    'Minimal child'
    """
    roots = tuple(_extra_roots(extra_roots))
    return _validate(compose_file(path, root=root, extra_roots=roots), require_sources)


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    """Return ``scenario`` itself, or the scenario :func:`load` reads from that path.

    Raises
    ------
    TypeError
        Anything but a :class:`~supplychain.schema.model.Scenario` or a path.
    ScenarioError
        As :func:`load`.
    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | os.PathLike):
        return load(scenario)
    msg = f"scenario must be a Scenario (supplychain.load) or a path to a YAML file, not {type(scenario).__name__}"
    raise TypeError(msg)


def load_text(
    text: str, file: str = "<string>", *, require_sources: bool = False, base_dir: str | Path | None = None
) -> Scenario:
    """Load a scenario from YAML text (never a path).

    Parameters
    ----------
    text : str
        YAML source.
    file : str, optional
        Name used in problems.
    require_sources : bool, optional
        As in :func:`load`.
    base_dir : str or Path, optional
        Folder ``extends`` paths are relative to; without it ``extends`` is refused.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        As :func:`load`.

    Examples
    --------
    >>> load_text("scenario: {name: Tiny, base_year: 2024}").years
    [2024]
    """
    doc = parse_yaml_text(text, file=file)
    return _validate(compose_document(doc, folder=base_dir, extra_roots=tuple(_extra_roots())), require_sources)


def applied_overrides(scenario: Scenario) -> list[AppliedOverride]:
    """Every override applied while composing `scenario` (empty if built in Python).

    Examples
    --------
    >>> [str(o) for o in applied_overrides(load("tests/data/minimal/child.yaml"))][0]
    'scenario.name: set by tests/data/minimal/child.yaml:4 (overrides tests/data/minimal/base.yaml:4)'
    """
    provenance = scenario._provenance
    return list(provenance.overrides) if isinstance(provenance, Provenance) else []


# --------------------------------------------------------------- many files
@dataclass(frozen=True)
class FileReport:
    """Outcome of validating one file with :func:`validate_paths`.

    Attributes
    ----------
    file : str
        The file as named (folder given + relative path).
    scenario : Scenario or None
        The loaded scenario when valid.
    error : ScenarioError or None
        Every problem when invalid.
    skipped : str
        Why the file was not validated (a fragment without ``scenario:``), else "".
    """

    file: str
    scenario: Scenario | None = None
    error: ScenarioError | None = None
    skipped: str = ""

    @property
    def ok(self) -> bool:
        """True unless the file has problems (skipped files are fine)."""
        return self.error is None


def _scenario_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _validate_found(file: Path, display: str, require_sources: bool, root: str | Path | None,
                    roots: tuple[Path, ...]) -> FileReport:
    doc = read_yaml_file(file, display_name=display)
    if not isinstance(doc.data, dict) or "scenario" not in doc.data:
        return FileReport(display, skipped="no `scenario:` section (a base fragment for `extends`)")
    composition = compose_document(doc, folder=file.parent, root=root, top_level=file, extra_roots=roots)
    return FileReport(display, scenario=_validate(composition, require_sources))


def _one(target: Path, display: str, explicit: bool, require_sources: bool, root: str | Path | None,
         roots: tuple[Path, ...]) -> FileReport:
    try:
        if explicit:
            composition = compose_file(target, root=root, extra_roots=roots)
            return FileReport(display, scenario=_validate(composition, require_sources))
        return _validate_found(target, display, require_sources, root, roots)
    except ScenarioError as err:
        return FileReport(display, error=err)
    except OSError as err:
        problem = Problem(display, 0, 0, (), f"cannot read: {err.strerror or err}", "check the path and permissions")
        return FileReport(display, error=ScenarioError([problem]))


def validate_paths(
    paths: Iterable[str | Path] | str | Path, *, require_sources: bool = False, root: str | Path | None = None,
    extra_roots: Iterable[str | os.PathLike[str]] = (),
) -> list[FileReport]:
    """Validate scenario files and folders, one report per file.

    Named files are always validated. Folders are searched recursively for
    ``*.yaml``/``*.yml``; a file found there without a top-level ``scenario:``
    key is a base fragment and reported as skipped.

    Parameters
    ----------
    paths : path or iterable of paths
        Files and folders.
    require_sources : bool, optional
        As in :func:`load`.
    root : str or Path, optional
        As in :func:`load`.
    extra_roots : iterable of path, optional
        As in :func:`load`.

    Returns
    -------
    list of FileReport
        In the order given, folder contents sorted. A missing path or a folder
        without YAML files is a report with an error.
    """
    items: Sequence[str | Path] = [paths] if isinstance(paths, str | Path) else list(paths)
    roots = tuple(_extra_roots(extra_roots))
    reports: list[FileReport] = []
    for item in items:
        target = Path(item)
        if not target.is_dir():
            reports.append(_one(target, os.fspath(item), True, require_sources, root, roots))
            continue
        found = _scenario_files(target)
        if not found:
            problem = Problem(os.fspath(item), 0, 0, (), "no .yaml files in this folder", "check the path")
            reports.append(FileReport(os.fspath(item), error=ScenarioError([problem])))
        for file in found:
            display = os.fspath(Path(item) / file.relative_to(target))
            reports.append(_one(file, display, False, require_sources, root, roots))
    return reports
