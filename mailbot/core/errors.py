"""The exception tree of mailbot.

Every error mailbot raises on purpose derives from MailbotError and also from
the builtin whose meaning it shares, so callers can catch either. Errors carry
structured fields, never just a formatted string.
"""

from __future__ import annotations


class MailbotError(Exception):
    """Root of every error mailbot raises on purpose."""


class ConfigError(MailbotError, ValueError):
    """Raised when a config file is missing, unreadable or has a bad key or value."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}")


class RefusedMail(MailbotError):
    """Raised when a submission breaks an acceptance rule (SPEC §2.2).

    `rule` is a stable machine name (e.g. ``unknown_sender``), `seen` what the
    mail actually had, `detail` a Chinese sentence for the refusal reply.
    """

    def __init__(self, rule: str, detail: str, seen: str = "") -> None:
        self.rule = rule
        self.detail = detail
        self.seen = seen
        super().__init__(f"{rule}: {detail}" + (f" (seen: {seen})" if seen else ""))


class QuarantinedMail(RefusedMail):
    """Raised when a mail carries classified marks: it is kept but forwarded nowhere."""


class SubjectError(MailbotError, ValueError):
    """Raised when a subject cannot be read as a submission subject at all."""


class CommandError(MailbotError, ValueError):
    """Raised when a reviewer's reply holds no command mailbot can apply.

    `line` is the offending line as written (may be empty when no command was found).
    """

    def __init__(self, detail: str, line: str = "") -> None:
        self.detail = detail
        self.line = line
        super().__init__(detail + (f": {line!r}" if line else ""))


class ScoringRulesError(ConfigError):
    """Raised when scoring.toml breaks its schema."""


class TransportError(MailbotError, ConnectionError):
    """Raised when an IMAP or SMTP server cannot be reached or refuses us."""


class PermanentSendError(TransportError):
    """Raised when the SMTP server refuses a message for good (5xx): retrying won't help."""
