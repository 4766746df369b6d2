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

import copy
import datetime as dt
import os
import stat
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from supplychain.errors import KeyPath, Problem, ScenarioError, sort_problems
from supplychain.io.atomic import file_kind
from supplychain.io.compose import (
    AppliedOverride,
    Composition,
    Provenance,
    bundled_name,
    compose_document,
    compose_file,
    read_parsed,
)
from supplychain.io.roots import BUNDLED_PREFIX, bundled_root
from supplychain.io.roots import extra_roots as _extra_roots
from supplychain.io.yamlsafe import YamlDocument, parse_yaml_text
from supplychain.schema.model import _CONTROL_PATTERN, Scenario
from supplychain.schema.references import (
    check_bare_year_ends,
    check_references,
    check_warnings,
    did_you_mean,
    problem_at,
)
from supplychain.schema.types import InvalidValueError, Quantity, t_named_keys

__all__ = [
    "FRAGMENT",
    "MAX_ENTITIES",
    "FileReport",
    "applied_overrides",
    "as_scenario",
    "load",
    "load_text",
    "problem_at",
    "problems_from_validation",
    "validate_paths",
]

FRAGMENT: Final = "no `scenario:` section (a base fragment for `extends`)"
"""Why a file of a folder is skipped when it has no ``scenario:`` key (``validate`` counts these in one line)."""

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

MAX_ENTITIES: Final = 100_000
"""Most entities (entries of every section together) one scenario may hold, with its bases.

Loading is linear in the number of entities: about 200 µs and 7 KB each on the
development machine (``docs/limits.md`` gives the command), so a scenario at this
cap loads in about 20 s within 0.7 GB. Counted before the schema is checked, so a
larger one is refused as soon as it is read.
"""


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
        synonyms = getattr(where.owner, "key_synonyms", None)
        return f"unknown key '{key}'", did_you_mean(key, fields, f"allowed keys: {', '.join(fields)}", synonyms)
    if kind == "missing":
        return f"missing required key '{key}'", _field_hint(where.owner, key)
    if kind == "literal_error":
        options = _options(str(ctx.get("expected", "")))
        return (f"{value!r} is not allowed; expected one of: {', '.join(options)}",
                did_you_mean(str(value), options, "write one of the values listed"))  # fmt: skip
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        options = sorted(_tags(where.tp)) or _options(str(ctx.get("expected_tags", "")))
        listed = ", ".join(options)
        if kind == "union_tag_not_found":
            return f"missing key 'type' (one of: {listed})", "add e.g. `type: export_ban`"
        tag = str(ctx.get("tag", ""))
        hint = did_you_mean(tag, options, "write one of the types listed")
        return f"unknown type '{tag}'; expected one of: {listed}", hint
    if kind == "string_pattern_mismatch":
        label, hint = _PATTERNS.get(str(ctx.get("pattern")), ("invalid value", f"must match {ctx.get('pattern')}"))
        if label == "invalid country code" and isinstance(value, str):  # 'in' → 'IN' (India), 'China' → 'CN'
            from supplychain.schema.countries import code_hint
            from supplychain.schema.types import ISO_COUNTRIES

            hint = code_hint(value, ISO_COUNTRIES, hint)
        return f"{label} {value!r}", hint
    if kind in ("model_type", "model_attributes_type") and where.tp is Quantity:
        hint = "remove the quotes around the number" if _is_number_text(value) else "write e.g. 45000 or {value: 45000}"
        return f"expected a number or a {{value: ..., source: ...}} mapping, got {_describe(value)}", hint
    if kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        return f"must be {words} {ctx.get(name)}, got {value!r}", f"write a value {words} {ctx.get(name)}"
    if kind.endswith("_type") and kind.split("_")[0] in ("float", "int", "string", "bool", "list", "dict", "model"):
        message, hint = _type_message(kind.split("_")[0], value)
        return message, hint or _field_doc_hint(where.owner, key)
    if kind == "model_attributes_type":
        message, hint = _type_message("model", value)
        return message, hint or _field_doc_hint(where.owner, key)
    if kind in ("int_from_float", "int_parsing"):
        return f"expected a whole number, got {_describe(value)}", "write a whole number such as 2030"
    if kind == "string_too_short":
        least = int(ctx.get("min_length", 1))
        if least <= 1 or not isinstance(value, str) or not value:
            return "must not be empty", "write some text, or leave the key out"
        return (f"is too short: at least {least} characters, got {len(value)} ({value!r})",
                f"write at least {least} characters (say what the figure assumes), or leave the key out")
    if kind == "too_short":
        return (f"needs at least {ctx.get('min_length')} entries, got {ctx.get('actual_length')}",
                f"give at least {ctx.get('min_length')}")  # fmt: skip
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    cause = ctx.get("error")
    return message, cause.hint if isinstance(cause, InvalidValueError) else _field_doc_hint(where.owner, key)


def _field_doc_hint(owner: type[BaseModel] | None, key: str) -> str:
    """Make a hint from the field's documentation, for errors without a more specific one."""
    field = owner.model_fields.get(key) if owner is not None else None
    doc = (field.description or "").split("\n")[0].rstrip(".") if field is not None else ""
    return f"`{key}` is: {doc[0].lower()}{doc[1:]}" if doc else "see docs/scenario-format.md for this key"


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
def _check_size(composition: Composition) -> None:
    """Refuse a scenario with more than :data:`MAX_ENTITIES` entities before validating it."""
    data = composition.data
    sizes = {k: len(v) for k, v in data.items() if k not in ("scenario", "extends") and isinstance(v, dict)}
    total = sum(sizes.values())
    if total <= MAX_ENTITIES:
        return
    biggest = ", ".join(f"{k} {n:,}" for k, n in sorted(sizes.items(), key=lambda kv: -kv[1])[:3])
    file, line, column = composition.provenance.locate(())
    message = f"too many entities: {total:,} ({biggest}); the limit is {MAX_ENTITIES:,}"
    hint = "split the world into smaller scenarios, or aggregate small plants and flows (docs/limits.md)"
    raise ScenarioError([Problem(file, line, column, (), message, hint)])


_PRUNE_ROUNDS: Final = 5
"""Rounds of :func:`_references_of_the_rest` (each removes what the previous validation refused)."""


def _prune(data: Any, path: KeyPath) -> KeyPath | None:
    """Delete the deepest mapping key on ``path`` present in ``data``; return its path (None: nothing to delete).

    A list item is never deleted (the items after it would shift, and their problems be
    located on the wrong line): the key holding the list goes. A key that is missing (a
    required field) takes its parent with it, down to the entity (``section.id``). A
    top-level key goes only when it is no section of the format (a misspelt ``polices:``,
    ``scenario_notes:``): nothing else refers to it. A known section refused whole
    (``policies: 5``, ``scenario`` itself) is never deleted (the rest names its entities):
    None.

    Examples
    --------
    >>> data = {"scenario": {"name": "x"}, "polices": {"a": 1}, "policies": 5}
    >>> _prune(data, ("polices",)), _prune(data, ("policies",)), sorted(data)
    (('polices',), None, ['policies', 'scenario'])
    """
    node, target = data, None
    for i, part in enumerate(path):
        if isinstance(node, dict) and part in node:
            target = (node, path[: i + 1])
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
    if target is None or (len(target[1]) < 2 and target[1][0] in Scenario.model_fields):
        return None
    container, where = target
    del container[where[-1]]
    return where


def _references_of_the_rest(composition: Composition, problems: Sequence[Problem], require_sources: bool,
                            warnings: list[Problem] | None = None) -> list[Problem]:
    """Run the reference rules on what passed the schema, so that one pass reports every problem.

    The keys the schema refused are removed from a copy of the data (:func:`_prune`; an entity
    with a missing or refused required key is removed whole) and the copy is validated again,
    up to :data:`_PRUNE_ROUNDS` times. The reference problems of the rest are returned (and its
    warnings added to ``warnings``), except those under a removed key and those naming a removed
    entity (a toggle that controls a policy removed here is not wrong). Empty when the rest
    never validates.
    """
    data = copy.deepcopy(composition.data)
    removed: list[KeyPath] = []
    paths = [p.path for p in problems]
    for _ in range(_PRUNE_ROUNDS):
        for path in paths:
            # its entity (``section.id``) or its unknown section is gone already
            if any(path[: len(cut)] == cut for cut in removed if len(cut) <= 2):
                continue
            gone = _prune(data, path)
            if gone is None:
                return []
            removed.append(gone)
        try:
            rest = Scenario.model_validate(data)
        except ValidationError as exc:
            paths = [p.path for p in problems_from_validation(exc, data, composition.provenance)]
            continue
        rest._provenance = composition.provenance
        if warnings is not None:
            warnings.extend(_outside(check_warnings(rest), removed))
        return _outside(check_references(rest, require_sources=require_sources), removed)
    return []


def _outside(found: Iterable[Problem], removed: Sequence[KeyPath]) -> list[Problem]:
    """Keep the problems of ``found`` not under a removed key and not naming a removed entity (``section.id``)."""
    entities = {f"'{where[1]}'" for where in removed if len(where) == 2}
    return [p for p in found if not any(p.path[: len(where)] == where for where in removed)
            and not any(e in p.message for e in entities)]


def _validate(composition: Composition, require_sources: bool, warnings: list[Problem] | None = None) -> Scenario:
    """Validate composed data: the schema, then the reference rules (on the rest when the schema refused part).

    ``warnings``, when given, receives the warnings (:func:`check_warnings`): a valid file's, and
    those of a file that fails (of what passed the schema), so that ``validate`` lists them in the
    same pass as its problems.
    """
    _check_size(composition)
    try:
        scenario = Scenario.model_validate(composition.data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, composition.data, composition.provenance)
        rest = _references_of_the_rest(composition, problems, require_sources, warnings)
        raise ScenarioError([*problems, *rest]) from None
    scenario._provenance = composition.provenance
    problems = check_references(scenario, require_sources=require_sources)
    if warnings is not None:
        warnings.extend(sort_problems([*check_warnings(scenario), *check_bare_year_ends(scenario, composition.data)]))
    if problems:
        raise ScenarioError(problems)
    return scenario


def load(path: str | Path, *, require_sources: bool = False, root: str | Path | None = None,
         extra_roots: Iterable[str | os.PathLike[str]] = (), warnings: list[Problem] | None = None) -> Scenario:
    """Load a scenario file, with the bases it extends.

    Parameters
    ----------
    path : str or Path
        The scenario file. Problems name it as given. ``"bundled:NAME"`` loads a scenario
        that ships with supplychain (``bundled:china_full_ban_2025``; the bundled world of
        :func:`~supplychain.io.roots.bundled_root`, as ``extends`` reads it), wherever it is
        installed. YAML text is read by :func:`load_text`.
    require_sources : bool, optional
        Also require a ``source`` or ``assumption`` on every figure written.
    root : str or Path, optional
        Folder every ``extends`` base must lie in (default: one level above the
        file's folder; see :mod:`supplychain.io.compose`). The bundled world
        (``extends: [bundled:baseline_2024]``) is always allowed.
    extra_roots : iterable of path, optional
        Further folders bases may lie in (``--path DIR``), besides those of the
        ``SUPPLYCHAIN_PATH`` environment variable (:mod:`supplychain.io.roots`).
    warnings : list of Problem, optional
        Receives the file's warnings, located (:func:`~supplychain.schema.references.check_warnings`:
        allowed, probably not meant, e.g. a policy never in force in the scenario's years), sorted;
        a file that fails leaves there those of what passed the schema. What ``validate`` prints
        with ``warn`` and ``run``, ``compare`` and ``report`` print on stderr.

    Returns
    -------
    Scenario
        Validated, frozen; its provenance is kept for :func:`problem_at` and
        :func:`applied_overrides`.

    Raises
    ------
    ScenarioError
        Listing every problem in every file, each with file:line:column; a string that is
        no file but reads as YAML text points to :func:`load_text`.
    TypeError
        ``path`` is a mapping (give it to :func:`load_text`) or not a path at all.

    Examples
    --------
    >>> s = load("tests/data/minimal/child.yaml")
    >>> s.scenario.name
    'Minimal child'
    >>> load("bundled:china_full_ban_2025").scenario.base_year
    2024
    """
    if isinstance(path, Mapping):
        msg = ("load reads a scenario file; a scenario written as a dict is loaded by "
               "supplychain.load_text(d) (it takes a mapping as well as YAML text)")
        raise TypeError(msg)
    if not isinstance(path, str | os.PathLike):
        msg = f"load reads a scenario file: give its path (str or pathlib.Path), not {type(path).__name__}"
        raise TypeError(msg)
    roots = tuple(_extra_roots(extra_roots))
    if isinstance(path, str) and path.startswith(BUNDLED_PREFIX):
        name, hint = bundled_name(path)
        if name is None:
            raise ScenarioError([Problem(path, 0, 0, (), "is not a scenario of the bundled world", hint)])
        home = bundled_root()
        shown = BUNDLED_PREFIX + name
        return _validate(compose_file(home / name, display_name=shown, root=home if root is None else root,
                                      extra_roots=roots), require_sources, warnings)
    if isinstance(path, str) and _looks_like_text(path):
        first = path.strip().splitlines()[0] if path.strip() else path
        shown = first if len(first) <= 40 else first[:39] + "…"
        raise ScenarioError([Problem(shown, 0, 0, (), "is YAML text, not the path of a file",
                                     "load YAML text with supplychain.load_text(text)")])
    return _validate(compose_file(path, root=root, extra_roots=roots), require_sources, warnings)


def _looks_like_text(path: str) -> bool:
    """Whether a string given as a path is no file but reads as YAML text (a line break, or ``key: value``).

    Examples
    --------
    >>> _looks_like_text("scenario: {name: x}"), _looks_like_text("scenarios/path_to_2030.yaml")
    (True, False)
    """
    if "\n" not in path and ": " not in path:
        return False
    try:
        return not Path(path).exists()
    except (OSError, ValueError):  # a name too long for the file system, a NUL
        return True


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
    if isinstance(scenario, Mapping):
        msg += "; a scenario written as a dict is loaded by supplychain.load_text(d)"
    raise TypeError(msg)


def load_text(
    text: str | Mapping[str, Any], file: str = "<string>", *, require_sources: bool = False,
    base_dir: str | Path | None = None,
) -> Scenario:
    """Load a scenario from YAML text (never a path), or from a mapping of plain values.

    Parameters
    ----------
    text : str or mapping
        YAML source; or the scenario as a ``dict`` (of dicts, lists, strings and numbers, as
        YAML would read it: it is written as YAML and read back, so it is checked the same way,
        its problems located at its keys). NumPy numbers (a dict built from a DataFrame) are
        read as numbers; a value YAML cannot write is refused at its key path.
    file : str, optional
        Name used in problems (``<dict>`` for a mapping unless given).
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
    >>> load_text({"scenario": {"name": "Tiny", "base_year": 2024, "horizon": 2025}}).years
    [2024, 2025]
    """
    if isinstance(text, Mapping):
        import yaml

        file = "<dict>" if file == "<string>" else file
        try:
            text = yaml.safe_dump(_plain(text, file, ()), sort_keys=False, allow_unicode=True)
        except yaml.YAMLError as err:  # a plain type's subclass (pandas Timestamp): safe_dump wants exact types
            hint = "give plain values: dicts, lists, strings, numbers, booleans, dates"
            raise ScenarioError([Problem(file, 0, 0, (), f"cannot be written as YAML: {err}", hint)]) from None
    doc = parse_yaml_text(text, file=file)
    return _validate(compose_document(doc, folder=base_dir, extra_roots=tuple(_extra_roots())), require_sources)


_PLAIN: Final = (str, int, float, bool, dt.date, type(None))
"""The scalars YAML writes as they are (``datetime`` is a ``date``)."""


def _plain(value: Any, file: str, path: KeyPath) -> Any:
    """``value`` (a scenario given as a mapping) with NumPy scalars and arrays as plain numbers and lists.

    A dict built from a DataFrame holds ``numpy.int64``/``float64``: they ARE numbers, so they are
    read as such (``.item()``), tuples as lists. Anything else YAML cannot write is refused at its
    key path (of hundreds of values, the one that is wrong).

    Examples
    --------
    >>> import numpy as np
    >>> _plain({"scenario": {"base_year": np.int64(2024)}, "years": (np.float64(1.5),)}, "<dict>", ())
    {'scenario': {'base_year': 2024}, 'years': [1.5]}
    >>> _plain({"facilities": {"a": {"capacity": {1, 2}}}}, "<dict>", ())
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    <dict>: facilities.a.capacity: cannot be written as YAML: {1, 2} (set)
        hint: give plain values: dicts, lists, strings, numbers, booleans, dates
    """
    import numpy as np

    if isinstance(value, np.generic | np.ndarray):
        value = value.tolist()  # a NumPy scalar's .tolist() is its .item()
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = _plain(k, file, path) if isinstance(k, (np.generic, *_PLAIN)) else _unwritable(k, file, path)
            out[key] = _plain(v, file, (*path, str(key)))
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, file, (*path, i)) for i, v in enumerate(value)]
    return _unwritable(value, file, path)


def _unwritable(value: Any, file: str, path: KeyPath) -> Any:
    """Raise the problem of a value (or key) at ``path`` YAML cannot write (:func:`_plain`)."""
    hint = "give plain values: dicts, lists, strings, numbers, booleans, dates"
    raise ScenarioError([Problem(file, 0, 0, path, f"cannot be written as YAML: {value!r} ({type(value).__name__})",
                                 hint)])


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
        Why the file was not validated (a fragment without ``scenario:``, a
        named pipe, a dangling symbolic link), else "".
    warnings : list of Problem
        Things that are allowed but probably not meant (ids that differ only by
        case or ``-``/``_``), located; they do not make the file invalid.
    """

    file: str
    scenario: Scenario | None = None
    error: ScenarioError | None = None
    skipped: str = ""
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True unless the file has problems (skipped files are fine)."""
        return self.error is None


def _scenario_files(folder: Path) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` entry below ``folder`` that is not a folder (links to folders not followed)."""
    found: list[Path] = []
    for root, _dirs, files in os.walk(folder):
        found.extend(Path(root) / name for name in files if Path(name).suffix in (".yaml", ".yml"))
    return sorted(found)


def _not_regular(path: Path) -> str:
    """Why ``path`` is skipped in a folder (a named pipe, a dangling link …), or "" for a regular file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a dangling symbolic link (its target does not exist)"
    except OSError as err:
        return f"cannot be read: {err.strerror or err}"
    if stat.S_ISREG(mode):
        return ""
    return f"not a regular file ({file_kind(mode)})"


def _validate_found(file: Path, display: str, require_sources: bool, root: str | Path | None,
                    roots: tuple[Path, ...], parsed: dict[tuple[Path, str], YamlDocument],
                    warnings: list[Problem]) -> FileReport:
    doc = read_parsed(file.resolve(), display, parsed)
    if not isinstance(doc.data, dict) or "scenario" not in doc.data:
        return FileReport(display, skipped=FRAGMENT)
    composition = compose_document(doc, folder=file.parent, root=root, top_level=file, extra_roots=roots,
                                   parsed=parsed)
    return FileReport(display, scenario=_validate(composition, require_sources, warnings))


def _one(target: Path, display: str, explicit: bool, require_sources: bool, root: str | Path | None,
         roots: tuple[Path, ...], parsed: dict[tuple[Path, str], YamlDocument]) -> FileReport:
    warnings: list[Problem] = []  # a valid file's and a failing one's (load's)
    try:
        if explicit:
            scenario = load(target, require_sources=require_sources, root=root, extra_roots=roots, warnings=warnings)
            report = FileReport(display, scenario=scenario)
        else:
            report = _validate_found(target, display, require_sources, root, roots, parsed, warnings)
        return _checked(report, warnings)
    except ScenarioError as err:
        return FileReport(display, error=err, warnings=sort_problems(warnings))
    except OSError as err:
        problem = Problem(display, 0, 0, (), f"cannot read: {err.strerror or err}", "check the path and permissions")
        return FileReport(display, error=ScenarioError([problem]))


def _checked(report: FileReport, warnings: list[Problem]) -> FileReport:
    """Add what needs the whole network (closed trade loops, an error) and the ``warnings`` to a valid file's report."""
    if report.scenario is None:
        return report
    from supplychain.engine.check import network_problems  # the engine is a later stage: imported on use

    loops = network_problems(report.scenario)
    if loops:
        return FileReport(report.file, error=ScenarioError(loops))
    return FileReport(report.file, scenario=report.scenario, warnings=sort_problems(warnings))


def validate_paths(
    paths: Iterable[str | Path] | str | Path, *, require_sources: bool = False, root: str | Path | None = None,
    extra_roots: Iterable[str | os.PathLike[str]] = (),
) -> list[FileReport]:
    """Validate scenario files and folders, one report per file.

    Named files are always validated. Folders are searched recursively for
    ``*.yaml``/``*.yml``; a file found there without a top-level ``scenario:``
    key is a base fragment and reported as skipped, as is an entry that is not
    a regular file (a named pipe, a dangling symbolic link). A valid scenario's
    network is checked too: a closed trade loop is an error located at the flows
    that form it (:func:`supplychain.engine.check.network_problems`).

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
    parsed: dict[tuple[Path, str], YamlDocument] = {}  # a base shared by the scenarios found is read once
    for item in items:
        target = Path(item)
        if not target.is_dir():
            reports.append(_one(target, os.fspath(item), True, require_sources, root, roots, parsed))
            continue
        found = _scenario_files(target)
        if not found:
            problem = Problem(os.fspath(item), 0, 0, (), "no .yaml files in this folder", "check the path")
            reports.append(FileReport(os.fspath(item), error=ScenarioError([problem])))
        for file in found:
            display = os.fspath(Path(item) / file.relative_to(target))
            why = _not_regular(file)
            reports.append(FileReport(display, skipped=why) if why else _one(file, display, False, require_sources,
                                                                             root, roots, parsed))  # fmt: skip
    return _with_shared_warnings(reports)


def _with_shared_warnings(reports: list[FileReport]) -> list[FileReport]:
    """Add to the report of each base file validated its dated measures no scenario here has in force.

    :func:`~supplychain.schema.references.shared_years_in_force` over the valid scenarios: each warning is
    located in a file the scenarios extend and goes to that file's report (a base fragment's, counted as
    skipped), once; a base file not among the files validated gets none (its scenarios leave it out by their
    years: :func:`~supplychain.schema.references.check_years_in_force`).
    """
    from supplychain.schema.references import shared_years_in_force

    found = shared_years_in_force([r.scenario for r in reports if r.scenario is not None])
    if not found:
        return reports

    by_file: dict[Path, list[Problem]] = {}
    for problem in found:
        by_file.setdefault(Path(problem.file).resolve(), []).append(problem)
    out = []
    for r in reports:
        shared = by_file.get(Path(r.file).resolve())
        out.append(r if shared is None else replace(r, warnings=sort_problems([*r.warnings, *shared])))
    return out
