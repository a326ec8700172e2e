"""One SparkSession for the whole suite: local[2], few shuffle partitions, no UI."""

import os
import time

import pytest

from pipeline.runtime.config import load_config
from pipeline.runtime.session import create_session, local_delta_jars
from tests.support.lakes import JOB_TIME_ZONE


# PySpark converts naive Python datetimes with the process's zone; pin it so
# hand-written expectations mean UTC on any machine.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(scope="session")
def spark():
    config = load_config("local")
    session = create_session(
        "tests",
        config,
        {
            "spark.master": "local[2]",
            "spark.jars": local_delta_jars(),
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            # The JVM runs far from UTC, as the job subprocesses do (the session zone stays UTC).
            "spark.driver.extraJavaOptions": f"-Duser.timezone={JOB_TIME_ZONE}",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def container_image():
    """The pipeline image of the Dockerfile, built once per session with podman
    (tests/support/containers.py); the tests that use it skip without podman."""
    from tests.support import containers

    if containers.PODMAN is None:
        pytest.skip(containers.SKIP_REASON)
    return containers.build_image()
