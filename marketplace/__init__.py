"""The points supermarket: partner shops, catalog, redemption orders, settlement."""
