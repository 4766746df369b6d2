"""Internals of the engine and the measures that must give exactly what slower expressions give."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from supplychain.engine.compile import compile_arrays
from supplychain.engine.trace import _identity_minus
from supplychain.metrics.trade import text_codes


@pytest.mark.parametrize("seed", range(40))
def test_identity_minus_is_scipys_matrix_entry_for_entry(seed: int) -> None:
    # I − diag(keep) G, as (sp.identity − sp.diags(keep) @ G).tocsc(): same pattern (no explicit
    # zeros: rows with keep = 0 and a diagonal share of exactly 1 drop out) and the same values
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 12))
    g = sp.random(m, m, density=float(rng.uniform(0.05, 0.9)), format="csr", random_state=seed)
    if seed % 5 == 0:
        g = g.tolil()
        g[0, 0] = 1.0
        g = g.tocsr()
    g.sum_duplicates()
    keep = None if seed % 2 else rng.random(m) > 0.3
    scaled = g if keep is None else sp.diags(keep.astype(np.float64)) @ g
    want = (sp.identity(m, format="csc") - scaled).tocsc()
    got = _identity_minus(g, keep)
    assert got.format == "csc"
    assert got.indptr.tolist() == want.indptr.tolist()
    assert got.indices.tolist() == want.indices.tolist()
    assert got.data.tolist() == want.data.tolist()


def test_level_matrix_is_built_from_its_arrays() -> None:
    # a mine (0, 100 t) and an import (1, 50 t) into a market (2): level 1 is row 2 with shares 2/3, 1/3
    cg = compile_arrays(3, [0, 1], [2, 2], [100.0, 50.0], [100.0, 0.0, 0.0])
    lv = cg.levels[1]
    assert lv.ext_csr is not None
    assert lv.ext is not None
    assert lv.ext.shape == (1, 2)
    assert lv.ext.toarray().round(4).tolist() == [[0.6667, 0.3333]]
    assert cg.levels[0].ext is None


def test_a_cached_plan_gives_the_fresh_compile_and_still_refuses_a_closed_loop() -> None:
    from supplychain.engine import compile as comp
    from supplychain.errors import EngineError

    # A (0) and B (1) trade back and forth; A mines 10 t. The same edges with other tonnes reuse
    # the plan (same structure) and give what a compile with an empty cache gives.
    src, dst = [0, 1, 1], [1, 0, 2]
    comp._PLANS.clear()
    first = compile_arrays(3, src, dst, [5.0, 2.0, 3.0], [10.0, 0.0, 0.0])
    assert len(comp._PLANS) == 1
    again = compile_arrays(3, src, dst, [6.0, 1.0, 5.0], [10.0, 0.0, 0.0])
    assert len(comp._PLANS) == 1
    comp._PLANS.clear()
    fresh = compile_arrays(3, src, dst, [6.0, 1.0, 5.0], [10.0, 0.0, 0.0])
    assert again.order.tolist() == fresh.order.tolist() == first.order.tolist()
    assert again.At.toarray().tolist() == fresh.At.toarray().tolist()
    assert [(lv.start, lv.stop) for lv in again.levels] == [(lv.start, lv.stop) for lv in fresh.levels]
    # without A's production the loop takes all its material from itself: refused on a cache hit too
    with pytest.raises(EngineError, match="closed loop"):
        compile_arrays(3, src, dst, [6.0, 1.0, 5.0], [0.0, 0.0, 0.0])


def test_text_codes_rank_texts_as_sorting_them_does() -> None:
    # one vocabulary over the columns, ranked in Python's order of the texts: "" < "CN" < "US" < "USA";
    # a value that is not text is ranked by its text (NaN as "nan", None as "None")
    (a, b), n = text_codes(["US", "", "USA"], ["CN", "US", float("nan"), None])
    assert n == 6
    assert a.tolist() == [3, 0, 4]
    assert b.tolist() == [1, 3, 5, 2]
    rng = np.random.default_rng(3)
    words = np.array(["A", "a", "US", "USA", "U", "", "é", "z_", ":"], dtype=object)
    cols = [words[rng.integers(0, len(words), size=int(rng.integers(0, 30)))] for _ in range(3)]
    codes, n = text_codes(*cols)
    texts = sorted({str(v) for c in cols for v in c})
    assert n == len(texts)
    for col, code in zip(cols, codes, strict=True):
        assert code.tolist() == [texts.index(str(v)) for v in col]
