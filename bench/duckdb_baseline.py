"""The same landing-to-gold logic in DuckDB SQL: the single-node baseline of `make bench`.

    python bench/duckdb_baseline.py LAKE [--check]

Reads LAKE/landing (JSON Lines or arrays, gzipped or not, in file-name order),
types and validates the records with the contract's rules, deduplicates events
(first ingested wins), keeps the last ingested record per order, and writes
customer_agent_conversations to LAKE/duckdb/customer_agent_conversations.parquet.
With --check it compares that, row for row, with the pipeline's gold table.
It is a benchmark baseline, not a second pipeline: no quarantine, no Delta,
no incremental runs. duckdb is a benchmark-only dependency (`.[bench]`).
"""

import argparse
import gzip
import sys
import time
from pathlib import Path

import duckdb

LANDING = {"messages": "customer_agent_messages", "orders": "orders"}
PATTERNS = ("*.json", "*.jsonl", "*.json.gz", "*.jsonl.gz")

# The time grammar of pipeline/timestamps.py: epoch milliseconds or ISO with an
# optional fraction and zone; one regex pass extracts every field.
ISO = (
    r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[T ]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})"
    r"(?:\.([0-9]{0,9}))?(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)

MESSAGES_SQL = f"""
CREATE TABLE messages AS
WITH fields AS (
    SELECT rowid AS seq, json_type(json) = 'OBJECT' AS is_object,
           json_extract_string(json, ['senderDeviceType', 'customerId', 'fromId', 'toId',
               'chatStartedByMessage', 'orderId', 'priority', 'resolution', 'agentId', 'orderStage',
               'messageSentTime']) AS f
    FROM raw_messages
), typed AS (
    SELECT seq, is_object, f[1] AS sender_device_type,
           CASE WHEN regexp_full_match(f[2], '-?[0-9]+') THEN TRY_CAST(f[2] AS BIGINT) END AS customer_id,
           CASE WHEN regexp_full_match(f[3], '-?[0-9]+') THEN TRY_CAST(f[3] AS BIGINT) END AS from_id,
           CASE WHEN regexp_full_match(f[4], '-?[0-9]+') THEN TRY_CAST(f[4] AS BIGINT) END AS to_id,
           coalesce(f[5] = 'true', false) AS chat_started_by_message,
           CASE WHEN regexp_full_match(f[6], '-?[0-9]+') THEN TRY_CAST(f[6] AS BIGINT) END AS order_id,
           coalesce(f[7] = 'true', false) AS priority,
           coalesce(f[8] = 'true', false) AS resolution,
           CASE WHEN regexp_full_match(f[9], '-?[0-9]+') THEN TRY_CAST(f[9] AS BIGINT) END AS agent_id,
           f[10] AS order_stage, trim(f[11]) AS sent_text,
           regexp_extract(trim(f[11]), '{ISO}', ['y', 'mo', 'd', 'h', 'mi', 's', 'frac', 'zone']) AS iso
    FROM fields
), timed AS (
    SELECT *,
        replace(iso.zone, ':', '') AS zone,
        CASE WHEN iso.zone IN ('', 'Z') THEN 0
             ELSE (CASE WHEN iso.zone[1] = '-' THEN -1 ELSE 1 END)
                  * (TRY_CAST(replace(iso.zone, ':', '')[2:3] AS INT) * 60
                     + TRY_CAST(replace(iso.zone, ':', '')[4:5] AS INT)) END AS offset_minutes,
        try_strptime(iso.y || '-' || iso.mo || '-' || iso.d || ' ' || iso.h || ':' || iso.mi || ':' || iso.s,
                     '%Y-%m-%d %H:%M:%S') AS wall_clock
    FROM typed
), parsed AS (
    SELECT *, CASE
        WHEN regexp_full_match(sent_text, '[0-9]{{1,13}}') THEN epoch_ms(CAST(sent_text AS BIGINT))
        WHEN iso.y <> '' AND wall_clock IS NOT NULL AND TRY_CAST(iso.s AS INT) < 60
             AND coalesce(TRY_CAST(zone[4:5] AS INT), 0) < 60 AND abs(offset_minutes) <= 18 * 60
        THEN make_timestamp(epoch_us(wall_clock)
                            + CAST(rpad(iso.frac[1:6], 6, '0') AS BIGINT)
                            - CAST(offset_minutes AS BIGINT) * 60000000)
    END AS message_sent_at
    FROM timed
)
SELECT seq, order_id, customer_id, from_id, to_id, agent_id,
       CASE WHEN from_id = customer_id THEN 'customer' ELSE 'agent' END AS sender_role,
       sender_device_type, chat_started_by_message, priority, resolution, order_stage, message_sent_at
FROM parsed
WHERE is_object AND order_id IS NOT NULL AND from_id IS NOT NULL AND customer_id IS NOT NULL
  AND message_sent_at IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY order_id, from_id, to_id, message_sent_at, sender_device_type, chat_started_by_message
    ORDER BY seq) = 1
"""

ORDERS_SQL = """
CREATE TABLE orders AS
SELECT order_id, city_code FROM (
    SELECT rowid AS seq, json_extract_string(json, '$.cityCode') AS city_code,
           CASE WHEN regexp_full_match(json_extract_string(json, '$.orderId'), '-?[0-9]+')
                THEN TRY_CAST(json_extract_string(json, '$.orderId') AS BIGINT) END AS order_id
    FROM raw_orders WHERE json_type(json) = 'OBJECT'
)
WHERE order_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY seq DESC) = 1
"""

GOLD_SQL = """
CREATE TABLE gold AS
WITH ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY order_id ORDER BY message_sent_at, chat_started_by_message DESC,
            sender_role = 'agent', from_id NULLS FIRST, to_id NULLS FIRST,
            sender_device_type NULLS FIRST) AS position,
        count(*) OVER (PARTITION BY order_id) AS messages
    FROM messages
), per_order AS (
    SELECT order_id,
        min(message_sent_at) FILTER (sender_role = 'agent') AS first_agent_message,
        min(message_sent_at) FILTER (sender_role = 'customer') AS first_customer_message,
        count(*) FILTER (sender_role = 'agent') AS num_messages_agent,
        count(*) FILTER (sender_role = 'customer') AS num_messages_customer,
        any_value(sender_role) FILTER (position = 1) AS first_message_by,
        min(message_sent_at) AS conversation_started_at,
        any_value(message_sent_at) FILTER (position = messages) AS last_message_time,
        any_value(order_stage) FILTER (position = messages) AS last_message_order_stage,
        CAST(count(DISTINCT agent_id) AS INT) AS num_agents,
        bool_or(priority) AS priority,
        bool_or(resolution) AS resolved
    FROM ranked GROUP BY order_id
)
SELECT p.order_id, o.city_code, first_agent_message, first_customer_message,
       num_messages_agent, num_messages_customer, first_message_by, conversation_started_at,
       (epoch_us(CASE WHEN first_message_by = 'customer' THEN first_agent_message ELSE first_customer_message END)
        - epoch_us(conversation_started_at)) // 1000000 AS first_response_time_delay_seconds,
       last_message_time, last_message_order_stage, num_agents, priority, resolved,
       CAST(conversation_started_at AS DATE) AS conversation_date
FROM per_order p LEFT JOIN orders o USING (order_id)
"""


def landing_files(lake: Path, dataset: str) -> tuple[list[str], list[str]]:
    """(array files, JSON Lines files) in ingestion (file-name) order: a file is
    an array when its first non-blank character is '[', whatever its extension."""
    folder = lake / "landing" / LANDING[dataset]
    arrays, lines = [], []
    for path in sorted({p for pattern in PATTERNS for p in folder.glob(pattern)}):
        with (gzip.open if path.name.endswith(".gz") else open)(path, "rb") as f:
            head = f.read(4096).lstrip()
        (arrays if head.startswith(b"[") else lines).append(str(path))
    return arrays, lines


def load_raw(con, lake: Path, dataset: str) -> None:
    """raw_<dataset>(json) in ingestion order, so rowid is the ingestion order.
    A broken array file is skipped (the pipeline quarantines it)."""
    table = f"raw_{dataset}"
    con.execute(f"CREATE TABLE {table} (json JSON)")
    arrays, lines = landing_files(lake, dataset)
    for path in sorted(arrays + lines):
        fmt = "array" if path in arrays else "newline_delimited"
        try:
            con.execute(
                f"INSERT INTO {table} SELECT json FROM read_json_objects(?, format = '{fmt}', ignore_errors = true)",
                [path],
            )
        except duckdb.InvalidInputException:
            if fmt != "array":
                raise


def build_gold(lake: Path) -> tuple[duckdb.DuckDBPyConnection, int]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    load_raw(con, lake, "messages")
    load_raw(con, lake, "orders")
    con.execute(MESSAGES_SQL)
    con.execute(ORDERS_SQL)
    con.execute(GOLD_SQL)
    out = lake / "duckdb"
    out.mkdir(exist_ok=True)
    con.execute(f"COPY gold TO '{out / 'customer_agent_conversations.parquet'}' (FORMAT parquet)")
    messages = con.execute("SELECT count(*) FROM raw_messages").fetchone()[0]
    return con, messages


def differences(con, gold_dir: Path) -> int:
    """Rows in one result and not the other; the pipeline's gold is read from its
    Parquet files, which are all live right after a full rebuild."""
    con.execute(
        f"CREATE VIEW pipeline AS SELECT * EXCLUDE (conversation_date), CAST(conversation_date AS DATE) AS conversation_date "
        f"FROM read_parquet('{gold_dir}/**/*.parquet', hive_partitioning = true)"
    )
    columns = [row[0] for row in con.execute("DESCRIBE gold").fetchall()]
    select = ", ".join(
        f"CAST({c} AS TIMESTAMP)" if c.endswith(("_message", "_at", "_time")) else c for c in columns
    )
    return con.execute(
        f"SELECT count(*) FROM ((SELECT {select} FROM gold EXCEPT ALL SELECT {select} FROM pipeline) "
        f"UNION ALL (SELECT {select} FROM pipeline EXCEPT ALL SELECT {select} FROM gold))"
    ).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lake", type=Path)
    parser.add_argument("--check", action="store_true", help="compare with the pipeline's gold table")
    args = parser.parse_args()
    started = time.perf_counter()
    con, messages = build_gold(args.lake)
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM gold").fetchone()[0]
    print(f"duckdb: {messages} message records -> {rows} conversations in {seconds:.1f} s")
    if args.check:
        diff = differences(con, args.lake / "gold" / "customer_agent_conversations")
        print(f"duckdb: {diff} rows differ from the pipeline's gold table")
        sys.exit(1 if diff else 0)


if __name__ == "__main__":
    main()
