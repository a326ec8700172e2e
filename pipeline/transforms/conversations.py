"""Gold: one row per order summarising its customer-agent conversation."""

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

GOLD_COLUMNS = (
    "order_id",
    "city_code",
    "first_agent_message",
    "first_customer_message",
    "num_messages_agent",
    "num_messages_customer",
    "first_message_by",
    "conversation_started_at",
    "first_response_time_delay_seconds",
    "last_message_time",
    "last_message_order_stage",
    "num_agents",
    "priority",
    "resolved",
    "conversation_date",
)
# Not in gold: what the gold quality rules may also look at.
CHECK_COLUMNS = ("chat_started_by",)  # role of the chat-starting message, null if none


def message_order() -> list[Column]:
    """The contract's total order of a conversation's messages."""
    return [
        F.col("message_sent_at").asc(),
        F.col("chat_started_by_message").desc(),
        (F.col("sender_role") == "agent").asc(),  # customer before agent
        F.col("from_id").asc_nulls_first(),
        F.col("to_id").asc_nulls_first(),
        F.col("sender_device_type").asc_nulls_first(),
    ]


def build_conversations(messages: DataFrame, orders: DataFrame, with_checks: bool = False) -> DataFrame:
    """Silver messages and orders -> gold customer_agent_conversations (plus
    CHECK_COLUMNS with_checks)."""
    ordered = Window.partitionBy("order_id").orderBy(*message_order())
    whole = ordered.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    is_agent = F.col("sender_role") == "agent"
    is_customer = F.col("sender_role") == "customer"

    def first_time(condition):
        return F.min(F.when(condition, F.col("message_sent_at"))).over(whole)

    per_order = messages.select(
        "order_id",
        F.row_number().over(ordered).alias("position"),
        first_time(is_agent).alias("first_agent_message"),
        first_time(is_customer).alias("first_customer_message"),
        F.count_if(is_agent).over(whole).alias("num_messages_agent"),
        F.count_if(is_customer).over(whole).alias("num_messages_customer"),
        F.first("sender_role").over(whole).alias("first_message_by"),
        F.first("message_sent_at").over(whole).alias("conversation_started_at"),
        F.last("message_sent_at").over(whole).alias("last_message_time"),
        F.last("order_stage").over(whole).alias("last_message_order_stage"),
        F.size(F.collect_set("agent_id").over(whole)).alias("num_agents"),
        F.bool_or("priority").over(whole).alias("priority"),
        F.bool_or("resolution").over(whole).alias("resolved"),
        F.first(F.when(F.col("chat_started_by_message"), F.col("sender_role")), ignorenulls=True)
        .over(whole)
        .alias("chat_started_by"),
    ).where("position = 1")

    # Messages are ordered by time first, so the first reply (the first message
    # of the other role) is simply the other role's earliest message.
    first_reply = F.when(
        F.col("first_message_by") == "customer", F.col("first_agent_message")
    ).otherwise(F.col("first_customer_message"))
    delay_micros = F.unix_micros(first_reply) - F.unix_micros("conversation_started_at")

    return (
        per_order.join(orders.select("order_id", "city_code"), "order_id", "left")
        .withColumn("delay_micros", delay_micros)
        # Exact integer floor division: the delay is never negative.
        .withColumn("first_response_time_delay_seconds", F.expr("delay_micros div 1000000"))
        .withColumn("conversation_date", F.to_date("conversation_started_at"))
        .select(*GOLD_COLUMNS, *(CHECK_COLUMNS if with_checks else ()))
    )
