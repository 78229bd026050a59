"""Recognition refusals; mapped to problem+json in ``api/errors.py``."""

from __future__ import annotations


class RecognitionError(Exception):
    code = "recognition_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidThresholds(RecognitionError):
    """Star thresholds that do not rise from 0/0 to 5 stars (422), or an
    organisation that issues no points (422)."""

    code = "invalid_star_thresholds"
