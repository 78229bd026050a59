from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T07:28:25:147930"
VERSION = "1.38.0"
DESCRIPTION = "photo band lookup index and keys of earlier photos"

# The near-duplicate lookup (activities/sql.py PHOTO_BAND_MATCHES) reads
# (key, uploaded_at) ranges and the photo and hash beside them: one covering
# index serves it from the index alone. Photos uploaded before the band index
# existed get their keys, computed as new uploads' are (fraud.photo_bands,
# frozen here: a migration must not change when that module does).
INDEXES = [
    "CREATE INDEX IF NOT EXISTS activities_photo_band_lookup"
    " ON activities_photo_band (key, uploaded_at, photo, phash)",
]
HASH_BITS = 64
BAND_BITS = 16
BATCH = 1000


def band_keys(phash):
    value = int(phash, 16)
    mask = (1 << BAND_BITS) - 1
    return [
        (band << BAND_BITS) | ((value >> (HASH_BITS - BAND_BITS * (band + 1))) & mask)
        for band in range(HASH_BITS // BAND_BITS)
    ]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="activities", description=DESCRIPTION
    )

    async def run():
        from activities.tables import Photo, PhotoBand

        db = Photo._meta.db
        for statement in INDEXES:
            await db.run_ddl(statement)
        last = 0
        while True:
            rows = await Photo.raw(
                "SELECT id, phash, uploaded_at FROM activities_photo"
                " WHERE id > {} AND phash <> '' ORDER BY id LIMIT {}",
                last,
                BATCH,
            ).run()
            if not rows:
                break
            bands = [
                PhotoBand(photo=row["id"], key=key, phash=row["phash"], uploaded_at=row["uploaded_at"])
                for row in rows
                for key in band_keys(row["phash"])
            ]
            await PhotoBand.insert(*bands).run()
            last = rows[-1]["id"]

    manager.add_raw(run)

    return manager
