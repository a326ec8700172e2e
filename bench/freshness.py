"""Benchmark increments: per-run and in continuous mode, on one generated lake.

    python bench/freshness.py [--size 2.5M] [--drop 25k] [--drops 3] [--interval 2s] [--keep]

Generates about SIZE messages into a scratch lake, then times, as a user runs
them (start-up included): the full first run (`make run-local`), a no-op rerun
(median of 3), and a per-run increment after a drop, with its share of the
full run. Then starts `spark-submit.sh all --continuous` on the same lake and,
for each of DROPS more drops, the seconds from moving the drop's files into
landing until the cycle that took them has written gold (its line is printed
after kpis): the freshness, median over the drops.

A drop holds about DROP messages (default 1% of SIZE; give the same DROP to two
sizes to see whether an increment's cost grows with the history): half new
orders and half more messages for the most recent existing orders, as late
messages are. Its files are written elsewhere first and renamed into landing,
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
from bench.run import measure, parse_size, run_pipeline  # noqa: E402
from tools.generator import MESSAGES_PER_ORDER, generate  # noqa: E402


def stage_drop(lake: Path, orders: int, drop_orders: int, number: int) -> tuple[Path, int]:
    """Write a drop of `drop_orders` orders (`number` names its files) next to
    the lake: (its folder, the messages it holds)."""
    staging = lake.parent / f"staging-{number}"
    half = max(1, drop_orders // 2)
    messages = 0
    for part, first_order in enumerate((orders + number * half, orders - half)):  # new orders, recent ones
        prefix = f"drop{number:03d}{part}"
        messages += generate(str(staging), half, seed=1000 + number, prefix=prefix, first_order=first_order)[
            "message_records"]
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
    parser.add_argument("--interval", default="2s", help="--interval of the continuous mode (default 2s)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch lake")
    args = parser.parse_args()
    orders = max(200, args.size // MESSAGES_PER_ORDER)
    drop_orders = max(2, (args.drop or args.size // 100) // MESSAGES_PER_ORDER)

    lake = Path(tempfile.mkdtemp(prefix="bench-fresh-")) / "lake"
    try:
        messages = generate(str(lake), orders=orders, seed=1)["message_records"]
        print(f"lake {lake}: {messages:,} message records", flush=True)
        full = run_pipeline(lake)[0]
        noop = statistics.median(run_pipeline(lake)[0] for _ in range(3))
        staging, added = stage_drop(lake, orders, drop_orders, 0)
        land(staging, lake)
        increment = run_pipeline(lake)[0]
        print(f"per run: full {full:.1f} s, no-op {noop:.1f} s (median of 3), "
              f"+{added:,} messages {increment:.1f} s ({increment / full:.0%} of the full run)", flush=True)

        run = ContinuousRun(lake, args.interval)
        run.next_cycle()  # the first cycle, at start: nothing new
        delays = []
        for number in range(1, args.drops + 1):
            staging, added = stage_drop(lake, orders, drop_orders, number)
            landed_at = time.time()
            land(staging, lake)
            done_at, line = run.next_cycle()
            delays.append(done_at - landed_at)
            print(f"drop {number}: +{added:,} messages in gold after {delays[-1]:.1f} s: {line}", flush=True)
        run.stop()
        print(f"continuous (--interval {args.interval}): freshness median {statistics.median(delays):.1f} s "
              f"over {len(delays)} drops ({', '.join(f'{d:.1f}' for d in delays)})")
    finally:
        if args.keep:
            print(f"kept {lake}")
        else:
            shutil.rmtree(lake.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
