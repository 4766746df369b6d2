"""Round trips and the JSON Schema.

* Any valid scenario, dumped to YAML with ``yaml.safe_dump`` and loaded back, is
  equal to itself (hypothesis).
* The JSON Schema accepts every shipped scenario file, and the committed copy
  ``schema/scenario.schema.json`` is what ``supplychain schema`` prints.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplychain.errors import ScenarioError
from supplychain.io import load, load_text
from supplychain.io.yamlsafe import parse_yaml_text, read_yaml_file
from supplychain.schema.jsonschema import scenario_field_tables, scenario_json_schema
from supplychain.schema.model import Scenario
from supplychain.schema.types import ISO_COUNTRIES

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted({*REPO.glob("scenarios/**/*.yaml"), *REPO.glob("tests/data/**/*.yaml")})

# Text that YAML 1.1 (what yaml.safe_dump writes for) takes as plain text but our
# YAML 1.2-style reader takes as a number (1e5, 1.5e3) or refuses as NaN/infinity
# (nan, inf, Infinity). safe_dump does not quote it, so it cannot round-trip; the
# reader refuses it loudly rather than changing it (see test_number_like_text_is_refused).
YAML12_ONLY_NUMBER = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?\.?(?:nan|inf|infinity)", re.IGNORECASE
)
TRICKY = ["NO", "no", "on", "Off", "y", "017", "0x1F", "0o17", "1_000", "1:30", "2025-09-01", "~", "null", "True",
          "- x", "a: b", "#x", " pad ", "'q'", '"dq"', "%x", "@x", "!x", "&x", "*x", "?", "<<", "---", "...",
          "🦖 Dy", "東京", "Ñandú", "\u2028", "tab\there", "x\ny"]  # fmt: skip

ids = st.from_regex(r"[a-z][a-z0-9_\-]{0,11}", fullmatch=True) | st.sampled_from(["on", "no", "off", "yes", "y", "e5"])
countries = st.sampled_from(sorted(ISO_COUNTRIES))
years = st.integers(1950, 2150)
# U+0085 (NEL) is a line break to PyYAML; safe_dump writes it raw in single quotes and it reads back as a space.
characters = st.characters(exclude_categories=("Cs",), exclude_characters="\x85")
text = (st.text(characters, min_size=1, max_size=12) | st.sampled_from(TRICKY)).filter(
    lambda s: not YAML12_ONLY_NUMBER.fullmatch(s)
)
ids = ids.filter(lambda s: not YAML12_ONLY_NUMBER.fullmatch(s))
finite = st.floats(allow_nan=False, allow_infinity=False)
special = st.sampled_from(
    [0.0, -0.0, 5e-324, 1e-300, 2.2250738585072014e-308, 1 / 3, 0.1, 1e16, 1.7976931348623157e308]
)
nonneg = (st.floats(min_value=0, allow_nan=False, allow_infinity=False) | special).map(abs)
share = st.floats(min_value=0, max_value=1) | st.sampled_from([0.0, 1.0, 5e-324, 1 - 1e-16])


def quantity(values: st.SearchStrategy[float], sources: list[str]) -> st.SearchStrategy[Any]:
    """A quantity: a bare number, cited, assumed, or a triangular distribution."""
    forms = [
        values,
        st.builds(lambda v, a: {"value": v, "assumption": a}, values, text.filter(lambda s: len(s) >= 3)),
        st.builds(lambda t: {"dist": "triangular", "low": min(t), "mode": sorted(t)[1], "high": max(t)},
                  st.tuples(values, values, values)),
    ]  # fmt: skip
    if sources:
        forms.append(st.builds(lambda v, s: {"value": v, "source": s}, values, st.sampled_from(sources)))
    return st.one_of(forms)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A referentially consistent scenario dict over the key models."""
    base_year = draw(years)
    recent = st.integers(base_year - 50, 2150)  # check_years: at most 50 years before the base year
    sources = draw(st.dictionaries(ids, st.fixed_dictionaries({"title": text}, optional={"year": years}), max_size=2))
    source_ids = list(sources)
    commodities = draw(st.dictionaries(ids, st.fixed_dictionaries(
        {"name": text, "stage": st.sampled_from(["ore", "oxide", "metal", "magnet", "product"])},
        optional={"basis": st.sampled_from(["t", "t REO", "kg Ga", "g", "Mt ore"]), "family": ids,
                  "elements": st.lists(st.sampled_from(["Nd", "Pr", "Dy", "Tb"]))},
    ), min_size=1, max_size=3))  # fmt: skip
    commodity = st.sampled_from(list(commodities))
    owner = st.fixed_dictionaries(
        {"name": text, "country": countries, "stake": quantity(share.map(lambda x: x / 3), [])}
    )
    facilities = draw(st.dictionaries(ids, st.fixed_dictionaries(
        {"name": text, "country": countries, "kind": st.just("mine"), "output": commodity},
        optional={"owners": st.lists(owner, max_size=3), "capacity": quantity(nonneg, source_ids),
                  "production": st.dictionaries(recent, quantity(nonneg, source_ids), max_size=2),
                  "commissioning_year": years, "utilisation": quantity(share, source_ids)},
    ), max_size=3))  # fmt: skip
    nodes = st.sampled_from(list(facilities)) | countries if facilities else countries
    flows = draw(st.dictionaries(ids, st.fixed_dictionaries(
        {"supplier": nodes, "buyer": countries, "commodity": commodity, "year": years,
         "tonnes": quantity(nonneg, source_ids)}), max_size=2))  # fmt: skip
    # growth above -1: a growth of -1 carried back before its entry's year is refused (references.check_years)
    demand = draw(st.dictionaries(ids, st.fixed_dictionaries(
        {"country": countries, "commodity": commodity, "year": recent,
         "tonnes": quantity(nonneg, source_ids)},
        optional={"by_year": st.dictionaries(recent, quantity(nonneg, source_ids), max_size=2),
                  "growth": quantity(st.floats(-1, 10, exclude_min=True), source_ids)}), max_size=2))  # fmt: skip
    start = st.dates(dt.date(1950, 1, 1), dt.date(2150, 12, 31))
    policies = draw(st.dictionaries(ids, st.fixed_dictionaries(
        {"type": st.just("export_ban"), "country": countries, "start": start.map(dt.date.isoformat)},
        optional={"name": text, "share_blocked": quantity(share, source_ids),
                  "covers": st.fixed_dictionaries({}, optional={"commodities": st.lists(commodity, max_size=2)})},
    ), max_size=2))  # fmt: skip
    toggles = {}
    if policies:
        # a policy id also used by a flow or facility must be written `policies.<id>` in `controls`
        names = [f"policies.{p}" if p in flows or p in facilities else p for p in policies]
        toggles = draw(st.dictionaries(ids, st.fixed_dictionaries(
            {"controls": st.lists(st.sampled_from(names), min_size=1, max_size=2)},
            optional={"default": st.booleans(), "description": text}), max_size=2))  # fmt: skip
    meta = {"name": draw(text), "base_year": base_year, "question": draw(text)}
    if draw(st.booleans()):
        meta["horizon"] = draw(st.integers(base_year, 2200))
    return {"scenario": meta, "sources": sources, "commodities": commodities, "facilities": facilities,
            "flows": flows, "demand": demand, "policies": policies, "toggles": toggles}  # fmt: skip


def dump(scenario: Scenario) -> str:
    data = scenario.model_dump(mode="json", exclude_none=True, by_alias=True)
    return yaml.safe_dump(data, allow_unicode=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_dump_and_load_is_identity(data: dict[str, Any]) -> None:
    scenario = Scenario.model_validate(data)
    assert load_text(dump(scenario), require_sources=False) == scenario


@pytest.mark.parametrize("word", ["1e5", "1.5e3", "-2E+7", "nan", "Inf", "infinity"])
def test_number_like_text_is_refused_loudly_not_changed(word: str, scenario_dict: Callable[..., Any]) -> None:
    data = scenario_dict()
    data["scenario"]["name"] = word
    with pytest.raises(ScenarioError, match=r"scenario\.name: (expected text|NaN and infinity)"):
        load_text(yaml.safe_dump(data, allow_unicode=True))


def test_extreme_floats_survive(scenario_dict: Callable[..., Any]) -> None:
    data = scenario_dict()
    data["facilities"]["mine"]["capacity"] = {"value": 1.7976931348623157e308, "source": "usgs"}
    data["flows"]["cn_us"]["tonnes"] = 5e-324
    scenario = Scenario.model_validate(data)
    assert load_text(dump(scenario)) == scenario


# ------------------------------------------------------------------ JSON Schema
def _json_compatible(value: Any) -> Any:
    """What an editor sees: every mapping key as text."""
    if isinstance(value, dict):
        return {str(k): _json_compatible(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_compatible(v) for v in value]
    return value


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(REPO)) for p in SHIPPED])
def test_json_schema_accepts_shipped_file(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    data = _json_compatible(read_yaml_file(path).data)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


SHIPPED_SCENARIOS = [
    p for p in SHIPPED if re.search(r"(?m)^scenario:", p.read_text(encoding="utf-8", errors="replace"))
]


@pytest.mark.parametrize("path", SHIPPED_SCENARIOS, ids=[str(p.relative_to(REPO)) for p in SHIPPED_SCENARIOS])
def test_shipped_scenario_loads_with_sources_required(path: Path) -> None:
    assert load(path, require_sources=True).scenario.name


def test_json_schema_rejects_what_the_loader_rejects(validator: jsonschema.Draft202012Validator) -> None:
    bad = {"scenario": {"name": "x", "base_year": 2024, "nme": 1}, "facilities": {"2nd": {}}, "extends": []}
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert len(messages) == 2
    assert any("'nme' was unexpected" in m for m in messages)
    assert any("'2nd' does not match" in m for m in messages)


def test_json_schema_relaxes_files_that_extend_and_fragments(validator: jsonschema.Draft202012Validator) -> None:
    child = {"extends": ["base.yaml"], "facilities": {"m": {"capacity": 5}, "old": None}, "policies": {"p": {}}}
    assert list(validator.iter_errors(child)) == []
    assert list(validator.iter_errors({**child, "facilities": {"m": {"capacty": 5}}}))
    fragment = {"commodities": {"ore": {"name": "Ore"}}}
    assert list(validator.iter_errors(fragment)) == []
    assert list(validator.iter_errors({**fragment, "scenaro": {}}))
    complete = {**fragment, "scenario": {"name": "x", "base_year": 2024}}
    assert [e.message for e in validator.iter_errors(complete)] == ["'stage' is a required property"]


def test_committed_schema_is_up_to_date(run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    committed = (REPO / "schema" / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == result.stdout, "regenerate: supplychain schema --output schema/scenario.schema.json"
    assert json.loads(committed)["$id"] == "urn:supplychain:schema:scenario:v1"


# ------------------------------------------------------------------ the docs
DOCS = REPO / "docs" / "scenario-format.md"


def test_docs_examples_load_and_match_the_schema(validator: jsonschema.Draft202012Validator) -> None:
    # each is also simulated (tests/test_docs_examples.py)
    blocks = re.findall(r"<!-- check: (?:simulate|folder [^>]*) -->\n```yaml\n(.*?)```",
                        DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 4
    complete = load_text(blocks[0], file="docs/scenario-format.md", require_sources=True)
    assert all(len(section) > 0 for section in (complete.policies, complete.agreements, complete.targets))
    for block in blocks:
        assert list(validator.iter_errors(_json_compatible(parse_yaml_text(block).data))) == []


def test_field_reference_links_only_its_own_sections() -> None:
    # Every `[Model](#model)` type link of the generated reference has a `### Model` table: on main the
    # Scenario table linked `[Response](#response)` (the `response:` key) with no Response section, so
    # `response.allocation` and its values were documented in prose only.
    text = scenario_field_tables()
    linked = set(re.findall(r"\]\(#([a-z0-9_-]+)\)", text))
    headings = {h.lower() for h in re.findall(r"^### (\w+)$", text, re.MULTILINE)}
    assert "response" in linked
    assert linked - headings == set()


def test_docs_field_reference_is_current() -> None:
    text = DOCS.read_text(encoding="utf-8")
    generated = text.split("<!-- fields:begin -->\n")[1].split("<!-- fields:end -->")[0]
    assert generated == scenario_field_tables(), "regenerate the field reference in docs/scenario-format.md"
