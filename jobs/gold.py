"""Gold: customer_agent_conversations, one row per order, from silver.

Gold records in each commit the silver versions it reflects. A run recomputes
only the orders that silver changed since (Delta Change Data Feed), from all of
those orders' messages, and MERGEs them in; nothing changed, nothing written.
--full-refresh (and the first run) rebuilds the whole table.
"""

import sys

from pipeline import delta_io
from pipeline.audit import RunStats
from pipeline.cli import job_parser, run_job
from pipeline.faults import crash_point
from pipeline.conversations import build_conversations

SOURCES = {"silver_messages": "silver_messages_version", "silver_orders": "silver_orders_version"}


def changed_orders(spark, path, after_version, upto_version):
    """order_id of every row that changed in a silver table between two versions."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after_version + 1)
        .option("endingVersion", upto_version)
        .load(path)
        .select("order_id")
    )


def main(spark, config, args):
    gold = config.table("gold_conversations")
    for key in SOURCES:
        delta_io.require_table(spark, config.table(key), "silver")
    current = {meta: delta_io.version(spark, config.table(key)) for key, meta in SOURCES.items()}

    def read(key):
        return spark.read.format("delta").option("versionAsOf", current[SOURCES[key]]).load(config.table(key))

    messages, orders = read("silver_messages"), read("silver_orders")
    stats = RunStats("customer_agent_conversations")
    built = None
    if not args.full_refresh and delta_io.path_exists(spark, f"{gold}/_delta_log"):
        built = delta_io.last_commit_metadata(spark, gold, SOURCES["silver_messages"])

    if built is None:
        with delta_io.commit_metadata(spark, current):
            (
                build_conversations(messages, orders)
                .write.format("delta")
                .mode("overwrite")
                .option("overwriteSchema", "true")
                .partitionBy("conversation_date")
                .save(gold)
            )
        last_commit = delta_io.commits_since(spark, gold, delta_io.version(spark, gold) - 1)[0]
        stats.rows_written = int(last_commit["numOutputRows"])
        print(f"gold customer_agent_conversations: rebuilt, {stats.rows_written} conversations -> {gold}")
        return [stats]

    if built == current:
        print(f"gold customer_agent_conversations: silver unchanged, nothing to do ({gold})")
        return [stats]

    changes = [
        changed_orders(spark, config.table(key), built[meta], current[meta])
        for key, meta in SOURCES.items()
        if built[meta] != current[meta]
    ]
    touched = changes[0] if len(changes) == 1 else changes[0].unionByName(changes[1])
    touched = touched.distinct()
    updates = build_conversations(
        messages.join(touched, "order_id", "left_semi"), orders.join(touched, "order_id", "left_semi")
    )
    before = delta_io.version(spark, gold)
    crash_point("gold.before_merge")
    with delta_io.commit_metadata(spark, current):
        delta_io.upsert(spark, updates, gold, ("order_id",))
    crash_point("gold.after_merge")
    metrics = delta_io.commits_since(spark, gold, before)[0]
    stats.rows_read = int(metrics.get("numSourceRows", 0))
    stats.rows_written = int(metrics.get("numTargetRowsInserted", 0)) + int(metrics.get("numTargetRowsUpdated", 0))
    print(
        f"gold customer_agent_conversations: {metrics.get('numTargetRowsInserted', 0)} new and "
        f"{metrics.get('numTargetRowsUpdated', 0)} updated conversations -> {gold}"
    )
    return [stats]


if __name__ == "__main__":
    parser = job_parser("gold", __doc__)
    parser.add_argument("--full-refresh", action="store_true", help="rebuild the whole table from silver")
    sys.exit(run_job("gold", parser, main))
