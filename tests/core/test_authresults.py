"""Authentication-Results: only our MTA's verdict counts, and only for the From domain."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.core.mail.authresults import aligned, parse_auth_results, sender_authenticated

OURS = "mx.example.org"
FROM = "editor@example.org"


@pytest.mark.parametrize(
    ("headers", "from_addr", "expected"),
    [
        # dkim pass, aligned
        (["mx.example.org; dkim=pass header.d=example.org header.s=sel"], FROM, True),
        (["mx.example.org; dkim=pass (2048-bit key; unprotected) header.d=example.org"], FROM, True),
        (["mx.example.org;\r\n\tdkim=pass header.i=@example.org"], FROM, True),
        (["mx.example.org; dkim=pass header.i=editor@mail.example.org"], FROM, True),
        (["MX.Example.ORG; DKIM=Pass Header.D=Example.Org"], FROM, True),
        (["mx.example.org 1; dkim/1=pass header.d=example.org"], FROM, True),
        (["mx.example.org; dkim=pass header.d=mail.example.org"], FROM, True),  # subdomain signer
        (["mx.example.org; dkim=pass header.d=example.org"], "editor@gz.example.org", True),  # parent signer
        (['mx.example.org; dkim=pass header.d="example.org"'], FROM, True),
        (["Authentication-Results: mx.example.org; dkim=pass header.d=example.org"], FROM, True),
        (["mx.example.org; dkim=pass header.d=example.org"], "张三 <Editor@Example.ORG>", True),
        # spf pass, aligned
        (["mx.example.org; spf=pass smtp.mailfrom=editor@example.org"], FROM, True),
        (["mx.example.org; spf=pass (sender SPF authorized) smtp.mailfrom=example.org"], FROM, True),
        (
            ["mx.example.org; dkim=fail header.d=example.org; spf=pass smtp.mailfrom=bounce@example.org"],
            FROM,
            True,
        ),
        # failures
        (["mx.example.org; dkim=fail header.d=example.org"], FROM, False),
        (
            ["mx.example.org; dkim=neutral header.d=example.org; spf=softfail smtp.mailfrom=example.org"],
            FROM,
            False,
        ),
        (["mx.example.org; spf=none smtp.mailfrom=example.org"], FROM, False),
        (["mx.example.org; none"], FROM, False),
        (["mx.example.org; dmarc=pass header.from=example.org"], FROM, False),  # only dkim/spf count
        # forged: somebody else's authserv-id
        (["evil.example.net; dkim=pass header.d=example.org"], FROM, False),
        (["mx.example.org.evil.net; dkim=pass header.d=example.org"], FROM, False),
        (["(mx.example.org) evil.net; spf=pass smtp.mailfrom=example.org"], FROM, False),
        # misaligned domains
        (["mx.example.org; dkim=pass header.d=evil.example.net"], FROM, False),
        (["mx.example.org; dkim=pass header.d=notexample.org"], FROM, False),
        (["mx.example.org; dkim=pass header.d=org"], FROM, False),  # a bare TLD never aligns
        (["mx.example.org; spf=pass smtp.mailfrom=bounce@mailer.example.net"], FROM, False),
        (["mx.example.org; spf=pass smtp.helo=example.org"], FROM, False),  # HELO is not the envelope
        # a "pass" only inside a comment is no pass
        (["mx.example.org; dkim=fail (dkim=pass header.d=example.org) header.d=example.org"], FROM, False),
        # multiple headers: one of ours passing is enough; forged ones are ignored
        (
            [
                "evil.example.net; dkim=pass header.d=example.org",
                "mx.example.org; dkim=fail header.d=example.org",
            ],
            FROM,
            False,
        ),
        (
            [
                "relay.example.com; dkim=fail header.d=example.org",
                "mx.example.org; dkim=pass header.d=example.org",
            ],
            FROM,
            True,
        ),
        # a sender's own header claiming our authserv-id, below the one our server added
        (
            [
                "mx.example.org; dkim=fail header.d=example.org; spf=fail smtp.mailfrom=evil.example",
                "mx.example.org; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org",
            ],
            FROM,
            False,
        ),
        ([], FROM, False),
        (["mx.example.org; dkim=pass header.d=example.org"], "", False),
        (["garbage"], FROM, False),
        ([""], FROM, False),
    ],
)
def test_sender_authenticated(headers: list[str], from_addr: str, expected: bool) -> None:
    assert sender_authenticated(headers, OURS, from_addr) is expected


def test_only_the_topmost_header_of_our_server_counts() -> None:
    """RFC 8601 §5: our server's header is the one it added last, above anything the sender wrote."""
    ours = "mx.example.org; dkim=fail header.d=example.org; spf=fail smtp.mailfrom=evil.example"
    forged = "mx.example.org; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org"
    assert not sender_authenticated([ours, forged], OURS, FROM)
    assert not sender_authenticated(["relay.example.com; none", ours, forged], OURS, FROM)
    # Our server passing on top: a failing header further down changes nothing.
    assert sender_authenticated([forged, ours], OURS, FROM)


def test_authserv_id_is_required() -> None:
    assert not sender_authenticated(["; dkim=pass header.d=example.org"], "", FROM)


def test_parse_keeps_all_results_and_properties() -> None:
    header = parse_auth_results(
        'mx.example.org (Postfix); dkim=pass (1024-bit) header.d=example.org header.s="s1";'
        " spf=pass smtp.mailfrom=a@example.org; dmarc=pass (p=none) header.from=example.org"
    )
    assert header is not None
    assert header.authserv_id == "mx.example.org"
    assert [(r.method, r.result) for r in header.results] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    assert header.results[0].properties == {"header.d": "example.org", "header.s": "s1"}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("example.org", "example.org", True),
        ("a.example.org", "example.org", True),
        ("example.org", "b.example.org", True),
        ("xexample.org", "example.org", False),
        ("org", "org", False),
        ("", "example.org", False),
    ],
)
def test_relaxed_alignment(a: str, b: str, expected: bool) -> None:
    assert aligned(a, b) is expected


@given(st.lists(st.text(), max_size=3), st.text())
def test_never_raises(headers: list[str], from_addr: str) -> None:
    assert sender_authenticated(headers, OURS, from_addr) in (True, False)
