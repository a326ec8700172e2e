"""Benchmark whether an increment's cost grows with the history: the same
absolute "today" drop per run on lakes of several sizes, gold with and without
deletion vectors.

    python bench/history.py [--sizes 1M,20M] [--drop 24k] [--drops 2]

For each size: a lake of 30 daily exports (as bench/freshness.py makes it), its
first load, then DROPS per-run increments (`./spark-submit.sh all`) with gold's
deletion vectors off (the default), then DROPS with them on. Each increment
prints its seconds, gold's step seconds and what gold's MERGE did (files
rewritten, rows copied, deletion vectors written), read from gold's Delta log.
"""

import argparse
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import sys

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.freshness import generate_by_day, land, stage_drop  # noqa: E402
from bench.run import parse_size  # noqa: E402
from tools.generator import MESSAGES_PER_ORDER  # noqa: E402

DV_ENV = "bench-deletion-vectors"  # a conf/<env>.toml this benchmark writes, then removes


def run_all(lake: Path, env: str) -> tuple[float, float]:
    """Seconds of `./spark-submit.sh all` and of its gold step."""
    started = time.monotonic()
    result = subprocess.run([str(REPO / "spark-submit.sh"), "all", "--lake", str(lake), "--conf-env", env],
                            capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode:
        sys.exit(f"bench: all failed: {(result.stderr or result.stdout).strip().splitlines()[-1:]}")
    gold = re.search(r"^gold: succeeded in ([0-9.]+) s", result.stdout, re.MULTILINE)
    return seconds, float(gold.group(1)) if gold else float("nan")


def gold_commits(lake: Path) -> list[dict]:
    log = lake / "gold" / "customer_agent_conversations" / "_delta_log"
    commits = []
    for path in sorted(log.glob("*.json")):
        for line in path.read_text().splitlines():
            action = json.loads(line)
            if "commitInfo" in action:
                commits.append(action["commitInfo"])
    return commits


def merge_summary(commits: list[dict]) -> str:
    parts = []
    for info in commits:
        metrics = info.get("operationMetrics", {})
        if info.get("operation") == "MERGE":
            parts.append(f"MERGE: {metrics.get('numTargetFilesRemoved', '?')} files rewritten, "
                         f"{int(metrics.get('numTargetRowsCopied', 0)):,} rows copied, "
                         f"{metrics.get('numTargetDeletionVectorsAdded', 0)} deletion vectors")
        else:
            parts.append(info.get("operation", "?"))
    return "; ".join(parts)


def bench_size(size: int, drop: int, drops: int) -> None:
    orders = max(200, size // MESSAGES_PER_ORDER)
    drop_orders = max(2, drop // MESSAGES_PER_ORDER)
    lake = Path(tempfile.mkdtemp(prefix="bench-history-")) / "lake"
    try:
        messages = generate_by_day(lake, orders)
        first, gold_first = run_all(lake, "local")
        print(f"{messages:,}-message lake: first load {first:.1f} s (gold {gold_first:.1f} s)", flush=True)
        number = 0
        for env, label in (("local", "off"), (DV_ENV, "on")):
            for _ in range(drops):
                number += 1
                staging, added = stage_drop(lake, orders, drop_orders, number, "today")
                land(staging, lake)
                before = len(gold_commits(lake))
                seconds, gold = run_all(lake, env)
                print(f"  drop {number}, deletion vectors {label}: +{added:,} messages, all {seconds:.1f} s, "
                      f"gold {gold:.1f} s; {merge_summary(gold_commits(lake)[before:])}", flush=True)
    finally:
        shutil.rmtree(lake.parent, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda text: [parse_size(s) for s in text.split(",")],
                        default="1M,20M", help="lake sizes in messages (default 1M,20M)")
    parser.add_argument("--drop", type=parse_size, default="24k", help="messages per drop (default 24k)")
    parser.add_argument("--drops", type=int, default=2, help="drops per setting (default 2)")
    args = parser.parse_args()
    conf = REPO / "conf" / f"{DV_ENV}.toml"
    local = (REPO / "conf" / "local.toml").read_text()
    if "gold_deletion_vectors = false" not in local:
        sys.exit("bench: conf/local.toml no longer says gold_deletion_vectors = false")
    conf.write_text(local.replace("gold_deletion_vectors = false", "gold_deletion_vectors = true"))
    try:
        for size in args.sizes:
            bench_size(size, args.drop, args.drops)
    finally:
        conf.unlink()


if __name__ == "__main__":
    main()
