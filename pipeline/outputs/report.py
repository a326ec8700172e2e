"""The figures of the static HTML report: small aggregates of the gold tables.

`collect_report` runs a few aggregations whose results are bounded by days,
cities and delay buckets (never by conversations); pipeline.outputs.report_page
renders them as one self-contained page.
"""

from datetime import datetime
from functools import reduce
from operator import add

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.outputs.report_page import DELAY_BUCKETS, PERCENTILES, SLOWEST, ReportData


def overview(conversations: DataFrame) -> DataFrame:
    delay = F.col("first_response_time_delay_seconds")
    return conversations.agg(
        F.count(F.lit(1)).alias("conversations"),
        F.min("conversation_date").alias("first_day"),
        F.max("conversation_date").alias("last_day"),
        F.percentile(delay, F.lit(0.5)).alias("p50"),
        F.percentile(delay, F.lit(0.9)).alias("p90"),
        F.percentile(delay, F.array(*[F.lit(p) for p in PERCENTILES])).alias("percentiles"),
        F.count_if(delay.isNull()).alias("never_answered"),
        F.count_if(F.col("num_agents") > 1).alias("reassigned"),
        F.count_if("resolved").alias("resolved"),
    )


def daily(kpis: DataFrame) -> DataFrame:
    """Per day, from the KPI table: conversations and never-answered / reassigned counts."""
    def count(share: str):
        return F.sum(F.round(F.col(share) * F.col("conversations"))).cast("long")

    return (
        kpis.groupBy(F.col("conversation_date").alias("day"))
        .agg(
            F.sum("conversations").alias("conversations"),
            count("never_answered_share").alias("never_answered"),
            count("reassigned_share").alias("reassigned"),
        )
        .orderBy("day")
    )


def delay_histogram(conversations: DataFrame) -> DataFrame:
    """Answered conversations per DELAY_BUCKETS index."""
    delay = F.col("first_response_time_delay_seconds")
    bucket = reduce(add, [(delay >= low).cast("int") for low, _ in DELAY_BUCKETS[1:]])
    return conversations.where(delay.isNotNull()).groupBy(bucket.alias("bucket")).count()


def city_delays(conversations: DataFrame) -> DataFrame:
    """Per city, over the whole period: conversations and exact first-response percentiles."""
    delay = F.col("first_response_time_delay_seconds")
    return conversations.groupBy("city_code").agg(
        F.count(F.lit(1)).alias("conversations"),
        F.percentile(delay, F.lit(0.5)).alias("p50"),
        F.percentile(delay, F.lit(0.9)).alias("p90"),
        F.count_if(delay.isNull()).alias("never_answered"),
    )


def slowest(conversations: DataFrame, n: int = SLOWEST) -> DataFrame:
    delay = F.col("first_response_time_delay_seconds")
    return (
        conversations.where(delay.isNotNull())
        .orderBy(delay.desc(), F.col("order_id"))
        .limit(n)
        .select(
            "order_id", "city_code", "conversation_started_at", delay.alias("delay"), "first_message_by",
            (F.col("num_messages_agent") + F.col("num_messages_customer")).alias("messages"), "num_agents",
            "resolved",
        )
    )


def collect_report(conversations: DataFrame, kpis: DataFrame, lake: str, generated_at: datetime) -> ReportData:
    """The figures of the report, as small Python values."""
    conversations = conversations.persist()  # read gold once for the four aggregations
    try:
        counts = {row["bucket"]: row["count"] for row in delay_histogram(conversations).collect()}
        cities = [row.asDict() for row in city_delays(conversations).collect()]
        # Slowest first (by p90, then p50); cities where nobody was answered at the end.
        cities.sort(key=lambda c: (c["p90"] is None, -(c["p90"] or 0), -(c["p50"] or 0), c["city_code"] or ""))
        return ReportData(
            lake=lake,
            generated_at=generated_at,
            overview=overview(conversations).first().asDict(),
            daily=[row.asDict() for row in daily(kpis).collect()],
            histogram=[counts.get(index, 0) for index in range(len(DELAY_BUCKETS))],
            cities=cities,
            slowest=[row.asDict() for row in slowest(conversations).collect()],
        )
    finally:
        conversations.unpersist()
