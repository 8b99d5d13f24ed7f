"""The web server's pool of read cursors: a cursor goes back after a request and is lent again,
set to UTC; beyond ``keep`` idle cursors are closed; a failed request's cursor is closed, never
lent again."""

from __future__ import annotations

import duckdb
import pytest

from hybridwatch.store import EventStore
from hybridwatch.store.cursors import CursorPool


def test_cursors_are_reused_in_utc_and_failed_ones_are_dropped(tmp_path):
    with EventStore(tmp_path / "s.duckdb") as store:
        pool = CursorPool(store._con, keep=1)
        a = store.cursor_store(lazy=True, pool=pool)
        c1 = a._con
        assert c1.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
        a.close()
        b = store.cursor_store(lazy=True, pool=pool)
        assert b._con is c1                               # lent again, not reopened
        c = store.cursor_store(lazy=True, pool=pool)
        c2 = c._con
        assert c2 is not c1                              # none idle: a new one
        c.close()                                        # idle: c2
        b.close()                                        # beyond keep=1: c1 is closed
        with pytest.raises(duckdb.ConnectionException):
            c1.execute("SELECT 1")
        d = store.cursor_store(lazy=True, pool=pool)
        assert d._con is c2
        d.discard()                                      # a failed request: closed for good
        with pytest.raises(duckdb.ConnectionException):
            c2.execute("SELECT 1")
        e = store.cursor_store(lazy=True, pool=pool)
        assert e._con is not c2 and e._con.execute("SELECT 1").fetchall() == [(1,)]
        e.close()
        pool.close()
