"""One scenario, three backends: the `all` pass on a local lake (in the test's
session: test_end_to_end runs it through spark-submit.sh), through
spark-submit.sh on an s3a:// lake (a moto S3 server, tests/support/s3.py) and
on a standalone cluster (tests/support/cluster.py). Two landing drops, then a
rerun: after each drop the lake equals the reference model, and the rerun
commits nothing. The body is written once, as Delta's own Python tests run
one body against two backends; what only one backend has (S3's lease, the
cluster's packaging) stays in test_s3.py and test_cluster.py."""

import shutil
from pathlib import Path

import pytest

from tools.generator import generate
from tests.support.cluster import standalone_cluster
from tests.support.lakes import assert_gold_matches_reference, run_in_session, submit, table
from tests.support.s3 import BUCKET, S3, needs_s3


class LocalLake:
    """A lake folder on this machine, the jobs in local mode."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.lake = str(folder)

    def land(self, files):
        for file in files:
            target = self.folder / "landing" / file.parent.name / file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)

    def run_all(self):
        run_in_session("all", self.folder)

    def readable(self, _target: Path) -> Path:
        return self.folder

    def commits(self) -> list[str]:
        """Every Delta commit file of the lake's tables (the audit table aside)."""
        return sorted(str(path.relative_to(self.folder)) for path in self.folder.glob("**/_delta_log/*.json")
                      if path.relative_to(self.folder).parts[0] != "_meta")

    def assert_ran_there(self, runs: int):
        pass


class ClusterLake(LocalLake):
    """A local lake folder, the jobs submitted to a standalone master."""

    def __init__(self, folder: Path, cluster):
        super().__init__(folder)
        self.cluster = cluster

    def run_all(self):
        # conf/local.toml: cluster.toml's 200 shuffle and 50 Delta snapshot
        # partitions cost ~40 s more on 2 cores for a lake this small.
        result = submit("all", "--lake", self.lake, "--master", self.cluster.url, "--conf-env", "local",
                        env=self.cluster.submit_env())
        assert result.returncode == 0, f"all failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    def assert_ran_there(self, runs: int):
        """Each run was an application of this master, with its executors on the worker."""
        apps = self.cluster.state()["completedapps"]
        assert [(app["name"], app["state"]) for app in apps] == [("customer-care-all", "FINISHED")] * runs
        assert self.cluster.executor_apps() == {app["id"] for app in apps}


class S3Lake:
    """An s3a:// lake on a moto S3 server; read through a local copy."""

    def __init__(self, server: S3, prefix: str):
        self.server, self.prefix = server, prefix
        self.lake = f"s3a://{BUCKET}/{prefix}"

    def land(self, files):
        self.server.upload(files, self.prefix)

    def run_all(self):
        result = submit("all", "--lake", self.lake, env=self.server.env())
        assert result.returncode == 0, f"all failed:\n{(result.stdout + result.stderr)[-3000:]}"

    def readable(self, target: Path) -> Path:
        return self.server.download(self.prefix, target)

    def commits(self) -> list[str]:
        return self.server.commits(self.prefix)

    def assert_ran_there(self, runs: int):
        assert self.server.keys(f"{self.prefix}/gold/")  # the tables are in the bucket


@pytest.fixture
def backend(request, tmp_path):
    if request.param == "local":
        yield LocalLake(tmp_path / "lake")
    elif request.param == "s3":
        server = S3()
        try:
            yield S3Lake(server, "lake")
        finally:
            server.stop()
    else:
        with standalone_cluster(tmp_path / "cluster") as cluster:
            yield ClusterLake(tmp_path / "lake", cluster)


@pytest.fixture(scope="module")
def drops(tmp_path_factory):
    """A generated data set of 80 orders in two landing drops, in file-name order."""
    staging = tmp_path_factory.mktemp("staging")
    generate(str(staging), orders=80, seed=17, files=6)
    messages = sorted((staging / "landing" / "customer_agent_messages").iterdir())
    orders = sorted((staging / "landing" / "orders").iterdir())
    return [messages[:3] + orders[:1], messages[3:] + orders[1:]]


BACKENDS = [
    pytest.param("local", marks=pytest.mark.e2e),
    pytest.param("s3", marks=[pytest.mark.system, needs_s3]),
    pytest.param("cluster", marks=pytest.mark.e2e),
]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_two_drops_and_a_rerun_equal_the_reference_model(backend, drops, spark, tmp_path):
    backend.land(drops[0])
    backend.run_all()
    assert_gold_matches_reference(spark, backend.readable(tmp_path / "first"))

    backend.land(drops[1])
    backend.run_all()
    second = backend.readable(tmp_path / "second")
    assert_gold_matches_reference(spark, second)
    assert table(spark, second, "gold_conversations").count() > 60

    commits = backend.commits()
    assert commits
    backend.run_all()
    assert backend.commits() == commits  # nothing new: no table got a new version
    backend.assert_ran_there(runs=3)
