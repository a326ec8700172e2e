"""Forget: take customers out of every layer of the lake, for good (GDPR art. 17).

A customer's records are the messages whose customerId is theirs, whichever
side sent them: silver's rows of that customer_id, and in bronze and quarantine
the raw records whose parsed customerId is theirs (for a record that is no JSON
object, the id its text holds as `"customerId": <id>`). One run:

1. puts their salted hashes on the suppression list (_meta/erased_customers)
   first, so that bronze drops their later records even if the run is stopped;
2. deletes their silver messages; deletes gold's conversations of their orders
   (the orders of their records in silver and bronze) and rebuilds those from
   the messages of others that are left; recomputes the KPIs of the days those
   conversations counted in (all days when the KPIs did not reflect gold);
3. with --rewrite-landing, rewrites the landing files that hold their records
   without them; deletes their records from quarantine, then from bronze:
   bronze goes last, as the place where a rerun after a crash finds their
   orders and files again;
4. vacuums each of these tables with no retention (the files of older versions
   and every change data feed file go) and drops its history before the
   erasure (the log's file statistics hold column values).

Each table's commits carry its watermark on, so the next incremental runs find
nothing to do. Orders hold no customer data and stay.
"""

import hashlib
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from pipeline import PipelineError
from pipeline.lake import erasure, incremental, tables
from pipeline.lake.files import local_path
from pipeline.runtime.audit import RunStats
from pipeline.runtime.faults import crash_point
from pipeline.steps import gold as gold_step, kpis as kpis_step, landing_records
from pipeline.transforms.conversations import GOLD_COLUMNS, build_conversations
from pipeline.transforms.erasure import record_customer_id, salted_hash
from pipeline.transforms.kpis import WATERMARK as KPI_WATERMARK, build_daily_kpis
from pipeline.transforms.records import parse_json_object, to_id

MESSAGES = "customer_agent_messages"  # the landing feed that holds customers' records
ERASED = "erased_customer"  # the reason of the rows dropped, in the audit
LIST = "erased_customers"  # <lake>/_meta/erased_customers
RAW_TABLES = ("bronze_messages", "quarantine_messages")  # raw records: matched by their parsed customerId
# Commits of silver that gold may not reflect when forget starts: none that change data but forget's own
# DELETE (a run stopped before it wrote gold).
FORGET_OPERATIONS = incremental.NO_DATA_CHANGE | {"DELETE", "REORG"}


@dataclass(frozen=True)
class Request:
    customers: tuple[int, ...]
    rewrite_landing: bool = False  # rewrite the landing files that hold their records without them


def customer_hash(salt: str, customer: int) -> str:
    """The suppression list's entry for a customer id (transforms.erasure.salted_hash in Python)."""
    return hashlib.sha256(f"{salt}{customer}".encode()).hexdigest()


def customer_column(key: str):
    """The customer id of a row of a message table."""
    return record_customer_id(F.col("raw")) if key in RAW_TABLES else F.col("customer_id")


class Suppression:
    """Bronze's filter of later records of forgotten customers: they are dropped
    before bronze stores them and counted (an observation of the write itself,
    no second read). Inactive, and free, on a lake that erased no one."""

    def __init__(self, spark, config, dataset: str):
        path = config.meta(LIST)
        self.spark, self.dropped, self.observed = spark, 0, None
        self.salt = erasure.salt(spark, path) if dataset == "customer_agent_messages" else None
        self.hashes = F.broadcast(erasure.hashes(spark, path).withColumn("_erased", F.lit(True))) if self.salt else None

    def drop(self, records: DataFrame, table: str) -> DataFrame:
        """`records` without those of erased customers (call count_written after writing them to `table`)."""
        if self.salt is None:
            return records
        self.table, self.before, self.observed = table, tables.version(self.spark, table), Observation()
        tagged = records.withColumn("customer_hash", salted_hash(self.salt, record_customer_id(F.col("raw"))))
        tagged = tagged.join(self.hashes, "customer_hash", "left").observe(
            self.observed, F.count_if(F.col("_erased").isNotNull()).alias("erased")
        )
        return tagged.where(F.col("_erased").isNull()).drop("customer_hash", "_erased")

    def count_written(self) -> None:
        """Add the records the last write dropped; a replay Delta skipped ran no write, so counts none."""
        if self.observed is not None and tables.version(self.spark, self.table) > self.before:
            self.dropped += self.observed.get["erased"]
        self.observed = None

    def dropped_by_rule(self) -> dict[str, int]:
        return {ERASED: self.dropped} if self.dropped else {}


def check_gold_reflects_silver(spark, config) -> None:
    """Gold's rows of the customers' orders are rebuilt from silver as it is:
    gold must reflect silver (but for the deletes of a forget that was stopped)."""
    gold = config.table("gold_conversations")
    built = incremental.last_watermark(spark, gold, gold_step.SOURCES["silver_messages"])
    for key, name in gold_step.SOURCES.items():
        if built is None or not tables.exists(spark, config.table(key)):
            continue
        pending = {info.get("operation") for info in tables.commits(spark, config.table(key), built[name])}
        if not pending <= FORGET_OPERATIONS:
            raise PipelineError(
                f"gold does not reflect {config.table(key)} yet: run the pipeline first (make run-local), "
                "then forget"
            )


def found(spark, config, present: dict[str, str], ids: tuple[int, ...]) -> dict[str, dict[int, int]]:
    """{table key: {customer id: rows}} of the customers' rows in each message table."""
    counts = {}
    for key in ("bronze_messages", "silver_messages", "quarantine_messages"):
        if key in present:
            rows = (
                tables.read(spark, present[key]).select(customer_column(key).alias("customer"))
                .where(F.col("customer").isin(list(ids))).groupBy("customer").count().collect()
            )
            counts[key] = {row["customer"]: row["count"] for row in rows}
    return counts


def their_orders(spark, present: dict[str, str], ids: tuple[int, ...]) -> list[int]:
    """The orders of the customers' messages in silver and (valid order ids) in bronze: a customer has few."""
    parts = []
    if "silver_messages" in present:
        parts.append(tables.read(spark, present["silver_messages"]).where(F.col("customer_id").isin(list(ids)))
                     .select("order_id"))
    if "bronze_messages" in present:
        bronze = tables.read(spark, present["bronze_messages"])
        parts.append(bronze.where(customer_column("bronze_messages").isin(list(ids))).select(
            to_id(parse_json_object(F.col("raw"), ("orderId",))["orderId"]).alias("order_id")))
    orders = set()
    for part in parts:
        orders |= {row[0] for row in part.where(F.col("order_id").isNotNull()).distinct().collect()}
    return sorted(orders)


def deleted_since(spark, path: str, before: int) -> int:
    """Rows the DELETE commits after version `before` removed."""
    return sum(int((info.get("operationMetrics") or {}).get("numDeletedRows", 0))
               for info in tables.commits(spark, path, before) if info.get("operation") == "DELETE")


def purge(spark, path: str, first: int, watermark: dict | None) -> int:
    """Vacuum with no retention and drop the history before version `first`
    (the run's first commit on the table); the table's version then. The
    vacuum's commits carry `watermark`, the one the table's readers look for."""
    with incremental.recording(spark, watermark) if watermark else nullcontext():
        tables.purge_removed(spark, path)
    crash_point("forget.before_history")
    tables.forget_history(spark, path, first)
    return tables.version(spark, path)


def carried(spark, path: str, key: str) -> dict | None:
    """The table's current watermark, for the erasure's commits to carry on."""
    return incremental.last_watermark(spark, path, key)


def forget_rows(spark, path: str, condition, watermark: dict | None) -> tuple[int, int]:
    """Delete the matching rows and purge the table: (rows deleted, version)."""
    first = tables.version(spark, path) + 1
    with incremental.recording(spark, watermark) if watermark else nullcontext():
        tables.delete(spark, path, condition)
    crash_point("forget.after_delete")
    return deleted_since(spark, path, first - 1), purge(spark, path, first, watermark)


def forget_conversations(spark, config, present, ids, orders: list[int]) -> tuple[RunStats, list | None]:
    """Gold's conversations of `orders`: deleted, and rebuilt from the silver
    messages left (of other customers); the table purged. Returns the stats
    and the days whose KPIs changed."""
    gold = present["gold_conversations"]
    first = tables.version(spark, gold) + 1
    watermark = {name: tables.version(spark, config.table(key)) for key, name in gold_step.SOURCES.items()}
    in_orders = F.col("order_id").isin(orders)
    conversations = tables.read(spark, gold)
    days = {row[0] for row in conversations.where(in_orders).select("conversation_date").distinct().collect()}
    messages = tables.read(spark, config.table("silver_messages"))
    messages = messages.where(in_orders & ~F.col("customer_id").isin(list(ids)))
    rebuilt = build_conversations(messages, tables.read(spark, config.table("silver_orders")).where(in_orders))
    rebuilt = rebuilt.select(*GOLD_COLUMNS).persist()
    try:
        kept = {row[0] for row in rebuilt.select("conversation_date").distinct().collect()}
        with incremental.recording(spark, watermark):
            if orders:
                tables.delete(spark, gold, in_orders)
            if kept:  # conversations left with messages of other customers
                tables.upsert(spark, rebuilt, gold, ("order_id",))
        days |= kept
        deleted = deleted_since(spark, gold, first - 1)
    finally:
        rebuilt.unpersist()
    crash_point("forget.after_gold")
    version = purge(spark, gold, first, watermark)
    return RunStats("gold_conversations", dropped_by_rule={ERASED: deleted}, delta_version=version), sorted(days)


def recompute_kpis(spark, config, present, days: list, reflected: bool) -> RunStats:
    """The KPIs of `days` from gold as it is now (of every day when the table
    did not reflect gold before the erasure); the table purged."""
    path, gold = present["gold_daily_kpis"], present["gold_conversations"]
    first, gold_version = tables.version(spark, path) + 1, tables.version(spark, gold)
    conversations = tables.read(spark, gold, gold_version)
    if not reflected:
        stats = kpis_step.write(spark, path, build_daily_kpis(conversations), gold_version, None)
    elif days:
        kpis = build_daily_kpis(conversations.where(F.col("conversation_date").isin(days)))
        stats = kpis_step.write(spark, path, kpis, gold_version, days)
    else:
        stats = RunStats(kpis_step.TABLE)
    version = purge(spark, path, first, {KPI_WATERMARK: gold_version})
    return RunStats("gold_daily_kpis", rows_written=stats.rows_written, delta_version=version)


def refuse_remote_rewrite(config, rewrite_landing: bool) -> None:
    landing_folder = config.landing(MESSAGES)
    if rewrite_landing and local_path(landing_folder) is None:
        raise PipelineError(f"--rewrite-landing rewrites local landing files only, not {landing_folder}: "
                            "rewrite the files that forget lists at the source")


def run(spark, config, request: Request) -> list[RunStats]:
    ids = request.customers
    refuse_remote_rewrite(config, request.rewrite_landing)
    keys = ("bronze_messages", "silver_messages", "quarantine_messages", "gold_conversations", "gold_daily_kpis")
    present = {key: config.table(key) for key in keys if tables.exists(spark, config.table(key))}
    check_gold_reflects_silver(spark, config)
    counts = found(spark, config, present, ids)
    list_path = config.meta(LIST)
    salt = erasure.salt(spark, list_path)
    listed = set()
    if salt:
        wanted = {customer_hash(salt, customer): customer for customer in ids}
        on_list = erasure.hashes(spark, list_path).where(F.col("customer_hash").isin(list(wanted))).collect()
        listed = {wanted[row["customer_hash"]] for row in on_list}
    with_records = {customer for table in counts.values() for customer in table}
    for customer in ids:
        if customer not in with_records:
            print(f"forget: no records of customer {customer} in {config.lake}"
                  + ("; already forgotten: finishing its erasure" if customer in listed else ""))
    erase = sorted(with_records | listed)
    if not erase:
        return [RunStats(None)]  # idle: no audit row, nothing written

    salt = salt or erasure.salt(spark, list_path, create=True)
    hashes = [customer_hash(salt, customer) for customer in erase]
    erasure.add(spark, list_path, hashes)
    crash_point("forget.after_list")
    orders = their_orders(spark, present, tuple(erase))
    sources = []
    if "bronze_messages" in present:
        sources = sorted(row[0] for row in tables.read(spark, present["bronze_messages"]).where(
            customer_column("bronze_messages").isin(erase)).select("source_file").distinct().collect())

    def theirs(key):
        # By hash, not id: a DELETE's condition is kept as text in its commit, which stays in the log.
        return salted_hash(salt, customer_column(key)).isin(hashes)

    stats = []
    kpis_reflected = None
    if "gold_daily_kpis" in present and "gold_conversations" in present:
        built = carried(spark, present["gold_daily_kpis"], KPI_WATERMARK)
        kpis_reflected = bool(built) and built[KPI_WATERMARK] == tables.version(spark, present["gold_conversations"])
    if "silver_messages" in present:
        path = present["silver_messages"]
        rows, version = forget_rows(spark, path, theirs("silver_messages"),
                                    carried(spark, path, incremental.BRONZE_BATCH))
        stats.append(RunStats("silver_messages", dropped_by_rule={ERASED: rows}, delta_version=version))
    days = []
    if "gold_conversations" in present:
        gold_stats, days = forget_conversations(spark, config, present, erase, orders)
        stats.append(gold_stats)
    if kpis_reflected is not None:
        stats.append(recompute_kpis(spark, config, present, days, kpis_reflected))
    rewritten, unreadable = {}, []
    if request.rewrite_landing and sources:  # before bronze, where a rerun after a crash finds the files again
        rewritten, unreadable = landing_records.rewrite_without(
            spark, config, MESSAGES, sources, theirs("bronze_messages")
        )
        crash_point("forget.after_landing")
    for key in ("quarantine_messages", "bronze_messages"):  # bronze last: see the module's docstring
        if key in present:
            path = present[key]
            rows, version = forget_rows(spark, path, theirs(key), carried(spark, path, incremental.BRONZE_BATCH))
            stats.append(RunStats(key, dropped_by_rule={ERASED: rows}, delta_version=version))
    described = ", ".join(hashes)
    for item in stats:
        item.input = f"erased customers (salted sha2-256): {described}"
    summary = ", ".join(f"{item.dataset} {item.dropped_by_rule.get(ERASED, 0)}" for item in stats
                        if item.dataset != "gold_daily_kpis")
    print(f"forget: {len(erase)} customers erased; rows deleted: {summary}; "
          f"KPIs of {len(days) if kpis_reflected else 'all'} days recomputed; older versions and their "
          f"history removed; later records of theirs will be dropped by bronze ({list_path})")
    if rewritten:
        print(f"forget: {len(rewritten)} landing files rewritten without their {sum(rewritten.values())} records "
              f"({config.landing(MESSAGES)}; bronze does not take them again)")
    if unreadable:
        print(f"forget: landing files that could not be read to rewrite them (remove them at the source): "
              f"{shown(unreadable)}")
    elif sources and not request.rewrite_landing:
        print(f"forget: landing files still holding their records (bronze does not read them again; remove or "
              f"rewrite them at the source, or give --rewrite-landing next time): {shown(sources)}")
    return stats


def shown(paths: list[str]) -> str:
    return ", ".join(paths[:10]) + (f" ... ({len(paths)} files)" if len(paths) > 10 else "")


def erased(stats: Iterable[RunStats]) -> bool:
    """Whether a forget run erased anyone (its stats are not the idle row)."""
    return any(not item.idle for item in stats)
