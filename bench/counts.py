"""Count what a pass of the pipeline costs besides seconds: Spark jobs and Delta
commits per step, for a first load, a no-op rerun and warm drops.

    python bench/counts.py [--orders 2000] [--drop 100] [--drops 2] [--lake DIR]

One in-process Spark session (local[2], as a long-lived continuous application
keeps it) runs the steps of pipeline.steps one after the other, as the `all`
job's pass does. A drop holds DROP orders: half new orders, half late messages
for the newest existing orders. Jobs are the DAG scheduler's job ids (each
adaptive query stage counts as a job, as in the Spark UI); commits are the
new files in every table's _delta_log.
"""

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from pipeline.runtime.config import load_config  # noqa: E402
from pipeline.runtime.session import create_session, local_delta_jars  # noqa: E402
from pipeline.runtime.audit import audit_records, record_runs  # noqa: E402
from pipeline.steps import STEPS, Options  # noqa: E402
from tools.generator import generate  # noqa: E402


def commit_files(lake: Path) -> set[Path]:
    return set(lake.glob("**/_delta_log/*.json"))


def measure(spark, config, lake: Path, label: str) -> None:
    scheduler = spark.sparkContext._jsc.sc().dagScheduler()
    total_jobs, total_seconds, commits_before, audit = 0, 0.0, commit_files(lake), []
    parts = []
    for step, run in STEPS.items():
        jobs, started = scheduler.nextJobId(), time.monotonic()
        began = datetime.now(timezone.utc)
        stats = run(spark, config, Options())
        if not all(s.idle for s in stats):
            audit += audit_records("bench", step, began, stats)
        jobs, seconds = scheduler.nextJobId() - jobs, time.monotonic() - started
        total_jobs, total_seconds = total_jobs + jobs, total_seconds + seconds
        parts.append(f"{step} {jobs} jobs {seconds:.1f} s")
    jobs = scheduler.nextJobId()
    record_runs(spark, config.meta("pipeline_runs"), audit)
    total_jobs += scheduler.nextJobId() - jobs
    per_table = {}
    for path in commit_files(lake) - commits_before:
        table = str(path.parent.parent.relative_to(lake))
        per_table[table] = per_table.get(table, 0) + 1
    twice = sorted(table for table, count in per_table.items() if count > 1)
    print(f"{label}: {total_jobs} jobs, {sum(per_table.values())} commits to {len(per_table)} tables"
          f"{' (more than one: ' + ', '.join(twice) + ')' if twice else ''}, {total_seconds:.1f} s; "
          + ", ".join(parts), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--drop", type=int, default=100, help="orders per drop")
    parser.add_argument("--drops", type=int, default=2)
    parser.add_argument("--lake", help="scratch lake (default: a temporary folder, removed after)")
    args = parser.parse_args()
    lake = Path(args.lake or tempfile.mkdtemp(prefix="bench-counts-"))
    shutil.rmtree(lake, ignore_errors=True)
    generate(str(lake), args.orders, seed=5)
    config = load_config("local", str(lake))
    spark = create_session("bench-counts", config, {
        "spark.master": "local[2]", "spark.jars": local_delta_jars(), "spark.ui.enabled": "false",
        "spark.driver.host": "127.0.0.1"})
    spark.sparkContext.setLogLevel("ERROR")
    try:
        measure(spark, config, lake, "first load")
        measure(spark, config, lake, "no-op")
        half = max(1, args.drop // 2)
        for number in range(1, args.drops + 1):
            generate(str(lake), half, seed=100 + number, prefix=f"drop{number}a",
                     first_order=args.orders + number * half)
            generate(str(lake), half, seed=200 + number, prefix=f"drop{number}b", first_order=args.orders - half)
            measure(spark, config, lake, f"drop {number} ({2 * half} orders)")
    finally:
        spark.stop()
        if not args.lake:
            shutil.rmtree(lake, ignore_errors=True)


if __name__ == "__main__":
    main()
