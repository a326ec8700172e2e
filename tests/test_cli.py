"""Bad arguments and missing paths: one line on stderr and a non-zero exit."""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from jobs import serve, status
from pipeline.runtime.config import REPO_ROOT
from tests.support.lakes import assert_gold_matches_reference, run_in_session, small_lake_env

pytestmark = pytest.mark.e2e


def submit(*args):
    return subprocess.run(
        [str(REPO_ROOT / "spark-submit.sh"), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


def error_lines(result):
    # spark-submit merges the Python driver's stderr into its stdout.
    output = result.stdout + result.stderr
    return [line for line in output.splitlines() if "error" in line.lower()]


def test_help_lists_jobs_and_options():
    result = submit("--help")
    assert result.returncode == 0
    for word in ("bronze", "silver", "gold", "--lake", "--master", "--conf-env"):
        assert word in result.stdout


def test_unknown_job():
    result = submit("platinum")
    assert result.returncode == 2
    assert error_lines(result) == ["spark-submit.sh: error: unknown job 'platinum' (choose from: all bronze silver gold kpis report optimize sql serve publish export_csv forget status)"]


def test_missing_lake(tmp_path):
    result = submit("bronze", "--lake", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert error_lines(result) == [f"bronze: error: lake folder not found: {tmp_path / 'nowhere'}"]
    assert result.stderr.splitlines() == error_lines(result)  # on stderr: local jobs start Python first
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_config_environment(tmp_path):
    result = submit("silver", "--lake", str(tmp_path), "--conf-env", "nope")
    assert result.returncode == 1
    [line] = error_lines(result)
    assert line.startswith("silver: error: unknown config environment 'nope'")


def test_missing_landing_folder_and_missing_upstream_tables(tmp_path):
    bronze = submit("bronze", "--lake", str(tmp_path))
    assert bronze.returncode == 1
    assert error_lines(bronze) == [f"bronze: error: landing folder not found: {tmp_path}/landing/customer_agent_messages"]
    gold = submit("gold", "--lake", str(tmp_path))
    assert gold.returncode == 1
    [line] = error_lines(gold)
    assert line.endswith("run the silver job first")


def test_empty_landing_folders_are_not_an_error(tmp_path):
    for dataset in ("customer_agent_messages", "orders"):
        (tmp_path / "landing" / dataset).mkdir(parents=True)
    result = submit("bronze", "--lake", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "nothing new" in result.stdout


def test_counts_must_be_positive(capsys):
    for cli, option in ((status.cli, "--runs"), (serve.cli, "--refresh")):
        with pytest.raises(SystemExit) as exit_:
            cli([option, "0"])
        assert exit_.value.code == 2
        assert f"argument {option}: must be a whole number of at least 1, got '0'" in capsys.readouterr().err


def processes_of(lake: Path) -> list[str]:
    """The command lines of the processes still running for a lake (the JVM names its log file there)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"{lake}/_meta/logs" in text:
            found.append(text)
    return found


@pytest.mark.parametrize("moment", ["while Python starts", "while the JVM starts", "during a step"])
def test_ctrl_c_at_any_moment_is_one_line_exit_130_and_no_process_left(spark, tmp_path, moment):
    """Ctrl-C in a terminal: SIGINT to the whole process group. After one
    during a step, a rerun finishes the work: every table kept its last commit
    (before a step nothing is written, and the locks are flocks, gone with the
    processes)."""
    lake = tmp_path / "lake"
    shutil.copytree(REPO_ROOT / "datalake" / "landing", lake / "landing")
    (lake / "_meta" / "logs").mkdir(parents=True)
    process = subprocess.Popen(
        [str(REPO_ROOT / "spark-submit.sh"), "all", "--lake", str(lake)], cwd=REPO_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=small_lake_env(),
    )
    if moment == "while Python starts":
        time.sleep(0.3)
    elif moment == "while the JVM starts":  # the JVM is up once it has written its first log line
        deadline = time.monotonic() + 120
        while not processes_of(lake) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    else:
        deadline = time.monotonic() + 300
        while not (lake / "bronze").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    err = "\n".join(line for line in err.splitlines() if not line.startswith("Picked up JAVA_TOOL_OPTIONS"))
    assert process.returncode == 130, out + err
    assert re.fullmatch(r"all: interrupted( before it started| during \w+)?(: every table keeps its last commit; "
                        r"run it again to go on)?", err.strip()), out + err
    if moment == "during a step":
        assert " during " in err
    assert "Traceback" not in out + err
    deadline = time.monotonic() + 15  # the JVM's shutdown hooks may still be running
    while processes_of(lake) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of(lake) == []
    if moment == "during a step":
        run_in_session("all", lake)
        assert_gold_matches_reference(spark, lake)
