"""Fault injection for the crash-safety tests: PIPELINE_CRASH_AT=<point> kills
the driver with SIGKILL at that point, as a lost machine would."""

import os
import signal
import sys


def crash_point(name: str) -> None:
    if os.environ.get("PIPELINE_CRASH_AT") == name:
        print(f"crash point {name}: killing the driver", file=sys.stderr, flush=True)  # tests check it was reached
        os.kill(os.getpid(), signal.SIGKILL)
