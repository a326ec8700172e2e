"""Ctrl-C as one line: the job stops where it is and takes its JVM with it.

spark-submit.sh starts local jobs Python first (pyspark starts the JVM with
SIGINT ignored), so Ctrl-C reaches only the driver: Python raises
KeyboardInterrupt wherever it is, the runner prints one line and ends the JVM
here, since its py4j connection may be cut mid-call. Delta commits are atomic,
so every table keeps its last commit.
"""

import logging
import os
import signal
import time
from pathlib import Path


def plain_interrupts() -> None:
    """Ctrl-C raises KeyboardInterrupt and nothing else: pyspark's own handler
    would first call the JVM (to cancel the jobs) on the connection the
    interrupted call is using, and print py4j tracebacks."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except ValueError:  # not the main thread (a test's helper thread): leave it
            pass


def children(parent: int) -> list[int]:
    """The processes below `parent` (Linux /proc), deepest first."""
    by_parent: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        by_parent.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [parent]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found[::-1]


def end_children(grace_seconds: float = 10.0) -> None:
    """SIGTERM this process's children (the JVM and its launcher: Spark's shutdown
    hooks run), then SIGKILL what is left after `grace_seconds`."""
    logging.getLogger("py4j").setLevel(logging.CRITICAL)  # a cut connection is expected now
    pending = children(os.getpid())
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in pending:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace_seconds
        while pending and time.monotonic() < deadline:
            pending = [pid for pid in pending if _alive(pid)]
            time.sleep(0.1)
        if not pending:
            return


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap our own children, or they stay zombies
        if waited:
            return False
    except ChildProcessError:  # not our child: a grandchild, reaped by its parent or init
        pass
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
