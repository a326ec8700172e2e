"""Count what a pass of the pipeline costs besides seconds: Spark jobs, generated
classes compiled and Delta commits per step, for a first load, a no-op rerun
and warm drops.

    python bench/counts.py [--orders 2000] [--drop 100] [--drops 2] [--lake DIR] [--names]

One in-process Spark session (local[2], as a long-lived continuous application
keeps it) runs passes of the `all` job (runner.run_pass: the steps of
pipeline.steps one after the other, handing their writes on, their audit rows
in one commit, counted with the last step). A drop holds DROP orders: half new orders, half late messages
for the newest existing orders. Jobs are the DAG scheduler's job ids (each
adaptive query stage counts as a job, as in the Spark UI); commits are the
new files in every table's _delta_log.
"""

import argparse
import shutil
from collections import Counter
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from pipeline.runtime.config import load_config  # noqa: E402
from pipeline.runtime.session import create_session, local_delta_jars  # noqa: E402
from pipeline.runtime.runner import run_pass  # noqa: E402
from pipeline.steps import STEPS, job_body  # noqa: E402
from tools.generator import generate  # noqa: E402


def commit_files(lake: Path) -> set[Path]:
    return set(lake.glob("**/_delta_log/*.json"))


def job_names(spark, first: int, upto: int) -> Counter:
    """How many jobs of each kind ran (their description, such as Delta's, or their call site)."""
    store, names = spark.sparkContext._jsc.sc().statusStore(), Counter()
    for job in range(first, upto):
        try:
            data = store.job(job)
        except Exception:  # noqa: BLE001 - a job the store no longer holds
            names["?"] += 1
            continue
        description = data.description()
        names[(description.get() if description.isDefined() else data.name())[:90]] += 1
    return names


def measure(spark, config, lake: Path, label: str, names: bool) -> None:
    """One pass of all (runner.run_pass: the steps hand their writes on, one audit commit), counted per step."""
    scheduler = spark.sparkContext._jsc.sc().dagScheduler()
    commits_before, marks = commit_files(lake), []
    args = argparse.Namespace(full_refresh=False, max_quarantined_share=None)
    steps = {name: job_body(run) for name, run in STEPS.items()}
    compiled = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()  # a Janino compile each
    compiled_before = compiled.getCount()
    first, started = scheduler.nextJobId(), time.monotonic()
    results = run_pass(spark, config, args, steps, lambda step: marks.append((step, scheduler.nextJobId())))
    total_jobs, total_seconds = scheduler.nextJobId() - first, time.monotonic() - started
    bounds = [job for _, job in marks] + [scheduler.nextJobId()]
    parts = [f"{step} {bounds[i + 1] - job} jobs {results[step][1]:.1f} s" for i, (step, job) in enumerate(marks)]
    per_table = {}
    for path in commit_files(lake) - commits_before:
        table = str(path.parent.parent.relative_to(lake))
        per_table[table] = per_table.get(table, 0) + 1
    twice = sorted(table for table, count in per_table.items() if count > 1)
    print(f"{label}: {total_jobs} jobs, {compiled.getCount() - compiled_before} classes compiled, "
          f"{sum(per_table.values())} commits to {len(per_table)} tables"
          f"{' (more than one: ' + ', '.join(twice) + ')' if twice else ''}, {total_seconds:.1f} s; "
          + ", ".join(parts), flush=True)
    if names:
        for i, (step, job) in enumerate(marks):
            for name, count in job_names(spark, job, bounds[i + 1]).most_common():
                print(f"    {step}: {count} x {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--drop", type=int, default=100, help="orders per drop")
    parser.add_argument("--drops", type=int, default=2)
    parser.add_argument("--lake", help="scratch lake (default: a temporary folder, removed after)")
    parser.add_argument("--names", action="store_true", help="list each step's jobs by description")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting to try")
    args = parser.parse_args()
    lake = Path(args.lake or tempfile.mkdtemp(prefix="bench-counts-"))
    shutil.rmtree(lake, ignore_errors=True)
    generate(str(lake), args.orders, seed=5)
    config = load_config("local", str(lake))
    spark = create_session("bench-counts", config, {
        "spark.master": "local[2]", "spark.jars": local_delta_jars(), "spark.ui.enabled": "false", **dict(c.split("=", 1) for c in args.conf),
        "spark.driver.host": "127.0.0.1"})
    spark.sparkContext.setLogLevel("ERROR")
    try:
        measure(spark, config, lake, "first load", args.names)
        measure(spark, config, lake, "no-op", args.names)
        half = max(1, args.drop // 2)
        for number in range(1, args.drops + 1):
            generate(str(lake), half, seed=100 + number, prefix=f"drop{number}a",
                     first_order=args.orders + number * half)
            generate(str(lake), half, seed=200 + number, prefix=f"drop{number}b", first_order=args.orders - half)
            measure(spark, config, lake, f"drop {number} ({2 * half} orders)", args.names)
    finally:
        spark.stop()
        if not args.lake:
            shutil.rmtree(lake, ignore_errors=True)


if __name__ == "__main__":
    main()
