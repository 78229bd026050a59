"""Models of the star-level and badge routes. Points are strings with two
places (``api.points.Points``); hours are decimal strings with one place;
times are UTC instants (pages show them in China time)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from api.points import Points
from ledger.amounts import from_minor
from recognition.awarding import HeldBadge
from recognition.badge_rules import BadgeRule
from recognition.levels import MINUTES_PER_HOUR, Threshold
from recognition.stars import MemberLevel, Thresholds

MAX_HOURS = 1_000_000


def hours_of(minutes: int) -> Decimal:
    return (Decimal(minutes) / MINUTES_PER_HOUR).quantize(Decimal("0.1"))


class ThresholdOut(BaseModel):
    stars: int = Field(ge=1, le=5)
    points: Points
    hours: int


class ThresholdIn(BaseModel):
    stars: int = Field(ge=1, le=5)
    points: Points = Field(examples=["100.00"])
    hours: int = Field(ge=0, le=MAX_HOURS)


def threshold_out(threshold: Threshold) -> ThresholdOut:
    return ThresholdOut(stars=threshold.stars, points=from_minor(threshold.points_minor), hours=threshold.hours)


class ThresholdsOut(BaseModel):
    organisation_id: int | None = Field(description="The issuing organisation whose thresholds apply")
    defaults: bool = Field(description="true: it has set none, the defaults apply")
    levels: list[ThresholdOut]

    @classmethod
    def of(cls, thresholds: Thresholds) -> ThresholdsOut:
        return cls(
            organisation_id=thresholds.organisation_id,
            defaults=thresholds.defaults,
            levels=[threshold_out(level) for level in thresholds.levels],
        )


class ThresholdsIn(BaseModel):
    levels: list[ThresholdIn] = Field(
        min_length=1, max_length=10, description="1★ to 5★ in order; 1★ is 0 points and 0 hours; each star needs more"
    )


class NextStarOut(BaseModel):
    stars: int
    points: Points
    hours: int
    points_needed: Points = Field(description="Points still to earn for it (0.00 when met)")
    hours_needed: Decimal = Field(description="Verified hours still needed (0.0 when met)")


class LevelOut(BaseModel):
    """我的星级 · my star level: from points earned (spending never lowers it) and verified hours."""

    stars: int = Field(ge=1, le=5)
    earned_points: Points = Field(description="Lifetime earned: awards and bonuses minus their reversals")
    verified_hours: Decimal = Field(description="Service logs and patrols verified")
    next: NextStarOut | None = Field(description="What the next star needs; null at 5★")
    thresholds: ThresholdsOut

    @classmethod
    def of(cls, standing: MemberLevel) -> LevelOut:
        level = standing.level
        following = level.next
        return cls(
            stars=level.stars,
            earned_points=from_minor(level.earned_minor),
            verified_hours=hours_of(level.minutes),
            next=None
            if following is None
            else NextStarOut(
                stars=following.stars,
                points=from_minor(following.points_minor),
                hours=following.hours,
                points_needed=from_minor(level.points_needed_minor),
                hours_needed=hours_of(level.minutes_needed),
            ),
            thresholds=ThresholdsOut.of(standing.thresholds),
        )


class BadgeRuleOut(BaseModel):
    code: str = Field(examples=["first_report"])
    icon: str = Field(description="The medal's mark for Chinese readers: one character", examples=["报"])
    icon_en: str = Field(description="The medal's mark for English readers: at most 3 characters", examples=["R"])
    name_zh: str
    name_en: str
    description_zh: str = Field(description="How it is earned")
    description_en: str

    @classmethod
    def of(cls, rule: BadgeRule) -> BadgeRuleOut:
        return cls(
            code=rule.code,
            icon=rule.icon,
            icon_en=rule.icon_en,
            name_zh=rule.name_zh,
            name_en=rule.name_en,
            description_zh=rule.description_zh,
            description_en=rule.description_en,
        )


class BadgeOut(BadgeRuleOut):
    earned_at: datetime
    activity_id: int | None = Field(description="The verified activity that earned it")
    season_id: int | None = Field(description="The season whose board earned it (season top 3)")
    detail: str = Field(description="For a season badge: the board's scope and rank, e.g. org:12 #2")

    @classmethod
    def held(cls, badge: HeldBadge) -> BadgeOut:
        rule = BadgeRuleOut.of(badge.rule)
        return cls(
            **rule.model_dump(),
            earned_at=badge.earned_at,
            activity_id=badge.activity_id,
            season_id=badge.season_id,
            detail=badge.detail,
        )


class BadgesOut(BaseModel):
    member_id: int
    earned: list[BadgeOut]
    not_yet: list[BadgeRuleOut] = Field(description="Badges not held yet, with how to earn them")
