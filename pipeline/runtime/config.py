"""Settings per environment, read from conf/<env>.toml."""

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline import PipelineError
from pipeline.lake.files import has_scheme

# spark-submit.sh sets PIPELINE_HOME: the package may run from a zip (--py-files).
REPO_ROOT = Path(os.environ.get("PIPELINE_HOME") or Path(__file__).resolve().parents[2])
CONF_DIR = REPO_ROOT / "conf"
TABLE_KEYS = (
    "bronze_messages",
    "bronze_orders",
    "silver_messages",
    "silver_orders",
    "quarantine_messages",
    "quarantine_orders",
    "gold_conversations",
    "gold_daily_kpis",
    "quarantine_landing_files",
)
# Landing folders (<lake>/landing/<dataset>) and the bronze table each feeds.
LANDING_FEEDS = {"customer_agent_messages": "bronze_messages", "orders": "bronze_orders"}
# Tables of <lake>/_meta, by name: the audit of every run, bronze's manifest of taken files and the
# suppression list of erased customers (forget).
META_TABLES = ("pipeline_runs", "landed_files", "erased_customers")
# Tables a config may leave out (configs written before they existed).
TABLE_DEFAULTS = {"quarantine_landing_files": "quarantine/landing_files"}
# Files in conf/ that are not settings environments.
NOT_ENVIRONMENTS = {"quality_rules", "s3"}
# Hadoop settings that would hold S3 credentials: they come from the environment
# or the AWS default chain only, never from a file in the repository.
CREDENTIAL_KEY = re.compile(r"fs\.s3a\..*(access\.key|secret\.key|session\.token)$")


@dataclass(frozen=True)
class Config:
    lake: str
    shuffle_partitions: int
    tables: dict[str, str]
    spark: dict[str, str]
    # [quality]: silver stops when more than this share of a batch would be quarantined,
    max_quarantined_share: float = 0.05
    # for batches of at least this many records (2 bad records out of 6 say little).
    share_min_records: int = 1000
    # s3a:// lakes (conf/s3.toml): hold a write lease of this many seconds on the
    # store; 0 = no lease (a store without conditional writes).
    lease_seconds: int = 0
    # [tables] gold_deletion_vectors: gold's MERGEs mark replaced rows instead of
    # rewriting their files; off by default, because readers without deletion
    # vector support (delta-rs's default API, pandas through it) refuse such a table.
    gold_deletion_vectors: bool = False

    def table(self, key: str) -> str:
        """Full path of a table, e.g. table("gold_conversations")."""
        return f"{self.lake}/{self.tables[key]}"

    def table_name(self, key: str) -> str:
        """Last path segment of a table, e.g. customer_agent_conversations."""
        return self.tables[key].rstrip("/").rsplit("/", 1)[-1]

    def landing(self, dataset: str) -> str:
        return f"{self.lake}/landing/{dataset}"

    def checkpoint(self, name: str) -> str:
        return f"{self.lake}/_checkpoints/{name}"

    def meta(self, name: str) -> str:
        return f"{self.lake}/_meta/{name}"

    def named_tables(self) -> dict[str, str]:
        """Every table of the lake by its SQL name (<layer>.<table>, meta.* for
        _meta) -> location: what spark-sql and `make serve` register."""
        names = {}
        for key in TABLE_KEYS:
            layer, name = self.tables[key].strip("/").split("/", 1)
            names[f"{layer}.{name.replace('/', '_')}"] = self.table(key)
        for name in META_TABLES:
            names[f"meta.{name}"] = self.meta(name)
        return names


def resolve_lake(lake: str) -> str:
    """Absolute local path (relative to the repo root), or the URI unchanged."""
    if has_scheme(lake):
        return lake.rstrip("/")
    path = Path(lake)
    return str(path if path.is_absolute() else (REPO_ROOT / path).resolve())


def load_config(env: str = "local", lake: str | None = None, conf_dir: Path = CONF_DIR) -> Config:
    """Read conf/<env>.toml; `lake` overrides its lake root. For an s3a:// lake
    conf/s3.toml and the environment's endpoint are added (s3_settings)."""
    path = conf_dir / f"{env}.toml"
    if not path.is_file() or env in NOT_ENVIRONMENTS:
        known = ", ".join(sorted(p.stem for p in conf_dir.glob("*.toml") if p.stem not in NOT_ENVIRONMENTS))
        raise PipelineError(f"unknown config environment '{env}' (no {path}; known: {known})")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise PipelineError(f"malformed config {path}: {err}") from None

    unknown = set(raw) - {"lake", "shuffle_partitions", "tables", "spark", "quality"}
    if unknown:
        raise PipelineError(f"malformed config {path}: unknown keys {sorted(unknown)}")
    if not isinstance(raw.get("lake"), str) or not raw["lake"]:
        raise PipelineError(f"malformed config {path}: 'lake' must be a non-empty string")
    partitions = raw.get("shuffle_partitions")
    if not is_number(partitions, int) or partitions < 1:
        raise PipelineError(f"malformed config {path}: 'shuffle_partitions' must be a positive integer")
    tables = {**TABLE_DEFAULTS, **raw.get("tables", {})}
    gold_deletion_vectors = tables.pop("gold_deletion_vectors", Config.gold_deletion_vectors)
    if not isinstance(gold_deletion_vectors, bool):
        raise PipelineError(f"malformed config {path}: [tables] gold_deletion_vectors must be true or false")
    missing = [key for key in TABLE_KEYS if not isinstance(tables.get(key), str)]
    if missing or set(tables) - set(TABLE_KEYS):
        raise PipelineError(
            f"malformed config {path}: [tables] needs exactly {', '.join(TABLE_KEYS)} as strings "
            "(and optionally gold_deletion_vectors)"
        )
    spark = raw.get("spark", {})
    if not isinstance(spark, dict):
        raise PipelineError(f"malformed config {path}: [spark] must be a table of settings")
    check_no_credentials(path, spark)
    quality = raw.get("quality", {})
    bad_quality = (
        f"malformed config {path}: [quality] takes max_quarantined_share (0 to 1) and share_min_records (>= 0)"
    )
    if not isinstance(quality, dict) or set(quality) - {"max_quarantined_share", "share_min_records"}:
        raise PipelineError(bad_quality)
    share = quality.get("max_quarantined_share", Config.max_quarantined_share)
    min_records = quality.get("share_min_records", Config.share_min_records)
    if not is_share(share) or not is_number(min_records, int) or min_records < 0:
        raise PipelineError(bad_quality)

    root = resolve_lake(lake or raw["lake"])
    settings = {key: str(value) for key, value in spark.items()}
    lease_seconds = 0
    if root.startswith("s3a://"):
        s3_spark, lease_seconds = s3_settings(conf_dir / "s3.toml")
        settings = {**s3_spark, **settings}  # the environment's file may override
    return Config(
        lake=root,
        shuffle_partitions=partitions,
        tables=dict(tables),
        spark=settings,
        max_quarantined_share=float(share),
        share_min_records=min_records,
        lease_seconds=lease_seconds,
        gold_deletion_vectors=gold_deletion_vectors,
    )


def check_no_credentials(path: Path, spark: dict) -> None:
    keys = sorted(key for key in spark if CREDENTIAL_KEY.search(key))
    if keys:
        raise PipelineError(
            f"malformed config {path}: {', '.join(keys)}: S3 credentials come from the environment "
            "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the AWS default chain, never from a file"
        )


def s3_settings(path: Path, environ=os.environ) -> tuple[dict[str, str], int]:
    """The Spark settings of conf/s3.toml with the endpoint (AWS_ENDPOINT_URL_S3 or
    AWS_ENDPOINT_URL first), and the lease in seconds (0: no lease)."""
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise PipelineError(f"malformed config {path}: {err}") from None
    unknown = set(raw) - {"endpoint", "path_style_access", "lease", "lease_seconds", "spark"}
    spark = raw.get("spark", {})
    if (
        unknown or not isinstance(spark, dict) or not isinstance(raw.get("endpoint", ""), str)
        or not isinstance(raw.get("path_style_access", True), bool) or not isinstance(raw.get("lease", True), bool)
        or not is_number(raw.get("lease_seconds", 120), int) or raw.get("lease_seconds", 120) < 10
    ):
        raise PipelineError(
            f"malformed config {path}: takes endpoint (string), path_style_access and lease (true/false), "
            "lease_seconds (10 or more) and [spark]"
        )
    check_no_credentials(path, spark)
    settings = {key: str(value) for key, value in spark.items()}
    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or raw.get("endpoint", "")
    if endpoint:
        path_style = environ.get("S3_PATH_STYLE_ACCESS", str(raw.get("path_style_access", True))).lower()
        if path_style not in ("true", "false"):
            raise PipelineError(f"S3_PATH_STYLE_ACCESS must be true or false, got {path_style!r}")
        settings["spark.hadoop.fs.s3a.endpoint"] = endpoint
        settings["spark.hadoop.fs.s3a.path.style.access"] = path_style
        # The SDK signs for a region even where the server ignores it.
        settings["spark.hadoop.fs.s3a.endpoint.region"] = (
            environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
    elif environ.get("AWS_REGION"):
        settings["spark.hadoop.fs.s3a.endpoint.region"] = environ["AWS_REGION"]
    return settings, (raw.get("lease_seconds", 120) if raw.get("lease", True) else 0)


def is_number(value, kind=(int, float)) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)  # TOML true is not 1


def is_share(value) -> bool:
    """A number from 0 to 1 (a share of rows)."""
    return is_number(value) and 0 <= value <= 1
