"""The JSON Schema (draft 2020-12) of scenario files, for editors and other tools.

Generated from the pydantic models, then adjusted so that it accepts exactly
the YAML forms the loader accepts:

* a quantity is a bare number *or* a ``{value, source, …}`` mapping;
* a boolean field also takes ``on``/``off``/``yes``/``no``;
* a date is ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (text or a bare year);
* entity mappings reject ids that do not match the id pattern;
* year-keyed mappings (``production``, ``by_year``) take four-digit keys;
* a unit-neutral key (``quantity``) may be written by its older tonnes-name
  (``tonnes``), never both (``supplychain.schema.units``);
* a file that ``extends`` bases, or a fragment without ``scenario:``, is
  checked against relaxed ``Partial*`` definitions: its required keys may come
  from the files it is merged with.

Cross-reference rules (``source:`` ids declared, countries known …) are not
expressible in JSON Schema; ``supplychain validate`` checks them.

The committed copy is ``schema/scenario.schema.json``; regenerate it with
``supplychain schema --output schema/scenario.schema.json``. Point an editor at
it with a first line such as::

    # yaml-language-server: $schema=../schema/scenario.schema.json
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from pydantic import BaseModel

from supplychain.schema import model as _model
from supplychain.schema.model import Scenario
from supplychain.schema.types import t_named_keys

__all__ = ["SCHEMA_ID", "scenario_field_tables", "scenario_json_schema", "scenario_json_schema_text"]

SCHEMA_ID: Final = "urn:supplychain:schema:scenario:v1"
"""``$id`` of the scenario schema (a name, not a download location)."""

_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
_FLAG_WORDS: Final = sorted(
    {w for base in ("on", "off", "yes", "no", "y", "n", "true", "false") for w in (base, base.title(), base.upper())}
)
_DATE_PATTERN: Final = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
_YEAR_PATTERN: Final = r"^[0-9]{4}$"
_DOC_KEYS: Final = ("title", "description", "default")
_NAMED: Final = ("properties", "patternProperties", "$defs")
_SINGLE: Final = ("items", "additionalProperties")
_LISTED: Final = ("anyOf", "oneOf", "allOf", "prefixItems")
_DEFS: Final = "#/$defs/"
_PARTIAL: Final = "Partial"


def _docs(node: dict[str, Any]) -> dict[str, Any]:
    return {k: node[k] for k in _DOC_KEYS if k in node}


def _flag(node: dict[str, Any]) -> dict[str, Any]:
    words = {"type": "string", "enum": _FLAG_WORDS}
    return {**_docs(node), "anyOf": [{"type": "boolean"}, words]}


def _date(node: dict[str, Any]) -> dict[str, Any]:
    text = {"type": "string", "pattern": _DATE_PATTERN}
    year = {"type": "integer", "minimum": 1900, "maximum": 2200}
    return {**_docs(node), "anyOf": [text, year]}


def _map(node: Any, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """Apply `fn` to every subschema of `node`, innermost first (returns new objects)."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _NAMED:
        if key in out:
            out[key] = {name: _map(sub, fn) for name, sub in out[key].items()}
    for key in _SINGLE:
        if isinstance(out.get(key), dict):
            out[key] = _map(out[key], fn)
    for key in _LISTED:
        if key in out:
            out[key] = [_map(sub, fn) for sub in out[key]]
    return fn(out)


def _adjust(node: dict[str, Any]) -> dict[str, Any]:
    """Accept what the loader accepts: flags, short dates; reject bad keys."""
    if node.get("type") == "boolean":
        return _flag(node)
    if node.get("format") == "date" and node.get("type") == "string":
        return _date(node)
    if "patternProperties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    elif isinstance(node.get("additionalProperties"), dict) and "properties" not in node:
        node["propertyNames"] = {"pattern": _YEAR_PATTERN}  # dict[YearKey, ...]: the only other mappings
    return node


def _partial(node: dict[str, Any]) -> dict[str, Any]:
    """Relax a subschema for a file that ``extends`` bases (values may come from them)."""
    node.pop("required", None)
    node.pop("discriminator", None)
    if "oneOf" in node:  # without required `type`, several policy types may match
        node["anyOf"] = node.pop("oneOf")
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFS):
        node["$ref"] = _DEFS + _PARTIAL + ref.removeprefix(_DEFS)
    if "patternProperties" in node:  # `null` deletes an inherited entry
        node["patternProperties"] = {k: {"anyOf": [v, {"type": "null"}]} for k, v in node["patternProperties"].items()}
    return node


def _renamed(name: str, definition: dict[str, Any]) -> dict[str, Any]:
    """Accept the older tonnes-named key of each unit-neutral key (``tonnes`` for ``quantity``), not both."""
    cls = getattr(_model, name, None)
    pairs = t_named_keys(cls) if isinstance(cls, type) and issubclass(cls, BaseModel) else {}
    props = definition.get("properties", {})
    pairs = {old: new for old, new in pairs.items() if new in props}
    if not pairs:
        return definition
    out = dict(definition)
    out["properties"] = {}
    required = list(out.get("required", []))
    either = []
    older_of = {new: old for old, new in pairs.items()}
    for key, sub in props.items():  # the older key right after its unit-neutral one
        out["properties"][key] = sub
        if key in older_of:
            body = {k: v for k, v in sub.items() if k != "description"}
            older = f"Older name of `{key}`, for commodities measured in t (give one of the two)."
            out["properties"][older_of[key]] = {**body, "description": older}
    for old, new in pairs.items():
        if new in required:
            required.remove(new)
            either.append({"anyOf": [{"required": [new]}, {"required": [old]}]})
    if required:
        out["required"] = required
    else:
        out.pop("required", None)
    if either:
        out["allOf"] = either
    both = [{"required": [new, old]} for old, new in pairs.items()]
    out["not"] = both[0] if len(both) == 1 else {"anyOf": both}
    return out


def _quantity(definition: dict[str, Any]) -> dict[str, Any]:
    mapping = {k: v for k, v in definition.items() if k not in ("title", "description")}
    bare = {"type": "number", "description": "A bare number (uncited: refused by --require-sources)."}
    return {**_docs(definition), "anyOf": [bare, mapping]}


def scenario_json_schema() -> dict[str, Any]:
    """Build the JSON Schema of a scenario file.

    A complete scenario (a ``scenario:`` section and no ``extends``) is checked
    against the full definitions. A file that extends bases, or a fragment
    without ``scenario:`` that others extend, is checked against relaxed
    ``Partial*`` definitions (no required keys; ``null`` allowed for entities):
    the rest comes from the files it is merged with.

    Returns
    -------
    dict
        A draft 2020-12 schema with ``$schema``, ``$id``, ``title`` and
        ``$defs`` holding every model in a full and a partial form.

    Examples
    --------
    >>> schema = scenario_json_schema()
    >>> schema["$id"], sorted(schema["$defs"]["Quantity"])
    ('urn:supplychain:schema:scenario:v1', ['anyOf', 'description', 'title'])
    >>> schema["then"], schema["else"]
    ({'$ref': '#/$defs/Scenario'}, {'$ref': '#/$defs/PartialScenario'})
    """
    raw = Scenario.model_json_schema()
    full: dict[str, Any] = _map(raw, _adjust)
    defs = full.pop("$defs")
    defs = {name: _renamed(name, d) for name, d in defs.items()}
    defs["Quantity"] = _quantity(defs["Quantity"])
    defs["Scenario"] = full
    defs.update({_PARTIAL + name: _map(d, _partial) for name, d in list(defs.items())})
    extends = {"required": ["extends"], "properties": {"extends": {"type": "array", "minItems": 1}}}
    complete = {"allOf": [{"required": ["scenario"]}, {"not": extends}]}
    return {
        "$schema": _DIALECT,
        "$id": SCHEMA_ID,
        "title": "supplychain scenario (language v1)",
        "description": raw.get("description", ""),
        "type": "object",
        "if": complete,
        "then": {"$ref": f"{_DEFS}Scenario"},
        "else": {"$ref": f"{_DEFS}{_PARTIAL}Scenario"},
        "$defs": dict(sorted(defs.items())),
    }


def scenario_json_schema_text() -> str:
    """Return :func:`scenario_json_schema` as indented JSON text ending in a newline."""
    return json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------ field reference
_ORDER: Final = (
    "Scenario", "ScenarioMeta", "Response", "Source", "CountryInfo", "Region", "Group", "Commodity", "Process",
    "Facility", "Owner", "CapacityStep", "Flow", "ImportSources", "Demand", "Stockpile", "Selector", "Destinations",
    "ExportBan", "ExportLicensing", "ExportQuota", "ExportTax", "Tariff", "ImportBan", "Agreement", "Offtake",
    "Investment", "InvestmentProject", "Toggle", "Variant", "Target", "Quantity",
)  # fmt: skip


def _type_text(node: dict[str, Any]) -> str:
    """Render a (full, adjusted) subschema as a short type name for the docs."""
    if "$ref" in node:
        name = str(node["$ref"]).removeprefix(_DEFS)
        return "quantity" if name == "Quantity" else f"[{name}](#{name.lower()})"
    if "anyOf" in node:
        parts = [_type_text(p) for p in node["anyOf"] if p.get("type") != "null"]
        if [p.get("type") for p in node["anyOf"]][:1] == ["boolean"]:
            return "boolean (or on/off, yes/no)"
        if any(p.get("pattern") == _DATE_PATTERN for p in node["anyOf"]):
            return "date (YYYY-MM-DD, YYYY-MM or YYYY)"
        return " or ".join(dict.fromkeys(parts))
    if "oneOf" in node:
        return "policy (one of the types below, by `type`)"
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type_text(node.get('items', {}))}"
    if kind == "object":
        patterns = node.get("patternProperties", {})
        value = next(iter(patterns.values()), node.get("additionalProperties", {}))
        key = "year" if "propertyNames" in node else _KEY_NAMES.get(next(iter(patterns), ""), "key")
        return f"mapping {key} → {_type_text(value if isinstance(value, dict) else {})}"
    if kind == "string" and "pattern" in node:
        return _KEY_NAMES.get(str(node["pattern"]), "text")
    return {"integer": "integer", "number": "number", "string": "text"}.get(str(kind), "any")


_KEY_NAMES: Final = {
    r"^[A-Za-z][A-Za-z0-9_\-]{0,79}$": "id",
    r"^[A-Z][A-Z0-9_]{1,15}$": "country code",
    r"^[A-Z][a-z]?$": "element symbol",
    _model._CONTROL_PATTERN: "id or section.id",
}


def _need(key: str, sub: dict[str, Any], required: set[str]) -> str:
    if key in required:
        return "**required**"
    if str(sub.get("description", "")).startswith("Older name of `"):
        return "optional"
    if sub.get("default") is None:
        return "optional"
    return f"`{json.dumps(sub['default'], ensure_ascii=False)}`"


def _table(name: str, definition: dict[str, Any]) -> list[str]:
    either = [part["anyOf"][0]["required"][0] for part in definition.get("allOf", []) if "anyOf" in part]
    required = set(definition.get("required", [])) | set(either)
    lines = [f"### {name}", "", str(definition.get("description", "")).split("\n\n")[0].replace("\n", " "), ""]
    if name == "Quantity":
        definition = definition["anyOf"][1]
        lines += ["A bare number, or a mapping with these keys:", ""]
    lines += ["| key | type | required / default | meaning |", "|---|---|---|---|"]
    for key, sub in definition.get("properties", {}).items():
        need = _need(key, sub, required)
        meaning = str(sub.get("description", "")).replace("\n", " ").replace("|", "\\|")
        lines.append(f"| `{key}` | {_type_text(sub)} | {need} | {meaning} |")
    return [*lines, ""]


def scenario_field_tables() -> str:
    """Return the Markdown field reference of every section, generated from the model docstrings.

    ``docs/scenario-format.md`` embeds this text between ``<!-- fields:begin -->``
    and ``<!-- fields:end -->``; a test checks it is current.

    Returns
    -------
    str
        One ``###`` heading and table per model.
    """
    defs = scenario_json_schema()["$defs"]
    return "\n".join(line for name in _ORDER for line in _table(name, defs[name]))
