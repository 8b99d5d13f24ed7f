"""The Spark side of the store: one SparkSession per process and the lake's events on it.

The master comes from ``$HYBRIDWATCH_SPARK_MASTER``; else, under ``spark-submit``, from
spark-submit's ``--master``; else ``local[*]``. So the same command runs on a laptop or a
cluster. ``$HYBRIDWATCH_SPARK_CONF`` adds Spark settings (``key=value;key=value``, e.g.
``spark.driver.memory=4g;spark.sql.shuffle.partitions=64``).
Spark reads the event files the lake's manifest lists, by their columns (the partition values in
the paths are for pruning by hand and other tools; they are never trusted over the data). With
``$HYBRIDWATCH_SPARK_LAKE_URI`` (e.g. ``s3a://bucket/lake``) the executors read those files
under that URI, through Spark's own connector, while the driver reads the manifest and the small
tables from ``--db`` (a mount or a synced copy of the same lake).
PySpark is imported only here and only when the Spark engine runs (the ``spark`` extra).
"""

from __future__ import annotations

import itertools
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from hybridwatch.errors import StoreError

_views = itertools.count()


def session() -> Any:
    """The process's SparkSession (created on first use; timestamps in UTC)."""
    # PySpark 4 warns that pandas 3 is not fully supported; nothing here goes through pandas
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                            category=FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise StoreError("--engine spark needs PySpark: pip install 'hybridwatch[spark]' "
                         "(and Java 17 or 21)") from None
    # Python workers run this interpreter (its numpy and hybridwatch), unless told otherwise
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    master = os.environ.get("HYBRIDWATCH_SPARK_MASTER")
    if master or not _under_spark_submit():
        builder = builder.master(master or "local[*]")
    builder = (builder.appName("hybridwatch")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.showConsoleProgress", "false"))
    for item in filter(None, os.environ.get("HYBRIDWATCH_SPARK_CONF", "").split(";")):
        key, sep, value = item.partition("=")
        if not sep:
            raise StoreError(f"HYBRIDWATCH_SPARK_CONF: {item!r} is not key=value")
        builder = builder.config(key.strip(), value.strip())
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _under_spark_submit() -> bool:
    """Whether spark-submit started this process (it hands PySpark a running JVM gateway,
    whose SparkConf already holds ``--master`` and ``--conf``)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def lake_uri(path: Path, directory: Path) -> str:
    """Where the executors read one of the lake's files: under ``$HYBRIDWATCH_SPARK_LAKE_URI``
    when set (an object-store URI such as ``s3a://bucket/lake``, ``abfss://…``, ``gs://…``),
    else the local path."""
    base = os.environ.get("HYBRIDWATCH_SPARK_LAKE_URI", "").rstrip("/")
    if not base:
        return str(path)
    return f"{base}/{path.relative_to(directory).as_posix()}"


def ibis_backend(spark: Any) -> Any:
    import ibis

    return ibis.pyspark.connect(spark)


def events_view(paths: list[str | Path], empty: Any) -> str:
    """The events as a Spark temp view (its name): the listed Parquet files, exactly the
    event columns of ``empty`` (an Arrow table with the events' schema, used when there are
    no files)."""
    spark = session()
    columns = empty.column_names
    if paths:
        frame = spark.read.parquet(*[str(p) for p in paths]).select(*columns)
    else:
        frame = spark.createDataFrame(empty)
    name = f"hybridwatch_events_{next(_views)}"
    frame.createOrReplaceTempView(name)
    return name


def events_table(paths: list[Path], empty: Any) -> Any:
    """The events as an Ibis table on Spark (see ``events_view``)."""
    return ibis_backend(session()).table(events_view(paths, empty))


def table(name: str) -> Any:
    """A Spark temp view as an Ibis table."""
    return ibis_backend(session()).table(name)


def map_tasks(function: Any, items: list[Any]) -> list[Any]:
    """``[function(item) for item in items]`` as one Spark task per item, results in order
    (the pair blocks of ``analyses.pairs_blocks``)."""
    if not items:
        return []
    return session().sparkContext.parallelize(items, len(items)).map(function).collect()


def register_arrow(table: Any, prefix: str) -> str:
    """An Arrow table as a Spark temp view; returns the view's (unique) name."""
    name = f"{prefix}_{next(_views)}"
    session().createDataFrame(table).createOrReplaceTempView(name)
    return name


def duckdb_sql_on_spark(sql: str, params: Any = (), *, tables: dict[str, str]) -> Any:
    """Run a DuckDB-dialect query of the store on Spark, as a Spark DataFrame.

    The store's SQL is written once, for DuckDB; here sqlglot parses it, binds the ``?``
    parameters as literals, renames the tables it reads (``tables``: DuckDB name → Spark
    temp view, ``temp.`` schemas dropped) and writes it as Spark SQL. One definition, two
    engines — as Ibis does for the expressions of ``analyses.series``."""
    import sqlglot
    from sqlglot import exp

    values = iter(list(params))

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Placeholder):
            return exp.convert(next(values))
        if isinstance(node, exp.ArrayOverlaps):   # list_has_any: sqlglot writes `a && b`
            return exp.Anonymous(this="ARRAYS_OVERLAP", expressions=[node.this, node.expression])
        if isinstance(node, exp.Table) and node.name in tables and node.db in ("", "temp"):
            renamed = exp.to_table(tables[node.name])
            if node.alias:
                renamed.set("alias", node.args["alias"])
            return renamed
        return node

    tree = sqlglot.parse_one(sql, read="duckdb").transform(rewrite)
    return session().sql(tree.sql(dialect="spark"))
