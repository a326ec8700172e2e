"""The jobs on an s3a:// lake, against a real S3 server on localhost: moto's
server mode, started here on a free port (nothing is mocked in the jobs: they
talk HTTP to it through Hadoop's S3A and the AWS SDK, as to AWS S3).

Needs the S3 jars ('make setup-s3', which 'make test' runs); skipped without."""

import json
import logging
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.runtime.config import REPO_ROOT
from pipeline.runtime.lock import LEASE
from tools.generator import generate
from tests.support.lakes import assert_gold_matches_reference, small_lake_env, submit, table
from tests.test_forget import assert_gold_and_kpis_without, holders, pick_customer

pytestmark = [pytest.mark.system, pytest.mark.skipif(
    not (REPO_ROOT / ".jars-s3" / ".complete").is_file(),
    reason="the S3 jars are not set up: run 'make setup-s3'",
)]
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install -e '.[test]')")
boto3 = pytest.importorskip("boto3")

BUCKET = "customer-care"
KEY_ID = "test-key-id"
SECRET = "test-secret"


class S3:
    """A moto S3 server on 127.0.0.1 and a client of it."""

    def __init__(self):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self.server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client = boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
        )
        self.client.create_bucket(Bucket=BUCKET)

    def env(self, **changes):
        """The jobs' environment: this server, credentials in the AWS variables,
        no AWS config files or instance metadata of the machine."""
        env = {key: value for key, value in small_lake_env().items() if not key.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL_S3=self.endpoint, AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
            AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
            AWS_EC2_METADATA_DISABLED="true",
        )
        for key, value in changes.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def keys(self, prefix):
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def upload(self, files, prefix):
        for file in files:
            self.client.upload_file(str(file), BUCKET, f"{prefix}/landing/{file.parent.name}/{file.name}")

    def download(self, prefix, target: Path) -> Path:
        """A local copy of the lake (Delta tables are self-contained folders)."""
        for key in self.keys(f"{prefix}/"):
            if key.endswith("/"):
                continue  # S3A's marker of an empty folder
            path = target / key[len(prefix) + 1:]
            path.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(BUCKET, key, str(path))
        return target

    def commits(self, prefix):
        """Every Delta commit file of the lake's tables (the audit table aside)."""
        return [key for key in self.keys(f"{prefix}/") if "/_delta_log/" in key and key.endswith(".json")
                and not key.startswith(f"{prefix}/_meta/")]

    def stop(self):
        self.server.stop()


@pytest.fixture(scope="module")
def s3():
    server = S3()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def drops(tmp_path_factory):
    """A generated data set of a few hundred orders in two landing drops."""
    staging = tmp_path_factory.mktemp("staging")
    generate(str(staging), orders=300, seed=17, files=6)
    messages = sorted((staging / "landing" / "customer_agent_messages").iterdir())
    orders = sorted((staging / "landing" / "orders").iterdir())
    return [messages[:3] + orders[:1], messages[3:] + orders[1:]]


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
            cwd=REPO_ROOT, env=s3.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for _ in range(runs)
    ]
    return [(process.wait(timeout=600), process.communicate()[0]) for process in processes]


def test_pipeline_on_s3_equals_the_reference_model_over_drops_concurrent_runs_and_a_rerun(s3, drops, spark, tmp_path):
    """First drop; second drop with a lease left by a killed run and two runs at
    once; a rerun that changes nothing. After each the lake equals the reference
    model: no row lost or doubled."""
    s3.upload(drops[0], "lake")
    assert_succeeded(*run(s3, "all", "lake"))
    assert_gold_matches_reference(spark, s3.download("lake", tmp_path / "first"))
    assert s3.keys(f"lake/{LEASE}") == []  # released at the end

    # A run killed with kill -9 leaves its lease behind. Two runs start at once:
    # one takes the expired lease over, the other is refused with one line.
    lease_object(s3, "lake", "all on a-dead-host pid 1", datetime.now(timezone.utc) - timedelta(seconds=5))
    s3.upload(drops[1], "lake")
    results = sorted(concurrently(s3, "all", "lake"), key=lambda result: result[0])
    outputs = "\n---\n".join(output[-2500:] for _, output in results)
    assert [code for code, _ in results] == [0, 1], outputs
    assert "took over the expired write lease of all on a-dead-host pid 1" in results[0][1], outputs
    assert_one_error_line(*results[1], "another run")  # holds the lease, or took the expired one over first
    second = s3.download("lake", tmp_path / "second")
    assert_gold_matches_reference(spark, second)
    assert table(spark, second, "gold_conversations").count() > 250

    commits = s3.commits("lake")
    assert_succeeded(*run(s3, "all", "lake"))
    assert s3.commits("lake") == commits  # nothing new: no table got a new version


def test_a_run_is_refused_while_another_holds_the_lease_and_writes_nothing(s3, drops):
    s3.upload(drops[0], "held")
    until = datetime.now(timezone.utc) + timedelta(minutes=10)
    lease_object(s3, "held", "all on another-host pid 42", until)
    before = s3.keys("held/")
    assert_one_error_line(*run(s3, "all", "held"), "another run holds the lake's write lease (all on another-host pid 42, until")
    assert s3.keys("held/") == before


def test_a_wrong_endpoint_is_one_error_line(s3):
    code, output = run(s3, "all", "nowhere", AWS_ENDPOINT_URL_S3="http://127.0.0.1:9")
    assert_one_error_line(code, output, "cannot reach the lake s3a://customer-care/nowhere")


def test_missing_credentials_are_one_error_line_and_nothing_is_written(s3, drops):
    s3.upload(drops[0], "nocreds")
    before = s3.keys("nocreds/")
    code, output = run(s3, "all", "nocreds", AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    assert_one_error_line(code, output, "no credentials for s3a://customer-care/nocreds")
    assert s3.keys("nocreds/") == before


def test_forget_on_s3_erases_the_customer_and_refuses_to_rewrite_remote_landing(s3, drops, spark, tmp_path):
    s3.upload(drops[0], "forget")
    assert_succeeded(*run(s3, "all", "forget"))
    customer = pick_customer(spark, s3.download("forget", tmp_path / "before"))
    commits = s3.commits("forget")
    code, output = run(s3, "forget", "forget", "--customer", str(customer), "--rewrite-landing")
    assert_one_error_line(code, output, "--rewrite-landing rewrites local landing files only")
    assert s3.commits("forget") == commits and s3.keys("forget/_meta/erased_customers") == []  # nothing erased

    assert_succeeded(*run(s3, "forget", "forget", "--customer", str(customer)))
    after = s3.download("forget", tmp_path / "after")
    assert holders(after, customer, landing=False) == []
    assert_gold_and_kpis_without(spark, after, customer)
