"""Benchmark the three jobs as a user runs them (spark-submit.sh, local mode).

    python bench/run.py [--orders 125000] [--runs 3] [--keep]

Generates ~8 messages per order into a scratch lake, then per run deletes the
tables, runs bronze, silver and gold, and records wall seconds and the peak
resident memory of the largest process of each job (the driver JVM). Prints
the median over runs, a no-op rerun of the three jobs, and an incremental run
after landing 1% more messages (new files touching existing orders), with its
ratio to the full run.
"""

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from pipeline.generator import generate  # noqa: E402

JOBS = ("bronze", "silver", "gold")
TABLE_DIRS = ("bronze", "silver", "gold", "quarantine", "_meta", "_checkpoints")

# Peak RSS of one child process tree, measured in a fresh Python process so that
# RUSAGE_CHILDREN covers only that job.
MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)"
)


def run_job(job: str, lake: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one job."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(REPO / "spark-submit.sh"), job, "--lake", str(lake)],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    seconds, max_rss_kib, rc = float(out[0]), int(out[1]), int(out[2])
    if rc != 0:
        sys.exit(f"bench: {job} failed (rerun it: ./spark-submit.sh {job} --lake {lake})")
    return seconds, max_rss_kib / 1024


def reset(lake: Path) -> None:
    for name in TABLE_DIRS:
        shutil.rmtree(lake / name, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=125_000, help="orders to generate (~8 messages each)")
    parser.add_argument("--runs", type=int, default=3, help="full runs to take the median of (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch lake")
    args = parser.parse_args()

    lake = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    try:
        summary = generate(str(lake), orders=args.orders, seed=1)
        messages = summary["message_records"]
        size_mb = sum(f.stat().st_size for f in (lake / "landing").rglob("*") if f.is_file()) / 2**20
        print(f"lake {lake}: {messages} message records, {size_mb:.0f} MB of landing files")

        results = {job: [] for job in JOBS}
        for run in range(args.runs):
            reset(lake)
            for job in JOBS:
                results[job].append(run_job(job, lake))
            print(f"run {run + 1}: " + ", ".join(f"{job} {results[job][-1][0]:.1f} s" for job in JOBS))
        noop = sum(run_job(job, lake)[0] for job in JOBS)
        added = generate(str(lake), orders=max(1, args.orders // 100), seed=2, prefix="increment")
        incremental = {job: run_job(job, lake) for job in JOBS}

        print(f"\n{'job':<8}{'median s':>10}{'msgs/s':>12}{'peak MiB':>10}   (median of {args.runs} runs)")
        for job in JOBS:
            seconds = statistics.median(s for s, _ in results[job])
            peak = max(m for _, m in results[job])
            print(f"{job:<8}{seconds:>10.1f}{messages / seconds:>12,.0f}{peak:>10,.0f}")
        total = statistics.median(sum(results[job][i][0] for job in JOBS) for i in range(args.runs))
        print(f"{'total':<8}{total:>10.1f}{messages / total:>12,.0f}")
        print(f"no-op rerun of the three jobs: {noop:.1f} s")
        increment = sum(s for s, _ in incremental.values())
        print(
            f"incremental run after {added['message_records']} new messages: {increment:.1f} s "
            f"({', '.join(f'{job} {incremental[job][0]:.1f} s' for job in JOBS)}), "
            f"{increment / total:.0%} of the full run"
        )
    finally:
        if args.keep:
            print(f"kept {lake}")
        else:
            shutil.rmtree(lake, ignore_errors=True)


if __name__ == "__main__":
    main()
