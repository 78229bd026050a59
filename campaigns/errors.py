"""Campaign errors; mapped to problem+json in ``api/errors.py``."""

from __future__ import annotations


class CampaignError(Exception):
    code = "campaign_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidCampaignData(CampaignError):
    code = "invalid_campaign_data"


class CampaignNotFound(CampaignError):
    code = "campaign_not_found"


class CampaignClosed(CampaignError):
    code = "campaign_closed"


class DefaultCampaignExists(CampaignError):
    code = "default_campaign_exists"


class CampaignNotApplicable(CampaignError):
    """The activity is outside the campaign's organisation or time window."""

    code = "campaign_not_applicable"


class BudgetExhausted(CampaignError):
    """An award may never exceed what is left in the campaign's budget."""

    code = "budget_exhausted"


class NoIssuer(CampaignError):
    code = "no_issuing_organisation"
