import pytest

from pipeline import PipelineError
from pipeline.runtime.config import REPO_ROOT, load_config

GOOD = (REPO_ROOT / "conf" / "local.toml").read_text()


def test_local_config_resolves_the_lake_against_the_repo_root():
    config = load_config("local")
    assert config.lake == str(REPO_ROOT / "datalake")
    assert config.table("gold_conversations") == f"{REPO_ROOT}/datalake/gold/customer_agent_conversations"


def test_quality_threshold_from_the_config():
    config = load_config("local")
    assert (config.max_quarantined_share, config.share_min_records) == (0.05, 1000)


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
    ],
)
def test_malformed_config_is_one_clear_error(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(PipelineError, match=message.replace("[", r"\[")):
        load_config("bad", conf_dir=tmp_path)


def test_unknown_environment_names_the_known_ones():
    with pytest.raises(PipelineError, match="known: cluster, local"):
        load_config("staging")
