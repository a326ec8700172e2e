"""What only an s3a:// lake has: the write lease that stands in for a lock, and
the error lines of an unreachable endpoint and missing credentials; forget on
S3. The two-drop scenario that every backend runs is in test_backends.py.

Needs the S3 jars ('make setup-s3', which 'make test' runs); skipped without."""

import json
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.runtime.config import REPO_ROOT
from pipeline.runtime.lock import LEASE
from tools.generator import generate
from tests.support.lakes import assert_gold_matches_reference, small_lake_env, submit
from tests.support.s3 import BUCKET, S3, needs_s3
from tests.test_forget import assert_gold_and_kpis_without, holders, pick_customer

pytestmark = [pytest.mark.system, needs_s3]


@pytest.fixture(scope="module")
def s3():
    server = S3()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    """The landing files of a generated data set of 150 orders."""
    staging = tmp_path_factory.mktemp("staging")
    generate(str(staging), orders=150, seed=17)
    return sorted((staging / "landing").glob("*/*"))


def run(s3, job, prefix, *options, **env):
    """The job's exit code and output (spark-submit merges the driver's stderr into stdout)."""
    result = submit(job, "--lake", f"s3a://{BUCKET}/{prefix}", *options, env=s3.env(**env))
    return result.returncode, result.stdout + result.stderr


def assert_succeeded(code, output):
    assert code == 0, output[-3000:]


def assert_one_error_line(code, output, text):
    assert code == 1, output[-3000:]
    errors = [line for line in output.splitlines() if "error:" in line]
    assert len(errors) == 1 and text in errors[0], output[-3000:]
    assert "Traceback" not in output and "\tat " not in output


def lease_object(s3, prefix, owner, expires_at):
    s3.client.put_object(
        Bucket=BUCKET, Key=f"{prefix}/{LEASE}",
        Body=json.dumps({"owner": owner, "job": "all", "expires_at": expires_at.isoformat(timespec="seconds")}),
    )


def concurrently(s3, job, prefix, runs=2):
    """Start `runs` runs of the job at once; [(exit code, output)] when all ended."""
    processes = [
        subprocess.Popen(
            [str(REPO_ROOT / "spark-submit.sh"), job, "--lake", f"s3a://{BUCKET}/{prefix}"],
            cwd=REPO_ROOT, env=small_lake_env(s3.env()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for _ in range(runs)
    ]
    return [(process.wait(timeout=600), process.communicate()[0]) for process in processes]


@pytest.fixture(scope="module")
def race(s3, drop, tmp_path_factory):
    """A run killed with kill -9 left its lease behind; two runs start at once
    on the lake "lease". Their sorted (exit code, output), a copy of the lake
    right after, and whether the lease was left; forget then runs on that lake."""
    s3.upload(drop, "lease")
    lease_object(s3, "lease", "all on a-dead-host pid 1", datetime.now(timezone.utc) - timedelta(seconds=5))
    results = sorted(concurrently(s3, "all", "lease"), key=lambda result: result[0])
    copy = s3.download("lease", tmp_path_factory.mktemp("raced"))
    return results, copy, s3.keys(f"lease/{LEASE}")


def test_two_runs_at_once_one_takes_the_expired_lease_over_the_other_is_refused(race, spark):
    """One takes the expired lease over, the other is refused with one line. The
    lake then equals the reference model, and the lease is released."""
    results, lake, lease_left = race
    outputs = "\n---\n".join(output[-2500:] for _, output in results)
    assert [code for code, _ in results] == [0, 1], outputs
    assert "took over the expired write lease of all on a-dead-host pid 1" in results[0][1], outputs
    assert_one_error_line(*results[1], "another run")  # holds the lease, or took the expired one over first
    assert_gold_matches_reference(spark, lake)
    assert lease_left == []  # released at the end


def test_a_run_is_refused_while_another_holds_the_lease_and_writes_nothing(s3, drop):
    s3.upload(drop, "held")
    until = datetime.now(timezone.utc) + timedelta(minutes=10)
    lease_object(s3, "held", "all on another-host pid 42", until)
    before = s3.keys("held/")
    assert_one_error_line(*run(s3, "all", "held"), "another run holds the lake's write lease (all on another-host pid 42, until")
    assert s3.keys("held/") == before


def test_a_wrong_endpoint_is_one_error_line(s3):
    code, output = run(s3, "all", "nowhere", AWS_ENDPOINT_URL_S3="http://127.0.0.1:9")
    assert_one_error_line(code, output, "cannot reach the lake s3a://customer-care/nowhere")


def test_missing_credentials_are_one_error_line_and_nothing_is_written(s3, drop):
    s3.upload(drop, "nocreds")
    before = s3.keys("nocreds/")
    code, output = run(s3, "all", "nocreds", AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    assert_one_error_line(code, output, "no credentials for s3a://customer-care/nocreds")
    assert s3.keys("nocreds/") == before


def test_forget_on_s3_erases_the_customer_and_refuses_to_rewrite_remote_landing(s3, race, spark, tmp_path):
    _, lake, _ = race
    customer = pick_customer(spark, lake)
    commits = s3.commits("lease")
    code, output = run(s3, "forget", "lease", "--customer", str(customer), "--rewrite-landing")
    assert_one_error_line(code, output, "--rewrite-landing rewrites local landing files only")
    assert s3.commits("lease") == commits and s3.keys("lease/_meta/erased_customers") == []  # nothing erased

    assert_succeeded(*run(s3, "forget", "lease", "--customer", str(customer)))
    after = s3.download("lease", tmp_path / "after")
    assert holders(after, customer, landing=False) == []
    assert_gold_and_kpis_without(spark, after, customer)
