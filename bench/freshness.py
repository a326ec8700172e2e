"""Benchmark increments: per-run and in continuous mode, on one generated lake.

    python bench/freshness.py [--size 2.5M] [--drop 25k] [--drops 3] [--interval 1s] [--traffic today,spread] [--keep]

Generates about SIZE messages into a scratch lake as 30 daily exports (order
ids grow with the day), then times, as a user runs
them (start-up included): the full first run (`make run-local`), a no-op rerun
(median of 3), and a per-run increment after a drop, with its share of the
full run. Then starts `spark-submit.sh all --continuous` on the same lake and,
for DROPS drops of each kind of traffic, the seconds from moving the drop's
files into landing until the cycle that took them has written gold and the
KPIs (its line is printed after kpis): the freshness, median over the drops.

A drop holds about DROP messages (default 1% of SIZE; give the same DROP to two
sizes to see whether an increment's cost grows with the history): half new
orders of the last day, half late messages, for the last two days' orders
("today") or for orders across the history ("spread"). Its files are written elsewhere first and renamed into landing,
as producers must; the clock starts at the renames.
"""

import argparse
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.run import parse_size, run_pipeline  # noqa: E402
from tools.conversations import SPAN_DAYS  # noqa: E402
from tools.generator import MESSAGES_PER_ORDER, generate  # noqa: E402


def generate_by_day(lake: Path, orders: int) -> int:
    """The lake's history as 30 daily exports: order ids grow with the day the
    conversations start, as a real backend's do. Returns the messages written."""
    per_day = orders // SPAN_DAYS
    return sum(
        generate(str(lake), per_day + (orders % SPAN_DAYS if day == SPAN_DAYS - 1 else 0), seed=1,
                 prefix=f"day{day:02d}", first_order=day * per_day, days=(day, day))["message_records"]
        for day in range(SPAN_DAYS)
    )


def stage_drop(lake: Path, orders: int, drop_orders: int, number: int, traffic: str) -> tuple[Path, int]:
    """Write a drop of about `drop_orders` orders (`number` names its files) next
    to the lake: (its folder, the messages it holds). Half are new orders of the
    last day; the other half are late messages for the last two days' orders
    ("today") or for orders of every third day of the history ("spread")."""
    staging = lake.parent / f"staging-{number}"
    half, per_day, last = max(1, drop_orders // 2), orders // SPAN_DAYS, SPAN_DAYS - 1
    parts = [(half, orders + number * half, (last, last))]  # new orders
    if traffic == "today":
        parts.append((half, orders - 2 * per_day + (number * half) % per_day, (last - 1, last)))
    else:
        chunk = max(1, half // 10)
        parts += [(chunk, day * per_day + (number * chunk) % per_day, (day, day)) for day in range(0, SPAN_DAYS, 3)]
    messages = 0
    for part, (count, first_order, days) in enumerate(parts):
        prefix = f"drop{number:03d}{part:02d}"
        messages += generate(str(staging), count, seed=1000 + number, prefix=prefix, first_order=first_order,
                             days=days)["message_records"]
    return staging, messages


def land(staging: Path, lake: Path) -> None:
    for file in sorted((staging / "landing").rglob("*.json*")):
        file.rename(lake / "landing" / file.parent.name / file.name)
    shutil.rmtree(staging)


class ContinuousRun:
    def __init__(self, lake: Path, interval: str):
        self.process = subprocess.Popen(
            [str(REPO / "spark-submit.sh"), "all", "--lake", str(lake), "--continuous", "--interval", interval],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.process.stdout:
            self.lines.put((time.time(), line.rstrip("\n")))

    def next_cycle(self, timeout: float = 1800) -> tuple[float, str]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                at, line = self.lines.get(timeout=5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if re.match(r"all: cycle \d+: ", line):
                if ": error: " in line:
                    sys.exit(f"bench: continuous mode failed: {line}")
                return at, line
        sys.exit("bench: no cycle line from the continuous mode")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default="2.5M", help="messages to generate (default 2.5M)")
    parser.add_argument("--drop", type=parse_size, help="messages per drop (default 1%% of --size)")
    parser.add_argument("--drops", type=int, default=3, help="drops in continuous mode (default 3)")
    parser.add_argument("--interval", default="1s", help="--interval of the continuous mode (default 1s, as all's)")
    parser.add_argument("--traffic", type=lambda text: text.split(","), default=["today", "spread"],
                        help="kinds of continuous drops, in order: today (new orders of the last day, late messages "
                        "for the last two days' orders), spread (late messages across the history); default both")
    parser.add_argument("--keep", action="store_true", help="keep the scratch lake")
    args = parser.parse_args()
    orders = max(200, args.size // MESSAGES_PER_ORDER)
    drop_orders = max(2, (args.drop or args.size // 100) // MESSAGES_PER_ORDER)

    lake = Path(tempfile.mkdtemp(prefix="bench-fresh-")) / "lake"
    try:
        messages = generate_by_day(lake, orders)
        print(f"lake {lake}: {messages:,} message records in 30 daily exports", flush=True)
        full = run_pipeline(lake)[0]
        noop = statistics.median(run_pipeline(lake)[0] for _ in range(3))
        staging, added = stage_drop(lake, orders, drop_orders, 0, "today")
        land(staging, lake)
        increment = run_pipeline(lake)[0]
        print(f"per run: full {full:.1f} s, no-op {noop:.1f} s (median of 3), "
              f"+{added:,} messages {increment:.1f} s ({increment / full:.0%} of the full run)", flush=True)

        run = ContinuousRun(lake, args.interval)
        run.next_cycle()  # the first cycle, at start: nothing new
        number = 0
        for traffic in args.traffic:
            delays = []
            for _ in range(args.drops):
                number += 1
                staging, added = stage_drop(lake, orders, drop_orders, number, traffic)
                landed_at = time.time()
                land(staging, lake)
                done_at, line = run.next_cycle()
                delays.append(done_at - landed_at)
                print(f"drop {number} ({traffic}): +{added:,} messages in gold after {delays[-1]:.1f} s: {line}",
                      flush=True)
            print(f"continuous (--interval {args.interval}), {traffic} drops: freshness median "
                  f"{statistics.median(delays):.1f} s over {len(delays)} drops ({', '.join(f'{d:.1f}' for d in delays)})",
                  flush=True)
        run.stop()
    finally:
        if args.keep:
            print(f"kept {lake}")
        else:
            shutil.rmtree(lake.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
