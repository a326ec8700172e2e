"""Ad-hoc SQL with Spark's own tools on a real lake: spark-sql (make sql) and the
endpoints of make serve (Thrift JDBC through beeline, Spark Connect through the
Python client), checked against the reference model."""

import json
import os
import re
import socket
import subprocess
import sys
from collections import Counter
from itertools import accumulate
from pathlib import Path

import pytest

from pipeline.outputs.serve import PASSWORD_VARIABLE, TOKEN_VARIABLE
from pipeline.runtime.config import REPO_ROOT
from tests.support import reference_model
from tests.support.lakes import run_job, run_pipeline, small_lake_env, table
from tests.support.ports import free_port
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
def lake(drops_lake):
    return drops_lake  # conftest's, built once: read-only endpoints and read-only statements


def test_spark_sql_runs_a_statement_and_a_file_on_the_tables_by_name(lake, tmp_path):
    gold = reference_model.build_expected(str(lake))["gold"]
    output = run_job("sql", lake, "-e", "SELECT count(*) FROM gold.customer_agent_conversations")
    assert output.split() == [str(len(gold))]

    script = tmp_path / "daily.sql"
    script.write_text(DAILY_WINDOW + ";\n")
    output = run_job("sql", lake, "-f", str(script))
    rows = [tuple(line.split("\t")) for line in output.splitlines()]
    assert [(day, int(n), int(total)) for day, n, total in rows] == expected_daily_window(lake)


def test_make_sql_with_q_and_a_bad_statement_gets_one_error_line(lake):
    make = ["make", "--no-print-directory", "sql", f"LAKE={lake}"]
    result = subprocess.run([*make, "Q=SELECT count(*) FROM meta.pipeline_runs WHERE status = 'succeeded'"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env=small_lake_env())
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 4  # bronze, silver, gold and kpis each wrote audit rows
    assert "Time taken" not in result.stderr, result.stderr  # not for the statements that name the tables

    result = subprocess.run([*make, "Q=SELECT nope FROM gold.customer_agent_conversations"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env=small_lake_env())
    assert result.returncode == 2  # make's own, for a recipe that exited 1
    # Spark's message on one line, its plan only in the log
    [line] = [text for text in result.stderr.splitlines() if text.startswith("sql: error:")]
    assert "Project ['nope]" not in result.stderr and "SQLSTATE" not in result.stderr.replace(line, ""), result.stderr
    assert line.startswith("sql: error: [UNRESOLVED_COLUMN.WITH_SUGGESTION]") and "SQLSTATE: 42703" in line, line
    log = Path(re.search(r"\(details: (.+)\)$", line)[1])
    assert "Project ['nope]" in log.read_text()


def test_sql_on_a_missing_lake_is_one_error_line(tmp_path):
    result = subprocess.run([str(REPO_ROOT / "spark-submit.sh"), "sql", "--lake", str(tmp_path / "nowhere")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"sql: error: lake folder not found: {tmp_path / 'nowhere'}"]


def listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Server:
    """make serve's script on a lake with free ports; stopped at the end."""

    def __init__(self, lake, folder):
        self.lake, self.pid_file = lake, folder / "serve.pid"
        self.thrift, self.connect = free_port(), free_port()
        self.password = None  # beeline's, when the server wants one

    def start(self, *options, env=None):
        result = subprocess.run(
            [str(REPO_ROOT / "scripts/serve.sh"), "start", str(self.pid_file), "--lake", str(self.lake),
             "--thrift-port", str(self.thrift), "--connect-port", str(self.connect), "--refresh", "1", *options],
            capture_output=True, text=True, timeout=400, env=small_lake_env(env))
        assert result.returncode == 0, result.stderr
        return result.stdout

    def stop(self):
        return subprocess.run([str(REPO_ROOT / "scripts/serve.sh"), "stop", str(self.pid_file)],
                              capture_output=True, text=True, timeout=120)

    def beeline(self, *statement, password=None):
        """`statement`: -e "SQL" as one argument, or beeline's own options; `password` replaces self.password."""
        env = {key: value for key, value in os.environ.items() if key != PASSWORD_VARIABLE}
        if password or self.password:
            env[PASSWORD_VARIABLE] = password or self.password
        options = ["-e", statement[0]] if len(statement) == 1 else list(statement)
        return subprocess.run([str(REPO_ROOT / "scripts/beeline.sh"), str(self.thrift), "--silent=true",
                               "--outputformat=csv2", "--showHeader=false", *options],
                              capture_output=True, text=True, timeout=120, env=env)


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


# Issue 30: every attempt of a new user, through beeline and the separate pyspark-client package,
# against ONE secured server (each start costs a JVM): refused with one line, and the server answers after.
CONNECT_CLIENT_PYTHON = REPO_ROOT / ".connect-client-venv/bin/python"  # made by the Makefile (make test)
READ_ONLY = "Error: [PIPELINE_READ_ONLY] "
NOT_A_TABLE = "this endpoint serves only the lake's tables: "
FIXED = "this endpoint's settings are fixed: "
NO_CODE = "this endpoint runs no client code: "
WRITE = "this endpoint is read-only: "


@pytest.fixture(scope="module")
def secured(lake, tmp_path_factory):
    """A read-only server on the pipeline's lake with a password given by the user and a token of its own making."""
    folder = tmp_path_factory.mktemp("secured")
    server = Server(lake, folder)
    auth = folder / "serve.auth"
    env = {key: value for key, value in os.environ.items() if key != TOKEN_VARIABLE}
    started = server.start("--auth", str(auth), env={**env, PASSWORD_VARIABLE: "users-own-password"})
    try:
        assert f"serve: clients authenticate with the token and password in {auth} (mode 600)" in started
        assert auth.stat().st_mode & 0o777 == 0o600
        values = dict(line.split("=", 1) for line in auth.read_text().splitlines())
        assert values[PASSWORD_VARIABLE] == "users-own-password"
        assert len(values[TOKEN_VARIABLE]) >= 32
        server.token, server.password = values[TOKEN_VARIABLE], values[PASSWORD_VARIABLE]
        server.scratch = folder / "scratch"
        server.scratch.mkdir()
        yield server
    finally:
        stopped = server.stop()
        assert stopped.returncode == 0, stopped.stderr


def still_answers(server, lake):
    answer = server.beeline("SELECT count(*) FROM gold.customer_agent_conversations")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split()[-1] == str(len(reference_model.build_expected(str(lake))["gold"]))


# (statement, the refusal's start after "Error: [PIPELINE_READ_ONLY] ")
JDBC_ATTEMPTS = [
    ("SELECT * FROM text.`/etc/passwd`", NOT_A_TABLE + "SQL on files (text.`/etc/passwd`) refused"),
    ("SELECT * FROM parquet.`{lake}/gold/customer_agent_conversations`", NOT_A_TABLE + "SQL on files (parquet."),
    ("SELECT count(*) FROM gold.customer_agent_conversations WHERE order_id IN "
     "(SELECT length(value) FROM text.`/etc/passwd`)", NOT_A_TABLE + "SQL on files (text.`/etc/passwd`) refused"),
    ("LOAD DATA LOCAL INPATH '/etc/passwd' INTO TABLE gold.customer_agent_conversations", WRITE + "LoadData refused"),
    ("CREATE TEMPORARY VIEW passwd USING text OPTIONS (path '/etc/passwd')",
     NOT_A_TABLE + "a view over files (CREATE TEMPORARY VIEW passwd USING text) refused"),
    ("SET spark.sql.runSQLOnFiles=true", FIXED + "spark.sql.runSQLOnFiles refused (a client may set only "
     "spark.sql.shuffle.partitions, spark.sql.session.timeZone, spark.sql.ansi.enabled, spark.sql.adaptive.enabled"),
    ("SET spark.sql.catalog.other=org.apache.spark.sql.execution.datasources.v2.jdbc.JDBCTableCatalog",
     FIXED + "spark.sql.catalog.other refused"),
    ("SET fs.file.impl=org.apache.hadoop.fs.RawLocalFileSystem", FIXED + "fs.file.impl refused"),
    ("RESET spark.sql.runSQLOnFiles", FIXED + "spark.sql.runSQLOnFiles refused"),
    ("INSERT OVERWRITE DIRECTORY '{scratch}/out' USING parquet SELECT 1", WRITE + "InsertIntoDataSourceDir"),
    ("DROP TABLE gold.customer_agent_conversations", WRITE + "DropTable refused"),
    ("ADD JAR {scratch}/code.jar", WRITE + "AddJarsCommand refused"),
    ("CREATE TEMPORARY FUNCTION f AS 'java.lang.String'", WRITE + "CreateFunctionCommand refused"),
    ("SELECT reflect('java.lang.System', 'exit', 3)", NO_CODE + "reflect() refused"),
    ("SELECT TRANSFORM(1) USING 'touch {scratch}/script-ran'", NO_CODE + "ScriptTransformation refused"),
]


def test_jdbc_refuses_each_attempt_with_one_line_and_still_answers_by_name(secured, lake, tmp_path):
    statements = [statement.format(lake=lake, scratch=secured.scratch) for statement, _ in JDBC_ATTEMPTS]
    script = tmp_path / "attempts.sql"
    script.write_text("".join(f"{statement};\n" for statement in statements))
    result = secured.beeline("--force=true", "-f", str(script))  # goes on after each error
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == len(JDBC_ATTEMPTS), result.stderr[-3000:]
    for error, (statement, refusal) in zip(errors, JDBC_ATTEMPTS):
        assert error.startswith(READ_ONLY + refusal), (statement, error)
    assert all(not line.startswith(("\tat ", "Caused by")) for line in result.stderr.splitlines())
    assert not (secured.scratch / "script-ran").exists() and not (secured.scratch / "out").exists()

    # A setting of the list, then the queries by name, a view over a table and the window query answer.
    script.write_text("SET spark.sql.shuffle.partitions=3;\n"
                      "CREATE TEMPORARY VIEW conversations AS SELECT * FROM gold.customer_agent_conversations;\n"
                      f"{DAILY_WINDOW.replace('gold.customer_agent_conversations', 'conversations')};\n")
    answer = secured.beeline("-f", str(script))
    assert answer.returncode == 0, answer.stderr
    # csv2 prints a statement without a result (the CREATE) as "null", with no line break after it.
    lines = answer.stdout.replace("null", "").splitlines()
    rows = [tuple(line.split(",")) for line in lines if line.count(",") == 2]  # not SET's line
    assert [(day, int(n), int(total)) for day, n, total in rows] == expected_daily_window(lake)
    still_answers(secured, lake)


def test_jdbc_wants_the_password(secured, lake):
    for password in (None, "wrong"):
        refused = secured.beeline("SELECT 1", password=password) if password else subprocess.run(
            [str(REPO_ROOT / "scripts/beeline.sh"), str(secured.thrift), "-e", "SELECT 1"], capture_output=True,
            text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != PASSWORD_VARIABLE})
        assert refused.returncode != 0
        assert "Error validating the login" in refused.stderr, refused.stderr[-2000:]
    still_answers(secured, lake)


def test_spark_connect_client_is_refused_each_attempt_with_one_line_and_served_tables(secured, lake):
    if not CONNECT_CLIENT_PYTHON.exists():
        pytest.fail("no .connect-client-venv: run 'make .connect-client-venv/.installed' (make test does)")
    client = subprocess.run(
        [str(CONNECT_CLIENT_PYTHON), str(REPO_ROOT / "tests/support/connect_attempts.py"), str(secured.connect),
         secured.token, str(lake), str(secured.scratch)],
        capture_output=True, text=True, timeout=300,
        env={key: value for key, value in os.environ.items() if key not in (TOKEN_VARIABLE, "SPARK_HOME")})
    assert client.returncode == 0, client.stderr[-3000:]
    result = json.loads(client.stdout.splitlines()[-1])
    # gRPC's own refusal, before any Spark code: status UNAUTHENTICATED and its details.
    assert "No authentication token provided" in result["no token"]["text"]
    assert "Invalid authentication token" in result["wrong token"]["text"]
    refusals = {
        "read text": NOT_A_TABLE + "reading text /etc/passwd refused",
        "sql on a file": NOT_A_TABLE + "SQL on files (text.`/etc/passwd`) refused",
        "parquet read of a table's folder": NOT_A_TABLE + "reading parquet",
        "set runSQLOnFiles": FIXED + "spark.sql.runSQLOnFiles refused",
        "unset runSQLOnFiles": FIXED + "spark.sql.runSQLOnFiles refused",
        "SET a catalog": FIXED + "spark.sql.catalog.other refused",
        "python udf": NO_CODE + "CommonInlineUserDefinedFunction refused",
        "mapInPandas": NO_CODE,
        "artifact": NO_CODE + "uploading artifacts",
        "reflect": NO_CODE + "reflect() refused",
        "write": WRITE,
        "drop": WRITE + "DropTable refused",
    }
    for name, refusal in refusals.items():
        error = result[name].get("error", "")
        # Refusals made in Spark's plan check come with the exception's class in front.
        assert error.removeprefix("(pipeline.sql.Refusal) ").startswith("[PIPELINE_READ_ONLY] " + refusal), \
            (name, result[name])
        assert result[name]["lines"] == 1, (name, result[name])
    assert result["client code ran"] is False
    assert not (secured.scratch / "written").exists()

    gold = reference_model.build_expected(str(lake))["gold"]
    assert result["set shuffle partitions"] == {"ok": None}
    assert result["count"] == {"ok": len(gold)}
    assert result["delta read of a table's path"] == {"ok": len(gold)}
    assert [(day, int(n), int(total)) for day, n, total in result["window"]["ok"]] == expected_daily_window(lake)
    priorities = Counter(row["priority"] for row in gold.values())
    assert result["dataframe"]["ok"] == [[str(flag), str(n)] for flag, n in sorted(priorities.items())]
    still_answers(secured, lake)
