"""Small files on object stores and the run's log file, where requests race or
the disk is full (no JVM: the Hadoop file system is a stand-in)."""

import os
import subprocess
import sys

import pytest
from py4j.protocol import Py4JJavaError

from pipeline.lake import files
from pipeline.runtime.config import REPO_ROOT

pytestmark = pytest.mark.unit


class JavaException:
    """What precondition_failed and read_with_etag ask of a Java exception."""

    _target_id = "o1"

    def __init__(self, name: str, message: str):
        self.name, self.message = name, message

    def getClass(self):
        return self

    def getName(self):
        return self.name

    def getMessage(self):
        return self.message

    def getCause(self):
        return None


def java_error(name: str, message: str = "") -> Py4JJavaError:
    return Py4JJavaError("An error occurred", JavaException(name, message))


PRECONDITION_FAILED = java_error(
    "java.io.IOException", "Server error accessing s3://b/lake/lease: ... (Service: S3, Status Code: 412, ...)"
)


class Stream:
    def __init__(self, data: bytes):
        self.data = data

    def readAllBytes(self):
        return self.data

    def close(self):
        pass


class Status:
    def __init__(self, etag: str):
        self.etag = etag

    def getEtag(self):
        return self.etag


class ReplacedObject:
    """An object replaced between the listing and the read, `races` times over."""

    def __init__(self, races: int, failure: Py4JJavaError = PRECONDITION_FAILED):
        self.races, self.failure, self.version = races, failure, 0

    def getFileStatus(self, path):
        return Status(f"etag-{self.version}")

    def open(self, path):
        if self.version < self.races:
            self.version += 1
            raise self.failure
        return Stream(b'{"owner": "other run"}')


def read(store, monkeypatch):
    monkeypatch.setattr(files, "_hadoop_file", lambda spark, path: (path, store))
    return files.read_with_etag(None, "s3a://b/lake/lease")


def test_a_read_that_races_a_replace_reads_the_new_version(monkeypatch):
    assert read(ReplacedObject(races=2), monkeypatch) == ('{"owner": "other run"}', "etag-2")


def test_a_read_that_keeps_racing_gives_up_with_the_store_error(monkeypatch):
    with pytest.raises(Py4JJavaError) as raised:
        read(ReplacedObject(races=5), monkeypatch)
    assert raised.value is PRECONDITION_FAILED


def test_other_read_errors_are_not_retried(monkeypatch):
    store = ReplacedObject(races=1, failure=java_error("java.nio.file.AccessDeniedException"))
    with pytest.raises(Py4JJavaError):
        read(store, monkeypatch)
    assert store.version == 1


def test_a_missing_object_reads_as_none(monkeypatch):
    store = ReplacedObject(races=1, failure=java_error("java.io.FileNotFoundException"))
    assert read(store, monkeypatch) is None


def test_a_python_log_record_on_a_full_disk_prints_nothing():
    """py4j logs a traceback when the JVM dies; with the log file on a full disk
    (/dev/full: every write fails with ENOSPC) the terminal stays quiet."""
    code = (
        "import logging\n"
        "from pipeline.runtime.errors import python_logs_to_the_log_file\n"
        "python_logs_to_the_log_file()\n"
        "try:\n    raise ConnectionResetError(104, 'Connection reset by peer')\n"
        "except OSError:\n    logging.getLogger('py4j').exception('Exception while sending command.')\n"
    )
    env = {**os.environ, "PIPELINE_LOG_FILE": "/dev/full"}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
