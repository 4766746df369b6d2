"""One observed year, two answers: the answer's "also uses" lines say the other value and why (review 5, R-6).

Two scenarios read the same 2024 data in different worlds. Scenario ``a`` (variants v1, v2: the
rare-earth world) traces US gallium 97 % to China, scenario ``b`` (base, v3: the minerals world) 83 %;
the direct import share from China is 15 % in both (the same USGS import split). The USGS rare-earth
aggregate is ``ree`` in ``a`` (72 % traced) and ``re`` in ``b`` (78 %), one name in both worlds, so one
line; direct share 70 % in both. Every figure is written into the tables below (nothing simulated).
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from supplychain.report.answers import _others

NAMES = {"ga": "Gallium", "ree": "Rare earths (USGS aggregate)", "re": "Rare earths (USGS aggregate)"}


def result(variant: str, values: dict[str, tuple[float, float]], direct: dict[str, float]) -> SimpleNamespace:
    """A result: exposure by commodity in 2024 and 2025 (tuple), direct import share from CN in 2024."""
    rows = [("US", k, "exposed_share", y, v, None, "CN") for k, vv in values.items()
            for y, v in zip((2024, 2025), vv, strict=True)]
    rows += [("US", k, "direct_import_share", 2024, v, None, "CN") for k, v in direct.items()]
    m = pd.DataFrame(rows, columns=["country", "commodity", "metric", "year", "value", "partner", "source_country"])
    return SimpleNamespace(variant=variant, measures=m, source="CN")


def lines(a: dict[str, tuple[float, float]], b: dict[str, tuple[float, float]],
          direct_b: dict[str, float]) -> dict[str, str]:
    from supplychain.report.answers import _own

    ra = (result("v1", a, {"ga": 0.15, "ree": 0.70}), result("v2", a, {"ga": 0.15, "ree": 0.70}))
    runs = [SimpleNamespace(file="a.yaml", results=ra, fixed_shortfall=None),
            SimpleNamespace(file="b.yaml", results=(result("base", b, direct_b), result("v3", b, direct_b)),
                            fixed_shortfall=None)]
    return {line["commodity"]: line["exposed"] for line in _others(runs, _own(runs, "US"), ["ga", "re", "ree"],
                                                                   NAMES, "US")}


def test_the_other_worlds_value_of_the_observed_year_is_named_with_why() -> None:
    got = lines({"ga": (0.97, 0.5), "ree": (0.72, 0.6)}, {"ga": (0.83, 0.4), "re": (0.78, 0.5)},
                {"ga": 0.15, "re": 0.70})
    # gallium: 97 % in 2024 in both runs of a (the highest, one year, credited to no run), 83 % in both of b
    assert got["Gallium"] == ("97% in 2024 (2 of 4 runs); 83% in b (2 runs): the same imports from China (direct "
                              "share 15% in all), traced through each scenario's own upstream chains")
    # the USGS aggregate: two ids, one name, one line; b's 78 % is the highest, a's 72 % named
    assert got["Rare earths (USGS aggregate)"] == (
        "78% in 2024 (2 of 4 runs); 72% in a (2 runs): the same imports from China (direct share 70% in all), "
        "traced through each scenario's own upstream chains")
    assert list(got) == ["Gallium", "Rare earths (USGS aggregate)"]


def test_different_imports_are_said_as_such() -> None:
    got = lines({"ga": (0.97, 0.5), "ree": (0.72, 0.6)}, {"ga": (0.83, 0.4), "re": (0.78, 0.5)},
                {"ga": 0.20, "re": 0.70})
    assert got["Gallium"] == "97% in 2024 (2 of 4 runs); 83% in b (2 runs): direct import share from China 15% / 20%"


def test_a_highest_value_after_the_base_year_names_no_other_value() -> None:
    # 2025 is no observed year: variants differ by design there, nothing to explain
    got = lines({"ga": (0.5, 0.97), "ree": (0.72, 0.6)}, {"ga": (0.4, 0.83), "re": (0.78, 0.5)},
                {"ga": 0.15, "re": 0.70})
    assert got["Gallium"] == "97% in 2025 (2 of 4 runs)"
