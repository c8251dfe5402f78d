"""Decide whether a reviewer's mail was authenticated by our own mail server (SPEC §3).

A reply that says 采用 changes scores, so with ``[review]
require_authenticated_sender = true`` the From address must be vouched for:
an ``Authentication-Results`` header (RFC 8601) written by our trusted MTA
(its authserv-id) must report ``dkim=pass`` for a signing domain aligned with
the From domain, or ``spf=pass`` for an aligned envelope sender. Headers with
any other authserv-id are ignored: anyone can write them into a mail.

Only the topmost header carrying our authserv-id counts. Each server prepends
its header, so ours is above everything the sender wrote; a sender can still
write a header claiming our authserv-id below it (RFC 8601 §5 asks the MTA to
remove such forgeries, but not every MTA does), and that one must not turn
our server's failing verdict into a pass.

Alignment is DMARC's relaxed mode approximated without a public-suffix list:
the two domains are equal or one is a subdomain of the other, and single-label
domains (``com``) never align.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr


@dataclass(frozen=True, slots=True)
class AuthResult:
    """One resinfo of an Authentication-Results header: method, result and properties."""

    method: str  # lower-case, e.g. "dkim"
    result: str  # lower-case, e.g. "pass"
    properties: Mapping[str, str] = field(
        default_factory=dict
    )  # "header.d" → "example.org" (keys lower-case)


@dataclass(frozen=True, slots=True)
class AuthResultsHeader:
    """A parsed Authentication-Results header."""

    authserv_id: str  # lower-case
    results: tuple[AuthResult, ...]


_PAIR = re.compile(r'([A-Za-z0-9_.-]+)(?:/[0-9]+)?\s*=\s*("(?:[^"\\]|\\.)*"|[^\s";]+)')


def _without_comments(value: str) -> str:
    """Drop RFC 5322 comments (nested parentheses), keeping quoted strings intact."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            quoted = char != '"'
            out.append(char)
        elif char == '"' and depth == 0:
            quoted = True
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _split_semicolons(value: str) -> Iterator[str]:
    """Split on ';' outside quoted strings."""
    start = 0
    quoted = False
    escaped = False
    for i, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            yield value[start:i]
            start = i + 1
    yield value[start:]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_auth_results(value: str) -> AuthResultsHeader | None:
    """Parse one Authentication-Results header value; None when it has no authserv-id."""
    if value[:23].lower() == "authentication-results:":
        value = value[23:]
    parts = list(_split_semicolons(_without_comments(value)))
    head = parts[0].split()
    if not head:
        return None
    results: list[AuthResult] = []
    for part in parts[1:]:
        pairs = _PAIR.findall(part)
        if not pairs:
            continue  # "none" or garbage
        (method, result), *props = pairs
        results.append(
            AuthResult(method.lower(), _unquote(result).lower(), {k.lower(): _unquote(v) for k, v in props})
        )
    return AuthResultsHeader(head[0].lower(), tuple(results))


def _domain_of(value: str) -> str:
    """The domain of an address, an ``@domain`` identity or a bare domain, lower-case."""
    return value.rpartition("@")[2].strip().strip(".").lower()


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: equal, or one a subdomain of the other; never for a single label."""
    if not domain or not from_domain or "." not in domain or "." not in from_domain:
        return False
    return domain == from_domain or domain.endswith("." + from_domain) or from_domain.endswith("." + domain)


def _passes(result: AuthResult, from_domain: str) -> bool:
    if result.result != "pass":
        return False
    if result.method == "dkim":
        signer = result.properties.get("header.d") or result.properties.get("header.i", "")
        return aligned(_domain_of(signer), from_domain)
    if result.method == "spf":
        return aligned(_domain_of(result.properties.get("smtp.mailfrom", "")), from_domain)
    return False


def sender_authenticated(auth_results: Sequence[str], authserv_id: str, from_addr: str) -> bool:
    """True when the topmost header from `authserv_id` reports an aligned dkim=pass or spf=pass for From.

    `auth_results` are the header values in the mail's order, topmost first.
    """
    from_domain = _domain_of(parseaddr(from_addr)[1] or from_addr)
    trusted = authserv_id.strip().lower()
    if not trusted or not from_domain:
        return False
    for value in auth_results:
        header = parse_auth_results(value)
        if header is None or header.authserv_id != trusted:
            continue
        # The first one of ours is our server's verdict; any lower one may be the sender's forgery.
        return any(_passes(result, from_domain) for result in header.results)
    return False
