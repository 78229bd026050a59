"""Leaderboard refusals; mapped to problem+json in ``api/errors.py``."""

from __future__ import annotations


class LeaderboardError(Exception):
    code = "leaderboard_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BoardNotFound(LeaderboardError):
    """No such scope, or one the caller may not see (404, worded alike)."""

    code = "leaderboard_not_found"


class InvalidBoardRequest(LeaderboardError):
    """A scope or period that is not one (422)."""

    code = "invalid_leaderboard_request"


class SeasonNotFound(LeaderboardError):
    """No such season, or one on a node the caller may not see (404, alike)."""

    code = "season_not_found"


class InvalidSeason(LeaderboardError):
    """A name or dates that make no season (422, naming the field)."""

    code = "invalid_season"


class SeasonStarted(LeaderboardError):
    """The dates of a season that has begun no longer change, nor is it deleted (409)."""

    code = "season_started"
