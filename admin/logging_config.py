"""Logging for ``fengling serve``: the console, plus a rotating file under
``$FENGLING_DATA_DIR/logs`` so an operator can read yesterday's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# 10 MB a file, 5 files kept: bounded disk use on a small community server.
MAX_LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5


def log_config(data_dir: Path) -> dict[str, Any]:
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    handlers = ["console", "file"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "plain"},
            "file": {
                "class": "logging.handlers.RotatingFileHandler",
                "formatter": "plain",
                "filename": str(log_dir / "fengling.log"),
                "maxBytes": MAX_LOG_BYTES,
                "backupCount": LOG_BACKUPS,
                "encoding": "utf-8",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": handlers, "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": handlers, "level": "INFO", "propagate": False},
            "fengling": {"handlers": handlers, "level": "INFO", "propagate": False},
        },
        "root": {"handlers": handlers, "level": "WARNING"},
    }
