"""One run of a job per lake at a time.

On a local lake an flock on <lake>/_meta/locks/<job>.lock: the kernel releases
it when the process ends, even on kill -9, so a crashed run never blocks the
next one. On other file systems Delta's optimistic concurrency still rejects a
conflicting commit; the rerun then completes the work.
"""

import fcntl
import os
from contextlib import contextmanager

from pipeline import PipelineError
from pipeline.lake.files import local_path


@contextmanager
def job_lock(lake: str, job: str):
    local = local_path(lake)
    if local is None:
        yield
        return
    folder = os.path.join(local, "_meta", "locks")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{job}.lock")
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineError(f"another {job} run is using this lake ({path}); try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
