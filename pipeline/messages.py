"""Silver transformations for chat message events: type, validate, deduplicate."""

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from pipeline.timestamps import with_parsed_time

# Every field is read as a string: a number, bool or object becomes its JSON
# text, so a wrongly typed value is nulled by the rules below instead of making
# the whole line unreadable.
RAW_FIELDS = (
    "senderDeviceType",
    "customerId",
    "fromId",
    "toId",
    "chatStartedByMessage",
    "orderId",
    "priority",
    "resolution",
    "agentId",
    "orderStage",
    "messageSentTime",
)
CORRUPT = "_corrupt_record"
# Ingestion order: runs (bronze batches) in order, files by path, records in file order.
INGESTION_ORDER = ("ingest_batch", "source_file", "record_index")
EVENT_KEY = (
    "order_id",
    "from_id",
    "to_id",
    "message_sent_at",
    "sender_device_type",
    "chat_started_by_message",
)
SILVER_COLUMNS = (
    "order_id",
    "customer_id",
    "from_id",
    "to_id",
    "agent_id",
    "sender_role",
    "sender_device_type",
    "chat_started_by_message",
    "priority",
    "resolution",
    "order_stage",
    "message_sent_at",
    "source_file",
    "ingested_at",
)
QUARANTINE_COLUMNS = ("reason", "raw", "source_file", "record_index", "ingest_batch", "ingested_at")


def parse_json_object(raw: Column, fields: tuple[str, ...]) -> Column:
    """Struct of the given fields as strings plus `_corrupt_record`, set when
    `raw` is not one valid JSON object."""
    schema = ", ".join(f"`{name}` string" for name in (*fields, CORRUPT))
    return F.from_json(raw, schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT})


def is_invalid_json(raw: Column, parsed: Column) -> Column:
    return raw.isNull() | ~raw.rlike(r"^\s*\{") | parsed[CORRUPT].isNotNull()


def to_id(value: Column) -> Column:
    """An integer id (JSON number or digit string), else null."""
    return F.when(value.rlike(r"^-?[0-9]+$"), value.try_cast("long"))


def to_flag(value: Column) -> Column:
    """JSON true/false or those strings; null, absent or anything else is false."""
    return F.coalesce(value == "true", F.lit(False))


def parse_messages(bronze: DataFrame) -> DataFrame:
    """Bronze records -> typed silver columns plus `reason` (null when valid),
    the raw record and the ingestion-order columns."""
    parsed = bronze.withColumn("json", parse_json_object(F.col("raw"), RAW_FIELDS))
    j = F.col("json")
    typed = parsed.select(
        *QUARANTINE_COLUMNS[1:],
        is_invalid_json(F.col("raw"), j).alias("invalid_json"),
        to_id(j.orderId).alias("order_id"),
        to_id(j.customerId).alias("customer_id"),
        to_id(j.fromId).alias("from_id"),
        to_id(j.toId).alias("to_id"),
        to_id(j.agentId).alias("agent_id"),
        j.senderDeviceType.alias("sender_device_type"),
        to_flag(j.chatStartedByMessage).alias("chat_started_by_message"),
        to_flag(j.priority).alias("priority"),
        to_flag(j.resolution).alias("resolution"),
        j.orderStage.alias("order_stage"),
        j.messageSentTime.alias("message_sent_time_raw"),
    )
    typed = with_parsed_time(typed, "message_sent_time_raw", "message_sent_at")
    reason = (
        F.when(F.col("invalid_json"), "invalid_json")
        .when(F.col("order_id").isNull(), "null_order_id")
        .when(F.col("from_id").isNull(), "null_from_id")
        .when(F.col("customer_id").isNull(), "null_customer_id")
        .when(F.col("message_sent_time_raw").isNull(), "null_message_sent_time")
        .when(F.col("message_sent_at").isNull(), "unparseable_message_sent_time")
    )
    role = F.when(F.col("from_id") == F.col("customer_id"), "customer").otherwise("agent")
    return typed.withColumn("reason", reason).withColumn("sender_role", role).drop(
        "invalid_json", "message_sent_time_raw"
    )


def valid_records(parsed: DataFrame) -> DataFrame:
    """Records that passed every check (messages or orders)."""
    return parsed.where(F.col("reason").isNull())


def quarantined(parsed: DataFrame) -> DataFrame:
    """Rejected records with their reason, raw text and lineage."""
    return parsed.where(F.col("reason").isNotNull()).select(*QUARANTINE_COLUMNS)


def first_ingested(df: DataFrame, key: tuple[str, ...], last: bool = False) -> DataFrame:
    """One row per key (nulls compare equal): the first ingested, or the last one."""
    order = [F.col(name).desc() if last else F.col(name).asc() for name in INGESTION_ORDER]
    window = Window.partitionBy(*key).orderBy(*order)
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def deduplicate_messages(valid: DataFrame) -> DataFrame:
    """Keep the first ingested copy of every event, in silver's columns."""
    return first_ingested(valid, EVENT_KEY).select(*SILVER_COLUMNS)
