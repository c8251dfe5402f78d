"""Log lines for operators: text or JSON lines, each naming the mail and item it is about."""

from __future__ import annotations

import json
import logging

# What a log line is about, passed as `extra=` by the code that logs it: the mail's
# Message-ID and the item number, so an operator can grep one mail's whole story.
LOG_FIELDS = ("message_id", "item")

FORMATS = ("text", "json")


def _log_fields(record: logging.LogRecord) -> dict[str, str]:
    return {k: str(v) for k in LOG_FIELDS if (v := getattr(record, k, None)) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line (`run --log-format json`), with message_id and item when known."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            | _log_fields(record)
            | ({"error": self.formatException(record.exc_info)} if record.exc_info else {}),
            ensure_ascii=False,
        )


class TextFormatter(logging.Formatter):
    """The human log line, ending with [message_id=… item=…] when the line is about a mail."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = _log_fields(record)
        return f"{line} [{' '.join(f'{k}={v}' for k, v in fields.items())}]" if fields else line


def stderr_handler(log_format: str = "text") -> logging.Handler:
    """A handler writing `log_format` lines (one of FORMATS) to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def log_commands() -> None:
    """What every command logs: warnings and errors, as text lines."""
    logging.basicConfig(level=logging.WARNING, handlers=[stderr_handler()])


def log_daemon(log_format: str, *, verbose: bool) -> None:
    """What `mailbot run` logs: mailbot's own lines from INFO up, the libraries' too with --verbose."""
    root = logging.getLogger()
    root.handlers[:] = [stderr_handler(log_format)]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("mailbot").setLevel(logging.INFO)
