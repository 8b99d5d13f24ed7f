"""Shared test fixtures: where the real datasets live, and fresh stores."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public datasets (../shared/data); tests using them skip only if it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture(scope="session")
def spark_engine():
    """One small local Spark session for the whole run (the Spark tests share it: a session
    takes seconds to start). Never skipped: CI installs Java and the `spark` extra."""
    import os

    from hybridwatch.store.spark import session

    saved = {k: os.environ.get(k) for k in ("HYBRIDWATCH_SPARK_MASTER", "HYBRIDWATCH_SPARK_CONF")}
    os.environ["HYBRIDWATCH_SPARK_MASTER"] = "local[2]"
    os.environ["HYBRIDWATCH_SPARK_CONF"] = ("spark.sql.shuffle.partitions=2;"
                                           "spark.default.parallelism=2;"
                                           "spark.driver.memory=512m")
    spark = session()
    yield spark
    spark.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
