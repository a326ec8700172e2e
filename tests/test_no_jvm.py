"""What needs no data answers without a JVM: spark-submit.sh <job> --help, a bad
option and status on a local lake. Each runs in its own process group, which
/proc is scanned for a java process while it runs."""

import os
import subprocess
import time

import pytest

from pipeline.runtime.config import REPO_ROOT

pytestmark = pytest.mark.e2e


def group_commands(group: int) -> set[str]:
    """The command names of the live processes in this process group."""
    names = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # the stat fields after the name: state, ppid, pgrp, ...
                with open(f"/proc/{pid}/comm") as comm:
                    names.add(comm.read().strip())
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # gone meanwhile
    return names


def run_watched(*args):
    """Run spark-submit.sh; (result, seconds, every command seen in its group)."""
    started = time.monotonic()
    process = subprocess.Popen([str(REPO_ROOT / "spark-submit.sh"), *args], cwd=REPO_ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    seen = set()
    while process.poll() is None and time.monotonic() - started < 60:
        seen |= group_commands(process.pid)
        time.sleep(0.02)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err, time.monotonic() - started, seen


@pytest.mark.parametrize("args, code", [
    (("gold", "--help"), 0),
    (("all", "--interval", "soon"), 2),
    (("bronze", "--no-such-option"), 2),
])
def test_help_and_usage_errors_start_no_jvm(args, code):
    returncode, out, err, seconds, seen = run_watched(*args)
    assert returncode == code, err
    assert "java" not in seen
    assert seconds < 5  # 0.2 s on an idle machine; a JVM start alone takes 5-20 s
    if code:
        [line] = err.splitlines()
        assert line.startswith(f"spark-submit.sh {args[0]}: error: ") and out == ""
    else:
        assert out.startswith(f"usage: spark-submit.sh {args[0]}")


def test_status_starts_no_jvm(tmp_path):
    returncode, out, err, seconds, seen = run_watched("status", "--lake", str(tmp_path))
    assert returncode == 0, err
    assert "java" not in seen
    assert seconds < 5
    assert "no runs recorded yet" in out and "gold.customer_agent_conversations" in out
