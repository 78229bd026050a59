"""Statements of the activities app written as fixed SQL (``core.fixed_sql``):
the award screening's context, loaded on the verify path as one script
(``activities.screening``), where Piccolo's per-statement cost was measured
to matter (``bench/RESULTS.md``, fraud screening)."""

from __future__ import annotations

from activities.models import Kind, Status
from community.organisations import nearest_issuer_sql
from core.fixed_sql import fixed_sql

_APPROVED = f"verifier IS NOT NULL AND verified_at >= $3 AND verified_at <= $4 AND status <> '{Status.REJECTED.value}'"

SCREENING_HEAD = fixed_sql(
    "SELECT joiner.created_at AS joined_at, issuer.id AS issuer_id, stored.overrides, stored.shadow"
    " FROM community_member AS joiner"
    " LEFT JOIN community_organisation AS issuer ON issuer.id = "
    + nearest_issuer_sql("(SELECT node.path FROM community_organisation AS node WHERE node.id = $2)")
    + " LEFT JOIN fraud_threshold AS stored ON stored.organisation = issuer.id"
    " WHERE joiner.id = $1"
)
"""(member, the activity's organisation) → the member's joining time, the
nearest issuing organisation at or above the activity's, and that
issuer's stored fraud settings (NULL when it has none): one row, on
primary keys and the path index."""

NEIGHBOURS = fixed_sql(
    "SELECT id, latitude, longitude, accuracy_m, started_at, submitted_at, client_recorded_at"
    " FROM activities_activity WHERE member = $1"
    " AND ((started_at >= $2 AND started_at <= $3) OR (submitted_at >= $2 AND submitted_at <= $3))"
    " ORDER BY started_at LIMIT $4"
)
"""(member, from, to, limit) → the member's activities that happened or
arrived within [from, to] (the member index), earliest first."""

ROUTE = fixed_sql(
    "SELECT latitude, longitude, accuracy_m, at, kind FROM activities_patrol_point WHERE activity = $1 ORDER BY at"
)
"""(patrol) → its route points in time order."""

PAIR_APPROVALS = fixed_sql(
    "SELECT count(*) AS member_approvals,"
    " coalesce(sum(CASE WHEN verifier = $2 THEN 1 ELSE 0 END), 0) AS pair_approvals,"
    " count(DISTINCT CASE WHEN verifier = $2 AND award_day <> $5 THEN award_day END) AS other_days,"
    f" (SELECT count(*) FROM activities_activity WHERE member = $2 AND verifier = $1 AND {_APPROVED})"
    " AS reverse_approvals"
    f" FROM activities_activity WHERE member = $1 AND {_APPROVED}"
)
"""(member, verifier, since, until, this award's day) → within [since,
until], not rejected: the member's approvals, the pair's, the pair's other
award days (one pass over the member's rows, the member index), and the
verifier's own activities the member approved (the verifier index, on the
member's id): bounded by two members' histories, never by how busy the
verifier is."""

VERIFIER_APPROVALS_UP_TO = fixed_sql(
    "SELECT count(*) AS approvals FROM (SELECT 1 FROM activities_activity WHERE verifier = $1"
    f" AND verified_at >= $2 AND verified_at <= $3 AND status <> '{Status.REJECTED.value}' LIMIT $4) AS counted"
)
"""(verifier, since, until, limit) → the verifier's approvals within
[since, until], counted up to ``limit`` (``fraud.rules.
verifier_approvals_worth_counting``): at most ``limit`` entries of the
verifier index, however busy the verifier."""

OWN_PHOTOS = fixed_sql(
    "SELECT photo.sha256, photo.phash, photo.uploaded_by FROM activities_activity_photo AS attached"
    " JOIN activities_photo AS photo ON photo.id = attached.photo WHERE attached.activity = $1"
)
"""(activity) → its photos' SHA-256, perceptual hash and uploader."""

PHOTO_BAND_MATCHES = fixed_sql(
    "SELECT DISTINCT photo, phash FROM activities_photo_band WHERE key = ANY($1::int[]) AND uploaded_at >= $2 LIMIT $3",
    sqlite="SELECT DISTINCT photo, phash FROM activities_photo_band"
    " WHERE key IN (SELECT value FROM json_each(?1)) AND uploaded_at >= ?2 LIMIT ?3",
)
"""(lookup keys, uploaded since, limit) → photos uploaded since then stored
under one of the keys (``fraud.photo_bands``): every photo within
``MAX_FINDABLE_DISTANCE`` bits of the looked-up one, and a few that share
a band by chance; read from the covering index alone."""

PHOTOS_OF_OTHER_ACTIVITIES = fixed_sql(
    "SELECT attached.activity, photo.sha256, photo.phash, photo.uploaded_by FROM activities_photo AS photo"
    " JOIN activities_activity_photo AS attached ON attached.photo = photo.id"
    " WHERE photo.id = ANY($1::bigint[]) AND attached.activity <> $2",
    sqlite="SELECT attached.activity, photo.sha256, photo.phash, photo.uploaded_by FROM activities_photo AS photo"
    " JOIN activities_activity_photo AS attached ON attached.photo = photo.id"
    " WHERE photo.id IN (SELECT value FROM json_each(?1)) AND attached.activity <> ?2",
)
"""(photo ids, this activity) → the activities other than this one the
photos are attached to, with each photo's SHA-256, hash and uploader."""

NEARBY_REPORTS = fixed_sql(
    "SELECT id, member, latitude, longitude, started_at FROM activities_activity"
    f" WHERE kind = '{Kind.REPORT.value}' AND report_kind = $1 AND started_at >= $2 AND started_at <= $3"
    f" AND member <> $4 AND status <> '{Status.REJECTED.value}'"
    " AND latitude >= $5 AND latitude <= $6 AND longitude >= $7 AND longitude <= $8"
    " ORDER BY started_at LIMIT $9"
)
"""(report kind, from, to, member, south, north, west, east, limit) →
other members' reports of the kind that happened within [from, to] inside
the box, not rejected, earliest first (the ``started_at`` index)."""
