import pytest

from pipeline import PipelineError
from pipeline.runtime.config import REPO_ROOT, load_config

pytestmark = pytest.mark.unit

GOOD = (REPO_ROOT / "conf" / "local.toml").read_text()


def test_local_config_resolves_the_lake_against_the_repo_root():
    config = load_config("local")
    assert config.lake == str(REPO_ROOT / "datalake")
    assert config.table("gold_conversations") == f"{REPO_ROOT}/datalake/gold/customer_agent_conversations"


def test_quality_threshold_from_the_config():
    config = load_config("local")
    assert (config.max_quarantined_share, config.share_min_records) == (0.05, 1000)


def test_gold_deletion_vectors_are_off_unless_the_config_turns_them_on(tmp_path):
    assert load_config("local").gold_deletion_vectors is False
    (tmp_path / "old.toml").write_text(GOOD.replace("gold_deletion_vectors = false", ""))  # a config from before
    assert load_config("old", conf_dir=tmp_path).gold_deletion_vectors is False
    (tmp_path / "dv.toml").write_text(GOOD.replace("gold_deletion_vectors = false", "gold_deletion_vectors = true"))
    config = load_config("dv", conf_dir=tmp_path)
    assert config.gold_deletion_vectors is True
    assert "gold_deletion_vectors" not in config.tables  # a setting, not a table
    assert set(config.named_tables()) == set(load_config("local").named_tables())


def test_lake_override_keeps_hadoop_uris_and_absolutises_local_paths(tmp_path):
    assert load_config("local", "s3a://bucket/lake/").lake == "s3a://bucket/lake"
    assert load_config("local", str(tmp_path)).lake == str(tmp_path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("lake = ", "malformed config"),
        (GOOD.replace("shuffle_partitions = 4", "shuffle_partitions = 0"), "shuffle_partitions"),
        (GOOD.replace('gold_conversations = "gold/customer_agent_conversations"', ""), "[tables]"),
        ("surprise = 1\n" + GOOD, "unknown keys"),
        (GOOD.replace("max_quarantined_share = 0.05", "max_quarantined_share = 5"), "[quality]"),
        (GOOD.replace("share_min_records = 1000", "share_min_records = true"), "[quality]"),
        (GOOD.replace("gold_deletion_vectors = false", 'gold_deletion_vectors = "no"'), "gold_deletion_vectors must be true"),
    ],
)
def test_malformed_config_is_one_clear_error(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(PipelineError, match=message.replace("[", r"\[")):
        load_config("bad", conf_dir=tmp_path)


def test_unknown_environment_names_the_known_ones():
    with pytest.raises(PipelineError, match=r"known: cluster, local\)"):  # not quality_rules, s3
        load_config("staging")


def test_an_s3a_lake_adds_conf_s3_with_the_endpoint_of_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")
    monkeypatch.delenv("S3_PATH_STYLE_ACCESS", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    config = load_config("local", "s3a://bucket/lake")
    assert config.spark["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert config.spark["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert config.spark["spark.hadoop.fs.s3a.endpoint.region"] == "us-east-1"
    assert config.spark["spark.hadoop.fs.s3a.aws.credentials.provider"].endswith("DefaultCredentialsProvider")
    assert config.spark["spark.databricks.delta.snapshotPartitions"] == "2"  # local.toml's still apply
    assert config.lease_seconds == 120
    # A local lake gets none of it.
    local = load_config("local")
    assert local.lease_seconds == 0 and not any("s3a" in key for key in local.spark)


def test_aws_s3_needs_no_endpoint(monkeypatch):
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    config = load_config("cluster", "s3a://bucket/lake")
    assert "spark.hadoop.fs.s3a.endpoint" not in config.spark
    assert config.spark["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"


@pytest.mark.parametrize(
    "key", ["spark.hadoop.fs.s3a.secret.key", "spark.hadoop.fs.s3a.bucket.lake.access.key",
            "spark.hadoop.fs.s3a.session.token"],
)
def test_credentials_in_a_settings_file_are_refused(tmp_path, key):
    (tmp_path / "bad.toml").write_text(GOOD + f'"{key}" = "AKIA-not-here"\n')
    with pytest.raises(PipelineError, match="credentials come from the environment") as error:
        load_config("bad", conf_dir=tmp_path)
    assert "AKIA-not-here" not in str(error.value)


def test_s3_settings_are_not_an_environment():
    with pytest.raises(PipelineError, match="unknown config environment 's3'"):
        load_config("s3")
