"""The continuous mode of the all job: one long-lived Spark application that
runs its steps whenever new files have landed, and sleeps otherwise.

JVM start-up, code generation and Delta's snapshots are paid once. SIGTERM or
SIGINT (Ctrl-C) ends the loop after the current cycle. A failed cycle is retried
after a back-off; the same error `max_failures` times in a row ends the loop
with exit code 1.
"""

import signal
import sys
import threading
import time
from collections.abc import Callable

MAX_BACK_OFF_SECONDS = 300.0


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
