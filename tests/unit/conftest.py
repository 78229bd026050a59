"""Pure tests: no database, no Redis, no network; milliseconds each.

The database fixtures live in ``tests/integration/conftest.py`` and do not
reach this folder, so a test here that touches a table fails loudly instead
of quietly waiting on I/O."""
