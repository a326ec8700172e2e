"""Gold: customer_agent_conversations, one row per order, from silver.

Gold records in each commit the silver versions it reflects. A run recomputes
only the orders that silver changed since (Delta Change Data Feed), from all of
those orders' messages, and MERGEs them in; nothing changed, nothing written.
--full-refresh (and the first run) rebuilds the whole table. Gold keeps its own
Change Data Feed on for readers downstream (kpis reads the days that changed
from gold's commit files).
"""

from functools import partial, reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline import quality
from pipeline.lake import incremental, tables
from pipeline.steps.options import Options
from pipeline.runtime.audit import QualityError, RunStats
from pipeline.runtime.faults import crash_point
from pipeline.transforms.conversations import GOLD_COLUMNS, build_conversations

TABLE = "customer_agent_conversations"
SOURCES = {"silver_messages": "silver_messages_version", "silver_orders": "silver_orders_version"}
RULES = "gold_conversations"  # the rules' layer and the constraints' table in conf/quality_rules.toml
# Files of at most 5,000
# order-sorted rows inside each date keep an increment's MERGE to the few files
# that hold touched orders; deletion vectors only where the config turns them on.
PROPERTIES = {**tables.CHANGE_FEED, **tables.layout(("order_id",), 5_000)}


def rebuild(spark, gold: str, conversations: DataFrame, watermark: dict, note: str = "") -> RunStats:
    before = tables.version(spark, gold)
    with incremental.recording(spark, watermark):
        tables.overwrite(conversations, gold, ("conversation_date",), new_schema=True)
    written = incremental.written_since(spark, gold, before)
    print(f"gold {TABLE}: rebuilt, {written.rows} conversations -> {gold}{note}")
    return RunStats(TABLE, rows_written=written.rows, delta_version=written.version)


def update(spark, gold: str, updates: DataFrame, watermark: dict, note: str = "", within=None) -> RunStats:
    before = tables.version(spark, gold)
    crash_point("gold.before_merge")
    with incremental.recording(spark, watermark):
        tables.upsert(spark, updates, gold, ("order_id",), within)
    crash_point("gold.after_merge")
    written = incremental.written_since(spark, gold, before)
    metrics = written.metrics[0]
    inserted, updated = int(metrics.get("numTargetRowsInserted", 0)), int(metrics.get("numTargetRowsUpdated", 0))
    print(f"gold {TABLE}: {inserted} new and {updated} updated conversations -> {gold}{note}")
    return RunStats(
        TABLE, rows_read=int(metrics.get("numSourceRows", 0)), rows_written=written.rows,
        delta_version=written.version,
    )


def read_versions(watermark: dict) -> str:
    """The silver versions read, as the audit's input: silver_messages vN, silver_orders vM."""
    return ", ".join(f"{key} v{watermark[name]}" for key, name in SOURCES.items())


def checked_write(spark, gold: str, conversations: DataFrame, write, watermark: dict, properties: dict) -> RunStats:
    """Count the gold rules in one pass over the conversations, stop before
    writing if a fail rule is broken, then write with the table's CHECK
    constraints in place. The conversations are computed once, by that pass, and
    cached: the write reads them there (a MERGE reads its source twice: to find
    the target files, then to write)."""
    rules = quality.load_rules(RULES)
    quality.validate(conversations, rules)
    conversations = conversations.persist()
    try:
        summary = quality.summarize(conversations.groupBy().agg(*quality.counts(rules)).collect(), rules)
        warnings = summary.by_action(rules, "warn")
        inputs = read_versions(watermark)
        problem = quality.check(summary, rules, "conversations")
        if problem:
            raise QualityError(problem, [RunStats(TABLE, input=inputs, warnings_by_rule=warnings)])
        rows = conversations.select(*GOLD_COLUMNS)
        constraints = quality.load_constraints(RULES)
        schema = tables.nullable(rows.schema)  # as a DataFrame write would create it
        tables.ensure_table(spark, gold, schema, ("conversation_date",), properties, constraints)
        # A rebuild replaces every row: it adds new constraints after it writes,
        # so that old rows breaking them cannot block the rebuild that fixes them.
        tables.ensure_constraints(spark, gold, constraints, add=write is not rebuild)
        stats = write(spark, gold, rows, watermark, quality.warnings_text(warnings))
        if write is rebuild:
            tables.ensure_constraints(spark, gold, constraints)
    finally:
        conversations.unpersist()
    stats.input, stats.warnings_by_rule = inputs, warnings
    return stats


def run(spark, config, options: Options = Options()) -> list[RunStats]:
    gold = config.table("gold_conversations")
    paths = {name: config.table(key) for key, name in SOURCES.items()}
    for path in paths.values():
        tables.require_table(spark, path, "silver")
    current = {name: tables.version(spark, path) for name, path in paths.items()}
    built = None if options.full_refresh else incremental.last_watermark(spark, gold, SOURCES["silver_messages"])
    if built == current:  # decided from the Delta logs alone: no Spark job
        print(f"gold {TABLE}: silver unchanged, nothing to do ({gold})")
        return [RunStats(TABLE, input=read_versions(current))]

    messages, orders = (tables.read(spark, path, current[name]) for name, path in paths.items())
    properties = {**PROPERTIES, **tables.deletion_vectors(config.gold_deletion_vectors)}
    if tables.exists(spark, gold):  # a table made before gold had these properties
        tables.ensure_properties(spark, gold, properties)
    # No record, or silver was recreated behind gold's back: rebuild.
    if built is None or any(built[name] > current[name] for name in paths):
        conversations = build_conversations(messages, orders, with_checks=True)
        return [checked_write(spark, gold, conversations, rebuild, current, properties)]

    handed = options.handoff.silver if options.handoff else None
    if handed and all(handed.versions.get(key) == (built[name], current[name]) for key, name in SOURCES.items()):
        # This pass's silver wrote exactly what gold has not reflected yet: its order ids, no change feed.
        touched = reduce(DataFrame.unionByName, handed.order_ids, messages.select("order_id").limit(0)).distinct()
        low, high = handed.order_range or (None, None)
    else:
        changed = {path: (built[name], current[name]) for name, path in paths.items() if built[name] != current[name]}
        touched = incremental.changed_keys(spark, changed, "order_id").persist()
        low, high = touched.agg(F.min("order_id"), F.max("order_id")).first()
    try:
        # The range as literals lets Delta skip silver's and gold's files of other orders.
        in_range = F.col("order_id").between(low, high) if low is not None else F.lit(False)
        updates = build_conversations(
            messages.where(in_range).join(touched, "order_id", "left_semi"),
            orders.where(in_range).join(touched, "order_id", "left_semi"), with_checks=True,
        )
        write = partial(update, within=("order_id", low, high) if low is not None else None)
        return [checked_write(spark, gold, updates, write, current, properties)]
    finally:
        touched.unpersist()
