import subprocess
import sys
import textwrap

import pytest

from pipeline import PipelineError
from pipeline.runtime.config import REPO_ROOT
from pipeline.runtime.lock import job_lock, store_lock

pytestmark = pytest.mark.e2e

HOLD = textwrap.dedent(
    """
    import sys, time
    from pipeline.runtime.lock import job_lock
    with job_lock(sys.argv[1], "silver"):
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_a_second_run_of_the_same_job_stops_with_one_line_and_other_jobs_go_on(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(PipelineError, match="another silver run is using this lake"):
            with job_lock(str(tmp_path), "silver"):
                pass
        with job_lock(str(tmp_path), "gold"):
            pass
    finally:
        holder.kill()
        holder.wait()
    # The kernel released the killed holder's lock: no stale lock blocks the rerun.
    with job_lock(str(tmp_path), "silver"):
        pass


@pytest.mark.parametrize("lake, lease_seconds", [("hdfs:///data/lake", 120), ("s3a://bucket/lake", 0)])
def test_without_a_lease_a_non_local_lake_gets_a_one_line_warning(capsys, lake, lease_seconds):
    # No Spark needed: there is nothing to lock (the s3a:// lease itself is tested in test_s3.py).
    with store_lock(None, lake, "silver", lease_seconds):
        pass
    assert capsys.readouterr().err.splitlines() == [
        f"silver: warning: no write lock on {lake.split(':')[0]}:// lakes: run one writing job at a time "
        "(docs/operations.md)"
    ]


def test_a_local_lake_needs_no_lease(capsys, tmp_path):
    with store_lock(None, str(tmp_path), "silver", 120):
        pass
    assert capsys.readouterr().err == ""
