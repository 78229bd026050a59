"""Phone numbers never reach a log line: the filter on every handler masks
them in messages, arguments (uvicorn's access log with query strings) and
tracebacks. No database."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from admin.logging_config import PhoneMaskingFilter, log_config, mask_phones


def _access_record(path: str) -> logging.LogRecord:
    """A record as uvicorn's access logger makes it."""
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.7:51234", "GET", path, "1.1", 200),
        None,
    )


def test_the_access_log_line_masks_phones_in_query_strings() -> None:
    record = _access_record("/api/v1/members?organisation_id=5&q=13800000001&x=%2B8613900000002")
    assert PhoneMaskingFilter().filter(record) is True
    line = record.getMessage()
    assert "13800000001" not in line and "13900000002" not in line
    assert "q=138****0001" in line and "x=139****0002" in line
    assert "organisation_id=5" in line and line.endswith("200")


def test_messages_dict_arguments_and_tracebacks_are_masked() -> None:
    try:
        raise ValueError("no member with phone 13800000003")
    except ValueError:
        exc_info = sys.exc_info()
    args = ({"phone": "138 0000 0004"},)
    record = logging.LogRecord("fengling.api", logging.ERROR, __file__, 1, "login for %(phone)s failed", args, exc_info)
    PhoneMaskingFilter().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert "login for 138****0004 failed" in text
    assert "13800000003" not in text and "138****0003" in text


def test_only_phone_shaped_numbers_are_masked() -> None:
    assert mask_phones("entry 12345678901234 amount 13800000001.5") == "entry 12345678901234 amount 138****0001.5"
    assert mask_phones("ids 1380000000 and 12800000001") == "ids 1380000000 and 12800000001"
    assert mask_phones("+86 138-0000-0001, 0086 13900000002") == "138****0001, 139****0002"


def test_every_handler_of_the_served_config_carries_the_filter(tmp_path: Path) -> None:
    config = log_config(tmp_path)
    assert config["filters"]["mask_phones"]["()"] is PhoneMaskingFilter
    assert config["handlers"] and all(h["filters"] == ["mask_phones"] for h in config["handlers"].values())
