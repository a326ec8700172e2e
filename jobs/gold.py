"""Gold: customer_agent_conversations, one row per order, from silver.

Gold records in each commit the silver versions it reflects. A run recomputes
only the orders that silver changed since (Delta Change Data Feed), from all of
those orders' messages, and MERGEs them in; nothing changed, nothing written.
--full-refresh (and the first run) rebuilds the whole table. Gold keeps its own
Change Data Feed on: the kpis job reads from it which days changed.
"""

import sys
from functools import reduce

from pyspark.sql import DataFrame

from pipeline import delta_io, quality
from pipeline.audit import RunStats
from pipeline.cli import job_parser, run_job
from pipeline.conversations import GOLD_COLUMNS, build_conversations
from pipeline.faults import crash_point

TABLE = "customer_agent_conversations"
SOURCES = {"silver_messages": "silver_messages_version", "silver_orders": "silver_orders_version"}


def changed_orders(spark, path: str, after_version: int, upto_version: int) -> DataFrame:
    """order_id of every row that changed in a silver table between two versions."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after_version + 1)
        .option("endingVersion", upto_version)
        .load(path)
        .select("order_id")
    )


def rebuild(spark, gold: str, conversations: DataFrame, sources: dict, note: str = "") -> RunStats:
    with delta_io.commit_metadata(spark, sources):
        (
            conversations.write.format("delta")
            .mode("overwrite")
            .option("overwriteSchema", "true")
            .partitionBy("conversation_date")
            .save(gold)
        )
    version = delta_io.version(spark, gold)
    written = int(delta_io.commits_since(spark, gold, version - 1)[0]["numOutputRows"])
    print(f"gold {TABLE}: rebuilt, {written} conversations -> {gold}{note}")
    return RunStats(TABLE, rows_written=written, delta_version=version)


def update(spark, gold: str, updates: DataFrame, sources: dict, note: str = "") -> RunStats:
    before = delta_io.version(spark, gold)
    crash_point("gold.before_merge")
    with delta_io.commit_metadata(spark, sources):
        delta_io.upsert(spark, updates, gold, ("order_id",))
    crash_point("gold.after_merge")
    commits = delta_io.commits_since(spark, gold, before)
    metrics = commits[0]
    inserted, updated = int(metrics.get("numTargetRowsInserted", 0)), int(metrics.get("numTargetRowsUpdated", 0))
    print(f"gold {TABLE}: {inserted} new and {updated} updated conversations -> {gold}{note}")
    return RunStats(
        TABLE, rows_read=int(metrics.get("numSourceRows", 0)), rows_written=inserted + updated,
        delta_version=before + len(commits),
    )


def read_versions(sources: dict) -> str:
    """The silver versions read, as the audit's input: silver_messages vN, silver_orders vM."""
    return ", ".join(f"{key} v{sources[meta]}" for key, meta in SOURCES.items())


def checked_write(spark, gold: str, conversations: DataFrame, write, sources: dict) -> RunStats:
    """Count the gold rules in one pass over the conversations, stop before
    writing if a fail rule is broken, then write with the table's CHECK
    constraints in place. The conversations are computed once, by that pass, and
    cached: the write reads them there (a MERGE reads its source twice: to find
    the target files, then to write)."""
    rules = quality.load_rules("gold_conversations")
    quality.validate(conversations, rules)
    conversations = conversations.persist()
    try:
        summary = quality.summarize(conversations.groupBy().agg(*quality.counts(rules)).collect(), rules)
        warnings = summary.by_action(rules, "warn")
        inputs = read_versions(sources)
        problem = quality.check(summary, rules, "conversations")
        if problem:
            raise quality.QualityError(problem, [RunStats(TABLE, input=inputs, warnings_by_rule=warnings)])
        rows = conversations.select(*GOLD_COLUMNS)
        constraints = quality.load_constraints("gold_conversations")
        schema = delta_io.nullable(rows.schema)  # as a DataFrame write would create it
        delta_io.ensure_table(spark, gold, schema, ("conversation_date",), change_feed=True, constraints=constraints)
        # A rebuild replaces every row: it adds new constraints after it writes,
        # so that old rows breaking them cannot block the rebuild that fixes them.
        delta_io.ensure_constraints(spark, gold, constraints, add=write is not rebuild)
        stats = write(spark, gold, rows, sources, quality.warnings_text(warnings))
        if write is rebuild:
            delta_io.ensure_constraints(spark, gold, constraints)
    finally:
        conversations.unpersist()
    stats.input, stats.warnings_by_rule = inputs, warnings
    return stats


def main(spark, config, args):
    gold = config.table("gold_conversations")
    for key in SOURCES:
        delta_io.require_table(spark, config.table(key), "silver")
    current = {meta: delta_io.version(spark, config.table(key)) for key, meta in SOURCES.items()}
    messages, orders = (
        spark.read.format("delta").option("versionAsOf", current[meta]).load(config.table(key))
        for key, meta in SOURCES.items()
    )

    built = None
    exists = delta_io.path_exists(spark, f"{gold}/_delta_log")
    if not args.full_refresh and exists:
        built = delta_io.last_commit_metadata(spark, gold, SOURCES["silver_messages"])
    if built == current:
        print(f"gold {TABLE}: silver unchanged, nothing to do ({gold})")
        return [RunStats(TABLE, input=read_versions(current))]
    if exists:  # a table made before gold kept a change feed
        delta_io.enable_change_feed(spark, gold)
    # No record, or silver was recreated behind gold's back: rebuild.
    if built is None or any(built[meta] > current[meta] for meta in SOURCES.values()):
        return [checked_write(spark, gold, build_conversations(messages, orders, with_checks=True), rebuild, current)]

    touched = reduce(
        DataFrame.unionByName,
        [
            changed_orders(spark, config.table(key), built[meta], current[meta])
            for key, meta in SOURCES.items()
            if built[meta] != current[meta]
        ],
    ).distinct()
    updates = build_conversations(
        messages.join(touched, "order_id", "left_semi"), orders.join(touched, "order_id", "left_semi"), with_checks=True
    )
    return [checked_write(spark, gold, updates, update, current)]


def cli(argv: list[str] | None = None) -> int:
    parser = job_parser("gold", __doc__)
    parser.add_argument("--full-refresh", action="store_true", help="rebuild the whole table from silver")
    return run_job("gold", parser, main, argv)


if __name__ == "__main__":
    sys.exit(cli())
