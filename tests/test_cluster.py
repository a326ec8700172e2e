"""What only a cluster master has: spark-submit.sh's arguments for standalone,
YARN and Kubernetes masters (the package, the jars, the cluster settings).
The two-drop scenario on a real standalone cluster is in test_backends.py."""

import os
import zipfile

import pytest

from pipeline.runtime.config import REPO_ROOT
from tests.support.lakes import submit

pytestmark = pytest.mark.e2e


@pytest.fixture
def printed_submit(tmp_path):
    """Environment for spark-submit.sh with a stand-in spark-submit that prints its arguments."""
    fake = tmp_path / "spark-submit"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    return {**os.environ, "SPARK_SUBMIT": str(fake)}


@pytest.mark.parametrize("master", ["spark://host:7077", "yarn", "k8s://https://host:6443"])
def test_cluster_masters_get_the_package_the_jars_and_the_cluster_settings(printed_submit, master):
    result = submit("gold", "--master", master, "--lake", "s3a://bucket/lake", env=printed_submit)
    assert result.returncode == 0, result.stderr
    args = result.stdout.splitlines()
    assert args[args.index("--master") + 1] == master
    assert args[args.index("--py-files") + 1] == str(REPO_ROOT / "build" / "pipeline.zip")
    assert "/delta-spark_" in args[args.index("--jars") + 1]
    assert args[-5:] == [str(REPO_ROOT / "jobs" / "gold.py"), "--lake", "s3a://bucket/lake", "--conf-env", "cluster"]
    with zipfile.ZipFile(REPO_ROOT / "build" / "pipeline.zip") as package:
        names = set(package.namelist())
    assert {"pipeline/runtime/runner.py", "pipeline/lake/incremental.py", "pipeline/steps/gold.py", "jobs/gold.py"} <= names
    assert not any(name.startswith("tools/") for name in names)  # the generator is no runtime code


def test_an_explicit_conf_env_wins_over_the_cluster_default(printed_submit):
    result = submit("gold", "--master", "yarn", "--conf-env", "local", env=printed_submit)
    assert result.stdout.splitlines()[-2:] == ["--conf-env", "local"]
