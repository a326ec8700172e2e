"""A real S3 server on localhost for the jobs on s3a:// lakes: moto's server
mode on a free port (nothing is mocked in the jobs: they talk HTTP to it
through Hadoop's S3A and the AWS SDK, as to AWS S3)."""

import logging
from pathlib import Path

import pytest

from pipeline.runtime.config import REPO_ROOT
from tests.support.lakes import small_lake_env

BUCKET = "customer-care"
KEY_ID = "test-key-id"
SECRET = "test-secret"
JARS_READY = (REPO_ROOT / ".jars-s3" / ".complete").is_file()
needs_s3 = pytest.mark.skipif(not JARS_READY, reason="the S3 jars are not set up: run 'make setup-s3'")


class S3:
    """A moto S3 server on 127.0.0.1 and a client of it."""

    def __init__(self):
        moto_server = pytest.importorskip("moto.server",
                                          reason="moto[server] is not installed (pip install -e '.[test]')")
        boto3 = pytest.importorskip("boto3")
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
