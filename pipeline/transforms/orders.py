"""Silver transformations for order records: one row per order, last ingested wins."""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.transforms.records import (
    QUARANTINE_COLUMNS, first_ingested, id_problem, json_problem, parse_json_object, rescued, to_id,
)

RAW_FIELDS = ("orderId", "cityCode")
SILVER_COLUMNS = ("order_id", "city_code", "source_file", "ingested_at", "_rescued")


def parse_orders(bronze: DataFrame) -> DataFrame:
    """Bronze records -> order_id, city_code, `reason` (null when valid), raw,
    lineage and `_rescued` (the fields that are not in RAW_FIELDS)."""
    j = F.col("json")
    parsed = bronze.withColumn("json", parse_json_object(F.col("raw"), RAW_FIELDS))
    typed = parsed.select(
        *QUARANTINE_COLUMNS[1:],
        json_problem(F.col("raw"), j).alias("json_problem"),
        j.orderId.alias("raw orderId"),
        to_id(j.orderId).alias("order_id"),
        j.cityCode.alias("city_code"),
        rescued(F.col("raw"), RAW_FIELDS).alias("_rescued"),
    )
    reason = F.coalesce(F.col("json_problem"), id_problem(F.col("raw orderId"), F.col("order_id"), "order_id"))
    return typed.withColumn("reason", reason).drop("json_problem", "raw orderId")


def latest_orders(valid: DataFrame) -> DataFrame:
    """The last ingested record of every order, as a whole (a later null city wins too)."""
    return first_ingested(valid, ("order_id",), last=True).select(*SILVER_COLUMNS)
