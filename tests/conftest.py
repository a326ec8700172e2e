"""One SparkSession for the whole suite: local[2], few shuffle partitions, no UI;
the tiers every test belongs to, and their times at the end of a run."""

import os
import shutil
import time
from collections import defaultdict

import pytest

from pipeline.runtime.config import load_config
from pipeline.runtime.session import create_session, local_delta_jars
from tests.support.lakes import JOB_TIME_ZONE, run_in_session
from tools.generator import generate


# PySpark converts naive Python datetimes with the process's zone; pin it so
# hand-written expectations mean UTC on any machine.
os.environ["TZ"] = "UTC"
time.tzset()


TIERS = ("unit", "spark", "e2e", "system")  # declared in pyproject.toml, cheapest first
_tier_of: dict[str, str] = {}
_tier_seconds: dict[str, float] = defaultdict(float)


def pytest_collection_modifyitems(config, items):
    """Refuse a test without exactly one tier marker, and a unit test that asks for Spark."""
    problems = []
    for item in items:
        tiers = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
        if len(tiers) != 1:
            problems.append(f"{item.nodeid}: has tiers {tiers or 'none'}, needs exactly one of {', '.join(TIERS)}")
        elif tiers[0] == "unit" and "spark" in item.fixturenames:
            problems.append(f"{item.nodeid}: a unit test may not use the spark fixture (mark it spark)")
        else:
            _tier_of[item.nodeid] = tiers[0]
    if problems:
        raise pytest.UsageError("tests without a proper tier marker:\n  " + "\n  ".join(problems))


def pytest_runtest_logreport(report):
    _tier_seconds[_tier_of.get(report.nodeid, "?")] += report.duration  # setup, call and teardown


def pytest_terminal_summary(terminalreporter):
    if _tier_seconds:
        times = ", ".join(f"{tier} {_tier_seconds[tier]:.0f} s" for tier in TIERS if tier in _tier_seconds)
        terminalreporter.write_line(f"time per tier: {times}")


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


@pytest.fixture(scope="session", autouse=True)
def delta_session_first(request):
    """Start the suite's session before any test when a test that is not unit is
    selected: a job run in-process (tests.support.lakes.run_in_session) would
    otherwise start its own session without the Delta jars, and every later
    test would get that one. Test order is random, so no test may rely on
    another having asked for `spark` first."""
    if any(item.get_closest_marker("unit") is None for item in request.session.items):
        request.getfixturevalue("spark")


@pytest.fixture(scope="session")
def _drops_lake(spark, tmp_path_factory):
    """(lake, pristine copy): 60 orders, then a drop with late messages for 20
    of them and 20 new orders, the `all` pass after each (gold's second write
    is a MERGE that updates conversations). Built once per session."""
    lake = tmp_path_factory.mktemp("drops") / "lake"
    generate(str(lake), orders=60, seed=5)
    run_in_session("all", lake)
    generate(str(lake), orders=20, seed=6, prefix="late", first_order=40)
    generate(str(lake), orders=20, seed=7, prefix="new", first_order=60)
    run_in_session("all", lake)
    pristine = tmp_path_factory.mktemp("drops-pristine") / "lake"
    shutil.copytree(lake, pristine)
    return lake, pristine


@pytest.fixture(scope="session")
def drops_lake(_drops_lake):
    """The session's generated two-drop lake, to read only (by jobs too)."""
    return _drops_lake[0]


@pytest.fixture
def drops_lake_to_write(spark, _drops_lake):
    """The session's two-drop lake for a test that writes; put back as it was
    afterwards. In place, not a copy elsewhere: bronze knows the landing files
    by their paths and would take a copy's files again."""
    lake, pristine = _drops_lake
    yield lake
    shutil.rmtree(lake)
    shutil.copytree(pristine, lake)
    spark._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()  # no snapshot of the replaced tables


@pytest.fixture(scope="session")
def container_image():
    """The pipeline image of the Dockerfile, built once per session with podman
    (tests/support/containers.py); the tests that use it skip without podman."""
    from tests.support import containers

    if containers.PODMAN is None:
        pytest.skip(containers.SKIP_REASON)
    return containers.build_image()
