"""An item's status: the one enum of what became of a submission, and the sets rules test it against.

The database stores these values (the item table's `status` column), the ledger decides between
the three review states, and scoring, 约稿 and the bulletin leave the other three out. Keeping
them here means a new status is added, named and classified in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ItemStatus(StrEnum):
    """An item's state (SPEC §8 `items list`)."""

    PENDING = "pending"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    REFUSED = "refused"
    QUARANTINED = "quarantined"


# The states the ledger moves an item between (ledger.item_status returns one of these).
IN_REVIEW: frozenset[ItemStatus] = frozenset({ItemStatus.PENDING, ItemStatus.ADOPTED, ItemStatus.REJECTED})

# Items that never count: replaced by a 更正, or never registered (refused, quarantined).
UNSCORED: frozenset[ItemStatus] = frozenset(
    {ItemStatus.SUPERSEDED, ItemStatus.REFUSED, ItemStatus.QUARANTINED}
)

# Refused and quarantined mail is kept as an item for the record, but was never registered.
UNREGISTERED: frozenset[ItemStatus] = frozenset({ItemStatus.REFUSED, ItemStatus.QUARANTINED})

# How mails name each state to the people who read them.
LABELS: Mapping[str, str] = {
    ItemStatus.PENDING: "待审",
    ItemStatus.ADOPTED: "已采用",
    ItemStatus.REJECTED: "未采用",
    ItemStatus.SUPERSEDED: "已被更正替代",
    ItemStatus.REFUSED: "未登记",
    ItemStatus.QUARANTINED: "已隔离",
}


def label(status: str) -> str:
    """The Chinese name of a status (the value itself for one this release does not know)."""
    return LABELS.get(status, status)
