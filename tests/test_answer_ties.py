"""The answer's worst shortfall names every run that reaches it (session 33).

Before, the sentence kept the first run of tied worst scenarios (a later run replaced it only
when larger by more than round-off), so a reader saw one of several equally bad scenarios.
Now every run reaching the worst share (equal to ``SHARE_DIGITS`` decimals, the ties rule of
the answer's other lines, ``_top``) is named, in page order, at most ``MAX_TIED_NAMED`` of them
after the first, then "and N others".
"""

from __future__ import annotations

from supplychain.report.answers import MAX_TIED_NAMED, Series, _sentence

YEARS = (2025, 2026, 2027)


def _row(scen: str, variant: str, shortfall: tuple[float, ...]) -> tuple[str, str, dict[str, Series]]:
    return scen, variant, {"shortfall_share": Series(YEARS, shortfall)}


def test_tied_worst_shortfalls_are_all_named_in_page_order() -> None:
    # Four runs, US magnets, in page order; each run's peak (first year of its largest share):
    #   a, base: 0.10 in 2025          (not the worst)
    #   a, ban:  0.40 in 2026          ← the first run at the worst share
    #   b, base: 0.40 in 2025 (and again in 2027: its first year, 2025, is named)
    #   b, ban:  0.4000000000001 in 2027: equal to 0.40 at 9 decimals, a tie
    # Worst 40% in 2026 (a, ban), also b, base in 2025 and b, ban in 2027 (on main: "(a, ban)" alone).
    rows = [_row("a", "base", (0.10, 0.05, 0.0)), _row("a", "ban", (0.2, 0.40, 0.3)),
            _row("b", "base", (0.40, 0.1, 0.40)), _row("b", "ban", (0.0, 0.1, 0.4000000000001))]
    said = _sentence("US", "magnet", {"magnet": "Magnets"}, rows, "CN")
    assert said == ("Worst shortfall: 40% of demand unmet in 2026 (a, ban; also b, base in 2025; b, ban in "
                    "2027).")


def test_more_ties_than_named_are_counted() -> None:
    # Six runs all at 25% in 2025: the first named in the sentence, MAX_TIED_NAMED (3) after it,
    # and the last 6 - 1 - 3 = 2 counted.
    assert MAX_TIED_NAMED == 3
    rows = [_row(f"s{i}", "base", (0.25, 0.0, 0.0)) for i in range(6)]
    said = _sentence("US", "magnet", {}, rows, "CN")
    assert said == ("Worst shortfall: 25% of demand unmet in 2025 (s0, base; also s1, base in 2025; s2, base in "
                    "2025; s3, base in 2025; and 2 others).")


def test_a_single_worst_run_reads_as_before() -> None:
    # 0.30 (x, base) vs 0.2999 (y, base): no tie at 9 decimals: one run named.
    rows = [_row("x", "base", (0.30, 0.0, 0.0)), _row("y", "base", (0.2999, 0.0, 0.0))]
    assert _sentence("US", "magnet", {}, rows, "CN") == "Worst shortfall: 30% of demand unmet in 2025 (x, base)."
