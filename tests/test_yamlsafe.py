"""Tests of the hardened YAML reader (supplychain.io.yamlsafe)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from supplychain.errors import Problem, ScenarioError
from supplychain.io import yamlsafe
from supplychain.io.yamlsafe import MAX_DEPTH, Mark, YamlDocument, parse_yaml_text, read_yaml_file

F = "s.yaml"


def fails(text: str, match: str) -> list[Problem]:
    """Parse `text`, expect a ScenarioError matching `match`, return its problems."""
    with pytest.raises(ScenarioError, match=match) as info:
        parse_yaml_text(text, file=F)
    return info.value.problems


def where(problems: list[Problem]) -> list[tuple[int, int]]:
    return [(p.line, p.column) for p in problems]


def value_of(scalar: str) -> Any:
    return parse_yaml_text(f"v: {scalar}\n").data["v"]


# --------------------------------------------------------------------------- 1. tags
def test_python_and_unknown_tags_are_refused() -> None:
    text = "a: !!python/object/apply:os.system ['echo hi']\nb: !custom 3\nc:\n  d: !!int 5\n"
    problems = fails(text, "tags are not allowed")
    assert where(problems) == [(1, 4), (2, 4), (4, 6)]
    assert [p.path for p in problems] == [("a",), ("b",), ("c", "d")]
    assert "!!python/object/apply:os.system" in problems[0].message
    assert all(p.file == F and p.hint for p in problems)


def test_str_tag_and_non_specific_tag_give_strings() -> None:
    assert parse_yaml_text("a: !!str 017\nb: ! 5\n").data == {"a": "017", "b": "5"}


def test_tag_on_a_collection_is_refused() -> None:
    problems = fails("a: !!set {x, y}\n", "tags are not allowed")
    assert where(problems) == [(1, 4)]


# --------------------------------------------------------------------------- 2. anchors, aliases, merge keys
def test_anchors_and_aliases_are_refused() -> None:
    text = "base: &b\n  x: 1\nother: *b\nlist:\n  - *b\n"
    problems = fails(text, re.escape("YAML anchors and aliases are not supported; write the value out"))
    assert where(problems) == [(1, 7), (3, 8), (5, 5)]
    assert [p.path for p in problems] == [("base",), ("other",), ("list", 0)]


def test_merge_key_is_refused() -> None:
    problems = fails("a:\n  x: 1\nb:\n  <<: {x: 1}\n  y: 2\n", re.escape("merge keys (<<) are not supported"))
    assert where(problems) == [(4, 3)]


def test_alias_as_key_is_reported_once() -> None:
    problems = fails("a: &k x\n*k : 1\n", "anchors and aliases")
    assert where(problems) == [(1, 4), (2, 1)]


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    problems = fails("\n".join(lines) + "\n", "anchors and aliases")
    assert len(problems) == 9 + 8 * 9
    assert problems[0].line == 1


# --------------------------------------------------------------------------- 3. duplicate keys
def test_every_duplicate_key_is_reported_with_both_lines() -> None:
    text = "countries:\n  CN: 1\n  US: 2\n  CN: 3\nyears:\n  2024: 1\n  2024: 2\ncountries: {}\n"
    problems = fails(text, re.escape("duplicate key 'CN' (first defined at line 2)"))
    assert [p.message for p in problems] == [
        "duplicate key 'CN' (first defined at line 2)",
        "duplicate key 2024 (first defined at line 6)",
        "duplicate key 'countries' (first defined at line 1)",
    ]
    assert where(problems) == [(4, 3), (7, 3), (8, 1)]
    assert problems[0].path == ("countries", "CN")


def test_quoted_and_plain_int_keys_are_different_keys() -> None:
    assert parse_yaml_text("'2024': a\n2024: b\n").data == {"2024": "a", 2024: "b"}


# --------------------------------------------------------------------------- 4. YAML 1.1 surprises disarmed
@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False),
        ("NO", "NO"), ("no", "no"), ("yes", "yes"), ("on", "on"), ("Off", "Off"), ("y", "y"), ("n", "n"),
        ("tRue", "tRue"), ("null", None), ("Null", None), ("~", None), ("", None),
        ("0", 0), ("-0", 0), ("+7", 7), ("42", 42), ("-17", -17), ("017", "017"), ("-017", "-017"), ("00", "00"),
        ("0x1F", "0x1F"), ("0o17", "0o17"), ("0b101", "0b101"), ("1:30", "1:30"), ("1_000", "1_000"),
        ("2025-09-01", "2025-09-01"), ("2025-09-01T10:00:00Z", "2025-09-01T10:00:00Z"),
        ("1.5", 1.5), ("-.5", -0.5), ("1.", 1.0), ("1e3", 1000.0), ("2.5E-3", 0.0025), ("+1.0e+2", 100.0),
        (".", "."), ("-x", "-x"), ("1.2.3", "1.2.3"), ("e5", "e5"), ("nano", "nano"), ("information", "information"),
        ("'true'", "true"), ('"12"', "12"), ("'null'", "null"), ("'.nan'", ".nan"), ('""', ""),
    ],
)  # fmt: skip
def test_scalar_resolution(scalar: str, expected: Any) -> None:
    value = value_of(scalar)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("scalar", [".nan", ".NaN", "nan", "NAN", ".inf", "-.inf", "+.Inf", "inf", "-INF", "infinity"])
def test_nan_and_infinity_are_refused(scalar: str) -> None:
    problems = fails(f"a:\n  b: {scalar}\n", "NaN and infinity are not allowed")
    assert where(problems) == [(2, 6)]
    assert problems[0].path == ("a", "b")


def test_all_bad_scalars_are_reported_in_one_pass() -> None:
    problems = fails("a: .nan\nb: [1, .inf, -.inf]\nc: 1e999\nd: 1234567890123456789\n", "4|5 problems")
    assert where(problems) == [(1, 4), (2, 8), (2, 14), (3, 4), (4, 4)]
    assert [p.path for p in problems] == [("a",), ("b", 1), ("b", 2), ("c",), ("d",)]


# --------------------------------------------------------------------------- 5. over-long numbers
def test_integer_with_more_than_18_digits_is_refused() -> None:
    assert value_of("-999999999999999999") == -999_999_999_999_999_999
    problems = fails("x:\n  - 1000000000000000000\n", "integer too long")
    assert where(problems) == [(2, 5)]
    assert problems[0].path == ("x", 0)


def test_float_overflowing_to_infinity_is_refused() -> None:
    assert value_of("1.5e308") == 1.5e308
    problems = fails("cap: -2e308\n", re.escape("number too large (it would be infinity)"))
    assert where(problems) == [(1, 6)]


# --------------------------------------------------------------------------- 6. keys
def test_int_keys_stay_ints() -> None:
    doc = parse_yaml_text("years:\n  2024: 1.5\n  2025: 2\n")
    assert doc.data == {"years": {2024: 1.5, 2025: 2}}
    assert doc.marks[("years", 2025)] == Mark("<string>", 3, 3)


def test_bool_null_and_float_keys_are_refused() -> None:
    problems = fails("a:\n  true: 1\n  null: 2\n  1.5: 3\n  ~: 4\n", "keys must be names or years")
    assert where(problems) == [(2, 3), (3, 3), (4, 3), (5, 3)]
    assert all(p.path == ("a",) for p in problems)


def test_complex_keys_are_refused() -> None:
    problems = fails("a: 1\n[x, y]: 2\n? {k: v}\n: 3\n", "mapping keys must be plain names, not lists or mappings")
    assert where(problems) == [(2, 1), (3, 3)]


# --------------------------------------------------------------------------- 7. document shape
@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n   # and another\n", "---\n", "\ufeff"])
def test_empty_file(text: str) -> None:
    assert where(fails(text, "file is empty")) == [(1, 1)]


@pytest.mark.parametrize(("text", "pos"), [("- a\n- b\n", (1, 1)), ("# c\n  just text\n", (2, 3)), ("null\n", (1, 1))])
def test_top_level_must_be_a_mapping(text: str, pos: tuple[int, int]) -> None:
    assert where(fails(text, "top level must be a mapping of sections")) == [pos]


def test_text_is_never_taken_for_a_path() -> None:
    fails("scenarios/base.yaml", "top level must be a mapping")


def test_multiple_documents_are_refused() -> None:
    assert where(fails("a: 1\n---\nb: 2\n", "more than one YAML document")) == [(2, 1)]
    assert where(fails("---\na: 1\n...\n---\nb: 2\n", "more than one YAML document")) == [(4, 1)]
    assert parse_yaml_text("---\na: 1\n...\n").data == {"a": 1}


# --------------------------------------------------------------------------- 8. binary content, encodings
def read_fails(path: Path, match: str) -> list[Problem]:
    with pytest.raises(ScenarioError, match=match) as info:
        read_yaml_file(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return info.value.problems


@pytest.mark.parametrize(
    ("data", "pos"),
    [
        (b"a: 1\nb: \xff\xfe\n", (2, 4)),
        (b"a: 1\n\x00\x01\x02", (2, 1)),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", (1, 1)),
        ("name: Zürich\nb: ".encode() + b"\xe9t\xe9\n", (2, 4)),
        (b"\xef\xbb\xbfa: 1\nb: \x00", (2, 4)),
    ],
)
def test_binary_or_non_utf8_file_is_refused_with_position(tmp_path: Path, data: bytes, pos: tuple[int, int]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(data)
    assert where(read_fails(path, re.escape("not a text file (UTF-8 YAML expected)"))) == [pos]


def test_nul_in_text_is_refused() -> None:
    assert where(fails("a: 1\nb: x\x00y\n", re.escape("not a text file"))) == [(2, 5)]


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\nb: \xc3\xbc\n")
    doc = read_yaml_file(path)
    assert doc.data == {"a": 1, "b": "ü"}
    assert doc.marks[("a",)] == Mark(str(path), 1, 1)
    assert parse_yaml_text("\ufeffa: 1\n").marks[("a",)] == Mark("<string>", 1, 1)


def test_columns_count_characters_not_bytes() -> None:
    doc = parse_yaml_text("ü: {é: 1, x: 2}\n")
    assert doc.marks[("ü", "x")] == Mark("<string>", 1, 11)


# --------------------------------------------------------------------------- 9. size, depth, file errors
def test_file_larger_than_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: 1\n" * 100)
    monkeypatch.setattr(yamlsafe, "MAX_FILE_BYTES", 64)
    assert where(read_fails(path, "file is larger than")) == [(0, 0)]


def test_missing_file_directory_and_fifo(tmp_path: Path) -> None:
    assert where(read_fails(tmp_path / "nope.yaml", "file not found")) == [(0, 0)]
    read_fails(tmp_path, "is a directory, not a file")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        read_fails(tmp_path / "pipe", "not a regular file")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n")

    def deny(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)
    read_fails(path, "permission denied")


def test_display_name_is_used_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: .nan\n")
    with pytest.raises(ScenarioError, match=r"scenarios/x\.yaml:2:4: b: NaN") as info:
        read_yaml_file(path, display_name="scenarios/x.yaml")
    assert info.value.problems[0].file == "scenarios/x.yaml"
    path.write_text("a: 1\n")
    assert read_yaml_file(str(path), display_name="x").marks[("a",)] == Mark("x", 1, 1)


def nested(depth: int) -> str:
    """A top-level mapping holding `depth - 1` nested flow lists (so `depth` levels in all)."""
    return "a: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"


@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_nesting_depth_limit(loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if loader == "python":
        monkeypatch.setattr(yamlsafe, "_LOADER", yaml.SafeLoader)
    assert parse_yaml_text(nested(MAX_DEPTH)).data["a"] is not None
    problems = fails(nested(MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels")
    assert where(problems) == [(1, 4 + MAX_DEPTH - 1)]


@pytest.mark.parametrize("loader", ["libyaml", "python"])
@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_100000_nested_brackets_give_a_clean_error(loader: str, opener: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if loader == "python":
        monkeypatch.setattr(yamlsafe, "_LOADER", yaml.SafeLoader)
    closer = "]" if opener == "[" else "}"
    text = "x: " + opener * 100_000 + "1" + closer * 100_000 + "\n"
    problems = fails(text, "nested deeper than 64 levels")
    assert where(problems) == [(1, 4 + (MAX_DEPTH - 1) * len(opener))]


def test_deep_block_nesting_gives_a_clean_error() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(2000)) + "  " * 2000 + "v: 1\n"
    problems = fails(text, "nested deeper than 64 levels")
    assert where(problems) == [(MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)]


# --------------------------------------------------------------------------- 10. syntax errors
def test_syntax_error_is_located() -> None:
    problems = fails("a:\n  b: 1\n c: 2\n", "did not find expected key")
    assert where(problems) == [(3, 2)]
    assert problems[0].hint == "check indentation and quoting near here"


def test_unclosed_flow_list_and_quote() -> None:
    assert fails("a: [1, 2\nb: 3\n", "expected ',' or ']'")[0].line == 2
    assert fails("a: 'abc\n", "unexpected end of stream")[0].line == 2


def test_tab_indentation_is_a_located_syntax_error() -> None:
    assert where(fails("a:\n\tb: 1\n", "cannot start any token")) == [(2, 1)]


def test_problems_before_a_syntax_error_are_kept() -> None:
    problems = fails("a: 1\na: .nan\nb: [\n", "3 problems")
    assert [p.message.split(" (")[0] for p in problems[:2]] == ["duplicate key 'a'", "NaN and infinity are not allowed"]


# --------------------------------------------------------------------------- 11. control characters
def test_raw_control_characters_are_refused() -> None:
    problems = fails("a: x\x07y\nb:\n  - \x1b[0m\n  - 'q\x7f'\n", "raw control character U\\+0007 is not allowed")
    assert where(problems) == [(1, 5), (3, 5), (4, 7)]
    assert "escaped" in problems[0].hint


def test_escaped_control_characters_are_fine() -> None:
    assert parse_yaml_text('a: "x\\x07y\\ttab"\n').data == {"a": "x\x07y\ttab"}


# --------------------------------------------------------------------------- marks
MARKS_TEXT = """\
scenario:
  name: test
facilities:
  mp:
    capacity: 5
    owners:
      - owner: MP Materials
        stake: 1.0
      - {owner: X, stake: 0}
"""


def test_marks_point_at_keys_and_list_items() -> None:
    doc = parse_yaml_text(MARKS_TEXT, file="m.yaml")
    m = doc.marks
    assert m[()] == Mark("m.yaml", 1, 1)
    assert m[("facilities", "mp", "capacity")] == Mark("m.yaml", 5, 5)
    assert m[("facilities", "mp", "owners")] == Mark("m.yaml", 6, 5)
    assert m[("facilities", "mp", "owners", 0)] == Mark("m.yaml", 7, 9)
    assert m[("facilities", "mp", "owners", 0, "stake")] == Mark("m.yaml", 8, 9)
    assert m[("facilities", "mp", "owners", 1)] == Mark("m.yaml", 9, 9)
    assert m[("facilities", "mp", "owners", 1, "stake")] == Mark("m.yaml", 9, 20)
    assert len(m) == 13


def test_mark_for_uses_the_longest_known_prefix() -> None:
    doc = parse_yaml_text(MARKS_TEXT, file="m.yaml")
    assert doc.mark_for(("facilities", "mp", "capacity", "value")) == Mark("m.yaml", 5, 5)
    assert doc.mark_for(("facilities", "mp", "owners", 7, "stake")) == Mark("m.yaml", 6, 5)
    assert doc.mark_for(("nowhere",)) == Mark("m.yaml", 1, 1)
    assert YamlDocument({}, {}, "e.yaml").mark_for(("a",)) == Mark("e.yaml", 1, 1)


def test_data_is_insertion_ordered() -> None:
    assert list(parse_yaml_text("z: 1\na: 2\nm: 3\n").data) == ["z", "a", "m"]


# --------------------------------------------------------------------------- 12. performance
def scenario_like(n: int) -> str:
    parts = ["scenario:\n  name: big\n  year: 2024\nfacilities:\n"]
    parts.extend(
        f"  f{i}:\n    country: CN\n    stage: refining\n"
        f"    capacity: {{value: {i * 1.5}, unit: t, source: 'USGS 2024'}}\n"
        f"    owners:\n      - {{owner: o{i % 97}, stake: 0.51}}\n      - {{owner: p{i % 89}, stake: 0.49}}\n"
        f"    years: [2024, 2025, 2026]\n"
        for i in range(n)
    )
    return "".join(parts)


@pytest.mark.slow
def test_five_megabyte_file_keeps_every_mark() -> None:
    # Speed is measured in benchmarks/bench_yaml.py, not asserted here.
    text = scenario_like(24_000)
    assert len(text.encode()) > 5_000_000
    doc = parse_yaml_text(text)
    assert doc.data["facilities"]["f23999"]["owners"][1]["stake"] == 0.49
    assert doc.marks[("facilities", "f23999", "years", 2)].line == text.count("\n")


# --------------------------------------------------------------------------- properties
def key_paths(value: Any, path: tuple[str | int, ...] = ()) -> set[tuple[str | int, ...]]:
    paths = {path}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        paths |= key_paths(child, (*path, key))
    return paths


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (so 1 != 1.0 != True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def trees(leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[Any, Any]]:
    nodes = st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=25
    )
    return st.dictionaries(keys, nodes, min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(trees(st.text(max_size=30), st.text(max_size=12)))
def test_round_trip_of_quoted_strings(data: dict[str, Any]) -> None:
    doc = parse_yaml_text(yaml.safe_dump(data, default_style='"', sort_keys=False, allow_unicode=True))
    assert same(doc.data, data)
    assert set(doc.marks) == key_paths(data)


RESERVED = {"null", "true", "false", "nan", "inf", "infinity"}
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s not in RESERVED)
PLAIN_LEAVES = (
    NAMES
    | st.integers(-(10**18) + 1, 10**18 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.none()
)


@settings(max_examples=150, deadline=None)
@given(trees(PLAIN_LEAVES, NAMES | st.integers(1900, 2100)))
def test_round_trip_of_plain_scalars(data: dict[str | int, Any]) -> None:
    doc = parse_yaml_text(yaml.safe_dump(data, sort_keys=False))
    assert same(doc.data, data)
    assert set(doc.marks) == key_paths(data)
