import subprocess
import sys
import textwrap

import pytest

from pipeline import PipelineError
from pipeline.runtime.config import REPO_ROOT
from pipeline.runtime.lock import job_lock

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
