"""Logging for ``fengling serve``: the console, plus a rotating file under
``$FENGLING_DATA_DIR/logs`` so an operator can read yesterday's errors.

Phone numbers never reach a log: every handler carries
``PhoneMaskingFilter``, which rewrites each record (message, arguments,
exception and stack text) so a mainland mobile number reads ``138****0001``.
That covers the access log too when it is on (``FENGLING_ACCESS_LOG``),
whose request line carries query strings such as
``/api/v1/members?q=13800000001``. Handler filters see every
record the handler writes, including records propagated from child loggers.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

# 10 MB a file, 5 files kept: bounded disk use on a small community server.
MAX_LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5

# 11 ASCII digits, 13x-19x, not inside a longer run of digits; optionally
# after +86 / 0086 / 86 (also URL-encoded, %2B86) and with a space, dash or
# %20 between the 3-4-4 groups, as people type and browsers encode them.
_SEPARATOR = r"(?:[-\s]|%20)?"
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|%2[Bb]|00)?86" + _SEPARATOR + r")?"
    r"(1[3-9][0-9])" + _SEPARATOR + r"([0-9]{4})" + _SEPARATOR + r"([0-9]{4})(?![0-9])"
)


def mask_phones(text: str) -> str:
    """``text`` with every mainland mobile number shown as 138****0001."""
    return _MOBILE.sub(lambda found: f"{found[1]}****{found[3]}", text)


def _masked(value: object) -> object:
    return mask_phones(value) if isinstance(value, str) else value


class PhoneMaskingFilter(logging.Filter):
    """Masks phone numbers in every record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_phones(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Rendered here, masked, and kept: formatters reuse exc_text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones(record.stack_info)
        return True


def log_config(data_dir: Path) -> dict[str, Any]:
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    handlers = ["console", "file"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask_phones": {"()": PhoneMaskingFilter}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_phones"]},
            "file": {
                "class": "logging.handlers.RotatingFileHandler",
                "formatter": "plain",
                "filters": ["mask_phones"],
                "filename": str(log_dir / "fengling.log"),
                "maxBytes": MAX_LOG_BYTES,
                "backupCount": LOG_BACKUPS,
                "encoding": "utf-8",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": handlers, "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": handlers, "level": "INFO", "propagate": False},
            # Granian's own logger (its name matches its Rust module's) and its access log.
            "_granian": {"handlers": handlers, "level": "INFO", "propagate": False},
            "granian.access": {"handlers": handlers, "level": "INFO", "propagate": False},
            "fengling": {"handlers": handlers, "level": "INFO", "propagate": False},
        },
        "root": {"handlers": handlers, "level": "WARNING"},
    }
