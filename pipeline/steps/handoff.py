"""What a step wrote in this pass, handed to the next step of the same pass.

A step run alone (its own job: clusters, Airflow) finds its input in the
upstream table's change feed. In a pass of `all` or a continuous cycle, silver
has just had the new rows in hand: it hands gold the order ids it wrote and
their range, so gold reads no change feed and runs no job to find the range.
Gold uses the handoff only when it covers exactly the silver versions gold has
not reflected yet; otherwise it falls back to the change feed.
"""

from dataclasses import dataclass, field

from pyspark.sql import DataFrame


@dataclass
class SilverWrites:
    versions: dict[str, tuple[int, int]] = field(default_factory=dict)  # silver table key -> (before, after)
    order_ids: list[DataFrame] = field(default_factory=list)  # a column `order_id`: every order written (or more)
    order_range: tuple[int, int] | None = None  # the lowest and highest of them; None: no order


@dataclass
class Handoff:
    silver: SilverWrites | None = None
    cached: list[DataFrame] = field(default_factory=list)  # kept for the next step: unpersisted at the pass's end

    def keep(self, frame: DataFrame) -> None:
        self.cached.append(frame)

    def release(self) -> None:
        for frame in self.cached:
            frame.unpersist()
        self.cached.clear()
        self.silver = None
