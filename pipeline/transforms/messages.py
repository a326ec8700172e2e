"""Silver transformations for chat message events: type, validate, deduplicate."""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.transforms.records import (
    QUARANTINE_COLUMNS, first_ingested, id_problem, json_problem, parse_json_object, rescued, to_flag, to_id,
)
from pipeline.transforms.timestamps import with_parsed_time

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
# The ids a message cannot do without, in the order their problems are reported.
CHECKED_IDS = {"orderId": "order_id", "fromId": "from_id", "customerId": "customer_id"}
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
    "_rescued",
)


def parse_messages(bronze: DataFrame) -> DataFrame:
    """Bronze records -> typed silver columns plus `reason` (null when valid),
    the raw record, the ingestion-order columns and `_rescued` (the fields
    that are not in RAW_FIELDS)."""
    parsed = bronze.withColumn("json", parse_json_object(F.col("raw"), RAW_FIELDS))
    j = F.col("json")
    typed = parsed.select(
        *QUARANTINE_COLUMNS[1:],
        json_problem(F.col("raw"), j).alias("json_problem"),
        *(j[field].alias(f"raw {field}") for field in CHECKED_IDS),
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
        rescued(F.col("raw"), RAW_FIELDS).alias("_rescued"),
    )
    typed = with_parsed_time(typed, "message_sent_time_raw", "message_sent_at")
    reason = F.coalesce(
        F.col("json_problem"),
        *(id_problem(F.col(f"raw {field}"), F.col(name), name) for field, name in CHECKED_IDS.items()),
        F.when(F.col("message_sent_time_raw").isNull(), "null_message_sent_time")
        .when(F.col("message_sent_at").isNull(), "unparseable_message_sent_time"),
    )
    role = F.when(F.col("from_id") == F.col("customer_id"), "customer").otherwise("agent")
    return typed.withColumn("reason", reason).withColumn("sender_role", role).drop(
        "json_problem", "message_sent_time_raw", *(f"raw {field}" for field in CHECKED_IDS)
    )


def deduplicate_messages(valid: DataFrame) -> DataFrame:
    """Keep the first ingested copy of every event, in silver's columns."""
    return first_ingested(valid, EVENT_KEY).select(*SILVER_COLUMNS)
