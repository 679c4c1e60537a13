"""After-action review: a timeline of an incident checked against a response protocol.

``load_timeline`` + ``load_protocol`` -> ``review`` -> findings with evidence; ``swimlane`` draws them,
``report`` writes the HTML page, ``command.review_command`` is the CLI body.
"""

from responsesim.review.errors import ReviewInputError
from responsesim.review.findings import Evidence, Finding, Review, review
from responsesim.review.protocol import Protocol, load_protocol, parse_protocol
from responsesim.review.timeline import Timeline, TimelineRow, Vocabulary, load_timeline, load_vocabulary

__all__ = [
    "Evidence",
    "Finding",
    "Protocol",
    "Review",
    "ReviewInputError",
    "Timeline",
    "TimelineRow",
    "Vocabulary",
    "load_protocol",
    "load_timeline",
    "load_vocabulary",
    "parse_protocol",
    "review",
]
