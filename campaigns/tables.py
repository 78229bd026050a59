"""Campaign tables. Points never live here: a campaign's budget is the
ledger account ``campaign:<id>:budget``."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from community.tables import Member, Organisation


class Campaign(Table, tablename="campaigns_campaign"):
    """A funded earning programme of one organisation (and its subtree).

    At most one *open default* campaign per organisation (partial unique
    index, raw migration): activities that name no campaign earn from it.
    """

    id = Serial(primary_key=True)
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    title_zh = Varchar(length=200)
    title_en = Varchar(length=200, default="")
    description_zh = Text(default="")
    starts_at = Timestamptz()
    # NULL: open-ended (a standing default campaign).
    ends_at = Timestamptz(null=True, default=None)
    is_default = Boolean(default=False)
    status = Varchar(length=12, default="open", index=True)
    # campaigns.rules.EarningRules as JSON; amounts are strings.
    rules = JSON(default="{}")
    created_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)
    closed_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
