"""Which engine runs the data-heavy steps: DuckDB (one machine) or Spark (a cluster, or local).

``--engine`` on the command line, else ``$HYBRIDWATCH_ENGINE``, else DuckDB. The choice is held
in a context variable the CLI sets per invocation, so an ``EventStore`` opened anywhere below a
command follows it without every call site passing it on.
"""

from __future__ import annotations

import os
from contextvars import ContextVar, Token

from hybridwatch.errors import SelectorError

ENGINES = ("duckdb", "spark")
_chosen: ContextVar[str | None] = ContextVar("hybridwatch_engine", default=None)


def check_engine(name: str) -> str:
    engine = name.strip().lower()
    if engine not in ENGINES:
        raise SelectorError(f"unknown engine {name!r} (one of: {', '.join(ENGINES)})")
    return engine


def current_engine() -> str:
    """The chosen engine: the CLI's ``--engine``, else ``$HYBRIDWATCH_ENGINE``, else duckdb."""
    return check_engine(_chosen.get() or os.environ.get("HYBRIDWATCH_ENGINE") or "duckdb")


def use_engine(name: str | None) -> Token:
    """Choose the engine until ``reset_engine`` with the returned token."""
    return _chosen.set(check_engine(name) if name else None)


def reset_engine(token: Token) -> None:
    _chosen.reset(token)
