"""Where an item stands, from filing to decision: the one list of item statuses.

The database stores these strings (SPEC §8 `items list`); the rules that read an
item's status (scoring, 约稿, 更正, the bulletin) take them from here.
"""

from __future__ import annotations

from enum import StrEnum


class ItemStatus(StrEnum):
    """An item's state (SPEC §8 `items list`)."""

    PENDING = "pending"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    REFUSED = "refused"
    QUARANTINED = "quarantined"


UNSCORED: frozenset[str] = frozenset({ItemStatus.SUPERSEDED, ItemStatus.REFUSED, ItemStatus.QUARANTINED})
"""Items that count for nothing: replaced by a 更正, or never registered (refused, quarantined)."""

UNREGISTERED: frozenset[str] = frozenset({ItemStatus.REFUSED, ItemStatus.QUARANTINED})
"""Refused and quarantined mail is kept as an item for the record, but was never registered."""
