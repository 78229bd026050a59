"""Recognition tables: an issuing organisation's star thresholds (no rows:
the defaults in ``levels.py``) and the badges members were awarded."""

from __future__ import annotations

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Serial, SmallInt, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from activities.tables import Activity
from community.tables import Member, Organisation
from leaderboards.tables import Season


class StarThreshold(Table, tablename="recognition_star_threshold"):
    """One star's threshold of an issuing organisation: five rows (1★ to
    5★, unique per organisation and stars) replaced together, or none."""

    id = Serial(primary_key=True)
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    stars = SmallInt()
    points_minor = BigInt(default=0)
    hours = Integer(default=0)
    changed_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    changed_at = Timestamptz(default=TimestamptzNow())


class BadgeAward(Table, tablename="recognition_badge"):
    """A badge a member holds. Unique per (member, badge, occasion): the
    occasion is '' for badges earned once ever, ``season:<id>`` for a
    season's top 3. Awarded by ``INSERT … ON CONFLICT DO NOTHING``, so
    concurrent awarders leave exactly one row."""

    id = Serial(primary_key=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    badge = Varchar(length=40)
    occasion = Varchar(length=40, default="")
    earned_at = Timestamptz()
    activity = ForeignKey(Activity, null=True, default=None, on_delete=OnDelete.restrict)
    season = ForeignKey(Season, null=True, default=None, on_delete=OnDelete.restrict)
    detail = Varchar(length=200, default="")  # e.g. the season board's scope and rank
    awarded_at = Timestamptz(default=TimestamptzNow())
