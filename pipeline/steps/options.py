"""What a caller may set for a step run beyond the config: the jobs' options."""

from dataclasses import dataclass

from pipeline.steps.handoff import Handoff


@dataclass(frozen=True)
class Options:
    full_refresh: bool = False  # silver, gold, kpis: rebuild from the upstream table
    max_quarantined_share: float | None = None  # bronze, silver; None: the config's
    handoff: Handoff | None = None  # in a pass: what the steps before wrote (None: a step run alone)

    @classmethod
    def of(cls, args) -> "Options":
        """The options of a job's parsed arguments (a job defines the ones it takes;
        a pass adds its handoff)."""
        return cls(getattr(args, "full_refresh", False), getattr(args, "max_quarantined_share", None),
                   getattr(args, "handoff", None))

    def max_share(self, config) -> float:
        return config.max_quarantined_share if self.max_quarantined_share is None else self.max_quarantined_share
