"""The TLP boundary checked against TLP 2.0 as written out independently in ``tests/tlp_truth.py``:
every reader in the package asks ``model.tlp``, so these properties cover them all."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridwatch.errors import SelectorError
from hybridwatch.model import tlp
from tlp_truth import LEVELS, TLP_IDS

# Markings as they arrive: the five levels, unmarked, and junk that must never be readable.
markings = st.one_of(st.sampled_from(LEVELS), st.none(),
                     st.text(max_size=12).filter(lambda t: t not in LEVELS))


def _truth_readable(level: str | None, clearance: str) -> bool:
    if level is not None and level not in LEVELS:
        return False  # fails closed: an unknown marking is read by nobody
    return LEVELS.index(level or "clear") <= LEVELS.index(clearance)


@given(markings, st.sampled_from(LEVELS))
def test_readable_matches_the_standard_and_fails_closed(level, clearance):
    assert tlp.readable(level, clearance) == _truth_readable(level, clearance)


@given(markings, st.text(max_size=12).filter(lambda t: t not in LEVELS))
def test_an_unknown_clearance_reads_nothing(level, clearance):
    assert not tlp.readable(level, clearance)
    assert tlp.levels_readable_at(clearance) == ()


@settings(deadline=None, max_examples=60)  # a DuckDB connection per example: no time limit
@given(st.lists(markings, max_size=30), st.sampled_from(LEVELS))
def test_sql_filter_keeps_exactly_the_readable_rows(levels, clearance):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, tlp VARCHAR)")
    if levels:
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(levels)))
    kept = {i for (i,) in con.execute(f"SELECT i FROM t WHERE {tlp.readable_sql(clearance)}")
            .fetchall()}
    assert kept == {i for i, level in enumerate(levels) if _truth_readable(level, clearance)}


@settings(deadline=None, max_examples=60)
@given(st.lists(markings, max_size=30))
def test_sql_rank_matches_python_and_its_inverse_never_loosens(levels):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, tlp VARCHAR)")
    if levels:
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(levels)))
    rows = con.execute(f"SELECT i, {tlp.rank_sql('tlp')}, {tlp.level_of_rank_sql(tlp.rank_sql('tlp'))}"
                       " FROM t ORDER BY i").fetchall()
    for (i, rank, level), marking in zip(rows, levels, strict=True):
        truth = LEVELS.index(marking) if marking in LEVELS else (0 if marking is None else 5)
        assert rank == truth == tlp.tlp_rank(marking), (i, marking)
        assert level == LEVELS[min(truth, 4)]   # junk comes back as red, never lower


@given(st.lists(markings, max_size=10))
def test_most_restricted_is_the_highest_level_and_junk_counts_as_red(levels):
    ranks = [LEVELS.index(lv) if lv in LEVELS else (0 if lv is None else 4) for lv in levels]
    assert tlp.most_restricted(levels) == LEVELS[max(ranks, default=0)]


@pytest.mark.parametrize(("text", "level"), [
    ("AMBER", "amber"), (" tlp:amber+strict ", "amber+strict"), ("TLP:RED", "red"),
    ("clear", "clear")])
def test_user_levels_parse(text, level):
    assert tlp.parse_level(text) == level


@pytest.mark.parametrize("text", ["white", "purple", "", None, "amber strict"])
def test_unknown_user_levels_are_refused_with_the_levels_named(text):
    with pytest.raises(SelectorError, match="not a TLP 2.0 level.*clear, green, amber"):
        tlp.parse_level(text, option="--tlp")


def test_marking_ids_are_the_published_ones():
    assert tlp.TLP2_MARKING_IDS == {level: i for i, level in TLP_IDS.items()}
    assert all(tlp.LEVEL_BY_MARKING_ID[i] == level for i, level in TLP_IDS.items())
    assert tlp.level_from_word("TLP:WHITE") == "clear" and tlp.level_from_word("ex:chr") is None
