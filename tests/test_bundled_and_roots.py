"""A researcher's scenario in their own folder: the bundled world by name, extra roots (issue 18, item 10)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from supplychain.errors import ScenarioError
from supplychain.io import load
from supplychain.io.roots import PATH_VARIABLE, bundled_root

REPO = Path(__file__).resolve().parent.parent
CHILD = "scenario:\n  name: Mine\n  horizon: 2025\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def messages(err: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [p.message for p in err.value.problems]


def test_a_scenario_anywhere_extends_the_bundled_world_by_name(tmp_path: Path) -> None:
    assert not tmp_path.resolve().is_relative_to(REPO)
    mine = write(tmp_path / "research" / "mine.yaml", "extends: [bundled:baseline_2024]\n" + CHILD)
    sc = load(mine)
    assert sc.scenario.name == "Mine"
    assert sc.scenario.base_year == 2024  # from the bundled file
    assert "mountain_pass_mine" in sc.facilities  # from the bundled world's own bases
    # a problem in a bundled file is located as bundled:<file>
    from supplychain.io import problem_at

    assert problem_at(sc, ("facilities", "mountain_pass_mine"), "x").file == "bundled:world/ree_mining.yaml"


@pytest.mark.parametrize(("entry", "message"), [
    ("bundled:../README", "'bundled:../README' is not a file of the bundled world"),
    ("bundled:/etc/passwd", "'bundled:/etc/passwd' is not a file of the bundled world"),
    ("bundled:baseline_2042", "'bundled:baseline_2042' is not a file of the bundled world"),
    ("../../outside.yaml", "extends path '../../outside.yaml' escapes the scenario folder tree"),
])  # fmt: skip
def test_traversal_and_unknown_names_are_refused(tmp_path: Path, entry: str, message: str) -> None:
    write(tmp_path / "outside.yaml", "regions: {ROW: {name: Rest}}\n")
    mine = write(tmp_path / "a" / "b" / "mine.yaml", f"extends: ['{entry}']\nscenario: {{name: x, base_year: 2024}}\n")
    with pytest.raises(ScenarioError) as err:
        load(mine)
    assert messages(err) == [message]


def test_an_unknown_bundled_name_lists_or_suggests(tmp_path: Path) -> None:
    mine = write(tmp_path / "mine.yaml", "extends: [bundled:baseline_2042]\nscenario: {name: x, base_year: 2024}\n")
    with pytest.raises(ScenarioError) as err:
        load(mine)
    assert err.value.problems[0].hint == "did you mean 'bundled:baseline_2024'?"  # in the form written (D-15)


def test_extra_roots_by_option_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = write(tmp_path / "shared" / "worlds" / "base.yaml",
                   "scenario: {name: Base, base_year: 2024}\nregions: {ROW: {name: Rest of world}}\n")
    mine = write(tmp_path / "me" / "project" / "mine.yaml", "extends: [../../shared/worlds/base.yaml]\n" + CHILD)
    monkeypatch.delenv(PATH_VARIABLE, raising=False)
    with pytest.raises(ScenarioError, match="escapes the scenario folder tree") as err:
        load(mine)
    assert "--path DIR" in err.value.problems[0].hint
    assert load(mine, extra_roots=[shared.parent]).regions["ROW"].name == "Rest of world"
    monkeypatch.setenv(PATH_VARIABLE, os.pathsep.join(["", str(shared.parent)]))
    assert load(mine).scenario.name == "Mine"
    proc = subprocess.run([sys.executable, "-m", "supplychain", "validate", mine, "--path", shared.parent],
                          capture_output=True, text=True, check=False, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != PATH_VARIABLE})
    assert proc.returncode == 0, proc.stderr


def test_symlinks_out_of_every_allowed_root_are_refused(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret" / "base.yaml",
                   "scenario: {name: S, base_year: 2024}\nregions: {ROW: {name: Rest}}\n")
    allowed = tmp_path / "allowed"
    link = allowed / "link.yaml"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    mine = write(tmp_path / "me" / "project" / "mine.yaml", "extends: [../../allowed/link.yaml]\n" + CHILD)
    with pytest.raises(ScenarioError, match="escapes the scenario folder tree"):
        load(mine, extra_roots=[allowed])
    assert load(mine, extra_roots=[allowed, secret.parent]).regions["ROW"].name == "Rest"


def test_the_bundled_world_ships_as_package_data_from_one_copy() -> None:
    # A checkout (and an editable install) reads the repository's scenarios/; a wheel installs the
    # same folder as supplychain/bundled/ through the package-dir mapping of pyproject.toml.
    assert bundled_root() == (REPO / "scenarios").resolve()
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"] == {"supplychain.bundled": "scenarios"}
    assert config["package-data"]["supplychain.bundled"] == ["*.yaml", "*.md"]
    assert config["package-data"]["supplychain.bundled.world"] == ["**/*"]
    on_disk = sorted(".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "supplychain").rglob("__init__.py"))
    assert sorted(p for p in config["packages"] if not p.startswith("supplychain.bundled")) == on_disk, \
        "list every package of supplychain/ in [tool.setuptools] packages of pyproject.toml"
    assert not (REPO / "supplychain" / "bundled").exists()  # one copy in git: scenarios/
