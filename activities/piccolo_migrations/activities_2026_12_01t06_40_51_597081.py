from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T06:40:51:597081"
VERSION = "1.38.0"
DESCRIPTION = "photo band keys of photos uploaded before"

# Photos uploaded before the band index existed get their keys, computed as
# new uploads' are (fraud.photo_bands, frozen here: a migration must not
# change when that module does), in batches.
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

        last = 0
        while True:
            rows = await Photo.raw(
                "SELECT id, phash FROM activities_photo WHERE id > {} AND phash <> '' ORDER BY id LIMIT {}",
                last,
                BATCH,
            ).run()
            if not rows:
                break
            bands = [
                PhotoBand(photo=row["id"], key=key)
                for row in rows
                for key in band_keys(row["phash"])
            ]
            await PhotoBand.insert(*bands).run()
            last = rows[-1]["id"]

    manager.add_raw(run)

    return manager
