"""Analysis of simulation outcomes: summaries with uncertainty."""

from responsesim.analysis.summary import (
    DEFAULT_METRICS,
    Metric,
    Summary,
    end_reason_shares,
    summarize,
    summary_frame,
    summary_json,
)

__all__ = [
    "DEFAULT_METRICS",
    "Metric",
    "Summary",
    "end_reason_shares",
    "summarize",
    "summary_frame",
    "summary_json",
]
