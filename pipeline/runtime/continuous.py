"""The continuous mode of the all job: one long-lived Spark application that
runs a pass of its steps whenever new files have landed, and sleeps otherwise.

JVM start-up, code generation and Delta's snapshots are paid once. The landing
folders are checked every --interval (a listing and checkpoint reads, no Spark
job), so a cycle starts that soon after a file lands. SIGTERM or SIGINT
(Ctrl-C) ends the loop after the current cycle. A failed cycle is retried after
a back-off; the same error `max_failures` times in a row ends the loop with exit
code 1.
"""

import io
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import redirect_stdout, suppress

from py4j.protocol import Py4JError

from pipeline.lake import landing
from pipeline.runtime.audit import RunStats
from pipeline.runtime.config import LANDING_FEEDS
from pipeline.runtime.errors import append_log, describe
from pipeline.runtime.runner import run_pass

MAX_BACK_OFF_SECONDS = 300.0


def waiting(spark, config) -> dict[str, int] | None:
    """{file: modification ms} of the landed files bronze has not taken; None
    when a checkpoint cannot tell. A listing and checkpoint reads, no Spark job."""
    found = {}
    for dataset, table_key in LANDING_FEEDS.items():
        files = landing.waiting_files(spark, config.landing(dataset), config.checkpoint(table_key))
        if files is None:
            return None
        found.update(files)
    return found


def summary(results: dict[str, tuple[list[RunStats], float]]) -> str:
    """One line of a cycle: what each step took in or changed, and its seconds."""
    parts = []
    for step, (stats, seconds) in results.items():
        if step == "bronze":
            done = f"{sum(s.rows_read for s in stats)} files, {sum(s.rows_written for s in stats)} records"
        else:
            done = f"{sum(s.rows_written for s in stats)} rows"
            quarantined = sum(s.rows_quarantined for s in stats)
            done += f" ({quarantined} quarantined)" if quarantined and step == "silver" else ""
        parts.append(f"{step} {done} in {seconds:.1f} s")
    return ", ".join(parts)


def run_continuously(spark, config, args, steps) -> int:
    """The steps in cycles, in this one session (the all job's --continuous).
    Each cycle prints one line; the steps' own lines go to the log file."""
    current = ""  # the step running, named in an error line

    def entering(step: str) -> None:
        nonlocal current
        current = step

    def cycle() -> str:
        output = io.StringIO()
        try:
            with redirect_stdout(output):
                results = run_pass(spark, config, args, steps, entering)
        finally:
            append_log(output.getvalue())
        return summary(results)

    print(f"all: watching {config.landing('customer_agent_messages')} and {config.landing('orders')} "
          f"every {args.interval:g} s; Ctrl-C stops after the current cycle", flush=True)
    code = run_cycles(cycle, lambda: waiting(spark, config), args.interval, args.max_failures,
                      lambda err: f"{current}: {describe(err)}")
    with suppress(Py4JError, ConnectionError):  # the JVM may be gone already: a SIGTERM to the whole process group
        spark.stop()
    return code


def run_cycles(
    cycle: Callable[[], str],
    waiting: Callable[[], dict[str, int] | None],
    interval: float,
    max_failures: int,
    describe: Callable[[Exception], str],
) -> int:
    """Run `cycle` (which returns its one-line summary) at start, then whenever
    `waiting()` finds landed files not taken yet ({file: modification ms}; None:
    cannot tell, so run), checking every `interval` seconds. Returns the exit code."""
    stop = threading.Event()

    def request_stop(signum, _frame):
        if not stop.is_set():  # stderr: a cycle sends stdout to the log file
            print(f"all: {signal.Signals(signum).name} received: stopping after the current cycle", file=sys.stderr)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    number, last_error, repeats, retry = 0, None, 0, True  # the first cycle finishes any interrupted work
    try:
        while not stop.is_set():
            try:
                pending = waiting()
            except Exception:  # e.g. a store that does not answer: the cycle reports and records it
                pending = None
            if not (retry or pending is None or pending):
                stop.wait(interval)
                continue
            number += 1
            try:
                summary = cycle()
            except Exception as err:  # recorded by the step in the run audit; retried after a back-off
                error = describe(err)
                repeats = repeats + 1 if error == last_error else 1
                last_error, retry = error, True
                print(f"all: cycle {number}: error: {error} ({repeats} of {max_failures} in a row)",
                      file=sys.stderr, flush=True)
                if repeats >= max_failures:
                    return 1
                stop.wait(min(interval * 2 ** repeats, MAX_BACK_OFF_SECONDS))
                continue
            last_error, repeats, retry = None, 0, False
            lag = f", lag {time.time() - max(pending.values()) / 1000:.1f} s" if pending else ""
            print(f"all: cycle {number}: {summary}{lag}", flush=True)
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"all: stopped after {number} cycles", flush=True)
    return 0
