"""Run by tests/test_sql_endpoints.py with the separate pyspark-client package
(.connect-client-venv), as a new user of `make serve` would: each attempt of
issue 30 against a read-only endpoint, then queries that must still answer.
Prints one JSON object: attempt -> {"ok": value} or {"error": first line, "lines": n, "text": all}.

    connect_attempts.py PORT TOKEN LAKE SCRATCH
"""

import json
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

port, token, lake, scratch = sys.argv[1:5]
TABLE = "gold.customer_agent_conversations"
MARKER = os.path.join(scratch, "client-code-ran")  # what a client's code would write on the server
WINDOW = ("SELECT conversation_date, count(*) AS conversations, sum(count(*)) OVER (ORDER BY conversation_date) "
          f"AS running_total FROM {TABLE} GROUP BY conversation_date ORDER BY conversation_date")


def attempt(action):
    try:
        return {"ok": action()}
    except Exception as err:
        text = str(err).strip()
        return {"error": text.splitlines()[0], "lines": len(text.splitlines()), "text": text}


def writes_a_file(value):
    with open(MARKER, "w", encoding="utf-8") as out:
        out.write("ran")
    return value


def pandas_writes_a_file(batches):
    writes_a_file(None)
    yield from batches


def rows(frame):
    return [[str(value) for value in row] for row in frame.collect()]


spark = SparkSession.builder.remote(f"sc://localhost:{port}/;token={token}").create()
results = {}
results.update({
    "read text": attempt(lambda: spark.read.text("/etc/passwd").count()),
    "sql on a file": attempt(lambda: spark.sql("SELECT * FROM text.`/etc/passwd`").count()),
    "parquet read of a table's folder": attempt(lambda: spark.read.parquet(f"{lake}/gold/customer_agent_conversations")
                                                .count()),
    "set runSQLOnFiles": attempt(lambda: spark.conf.set("spark.sql.runSQLOnFiles", "true")),
    "unset runSQLOnFiles": attempt(lambda: spark.conf.unset("spark.sql.runSQLOnFiles")),
    "SET a catalog": attempt(lambda: spark.sql("SET spark.sql.catalog.other=x.Y").count()),
    "python udf": attempt(lambda: spark.table(TABLE).select(F.udf(writes_a_file, "long")("order_id")).count()),
    "mapInPandas": attempt(lambda: spark.table(TABLE).mapInPandas(pandas_writes_a_file, "order_id long").count()),
    "artifact": attempt(lambda: spark.addArtifacts(__file__, pyfile=True)),
    "reflect": attempt(lambda: spark.sql("SELECT reflect('java.lang.System', 'exit', 3)").count()),
    "write": attempt(lambda: spark.range(1).write.parquet(os.path.join(scratch, "written"))),
    "drop": attempt(lambda: spark.sql(f"DROP TABLE {TABLE}").count()),
    # What must still answer:
    "set shuffle partitions": attempt(lambda: spark.conf.set("spark.sql.shuffle.partitions", "3")),
    "count": attempt(lambda: spark.table(TABLE).count()),
    "delta read of a table's path": attempt(
        lambda: spark.read.format("delta").load(f"{lake}/gold/customer_agent_conversations").count()),
    "window": attempt(lambda: rows(spark.sql(WINDOW))),
    "dataframe": attempt(lambda: rows(spark.table(TABLE).groupBy("priority").agg(F.count("*").alias("n"))
                                      .orderBy("priority"))),
})
results["client code ran"] = os.path.exists(MARKER)
# Without the token, then a wrong one, last: a new session becomes the active one, which UDFs use.
# (Without TLS the client sends a token only to localhost.)
results["no token"] = attempt(lambda: SparkSession.builder.remote(f"sc://127.0.0.1:{port}").create().range(1).count())
results["wrong token"] = attempt(
    lambda: SparkSession.builder.remote(f"sc://localhost:{port}/;token=wrong").create().range(1).count())
print(json.dumps(results))
