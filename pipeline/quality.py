"""Data quality rules from conf/quality_rules.toml, applied with Spark SQL expressions.

A rule's `expect` is what a good row satisfies; a row breaks it when the
expression is false or NULL. `quarantine` rules extend silver's quarantine
reasons, `warn` and `fail` rules are counted in one aggregation over the rows
(silver's counting pass; gold's over its cached rows), and check() turns a
broken `fail` rule or too large a quarantined share into the one-line reason
the job stops for before it writes (runtime.audit.QualityError).
"""

import logging
import re
import tomllib
from dataclasses import dataclass, field

from pyspark.errors import PySparkException
from pyspark.logger import PySparkLogger
from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F

from pipeline import PipelineError
from pipeline.runtime.config import CONF_DIR

RULES_FILE = CONF_DIR / "quality_rules.toml"
LAYERS = ("silver_messages", "silver_orders", "gold_conversations")
ACTIONS = ("warn", "quarantine", "fail")
CONSTRAINED_TABLES = ("gold_conversations",)  # tables whose CHECK constraints the file declares
NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Rule:
    name: str
    layer: str
    expect: str
    action: str

    def broken(self) -> Column:
        return ~F.coalesce(F.expr(self.expect), F.lit(False))


def _read(path) -> dict:
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise PipelineError(f"cannot read quality rules {path}: {err}") from None
    if set(raw) - {"rule", "constraints"} or not all(isinstance(rule, dict) for rule in raw.get("rule", [])):
        raise PipelineError(f"malformed quality rules {path}: only [[rule]] and [constraints.<table>] belong there")
    return raw


def load_rules(layer: str) -> list[Rule]:
    """The rules of one layer, in file order; the whole file is checked."""
    rules, names = [], set()
    for raw in _read(RULES_FILE).get("rule", []):
        what = f"quality rule {raw.get('name', '(no name)')!r} in {RULES_FILE}"
        if set(raw) != {"name", "layer", "expect", "action"} or not all(isinstance(v, str) for v in raw.values()):
            raise PipelineError(f"{what}: needs exactly name, layer, expect and action, as strings")
        rule = Rule(**raw)
        if not NAME.fullmatch(rule.name) or rule.name in names:
            raise PipelineError(f"{what}: the name must be lower_snake_case and unique")
        if rule.layer not in LAYERS or rule.action not in ACTIONS:
            raise PipelineError(f"{what}: layer must be one of {', '.join(LAYERS)}; action one of {', '.join(ACTIONS)}")
        if rule.action == "quarantine" and not rule.layer.startswith("silver_"):
            raise PipelineError(f"{what}: only silver rules can quarantine")
        names.add(rule.name)
        rules.append(rule)
    return [rule for rule in rules if rule.layer == layer]


def load_constraints(table_key: str) -> dict[str, str]:
    """Delta CHECK constraints declared for a table: {name: expression}."""
    declared = _read(RULES_FILE).get("constraints", {})
    if not isinstance(declared, dict) or set(declared) - set(CONSTRAINED_TABLES):
        raise PipelineError(f"constraints in {RULES_FILE}: only [constraints.<table>] for {', '.join(CONSTRAINED_TABLES)}")
    constraints = declared.get(table_key, {})
    if not isinstance(constraints, dict):
        raise PipelineError(f"constraints.{table_key} in {RULES_FILE}: must be a table of name = \"expression\"")
    for name, check in constraints.items():
        if not NAME.fullmatch(name) or not isinstance(check, str):
            raise PipelineError(f"constraint {name!r} in {RULES_FILE}: needs a lower_snake_case name = \"expression\"")
    return dict(constraints)


def validate(df: DataFrame, rules: list[Rule]) -> None:
    """Resolve every rule against `df` (analysis only, no data read): a typo is one line naming the rule."""
    # PySpark logs every failed analysis with its Java stack; the error below says it in one line.
    logger = PySparkLogger.getLogger("SQLQueryContextLogger")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        for rule in rules:
            try:
                df.select(rule.broken())
            except PySparkException as err:
                first_line = str(err).strip().splitlines()[0]
                raise PipelineError(f"quality rule {rule.name!r} ({rule.layer}): {first_line}") from None
    finally:
        logger.setLevel(level)


def with_quarantine_reasons(parsed: DataFrame, rules: list[Rule]) -> DataFrame:
    """`reason`: the parse-level reason, else the first quarantine rule the record breaks."""
    quarantine = [rule for rule in rules if rule.action == "quarantine"]
    if not quarantine:
        return parsed
    first_broken = F.when(quarantine[0].broken(), quarantine[0].name)
    for rule in quarantine[1:]:
        first_broken = first_broken.when(rule.broken(), rule.name)
    return parsed.withColumn("reason", F.coalesce(F.col("reason"), first_broken))


def counts(rules: list[Rule]) -> list[Column]:
    """Aggregates for summarize(): rows, and rows breaking each warn or fail rule."""
    return [F.count("*").alias("rows")] + [
        F.count_if(rule.broken()).alias(f"rule {rule.name}") for rule in rules if rule.action != "quarantine"
    ]


@dataclass
class Summary:
    rows: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)  # reason -> records
    broken: dict[str, int] = field(default_factory=dict)  # warn or fail rule -> rows kept that break it

    def by_action(self, rules: list[Rule], action: str) -> dict[str, int]:
        """Rows breaking each rule of this action, for the rules some row breaks."""
        names = {rule.name for rule in rules if rule.action == action}
        return {name: rows for name, rows in self.broken.items() if name in names and rows}


def summarize(groups: list[Row], rules: list[Rule]) -> Summary:
    """Combine the rows of `df.groupBy("reason").agg(*counts(rules))` (or of a
    plain agg, where nothing is quarantined) into one Summary."""
    summary = Summary(broken={rule.name: 0 for rule in rules if rule.action != "quarantine"})
    for group in groups:
        values = group.asDict()
        summary.rows += values["rows"]
        if values.get("reason") is not None:
            summary.quarantined[values["reason"]] = values["rows"]
        else:  # only rows that are kept count as breaking a warn or fail rule
            summary.broken = {name: values[f"rule {name}"] for name in summary.broken}
    return summary


def check(summary: Summary, rules: list[Rule], what: str, max_share: float = 1.0, min_rows: int = 0) -> str | None:
    """Why the job must stop before writing `what`, or None."""
    failed = summary.by_action(rules, "fail")
    if failed:
        broken = ", ".join(f"{name} ({rows} of {summary.rows} {what})" for name, rows in failed.items())
        return f"quality rule failed: {broken}; nothing written"
    quarantined = sum(summary.quarantined.values())
    if summary.rows >= min_rows and quarantined > max_share * summary.rows:
        top = sorted(summary.quarantined.items(), key=lambda item: (-item[1], item[0]))[:3]
        return (
            f"{quarantined / summary.rows:.1%} of {summary.rows} {what} would be quarantined, more than "
            f"{max_share:.1%} (top reasons: {', '.join(f'{reason} {n}' for reason, n in top)}); nothing written "
            "(rerun with --max-quarantined-share to accept)"
        )
    return None


def warnings_text(warnings: dict[str, int]) -> str:
    """The end of a job's summary line: '; warnings: rule n, ...' or nothing."""
    return f"; warnings: {', '.join(f'{rule} {n}' for rule, n in warnings.items())}" if warnings else ""
