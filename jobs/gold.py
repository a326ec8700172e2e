"""Gold: build customer_agent_conversations (one row per order) from silver.

The table is rebuilt from the silver versions it records in its commit; when
silver has not changed since, nothing is written.
"""

import json
import sys

from pipeline import delta_io
from pipeline.audit import RunStats
from pipeline.cli import job_parser, run_job
from pipeline.conversations import build_conversations


def main(spark, config, args):
    messages_path, orders_path = config.table("silver_messages"), config.table("silver_orders")
    gold = config.table("gold_conversations")
    for path in (messages_path, orders_path):
        delta_io.require_table(spark, path, "silver")
    sources = {
        "silver_messages_version": delta_io.version(spark, messages_path),
        "silver_orders_version": delta_io.version(spark, orders_path),
    }
    stats = RunStats("customer_agent_conversations")
    if delta_io.path_exists(spark, gold) and not args.full_refresh:
        built_from = json.loads(delta_io.last_user_metadata(spark, gold) or "{}")
        if built_from == sources:
            print(f"gold customer_agent_conversations: silver unchanged, nothing to do ({gold})")
            return [stats]

    def read(path, version):
        return spark.read.format("delta").option("versionAsOf", version).load(path)

    messages = read(messages_path, sources["silver_messages_version"])
    orders = read(orders_path, sources["silver_orders_version"])
    (
        build_conversations(messages, orders)
        .write.format("delta")
        .mode("overwrite")
        .option("overwriteSchema", "true")
        .option("userMetadata", json.dumps(sources))
        .partitionBy("conversation_date")
        .save(gold)
    )
    metrics = delta_io.commits_since(spark, gold, delta_io.version(spark, gold) - 1)[0]
    stats.rows_written = int(metrics.get("numOutputRows", 0))
    print(f"gold customer_agent_conversations: {stats.rows_written} conversations -> {gold}")
    return [stats]


if __name__ == "__main__":
    parser = job_parser("gold", __doc__)
    parser.add_argument("--full-refresh", action="store_true", help="rebuild even when silver has not changed")
    sys.exit(run_job("gold", parser, main))
