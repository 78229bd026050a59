"""Report photos: recording an upload under the daily quota, and removing
photos nobody attached.

The bytes live on disk under their SHA-256 (``api/activities/uploads.py`` writes
them); a ``Photo`` row records who uploaded them and when, and an
``ActivityPhoto`` row attaches one to a report. A member may upload
``FENGLING_UPLOAD_DAILY_QUOTA`` new photos per China-time day: counted in
the database, with the member's row locked (PostgreSQL) or the database
write-locked (SQLite) while counting, so parallel uploads cannot overrun it.
A photo still unattached a day after upload was abandoned (or uploaded to
fill the disk): ``remove_unattached_photos`` deletes its row and file, and
any file no row names.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path

from anyio import to_thread

from activities.errors import UploadQuotaExceeded
from activities.models import PhotoRecord
from activities.periods import china_day_bounds
from activities.tables import ActivityPhoto, Photo, PhotoBand
from community.tables import Member
from core.clock import utc_now
from core.database import in_write_transaction, lock_row
from fengling_settings import get_settings
from fraud.photo_bands import band_keys

# A photo is uploaded first and attached when the report is sent; a day is
# ample for a phone that was offline in between.
UNATTACHED_GRACE = timedelta(hours=24)
# Photos removed per run: bounds one run's transaction and disk work.
CLEANUP_BATCH = 500


async def photos_uploaded_on_day(member_id: int, moment: datetime) -> int:
    start, end = china_day_bounds(moment)
    return int(
        await Photo.count()
        .where((Photo.uploaded_by == member_id) & (Photo.uploaded_at >= start) & (Photo.uploaded_at < end))
        .run()
    )


def check_quota(uploaded_today: int, *, quota: int, now: datetime) -> None:
    """The daily quota rule (pure): with ``uploaded_today`` photos already
    on the China-time day of ``now``, one more is refused once ``quota`` is
    reached, with the seconds until that day ends (at least 1)."""
    if uploaded_today >= quota:
        _, end = china_day_bounds(now)
        raise UploadQuotaExceeded(
            f"at most {quota} photos a day; more tomorrow (China time)",
            retry_after_seconds=max(1, int((end - now).total_seconds())),
        )


async def check_photo_quota(member_id: int, *, now: datetime | None = None) -> None:
    """Refuse when the member's quota for the day of ``now`` is used up."""
    now = now or utc_now()
    check_quota(await photos_uploaded_on_day(member_id, now), quota=get_settings().upload_daily_quota, now=now)


async def register_photo(
    *, sha256: str, content_type: str, size_bytes: int, member_id: int, phash: str = "", now: datetime | None = None
) -> str:
    """Record an uploaded photo before its bytes are written under
    ``sha256``. Uploading the same photo twice is one photo and does not
    count against the quota again (a phone's retry after a lost answer
    succeeds)."""
    if await Photo.exists().where(Photo.sha256 == sha256).run():
        return sha256
    moment = now or utc_now()
    await in_write_transaction(
        lambda: _record_photo(sha256, content_type, size_bytes, member_id, phash, moment), retry_unique=True
    )
    return sha256


async def _record_photo(
    sha256: str, content_type: str, size_bytes: int, member_id: int, phash: str, moment: datetime
) -> None:
    # Re-checked under the member's lock: a concurrent upload of the same
    # photo may have won (then a unique violation re-runs this and ends here).
    if await Photo.exists().where(Photo.sha256 == sha256).run():
        return
    await lock_row(Member, member_id, Member.id)
    await check_photo_quota(member_id, now=moment)
    inserted = await Photo.insert(
        Photo(
            sha256=sha256,
            content_type=content_type,
            size_bytes=size_bytes,
            phash=phash,
            uploaded_by=member_id,
            uploaded_at=moment,
        )
    ).run()
    # Its band keys in the same transaction: the near-duplicate lookup
    # (``fraud.photo_bands``) never misses a committed photo.
    photo_id = inserted[0]["id"]
    bands = [PhotoBand(photo=photo_id, key=key, phash=phash, uploaded_at=moment) for key in band_keys(phash)]
    if bands:
        await PhotoBand.insert(*bands).run()


async def remove_unattached_photos(
    *, folder: Path | None = None, now: datetime | None = None, batch: int = CLEANUP_BATCH
) -> int:
    """Delete photos uploaded more than ``UNATTACHED_GRACE`` ago and attached
    to no activity, rows and files, and files older than that which no row
    names (an upload refused after it was written). Idempotent; returns how
    many photos (rows or stray files) were removed."""
    now = now or utc_now()
    cutoff = now - UNATTACHED_GRACE
    folder = folder if folder is not None else get_settings().data_dir / "uploads" / "reports"
    attached = ActivityPhoto.select(ActivityPhoto.photo)
    rows = await Photo.select().where((Photo.uploaded_at < cutoff) & Photo.id.not_in(attached)).limit(batch).run()
    candidates = [PhotoRecord.from_row(row) for row in rows]
    removed = await in_write_transaction(lambda: _delete_unattached(candidates)) if candidates else []
    await to_thread.run_sync(_unlink_all, [folder / sha256 for sha256 in removed])
    return len(removed) + await _remove_stray_files(folder, cutoff)


async def _delete_unattached(photos: list[PhotoRecord]) -> list[str]:
    """Delete the rows of ``photos`` still attached to nothing; their hashes."""
    removed: list[str] = []
    for photo in photos:
        # Re-checked inside the transaction: a report may have attached it since.
        if not await ActivityPhoto.exists().where(ActivityPhoto.photo == photo.id).run():
            await PhotoBand.delete().where(PhotoBand.photo == photo.id).run()
            await Photo.delete().where(Photo.id == photo.id).run()
            removed.append(photo.sha256)
    return removed


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _files_older_than(folder: Path, cutoff: datetime) -> list[Path]:
    if not folder.is_dir():
        return []
    oldest_kept = cutoff.timestamp()
    old = [path for path in folder.iterdir() if path.is_file() and path.stat().st_mtime < oldest_kept]
    return old[:CLEANUP_BATCH]


async def _remove_stray_files(folder: Path, cutoff: datetime) -> int:
    candidates = await to_thread.run_sync(_files_older_than, folder, cutoff)
    if not candidates:
        return 0
    names = [path.name for path in candidates]
    known = set(await Photo.select(Photo.sha256).where(Photo.sha256.is_in(names)).output(as_list=True).run())
    stray = [path for path in candidates if path.name not in known]
    await to_thread.run_sync(_unlink_all, stray)
    return len(stray)
