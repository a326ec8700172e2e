"""Settings per environment, read from conf/<env>.toml."""

import os
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
# Tables of <lake>/_meta, by name: the audit of every run and bronze's manifest of taken files.
META_TABLES = ("pipeline_runs", "landed_files")
# Tables a config may leave out (configs written before they existed).
TABLE_DEFAULTS = {"quarantine_landing_files": "quarantine/landing_files"}


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
    """Read conf/<env>.toml; `lake` overrides its lake root."""
    path = conf_dir / f"{env}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in conf_dir.glob("*.toml")))
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
    missing = [key for key in TABLE_KEYS if not isinstance(tables.get(key), str)]
    if missing or set(tables) - set(TABLE_KEYS):
        raise PipelineError(
            f"malformed config {path}: [tables] needs exactly {', '.join(TABLE_KEYS)} as strings"
        )
    spark = raw.get("spark", {})
    if not isinstance(spark, dict):
        raise PipelineError(f"malformed config {path}: [spark] must be a table of settings")
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

    return Config(
        lake=resolve_lake(lake or raw["lake"]),
        shuffle_partitions=partitions,
        tables=dict(tables),
        spark={key: str(value) for key, value in spark.items()},
        max_quarantined_share=float(share),
        share_min_records=min_records,
    )


def is_number(value, kind=(int, float)) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)  # TOML true is not 1


def is_share(value) -> bool:
    """A number from 0 to 1 (a share of rows)."""
    return is_number(value) and 0 <= value <= 1
