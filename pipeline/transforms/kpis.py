"""Gold: customer_care_daily_kpis, one row per conversation day and city."""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

KPI_COLUMNS = (
    "conversation_date",
    "city_code",
    "conversations",
    "first_response_p50_seconds",
    "first_response_p90_seconds",
    "never_answered_share",
    "reassigned_share",
    "resolved_share",
    "priority_share",
    "avg_messages",
)
# The KPI table records in its commits, under this key, the gold version it reflects.
WATERMARK = "gold_version"


def share(condition: Column) -> Column:
    """Fraction of the group's conversations meeting `condition` (a double in 0..1)."""
    return F.count_if(condition) / F.count(F.lit(1))


def build_daily_kpis(conversations: DataFrame) -> DataFrame:
    """Gold conversations -> daily KPIs per (conversation_date, city_code).

    A null city_code (unknown order) stays a group of its own. Percentiles are
    Spark's exact `percentile` (linear interpolation between ranks) over the
    answered conversations; null when none of the group was answered."""
    delay = F.col("first_response_time_delay_seconds")
    return (
        conversations.groupBy("conversation_date", "city_code")
        .agg(
            F.count(F.lit(1)).alias("conversations"),
            F.percentile(delay, F.lit(0.5)).alias("first_response_p50_seconds"),
            F.percentile(delay, F.lit(0.9)).alias("first_response_p90_seconds"),
            share(delay.isNull()).alias("never_answered_share"),
            share(F.col("num_agents") > 1).alias("reassigned_share"),
            share(F.col("resolved")).alias("resolved_share"),
            share(F.col("priority")).alias("priority_share"),
            F.avg(F.col("num_messages_agent") + F.col("num_messages_customer")).alias("avg_messages"),
        )
        .select(*KPI_COLUMNS)
    )
