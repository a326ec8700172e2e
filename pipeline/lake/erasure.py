"""The suppression list of erased customers, <lake>/_meta/erased_customers: a
Delta table of salted hashes (sha2-256 of salt || id), never the ids. The salt
is made once, at random, and kept in the table's own properties: without it a
hash cannot be tested against a guessed id."""

import secrets

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType, TimestampType

from pipeline.lake import tables

SALT = "pipeline.erasure.salt"
SCHEMA = StructType([StructField("customer_hash", StringType()), StructField("erased_at", TimestampType())])


def salt(spark: SparkSession, path: str, create: bool = False) -> str | None:
    """The list's salt; None when there is no list yet (made, with a new salt, when `create`)."""
    if not tables.exists(spark, path):
        if not create:
            return None
        tables.ensure_table(spark, path, SCHEMA, properties={SALT: secrets.token_hex(16)})
    return tables.table_properties(spark, path)[SALT]


def hashes(spark: SparkSession, path: str) -> DataFrame:
    """The hashes on the list (one column, customer_hash)."""
    return tables.read(spark, path).select("customer_hash").distinct()


def add(spark: SparkSession, path: str, new: list[str]) -> None:
    """Put these hashes on the list (one commit; those already on it are not added again)."""
    rows = spark.range(1).select(F.explode(F.array(*(F.lit(h) for h in new))).alias("customer_hash")).select(
        "customer_hash", F.current_timestamp().alias("erased_at")
    )
    tables.merge(spark, rows, path, ("customer_hash",), replace_matches=False)
