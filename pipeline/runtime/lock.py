"""One writer at a time on a lake.

Local lake: an flock on <lake>/_meta/locks/<job>.lock per job. The kernel
releases it when the process ends, even on kill -9, so a crashed run never
blocks the next one.

s3a:// lake: a lease object, <lake>/_meta/locks/writer.lease, for every writing
job at once. Delta's S3 LogStore is safe for one writing driver only, and every
job appends to _meta/pipeline_runs, so one lock per lake, not per job. The lease
is created with S3's conditional write (If-None-Match: *: only one creator
wins), renewed with If-Match on its own ETag (only its holder can renew it),
deleted at the end, and taken over with If-Match on the old ETag once it has
expired (a killed run's lease). Expiry compares the holder's clock with the
taker's: keep the clocks in sync (NTP), as any lease needs.

Other file systems (hdfs://, abfss://, ...): no lock; a warning says to run one
writing job at a time (the Airflow DAG does: max_active_runs=1).
"""

import fcntl
import json
import os
import socket
import sys
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from pyspark.sql import SparkSession

from pipeline import PipelineError
from pipeline.lake import files

LEASE = "_meta/locks/writer.lease"


@contextmanager
def job_lock(lake: str, job: str):
    """The flock of one job on a local lake; nothing elsewhere (see store_lock)."""
    local = files.local_path(lake)
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


@contextmanager
def store_lock(spark: SparkSession, lake: str, job: str, lease_seconds: int):
    """Hold the lake's write lease (s3a://) while the body runs; on other
    non-local lakes, or with the lease turned off, warn once and run."""
    if files.local_path(lake) is not None:
        yield
        return
    if not lake.startswith("s3a://") or lease_seconds <= 0:
        print(
            f"{job}: warning: no write lock on {lake.split('://')[0]}:// lakes: run one writing job at a time "
            "(docs/operations.md)",
            file=sys.stderr,
        )
        yield
        return
    lease = Lease(spark, f"{lake}/{LEASE}", job, lease_seconds)
    lease.acquire()
    try:
        yield
    finally:
        lease.release()


class Lease:
    """A lease object on S3: {"owner", "job", "expires_at"} (UTC, ISO 8601)."""

    def __init__(self, spark: SparkSession, path: str, job: str, seconds: int):
        self.spark, self.path = spark, path
        self.job, self.seconds = job, seconds
        self.owner = f"{job} on {socket.gethostname()} pid {os.getpid()} ({uuid.uuid4().hex[:8]})"
        self.etag: str | None = None
        self.expires = now()  # of our lease as last written
        self.lost: str | None = None  # why the renewal failed, if it did
        self.stop = threading.Event()
        self.renewer = threading.Thread(target=self.renew_until_stopped, name="lease-renewer", daemon=True)

    def acquire(self) -> None:
        if self.write(None):
            self.renewer.start()
            return
        held = self.read()
        if held is None:  # released between our write and our read: try once more
            if self.write(None):
                self.renewer.start()
                return
            held = self.read() or ({}, None)
        content, etag = held
        expires = parse_time(content.get("expires_at"))
        if expires is not None and expires > now():
            raise PipelineError(
                f"another run holds the lake's write lease ({content.get('owner', '?')}, until "
                f"{expires:%Y-%m-%d %H:%M:%S} UTC): try again when it ends"
            )
        # Expired (its holder was killed) or unreadable: take it over, unless
        # another run did so first (the If-Match on the old ETag then fails).
        if etag is None or not self.write(etag):
            raise PipelineError("another run took over the lake's expired write lease first: try again when it ends")
        print(f"{self.job}: took over the expired write lease of {content.get('owner', '?')}", file=sys.stderr)
        self.renewer.start()

    def renew_until_stopped(self) -> None:
        """Renew every third of the lease; a failed request is retried at the next
        tick, until the lease has expired (then another run may take it over)."""
        while not self.stop.wait(self.seconds / 3):
            try:
                if not self.write(self.etag):
                    self.lost = "another run took it over"
            except Exception as err:  # noqa: BLE001 (a thread must not die silently)
                if now() >= self.expires:
                    self.lost = f"it expired: renewing failed with {(str(err).strip() or repr(err)).splitlines()[0]}"
            if self.lost:
                return

    def release(self) -> None:
        self.stop.set()
        if self.renewer.is_alive():
            self.renewer.join()
        if self.lost:
            raise PipelineError(
                f"lost the lake's write lease while running ({self.lost}): another run may have written "
                "at the same time; check the tables' history before the next run"
            )
        # Nobody can take over a lease that has not expired, so the one with our
        # ETag is still ours to delete.
        held = self.read()
        if held is not None and held[1] == self.etag:
            files.delete(self.spark, self.path)

    def write(self, etag: str | None) -> bool:
        """Create the lease (etag None: only if there is none) or replace the one
        with this ETag; False when the store's precondition failed (HTTP 412)."""
        expires = now() + timedelta(seconds=self.seconds)
        body = json.dumps({"owner": self.owner, "job": self.job, "expires_at": expires.isoformat(timespec="seconds")})
        new_etag = files.write_if(self.spark, self.path, body, etag)
        if new_etag is None:
            return False
        self.etag, self.expires = new_etag, expires
        return True

    def read(self) -> tuple[dict, str] | None:
        """The lease's content and ETag; None when there is none."""
        held = files.read_with_etag(self.spark, self.path)
        if held is None:
            return None
        text, etag = held
        try:
            content = json.loads(text)
        except ValueError:
            content = {}
        return (content if isinstance(content, dict) else {}), etag


def parse_time(text) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def now() -> datetime:
    return datetime.now(timezone.utc)
