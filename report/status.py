"""The states a section result can be in, and what a build did with it."""
from enum import Enum


class Freshness(Enum):
    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"
    CORRUPT = "corrupt"


class Outcome(Enum):
    CACHED = "cached"
    RAN = "ran"
    FAILED = "failed"
    SKIPPED = "not built"
