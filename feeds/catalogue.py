"""Every feed by its kind, in the order a partnership's history is best loaded."""

from .kinds import FACT_FEEDS
from .people import PeopleFeed

# People first (facts need their person), then orders before offences so that cohort events come first.
LOAD_ORDER = ["people", "orders", "offences", "statuses", "appointments", "cohort-exits", "rag", "risk"]
FEEDS = {feed.kind: feed for feed in [PeopleFeed(), *FACT_FEEDS]}
FEEDS = {kind: FEEDS[kind] for kind in LOAD_ORDER}


def get_feed(kind):
    return FEEDS.get(str(kind))
