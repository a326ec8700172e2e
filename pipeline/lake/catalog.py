"""The lake's tables by name: <layer>.<table> in Spark's catalog, e.g.
gold.customer_agent_conversations, silver.orders, quarantine.landing_files,
meta.pipeline_runs. spark-sql and `make serve` register them the same way.

Only tables that exist are registered: CREATE TABLE ... USING delta LOCATION on a
path without a Delta log would write an empty table there, in the pipeline's way.
"""

import glob
import os
import tempfile

from pyspark.sql import SparkSession

from pipeline.lake.files import local_path


def catalog_settings() -> dict[str, str]:
    """An in-memory catalog (no Hive metastore folder in the working directory)
    whose databases are folders of a private temporary directory, not the lake."""
    warehouse = os.path.join(tempfile.gettempdir(), f"customer-care-sql-{os.getuid()}")
    os.makedirs(warehouse, exist_ok=True)
    return {"spark.sql.catalogImplementation": "in-memory", "spark.sql.warehouse.dir": warehouse}


def registration(name: str, location: str) -> str:
    """The statement that makes `location` queryable as `name`."""
    quoted = location.replace("\\", "\\\\").replace("'", "\\'")
    return f"CREATE TABLE IF NOT EXISTS {name} USING delta LOCATION '{quoted}'"


def database(name: str) -> str:
    return f"CREATE DATABASE IF NOT EXISTS {name.split('.', 1)[0]}"


def is_delta_table(spark: SparkSession | None, location: str) -> bool:
    """Whether `location` holds a committed Delta table (a folder _delta_log
    without a commit yet is a table being created). Local lakes are checked
    without Spark."""
    commits = f"{location}/_delta_log/[0-9]*.json"  # commits after the last checkpoint always remain
    local = local_path(commits)
    if local is not None:
        return bool(glob.glob(local))
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(commits)
    found = hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).globStatus(hadoop_path)
    return found is not None and len(found) > 0


def register_new(spark: SparkSession, tables: dict[str, str], registered: set[str]) -> list[str]:
    """Register the `tables` (name -> location) that exist now and are not in
    `registered` (updated); returns their names. Cheap enough to call every few seconds."""
    added = []
    for name, location in tables.items():
        if name not in registered and is_delta_table(spark, location):
            spark.sql(database(name))
            spark.sql(registration(name, location))
            registered.add(name)
            added.append(name)
    return added
