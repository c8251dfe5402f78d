"""The clock, at the edge: real time in the daemon, a settable one in the demo and tests."""

from __future__ import annotations

import datetime as dt
import os
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time (UTC, timezone-aware)."""

    def now(self) -> dt.datetime:
        """The current time."""
        ...


class SystemClock:
    """Real time; `MAILBOT_NOW` (ISO 8601) pins it, for demos and reproducible runs."""

    def now(self) -> dt.datetime:
        """The current time in UTC."""
        pinned = os.environ.get("MAILBOT_NOW")
        if pinned:
            t = dt.datetime.fromisoformat(pinned)
            return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        """The time it was set to."""
        return self.current

    def set(self, when: dt.datetime) -> None:
        """Move the clock to `when`."""
        self.current = when


def as_utc(t: dt.datetime) -> dt.datetime:
    """A time from the database as aware UTC (SQLite returns naive UTC values)."""
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
