"""Message-IDs of the mail mailbot sends: stable per outgoing mail and signed.

A Message-ID carries the item number and an HMAC of (kind, item, recipient,
nonce) under the office's secret, so a reply's In-Reply-To can be trusted to
name a real mail mailbot sent to that person, and cannot be forged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_RE = re.compile(
    r"^mb\.(?P<kind>[a-z]+)\.(?P<item>\d{4}-\d{4,6}|-)\.(?P<nonce>[0-9a-f]{12})\.(?P<mac>[0-9a-f]{20})@"
)


@dataclass(frozen=True, slots=True)
class OurId:
    """What a verified Message-ID of ours says."""

    kind: str
    item_id: str | None


def _mac(secret: bytes, kind: str, item: str, recipient: str, nonce: str) -> str:
    msg = f"{kind}|{item}|{recipient.lower()}|{nonce}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:20]


def make(
    secret: bytes, *, kind: str, item_id: str | None, recipient: str, dedupe_key: str, domain: str
) -> str:
    """A Message-ID (without <>) that is the same every time for the same dedupe key."""
    item = item_id or "-"
    nonce = hashlib.sha256(dedupe_key.encode()).hexdigest()[:12]
    return f"mb.{kind}.{item}.{nonce}.{_mac(secret, kind, item, recipient, nonce)}@{domain}"


def looks_ours(message_id: str) -> bool:
    """True when the id has our shape (not yet verified)."""
    return _RE.match(message_id) is not None


def verify(secret: bytes, message_id: str, replier: str) -> OurId | None:
    """The kind and item named by `message_id` if it is ours and was sent to `replier`, else None."""
    m = _RE.match(message_id)
    if not m:
        return None
    expected = _mac(secret, m["kind"], m["item"], replier, m["nonce"])
    if not hmac.compare_digest(expected, m["mac"]):
        return None
    return OurId(m["kind"], None if m["item"] == "-" else m["item"])
