"""Ad-hoc SQL with Spark's own tools on a real lake: spark-sql (make sql) and the
endpoints of make serve (Thrift JDBC through beeline, Spark Connect through the
Python client), checked against the reference model."""

import json
import re
import socket
import subprocess
import sys
from collections import Counter
from itertools import accumulate

import pytest

from pipeline.runtime.config import REPO_ROOT
from tests.support import reference_model
from tests.support.lakes import run_job, run_pipeline, small_lake_env, table
from tools.generator import generate

pytestmark = pytest.mark.e2e

DAILY_WINDOW = (
    "SELECT conversation_date, count(*) AS conversations,\n"
    "       sum(count(*)) OVER (ORDER BY conversation_date) AS running_total\n"
    "FROM gold.customer_agent_conversations GROUP BY conversation_date ORDER BY conversation_date"
)


def expected_daily_window(lake):
    """DAILY_WINDOW computed from the reference model: conversations per day and their running sum."""
    per_day = sorted(Counter(row["conversation_date"] for row in reference_model.build_expected(str(lake))["gold"]
                             .values()).items())
    running = accumulate(count for _, count in per_day)
    return [(day.isoformat(), count, total) for (day, count), total in zip(per_day, running)]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    generate(str(lake), orders=60, seed=23)
    run_pipeline(lake)
    return lake


def test_spark_sql_runs_a_statement_and_a_file_on_the_tables_by_name(lake, tmp_path):
    gold = reference_model.build_expected(str(lake))["gold"]
    output = run_job("sql", lake, "-e", "SELECT count(*) FROM gold.customer_agent_conversations")
    assert output.split() == [str(len(gold))]

    script = tmp_path / "daily.sql"
    script.write_text(DAILY_WINDOW + ";\n")
    output = run_job("sql", lake, "-f", str(script))
    rows = [tuple(line.split("\t")) for line in output.splitlines()]
    assert [(day, int(n), int(total)) for day, n, total in rows] == expected_daily_window(lake)


def test_make_sql_with_q_and_a_bad_statement_gets_spark_sqls_error_and_exit_1(lake):
    make = ["make", "--no-print-directory", "sql", f"LAKE={lake}"]
    result = subprocess.run([*make, "Q=SELECT count(*) FROM meta.pipeline_runs WHERE status = 'succeeded'"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env=small_lake_env())
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 4  # bronze, silver, gold and kpis each wrote audit rows

    result = subprocess.run([*make, "Q=SELECT nope FROM gold.customer_agent_conversations"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env=small_lake_env())
    assert result.returncode != 0
    assert "[UNRESOLVED_COLUMN.WITH_SUGGESTION]" in result.stderr


def test_sql_on_a_missing_lake_is_one_error_line(tmp_path):
    result = subprocess.run([str(REPO_ROOT / "spark-submit.sh"), "sql", "--lake", str(tmp_path / "nowhere")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"sql: error: lake folder not found: {tmp_path / 'nowhere'}"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Server:
    """make serve's script on a lake with free ports; stopped at the end."""

    def __init__(self, lake, folder):
        self.lake, self.pid_file = lake, folder / "serve.pid"
        self.thrift, self.connect = free_port(), free_port()

    def start(self):
        result = subprocess.run(
            [str(REPO_ROOT / "scripts/serve.sh"), "start", str(self.pid_file), "--lake", str(self.lake),
             "--thrift-port", str(self.thrift), "--connect-port", str(self.connect), "--refresh", "1"],
            capture_output=True, text=True, timeout=400, env=small_lake_env())
        assert result.returncode == 0, result.stderr
        return result.stdout

    def stop(self):
        return subprocess.run([str(REPO_ROOT / "scripts/serve.sh"), "stop", str(self.pid_file)],
                              capture_output=True, text=True, timeout=120)

    def beeline(self, statement):
        return subprocess.run([str(REPO_ROOT / "scripts/beeline.sh"), str(self.thrift), "--silent=true",
                               "--outputformat=csv2", "--showHeader=false", "-e", statement],
                              capture_output=True, text=True, timeout=120)


CONNECT_CLIENT = """
import json, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
gold = spark.table("gold.customer_agent_conversations")
result = {"rows": gold.count(), "priority": gold.where("priority").count()}
try:
    spark.range(1).write.format("delta").save(sys.argv[2])
except Exception as err:
    result["write"] = str(err).splitlines()[0]
print(json.dumps(result))
"""


def test_serve_answers_jdbc_and_spark_connect_by_name_read_only_and_fresh(spark, tmp_path):
    lake = tmp_path / "lake"
    generate(str(lake), orders=40, seed=5)
    run_job("bronze", lake)  # gold does not exist yet when the server starts
    server = Server(lake, tmp_path)
    try:
        started = server.start()
        assert re.match(rf"serve: read-only SQL on {lake} \(\d tables\): JDBC jdbc:hive2://127.0.0.1:"
                        rf"{server.thrift}, Spark Connect sc://127.0.0.1:{server.connect};", started), started
        bronze_orders = table(spark, lake, "bronze_orders").count()
        assert server.beeline("SELECT count(*) FROM bronze.orders").stdout.split()[-1] == str(bronze_orders)

        run_pipeline(lake)  # silver, gold and kpis appear, without a restart
        gold = reference_model.build_expected(str(lake))["gold"]
        answer = server.beeline("SELECT count(*) FROM gold.customer_agent_conversations")
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.split()[-1] == str(len(gold))

        refused = server.beeline("CREATE TABLE gold.scratch (id INT) USING delta")
        assert refused.returncode != 0
        errors = [line for line in refused.stderr.splitlines() if line.startswith("Error")]
        assert errors == ["Error: [PIPELINE_READ_ONLY] this endpoint is read-only: CreateTable refused (the lake "
                          "changes only through the pipeline's jobs; start the server with --allow-writes to permit "
                          "it)"]
        bad = server.beeline("SELECT nope FROM gold.customer_agent_conversations")
        assert [line for line in bad.stderr.splitlines() if line.startswith("Error")][0].startswith(
            "Error: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `nope`")
        assert all(not line.startswith(("\tat ", "Caused by")) for line in bad.stderr.splitlines())

        client = subprocess.run(
            [sys.executable, "-c", CONNECT_CLIENT, f"sc://127.0.0.1:{server.connect}", str(lake / "gold/scratch")],
            capture_output=True, text=True, timeout=300)
        assert client.returncode == 0, client.stderr[-2000:]
        result = json.loads(client.stdout.splitlines()[-1])
        assert result["rows"] == len(gold)
        assert result["priority"] == sum(row["priority"] for row in gold.values())
        assert "[PIPELINE_READ_ONLY]" in result["write"]
        assert not (lake / "gold/scratch").exists()

        # Fresh data: a late file for a new order, the pipeline runs, the next query sees it.
        late = {"orderId": 999001, "cityCode": "LATE"}
        (lake / "landing/orders/late.jsonl").write_text(json.dumps(late) + "\n")
        run_pipeline(lake)
        answer = server.beeline("SELECT city_code FROM silver.orders WHERE order_id = 999001")
        assert answer.stdout.split()[-1] == "LATE", answer.stderr
    finally:
        stopped = server.stop()
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == "serve: stopped"
    assert not server.pid_file.exists()
    assert not listening(server.thrift) and not listening(server.connect)
