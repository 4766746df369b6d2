"""docs/trade-data.md runs: every marked command, file and expected output of the worked example.

Markers in the page (HTML comments, invisible when rendered):

* ``<!-- trade-example: file PATH -->`` — the YAML block below is written to PATH;
* ``<!-- trade-example: run -->`` / ``fail`` — each ``$ supplychain ...`` line is run
  (exit 0 / exit 1) and every line shown below it must appear in its output (a line ending in ``…``:
  its text before the ``…``, for output such as ``validate``'s section counts, which change with the
  bundled world and are not written in the page);
* ``<!-- trade-example: expect PATH -->`` — every line of the block is a line of PATH.

The commands run in a scratch folder holding a copy of ``scenarios/world`` and of the
fixtures in ``tests/data/trade`` (the stand-ins for the downloads), in page order.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from supplychain.importers import load_mapping
from supplychain.io import load
from supplychain.metrics import compute_measures

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "trade-data.md"
BLOCK = re.compile(r"<!-- trade-example: (run|fail|file|expect) ?(\S*) -->\n```\w*\n(.*?)```", re.DOTALL)


def _commands(body: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif line.strip():
            out[-1][1].append(line.strip())
    return out


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = shlex.split(command)
    assert args[0] == "supplychain", command
    return subprocess.run([sys.executable, "-m", "supplychain", *args[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trade_docs")
    shutil.copytree(REPO / "scenarios" / "world", root / "scenarios" / "world")
    shutil.copytree(REPO / "tests" / "data" / "trade", root / "tests" / "data" / "trade")
    return root


def test_worked_example_runs(workdir: Path) -> None:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert [kind for kind, _, _ in blocks] == ["run", "expect", "file", "run", "run", "fail"]
    assert not re.search(r"\d+ sources", DOC.read_text(encoding="utf-8")), "no hand-written count of sources"
    for kind, arg, body in blocks:
        if kind == "file":
            (workdir / arg).write_text(body, encoding="utf-8")
        elif kind == "expect":
            written = (workdir / arg).read_text(encoding="utf-8").splitlines()
            missing = [line for line in body.splitlines() if line not in written]
            assert not missing, f"{arg} lacks lines the docs show: {missing}"
        else:
            for command, shown in _commands(body):
                result = _run(command, workdir)
                assert result.returncode == (0 if kind == "run" else 1), (command, result.stdout, result.stderr)
                assert "Traceback" not in result.stderr
                output = " ".join((result.stdout + result.stderr).split())
                missing = [line for line in shown if " ".join(line.removesuffix("…").split()) not in output]
                assert not missing, f"`{command}` did not print: {missing}\n{result.stdout}\n{result.stderr}"
    # The page's claim: the US direct import share of magnets from China is the fragment's,
    # 8,530 / 9,530 t of the fixture (BACI_HS22_Y2024_V202501.csv, HS 850511, 2024).
    assert "8,530 / 9,530 = 0.8951" in DOC.read_text(encoding="utf-8")
    measures = compute_measures(load(workdir / "scenarios" / "us_magnets_from_baci.yaml"), 2024, source="CN")
    direct = measures.query("country == 'US' and commodity == 'ndfeb_magnet' and metric == 'direct_import_share'")
    assert direct["value"].tolist() == [pytest.approx(8530 / 9530, rel=1e-8)]


def test_mapping_table_lists_every_shipped_code_with_its_default() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = {m[1] + m[2]: m[3] for m in re.finditer(r"^\| (\d{4})\.(\d{2}) [^|]*\| `(\w+)`", text, re.MULTILINE)}
    mapping = load_mapping()
    assert rows == {code: next(iter(entry.targets)) for code, entry in mapping.codes.items()}
