"""The container image of the Dockerfile, built with podman on a locally made
Debian base, runs the pipeline on a lake mounted from the host."""

import shutil

import pytest

from pipeline.runtime.config import REPO_ROOT
from tests.support import containers
from tests.support.containers import podman
from tests.support.lakes import JOB_TIME_ZONE, assert_gold_matches_reference

pytestmark = [pytest.mark.system, pytest.mark.skipif(containers.PODMAN is None, reason=containers.SKIP_REASON)]


@pytest.fixture(scope="module")
def image(container_image):
    return container_image


def run(image, *args, options=()):
    # Host networking: the machines of CI have no working container bridge.
    # TZ far from UTC: a result that depended on the zone would differ from the model.
    return podman("run", "--rm", "--network=host", "-e", f"TZ={JOB_TIME_ZONE}",
                  "-e", "JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1", *options, image, *args, check=False)


@pytest.fixture(scope="module")
def lake_run(image, tmp_path_factory):
    """`all` on a copy of the bundled sample, as the host user who owns it."""
    lake = tmp_path_factory.mktemp("container-lake")
    shutil.copytree(REPO_ROOT / "datalake" / "landing", lake / "landing")
    owner, user_options = containers.host_user(lake)
    result = run(image, "all", "--lake", "/lake", options=[*user_options, "-v", f"{lake}:/lake"])
    return lake, owner, result


def test_all_in_the_container_gives_the_reference_gold(spark, lake_run):
    lake, _, result = lake_run
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert_gold_matches_reference(spark, lake)


def test_the_files_written_belong_to_the_host_user(lake_run):
    lake, owner, result = lake_run
    assert result.returncode == 0
    written = [path for path in lake.rglob("*") if not path.is_relative_to(lake / "landing")]
    assert any(path.name.endswith(".parquet") for path in written)
    assert any(path.is_relative_to(lake / "_meta" / "logs") for path in written)
    assert {(path.stat().st_uid, path.stat().st_gid) for path in written} == {owner}


def test_a_bad_lake_path_is_one_error_line_and_a_non_zero_exit(image):
    result = run(image, "bronze", "--lake", "/nowhere")
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert [line for line in output.splitlines() if "error" in line.lower()] == [
        "bronze: error: lake folder not found: /nowhere"]
    assert "Traceback" not in output


def test_publish_without_connection_settings_is_one_error_line(lake_run, image):
    lake, _, result = lake_run
    assert result.returncode == 0
    result = run(image, "publish", "--lake", "/lake", options=["--user", f"{lake.stat().st_uid}:{lake.stat().st_gid}",
                                                            "-v", f"{lake}:/lake"])
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert [line for line in output.splitlines() if "error" in line.lower()] == [
        "publish: error: PGDATABASE is not set (connection settings: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD)"]


def test_the_image_runs_as_a_non_root_user_by_default(image):
    result = podman("run", "--rm", "--entrypoint", "id", image, "-u")
    assert result.stdout.strip() == "1000"


def test_an_executor_pod_starts_sparks_kubernetes_executor_backend(image):
    """What Spark on Kubernetes runs in an executor pod: `executor` and SPARK_*
    variables. No driver listens here, so the backend starts and then fails to
    reach it; a missing class or a wrong command line would fail differently."""
    settings = {
        "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@127.0.0.1:9", "SPARK_EXECUTOR_ID": "1",
        "SPARK_EXECUTOR_CORES": "1", "SPARK_APPLICATION_ID": "spark-test", "SPARK_EXECUTOR_POD_IP": "127.0.0.1",
        "SPARK_RESOURCE_PROFILE_ID": "0", "SPARK_EXECUTOR_POD_NAME": "executor-1", "SPARK_EXECUTOR_MEMORY": "512m",
        "SPARK_JAVA_OPT_0": "-Dspark.network.timeout=5s",
    }
    options = [option for key, value in settings.items() for option in ("-e", f"{key}={value}")]
    result = run(image, "executor", options=options)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "KubernetesExecutorBackend" in output, output[-3000:]
    assert "ClassNotFoundException" not in output and "Could not find or load main class" not in output


def test_the_base_image_is_made_where_there_is_none():
    """The first-run path of a machine without the base (CI's first run): made
    under a throwaway name, exit status 0, then a second call keeps it."""
    name = f"localhost/pipeline-base-first-run:{REPO_ROOT.stat().st_ino}"
    podman("rmi", "--force", name, check=False)
    try:
        made = containers.make_base(name)
        assert made.returncode == 0 and "made with debootstrap" in made.stdout, made.stderr[-3000:]
        assert podman("image", "exists", name, check=False).returncode == 0
        kept = containers.make_base(name)
        assert kept.returncode == 0 and "present" in kept.stdout
    finally:
        podman("rmi", "--force", name, check=False)
