"""Benchmark the pipeline as a user runs it, against two baselines on the same files.

    python bench/run.py [--size 1M] [--runs 3] [--keep]

Generates about SIZE messages (~8 per order, every messy form) into a scratch
lake. Each run deletes the tables and times `make run-local LAKE=...` (bronze,
silver, gold and kpis in one Spark application, start-up included), then
bench/plain_spark.py (the same landing-to-gold logic as one plain PySpark job
writing Parquet, same driver memory and JIT flag, start-up included) and
bench/duckdb_baseline.py on the same landing files; peak memory is the largest
process of each (the driver JVM). Step times come from the run audit table.
Prints medians over the runs, the ratios pipeline / plain Spark and pipeline /
DuckDB, checks that all three built the same gold rows, a no-op rerun, and an
incremental run after landing 1% more messages (new files touching existing
orders) with its ratio to the full run.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.duckdb_baseline import differences  # noqa: E402
from tools.generator import MESSAGES_PER_ORDER, generate  # noqa: E402

STEPS = ("bronze", "silver", "gold", "kpis")
TABLE_DIRS = ("bronze", "silver", "gold", "quarantine", "_meta", "_checkpoints", "duckdb", "plain_spark")

# Wall time and peak RSS of one command, measured in a fresh Python process so
# that RUSAGE_CHILDREN covers only that command's processes.
MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)"
)


def parse_size(text: str) -> int:
    match = re.fullmatch(r"([0-9.]+)([kKmM]?)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size like 500k, 1M or 2.5M: {text}")
    return int(float(match[1]) * {"": 1, "k": 1e3, "m": 1e6}[match[2].lower()])


def measure(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of a command; exits when it fails."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    seconds, max_rss_kib, rc = out.stdout.split()
    if int(rc) != 0:
        sys.exit(f"bench: failed, rerun to see why: {' '.join(command)}")
    return float(seconds), int(max_rss_kib) / 1024


def run_pipeline(lake: Path) -> tuple[float, float]:
    return measure(["make", "-s", "-C", str(REPO), "run-local", f"LAKE={lake}"])


def run_plain_spark(lake: Path) -> tuple[float, float]:
    venv = REPO / ".venv" / "bin"  # pip's spark-submit finds Spark and Python through the venv's PATH
    return measure([
        "env", f"PATH={venv}:{os.environ['PATH']}", f"PYSPARK_PYTHON={venv / 'python'}",
        f"PYSPARK_DRIVER_PYTHON={venv / 'python'}",
        str(venv / "spark-submit"), "--master", "local[*]", "--driver-memory", "2g",
        "--conf", "spark.driver.extraJavaOptions=-XX:-DontCompileHugeMethods",
        str(REPO / "bench" / "plain_spark.py"), str(lake),
    ])


def plain_spark_differences(lake: Path) -> int:
    """Rows in the plain job's gold and not in the pipeline's, or the other way round."""
    con = duckdb.connect()
    con.execute(
        "CREATE VIEW gold AS SELECT * EXCLUDE (conversation_date), CAST(conversation_date AS DATE) AS conversation_date "
        f"FROM read_parquet('{lake}/plain_spark/customer_agent_conversations/**/*.parquet', hive_partitioning = true)"
    )
    return differences(con, lake / "gold" / "customer_agent_conversations")


def run_duckdb(lake: Path) -> tuple[float, float]:
    return measure([sys.executable, str(REPO / "bench" / "duckdb_baseline.py"), str(lake)])


def step_seconds(lake: Path) -> dict[str, float]:
    """Seconds of each step's latest run, from the audit table's files (all live:
    the table is only appended to)."""
    return dict(duckdb.sql(
        "SELECT job, epoch(arg_max(finished_at, started_at) - max(started_at)) "
        f"FROM read_parquet('{lake}/_meta/pipeline_runs/*.parquet', union_by_name = true) GROUP BY job"
    ).fetchall())


def reset(lake: Path) -> None:
    for name in TABLE_DIRS:
        shutil.rmtree(lake / name, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default="1M", help="messages to generate: 500k, 1M, 5M, ...")
    parser.add_argument("--sample", action="store_true", help="the bundled sample (datalake/landing) instead")
    parser.add_argument("--runs", type=int, default=3, help="full runs to take the median of (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch lake")
    args = parser.parse_args()
    orders = max(1, args.size // MESSAGES_PER_ORDER)

    lake = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    try:
        if args.sample:
            shutil.copytree(REPO / "datalake" / "landing", lake / "landing")
            messages = None  # bronze's records, once the first run has read them
        else:
            messages = generate(str(lake), orders=orders, seed=1)["message_records"]
        size_mb = sum(f.stat().st_size for f in (lake / "landing").rglob("*") if f.is_file()) / 2**20
        print(f"lake {lake}: {'the bundled sample' if args.sample else f'{messages:,} message records'}, "
              f"{size_mb:.1f} MB of landing files")

        pipeline, plain, baseline, steps = [], [], [], {step: [] for step in STEPS}
        for run in range(args.runs):
            reset(lake)
            pipeline.append(run_pipeline(lake))
            messages = messages or duckdb.sql(  # bronze is only appended to: all its files are live
                f"SELECT count(*) FROM read_parquet('{lake}/bronze/customer_agent_messages/*.parquet')").fetchone()[0]
            for step, seconds in step_seconds(lake).items():
                steps[step].append(seconds)
            plain.append(run_plain_spark(lake))
            baseline.append(run_duckdb(lake))
            print(f"run {run + 1}: pipeline {pipeline[-1][0]:.1f} s, plain spark {plain[-1][0]:.1f} s, "
                  f"duckdb {baseline[-1][0]:.1f} s", flush=True)
        print(f"plain spark: {plain_spark_differences(lake)} rows differ from the pipeline's gold table")
        check = subprocess.run(
            [sys.executable, str(REPO / "bench" / "duckdb_baseline.py"), str(lake), "--check"],
            capture_output=True, text=True,
        )
        print(check.stdout.strip().splitlines()[-1])

        def median(results):
            return statistics.median(s for s, _ in results)

        print(f"\n{'':<20}{'median s':>10}{'msgs/s':>12}{'peak MiB':>10}   (median of {args.runs} runs)")
        for step in STEPS:
            seconds = statistics.median(steps[step])
            print(f"  {step:<18}{seconds:>10.1f}{messages / seconds:>12,.0f}{'':>10}")
        for name, results in (("pipeline (total)", pipeline), ("plain spark job", plain), ("duckdb baseline", baseline)):
            seconds, peak = median(results), max(m for _, m in results)
            print(f"{name:<20}{seconds:>10.1f}{messages / seconds:>12,.0f}{peak:>10,.0f}")
        total = median(pipeline)
        print(f"ratio pipeline / plain spark: {total / median(plain):.2f}")
        print(f"ratio pipeline / duckdb: {total / median(baseline):.1f}")
        print("(step times are inside the one Spark application; the total adds JVM and session start-up)")

        noop = run_pipeline(lake)[0]
        print(f"\nno-op rerun: {noop:.1f} s")
        added = generate(str(lake), orders=max(1, messages // MESSAGES_PER_ORDER // 100), seed=2, prefix="increment")
        increment = run_pipeline(lake)[0]
        step_text = ", ".join(f"{k} {v:.1f}" for k, v in step_seconds(lake).items())
        print(
            f"incremental run after {added['message_records']:,} new messages: {increment:.1f} s "
            f"({step_text}), {increment / total:.0%} of the full run"
        )
    finally:
        if args.keep:
            print(f"kept {lake}")
        else:
            shutil.rmtree(lake, ignore_errors=True)


if __name__ == "__main__":
    main()
